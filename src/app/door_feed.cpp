#include "app/door_feed.hpp"

#include <algorithm>
#include <deque>
#include <exception>
#include <map>
#include <string>
#include <unordered_set>

#include "base/assert.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

struct DoorTopic {
  std::mutex mu;  // guards everything below
  std::deque<std::shared_ptr<const DoorItem>> ring;  // consecutive seqs, oldest first
  std::deque<TimeMs> appended_at;                    // parallel to ring: when each item was appended
  uint64_t last_seq = 0;
  std::shared_ptr<const DoorItem> gates;             // the latest people-inside count (also in the ring)
  TimeMs gates_read_at{};
  std::vector<DoorSubscription*> waiters;            // armed subscriptions
  size_t subscribers = 0;
  TimeMs idle_since{};

  // The poller's own state (only the poller thread touches it; no lock needed):
  TimeMs newest_seen{};  // changed_at of the newest change read
  bool read_once = false;
  TimeMs first_since{};  // where the first read began: later reads never go back before it
  // Changes read within the overlap window, to recognise them when read again: key -> changed_at.
  std::unordered_set<std::string> seen;
  std::multimap<TimeMs, std::string> seen_by_time;
};

namespace {

std::string change_key(const core::TicketChange& c) {
  return c.ticket_id + '/' + core::to_string(c.status) + '/' + std::to_string(to_unix_ms(c.changed_at)) + '/' +
         c.gate;
}

bool same_counts(const std::vector<core::GateCount>& a, const std::vector<core::GateCount>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const core::GateCount& x, const core::GateCount& y) {
    return x.gate == y.gate && x.inside == y.inside;
  });
}

}  // namespace

// ---- DoorSubscription -----------------------------------------------------------------------

DoorSubscription::DoorSubscription(DoorFeed& feed, std::shared_ptr<DoorTopic> topic, core::EventId event_id,
                                   uint64_t cursor)
    : feed_(feed), topic_(std::move(topic)), event_id_(event_id), cursor_(cursor) {}

DoorSubscription::~DoorSubscription() { feed_.unsubscribe(*this); }

bool DoorSubscription::poll(std::vector<std::shared_ptr<const DoorItem>>& out) {
  std::lock_guard lock(topic_->mu);
  DoorTopic& t = *topic_;
  const size_t before = out.size();
  if (!gates_sent_ && t.gates) {
    gates_sent_ = true;
    if (t.gates->seq <= cursor_) out.push_back(t.gates);  // else it comes in order below
  }
  if (t.ring.empty() || cursor_ >= t.last_seq) return out.size() > before;
  const uint64_t first = t.ring.front()->seq;
  if (cursor_ + 1 < first) {  // fell behind the ring: what it missed is gone
    feed_.lagged_total_++;
    auto resync = std::make_shared<DoorItem>();
    resync->kind = DoorItem::Kind::resync;
    resync->seq = first - 1;
    out.push_back(std::move(resync));
    cursor_ = first - 1;
  }
  size_t i = static_cast<size_t>(cursor_ + 1 - first);
  for (size_t n = 0; i < t.ring.size() && n < feed_.limits_.batch_items_max; ++i, ++n) out.push_back(t.ring[i]);
  cursor_ = out.back()->seq;
  return true;
}

bool DoorSubscription::arm(std::function<void()> wake) {
  std::lock_guard lock(topic_->mu);
  if (cursor_ < topic_->last_seq || (!gates_sent_ && topic_->gates)) return false;
  if (!wake_) topic_->waiters.push_back(this);
  wake_ = std::move(wake);
  return true;
}

// ---- DoorFeed -------------------------------------------------------------------------------

DoorFeed::DoorFeed(core::CheckinStore& store, const Clock& clock, DoorFeedLimits limits)
    : store_(store), clock_(clock), limits_(limits), poller_([this] { run(); }) {}

DoorFeed::~DoorFeed() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = true;
  }
  run_cv_.notify_all();
  poller_.join();
  TICKETD_ASSERT(subscribers_.load() == 0);
}

core::Result<std::shared_ptr<DoorSubscription>> DoorFeed::subscribe(core::EventId event) {
  if (subscribers_.load() >= limits_.subscribers_max) {
    refused_total_++;
    return make_error(Code::Unavailable, "too many check-in streams on this server");
  }
  // Under topics_mu_ throughout: the poller must not forget a topic between its creation and its
  // first subscriber.
  std::lock_guard lock(topics_mu_);
  auto it = topics_.find(event);
  if (it == topics_.end()) {
    if (topics_.size() >= limits_.topics_max) {
      for (auto i = topics_.begin(); i != topics_.end(); ++i) {
        bool unheard = false;
        {
          std::lock_guard tl(i->second->mu);
          unheard = i->second->subscribers == 0;
        }
        if (unheard) {  // erased with its mutex released (see poll_once)
          topics_.erase(i);
          break;
        }
      }
    }
    if (topics_.size() >= limits_.topics_max) {
      refused_total_++;
      return make_error(Code::Unavailable, "too many events with check-in streams on this server");
    }
    it = topics_.emplace(event, std::make_shared<DoorTopic>()).first;
  }
  const std::shared_ptr<DoorTopic>& topic = it->second;
  std::lock_guard tl(topic->mu);
  // Start `replay` back: a scanner fetches its bundle after the stream opens, and a change made just
  // before must not fall between the two.
  const TimeMs from = clock_.now() - limits_.replay;
  uint64_t cursor = topic->last_seq;
  for (size_t i = topic->ring.size(); i > 0 && topic->appended_at[i - 1] >= from; --i) cursor = topic->ring[i - 1]->seq - 1;
  topic->subscribers++;
  subscribers_++;
  return std::shared_ptr<DoorSubscription>(new DoorSubscription(*this, topic, event, cursor));
}

void DoorFeed::unsubscribe(DoorSubscription& sub) {
  std::lock_guard lock(sub.topic_->mu);
  DoorTopic& t = *sub.topic_;
  if (sub.wake_) std::erase(t.waiters, &sub);
  TICKETD_ASSERT(t.subscribers > 0);
  if (--t.subscribers == 0) t.idle_since = clock_.now();
  subscribers_--;
}

DoorFeedStats DoorFeed::stats() const {
  DoorFeedStats s;
  s.subscribers = subscribers_.load();
  {
    std::lock_guard lock(topics_mu_);
    s.topics = topics_.size();
  }
  s.polls_total = polls_total_.load();
  s.changes_total = changes_total_.load();
  s.lagged_total = lagged_total_.load();
  s.refused_total = refused_total_.load();
  s.poll_errors_total = poll_errors_total_.load();
  return s;
}

void DoorFeed::run() {
  std::unique_lock lock(run_mu_);
  while (!stopping_) {
    run_cv_.wait_for(lock, limits_.poll_interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    poll_once();
    lock.lock();
  }
}

void DoorFeed::poll_once() {
  std::vector<std::pair<core::EventId, std::shared_ptr<DoorTopic>>> busy;
  const TimeMs now = clock_.now();
  {
    std::lock_guard lock(topics_mu_);
    for (auto it = topics_.begin(); it != topics_.end();) {
      bool lapsed = false;
      {
        std::lock_guard tl(it->second->mu);
        if (it->second->subscribers > 0) {
          busy.emplace_back(it->first, it->second);
        } else {
          lapsed = now - it->second->idle_since > limits_.idle_topic;
        }
      }
      // Erased once its mutex is released: the map may hold the topic's last reference, and a
      // lock_guard would unlock a freed mutex (ThreadSanitizer: heap-use-after-free).
      it = lapsed ? topics_.erase(it) : std::next(it);
    }
  }
  std::vector<std::function<void()>> wakes;
  for (auto& [event, topic] : busy) {
    try {
      poll_topic(event, *topic, wakes);
    } catch (const std::exception&) {
      poll_errors_total_++;  // the store is away: the next round tries again
    }
  }
  polls_total_++;
  for (auto& wake : wakes) wake();  // outside every lock
}

// Only the poller thread calls this, one topic at a time.
void DoorFeed::poll_topic(core::EventId event, DoorTopic& t, std::vector<std::function<void()>>& wakes) {
  const TimeMs now = clock_.now();
  // The first read of an event goes back `replay`; later ones `overlap` before the newest change seen.
  // An event quiet since before the first read has no newest change: its reads stay at the first one's
  // start rather than going back to the beginning of time.
  if (!t.read_once) t.first_since = now - limits_.replay;
  const TimeMs since = t.read_once ? std::max(t.newest_seen - limits_.overlap, t.first_since) : t.first_since;
  std::vector<core::TicketChange> rows = store_.ticket_changes(event, since, limits_.rows_per_poll_max);
  std::reverse(rows.begin(), rows.end());  // oldest first
  std::vector<std::shared_ptr<DoorItem>> fresh;
  for (core::TicketChange& row : rows) {
    std::string key = change_key(row);
    if (!t.seen.insert(key).second) continue;
    t.seen_by_time.emplace(row.changed_at, std::move(key));
    t.newest_seen = std::max(t.newest_seen, row.changed_at);
    auto item = std::make_shared<DoorItem>();
    item->kind = DoorItem::Kind::ticket;
    item->change = std::move(row);
    fresh.push_back(std::move(item));
  }
  t.read_once = true;
  // Forget what can no longer be read again (older than the window), and bound the set whatever
  // the rate: past the bound the oldest go first.
  const TimeMs floor = t.newest_seen - limits_.overlap;
  while (!t.seen_by_time.empty() &&
         (t.seen_by_time.begin()->first < floor || t.seen_by_time.size() > 4 * size_t{limits_.rows_per_poll_max})) {
    t.seen.erase(t.seen_by_time.begin()->second);
    t.seen_by_time.erase(t.seen_by_time.begin());
  }
  TimeMs gates_read_at{};
  std::shared_ptr<const DoorItem> last_gates;
  {
    std::lock_guard lock(t.mu);
    gates_read_at = t.gates_read_at;
    last_gates = t.gates;
  }
  const bool read_gates = !fresh.empty() || !last_gates || now - gates_read_at >= limits_.gates_every;
  if (read_gates) {
    auto counts = store_.inside_by_gate(event, limits_.gates_max);
    if (!last_gates || !same_counts(counts, last_gates->gates)) {
      auto gates = std::make_shared<DoorItem>();
      gates->kind = DoorItem::Kind::gates;
      gates->gates = std::move(counts);
      fresh.push_back(std::move(gates));
    }
  }
  std::lock_guard lock(t.mu);
  if (read_gates) t.gates_read_at = now;
  if (fresh.empty()) return;
  for (auto& item : fresh) {
    item->seq = ++t.last_seq;  // not yet shared with any reader
    if (item->kind == DoorItem::Kind::ticket) changes_total_++;
    if (item->kind == DoorItem::Kind::gates) t.gates = item;
    t.ring.push_back(item);
    t.appended_at.push_back(now);
  }
  while (t.ring.size() > limits_.ring_items_max) {
    t.ring.pop_front();
    t.appended_at.pop_front();
  }
  for (DoorSubscription* s : t.waiters) wakes.push_back(std::move(s->wake_));
  for (DoorSubscription* s : t.waiters) s->wake_ = nullptr;
  t.waiters.clear();
}

}  // namespace ticketd::app
