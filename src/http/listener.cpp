// Core (see listener.hpp): binding, the accept loop, admission and refusal of connections, the
// pending-request and stream slots, the Handler call, and run/stop/drain.

// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/listener.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <csignal>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

#include "base/assert.hpp"
#include "base/thread_name.hpp"
#include "http/connection.hpp"
#include "http/server_config.hpp"
#include "http/session.hpp"
#include "http/wire.hpp"

namespace ticketd::http::detail {

namespace {

// stop() gives in-flight requests this long before it cuts the remaining connections.
constexpr std::chrono::seconds drain_timeout{10};
// A connection over connections_max gets a canned 503 under tighter bounds; past
// refusals_open_max concurrent refusals it is closed without a word (a flood must not buy memory).
constexpr std::chrono::seconds refusal_timeout{1};
constexpr size_t refusal_linger_bytes_max = size_t{16} * 1024;
constexpr size_t refusals_open_max = 64;
// accept() failures such as EMFILE repeat at once; pause instead of spinning a core on them.
constexpr std::chrono::milliseconds accept_error_backoff{50};
static_assert(refusal_linger_bytes_max <= linger_bytes_max);

}  // namespace

Core::Core(ServerConfig config, Handler handler, InlineHandler answer_inline, Preparer prepare_inline)
    : config_(validated(std::move(config))),
      handler_(std::move(handler)),
      answer_inline_(std::move(answer_inline)),
      prepare_inline_(std::move(prepare_inline)),
      tls_(make_tls_context(config_)),
      ioc_(config_.io_threads),
      workers_(static_cast<size_t>(config_.worker_threads)),
      control_(asio::make_strand(ioc_)),
      acceptor_(control_),
      drain_timer_(control_),
      backoff_timer_(control_) {
  TICKETD_ASSERT(handler_);
  listen();
  if (config_.handle_signals) signals_.emplace(control_, SIGINT, SIGTERM);
}

tcp::endpoint Core::resolve_endpoint() {
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(config_.host, ec);
  if (!ec) return {address, config_.port};
  tcp::resolver resolver(ioc_);
  const auto results = resolver.resolve(config_.host, std::to_string(config_.port),
                                        tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    throw std::runtime_error("ticketd http: cannot resolve " + config_.host + ": " +
                             (ec ? ec.message() : std::string("no address")));
  }
  return results.begin()->endpoint();
}

void Core::listen() {
  const tcp::endpoint endpoint = resolve_endpoint();
  const std::string where = config_.host + ":" + std::to_string(config_.port);
  beast::error_code ec;
  const auto check = [&](const char* step) {
    if (ec) throw std::runtime_error("ticketd http: cannot " + std::string(step) + " " + where + ": " + ec.message());
  };
  acceptor_.open(endpoint.protocol(), ec);
  check("open a socket for");
  // Restarting must not wait out TIME_WAIT of the previous process's connections.
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  check("set SO_REUSEADDR on");
  acceptor_.bind(endpoint, ec);
  check("bind");
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  check("listen on");
  port_ = acceptor_.local_endpoint(ec).port();
  check("read the port of");
  TICKETD_ASSERT(port_ != 0);
}

// ---- Lifecycle: run, stop, drain --------------------------------------------------------------

void Core::run() {
  TICKETD_ASSERT(!ran_.exchange(true));
  asio::post(control_, [this] { start(); });
  std::vector<std::thread> io_threads;
  io_threads.reserve(static_cast<size_t>(config_.io_threads - 1));
  for (int i = 1; i < config_.io_threads; ++i)
    io_threads.emplace_back([this, i] {
      name_this_thread("io-" + std::to_string(i));  // the calling thread keeps its name: it is the process's
      run_io();
    });
  run_io();
  for (std::thread& thread : io_threads) thread.join();
  // Clean drain: no handler call is left, join returns at once. Forced: the clients see their
  // connections close now rather than when the Server is destroyed, queued handler calls are
  // dropped, and one still running keeps us here until it returns (a thread cannot be cut short).
  if (drain_forced_.load()) {
    for (const std::shared_ptr<Session>& session : live_sessions()) session->abort();
    workers_.stop();
  }
  workers_.join();
  // Replies still to come (a commit completing after a forced stop) post nothing from now on.
  reply_gate_->close();
}

void Core::run_io() noexcept {
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      log("io thread caught: " + one_line(e.what()));
    } catch (...) {
      log("io thread caught an unknown exception");
    }
  }
}

// Starts accepting and listening for signals, unless stop() came first (both run on the strand).
void Core::start() {
  if (stopping_.load()) return;
  asio::co_spawn(control_, accept_loop(), [this](const std::exception_ptr& error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log("accept loop failed: " + one_line(e.what()));
    } catch (...) {
      log("accept loop failed: unknown exception");
    }
  });
  if (!signals_) return;
  signals_->async_wait([this](beast::error_code ec, int signal_number) {
    if (ec) return;  // cancelled by stop()
    log("signal " + std::to_string(signal_number) + ": stopping");
    stop();
  });
}

void Core::stop() {
  if (stop_requested_.exchange(true)) return;
  asio::post(control_, [this] { begin_stop(); });
}

void Core::begin_stop() {
  stopping_.store(true);
  beast::error_code ec;
  acceptor_.close(ec);
  backoff_timer_.cancel();
  if (signals_) signals_->cancel(ec);
  for (std::shared_ptr<Session>& session : live_sessions()) {
    asio::post(session->executor(), [session] { session->cancel_if_reading(); });
  }
  // Pairs with session_finished(): whichever of the two sees the other's write cancels or skips the
  // timer, so run() never waits out the deadline for connections that are already gone.
  if (connections_.load() == 0) return;
  drain_timer_.expires_after(drain_timeout);
  drain_timer_.async_wait([this](beast::error_code wait_ec) {
    if (wait_ec) return;  // cancelled: every connection finished in time
    drain_forced_.store(true);
    log("drain deadline passed with " + std::to_string(connections_.load()) + " connections open; cutting them");
    ioc_.stop();
  });
}

// ---- Accepting: admission and refusal ---------------------------------------------------------

asio::awaitable<void> Core::accept_loop() {
  while (!stopping_.load()) {
    tcp::socket socket(asio::make_strand(ioc_));
    auto [ec] = co_await acceptor_.async_accept(socket, as_result);
    if (stopping_.load()) co_return;  // the acceptor is closed; an accepted socket closes with us
    if (ec) {
      co_await back_off(ec);
      continue;
    }
    admit(std::move(socket));
  }
}

asio::awaitable<void> Core::back_off(beast::error_code ec) {
  log("accept failed: " + ec.message());
  backoff_timer_.expires_after(accept_error_backoff);
  co_await backoff_timer_.async_wait(as_result);
}

void Core::admit(tcp::socket socket) {
  beast::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;  // the peer is gone already
  // Only this strand adds connections, so the check cannot race another admission.
  if (connections_.load() >= config_.connections_max) {
    refuse(std::move(socket));
    return;
  }
  // Responses go out in one write each; Nagle would only delay the small ones (and SSE events).
  socket.set_option(tcp::no_delay(true), ec);
  connections_++;
  counters_.connections_accepted_total++;
  const uint64_t id = next_session_id_++;
  auto session = std::make_shared<Session>(*this, id, std::move(socket), peer.address().to_string(), tls_.get());
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.emplace(id, session);
  }
  asio::any_io_executor executor = session->executor();
  asio::co_spawn(executor, Session::run(std::move(session)), asio::detached);
}

void Core::refuse(tcp::socket socket) {
  counters_.connections_refused_total++;
  if (refusals_open_.load() >= refusals_open_max) return;  // closed silently as `socket` goes
  // A TLS client cannot read a plain-text 503, and a handshake would spend the CPU the limit is
  // there to save: close at once.
  if (tls_) return;
  refusals_open_++;
  asio::any_io_executor executor = socket.get_executor();
  asio::co_spawn(executor, refuse_connection(std::move(socket)), asio::detached);
}

asio::awaitable<void> Core::refuse_connection(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  WireResponse message = to_wire(overloaded_response(), Framing{});
  stream.expires_after(refusal_timeout);
  auto [ec, bytes] = co_await bhttp::async_write(stream, message, as_result);
  if (!ec) co_await linger_close(stream, refusal_timeout, refusal_linger_bytes_max);
  refusals_open_--;
}

// ---- Sessions, slots and the Handler ----------------------------------------------------------

std::vector<std::shared_ptr<Session>> Core::live_sessions() {
  std::vector<std::shared_ptr<Session>> sessions;
  std::lock_guard lock(sessions_mutex_);
  sessions.reserve(sessions_.size());
  for (const auto& [id, weak] : sessions_) {
    if (std::shared_ptr<Session> session = weak.lock()) sessions.push_back(std::move(session));
  }
  return sessions;
}

void Core::session_finished(uint64_t session_id) {
  {
    std::lock_guard lock(sessions_mutex_);
    const size_t erased = sessions_.erase(session_id);
    TICKETD_ASSERT(erased == 1);
  }
  const size_t before = connections_.fetch_sub(1);
  TICKETD_ASSERT(before > 0);
  if (before == 1 && stopping_.load()) {
    asio::post(control_, [this] { drain_timer_.cancel(); });
  }
}

std::optional<Response> Core::try_reserve_stream(const std::string& remote_address) {
  std::lock_guard lock(streams_mutex_);
  if (streams_live_ >= config_.streams_max) {
    counters_.streams_refused_total++;
    return overloaded_response();
  }
  size_t& mine = streams_by_address_[remote_address];
  if (mine >= config_.streams_per_ip_max) {
    counters_.streams_refused_total++;
    Response r = transport_error(HttpError::too_many_streams,
                                "at most " + std::to_string(config_.streams_per_ip_max) +
                                    " live streams per client address; close one first");
    r.headers.push_back({"retry-after", "5"});
    return r;
  }
  ++mine;
  ++streams_live_;
  return std::nullopt;
}

void Core::release_stream(const std::string& remote_address) {
  std::lock_guard lock(streams_mutex_);
  auto it = streams_by_address_.find(remote_address);
  TICKETD_ASSERT(it != streams_by_address_.end() && it->second > 0 && streams_live_ > 0);
  if (--it->second == 0) streams_by_address_.erase(it);
  --streams_live_;
}

bool Core::try_reserve_pending() {
  if (pending_.fetch_add(1) < config_.pending_requests_max) return true;
  pending_.fetch_sub(1);
  return false;
}

void Core::release_pending() {
  const size_t before = pending_.fetch_sub(1);
  TICKETD_ASSERT(before > 0);
}

Response Core::invoke_handler(const Request& request) noexcept {
  std::string what;
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  handler_threw("handler", request, what);
  return internal_error_response();
}

void Core::handler_threw(std::string_view which, const Request& request, std::string_view what) {
  counters_.handler_exceptions_total++;
  log(std::string(which) + " threw on " + one_line(request.method) + " " + one_line(path_of(request.target)) + ": " +
      one_line(what));
}

bool Core::prepare_inline(const Request& request, Ready ready) noexcept {
  std::string what;
  try {
    return prepare_inline_(request, std::move(ready));
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  handler_threw("inline preparer", request, what);
  return false;  // the Handler answers it, as without a Preparer (a `ready` it kept is ignored)
}

bool Core::answer_inline(Request& request, Reply reply) noexcept {
  if (!answer_inline_) return false;
  std::string what;
  try {
    return answer_inline_(request, reply);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "unknown exception";
  }
  handler_threw("inline handler", request, what);
  // Whatever the handler did with `reply` before it threw, this answer is the first or is dropped.
  reply([] { return internal_error_response(); });
  return true;
}

ServerStats Core::stats() const {
  ServerStats stats;
  stats.connections_open = connections_.load();
  stats.connections_accepted_total = counters_.connections_accepted_total.load();
  stats.connections_refused_total = counters_.connections_refused_total.load();
  stats.requests_total = counters_.requests_total.load();
  stats.requests_overloaded_total = counters_.requests_overloaded_total.load();
  stats.requests_malformed_total = counters_.requests_malformed_total.load();
  stats.requests_body_too_large_total = counters_.requests_body_too_large_total.load();
  stats.requests_headers_too_large_total = counters_.requests_headers_too_large_total.load();
  stats.requests_uri_too_long_total = counters_.requests_uri_too_long_total.load();
  stats.handler_exceptions_total = counters_.handler_exceptions_total.load();
  stats.requests_inline_total = counters_.requests_inline_total.load();
  stats.read_timeouts_total = counters_.read_timeouts_total.load();
  stats.write_timeouts_total = counters_.write_timeouts_total.load();
  stats.streams_open = counters_.streams_open.load();
  stats.streams_total = counters_.streams_total.load();
  stats.streams_refused_total = counters_.streams_refused_total.load();
  stats.streams_peer_gone_total = counters_.streams_peer_gone_total.load();
  stats.tls_handshake_failures_total = counters_.tls_handshake_failures_total.load();
  return stats;
}

}  // namespace ticketd::http::detail
