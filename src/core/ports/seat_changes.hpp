// Port: seat changes as they happen, for the live seat map (SSE) and for caches.
//
// A ledger reports every change it makes to a seat's status (held, released, expired, sold,
// cancelled) to a SeatChangeSink. Embedded: the SQLite ledger calls the sink in-process. Distributed:
// the PostgreSQL/Redis ledger publishes each change on Redis pub/sub (channel "seatchanges"), and every
// node's subscriber feeds its own sink, so a change made on any node reaches the subscribers of all.
//
// Versions: each event's changes carry a strictly increasing version (per event). Embedded: assigned
// by the ledger under the event's mutex. Distributed: assigned by Redis (INCR seatver:{event}) in the
// same script that changes the seats, so every node sees the same numbers. A subscriber that sees a
// gap (a missed message) must resynchronise from a fresh snapshot.
//
// Thread safety: sinks are called from any thread, possibly concurrently for different events, and
// must not block (no I/O): they are called on the hold path.
#pragma once

#include <cstdint>
#include <vector>

#include "core/types.hpp"

namespace ticketd::core {

struct SeatChange {
  EventId event_id = 0;
  std::vector<SeatId> seats;
  SeatStatus status = SeatStatus::Available;  // the seats' new status
  uint64_t version = 0;                        // per event, strictly increasing; first change is 1
};

class SeatChangeSink {
 public:
  virtual ~SeatChangeSink() = default;
  virtual void seats_changed(const SeatChange& change) = 0;
  // Distributed: the feed's connection broke (changes published from now on are lost to this node), and
  // it listens again. A sink that keeps copies built from the changes stops trusting them meanwhile.
  virtual void feed_lost() {}
  virtual void feed_resumed() {}
};

}  // namespace ticketd::core
