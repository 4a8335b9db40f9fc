// A real http::Server on its own thread for the transport tests (server_test.cpp, tls_test.cpp), and
// the config they start from:
// stopped and joined when the test ends. No timing assertion: the bound on run() returning only keeps
// a broken build from hanging CI.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>
#include <utility>

#include "http/server.hpp"

namespace ticketd::test_support {

using http::Handler;
using http::InlineHandler;
using http::Preparer;
using http::Server;
using http::ServerConfig;

inline constexpr std::chrono::seconds run_return_timeout{30};

// An ephemeral port, no signal handling (the test process owns SIGINT), small thread counts.
inline ServerConfig test_config() {
  ServerConfig config;
  config.port = 0;
  config.handle_signals = false;
  config.io_threads = 2;
  config.worker_threads = 4;
  return config;
}

class RunningServer {
 public:
  RunningServer(ServerConfig config, Handler handler, InlineHandler answer_inline = {}, Preparer prepare_inline = {})
      : server_(std::move(config), std::move(handler), std::move(answer_inline), std::move(prepare_inline)) {
    done_ = finished_.get_future();
    thread_ = std::thread([this] {
      server_.run();
      finished_.set_value();
    });
  }
  ~RunningServer() {
    server_.stop();
    if (!thread_.joinable()) return;
    if (done_.wait_for(run_return_timeout) != std::future_status::ready) die_hung();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  Server& server() { return server_; }
  uint16_t port() const { return server_.port(); }

  // Calls stop() and reports whether run() returned within the (generous) bound.
  bool stop_and_wait_for_run_to_return() {
    server_.stop();
    if (done_.wait_for(run_return_timeout) != std::future_status::ready) return false;
    thread_.join();
    return true;
  }

 private:
  // A run() that never returns cannot be joined or destroyed safely; end the process loudly instead
  // of hanging CI.
  [[noreturn]] static void die_hung() {
    std::fprintf(stderr, "FATAL: Server::run() did not return after stop()\n");
    std::_Exit(1);
  }

  Server server_;
  std::promise<void> finished_;
  std::future<void> done_;
  std::thread thread_;
};

}  // namespace ticketd::test_support
