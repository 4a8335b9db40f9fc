// Port: the storage of waiting rooms — one ordered queue per event, shared by every node that serves
// the event. The rules (who is early, when to release, how many, tokens, estimates) live in
// app/waiting_room.cpp; an implementation only stores and orders.
//
// The model is a sorted set, as a Redis ZSET would hold it:
//  - join() adds a user once with a score; joining again changes nothing and answers the same place.
//    Early joiners (before the on-sale time) get score = their lottery key (< kLateScoreBase);
//    later joiners get kLateScoreBase + a per-event arrival sequence, so they come after every early
//    joiner, first come first served (Redis: INCR for the sequence, ZADD NX).
//  - Before draw() the early joiners' places are not known (position 0); draw() fixes them. The
//    lottery keys are pseudo-random and only the server knows the seed until the draw, so the order
//    is a uniformly random permutation of the early joiners.
//  - admit(n) pops the n lowest scores (Redis: ZPOPMIN) and marks them admitted at `now`. It must be
//    called by one releaser at a time per event (embedded: one process; distributed: a lock).
//  - An admitted user who places a hold is `engaged`; one who does not within the active window is
//    expired by expire_admitted(), which frees the slot for the next release.
//  - A user whose access is over may go back into line: rejoin() moves them to the end, as a late
//    joiner (the old entry stays, as history, for the counters and the audit of the draw).
//
// Durability: join, draw, admit, engage and expire are durable before they return (a restart keeps
// every position). place() and room() are answered from memory: a status poll does no disk I/O.
//
// Bounds: at most limits::queue_entries_max entries per event (join answers QueueFull beyond).
//
// Thread safety: implementations are safe to call from any thread; different events do not
// serialise on each other.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/result.hpp"
#include "core/types.hpp"
#include "core/waiting_room.hpp"

namespace ticketd::core {

using LotterySeed = std::array<uint8_t, 32>;

// Scores below this are lottery keys (52 bits, so a Redis double holds them exactly); at and above,
// arrival order.
inline constexpr uint64_t kLateScoreBase = uint64_t{1} << 52;

enum class PlaceState : uint8_t { Waiting, Admitted, Engaged, Expired };

struct Place {
  PlaceState state = PlaceState::Waiting;
  bool early = false;        // joined before the on-sale time (a lottery place)
  uint64_t position = 0;     // Waiting: 1 = next to be admitted; 0 while the draw is pending
  TimeMs admitted_at{};      // Admitted / Engaged / Expired
};

struct RoomRecord {
  LotterySeed seed{};        // secret until drawn
  std::string commitment;    // hex SHA-256 of the seed, published from the start
  bool drawn = false;
  TimeMs drawn_at{};
  bool sold_out = false;     // set by the releaser; everyone waiting is told SOLD_OUT
  uint64_t waiting = 0;      // in the queue, not yet admitted
  uint64_t early = 0;        // of all entries, how many joined before the draw
  uint64_t admitted_total = 0;
  uint64_t admitted_outstanding = 0;  // admitted, no hold yet, not expired
  uint64_t engaged_total = 0;
  uint64_t expired_total = 0;
  std::optional<TimeMs> last_release_at;
  // The last limits::queue_rate_ticks release ticks that found someone waiting (a tick that admitted
  // nobody because of stock counts as zero), kept by the store so every node estimates from the same
  // measured rate, also after a restart.
  ReleaseHistory history;
};

class WaitingRoomStore {
 public:
  virtual ~WaitingRoomStore() = default;

  // Creates the room with this seed and commitment if it does not exist; returns the room as stored
  // (an existing room keeps its own seed).
  virtual Result<RoomRecord> open_room(EventId event, const LotterySeed& seed, const std::string& commitment,
                                       TimeMs now) = 0;
  virtual std::optional<RoomRecord> room(EventId event) = 0;
  // Events whose room exists (for the releaser). Bounded by the number of events.
  virtual std::vector<EventId> rooms() = 0;

  // REQUIRES: early_key < kLateScoreBase; used only when `early`. NotFound if the room is not open;
  // QueueFull when it holds limits::queue_entries_max entries. If the room was drawn meanwhile (a join
  // racing the draw) `early` is ignored: the user joins at the end. A late join into a room not yet
  // drawn draws it first.
  virtual Result<Place> join(EventId event, UserId user, bool early, uint64_t early_key, TimeMs now) = 0;
  // NotFound if the user never joined. No disk I/O.
  virtual Result<Place> place(EventId event, UserId user) = 0;
  // If the user's place is Expired, or Admitted or Engaged at or before `admitted_until` (the window
  // ended), the user joins again at the end of the line (a late Waiting place; an Admitted one counts
  // as expired first); otherwise the place is unchanged. Either way, answers the place. NotFound if
  // the user never joined; QueueFull when the room holds limits::queue_entries_max entries (old ones
  // included). REQUIRES: the room is drawn.
  virtual Result<Place> rejoin(EventId event, UserId user, TimeMs admitted_until, TimeMs now) = 0;
  // True when room() and place() read this process's memory only (no network, no disk): a poll may
  // then be answered on the HTTP layer's I/O thread.
  virtual bool polls_from_memory() const { return false; }

  // Fixes the order of the early joiners (ascending early_key). Idempotent.
  virtual Status draw(EventId event, TimeMs now) = 0;
  // Admits the next `count` waiting users (fewer if fewer wait); returns how many. Records `now` as
  // the room's last_release_at even when count is 0 (the releaser's cadence), and appends the tick to
  // RoomRecord::history when anyone was waiting (so a pause for stock slows the rate). REQUIRES: drawn.
  virtual Result<uint32_t> admit(EventId event, uint32_t count, TimeMs now) = 0;
  // Admitted users without a hold, admitted at or before `admitted_until`, become Expired (the window
  // ended: their access token, valid while now < admitted_at + window, no longer works either).
  virtual Result<uint32_t> expire_admitted(EventId event, TimeMs admitted_until) = 0;
  // The user placed a hold: their slot is in use. Admitted -> Engaged; other states unchanged.
  virtual Status engage(EventId event, UserId user) = 0;
  // Not durable (the releaser recomputes it on every tick).
  virtual void set_sold_out(EventId event, bool sold_out) = 0;
  // Approximate bytes of memory held for this event's queue (capacity, not size), for docs and tests.
  virtual size_t memory_bytes(EventId event) = 0;
};

}  // namespace ticketd::core
