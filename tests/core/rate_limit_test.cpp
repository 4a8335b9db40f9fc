// Token buckets and their bounded table, driven by a hand-set time.
#include "core/rate_limit.hpp"

#include <gtest/gtest.h>

using namespace ticketd;
using namespace ticketd::core;

namespace {
const TimeMs t0 = from_unix_ms(1'000'000);
TimeMs at(int64_t ms) {
  return t0 + Millis(ms);
}
}  // namespace

TEST(TokenBucket, NewClientGetsItsWholeBurstThenIsRefused) {
  const RateRule rule{1, 5};
  TokenBucket bucket(rule, t0);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.take(rule, t0).allowed) << i;
  const RateDecision refused = bucket.take(rule, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, Millis(1000));
}

TEST(TokenBucket, RefillsAtTheRateAndRetryAfterIsExact) {
  const RateRule rule{10, 1};  // one token per 100 ms
  TokenBucket bucket(rule, t0);
  EXPECT_TRUE(bucket.take(rule, t0).allowed);
  EXPECT_EQ(bucket.take(rule, at(40)).retry_after, Millis(60));
  EXPECT_FALSE(bucket.take(rule, at(99)).allowed);   // boundary - 1
  EXPECT_TRUE(bucket.take(rule, at(100)).allowed);   // boundary
  EXPECT_FALSE(bucket.take(rule, at(101)).allowed);  // the token just refilled is spent
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  const RateRule rule{100, 3};
  TokenBucket bucket(rule, t0);
  EXPECT_TRUE(bucket.full(rule, at(0)));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.take(rule, at(3'600'000)).allowed);
  EXPECT_FALSE(bucket.take(rule, at(3'600'000)).allowed);  // an hour of quiet still buys 3, not 360,000
}

TEST(TokenBucket, FractionalRatesWork) {
  const RateRule rule{0.5, 1};  // one token per 2 s
  TokenBucket bucket(rule, t0);
  EXPECT_TRUE(bucket.take(rule, t0).allowed);
  EXPECT_EQ(bucket.take(rule, t0).retry_after, Millis(2000));
  EXPECT_FALSE(bucket.take(rule, at(1999)).allowed);
  EXPECT_TRUE(bucket.take(rule, at(2000)).allowed);
}

TEST(TokenBucket, TimeGoingBackwardsNeitherRefillsNorDrains) {
  const RateRule rule{1, 2};
  TokenBucket bucket(rule, at(10'000));
  EXPECT_TRUE(bucket.take(rule, at(10'000)).allowed);
  EXPECT_TRUE(bucket.take(rule, at(5'000)).allowed);  // the second token of the burst
  const RateDecision refused = bucket.take(rule, at(0));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, Millis(1000));
  EXPECT_TRUE(bucket.take(rule, at(11'000)).allowed);  // refill counts from the latest time seen
}

TEST(TokenBucket, FullTellsWhenForgettingTheBucketChangesNothing) {
  const RateRule rule{1, 2};
  TokenBucket bucket(rule, t0);
  EXPECT_TRUE(bucket.take(rule, t0).allowed);
  EXPECT_FALSE(bucket.full(rule, at(999)));
  EXPECT_TRUE(bucket.full(rule, at(1000)));
}

TEST(TokenBucket, AnExpensiveRequestTakesItsCostAndWaitsForAllOfIt) {
  const RateRule rule{10, 20};  // 10 tokens a second, 20 at once
  TokenBucket bucket(rule, t0);
  EXPECT_TRUE(bucket.take(rule, t0, 15).allowed);
  const RateDecision refused = bucket.take(rule, t0, 10);  // 5 left: 5 more needed, 0.5 s
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, Millis(500));
  EXPECT_TRUE(bucket.take(rule, at(500), 10).allowed);
  // A cost above the burst is taken as the burst: it passes after a quiet period, never forever refused.
  EXPECT_TRUE(bucket.take(rule, at(500 + 2000), 1000).allowed);
  EXPECT_FALSE(bucket.take(rule, at(500 + 2000), 1).allowed);
}

TEST(RateRule, BoundsAreChecked) {
  EXPECT_TRUE(rate_rule_valid(RateRule{0, 0}));  // off
  EXPECT_TRUE(rate_rule_valid(RateRule{1, 1}));
  EXPECT_FALSE(rate_rule_valid(RateRule{1, 0.5}));  // a burst below one token refuses everything
  EXPECT_FALSE(rate_rule_valid(RateRule{-1, 5}));
  EXPECT_FALSE(rate_rule_valid(RateRule{rate_per_s_max + 1, 5}));
  EXPECT_FALSE(rate_rule_valid(RateRule{1, rate_burst_max + 1}));
}

TEST(RateLimitTable, KeysHaveSeparateBuckets) {
  RateLimitTable table(10);
  const RateRule rule{1, 1};
  EXPECT_TRUE(table.take(1, rule, t0).allowed);
  EXPECT_FALSE(table.take(1, rule, t0).allowed);
  EXPECT_TRUE(table.take(2, rule, t0).allowed);
  EXPECT_EQ(table.size(), 2u);
}

TEST(RateLimitTable, StaysWithinKeysMaxByEvictingTheLeastRecentlyUsed) {
  RateLimitTable table(3);
  const RateRule rule{1, 1};
  for (uint64_t key = 1; key <= 3; ++key) EXPECT_TRUE(table.take(key, rule, t0).allowed);
  EXPECT_FALSE(table.take(1, rule, t0).allowed);  // key 1 is now the most recently used; 2 the least
  EXPECT_TRUE(table.take(4, rule, t0).allowed);   // evicts 2
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.evictions(), 1u);
  EXPECT_FALSE(table.take(1, rule, t0).allowed);  // kept: still limited
  EXPECT_FALSE(table.take(3, rule, t0).allowed);  // kept
  EXPECT_TRUE(table.take(2, rule, t0).allowed);   // forgotten: a fresh bucket (lenient, never stricter)
  EXPECT_EQ(table.size(), 3u);
}

TEST(RateLimitTable, AFloodOfNewKeysNeverGrowsTheTable) {
  RateLimitTable table(100);
  const RateRule rule{1, 1};
  for (uint64_t key = 0; key < 100'000; ++key) table.take(key, rule, t0);
  EXPECT_EQ(table.size(), 100u);
  EXPECT_EQ(table.evictions(), 100'000u - 100u);
}
