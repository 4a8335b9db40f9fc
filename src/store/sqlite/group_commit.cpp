#include "store/sqlite/group_commit.hpp"

#include <cstdio>
#include <cstdlib>

namespace ticketd::store::sqlite {

core::Status GroupCommit::Ticket::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  return status_;
}

GroupCommit::GroupCommit(const std::string& path, std::function<void(size_t)> on_batch)
    : conn_(path, Connection::Mode::ReadWrite), on_batch_(std::move(on_batch)) {
  writer_ = std::thread([this] { writer_loop(); });
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
  {
    std::lock_guard lock(mu_);
    TICKETD_ASSERT(!stopping_);
    TICKETD_ASSERT(queue_.size() < kQueueJobsMax);
    queue_.push_back(Entry{std::move(job), ticket});
  }
  cv_.notify_one();
  return ticket;
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
    conn_.exec("COMMIT");
  } catch (const DbError& err) {
    std::fprintf(stderr, "ticketd: group commit failed, stopping to protect acknowledged state: %s\n", err.what());
    std::abort();
  }
  if (on_batch_) on_batch_(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    Ticket& t = *batch[i].ticket;
    {
      std::lock_guard lock(t.mu_);
      t.status_ = std::move(results[i]);
      t.done_ = true;
    }
    t.cv_.notify_one();
  }
}

}  // namespace ticketd::store::sqlite
