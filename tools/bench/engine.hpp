// The load generator's engine: T threads, each running its own io_context, and W worker coroutines
// spread over them round-robin. A worker owns one keep-alive Connection and records into its
// thread's Recorder, so the hot path takes no lock. Scenarios share only atomics (and a mutex around
// the rare acknowledged-booking list).
//
// Latency: `call` measures from `intended` when given (open loop: the time the request *should* have
// been sent, so a stalled server cannot hide its stall by slowing the generator down — the
// coordinated-omission correction), otherwise from the actual send.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "client.hpp"
#include "stats.hpp"

namespace ticketd::bench {

inline constexpr size_t kThreadsMax = 64;
inline constexpr size_t kWorkersMax = 10'000;  // each is a socket; ticketd refuses beyond 10,000

struct Worker {
  size_t index = 0;
  boost::asio::io_context& io;
  Connection conn;
  Recorder& rec;
  std::mt19937_64 rng;

  // Sends one request and records it under `op`. A 4xx whose outcome key ("409 seat_unavailable") is
  // one of the '|'-separated keys in `expected` counts as a refusal the scenario expects, any other
  // non-2xx as a failure. (A string, not an initializer_list: GCC 12 miscompiles braced arrays
  // held across co_await.)
  boost::asio::awaitable<Reply> call(Op op, const RequestSpec& spec, std::string_view expected = {},
                                     std::optional<SteadyTime> intended = std::nullopt);
  boost::asio::awaitable<void> sleep_until(SteadyTime t);
  uint64_t uniform(uint64_t below) { return std::uniform_int_distribution<uint64_t>(0, below - 1)(rng); }
};

class Engine {
 public:
  // Workers connect to the endpoints round-robin (several ticketd nodes behind no balancer).
  Engine(std::vector<boost::asio::ip::tcp::endpoint> endpoints, size_t threads, uint64_t seed);
  // Runs `body` on `workers` workers until every one returns. Recorders keep accumulating across calls.
  void run(size_t workers, const std::function<boost::asio::awaitable<void>(Worker&)>& body);
  // Every thread's recorder merged.
  Recorder merged() const;
  SteadyTime start() const { return start_; }

 private:
  std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
  size_t threads_;
  uint64_t seed_;
  SteadyTime start_;
  std::vector<std::unique_ptr<boost::asio::io_context>> ios_;
  std::vector<std::unique_ptr<Recorder>> recorders_;
  uint64_t runs_ = 0;
};

}  // namespace ticketd::bench
