// The fenced group commit of an event owner (owner_commit.hpp).
#include "store/postgres/owner_commit.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "base/assert.hpp"
#include "base/thread_name.hpp"

namespace ticketd::store::postgres {

namespace {

// The batch's ownership rows that still name this node and epoch and have not lapsed, locked FOR SHARE
// for the rest of the transaction (a takeover's UPDATE waits for the commit). In event order, so two
// writers always lock rows in the same order.
constexpr const char* kFenceBatch =
    "SELECT o.event_id, o.epoch FROM event_owners o "
    "JOIN unnest($2::bigint[], $3::bigint[]) AS j(event_id, epoch) ON o.event_id = j.event_id AND o.epoch = j.epoch "
    "WHERE o.owner = $1 AND o.expires_at > clock_timestamp() ORDER BY o.event_id FOR SHARE OF o";

core::Error not_owner() {
  return core::make_error(core::Code::Unavailable, "this node no longer owns the event; try again");
}

}  // namespace

OwnerCommit::OwnerCommit(const std::string& url, std::string node, OnBatch on_batch)
    : url_(url), node_(std::move(node)), on_batch_(std::move(on_batch)), conn_(url) {
  writer_ = std::thread([this] {
    name_this_thread("pg-writer");
    writer_loop();
  });
}

OwnerCommit::~OwnerCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void OwnerCommit::submit(core::EventId event, int64_t epoch, Job job, Completion done) {
  TICKETD_ASSERT(done);
  TICKETD_ASSERT(epoch >= 1);
  {
    std::lock_guard lock(mu_);
    // A completion that submits the next step of its request (a checkout's settlement after its begin)
    // may run while the writer stops: that step is refused, as a full queue's is.
    if (!stopping_ && queue_.size() < kQueueJobsMax) {
      queue_.push_back(Entry{event, epoch, std::move(job), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(core::make_error(core::Code::Unavailable, "too many commits queued, or the writer is stopping; try again"));
}

core::Status OwnerCommit::run(core::EventId event, int64_t epoch, Job job) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<core::Status> outcome;
  submit(event, epoch, std::move(job), [&](core::Status s) {
    std::lock_guard lock(mu);
    outcome = std::move(s);
    cv.notify_one();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  return std::move(*outcome);
}

void OwnerCommit::reset(core::EventId event) {
  std::lock_guard lock(mu_);
  std::erase_if(poisoned_, [&](const auto& p) { return p.first == event; });
}

void OwnerCommit::poison(core::EventId event, int64_t epoch) {
  std::lock_guard lock(mu_);
  poisoned_.emplace(event, epoch);
}

bool OwnerCommit::poisoned(core::EventId event, int64_t epoch) {
  std::lock_guard lock(mu_);
  return poisoned_.contains({event, epoch});
}

void OwnerCommit::writer_loop() {
  std::deque<Entry> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && batch.size() < kBatchJobsMax) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    commit_batch(batch);
    batch.clear();
  }
}

std::set<std::pair<core::EventId, int64_t>> OwnerCommit::begin_fenced(const std::deque<Entry>& batch) {
  std::vector<int64_t> events, epochs;
  for (const Entry& e : batch) {
    events.push_back(e.event);
    epochs.push_back(e.epoch);
  }
  conn_.send("BEGIN");  // and the fence, in one round trip
  conn_.send(kFenceBatch, {p(node_), p_array(events), p_array(epochs)});
  const std::vector<Rows> answers = conn_.sync();
  const Rows& r = answers.at(1);
  std::set<std::pair<core::EventId, int64_t>> owned;
  for (int i = 0; i < r.size(); ++i) owned.emplace(r.int64(i, 0), r.int64(i, 1));
  return owned;
}

void OwnerCommit::set_up_session(Connection& c) {
  // An owner paused (SIGSTOP, a VM frozen) inside a batch keeps its fence's row lock, and a takeover
  // would wait for it forever. A batch never waits on its client between statements, so a transaction
  // idle this long is one whose process stopped: PostgreSQL ends it, its batch rolls back (nobody was
  // acknowledged), and the takeover goes ahead.
  c.exec("SET idle_in_transaction_session_timeout = " + std::to_string(kIdleInBatchMax.count()));
  // Every statement of a batch names its rows by key. PostgreSQL plans a prepared statement once for
  // the connection, and a plan made while a table was small (a new deployment's first sale, every
  // benchmark) or never analyzed reads the whole table, and goes on reading all of it for every batch
  // as the table grows: the settlements of one 20,000-seat sale read 16 million rows of bookings and of
  // payments. Without sequential scans the planner takes the keys' indexes.
  c.exec("SET enable_seqscan = off");
  // A statement with no index to take (a cancel's claims, found by booking) still scans, and the scan's
  // penalty puts its cost past jit_above_cost: PostgreSQL would compile it on every run, 30-110 ms each,
  // and cancels queued behind the writer for seconds. No statement here runs long enough for compiling
  // to pay back.
  c.exec("SET jit = off");
}

void OwnerCommit::commit_batch(std::deque<Entry>& batch) {
  std::vector<core::Status> results(batch.size(), core::ok_status());
  size_t fenced = 0;
  try {
    if (!conn_.healthy()) {
      conn_ready_ = false;
      conn_.reconnect();
    }
    if (!conn_ready_) {
      set_up_session(conn_);
      conn_ready_ = true;
    }
    const auto owned = begin_fenced(batch);
    for (size_t i = 0; i < batch.size(); ++i) {
      Entry& e = batch[i];
      if (!owned.contains({e.event, e.epoch})) {
        poison(e.event, e.epoch);
        ++fenced;
      }
      if (poisoned(e.event, e.epoch)) {
        results[i] = not_owner();  // decided on top of a lost ownership or a failed batch
        continue;
      }
      e.job(conn_);
    }
    if (stager_) stager_->flush(conn_);
    conn_.exec("COMMIT");
  } catch (const std::exception& err) {
    // Memory is ahead of PostgreSQL for every event of this batch: nobody is acknowledged, and each
    // event's owner reloads it (its later jobs are refused until then).
    if (stager_) stager_->discard();
    spdlog::warn("owner commit: a batch of {} decisions failed, its events reload: {}", batch.size(), err.what());
    try {
      if (conn_.healthy()) conn_.exec("ROLLBACK");
    } catch (const std::exception&) {
      // The connection broke mid-rollback: the server rolls back on its own; reconnected next batch.
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      poison(batch[i].event, batch[i].epoch);
      results[i] = core::make_error(core::Code::Unavailable, std::string("the store could not commit: ") + err.what());
    }
  }
  if (fenced > 0)
    spdlog::warn("owner commit: {} of {} decisions refused by the fence: this node no longer owns their events",
                 fenced, batch.size());
  if (on_batch_) on_batch_(batch.size(), fenced);
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
}

}  // namespace ticketd::store::postgres
