#include "store/sqlite/group_commit.hpp"

#include <cstdio>
#include <cstdlib>

#include "base/thread_name.hpp"

namespace ticketd::store::sqlite {

core::Status GroupCommit::Ticket::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  return status_;
}

GroupCommit::GroupCommit(const std::string& path, std::function<void(size_t)> on_batch)
    : conn_(path, Connection::Mode::ReadWrite), on_batch_(std::move(on_batch)) {
  writer_ = std::thread([this] {
    name_this_thread("sqlite-writer");
    writer_loop();
  });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

std::shared_ptr<GroupCommit::Ticket> GroupCommit::submit(Job job) {
  auto ticket = std::make_shared<Ticket>();
  submit(std::move(job), [ticket](core::Status status) {
    {
      std::lock_guard lock(ticket->mu_);
      ticket->status_ = std::move(status);
      ticket->done_ = true;
    }
    ticket->cv_.notify_one();
  });
  return ticket;
}

void GroupCommit::submit(Job job, Completion done, Failure failure) {
  TICKETD_ASSERT(done);
  {
    std::lock_guard lock(mu_);
    TICKETD_ASSERT(queue_.size() < kQueueJobsMax);
    // A completion that submits the next step of its request (a checkout's settlement after its begin)
    // may run while the writer stops: that step is refused, as a failed commit would be.
    if (!stopping_) {
      queue_.push_back(Entry{std::move(job), std::move(done), failure});
      cv_.notify_one();
      return;
    }
  }
  done(core::make_error(core::Code::Unavailable, "the store is stopping"));
}

void GroupCommit::writer_loop() {
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

void GroupCommit::fail_stop(std::deque<Entry>& batch, const char* why) {
  std::fprintf(stderr, "ticketd: group commit failed, stopping to protect acknowledged state: %s\n", why);
  // Nobody in this batch is acknowledged: each is told so (the HTTP layer answers 503 if it still can),
  // and the process stops before anything of it could be read back as done.
  for (Entry& e : batch) e.done(core::make_error(core::Code::Unavailable, "the store could not commit"));
  std::abort();
}

void GroupCommit::commit_batch(std::deque<Entry>& batch) {
  std::vector<core::Status> results;
  results.reserve(batch.size());
  try {
    conn_.exec("BEGIN IMMEDIATE");
    for (Entry& e : batch) {
      conn_.exec("SAVEPOINT job");
      core::Status s = core::ok_status();
      try {
        s = e.job(conn_);
      } catch (const DbError& err) {
        s = core::make_error(core::Code::Unavailable, err.what());
      }
      conn_.exec(s.ok() ? "RELEASE job" : "ROLLBACK TO job; RELEASE job");
      results.push_back(std::move(s));
    }
    // A job that must not fail did: nothing of this batch becomes durable, nobody is acknowledged.
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!results[i] && batch[i].failure == Failure::stop) {
        conn_.exec("ROLLBACK");
        fail_stop(batch, results[i].error().message.c_str());
      }
    }
    conn_.exec("COMMIT");
  } catch (const DbError& err) {
    fail_stop(batch, err.what());
  }
  if (on_batch_) on_batch_(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(results[i]));
}

}  // namespace ticketd::store::sqlite
