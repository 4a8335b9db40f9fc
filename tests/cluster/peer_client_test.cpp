// The peer client's calls (cluster/peer_client.hpp) against a real HTTP server on loopback: what each
// kind of answer means, and that the asynchronous calls run at once on the client's own thread.
#include "cluster/peer_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
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

// Answers 403 without the peer key; "/slow" after 2 s; anything else echoes the body.
http::Response answer(const http::Request& request) {
  http::Response response;
  response.content_type = "application/json";
  if (request.header("x-ticketd-peer-key") != kKey) {
    response.status = 403;
    return response;
  }
  if (request.target == "/slow") std::this_thread::sleep_for(2s);
  response.body = request.body;
  return response;
}

// Collects the answers of asynchronous calls, and the threads that handed them over.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<PeerAnswer> got;
  std::set<std::thread::id> threads;

  PeerClient::AnswerDone sink() {
    return [this](PeerAnswer a) {
      std::lock_guard lock(mu);
      got.push_back(std::move(a));
      threads.insert(std::this_thread::get_id());
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::milliseconds within = 10s) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, within, [&] { return got.size() >= n; });
  }
};

TEST(PeerClient, AsynchronousCallsAreAnsweredOnTheClientsThread) {
  RunningServer server(server_config(), answer);
  PeerClient client(config());
  Answers answers;
  constexpr int kCalls = 200;  // far more than connections_max: the rest wait for a connection
  for (int i = 0; i < kCalls; ++i)
    client.post_async(address_of(server), "/echo", "{\"call\":" + std::to_string(i) + "}", std::nullopt,
                      answers.sink());
  ASSERT_TRUE(answers.wait_for(kCalls));
  std::set<std::string> bodies;
  for (const PeerAnswer& a : answers.got) {
    EXPECT_EQ(a.kind, PeerAnswer::Kind::answered) << a.error;
    EXPECT_EQ(a.status, 200);
    bodies.insert(a.body);
  }
  EXPECT_EQ(bodies.size(), size_t{kCalls});  // each its own answer
  EXPECT_TRUE(bodies.count("{\"call\":0}"));
  EXPECT_TRUE(bodies.count("{\"call\":199}"));
  ASSERT_EQ(answers.threads.size(), 1u);
  EXPECT_NE(*answers.threads.begin(), std::this_thread::get_id());
}

TEST(PeerClient, BlockingAndAsynchronousCallsSayTheSame) {
  RunningServer server(server_config(), answer);
  PeerClient client(config());
  const PeerAnswer blocking = client.post(address_of(server), "/echo", "{\"a\":1}");
  Answers answers;
  client.post_async(address_of(server), "/echo", "{\"a\":1}", std::nullopt, answers.sink());
  ASSERT_TRUE(answers.wait_for(1));
  EXPECT_EQ(blocking.kind, PeerAnswer::Kind::answered);
  EXPECT_EQ(answers.got[0].kind, blocking.kind);
  EXPECT_EQ(answers.got[0].status, blocking.status);
  EXPECT_EQ(answers.got[0].body, blocking.body);
  // The key is sent: a client with another one is refused by the server.
  PeerConfig other = config();
  other.key = "another-key-0123456789";
  PeerClient stranger(other);
  Answers refused;
  stranger.post_async(address_of(server), "/echo", "{}", std::nullopt, refused.sink());
  ASSERT_TRUE(refused.wait_for(1));
  EXPECT_EQ(refused.got[0].status, 403);
}

TEST(PeerClient, NothingListeningIsRefusedAndNoAnswerInTimeFailed) {
  RunningServer server(server_config(), answer);
  PeerClient client(config());
  Answers answers;
  client.post_async("127.0.0.1:" + std::to_string(closed_port()), "/echo", "{}", std::nullopt, answers.sink());
  ASSERT_TRUE(answers.wait_for(1));
  EXPECT_EQ(answers.got[0].kind, PeerAnswer::Kind::refused);
  client.post_async(address_of(server), "/slow", "{}", 200ms, answers.sink());
  ASSERT_TRUE(answers.wait_for(2));
  EXPECT_EQ(answers.got[1].kind, PeerAnswer::Kind::failed);
  EXPECT_FALSE(answers.got[1].error.empty());
  EXPECT_TRUE(answers.got[1].body.empty());
}

TEST(PeerClient, StoppingEndsTheCallsInFlightAndRefusesNewOnes) {
  RunningServer server(server_config(), answer);
  PeerClient client(config());
  Answers answers;
  for (int i = 0; i < 3; ++i) client.post_async(address_of(server), "/slow", "{}", std::nullopt, answers.sink());
  std::this_thread::sleep_for(100ms);  // sent, not answered: the server takes 2 s
  const auto before = std::chrono::steady_clock::now();
  client.stop_async();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1500ms);  // the 2 s answers were not awaited
  ASSERT_EQ(answers.got.size(), 3u);                             // stop_async returned after every callback ran
  for (const PeerAnswer& a : answers.got) EXPECT_EQ(a.kind, PeerAnswer::Kind::failed);
  // After the stop: answered at once, on this thread, not sent.
  client.post_async(address_of(server), "/echo", "{}", std::nullopt, answers.sink());
  ASSERT_EQ(answers.got.size(), 4u);
  EXPECT_EQ(answers.got[3].kind, PeerAnswer::Kind::busy);
  EXPECT_TRUE(answers.threads.count(std::this_thread::get_id()));
  client.stop_async();  // again: nothing
  // The blocking calls do not depend on the asynchronous ones.
  EXPECT_EQ(client.post(address_of(server), "/echo", "{}").status, 200);
}

TEST(PeerClient, AClientNeverCalledAsynchronouslyStopsWithoutAThread) {
  PeerClient client(config());
  client.stop_async();
  Answers answers;
  client.post_async("127.0.0.1:1", "/echo", "{}", std::nullopt, answers.sink());
  ASSERT_EQ(answers.got.size(), 1u);
  EXPECT_EQ(answers.got[0].kind, PeerAnswer::Kind::busy);
}

}  // namespace
}  // namespace ticketd::cluster
