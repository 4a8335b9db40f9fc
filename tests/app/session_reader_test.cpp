// SessionReader and Accounts::authenticate_async: sessions read for callers that must not block, in
// batches on the reader's thread, each caller answered (found, unknown, or Unavailable), none lost.
#include "app/session_reader.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "app/accounts.hpp"
#include "app/password.hpp"
#include "app/session_cache.hpp"

namespace ticketd::app {
namespace {

using namespace std::chrono_literals;
using Answer = core::Result<std::optional<core::SessionRecord>>;

// Sessions in a map. find_sessions() records each call's keys and, while `gate` is closed, holds the
// call on its way: the test decides when the store answers. What the reader never asks for throws.
class SessionStore final : public core::AccountStore {
 public:
  std::mutex mu;
  std::map<std::string, core::SessionRecord> sessions;
  std::vector<std::vector<std::string>> calls;
  std::atomic<bool> gate_open{true};
  std::atomic<bool> fail{false};

  std::vector<std::optional<core::SessionRecord>> find_sessions(const std::vector<std::string>& hashes) override {
    {
      std::lock_guard lock(mu);
      calls.push_back(hashes);
    }
    while (!gate_open) std::this_thread::sleep_for(1ms);
    if (fail) throw core::UnavailableError("the store is gone");
    std::vector<std::optional<core::SessionRecord>> out;
    for (const std::string& h : hashes) out.push_back(find_session(h));
    return out;
  }
  std::optional<core::SessionRecord> find_session(const std::string& hash) override {
    std::lock_guard lock(mu);
    auto it = sessions.find(hash);
    if (it == sessions.end()) return std::nullopt;
    return it->second;
  }
  size_t call_count() {
    std::lock_guard lock(mu);
    return calls.size();
  }

  core::Result<core::User> create_user(const std::string&, const std::string&, const std::string&, core::Role,
                                       TimeMs) override {
    throw std::logic_error("not used here");
  }
  core::Result<std::vector<core::UserId>> create_users_bulk(const std::vector<core::ProvisionedUser>&,
                                                            const std::string&, const std::string&, TimeMs,
                                                            TimeMs) override {
    throw std::logic_error("not used here");
  }
  std::optional<core::StoredUser> find_user_by_email(const std::string&) override {
    throw std::logic_error("not used here");
  }
  std::optional<core::User> find_user(core::UserId) override { throw std::logic_error("not used here"); }
  core::Status create_session(const std::string&, core::UserId, TimeMs) override {
    throw std::logic_error("not used here");
  }
  core::Status delete_session(const std::string&) override { throw std::logic_error("not used here"); }
  core::Status delete_sessions_of(core::UserId, const std::string&) override {
    throw std::logic_error("not used here");
  }
  core::Status set_password_hash(core::UserId, const std::string&, const std::string&) override {
    throw std::logic_error("not used here");
  }
  core::NotifyPrefs notify_prefs(core::UserId) override { throw std::logic_error("not used here"); }
  core::Status set_notify_prefs(core::UserId, const core::NotifyPrefs&) override {
    throw std::logic_error("not used here");
  }
};

core::SessionRecord session_of(core::UserId id, TimeMs expires_at) {
  core::SessionRecord r;
  r.user.id = id;
  r.user.email = "u" + std::to_string(id) + "@example.com";
  r.expires_at = expires_at;
  return r;
}

// The answers, as the reader's thread hands them out.
struct Answers {
  std::mutex mu;
  std::map<std::string, Answer> by_key;
  SessionReader::Done to(const std::string& key) {
    return [this, key](Answer a) {
      std::lock_guard lock(mu);
      by_key.emplace(key, std::move(a));
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return by_key.size();
  }
};

void wait_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
    std::this_thread::sleep_for(1ms);
  }
}

const TimeMs kLater = TimeMs(Millis(4'000'000'000'000));

TEST(SessionReaderTest, AnswersEachReadWithItsSessionOrNone) {
  SessionStore store;
  store.sessions["a"] = session_of(1, kLater);
  store.sessions["b"] = session_of(2, kLater);
  Answers answers;
  SessionReader reader(store);
  for (const char* key : {"a", "nope", "b"}) ASSERT_TRUE(reader.read(key, answers.to(key)));
  wait_until([&] { return answers.size() == 3; });
  std::lock_guard lock(answers.mu);
  ASSERT_TRUE(answers.by_key.at("a").ok());
  EXPECT_EQ(answers.by_key.at("a")->value().user.id, 1);
  ASSERT_TRUE(answers.by_key.at("b").ok());
  EXPECT_EQ(answers.by_key.at("b")->value().user.id, 2);
  ASSERT_TRUE(answers.by_key.at("nope").ok());
  EXPECT_FALSE(answers.by_key.at("nope")->has_value());
}

TEST(SessionReaderTest, ReadsQueuedWhileOneIsOnItsWayLeaveTogether) {
  SessionStore store;
  store.gate_open = false;
  Answers answers;
  SessionReader reader(store);
  ASSERT_TRUE(reader.read("k1", answers.to("k1")));
  wait_until([&] { return store.call_count() == 1; });
  for (const char* key : {"k2", "k3", "k4"}) ASSERT_TRUE(reader.read(key, answers.to(key)));
  store.gate_open = true;
  wait_until([&] { return answers.size() == 4; });
  std::lock_guard lock(store.mu);
  ASSERT_EQ(store.calls.size(), 2u);
  EXPECT_EQ(store.calls[1], (std::vector<std::string>{"k2", "k3", "k4"}));
}

TEST(SessionReaderTest, AStoreThatFailsAnswersEveryReadOfItsBatchUnavailable) {
  SessionStore store;
  store.fail = true;
  Answers answers;
  SessionReader reader(store);
  for (const char* key : {"a", "b"}) ASSERT_TRUE(reader.read(key, answers.to(key)));
  wait_until([&] { return answers.size() == 2; });
  std::lock_guard lock(answers.mu);
  for (const auto& [key, answer] : answers.by_key) {
    ASSERT_FALSE(answer.ok()) << key;
    EXPECT_EQ(answer.error().code, core::Code::Unavailable) << key;
  }
}

TEST(SessionReaderTest, RefusesAReadPastItsQueueAndAnswersEveryOneItTook) {
  SessionStore store;
  store.gate_open = false;
  std::atomic<size_t> answered{0};
  auto count = [&answered](Answer) { ++answered; };
  {
    SessionReader reader(store);
    ASSERT_TRUE(reader.read("first", count));
    wait_until([&] { return store.call_count() == 1; });  // on its way, no longer queued
    for (size_t i = 0; i < SessionReader::kQueuedMax; ++i) ASSERT_TRUE(reader.read("q" + std::to_string(i), count));
    EXPECT_FALSE(reader.read("one too many", count));
    store.gate_open = true;
  }  // destroyed: what was queued is answered first
  EXPECT_EQ(answered.load(), SessionReader::kQueuedMax + 1);
}

struct AuthenticateAsyncTest : ::testing::Test {
  ManualClock clock{TimeMs(Millis(1'000'000))};
  Metrics metrics;
  SessionStore store;
  SessionCache cache{clock, SessionCacheConfig{}, nullptr};
  Accounts accounts{store,   clock,   3'600'000ms, metrics,
                    nullptr, nullptr, &cache,      std::make_unique<SessionReader>(store)};

  std::optional<core::Result<core::User>> authenticate_async(const std::string& token) {
    std::mutex mu;
    std::optional<core::Result<core::User>> answer;
    const bool started = accounts.authenticate_async(token, [&](core::Result<core::User> user) {
      std::lock_guard lock(mu);
      answer = std::move(user);
    });
    EXPECT_TRUE(started);
    wait_until([&] {
      std::lock_guard lock(mu);
      return answer.has_value();
    });
    return answer;
  }
};

TEST_F(AuthenticateAsyncTest, ALiveSessionIsAnsweredAndKeptInTheCache) {
  store.sessions[token_hash("live-token")] = session_of(7, clock.now() + 60'000ms);
  EXPECT_FALSE(accounts.authenticate_cached("live-token").has_value());
  auto answer = authenticate_async("live-token");
  ASSERT_TRUE(answer && answer->ok());
  EXPECT_EQ((*answer)->id, 7);
  auto cached = accounts.authenticate_cached("live-token");
  ASSERT_TRUE(cached.has_value()) << "the next request of this buyer is answered from memory";
  EXPECT_EQ(cached->id, 7);
}

TEST_F(AuthenticateAsyncTest, AnUnknownOrExpiredTokenIsUnauthenticatedAndNotCached) {
  store.sessions[token_hash("old-token")] = session_of(8, clock.now() - 1ms);
  for (const char* token : {"no-such-token", "old-token"}) {
    auto answer = authenticate_async(token);
    ASSERT_TRUE(answer.has_value());
    ASSERT_FALSE(answer->ok()) << token;
    EXPECT_EQ(answer->error().code, core::Code::Unauthenticated) << token;
    EXPECT_FALSE(accounts.authenticate_cached(token).has_value()) << token;
  }
}

TEST(AuthenticateAsync, StartsNothingWithoutAReaderOrForATokenOfTheWrongShape) {
  ManualClock clock{TimeMs(Millis(1'000'000))};
  Metrics metrics;
  SessionStore store;
  SessionCache cache{clock, SessionCacheConfig{}, nullptr};
  Accounts without_reader{store, clock, 3'600'000ms, metrics, nullptr, nullptr, &cache};
  EXPECT_FALSE(without_reader.authenticate_async("a-token", [](core::Result<core::User>) {}));
  Accounts with_reader{store,   clock,   3'600'000ms, metrics,
                       nullptr, nullptr, &cache,      std::make_unique<SessionReader>(store)};
  EXPECT_FALSE(with_reader.authenticate_async(std::string(257, 't'), [](core::Result<core::User>) {}));
  EXPECT_EQ(store.call_count(), 0u);
}

}  // namespace
}  // namespace ticketd::app
