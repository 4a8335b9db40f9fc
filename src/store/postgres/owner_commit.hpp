// OwnerCommit: the group commit of an event owner in distributed mode (docs/architecture.md, "Event
// ownership"). An owner decides seats in memory (core::EventInventory) and queues what it decided here;
// one writer thread takes every job queued since its last commit and runs them in one PostgreSQL
// transaction, fenced by the ownership of every event in the batch, then tells each submitter.
//
// Fencing (event_owners.hpp): the batch's first statement locks, FOR SHARE, the ownership rows that
// still name this node with the epoch each job was decided under and have not lapsed. Jobs of an event
// whose row does not match are not run: they are told NotOwner, and so is every later job of that
// (event, epoch), because they were decided on top of those. The owner must drop the event from memory
// and claim it again (reset() then lets a new epoch's jobs through).
//
// Failure: a job that throws means memory is ahead of what PostgreSQL accepted. The whole batch rolls
// back, every job of it is told Unavailable (nobody is acknowledged), and every event in the batch is
// poisoned as above: its owner reloads it from PostgreSQL. A lost connection does the same, and the
// writer reconnects for the next batch. Nothing is acknowledged before its commit.
//
// Bounds: kBatchJobsMax jobs per transaction; at most kQueueJobsMax queued (submitters are workers and
// I/O-thread requests the HTTP layer already bounds): one more is refused Unavailable at once.
//
// Thread safety: submit() and reset() from any thread; jobs and completions run on the writer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "core/result.hpp"
#include "store/postgres/event_owners.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

// Rows that jobs stage during a batch instead of writing them one statement each, so that the writer
// writes a batch's rows of one kind in one multi-row statement. A job that writes directly flushes what
// is staged first (order is kept); the writer flushes the rest before the commit, and discards it when
// the batch fails. Called on the writer thread only.
class Stager {
 public:
  virtual ~Stager() = default;
  virtual void flush(Connection& c) = 0;  // REQUIRES: inside the batch's transaction
  virtual void discard() = 0;
};

class OwnerCommit {
 public:
  // A batch's transaction idle this long ends (see commit_batch): well under the lease (10 s), so a
  // paused owner never holds up the takeover of its events past the lease.
  static constexpr std::chrono::milliseconds kIdleInBatchMax{2'000};
  using Job = std::function<void(Connection&)>;
  // Called once, on the writer thread, after the batch holding the job committed or failed: quick, and
  // never waiting on this committer.
  using Completion = std::function<void(core::Status)>;
  static constexpr size_t kBatchJobsMax = 1024;
  static constexpr size_t kQueueJobsMax = 65'536;

  // `url`: the writer's own connection (not from a pool: it is held for the process's life).
  // `on_batch(jobs, fenced)` after each batch (metrics): its jobs, and how many of them the fence refused
  // (decided under an ownership this node no longer has).
  using OnBatch = std::function<void(size_t jobs, size_t fenced)>;
  OwnerCommit(const std::string& url, std::string node, OnBatch on_batch = {});
  // REQUIRES: before the first submit; the stager outlives the committer's last batch.
  void set_stager(Stager* stager) { stager_ = stager; }
  ~OwnerCommit();  // commits what is queued, then stops

  // Queues `job`, decided for `event` under ownership `epoch`. REQUIRES: done is set.
  void submit(core::EventId event, int64_t epoch, Job job, Completion done);
  // Runs a job and waits for its outcome (for callers that may block).
  core::Status run(core::EventId event, int64_t epoch, Job job);
  // The event was reloaded under a new ownership: its jobs are accepted again.
  void reset(core::EventId event);
  // The writer's session settings (see the definition for why each): applied to its connection before
  // its first batch and after each reconnect. Public for the tests, which plan statements under them.
  static void set_up_session(Connection& c);

 private:
  struct Entry {
    core::EventId event = 0;
    int64_t epoch = 0;
    Job job;
    Completion done;
  };
  void writer_loop();
  void commit_batch(std::deque<Entry>& batch);
  // Begins the batch's transaction and reads its fence, in one round trip: the (event, epoch) pairs of
  // the batch whose ownership rows matched, locked FOR SHARE until the commit.
  std::set<std::pair<core::EventId, int64_t>> begin_fenced(const std::deque<Entry>& batch);
  void poison(core::EventId event, int64_t epoch);
  bool poisoned(core::EventId event, int64_t epoch);

  const std::string url_;
  const std::string node_;
  OnBatch on_batch_;
  Stager* stager_ = nullptr;  // may be null
  Connection conn_;  // the writer thread's alone
  bool conn_ready_ = false;  // the writer's session settings are applied (again after a reconnect)
  std::mutex mu_;    // guards queue_, stopping_ and poisoned_
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  std::set<std::pair<core::EventId, int64_t>> poisoned_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace ticketd::store::postgres
