// Sessions read from a real PostgreSQL (scripts/services). Reads that meet leave as one statement
// (base/read_batches.hpp); what must hold is that each caller still gets its own session, or none.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "pg_database.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {
namespace {

class PgAccountStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = fresh_migrated_database("accounts");
    pool_ = std::make_unique<Pool>(url_, 8);
    store_ = std::make_unique<PgAccountStore>(*pool_);
  }

  std::string url_;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<PgAccountStore> store_;
  const TimeMs t0_ = from_unix_ms(1'900'000'000'000);
};

TEST_F(PgAccountStoreTest, SessionsReadAtOnceEachFindTheirOwnAccount) {
  constexpr int kUsers = 40, kThreads = 16, kReadsEach = 200;
  std::vector<core::User> users;
  for (int i = 0; i < kUsers; ++i) {
    auto u = store_->create_user("u" + std::to_string(i) + "@example.com", "User " + std::to_string(i), "hash",
                                 core::Role::User, t0_);
    ASSERT_TRUE(u.ok());
    users.push_back(*u);
    // One session expired (the store reports it; expiry is the caller's to judge), the rest live.
    const TimeMs expires = i == 7 ? t0_ - std::chrono::hours(1) : t0_ + std::chrono::hours(i + 1);
    ASSERT_TRUE(store_->create_session("token-" + std::to_string(i), u->id, expires).ok());
  }
  ASSERT_TRUE(store_->delete_session("token-3").ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < kReadsEach; ++r) {
        const int i = (t * 7 + r) % (kUsers + 5);  // five of every 45 are tokens nobody has
        auto found = store_->find_session("token-" + std::to_string(i));
        const bool absent = i >= kUsers || i == 3;
        if (absent) {
          wrong += found.has_value();
          continue;
        }
        const TimeMs expires = i == 7 ? t0_ - std::chrono::hours(1) : t0_ + std::chrono::hours(i + 1);
        wrong += !found || found->user.id != users[i].id || found->user.email != users[i].email ||
                 found->user.name != users[i].name || found->expires_at != expires;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace ticketd::store::postgres
