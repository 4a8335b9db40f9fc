// Group commit: one writer thread owns the only write connection. It takes every job queued since
// its last commit, runs them in one transaction (each in its own savepoint, so one job's expected
// failure — a duplicate email — does not undo the others), commits with one fsync, and only then
// wakes each waiter with its own result. Under load many holds share one sync; alone, a job waits
// one sync.
//
// Fail-stop: if the commit itself fails (I/O error, disk full), the process aborts rather than answer
// anyone: memory may be ahead of disk, and restart recovers exactly what was acknowledged.
//
// Bound: every submitter blocks in wait() until its job is committed, so the queue never holds more
// jobs than there are threads able to submit (the HTTP workers plus the sweeper).
//
// Thread safety: submit() and wait() from any thread; jobs run on the writer thread only.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.hpp"
#include "store/sqlite/db.hpp"

namespace ticketd::store::sqlite {

class GroupCommit {
 public:
  using Job = std::function<core::Status(Connection&)>;
  static constexpr size_t kBatchJobsMax = 2048;  // a batch this large still commits in a few ms
  static constexpr size_t kQueueJobsMax = 65'536;  // far above the submitters there can be: a bug guard

  class Ticket {
   public:
    core::Status wait();

   private:
    friend class GroupCommit;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    core::Status status_ = core::ok_status();
  };

  // on_batch(jobs) is called after each commit (metrics).
  GroupCommit(const std::string& path, std::function<void(size_t)> on_batch);
  ~GroupCommit();  // commits what is queued, then stops the writer

  std::shared_ptr<Ticket> submit(Job job);
  core::Status run(Job job) { return submit(std::move(job))->wait(); }

 private:
  struct Entry {
    Job job;
    std::shared_ptr<Ticket> ticket;
  };
  void writer_loop();
  void commit_batch(std::deque<Entry>& batch);

  Connection conn_;
  std::function<void(size_t)> on_batch_;
  std::mutex mu_;  // guards queue_ and stopping_
  std::condition_variable cv_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace ticketd::store::sqlite
