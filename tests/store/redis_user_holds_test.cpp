// Each user's live holds across nodes in Redis (store/redis/user_holds.hpp), against a real Redis
// (scripts/services): the cap, lapses, ends, pins, and an unreachable Redis answering "unknown".
#include <gtest/gtest.h>

#include <hiredis/hiredis.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/redis/user_holds.hpp"

namespace ticketd::store::redis {
namespace {

using Reserve = core::UserHolds::Reserve;

class RedisUserHoldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("TICKETD_TEST_REDIS_URL");
    ASSERT_TRUE(url && *url) << "run under scripts/services (TICKETD_TEST_REDIS_URL unset)";
    std::string error;
    ASSERT_TRUE(parse_redis_url(url, cfg_, error)) << error;
    cfg_.db = 63;  // a database of its own, emptied first
    client_ = std::make_unique<RedisClient>(cfg_);
    ASSERT_TRUE(client_->command({"FLUSHDB"})) << "Redis unreachable";
    holds_ = std::make_unique<RedisUserHolds>(*client_);
  }

  RedisConfig cfg_;
  std::unique_ptr<RedisClient> client_;
  std::unique_ptr<RedisUserHolds> holds_;
  const TimeMs t0_ = from_unix_ms(1'900'000'000'000);
  const Millis ttl_{600'000};
};

TEST_F(RedisUserHoldsTest, TheCapCountsLiveHoldsAndAnEndFreesAPlace) {
  EXPECT_EQ(holds_->reserve(7, 1, t0_ + ttl_, 2, t0_), Reserve::reserved);
  EXPECT_EQ(holds_->reserve(7, 2, t0_ + ttl_, 2, t0_), Reserve::reserved);
  EXPECT_EQ(holds_->reserve(7, 3, t0_ + ttl_, 2, t0_), Reserve::at_cap);
  EXPECT_EQ(holds_->reserve(8, 4, t0_ + ttl_, 2, t0_), Reserve::reserved);  // another user: own count
  EXPECT_EQ(holds_->reserve(7, 2, t0_ + ttl_, 2, t0_), Reserve::reserved);  // a retry of a counted hold
  holds_->end(7, 1);
  EXPECT_EQ(holds_->reserve(7, 3, t0_ + ttl_, 2, t0_), Reserve::reserved);
}

TEST_F(RedisUserHoldsTest, ALapsedHoldStopsCountingAndAPinnedOneKeepsCounting) {
  EXPECT_EQ(holds_->reserve(7, 1, t0_ + ttl_, 2, t0_), Reserve::reserved);
  EXPECT_EQ(holds_->reserve(7, 2, t0_ + ttl_, 2, t0_), Reserve::reserved);
  holds_->extend(7, 2, t0_ + ttl_ * 2);  // checked out: pinned past its expiry
  holds_->extend(7, 9, t0_ + ttl_ * 2);  // never reserved: nothing
  const TimeMs lapsed = t0_ + ttl_;      // hold 1 lapses at its deadline; hold 2 is pinned
  EXPECT_EQ(holds_->reserve(7, 3, lapsed + ttl_, 2, lapsed), Reserve::reserved);
  EXPECT_EQ(holds_->reserve(7, 4, lapsed + ttl_, 2, lapsed), Reserve::at_cap);
}

// Reservations from many threads travel in pipelined batches: each is answered once, the cap still
// counts every one of them, and an end sent after a reservation reaches Redis after it.
TEST_F(RedisUserHoldsTest, PipelinedReservationsFromManyThreadsKeepTheCapAndTheirOrder) {
  constexpr int kThreads = 4, kEach = 50;
  constexpr uint32_t kCap = 10;
  std::mutex mu;
  std::condition_variable all_answered;
  int answered = 0, reserved = 0, at_cap = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        holds_->reserve_async(7, t * 1000 + i, t0_ + ttl_, kCap, t0_, [&](Reserve r) {
          std::lock_guard lock(mu);
          ++answered;
          if (r == Reserve::reserved) ++reserved;
          if (r == Reserve::at_cap) ++at_cap;
          all_answered.notify_all();
        });
    });
  for (std::thread& t : threads) t.join();
  std::unique_lock lock(mu);
  ASSERT_TRUE(all_answered.wait_for(lock, std::chrono::seconds(10), [&] { return answered == kThreads * kEach; }));
  EXPECT_EQ(reserved, static_cast<int>(kCap));
  EXPECT_EQ(at_cap, kThreads * kEach - static_cast<int>(kCap));
  lock.unlock();
  // End one of them and reserve at once: the end was sent first, so there is a place.
  auto r = client_->command({"ZRANGE", "uholds:{7}", "0", "0"});
  ASSERT_TRUE(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
  holds_->end(7, std::stoll(std::string(r->element[0]->str, r->element[0]->len)));
  EXPECT_EQ(holds_->reserve(7, 99'999, t0_ + ttl_, kCap, t0_), Reserve::reserved);
}

TEST_F(RedisUserHoldsTest, AnUnreachableRedisAnswersUnknown) {
  RedisConfig dead = cfg_;
  dead.port = 1;  // nothing listens there
  dead.timeout = Millis(200);
  RedisClient unreachable(dead);
  RedisUserHolds holds(unreachable);
  EXPECT_EQ(holds.reserve(7, 1, t0_ + ttl_, 2, t0_), Reserve::unknown);
  holds.end(7, 1);  // nothing to tell: no throw
  // Marked down after the failed connection: the next answer comes without waiting for a timeout.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(holds.reserve(7, 2, t0_ + ttl_, 2, t0_), Reserve::unknown);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace ticketd::store::redis
