// SessionCache: what it answers, when it stops answering, and that an ended session is never put back
// by a read that started before the end.
#include "app/session_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ticketd::app {
namespace {

using namespace std::chrono_literals;

class RecordingBus final : public core::SessionBus {
 public:
  void token_ended(const std::string& token_hash) override { tokens.push_back(token_hash); }
  void user_changed(core::UserId user) override { users.push_back(user); }
  std::vector<std::string> tokens;
  std::vector<core::UserId> users;
};

core::User user(core::UserId id) {
  core::User u;
  u.id = id;
  u.email = "u" + std::to_string(id) + "@example.com";
  return u;
}

std::string hash(int n) { return std::string(63, 'a') + static_cast<char>('0' + n); }

struct SessionCacheTest : ::testing::Test {
  ManualClock clock{TimeMs(Millis(1'000'000))};
  RecordingBus bus;
  SessionCache cache{clock, SessionCacheConfig{1'600, 10'000ms}, &bus};
  TimeMs far() const { return clock.now() + 3'600'000ms; }
};

TEST_F(SessionCacheTest, AnswersUntilTheTtlOrTheSessionEndsWhicheverIsFirst) {
  cache.put(hash(1), user(1), far(), cache.generation());
  cache.put(hash(2), user(2), clock.now() + 4'000ms, cache.generation());
  ASSERT_TRUE(cache.find(hash(1)));
  EXPECT_EQ(cache.find(hash(1))->id, 1);
  clock.advance(4'000ms);
  EXPECT_FALSE(cache.find(hash(2))) << "the session expired before the TTL";
  EXPECT_TRUE(cache.find(hash(1)));
  clock.advance(6'000ms);
  EXPECT_FALSE(cache.find(hash(1))) << "the TTL bounds how long the store goes unasked";
  EXPECT_EQ(cache.stats().entries, 0u);
}

// The I/O thread looks first and, on a miss, a worker reads the store and looks again: the request is
// one miss, not two. A first look's hit is the request's only look, and counts.
TEST_F(SessionCacheTest, ARequestLookedUpTwiceCountsOneMiss) {
  EXPECT_FALSE(cache.find(hash(1), SessionCache::Look::before_another));
  EXPECT_FALSE(cache.find(hash(1)));
  EXPECT_EQ(cache.stats().misses_total, 1u);
  cache.put(hash(1), user(1), far(), cache.generation());
  EXPECT_TRUE(cache.find(hash(1), SessionCache::Look::before_another));
  EXPECT_TRUE(cache.find(hash(1)));
  EXPECT_EQ(cache.stats().hits_total, 2u);
  EXPECT_EQ(cache.stats().misses_total, 1u);
}

TEST_F(SessionCacheTest, EndingATokenForgetsItAndTellsTheOtherNodes) {
  cache.put(hash(1), user(1), far(), cache.generation());
  cache.put(hash(2), user(1), far(), cache.generation());
  cache.end_token(hash(1));
  EXPECT_FALSE(cache.find(hash(1)));
  EXPECT_TRUE(cache.find(hash(2)));
  EXPECT_EQ(bus.tokens, std::vector<std::string>{hash(1)});
}

TEST_F(SessionCacheTest, AChangedUserLosesEverySessionOnEveryShard) {
  for (int i = 0; i < 8; ++i) cache.put(hash(i), user(i < 6 ? 7 : 8), far(), cache.generation());
  cache.change_user(7);
  for (int i = 0; i < 6; ++i) EXPECT_FALSE(cache.find(hash(i))) << i;
  EXPECT_TRUE(cache.find(hash(6)));
  EXPECT_EQ(bus.users, std::vector<core::UserId>{7});
}

TEST_F(SessionCacheTest, NewsFromAnotherNodeForgetsWithoutEchoingIt) {
  cache.put(hash(1), user(1), far(), cache.generation());
  cache.put(hash(2), user(2), far(), cache.generation());
  cache.put(hash(3), user(3), far(), cache.generation());
  cache.token_ended_elsewhere(hash(1));
  cache.user_changed_elsewhere(2);
  EXPECT_FALSE(cache.find(hash(1)));
  EXPECT_FALSE(cache.find(hash(2)));
  EXPECT_TRUE(cache.find(hash(3)));
  cache.resync();
  EXPECT_FALSE(cache.find(hash(3)));
  EXPECT_TRUE(bus.tokens.empty());
  EXPECT_TRUE(bus.users.empty());
}

// The race of a read and a logout: the read saw the session in the store before the logout deleted
// it, and puts it after the logout forgot it. The put must not bring the session back.
TEST_F(SessionCacheTest, AReadThatStartedBeforeAnEndDoesNotPutTheSessionBack) {
  const uint64_t before_read = cache.generation();
  cache.end_token(hash(1));
  cache.put(hash(1), user(1), far(), before_read);
  EXPECT_FALSE(cache.find(hash(1)));
  const uint64_t before_other_read = cache.generation();
  cache.user_changed_elsewhere(1);
  cache.put(hash(1), user(1), far(), before_other_read);
  EXPECT_FALSE(cache.find(hash(1)));
  cache.put(hash(1), user(1), far(), cache.generation());
  EXPECT_TRUE(cache.find(hash(1)));
}

TEST_F(SessionCacheTest, StaysWithinItsBoundUnderAFloodOfSessions) {
  for (int i = 0; i < 20'000; ++i) cache.put("h" + std::to_string(i), user(i + 1), far(), cache.generation());
  EXPECT_LE(cache.stats().entries, 1'600u);
  EXPECT_TRUE(cache.find("h19999")) << "the newest entry is kept";
}

TEST(SessionCacheOff, ATtlOfZeroKeepsNothing) {
  ManualClock clock{TimeMs(Millis(1'000))};
  SessionCache cache{clock, SessionCacheConfig{1'600, 0ms}, nullptr};
  cache.put(hash(1), user(1), clock.now() + 60'000ms, cache.generation());
  EXPECT_FALSE(cache.find(hash(1)));
  cache.end_token(hash(1));  // no bus: nothing to tell
}

}  // namespace
}  // namespace ticketd::app
