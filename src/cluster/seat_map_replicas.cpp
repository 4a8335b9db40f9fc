// Seat maps of events owned elsewhere, kept by the change feed (seat_map_replicas.hpp).
#include "cluster/seat_map_replicas.hpp"

#include <algorithm>

namespace ticketd::cluster {

namespace {

uint32_t* count_of(core::SeatCounts& counts, char status) {
  switch (status) {
    case 'A': return &counts.available;
    case 'H': return &counts.held;
    case 'S': return &counts.sold;
    default: return nullptr;
  }
}

}  // namespace

SeatMapReplicas::Copy* SeatMapReplicas::current_copy(core::EventId event, Time now, bool will_refresh) {
  auto it = copies_.find(event);
  if (it == copies_.end() || !it->second.current || !feed_up_) return nullptr;
  Copy& copy = it->second;
  const bool young = now - copy.installed_at < limits_.max_age;
  // Aged: one reader asks the owner, the others keep reading the copy until it answers.
  const bool refreshing = copy.refresh_started_at && now - *copy.refresh_started_at < limits_.max_age;
  if (!young && !refreshing) {
    if (will_refresh) copy.refresh_started_at = now;
    return nullptr;
  }
  copy.read_at = now;
  return &copy;
}

std::optional<core::SeatMap> SeatMapReplicas::find(core::EventId event, Time now) {
  std::lock_guard lock(mu_);
  const Copy* copy = current_copy(event, now, /*will_refresh=*/true);
  if (!copy) return std::nullopt;
  return core::SeatMap{copy->status, copy->counts, copy->version, {}};
}

std::optional<uint64_t> SeatMapReplicas::version(core::EventId event, Time now) {
  std::lock_guard lock(mu_);
  const Copy* copy = current_copy(event, now, /*will_refresh=*/false);
  return copy ? std::optional(copy->version) : std::nullopt;
}

std::optional<core::SeatCounts> SeatMapReplicas::counts(core::EventId event, Time now) {
  std::lock_guard lock(mu_);
  const Copy* copy = current_copy(event, now, /*will_refresh=*/false);
  return copy ? std::optional(copy->counts) : std::nullopt;
}

void SeatMapReplicas::watch(core::EventId event, Time now) {
  std::lock_guard lock(mu_);
  auto it = copies_.find(event);
  if (it == copies_.end()) {
    if (copies_.size() >= limits_.events_max) evict_one();
    it = copies_.emplace(event, Copy{}).first;
  }
  it->second.read_at = now;  // a current copy that aged keeps following the feed; a stale one keeps the changes heard
}

void SeatMapReplicas::install(core::EventId event, const core::SeatMap& map, Time now) {
  std::lock_guard lock(mu_);
  auto it = copies_.find(event);
  if (it == copies_.end()) return;  // evicted since watch(): the changes since are unknown
  Copy& copy = it->second;
  ++installed_total_;
  copy.installed_at = now;
  copy.read_at = now;
  copy.refresh_started_at.reset();
  if (copy.current) {
    // It followed every change since it was made: it is as new as the owner's map, or newer (the map
    // left the owner before changes the feed brought since). Behind it, it missed a change: replaced.
    if (copy.version < map.version) {
      copy.status = map.status;
      copy.counts = map.counts;
      copy.version = map.version;
    }
    return;
  }
  std::vector<core::SeatChange> pending = std::move(copy.pending);
  copy.pending.clear();
  copy.status = map.status;
  copy.counts = map.counts;
  copy.version = map.version;
  copy.current = true;
  std::sort(pending.begin(), pending.end(),
            [](const core::SeatChange& a, const core::SeatChange& b) { return a.version < b.version; });
  for (const core::SeatChange& change : pending) {
    if (change.version <= copy.version) continue;  // the owner's map has it already
    if (change.version != copy.version + 1 || !apply(copy, change)) {
      copy.current = false;  // a change missed between the map and the first one kept: the next read asks again
      ++gaps_total_;
      break;
    }
  }
}

bool SeatMapReplicas::apply(Copy& copy, const core::SeatChange& change) {
  const char to = core::status_char(change.status);
  for (core::SeatId seat : change.seats)
    if (seat >= copy.status.size()) return false;
  for (core::SeatId seat : change.seats) {
    char& at = copy.status[seat];
    if (uint32_t* from = count_of(copy.counts, at); from && *from > 0) --*from;
    if (uint32_t* into = count_of(copy.counts, to)) ++*into;
    at = to;
  }
  copy.version = change.version;
  return true;
}

void SeatMapReplicas::seats_changed(const core::SeatChange& change) {
  std::lock_guard lock(mu_);
  auto it = copies_.find(change.event_id);
  if (it == copies_.end()) return;  // nobody reads this event's map here
  Copy& copy = it->second;
  if (!copy.current) {
    if (copy.pending.size() >= limits_.pending_changes_max) copy.pending.erase(copy.pending.begin());
    copy.pending.push_back(change);
    return;
  }
  if (change.version <= copy.version) return;  // already in the owner's map it was installed from
  if (change.version == copy.version + 1 && apply(copy, change)) return;
  copy.current = false;
  copy.refresh_started_at.reset();
  ++gaps_total_;
}

void SeatMapReplicas::feed_lost() {
  std::lock_guard lock(mu_);
  feed_up_ = false;
  for (auto& [event, copy] : copies_) {
    copy.current = false;
    copy.pending.clear();
    copy.refresh_started_at.reset();
  }
}

void SeatMapReplicas::feed_resumed() {
  std::lock_guard lock(mu_);
  feed_up_ = true;  // the copies stay stale: each is installed afresh at its next read
}

void SeatMapReplicas::evict_one() {
  auto oldest = copies_.end();
  for (auto it = copies_.begin(); it != copies_.end(); ++it)
    if (oldest == copies_.end() || it->second.read_at < oldest->second.read_at) oldest = it;
  if (oldest != copies_.end()) copies_.erase(oldest);
}

SeatMapReplicaStats SeatMapReplicas::stats() const {
  std::lock_guard lock(mu_);
  return SeatMapReplicaStats{copies_.size(), installed_total_, gaps_total_};
}

}  // namespace ticketd::cluster
