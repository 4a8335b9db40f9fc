// SeatMapReplicas: the seat maps a node shows for events another node owns, kept current by the
// change feed (docs/architecture.md, "Event ownership"), so that reading a map (the seat-map page, an
// event's counts, a live map's snapshot) does not cross to the owner each time. Decisions never read
// these copies: holds, checkouts and the waiting list's offers ask the owner.
//
// A copy starts from the owner's map (install) and applies each change of the next version. It stops
// being served (the caller asks the owner again and installs the answer) when:
//   - a version is missing (a change lost on the way, or a new owner, whose versions start higher);
//   - the feed's connection is down (feed_lost until feed_resumed): changes made meanwhile are lost;
//   - it is older than max_age: a lost change with nothing after it shows no gap, and a silent feed (a
//     paused Redis) none either. The first reader of an aged copy asks the owner, and the others read
//     the copy until it answers (for another max_age at most). So a copy trails the owner by at most
//     about twice max_age, and usually by the feed's delay (milliseconds).
// The changes heard between watch() and install() are kept (at most pending_changes_max), so a map that
// left the owner before them is brought up to date rather than refused.
//
// Bounds: events_max copies (the least recently read is dropped); a copy is the map's bytes (one per
// seat) and its pending changes.
//
// Thread safety: every method from any thread. One mutex; no I/O and no callback under it. Times are
// passed in (steady clock), so tests drive them.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ports/ledger.hpp"
#include "core/ports/seat_changes.hpp"

namespace ticketd::cluster {

struct SeatMapReplicaLimits {
  // Seat maps are read most for the events on sale now; 256 copies of a 50,000-seat map are 13 MB.
  size_t events_max = 256;
  // One read per event and node goes to the owner at least this often: also the sweeper's period, the
  // delay with which an owner reports lapsed holds anyway.
  std::chrono::milliseconds max_age{1'000};
  // Changes heard while the owner's map is on its way back: a forwarded read takes milliseconds.
  size_t pending_changes_max = 256;
};

struct SeatMapReplicaStats {
  uint64_t copies = 0;
  uint64_t installed_total = 0;  // owner's maps installed
  uint64_t gaps_total = 0;       // copies dropped for a missing version (or a change they cannot apply)
};

class SeatMapReplicas final : public core::SeatChangeSink {
 public:
  using Time = std::chrono::steady_clock::time_point;

  explicit SeatMapReplicas(SeatMapReplicaLimits limits = {}) : limits_(limits) {}

  // The kept map of `event` when it is current at `now`; nullopt: ask the owner (watch, then install).
  // listed_for_offers is never filled (the feed does not carry listings; the waiting list asks the owner).
  std::optional<core::SeatMap> find(core::EventId event, Time now);
  std::optional<uint64_t> version(core::EventId event, Time now);
  std::optional<core::SeatCounts> counts(core::EventId event, Time now);

  // Call before asking the owner for the map that install() will be given (find() said nullopt):
  // changes heard from now on are kept for it.
  void watch(core::EventId event, Time now);
  // The owner's map, as it answered: kept, brought up to the changes heard since watch().
  void install(core::EventId event, const core::SeatMap& map, Time now);

  void seats_changed(const core::SeatChange& change) override;
  void feed_lost() override;
  void feed_resumed() override;

  SeatMapReplicaStats stats() const;

 private:
  struct Copy {
    std::string status;  // empty until installed
    core::SeatCounts counts;
    uint64_t version = 0;
    bool current = false;
    Time installed_at;
    Time read_at;
    std::optional<Time> refresh_started_at;  // a reader asked the owner for the map of an aged copy
    std::vector<core::SeatChange> pending;  // heard while not current, at most pending_changes_max
  };
  // The copy of `event` if it may be served at `now` (REQUIRES: mu_ held). will_refresh: the caller asks
  // the owner when told nullopt for an aged copy, so the other readers go on reading it meanwhile.
  Copy* current_copy(core::EventId event, Time now, bool will_refresh);
  // Applies `change` (the next version) to a current copy; false if it cannot (a seat off its map).
  static bool apply(Copy& copy, const core::SeatChange& change);
  void evict_one();  // the least recently read copy (REQUIRES: mu_ held)

  const SeatMapReplicaLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<core::EventId, Copy> copies_;
  bool feed_up_ = false;  // until the feed says it listens: changes made before it would be missed
  uint64_t installed_total_ = 0;
  uint64_t gaps_total_ = 0;
};

// Hands every change (and the feed's state) to two sinks in turn: the replicas, then the live maps.
class SeatChangeTee final : public core::SeatChangeSink {
 public:
  SeatChangeTee(core::SeatChangeSink& first, core::SeatChangeSink& second) : first_(first), second_(second) {}
  void seats_changed(const core::SeatChange& change) override {
    first_.seats_changed(change);
    second_.seats_changed(change);
  }
  void feed_lost() override {
    first_.feed_lost();
    second_.feed_lost();
  }
  void feed_resumed() override {
    first_.feed_resumed();
    second_.feed_resumed();
  }

 private:
  core::SeatChangeSink& first_;
  core::SeatChangeSink& second_;
};

}  // namespace ticketd::cluster
