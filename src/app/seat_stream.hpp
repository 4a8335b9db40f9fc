// SeatStream: the live seat map. It is the SeatChangeSink of the ledger (embedded: called in-process;
// distributed: called by the node's pub/sub subscriber) and hands each subscriber of an event a
// snapshot, then the changes after it, in version order.
//
// Shape: one Topic per event keeps a ring of its most recent changes (versions consecutive). A
// subscriber is a cursor into that ring: it pulls what is newer than its cursor, so a change costs one
// append however many subscribers there are, and a burst of changes wakes each subscriber once.
//
// Bounds and what happens past them:
//   - ring_changes_max per topic: a subscriber that falls further behind (a slow consumer), or a gap
//     in the versions (a missed pub/sub message), resynchronises: its next item is a fresh snapshot.
//     So a slow consumer costs a cursor, never a growing buffer; lagged_total counts it.
//   - batch_seats_max: what one poll() hands out (the rest waits for the next poll).
//   - subscribers_max: subscribe() beyond it answers Unavailable.
//   - topics_max: a topic with no subscribers is evicted to make room; when every topic has
//     subscribers, changes of new events are not kept (nobody listens to them) and subscribe() fails.
//
// Resume: an item's id is "<epoch>-<version>" (epoch: this process's, injected). subscribe() with a
// Last-Event-ID of this epoch whose changes are all still in the ring continues from there; any
// other well-formed id gets a snapshot; a malformed one is InvalidRequest.
//
// Thread safety: every SeatStream method may be called from any thread. A SeatSubscription is used by
// one caller at a time (its connection); its wake function is called from the notifier thread. Locks:
// topics_mu_ (the map) before Topic::mu (one topic, its ring, its subscribers' cursors and wake
// registrations) before wake_mu_ (the wake queue). Never I/O, and never a wake call, under any of them.
// seats_changed() takes one topic lock for an append, so it may be called under the ledger's
// per-event mutex.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/ports/ledger.hpp"
#include "core/ports/seat_changes.hpp"
#include "core/result.hpp"

namespace ticketd::app {

struct SeatStreamLimits {
  // Changes kept per event: at ~1K seat changes per second on a hot event that is half a second of
  // lag before a subscriber resyncs; a 50 KB snapshot costs less than replaying more than that.
  size_t ring_changes_max = 512;
  // Events with a ring in memory. Worst case 512 changes x 100 seats x 4 B = 200 KB per topic.
  size_t topics_max = 1024;
  // One node serves 10,000 subscribers (issue 6); leave room for reconnects racing their old stream.
  size_t subscribers_max = 20'000;
  // Seats handed out per poll: keeps one write per connection small and bounded.
  size_t batch_seats_max = 4096;
};

// The current seat map of an event, with its version (see Ledger::seat_map). May block.
using SnapshotSource = std::function<core::Result<core::SeatMap>(core::EventId)>;

struct StreamItem {
  enum class Kind { snapshot, change };
  Kind kind = Kind::snapshot;
  uint64_t version = 0;
  std::string status;                          // snapshot: one of "AHS" per seat
  std::shared_ptr<const core::SeatChange> change;  // change: shared with the ring
};

struct SeatStreamStats {
  uint64_t subscribers = 0;
  uint64_t topics = 0;
  uint64_t changes_total = 0;      // changes received from the ledger
  uint64_t snapshots_total = 0;    // snapshots sent (first ones and resyncs)
  uint64_t lagged_total = 0;       // resyncs of subscribers that fell behind the ring or saw a gap
  uint64_t refused_total = 0;      // subscribe() over subscribers_max / topics_max
  uint64_t dropped_total = 0;      // changes not kept because every topic slot had subscribers
};

class SeatStream;
struct SeatTopic;

class SeatSubscription {
 public:
  // failed: no snapshot could be made (the event is gone, the store failed): end the stream; the
  // client reconnects and tries again.
  enum class Poll { items, idle, needs_snapshot, failed };
  ~SeatSubscription();
  SeatSubscription(const SeatSubscription&) = delete;
  SeatSubscription& operator=(const SeatSubscription&) = delete;

  // Appends what is new to `out`. Never blocks unless may_block: when a snapshot is due and
  // !may_block it returns needs_snapshot, and the caller calls again where blocking is fine.
  Poll poll(std::vector<StreamItem>& out, bool may_block);
  // After an idle poll: `wake` is called once (from another thread) when there may be more. Returns
  // false, registering nothing, if there already is more (poll again).
  bool arm(std::function<void()> wake);
  core::EventId event_id() const { return event_id_; }
  std::string item_id(uint64_t version) const;

 private:
  friend class SeatStream;
  SeatSubscription(SeatStream& hub, std::shared_ptr<SeatTopic> topic, core::EventId event_id);
  SeatStream& hub_;
  const std::shared_ptr<SeatTopic> topic_;
  const core::EventId event_id_;
  // Guarded by topic_->mu (read by the publisher and the notifier):
  uint64_t cursor_ = 0;          // the last version delivered (or resumed from)
  uint64_t era_ = 0;             // the topic's era that cursor_ belongs to
  bool needs_snapshot_ = true;
  bool armed_ = false;
  std::function<void()> wake_;
};

class SeatStream final : public core::SeatChangeSink {
 public:
  SeatStream(SnapshotSource snapshot, uint64_t epoch, SeatStreamLimits limits = {});
  // REQUIRES: every subscription is gone, and no ledger will call seats_changed() any more.
  ~SeatStream() override;
  SeatStream(const SeatStream&) = delete;
  SeatStream& operator=(const SeatStream&) = delete;

  void seats_changed(const core::SeatChange& change) override;

  // Errors: InvalidRequest (malformed last_event_id), Unavailable (limits). Does not block.
  core::Result<std::shared_ptr<SeatSubscription>> subscribe(core::EventId event, std::string_view last_event_id);

  SeatStreamStats stats() const;
  uint64_t epoch() const { return epoch_; }

 private:
  friend class SeatSubscription;
  std::shared_ptr<SeatTopic> topic_for(core::EventId event, bool for_subscriber);
  void schedule_wake(const std::shared_ptr<SeatTopic>& topic);  // REQUIRES: topic->mu held
  void notifier_loop();
  void unsubscribe(SeatSubscription& sub);

  const SnapshotSource snapshot_;
  const uint64_t epoch_;
  const SeatStreamLimits limits_;

  mutable std::shared_mutex topics_mu_;  // guards topics_
  std::unordered_map<core::EventId, std::shared_ptr<SeatTopic>> topics_;

  std::mutex wake_mu_;  // guards the three below
  std::condition_variable wake_cv_;
  std::vector<std::shared_ptr<SeatTopic>> wake_queue_;  // each topic at most once (Topic::wake_pending)
  bool stopping_ = false;

  std::atomic<uint64_t> subscribers_{0}, changes_total_{0}, snapshots_total_{0}, lagged_total_{0}, refused_total_{0},
      dropped_total_{0};
  std::thread notifier_;  // last: started when everything above exists
};

}  // namespace ticketd::app
