// Port: the fast front of the distributed ledger (Redis in production): a filter that turns away a
// hold of seats someone else holds before it reaches the database (`SET seat:{e}:{s} NX PX`), the
// cache of each event's seat-status map, and the bus that carries seat changes to every node.
//
// Correctness never depends on it: PostgreSQL decides every hold and every sale, and a constraint
// there refuses a second sale whatever the front said. A front that is unreachable (Redis down)
// answers Unreachable / nullopt, and the ledger carries on with PostgreSQL alone.
//
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/types.hpp"

namespace ticketd::core {

class SeatFront {
 public:
  enum class Claim { Claimed, Taken, Unreachable };
  struct ClaimResult {
    Claim outcome = Claim::Unreachable;
    std::vector<SeatId> taken;  // Taken: the seats another holder has in the front
  };
  struct Snapshot {
    std::string status;    // one of "AHS" per seat
    uint64_t version = 0;  // the seat-change version it reflects
  };

  virtual ~SeatFront() = default;

  // All or nothing: claims every seat for `hold` until now + ttl, or none if any is claimed.
  // `force`: the database said the seats the front believed taken are free (keys left behind by a
  // crash or an outage); claim them anyway, except sold ones.
  virtual ClaimResult claim(EventId event, const std::vector<SeatId>& seats, HoldId hold, Millis ttl,
                            bool force) = 0;
  // Undoes claim() for the seats that still name `hold` (the database refused the hold).
  virtual void unclaim(EventId event, const std::vector<SeatId>& seats, HoldId hold) = 0;

  // After the database committed a change: updates the front's keys and cached map, assigns the
  // change's version and publishes it to every node.
  virtual void held(EventId event, const std::vector<SeatId>& seats, HoldId hold, TimeMs until) = 0;
  virtual void sold(EventId event, const std::vector<SeatId>& seats, TimeMs until) = 0;
  // The seats of `hold` (or of a sale, hold == 0) are free; seats claimed since by another holder are
  // left as they are.
  virtual void freed(EventId event, const std::vector<SeatId>& seats, HoldId hold) = 0;
  // A checkout pinned the hold: its claims last until `until`.
  virtual void pinned(EventId event, const std::vector<SeatId>& seats, HoldId hold, TimeMs until) = 0;

  // The cached seat map, if there is one.
  virtual std::optional<Snapshot> snapshot(EventId event) = 0;
  // The current seat-change version (0 if none or unreachable), read before building a map from the
  // database, and the map so built: cached only if no change happened in between.
  virtual uint64_t version(EventId event) = 0;
  virtual void store_snapshot(EventId event, const Snapshot& built) = 0;

  // Called every second or so on every node: if changes committed while the front was unreachable
  // could not be applied to it, drop what they made stale (cached maps) and tell live subscribers to
  // resynchronise, now that it answers again.
  virtual void repair() = 0;
};

}  // namespace ticketd::core
