// DoorFeed: what scanners of one event tell each other, live (GET /v1/events/{id}/checkins/stream;
// docs/tickets.md, "The door feed"). Tickets let in, let out or revoked, and the people inside per gate.
//
// Shape: one poller thread reads, for each event that has subscribers, the tickets whose state changed
// since its last look (CheckinStore::ticket_changes) every poll_interval. The store is the only source,
// so it works the same on one embedded node and on many nodes over PostgreSQL: a scan recorded by any
// node reaches the scanners of every node within poll_interval plus a query. Each read goes back
// `overlap` before the newest change seen, so a commit that lands late (another node's transaction,
// its clock a little behind) is still found; rows seen before are recognised and not sent twice.
// Subscribers are cursors into a per-event ring of items, as in SeatStream: an item costs one append
// however many scanners listen.
//
// Bounds: ring_items_max per event (a subscriber that falls behind gets a `resync` item: refetch the
// scanner bundle), topics_max events with a ring (idle ones are dropped), subscribers_max in all, and
// rows_per_poll_max per read (past it the feed keeps the newest: scanners also ask the server).
//
// Thread safety: every method may be called from any thread. A DoorSubscription is used by one caller at
// a time; its wake function is called from the poller thread, never under a lock.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "core/ports/checkins.hpp"
#include "core/result.hpp"

namespace ticketd::app {

struct DoorFeedLimits {
  std::chrono::milliseconds poll_interval{250};  // the issue asks for a scan seen elsewhere within 1 s
  std::chrono::milliseconds overlap{5000};       // how late a commit may land and still be found
  std::chrono::milliseconds replay{15000};       // a new subscriber first gets the changes of this window
  std::chrono::milliseconds gates_every{5000};   // people inside per gate, re-read at least this often
  std::chrono::milliseconds idle_topic{30000};   // an event without subscribers this long is forgotten
  size_t ring_items_max = 4096;
  size_t topics_max = 1024;
  size_t subscribers_max = 20'000;
  uint32_t rows_per_poll_max = 2000;
  uint32_t gates_max = 64;
  size_t batch_items_max = 512;  // what one poll() of a subscription hands out
};

struct DoorItem {
  enum class Kind { ticket, gates, resync };
  Kind kind = Kind::ticket;
  uint64_t seq = 0;
  core::TicketChange change;            // ticket
  std::vector<core::GateCount> gates;   // gates
};

struct DoorFeedStats {
  uint64_t subscribers = 0;
  uint64_t topics = 0;
  uint64_t polls_total = 0;
  uint64_t changes_total = 0;  // ticket items appended
  uint64_t lagged_total = 0;   // subscribers that fell behind their ring
  uint64_t refused_total = 0;  // subscribe() over a limit
  uint64_t poll_errors_total = 0;
};

struct DoorTopic;
class DoorFeed;

class DoorSubscription {
 public:
  ~DoorSubscription();
  DoorSubscription(const DoorSubscription&) = delete;
  DoorSubscription& operator=(const DoorSubscription&) = delete;

  // Appends what is new to `out`; false when there is nothing. Never blocks.
  bool poll(std::vector<std::shared_ptr<const DoorItem>>& out);
  // After an empty poll: `wake` is called once, from the poller thread, when there may be more. False,
  // registering nothing, when there already is more.
  bool arm(std::function<void()> wake);
  core::EventId event_id() const { return event_id_; }

 private:
  friend class DoorFeed;
  DoorSubscription(DoorFeed& feed, std::shared_ptr<DoorTopic> topic, core::EventId event_id, uint64_t cursor);
  DoorFeed& feed_;
  const std::shared_ptr<DoorTopic> topic_;
  const core::EventId event_id_;
  // Guarded by topic_->mu:
  uint64_t cursor_;            // the last seq delivered
  bool gates_sent_ = false;    // the topic's latest gates item goes first
  std::function<void()> wake_;
};

class DoorFeed {
 public:
  DoorFeed(core::CheckinStore& store, const Clock& clock, DoorFeedLimits limits = {});
  // REQUIRES: every subscription is gone.
  ~DoorFeed();
  DoorFeed(const DoorFeed&) = delete;
  DoorFeed& operator=(const DoorFeed&) = delete;

  // Unavailable over a limit. Does not block (the first read of a new event happens on the poller).
  core::Result<std::shared_ptr<DoorSubscription>> subscribe(core::EventId event);
  DoorFeedStats stats() const;

  // One round of the poller, for tests: reads every event that has subscribers, wakes who has news.
  void poll_once();

 private:
  friend class DoorSubscription;
  void run();
  void poll_topic(core::EventId event, DoorTopic& topic, std::vector<std::function<void()>>& wakes);
  void unsubscribe(DoorSubscription& sub);

  core::CheckinStore& store_;
  const Clock& clock_;
  const DoorFeedLimits limits_;

  mutable std::mutex topics_mu_;  // guards topics_; taken before any DoorTopic::mu
  std::unordered_map<core::EventId, std::shared_ptr<DoorTopic>> topics_;

  std::mutex run_mu_;  // guards stopping_
  std::condition_variable run_cv_;
  bool stopping_ = false;

  std::atomic<uint64_t> subscribers_{0}, polls_total_{0}, changes_total_{0}, lagged_total_{0}, refused_total_{0},
      poll_errors_total_{0};
  std::thread poller_;  // last: started when everything above exists
};

}  // namespace ticketd::app
