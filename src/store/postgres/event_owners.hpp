// Event ownership in distributed mode: which node decides an event's seats, for how long, and under
// which epoch (docs/architecture.md, "Event ownership"). One row per event in `event_owners`
// (migration 8): owner (a node name, unique per process), address (where other nodes reach it), epoch
// (+1 at every change of owner), expires_at (PostgreSQL's clock, so node clocks never decide a lease).
//
// Fencing: an owner commits its decisions through fenced_commit(), whose first statement locks the
// ownership row FOR SHARE if, and only if, it still names this owner and epoch and has not lapsed. A
// takeover is an UPDATE of that row: it waits for every fenced transaction in flight, then bumps the
// epoch; every later fenced transaction of the old owner matches no row and writes nothing. So a paused
// or partitioned owner can never write after it lost the event, whatever its clock or its beliefs.
//
// Thread safety: every method may be called from any thread (each takes a pooled connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

struct Ownership {
  core::EventId event_id = 0;
  std::string owner;    // the owning node's name
  std::string address;  // where other nodes forward the event's requests (host:port)
  int64_t epoch = 0;    // 1 for the first owner, +1 at every change of owner
  bool live = true;     // owner_of(): the lease had not lapsed when read
  std::chrono::milliseconds lease_left{0};  // owner_of(): how long the lease had to run when read
};

class EventOwners {
 public:
  // `node`: this process's name (unique across nodes and restarts); `lease`: how long a claim or a
  // renewal lasts without another. REQUIRES: lease >= kLeaseMin.
  static constexpr std::chrono::milliseconds kLeaseMin{200};
  EventOwners(Pool& pool, std::string node, std::string address, std::chrono::milliseconds lease);

  const std::string& node() const { return node_; }

  // The event's owner after this call: this node if the event had none, was already this node's
  // (the lease is extended, the epoch kept), or its owner's lease had lapsed (taken over: epoch + 1);
  // otherwise the live owner. Throws PgError when PostgreSQL cannot be reached.
  Ownership claim(core::EventId event);
  // As claim(), but a new epoch even when the event was this node's: for an owner about to load the
  // event afresh (at start, or after a commit of it failed), so nothing decided before can commit.
  Ownership take(core::EventId event);
  // Extends this node's leases of the given (event, epoch) pairs in one statement; returns those it no
  // longer holds (taken over, or released), which the caller must stop deciding at once.
  std::vector<core::EventId> renew(const std::vector<Ownership>& held);
  // Gives the event up at once (a clean shutdown): the next claim by any node takes it, epoch + 1.
  void release(const Ownership& held);
  // The current row, lapsed or not (see Ownership::live); nullopt when the event never had an owner.
  std::optional<Ownership> owner_of(core::EventId event);
  // Takes the event from `dead` (as owner_of read it) before its lease lapses: for a node that found
  // the owner's address refusing connections (its process is gone). Safe whatever the truth, as every
  // takeover is: the new epoch fences off anything `dead` could still try to write. False, nothing
  // changed, when the row no longer names `dead` and its epoch.
  bool take_from(const Ownership& dead);

 private:
  Ownership acquire(core::EventId event, const char* sql);

  Pool& pool_;
  const std::string node_;
  const std::string address_;
  const std::chrono::milliseconds lease_;
};

// Runs `work` in one transaction, fenced by `held`: true once committed; false, with nothing written,
// when `held` is no longer the event's live ownership (taken over, lapsed, released). `work` throwing
// rolls the transaction back and rethrows. REQUIRES: `c` is not inside a transaction.
bool fenced_commit(Connection& c, const Ownership& held, const std::function<void(Connection&)>& work);

}  // namespace ticketd::store::postgres
