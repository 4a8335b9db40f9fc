// Forwarded holds batched per owner (cluster/forward_batches.hpp) against a real HTTP server on
// loopback that answers batches as an owner does: calls that come while batches are out travel
// together, each hears its own answer, and every way a batch can go wrong reaches each of its calls.
#include "cluster/forward_batches.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../http/running_server.hpp"
#include "peer_support.hpp"

namespace ticketd::cluster {
namespace {

using namespace std::chrono_literals;
using test_support::RunningServer;
using namespace test_peers;

// An owner of holds: a hold's answer is a hold whose id is the caller's user id; a release, null (as
// when the owner would have had to block). It counts requests and calls, and the most batches it had
// at once; each batch waits `delay`, and while `gated`, until open_gate().
struct FakeOwner {
  std::chrono::milliseconds delay{0};
  std::mutex mu;
  std::condition_variable cv;
  bool gated = false;
  int requests = 0, calls = 0, at_once = 0, at_once_max = 0;

  http::Response answer(const http::Request& request) {
    http::Response response;
    response.content_type = "application/json";
    if (request.target != call_path(Call::batch)) {
      response.status = 404;
      return response;
    }
    auto batch = decode_batch(request.body);
    if (!batch) {
      response.status = 400;
      return response;
    }
    {
      std::unique_lock lock(mu);
      ++requests;
      calls += static_cast<int>(batch->size());
      at_once_max = std::max(at_once_max, ++at_once);
      cv.wait(lock, [&] { return !gated; });
    }
    std::this_thread::sleep_for(delay);
    std::vector<std::optional<std::string>> answers;
    for (const BatchedCall& c : *batch) {
      if (c.call == Call::release) {
        answers.emplace_back(std::nullopt);
        continue;
      }
      core::Hold h;
      h.id = c.args.user_id;
      h.event_id = c.args.event_id;
      h.user_id = c.args.user_id;
      answers.emplace_back(encode_answer(core::Result<core::Hold>(h)));
    }
    {
      std::lock_guard lock(mu);
      --at_once;
    }
    response.body = encode_batch_answer(answers);
    return response;
  }
  void open_gate() {
    std::lock_guard lock(mu);
    gated = false;
    cv.notify_all();
  }
};

std::string hold_args(core::UserId user) {
  CallArgs a;
  a.event_id = 7;
  a.user_id = user;
  a.hold.user_id = user;
  a.hold.seats = {static_cast<core::SeatId>(user)};
  return encode_args(Call::hold, a);
}

// Collects each call's answer by the user it was for.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<core::UserId, ForwardBatches::Answer>> got;

  ForwardBatches::Done sink(core::UserId user) {
    return [this, user](ForwardBatches::Answer a) {
      std::lock_guard lock(mu);
      got.emplace_back(user, std::move(a));
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::milliseconds within = 20s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, within, [&] { return got.size() >= n; });
  }
};

TEST(ForwardBatches, CallsThatComeWhileBatchesAreOutTravelTogether) {
  FakeOwner owner;
  owner.delay = 20ms;
  RunningServer server(server_config(), [&](const http::Request& r) { return owner.answer(r); });
  PeerClient client(config());
  ForwardBatches batches(client, nullptr);
  Answers answers;
  constexpr int kThreads = 4, kCallsEach = 150;
  std::vector<std::thread> senders;
  for (int t = 0; t < kThreads; ++t)
    senders.emplace_back([&, t] {
      for (int i = 1; i <= kCallsEach; ++i) {
        const core::UserId user = t * 1000 + i;
        batches.send(address_of(server), std::nullopt, Call::hold, hold_args(user), answers.sink(user));
      }
    });
  for (std::thread& s : senders) s.join();
  ASSERT_TRUE(answers.wait_for(kThreads * kCallsEach));
  for (const auto& [user, a] : answers.got) {
    ASSERT_EQ(a.kind, ForwardBatches::Answer::Kind::decided) << a.batch.error;
    ASSERT_TRUE(a.hold && a.hold->ok());
    EXPECT_EQ((*a.hold)->id, user);  // each call its own answer
  }
  client.stop_async();
  std::lock_guard lock(owner.mu);
  EXPECT_EQ(owner.calls, kThreads * kCallsEach);
  EXPECT_LE(owner.at_once_max, static_cast<int>(ForwardBatches::kBatchesInFlightMax));
  // 600 calls sent faster than a 20 ms batch returns: a few dozen requests at most carry them.
  EXPECT_LT(owner.requests, 60) << owner.requests << " requests for " << owner.calls << " calls";
}

TEST(ForwardBatches, ACallTheOwnerDidNotDecideIsToBeSentAlone) {
  FakeOwner owner;
  RunningServer server(server_config(), [&](const http::Request& r) { return owner.answer(r); });
  PeerClient client(config());
  ForwardBatches batches(client, nullptr);
  Answers answers;
  CallArgs release;
  release.hold_id = 9;
  release.user_id = 1;
  batches.send(address_of(server), std::nullopt, Call::release, encode_args(Call::release, release), answers.sink(1));
  ASSERT_TRUE(answers.wait_for(1));
  EXPECT_EQ(answers.got[0].second.kind, ForwardBatches::Answer::Kind::alone);
  client.stop_async();
}

TEST(ForwardBatches, AnOwnerWithoutBatchesHasEachCallSentAlone) {
  RunningServer server(server_config(), [](const http::Request&) {
    http::Response r;
    r.status = 404;
    return r;
  });
  PeerClient client(config());
  ForwardBatches batches(client, nullptr);
  Answers answers;
  for (core::UserId u = 1; u <= 3; ++u)
    batches.send(address_of(server), std::nullopt, Call::hold, hold_args(u), answers.sink(u));
  ASSERT_TRUE(answers.wait_for(3));
  for (const auto& [user, a] : answers.got) EXPECT_EQ(a.kind, ForwardBatches::Answer::Kind::alone) << user;
  client.stop_async();
}

TEST(ForwardBatches, ABatchWithoutAnAnswerFailsEachOfItsCalls) {
  RunningServer server(server_config(), [](const http::Request& request) {
    http::Response r;
    r.content_type = "application/json";
    if (request.body.find("\"user_id\":2") != std::string::npos) {
      r.body = "<html>a proxy's page</html>";  // 200, but not an answer
      return r;
    }
    r.status = 500;
    return r;
  });
  PeerClient client(config());
  ForwardBatches batches(client, nullptr);
  Answers answers;
  batches.send(address_of(server), std::nullopt, Call::hold, hold_args(1), answers.sink(1));
  ASSERT_TRUE(answers.wait_for(1));
  batches.send(address_of(server), std::nullopt, Call::hold, hold_args(2), answers.sink(2));
  ASSERT_TRUE(answers.wait_for(2));
  batches.send("127.0.0.1:" + std::to_string(closed_port()), std::nullopt, Call::hold, hold_args(3), answers.sink(3));
  ASSERT_TRUE(answers.wait_for(3));
  const ForwardBatches::Answer& http500 = answers.got[0].second;
  EXPECT_EQ(http500.kind, ForwardBatches::Answer::Kind::failed);
  EXPECT_EQ(http500.batch.kind, PeerAnswer::Kind::answered);
  EXPECT_EQ(http500.batch.status, 500);
  const ForwardBatches::Answer& foreign = answers.got[1].second;  // decided, as a single call's would be
  EXPECT_EQ(foreign.kind, ForwardBatches::Answer::Kind::decided);
  ASSERT_TRUE(foreign.hold.has_value());
  ASSERT_FALSE(foreign.hold->ok());
  EXPECT_EQ(foreign.hold->error().code, core::Code::Unavailable);
  const ForwardBatches::Answer& refused = answers.got[2].second;
  EXPECT_EQ(refused.kind, ForwardBatches::Answer::Kind::failed);
  EXPECT_EQ(refused.batch.kind, PeerAnswer::Kind::refused);
  client.stop_async();
}

TEST(ForwardBatches, CallsWaitingForOneOwnerAreBounded) {
  FakeOwner owner;
  owner.gated = true;  // the first batches wait at the owner until the test lets them go
  RunningServer server(server_config(), [&](const http::Request& r) { return owner.answer(r); });
  PeerClient client(config());
  ForwardBatches batches(client, nullptr);
  Answers answers;
  const size_t sent = ForwardBatches::kBatchesInFlightMax + ForwardBatches::kWaitingMax + 1;
  for (size_t u = 1; u <= sent; ++u)
    batches.send(address_of(server), std::nullopt, Call::hold, hold_args(static_cast<core::UserId>(u)),
                 answers.sink(static_cast<core::UserId>(u)));
  // The first kBatchesInFlightMax left alone, the next kWaitingMax wait; the last is refused at once.
  ASSERT_TRUE(answers.wait_for(1, 5s));
  {
    std::lock_guard lock(answers.mu);
    ASSERT_EQ(answers.got.size(), 1u);
    EXPECT_EQ(answers.got[0].first, static_cast<core::UserId>(sent));
    EXPECT_EQ(answers.got[0].second.kind, ForwardBatches::Answer::Kind::failed);
    EXPECT_EQ(answers.got[0].second.batch.kind, PeerAnswer::Kind::busy);
  }
  owner.open_gate();
  ASSERT_TRUE(answers.wait_for(sent));
  size_t decided = 0;
  for (const auto& [user, a] : answers.got) decided += a.kind == ForwardBatches::Answer::Kind::decided;
  EXPECT_EQ(decided, sent - 1);
  client.stop_async();
  std::lock_guard lock(owner.mu);
  // kWaitingMax calls in batches of at most kBatchedCallsMax, after the first ones.
  EXPECT_LE(owner.requests,
            static_cast<int>(ForwardBatches::kBatchesInFlightMax + ForwardBatches::kWaitingMax / kBatchedCallsMax + 1));
}

TEST(ForwardBatches, StoppingTheClientFailsWhatWaits) {
  FakeOwner owner;
  owner.gated = true;
  RunningServer server(server_config(), [&](const http::Request& r) { return owner.answer(r); });
  PeerClient client(config());
  ForwardBatches batches(client, nullptr);
  Answers answers;
  for (core::UserId u = 1; u <= 50; ++u)
    batches.send(address_of(server), std::nullopt, Call::hold, hold_args(u), answers.sink(u));
  std::thread stopper([&] { client.stop_async(); });
  ASSERT_TRUE(answers.wait_for(50));
  stopper.join();
  owner.open_gate();
  for (const auto& [user, a] : answers.got) EXPECT_EQ(a.kind, ForwardBatches::Answer::Kind::failed) << user;
}

}  // namespace
}  // namespace ticketd::cluster
