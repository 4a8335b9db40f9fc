// UserHolds: every live hold of each user across the nodes that decide holds, for the cap on live holds
// per user (HoldRequest::active_holds_max) in distributed mode, where each event's owner decides its
// own holds and no node sees another's. One process (the embedded store) needs none: its seat engine
// lists every hold it decides.
//
// A reservation is made before the hold is decided, under the user's stripe of the deciding engine, and
// names the hold by its id with the time it lapses unless extended; a hold that ended is removed. An
// entry whose time has passed no longer counts, so an end that was never told (a crash, an outage)
// costs at most an over-count until the hold's own expiry, never an under-count of a live hold.
// The calls of one registry reach it in the order they were made (an end after its reservation).
// Thread safety: every method from any thread.
#pragma once

#include <cstdint>
#include <functional>

#include "core/types.hpp"

namespace ticketd::core {

class UserHolds {
 public:
  enum class Reserve {
    reserved,  // counted: the hold may be decided
    at_cap,    // the user has `cap` live holds already: refuse
    unknown,   // the registry did not answer: the caller decides with what it knows itself
  };
  virtual ~UserHolds() = default;

  // Counts `hold` for `user` until `until` (ms since the epoch), unless the user already has `cap` live
  // holds at `now`. Reserving a hold already reserved extends it. Blocks for the answer.
  virtual Reserve reserve(UserId user, HoldId hold, TimeMs until, uint32_t cap, TimeMs now) = 0;
  // reserve() without blocking the caller: `done` hears the answer once, on the registry's own thread
  // (or on the caller's, unknown, when the registry cannot take the call), and must not block.
  using ReserveDone = std::function<void(Reserve)>;
  virtual void reserve_async(UserId user, HoldId hold, TimeMs until, uint32_t cap, TimeMs now, ReserveDone done) = 0;
  // The hold lives on until `until` (a checkout's pin). Nothing if it is not reserved. Does not block.
  virtual void extend(UserId user, HoldId hold, TimeMs until) = 0;
  // The hold ended (released, bought, declined, or never made). Does not block.
  virtual void end(UserId user, HoldId hold) = 0;
};

}  // namespace ticketd::core
