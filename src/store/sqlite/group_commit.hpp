// Group commit: one writer thread owns the only write connection. It takes every job queued since
// its last commit, runs them in one transaction (each in its own savepoint, so one job's expected
// failure — a duplicate email — does not undo the others), commits with one fsync, and only then
// tells each submitter its own result: a thread waiting on its Ticket is woken, or a Completion is
// called on the writer thread (the HTTP layer's, which posts the answer to the connection's strand,
// so a durable hold costs one hop to the writer and one back, and no thread is parked). Under load
// many holds share one sync; alone, a job waits one sync.
//
// Fail-stop: if the commit itself fails (I/O error, disk full), every job of the batch is told
// Unavailable (nobody is acknowledged) and the process aborts: memory may be ahead of disk, and
// restart recovers exactly what was acknowledged.
//
// Bound: a thread submitting with a Ticket blocks until its job is committed; completions come from
// requests the HTTP layer counts against its pending-request limit. So the queue never holds more
// jobs than the workers, the sweeper and pending_requests_max; kQueueJobsMax is a bug guard above that.
//
// Thread safety: submit() and wait() from any thread; jobs and completions run on the writer thread.
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
  // Called once, on the writer thread, after the batch with its job committed (or failed): must be quick
  // and must not submit and wait (the writer would wait for itself).
  using Completion = std::function<void(core::Status)>;
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

  // What a failed job means. answer: its submitter is told (an expected refusal, a duplicate email).
  // stop: memory is ahead of disk (a hold decided in memory did not reach the file): every job of the
  // batch is told Unavailable, then the process stops, as when the commit itself fails.
  enum class Failure { answer, stop };

  std::shared_ptr<Ticket> submit(Job job);
  void submit(Job job, Completion done, Failure failure = Failure::answer);
  core::Status run(Job job) { return submit(std::move(job))->wait(); }

 private:
  struct Entry {
    Job job;
    Completion done;
    Failure failure = Failure::answer;
  };
  // Tells every job of the batch it was not done, then aborts.
  [[noreturn]] static void fail_stop(std::deque<Entry>& batch, const char* why);
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
