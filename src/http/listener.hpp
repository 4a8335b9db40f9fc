// Core: the listening socket and everything shared by the connections. It accepts on the control
// strand and admits each connection as a Session (or refuses it past connections_max), owns the
// worker pool the Handler runs on, the pending-request and stream slots, the counters behind
// ServerStats, and the lifecycle: run(), and the graceful stop() with its drain deadline.
// Thread safety: see server.cpp for which strand or guard covers each member.
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/error.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/log_limiter.hpp"
#include "http/message.hpp"
#include "http/server.hpp"

namespace ticketd::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

class Session;

// The counters behind ServerStats (see there for what each counts), bumped by Core and its sessions.
// Whether posting to the io_context is still allowed (see Core::reply_gate).
struct ReplyGate {
  std::shared_mutex mu;  // shared: a reply posting; unique: close()
  bool open = true;      // guarded by mu
  void close() {
    std::unique_lock lock(mu);
    open = false;
  }
};

struct Counters {
  std::atomic<uint64_t> connections_accepted_total{0};
  std::atomic<uint64_t> connections_refused_total{0};
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> requests_inline_total{0};
  std::atomic<uint64_t> requests_overloaded_total{0};
  std::atomic<uint64_t> requests_malformed_total{0};
  std::atomic<uint64_t> requests_body_too_large_total{0};
  std::atomic<uint64_t> requests_headers_too_large_total{0};
  std::atomic<uint64_t> requests_uri_too_long_total{0};
  std::atomic<uint64_t> handler_exceptions_total{0};
  std::atomic<uint64_t> read_timeouts_total{0};
  std::atomic<uint64_t> write_timeouts_total{0};
  std::atomic<uint64_t> streams_open{0};
  std::atomic<uint64_t> streams_total{0};
  std::atomic<uint64_t> streams_refused_total{0};
  std::atomic<uint64_t> streams_peer_gone_total{0};
  std::atomic<uint64_t> tls_handshake_failures_total{0};
};

// ---- Core: listener, worker pool, lifecycle ---------------------------------------------------

class Core {
 public:
  Core(ServerConfig config, Handler handler, InlineHandler answer_inline, Preparer prepare_inline);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  uint16_t port() const { return port_; }
  void run();
  void stop();
  ServerStats stats() const;

  // For sessions.
  const ServerConfig& config() const { return config_; }
  bool stopping() const { return stopping_.load(); }
  Counters& counters() { return counters_; }
  void log(const std::string& text) { log_.line(text); }
  asio::thread_pool::executor_type workers() { return workers_.get_executor(); }
  bool try_reserve_pending();
  void release_pending();
  // A stream slot for this client address: nullopt when granted (release_stream() at its end), else
  // the refusal to send (429 per address, 503 in all).
  std::optional<Response> try_reserve_stream(const std::string& remote_address);
  void release_stream(const std::string& remote_address);
  Response invoke_handler(const Request& request) noexcept;  // on a worker thread
  // On the session's I/O thread: whether the InlineHandler took the request (see message.hpp).
  bool answer_inline(Request& request, Reply reply) noexcept;
  bool prepares_inline() const { return static_cast<bool>(prepare_inline_); }
  // On the session's I/O thread: whether the Preparer started to make the request ready for
  // answer_inline (see message.hpp).
  bool prepare_inline(const Request& request, Ready ready) noexcept;
  // Counts and logs (one bounded line) a handler, inline handler or answer maker that threw.
  void handler_threw(std::string_view which, const Request& request, std::string_view what);
  // Replies from other threads post to sessions through this; closed when run() returns, so a late
  // reply (a commit completing during a forced stop) posts nothing to a stopped io_context.
  const std::shared_ptr<ReplyGate>& reply_gate() const { return reply_gate_; }
  void session_finished(uint64_t session_id);                // on the session's strand

 private:
  void listen();
  tcp::endpoint resolve_endpoint();
  void run_io() noexcept;
  void start();       // on the control strand
  void begin_stop();  // on the control strand
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> back_off(beast::error_code ec);
  void admit(tcp::socket socket);
  void refuse(tcp::socket socket);
  asio::awaitable<void> refuse_connection(tcp::socket socket);
  std::vector<std::shared_ptr<Session>> live_sessions();

  // Declared before the io_context so they outlive every session frame it destroys.
  const ServerConfig config_;
  const Handler handler_;
  const InlineHandler answer_inline_;  // may be empty
  const Preparer prepare_inline_;      // may be empty
  const std::shared_ptr<ReplyGate> reply_gate_ = std::make_shared<ReplyGate>();
  const std::unique_ptr<asio::ssl::context> tls_;  // null: plain TCP
  LogLimiter log_;
  Counters counters_;
  std::atomic<size_t> connections_{0};    // sessions alive; refusals not included
  std::atomic<size_t> refusals_open_{0};  // connections being refused right now
  std::atomic<size_t> pending_{0};        // dispatched requests no worker has taken yet
  std::mutex streams_mutex_;              // guards streams_by_address_ and streams_live_
  std::unordered_map<std::string, size_t> streams_by_address_;  // at most streams_max keys
  size_t streams_live_ = 0;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> stopping_{false};  // set on the control strand by begin_stop()
  std::atomic<bool> drain_forced_{false};
  std::atomic<bool> ran_{false};
  std::mutex sessions_mutex_;
  std::unordered_map<uint64_t, std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  uint64_t next_session_id_ = 1;                                   // control strand
  uint16_t port_ = 0;

  // Destroyed in reverse: timers and acceptor first, then the pool (joins its threads), then the
  // io_context, which destroys whatever session frames a forced stop left behind.
  asio::io_context ioc_;
  asio::thread_pool workers_;
  asio::strand<asio::io_context::executor_type> control_;
  tcp::acceptor acceptor_;
  asio::steady_timer drain_timer_;
  asio::steady_timer backoff_timer_;
  std::optional<asio::signal_set> signals_;
};

}  // namespace ticketd::http::detail
