#include "engine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <exception>
#include <thread>

namespace ticketd::bench {

namespace asio = boost::asio;

namespace {
bool listed(std::string_view keys, std::string_view key) {
  while (!keys.empty()) {
    const size_t bar = keys.find('|');
    if (keys.substr(0, bar) == key) return true;
    if (bar == std::string_view::npos) break;
    keys.remove_prefix(bar + 1);
  }
  return false;
}
}  // namespace

asio::awaitable<Reply> Worker::call(Op op, const RequestSpec& spec, std::string_view expected,
                                    std::optional<SteadyTime> intended) {
  const SteadyTime sent = intended.value_or(std::chrono::steady_clock::now());
  Reply r = co_await conn.request(spec);
  const SteadyTime done = std::chrono::steady_clock::now();
  const std::string outcome = outcome_of(r.status, r.body);
  rec.record(op, sent, done, r.status, outcome, !outcome.empty() && listed(expected, outcome));
  co_return r;
}

asio::awaitable<void> Worker::sleep_until(SteadyTime t) {
  if (t <= std::chrono::steady_clock::now()) co_return;
  asio::steady_timer timer(io, t);
  co_await timer.async_wait(asio::use_awaitable);
}

Engine::Engine(std::vector<asio::ip::tcp::endpoint> endpoints, size_t threads, uint64_t seed)
    : endpoints_(std::move(endpoints)), threads_(threads), seed_(seed), start_(std::chrono::steady_clock::now()) {
  TICKETD_ASSERT(threads >= 1 && threads <= kThreadsMax);
  TICKETD_ASSERT(!endpoints_.empty());
  for (size_t t = 0; t < threads; ++t) {
    ios_.push_back(std::make_unique<asio::io_context>(1));
    recorders_.push_back(std::make_unique<Recorder>(start_));
  }
}

void Engine::run(size_t workers, const std::function<asio::awaitable<void>(Worker&)>& body) {
  TICKETD_ASSERT(workers >= 1 && workers <= kWorkersMax);
  ++runs_;
  std::vector<std::unique_ptr<Worker>> ws;
  ws.reserve(workers);
  for (size_t w = 0; w < workers; ++w) {
    const size_t t = w % threads_;
    ws.push_back(
        std::make_unique<Worker>(Worker{w, *ios_[t], Connection(*ios_[t], endpoints_[w % endpoints_.size()]),
                                        *recorders_[t], std::mt19937_64(seed_ * 1'000'003 + runs_ * 10'007 + w)}));
  }
  for (auto& w : ws) {
    asio::co_spawn(w->io, body(*w), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "ticket-bench: worker failed: %s\n", ex.what());
      }
      std::abort();  // a bug in the generator: its figures would be meaningless
    });
  }
  std::vector<std::thread> threads;
  for (size_t t = 0; t < threads_; ++t)
    threads.emplace_back([io = ios_[t].get()] {
      io->restart();
      io->run();
    });
  for (auto& th : threads) th.join();
}

Recorder Engine::merged() const {
  Recorder out(start_);
  for (const auto& r : recorders_) out.merge(*r);
  return out;
}

}  // namespace ticketd::bench
