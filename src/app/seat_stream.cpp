#include "app/seat_stream.hpp"

#include <algorithm>
#include <charconv>
#include <deque>

#include "base/assert.hpp"
#include "base/thread_name.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

struct SeatTopic {
  std::mutex mu;  // guards everything below
  std::deque<std::shared_ptr<const core::SeatChange>> ring;  // consecutive versions, oldest first
  uint64_t last_version = 0;                                 // newest version seen; 0 = none yet
  std::vector<SeatSubscription*> waiters;                    // armed subscriptions (each at most once)
  size_t subscribers = 0;
  bool wake_pending = false;  // in the hub's wake queue
  // Bumped when versions go backwards: their source restarted (Redis lost its counters). Every
  // subscriber of an older era takes a fresh snapshot.
  uint64_t era = 0;
};

namespace {

// "<epoch>-<version>", both decimal. nullopt when malformed.
std::optional<std::pair<uint64_t, uint64_t>> parse_item_id(std::string_view id) {
  const auto dash = id.find('-');
  if (dash == std::string_view::npos || id.size() > 41) return std::nullopt;
  uint64_t epoch = 0, version = 0;
  const char* const first = id.data();
  const char* const last = id.data() + id.size();
  auto [p1, e1] = std::from_chars(first, first + dash, epoch);
  if (e1 != std::errc() || p1 != first + dash || dash == 0) return std::nullopt;
  auto [p2, e2] = std::from_chars(first + dash + 1, last, version);
  if (e2 != std::errc() || p2 != last || dash + 1 == id.size()) return std::nullopt;
  return std::pair{epoch, version};
}

}  // namespace

// ---- SeatSubscription -----------------------------------------------------------------------

SeatSubscription::SeatSubscription(SeatStream& hub, std::shared_ptr<SeatTopic> topic, core::EventId event_id)
    : hub_(hub), topic_(std::move(topic)), event_id_(event_id) {}

SeatSubscription::~SeatSubscription() { hub_.unsubscribe(*this); }

std::string SeatSubscription::item_id(uint64_t version) const {
  return std::to_string(hub_.epoch_) + "-" + std::to_string(version);
}

SeatSubscription::Poll SeatSubscription::poll(std::vector<StreamItem>& out, bool may_block) {
  const size_t out_before = out.size();
  // At most two rounds: a snapshot, then the changes after it (a resync found in round one).
  for (int round = 0; round < 2; ++round) {
    bool snapshot_due = false;
    uint64_t era = 0;
    {
      std::lock_guard lock(topic_->mu);
      snapshot_due = needs_snapshot_;
      era = topic_->era;  // read before the snapshot: a later bump makes the next round resync
    }
    if (snapshot_due) {
      if (!may_block) return out.size() > out_before ? Poll::items : Poll::needs_snapshot;
      auto map = hub_.snapshot_(event_id_);  // outside every lock: it may read a store
      if (!map) return out.size() > out_before ? Poll::items : Poll::failed;
      hub_.snapshots_total_++;
      std::lock_guard lock(topic_->mu);
      cursor_ = map->version;
      era_ = era;
      needs_snapshot_ = false;
      out.push_back(StreamItem{StreamItem::Kind::snapshot, map->version, std::move(map->status), nullptr});
    }
    std::lock_guard lock(topic_->mu);
    SeatTopic& t = *topic_;
    if (era_ != t.era) {  // the versions restarted since our snapshot: ours mean nothing now
      needs_snapshot_ = true;
      hub_.lagged_total_++;
      continue;
    }
    if (t.last_version <= cursor_) break;  // nothing newer (or our snapshot is newer than the ring)
    if (t.ring.empty() || t.ring.front()->version > cursor_ + 1) {
      // Fell behind the ring, or the versions have a gap: only a snapshot is right now.
      needs_snapshot_ = true;
      hub_.lagged_total_++;
      continue;
    }
    size_t index = static_cast<size_t>(cursor_ + 1 - t.ring.front()->version);
    size_t seats = 0;
    for (; index < t.ring.size() && seats < hub_.limits_.batch_seats_max; ++index) {
      const auto& change = t.ring[index];
      TICKETD_ASSERT(change->version == cursor_ + 1);
      out.push_back(StreamItem{StreamItem::Kind::change, change->version, {}, change});
      cursor_ = change->version;
      seats += change->seats.size();
    }
    break;
  }
  return out.size() > out_before ? Poll::items : Poll::idle;
}

bool SeatSubscription::arm(std::function<void()> wake) {
  TICKETD_ASSERT(wake);
  std::lock_guard lock(topic_->mu);
  if (needs_snapshot_ || era_ != topic_->era || topic_->last_version > cursor_) return false;
  wake_ = std::move(wake);
  if (!armed_) {
    armed_ = true;
    topic_->waiters.push_back(this);
  }
  return true;
}

// ---- SeatStream ---------------------------------------------------------------------------------

SeatStream::SeatStream(SnapshotSource snapshot, uint64_t epoch, SeatStreamLimits limits)
    : snapshot_(std::move(snapshot)), epoch_(epoch), limits_(limits) {
  TICKETD_ASSERT(snapshot_);
  TICKETD_ASSERT(limits_.ring_changes_max >= 1 && limits_.topics_max >= 1 && limits_.batch_seats_max >= 1);
  notifier_ = std::thread([this] {
    name_this_thread("seat-stream");
    notifier_loop();
  });
}

SeatStream::~SeatStream() {
  {
    std::lock_guard lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  notifier_.join();
  TICKETD_ASSERT(subscribers_.load() == 0);
}

// A subscriber is counted on its topic while topics_mu_ is still held, so eviction (which needs
// topics_mu_ exclusively and picks only topics with no subscribers) cannot orphan it.
std::shared_ptr<SeatTopic> SeatStream::topic_for(core::EventId event, bool for_subscriber) {
  auto claim = [&](const std::shared_ptr<SeatTopic>& topic) {
    if (!for_subscriber) return;
    std::lock_guard topic_lock(topic->mu);
    topic->subscribers++;
  };
  {
    std::shared_lock lock(topics_mu_);
    if (auto it = topics_.find(event); it != topics_.end()) {
      claim(it->second);
      return it->second;
    }
  }
  std::unique_lock lock(topics_mu_);
  if (auto it = topics_.find(event); it != topics_.end()) {
    claim(it->second);
    return it->second;
  }
  if (topics_.size() >= limits_.topics_max) {
    // Make room by evicting a topic nobody listens to (its ring only served resumes). O(topics),
    // only when full.
    auto victim = std::find_if(topics_.begin(), topics_.end(), [](auto& kv) {
      std::lock_guard topic_lock(kv.second->mu);
      return kv.second->subscribers == 0;
    });
    if (victim == topics_.end()) return nullptr;
    topics_.erase(victim);
  }
  auto topic = std::make_shared<SeatTopic>();
  claim(topic);
  topics_.emplace(event, topic);
  return topic;
}

void SeatStream::seats_changed(const core::SeatChange& change) {
  // A change may list no seats: a version skipped on purpose after an outage, so that subscribers
  // who missed changes resynchronise.
  TICKETD_ASSERT(change.version >= 1);
  changes_total_++;
  auto topic = topic_for(change.event_id, false);
  if (!topic) {
    dropped_total_++;
    return;
  }
  auto shared = std::make_shared<const core::SeatChange>(change);
  std::lock_guard lock(topic->mu);
  if (topic->last_version != 0 && change.version <= topic->last_version) {
    // Versions never repeat or go back while their source lives (pub/sub delivers in publish order,
    // at most once): the source restarted. Start a new era; every subscriber resyncs in poll().
    topic->ring.clear();
    topic->era++;
  } else if (topic->last_version != 0 && change.version != topic->last_version + 1) {
    // A gap (a lost message, or a topic created after the event's first changes) restarts the ring;
    // subscribers whose cursor is before the gap resync in poll().
    topic->ring.clear();
  }
  topic->ring.push_back(std::move(shared));
  if (topic->ring.size() > limits_.ring_changes_max) topic->ring.pop_front();
  topic->last_version = change.version;
  if (!topic->waiters.empty()) schedule_wake(topic);
}

void SeatStream::schedule_wake(const std::shared_ptr<SeatTopic>& topic) {
  if (topic->wake_pending) return;  // one wake round covers every change until it runs
  topic->wake_pending = true;
  {
    std::lock_guard lock(wake_mu_);
    wake_queue_.push_back(topic);
  }
  wake_cv_.notify_one();
}

// Wakes subscribers off the ledger's path: seats_changed() only queues the topic. Each round wakes
// a topic's armed subscribers once, however many changes arrived meanwhile.
void SeatStream::notifier_loop() {
  std::vector<std::shared_ptr<SeatTopic>> batch;
  std::vector<std::function<void()>> wakes;
  for (;;) {
    {
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait(lock, [&] { return stopping_ || !wake_queue_.empty(); });
      if (stopping_) return;
      batch.swap(wake_queue_);
    }
    for (const auto& topic : batch) {
      std::lock_guard lock(topic->mu);
      topic->wake_pending = false;
      for (SeatSubscription* sub : topic->waiters) {
        sub->armed_ = false;
        wakes.push_back(std::move(sub->wake_));
        sub->wake_ = nullptr;
      }
      topic->waiters.clear();
    }
    batch.clear();
    for (auto& wake : wakes) wake();  // outside every lock
    wakes.clear();
  }
}

core::Result<std::shared_ptr<SeatSubscription>> SeatStream::subscribe(core::EventId event,
                                                                       std::string_view last_event_id) {
  std::optional<std::pair<uint64_t, uint64_t>> resume;
  if (!last_event_id.empty()) {
    resume = parse_item_id(last_event_id);
    if (!resume) return make_error(Code::InvalidRequest, "Last-Event-ID: not an id from this stream");
  }
  if (subscribers_.fetch_add(1) >= limits_.subscribers_max) {
    subscribers_--;
    refused_total_++;
    return make_error(Code::Unavailable, "too many seat map subscribers on this server");
  }
  auto topic = topic_for(event, true);
  if (!topic) {
    subscribers_--;
    refused_total_++;
    return make_error(Code::Unavailable, "too many live seat maps on this server");
  }
  std::shared_ptr<SeatSubscription> sub(new SeatSubscription(*this, topic, event));
  std::lock_guard lock(topic->mu);
  if (resume && resume->first == epoch_) {
    const uint64_t v = resume->second;
    // Resumable iff every change after v is still here (or there is none after v yet).
    const bool caught_up = topic->last_version == v;
    const bool in_ring = !topic->ring.empty() && topic->ring.front()->version <= v + 1 && topic->last_version > v;
    if (caught_up || in_ring) {
      sub->cursor_ = v;
      sub->era_ = topic->era;
      sub->needs_snapshot_ = false;
    }
  }
  return sub;
}

void SeatStream::unsubscribe(SeatSubscription& sub) {
  {
    std::lock_guard lock(sub.topic_->mu);
    if (sub.armed_) {
      auto& w = sub.topic_->waiters;
      w.erase(std::find(w.begin(), w.end(), &sub));
      sub.armed_ = false;
    }
    TICKETD_ASSERT(sub.topic_->subscribers > 0);
    sub.topic_->subscribers--;
  }
  const uint64_t before = subscribers_.fetch_sub(1);
  TICKETD_ASSERT(before > 0);
}

SeatStreamStats SeatStream::stats() const {
  SeatStreamStats s;
  s.subscribers = subscribers_.load();
  {
    std::shared_lock lock(topics_mu_);
    s.topics = topics_.size();
  }
  s.changes_total = changes_total_.load();
  s.snapshots_total = snapshots_total_.load();
  s.lagged_total = lagged_total_.load();
  s.refused_total = refused_total_.load();
  s.dropped_total = dropped_total_.load();
  return s;
}

}  // namespace ticketd::app
