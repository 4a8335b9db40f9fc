// Each user's live holds across nodes in Redis (store/redis/user_holds.hpp), against a real Redis
// (scripts/services): the cap, lapses, ends, pins, and an unreachable Redis answering "unknown".
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

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

TEST_F(RedisUserHoldsTest, AnUnreachableRedisAnswersUnknown) {
  RedisConfig dead = cfg_;
  dead.port = 1;  // nothing listens there
  dead.timeout = Millis(200);
  RedisClient unreachable(dead);
  RedisUserHolds holds(unreachable);
  EXPECT_EQ(holds.reserve(7, 1, t0_ + ttl_, 2, t0_), Reserve::unknown);
  holds.end(7, 1);  // nothing to tell: no throw
}

}  // namespace
}  // namespace ticketd::store::redis
