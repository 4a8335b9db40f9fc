// GroupCommit's completions: each job's submitter hears its own result once the batch is durable, and
// when a batch cannot be made durable every submitter hears Unavailable before the process stops.
#include "store/sqlite/group_commit.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ticketd::store::sqlite {
namespace {

std::string fresh_db(const char* name) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            (std::string("ticketd-gc-") + name + "-" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(path);
  return path;
}

GroupCommit::Job make_table() {
  return [](Connection& c) {
    c.exec("CREATE TABLE IF NOT EXISTS t(x INTEGER PRIMARY KEY)");
    return core::ok_status();
  };
}

GroupCommit::Job insert(int x) {
  return [x](Connection& c) {
    const int rc = c.prepare("INSERT INTO t(x) VALUES (?1)").bind(1, x).step_status();
    return rc == SQLITE_DONE ? core::ok_status() : core::make_error(core::Code::InvalidRequest, "duplicate");
  };
}

TEST(GroupCommit, EachCompletionHearsItsOwnResultAfterTheCommit) {
  const std::string path = fresh_db("completions");
  std::mutex mu;
  std::vector<std::pair<int, bool>> heard;
  {
    GroupCommit writer(path, nullptr);
    ASSERT_TRUE(writer.run(make_table()).ok());
    for (int i = 0; i < 50; ++i) {
      writer.submit(insert(i % 40), [&mu, &heard, i](core::Status s) {  // 10 duplicates: refused, alone
        std::lock_guard lock(mu);
        heard.emplace_back(i, s.ok());
      });
    }
    auto ticket = writer.submit(insert(1000));
    EXPECT_TRUE(ticket->wait().ok()) << "a Ticket still waits for its own job";
  }  // the destructor commits what is queued and tells everyone
  ASSERT_EQ(heard.size(), 50u);
  for (const auto& [i, ok] : heard) EXPECT_EQ(ok, i < 40) << i;
  Connection check(path, Connection::Mode::ReadOnly);
  auto& count = check.prepare("SELECT COUNT(*) FROM t");
  ASSERT_TRUE(count.step());
  EXPECT_EQ(count.int64(0), 41) << "the refused duplicates rolled back alone";
  std::filesystem::remove(path);
}

// Fail-stop, with the submitters told first: a batch whose commit fails, or with a job that must not
// fail, acknowledges nobody (each completion hears Unavailable), and then the process aborts.
void run_failing_batch(bool commit_fails) {
  const std::string path = fresh_db(commit_fails ? "commit-fails" : "job-fails");
  GroupCommit writer(path, nullptr);
  if (!writer.run(make_table()).ok()) std::abort();
  // Held so all four land in one batch.
  std::atomic<bool> go{false};
  writer.submit([&go](Connection&) {
    while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return core::ok_status();
  }, [](core::Status) {});
  const auto tell = [](int job) {
    return [job](core::Status s) {
      std::fprintf(stderr, "job %d: %s\n", job, s.ok() ? "acknowledged" : "unavailable");
    };
  };
  writer.submit(insert(1), tell(1));
  if (commit_fails) {
    // Ends the batch's transaction from inside a job: its savepoint's RELEASE then fails.
    writer.submit([](Connection& c) {
      c.exec("ROLLBACK");
      return core::ok_status();
    }, tell(2));
  } else {
    writer.submit([](Connection&) { return core::make_error(core::Code::Unavailable, "disk"); }, tell(2),
                  GroupCommit::Failure::stop);
  }
  writer.submit(insert(3), tell(3));
  go.store(true);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  std::exit(0);  // not reached: the writer aborts first
}

TEST(GroupCommitDeathTest, AFailedCommitTellsEverySubmitterThenStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the writer is a thread
  EXPECT_DEATH(run_failing_batch(true),
               "group commit failed.*job 1: unavailable.*job 2: unavailable.*job 3: unavailable");
}

TEST(GroupCommitDeathTest, AJobThatMustNotFailStopsItsWholeBatch) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(run_failing_batch(false),
               "group commit failed.*job 1: unavailable.*job 2: unavailable.*job 3: unavailable");
}

}  // namespace
}  // namespace ticketd::store::sqlite
