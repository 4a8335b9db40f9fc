#include "base/read_batches.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace ticketd {
namespace {

using Keys = std::vector<std::string>;

// A fetch that records the keys of each call and, while `gate` is closed, keeps its first call on its
// way: the test decides when the store answers.
struct Store {
  std::mutex mu;
  std::vector<Keys> calls;
  std::atomic<bool> gate_open{false};
  std::atomic<bool> fail{false};

  std::vector<std::optional<int>> fetch(const Keys& keys) {
    {
      std::lock_guard lock(mu);
      calls.push_back(keys);
    }
    while (!gate_open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (fail) throw std::runtime_error("the store is gone");
    std::vector<std::optional<int>> out;
    for (const std::string& k : keys)
      out.push_back(k.starts_with("no") ? std::nullopt : std::optional<int>(std::stoi(k)));
    return out;
  }
  size_t call_count() {
    std::lock_guard lock(mu);
    return calls.size();
  }
};

void wait_until(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(ReadBatchesTest, AReadAloneLeavesAtOnce) {
  Store store;
  store.gate_open = true;
  ReadBatches<int> reads(1, 8, [&](const Keys& k) { return store.fetch(k); });
  EXPECT_EQ(reads.read("7"), 7);
  EXPECT_EQ(reads.read("no-such"), std::nullopt);
  ASSERT_EQ(store.calls.size(), 2u);
  EXPECT_EQ(store.calls[0], Keys{"7"});
}

TEST(ReadBatchesTest, ReadsThatComeWhileOneIsOnItsWayLeaveTogetherInTheOrderTheyCame) {
  Store store;
  ReadBatches<int> reads(1, 3, [&](const Keys& k) { return store.fetch(k); });
  std::vector<std::optional<int>> got(8);
  std::vector<std::thread> threads;
  threads.emplace_back([&] { got[0] = reads.read("0"); });
  wait_until([&] { return store.call_count() == 1; });  // "0" is on its way, alone
  for (int i = 1; i < 8; ++i) {
    threads.emplace_back([&, i] { got[i] = reads.read(i == 5 ? "no-5" : std::to_string(i)); });
    wait_until([&] { return reads.waiting() == static_cast<size_t>(i); });  // one at a time: a known order
  }
  store.gate_open = true;
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], i == 5 ? std::nullopt : std::optional<int>(i)) << i;
  // keys_max 3: the seven that waited leave as three batches, first come first.
  ASSERT_EQ(store.calls.size(), 4u);
  EXPECT_EQ(store.calls[1], (Keys{"1", "2", "3"}));
  EXPECT_EQ(store.calls[2], (Keys{"4", "no-5", "6"}));
  EXPECT_EQ(store.calls[3], Keys{"7"});
  EXPECT_EQ(reads.waiting(), 0u);
}

TEST(ReadBatchesTest, AFailedFetchReachesEveryCallerOfItsBatchAndTheNextReadsGoOn) {
  Store store;
  store.fail = true;
  ReadBatches<int> reads(1, 8, [&](const Keys& k) { return store.fetch(k); });
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  auto read_expecting_failure = [&](std::string key) {
    try {
      (void)reads.read(key);
    } catch (const std::runtime_error&) {
      ++failures;
    }
  };
  threads.emplace_back(read_expecting_failure, "1");
  wait_until([&] { return store.call_count() == 1; });
  threads.emplace_back(read_expecting_failure, "2");
  threads.emplace_back(read_expecting_failure, "3");
  wait_until([&] { return reads.waiting() == 2; });
  store.gate_open = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 3);
  EXPECT_EQ(store.call_count(), 2u);
  store.fail = false;
  EXPECT_EQ(reads.read("4"), 4);
}

TEST(ReadBatchesTest, ManyCallersAtOnceEachGetTheirOwnAnswerFetchedOnce) {
  Store store;
  store.gate_open = true;
  ReadBatches<int> reads(2, 64, [&](const Keys& k) { return store.fetch(k); });
  constexpr int kThreads = 16, kReadsEach = 500;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kReadsEach; ++i) {
        const int key = t * kReadsEach + i;
        if (reads.read(std::to_string(key)) != key) ++wrong;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  size_t keys = 0;
  for (const Keys& k : store.calls) keys += k.size();
  EXPECT_EQ(keys, static_cast<size_t>(kThreads * kReadsEach));
}

}  // namespace
}  // namespace ticketd
