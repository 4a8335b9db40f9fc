// HTTP/1.1 transport on Boost.Beast with C++20 coroutines, after Beast's
// example/http/server/awaitable and example/advanced/server.
//
// Shape: Core owns the io_context, the worker pool and the listening socket. Its accept loop runs on
// the control strand and only accepts; each connection becomes a Session (socket, buffer, parser) whose
// coroutine runs on its own strand and reads, dispatches and writes one request at a time. The Handler
// runs on the worker pool; the session coroutine awaits it and resumes on its strand.
//
// Threads and guards:
//   control strand  accept loop, acceptor, drain and back-off timers, signal_set, next_session_id_
//   session strand  everything in a Session (stream, buffer, parser, phase_)
//   sessions_mutex_ the registry stop() walks to close idle connections (no I/O under it)
//   atomics         counters, connections_, pending_, stopping_

// Asio fences its handler-memory recycling with std::atomic_thread_fence, which GCC 12 flags under
// -fsanitize=thread (-Wtsan: TSan cannot model fences) at inlining sites in this file, outside the
// system-header exemption; -Werror would fail the TSan build on third-party code.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/server.hpp"
#include "http/security_headers.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ticketd::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// I/O outcomes come back as values (error_code first), never as exceptions.
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// ---- Tuning constants -------------------------------------------------------------------------
// stop() gives in-flight requests this long before it cuts the remaining connections.
constexpr std::chrono::seconds drain_timeout{10};
// After a response with Connection: close we half-close and discard what the client still sends,
// bounded by these: closing a socket with unread input makes the kernel send RST, which can destroy
// the response (a 413 in particular) before the client reads it.
constexpr std::chrono::seconds linger_timeout{2};
constexpr size_t linger_bytes_max = size_t{256} * 1024;
// Beast reads at most this much per step; a connection's buffer holds up to header_bytes_max plus
// one step, and the parser refuses an oversized header before the buffer overflows.
constexpr size_t beast_read_step_bytes = size_t{64} * 1024;
// The read that waits for a new request is small, and a buffer grown past idle_buffer_bytes_max by
// an earlier large request is released while idle: 10,000 idle connections must stay cheap.
constexpr size_t idle_read_bytes = size_t{2} * 1024;
constexpr size_t idle_buffer_bytes_max = size_t{16} * 1024;
// A connection over connections_max gets a canned 503 under tighter bounds; past
// refusals_open_max concurrent refusals it is closed without a word (a flood must not buy memory).
constexpr std::chrono::seconds refusal_timeout{1};
constexpr size_t refusal_linger_bytes_max = size_t{16} * 1024;
constexpr size_t refusals_open_max = 64;
// accept() failures such as EMFILE repeat at once; pause instead of spinning a core on them.
constexpr std::chrono::milliseconds accept_error_backoff{50};
// stderr lines per second, so a hostile client or a broken handler cannot flood the log.
constexpr int log_lines_per_second_max = 20;
constexpr size_t log_field_bytes_max = 200;
// Config bounds.
constexpr int io_threads_max = 256;
constexpr int worker_threads_max = 1024;
constexpr size_t header_bytes_min = 256;  // a request line and a Host header must fit
static_assert(idle_read_bytes <= header_bytes_min + beast_read_step_bytes);
static_assert(idle_read_bytes <= idle_buffer_bytes_max);
static_assert(refusal_linger_bytes_max <= linger_bytes_max);

// Assertions stay on in release builds: a broken invariant here means a bug, not bad input.
[[noreturn]] void assert_failed(const char* expression, const char* file, int line) {
  std::fprintf(stderr, "ticketd http: assertion failed: %s at %s:%d\n", expression, file, line);
  std::abort();
}
#define HTTP_ASSERT(expression) ((expression) ? static_cast<void>(0) : assert_failed(#expression, __FILE__, __LINE__))

// ---- Small helpers ----------------------------------------------------------------------------

// Makes untrusted or multi-line text safe for one log line: no control characters, bounded length.
std::string one_line(std::string_view text) {
  std::string out(text.substr(0, log_field_bytes_max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > log_field_bytes_max) out += "...";
  return out;
}

// The query string may carry secrets (tokens, emails); logs get the path only.
std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

class LogLimiter {
 public:
  void line(const std::string& text) {
    uint64_t suppressed = 0;
    {
      std::lock_guard lock(mutex_);
      const Clock::time_point now = Clock::now();
      if (now - window_start_ >= std::chrono::seconds(1)) {
        window_start_ = now;
        lines_in_window_ = 0;
        suppressed = suppressed_;
        suppressed_ = 0;
      }
      if (lines_in_window_ >= log_lines_per_second_max) {
        ++suppressed_;
        return;
      }
      ++lines_in_window_;
    }
    // Printed outside the lock: no I/O while holding it.
    if (suppressed > 0) {
      std::fprintf(stderr, "ticketd http: %llu log lines suppressed\n", static_cast<unsigned long long>(suppressed));
    }
    std::fprintf(stderr, "ticketd http: %s\n", text.c_str());
  }

 private:
  std::mutex mutex_;  // guards the three fields below
  Clock::time_point window_start_{};
  int lines_in_window_ = 0;
  uint64_t suppressed_ = 0;
};

struct Counters {
  std::atomic<uint64_t> connections_accepted_total{0};
  std::atomic<uint64_t> connections_refused_total{0};
  std::atomic<uint64_t> requests_total{0};
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

// ---- Transport error responses ----------------------------------------------------------------

// REQUIRES: code and message need no JSON escaping (they are our own constants and numbers).
Response error_response(int status, std::string_view code, std::string_view message) {
  HTTP_ASSERT(code.find_first_of("\"\\") == std::string_view::npos);
  HTTP_ASSERT(message.find_first_of("\"\\") == std::string_view::npos);
  Response response;
  response.status = status;
  response.body.reserve(40 + code.size() + message.size());
  response.body.append(R"({"error":{"code":")").append(code);
  response.body.append(R"(","message":")").append(message).append(R"("}})");
  add_security_headers(response);  // the transport's own answers never pass the API layer's decorate()
  return response;
}

Response overloaded_response() {
  Response response = error_response(503, "overloaded", "server is overloaded, retry later");
  response.headers.push_back({"retry-after", "1"});
  return response;
}

Response internal_error_response() {
  return error_response(500, "internal", "internal error");
}

// Why the parser refused a request; each kind has its own answer and counter.
enum class Refusal { none, body_too_large, uri_too_long, headers_too_large, malformed };

// `target_bytes`: the target the parser had seen when it stopped (0 if the request line never ended).
Refusal classify_refusal(beast::error_code ec, size_t target_bytes, const ServerConfig& config) {
  if (ec == bhttp::error::body_limit) return Refusal::body_too_large;
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    // The parser has no target limit of its own. If the request line did not even end within
    // header_bytes_max (target still empty), or did end with a long target, the target is to blame.
    if (target_bytes == 0 || target_bytes > config.target_bytes_max) return Refusal::uri_too_long;
    return Refusal::headers_too_large;
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return Refusal::none;
  if (&ec.category() == &bhttp::make_error_code(bhttp::error::bad_method).category()) return Refusal::malformed;
  return Refusal::none;
}

// REQUIRES: refusal != Refusal::none.
Response refusal_response(Refusal refusal, const ServerConfig& config) {
  HTTP_ASSERT(refusal != Refusal::none);
  switch (refusal) {
    case Refusal::body_too_large:
      return error_response(413, "body_too_large",
                            "request body exceeds " + std::to_string(config.body_bytes_max) + " bytes");
    case Refusal::uri_too_long:
      return error_response(414, "uri_too_long",
                            "request target exceeds " + std::to_string(config.target_bytes_max) + " bytes");
    case Refusal::headers_too_large:
      return error_response(431, "headers_too_large",
                            "request headers exceed " + std::to_string(config.header_bytes_max) + " bytes");
    case Refusal::malformed:
    case Refusal::none:
      break;
  }
  return error_response(400, "bad_request", "malformed HTTP request");
}

using WireRequest = bhttp::request<bhttp::string_body>;

// The Request the layers above see: header names lower-cased, the body moved out of `message`.
Request to_request(WireRequest& message, const std::string& remote_address) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.push_back({lower_ascii(field.name_string()), std::string(field.value())});
  }
  request.body = std::move(message.body());
  request.remote_address = remote_address;
  return request;
}

// How a response travels: derived from the request it answers.
struct Framing {
  unsigned version = 11;    // 10 or 11
  bool head = false;        // HEAD: Content-Length of the body, but no body
  bool keep_alive = false;  // false: Connection: close, then the session closes
};

bool header_allowed(const Header& header) {
  if (header.name.empty()) return false;
  if (header.name.find_first_of(": \t\r\n") != std::string::npos) return false;
  if (header.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
  // The transport owns framing and its own identity.
  const std::string name = lower_ascii(header.name);
  return name != "content-length" && name != "transfer-encoding" && name != "connection" && name != "server";
}

using WireResponse = bhttp::response<bhttp::string_body>;

// REQUIRES: 200 <= response.status <= 599.
WireResponse to_wire(Response response, const Framing& framing) {
  HTTP_ASSERT(response.status >= 200 && response.status <= 599);
  WireResponse message;
  message.version(framing.version);
  message.result(static_cast<unsigned>(response.status));
  message.set(bhttp::field::server, "ticketd");
  // 204 and 304 carry no body and, by RFC 9110, no Content-Length describing one.
  const bool bodiless = response.status == 204 || response.status == 304;
  if (!response.content_type.empty() && !bodiless) {
    message.set(bhttp::field::content_type, response.content_type);
  }
  for (const Header& header : response.headers) {
    if (header_allowed(header)) message.insert(header.name, header.value);
  }
  if (!bodiless) {
    message.content_length(response.body.size());
    if (!framing.head) message.body() = std::move(response.body);
  }
  message.keep_alive(framing.keep_alive);
  return message;
}

// The TLS settings of the listener: TLS 1.2 and 1.3 only, the certificate chain and key read once at
// start. Throws std::runtime_error naming the file that could not be used.
std::unique_ptr<asio::ssl::context> make_tls_context(const ServerConfig& config) {
  if (config.tls_cert_file.empty()) return nullptr;
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  beast::error_code ec;
  context->use_certificate_chain_file(config.tls_cert_file, ec);
  if (ec) throw std::runtime_error("ticketd http: cannot use TLS certificate " + config.tls_cert_file + ": " + ec.message());
  context->use_private_key_file(config.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("ticketd http: cannot use TLS key " + config.tls_key_file + ": " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    throw std::runtime_error("ticketd http: TLS key " + config.tls_key_file + " does not match certificate " +
                             config.tls_cert_file);
  }
  return context;
}

// A connection's byte stream: plain TCP, or TLS over it when the listener has a certificate. Both
// offer Beast's AsyncStream interface, so the session code is one for either; deadlines
// (expires_after) always act on the TCP stream underneath, which TLS reads and writes go through.
class Connection {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  Connection(tcp::socket socket, asio::ssl::context* tls) : tcp_(std::move(socket)) {
    if (tls != nullptr) tls_.emplace(tcp_, *tls);
  }

  executor_type get_executor() { return tcp_.get_executor(); }
  bool secure() const { return tls_.has_value(); }
  beast::tcp_stream& socket_stream() { return tcp_; }

  // The same completion signature either way, so both branches return the same type.
  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return tcp_.async_read_some(buffers, std::forward<Token>(token));
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return tcp_.async_write_some(buffers, std::forward<Token>(token));
  }

  // TLS: the server handshake, under `timeout` (a client that connects and never speaks TLS must not
  // hold the connection). Plain TCP: nothing to do. False: close without a word.
  asio::awaitable<bool> start(Clock::duration timeout) {
    if (!tls_) co_return true;
    tcp_.expires_after(timeout);
    auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, as_result);
    co_return !ec;
  }

  // TLS: send close_notify and wait, under `timeout`, for the peer's, so a client reading to the end
  // of the stream sees a clean end rather than a truncation.
  asio::awaitable<void> close_notify(Clock::duration timeout) {
    if (!tls_) co_return;
    tcp_.expires_after(timeout);
    // Whatever the outcome (the peer's close_notify, EOF, a timeout), the connection closes next.
    co_await tls_->async_shutdown(as_result);
  }

 private:
  beast::tcp_stream tcp_;
  std::optional<asio::ssl::stream<beast::tcp_stream&>> tls_;  // over tcp_, declared after it
};

// Half-closes, then reads and discards what the peer still sends until it closes, `timeout` passes
// or `bytes_max` are read. See linger_timeout for why.
asio::awaitable<void> linger_close(beast::tcp_stream& stream, Clock::duration timeout, size_t bytes_max) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  stream.expires_after(timeout);
  std::array<char, 4096> scratch{};
  for (size_t drained = 0; drained < bytes_max;) {
    auto [read_ec, bytes] = co_await stream.async_read_some(asio::buffer(scratch), as_result);
    if (read_ec) co_return;
    drained += bytes;
  }
}

// The same for a session's connection. Over TLS the close_notify exchange does the
// same job: the peer has read the response by the time it answers.
asio::awaitable<void> linger_close(Connection& connection, Clock::duration timeout, size_t bytes_max) {
  if (connection.secure()) {
    co_await connection.close_notify(timeout);
    co_return;
  }
  co_await linger_close(connection.socket_stream(), timeout, bytes_max);
}

std::string config_error(const ServerConfig& config) {
  if (config.io_threads < 1 || config.io_threads > io_threads_max) {
    return "io_threads must be 1.." + std::to_string(io_threads_max);
  }
  if (config.worker_threads < 1 || config.worker_threads > worker_threads_max) {
    return "worker_threads must be 1.." + std::to_string(worker_threads_max);
  }
  if (config.pending_requests_max < 1) return "pending_requests_max must be at least 1";
  if (config.connections_max < 1) return "connections_max must be at least 1";
  if (config.header_bytes_max < header_bytes_min || config.header_bytes_max > std::numeric_limits<uint32_t>::max()) {
    return "header_bytes_max must be " + std::to_string(header_bytes_min) + "..4294967295";
  }
  if (config.target_bytes_max < 1) return "target_bytes_max must be at least 1";
  const auto zero = std::chrono::milliseconds::zero();
  if (config.read_timeout <= zero || config.idle_timeout <= zero || config.write_timeout <= zero) {
    return "read_timeout, idle_timeout and write_timeout must be positive";
  }
  if (config.stream_heartbeat <= zero) return "stream_heartbeat must be positive";
  if (config.streams_max < 1 || config.streams_max > config.connections_max)
    return "streams_max must be 1..connections_max";
  if (config.streams_per_ip_max < 1 || config.streams_per_ip_max > config.streams_max)
    return "streams_per_ip_max must be 1..streams_max";
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return "tls_cert_file and tls_key_file go together: give both or neither";
  }
  return {};
}

ServerConfig validated(ServerConfig config) {
  if (config.streams_max == 0) config.streams_max = std::max<size_t>(1, config.connections_max / 2);
  config.streams_per_ip_max = std::min(config.streams_per_ip_max, config.streams_max);
  const std::string error = config_error(config);
  if (!error.empty()) throw std::runtime_error("ticketd http: invalid config: " + error);
  return config;
}

class Session;

// ---- Core: listener, worker pool, lifecycle ---------------------------------------------------

class Core {
 public:
  Core(ServerConfig config, Handler handler);
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

// A request handed to the pool; it stops counting as pending once a worker picks it up.
asio::awaitable<Response> run_on_worker(Core& core, const Request& request) {
  core.release_pending();
  co_return core.invoke_handler(request);
}

// ---- Session: one connection ------------------------------------------------------------------

// Runs EventStream::next where it may block (a snapshot reads the store).
asio::awaitable<EventStream::Next> next_on_worker(Core& core, std::shared_ptr<EventStream> source, std::string& out) {
  core.release_pending();
  try {
    co_return source->next(out, true);
  } catch (const std::exception& e) {
    core.log("event stream failed: " + one_line(e.what()));
  }
  co_return EventStream::Next::end;
}

namespace {
// A peer that vanished without a FIN (a phone that lost its network) is found by TCP keepalive: first
// probe after 30 s idle, then every 10 s, given up after 3 (~60 s), instead of the kernel's 2 hours.
void tune_keepalive(tcp::socket& socket) {
  beast::error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.native_handle();
  const int idle_s = 30, interval_s = 10, probes = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}
}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Core& core, uint64_t id, tcp::socket socket, std::string remote_address, asio::ssl::context* tls)
      : core_(core),
        id_(id),
        remote_address_(std::move(remote_address)),
        stream_(std::move(socket), tls),
        // Holds at most an over-limit header plus one read; the parser refuses before it fills.
        buffer_(core.config().header_bytes_max + beast_read_step_bytes) {}

  static asio::awaitable<void> run(std::shared_ptr<Session> self);
  asio::any_io_executor executor() { return stream_.get_executor(); }

  // On the session's strand. stop() calls it: a connection waiting for (or in the middle of
  // receiving) a request is closed; one whose request is being handled finishes first.
  void cancel_if_reading() {
    if (phase_ == Phase::reading) stream_.socket_stream().cancel();
    if (phase_ == Phase::streaming) {
      if (wake_timer_) wake_timer_->cancel();
      stream_.socket_stream().cancel();
    }
  }

  // After the drain deadline. REQUIRES: no thread runs the io_context, so nothing else touches the
  // session (a finishing handler only queues the session's continuation, which never runs).
  void abort() { stream_.socket_stream().close(); }

 private:
  enum class Phase { reading, busy, streaming, closing };
  enum class ReadStatus { complete, refused, closed };

  asio::awaitable<void> serve();
  asio::awaitable<bool> wait_for_request();
  asio::awaitable<ReadStatus> read_request();
  asio::awaitable<bool> send_continue_if_expected();
  asio::awaitable<Response> dispatch(const Request& request);
  asio::awaitable<bool> write_response(Response response, Framing framing);
  asio::awaitable<void> stream_events(Response response, Framing framing);
  asio::awaitable<bool> write_stream_bytes(const std::string& bytes);
  asio::awaitable<void> watch_peer(std::shared_ptr<Session> self);
  ReadStatus read_failed(beast::error_code ec);
  std::optional<Response> refusal_for(beast::error_code ec);
  Request take_request();
  Framing framing_of_request() const;

  Core& core_;
  const uint64_t id_;
  const std::string remote_address_;
  Connection stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;  // fresh for every request
  std::optional<Response> refusal_;  // what read_request() answers a refused request with
  Phase phase_ = Phase::reading;
  asio::steady_timer* wake_timer_ = nullptr;  // while streaming: the idle wait a wake cuts short
  bool peer_gone_ = false;                     // while streaming: the client closed or reset
};

asio::awaitable<void> Session::run(std::shared_ptr<Session> self) {
  try {
    co_await self->serve();
  } catch (const std::exception& e) {
    self->core_.log("session " + std::to_string(self->id_) + " failed: " + one_line(e.what()));
  } catch (...) {
    self->core_.log("session " + std::to_string(self->id_) + " failed: unknown exception");
  }
  self->phase_ = Phase::closing;
  beast::error_code ec;
  self->stream_.socket_stream().socket().shutdown(tcp::socket::shutdown_both, ec);
  self->stream_.socket_stream().close();
  self->core_.session_finished(self->id_);
}

// The request loop. A streaming response (Server-Sent Events) ends it: stream_events() writes the
// head and then the events until the source ends, the client leaves or stop() cancels, and the
// connection closes.
asio::awaitable<void> Session::serve() {
  if (!co_await stream_.start(core_.config().read_timeout)) {
    core_.counters().tls_handshake_failures_total++;
    co_return;
  }
  for (;;) {
    if (!co_await wait_for_request()) co_return;
    const ReadStatus status = co_await read_request();
    if (status == ReadStatus::closed) co_return;
    if (status == ReadStatus::refused) {
      // After a parse error the position in the byte stream is unknown: answer, then close.
      HTTP_ASSERT(refusal_.has_value());
      if (co_await write_response(std::move(*refusal_), Framing{})) {
        phase_ = Phase::closing;
        co_await linger_close(stream_, linger_timeout, linger_bytes_max);
      }
      co_return;
    }
    Framing framing = framing_of_request();
    const Request request = take_request();
    Response response = co_await dispatch(request);
    if (response.stream && response.status == 200 && !framing.head) {
      if (std::optional<Response> refused = core_.try_reserve_stream(remote_address_)) {
        framing.keep_alive = false;  // the stream's own slot was refused: so is the connection's
        if (co_await write_response(std::move(*refused), framing)) {
          phase_ = Phase::closing;
          co_await linger_close(stream_, linger_timeout, linger_bytes_max);
        }
        co_return;
      }
      co_await stream_events(std::move(response), framing);
      core_.release_stream(remote_address_);
      co_return;
    }
    response.stream.reset();
    framing.keep_alive = framing.keep_alive && !core_.stopping();
    if (!co_await write_response(std::move(response), framing)) co_return;
    if (!framing.keep_alive) {
      phase_ = Phase::closing;
      co_await linger_close(stream_, linger_timeout, linger_bytes_max);
      co_return;
    }
  }
}

// Waits for the first byte of the next request under idle_timeout. False: close without a word
// (the peer closed, it idled too long, or stop() cancelled the wait).
asio::awaitable<bool> Session::wait_for_request() {
  phase_ = Phase::reading;
  // stop() may have come while this connection was busy; cancel_if_reading() ran too early for it.
  if (core_.stopping()) co_return false;
  if (buffer_.size() > 0) co_return true;  // a pipelined request is already here
  if (buffer_.capacity() > idle_buffer_bytes_max) buffer_.shrink_to_fit();
  stream_.socket_stream().expires_after(core_.config().idle_timeout);
  auto [ec, bytes] = co_await stream_.async_read_some(buffer_.prepare(idle_read_bytes), as_result);
  if (ec) co_return false;
  buffer_.commit(bytes);
  co_return true;
}

asio::awaitable<Session::ReadStatus> Session::read_request() {
  const ServerConfig& config = core_.config();
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(config.header_bytes_max));
  parser_->body_limit(config.body_bytes_max);
  // One deadline for the whole request, so a client trickling bytes (slowloris) cannot hold the
  // connection longer than read_timeout.
  stream_.socket_stream().expires_after(config.read_timeout);
  auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, as_result);
  if (header_ec) co_return read_failed(header_ec);
  if (parser_->get().target().size() > config.target_bytes_max) {
    core_.counters().requests_uri_too_long_total++;
    refusal_ = error_response(414, "uri_too_long",
                              "request target exceeds " + std::to_string(config.target_bytes_max) + " bytes");
    co_return ReadStatus::refused;
  }
  if (!co_await send_continue_if_expected()) co_return ReadStatus::closed;
  auto [body_ec, body_bytes] = co_await bhttp::async_read(stream_, buffer_, *parser_, as_result);
  if (body_ec) co_return read_failed(body_ec);
  HTTP_ASSERT(parser_->is_done());
  co_return ReadStatus::complete;
}

// Clients that sent "Expect: 100-continue" (curl does for bodies over 1 KiB) wait for this before
// sending the body. Written under the request's read deadline, which it is part of.
asio::awaitable<bool> Session::send_continue_if_expected() {
  const auto& message = parser_->get();
  if (message.version() < 11 || parser_->is_done()) co_return true;
  if (!beast::iequals(message[bhttp::field::expect], "100-continue")) co_return true;
  bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, 11};
  auto [ec, bytes] = co_await bhttp::async_write(stream_, go_on, as_result);
  co_return !ec;
}

Session::ReadStatus Session::read_failed(beast::error_code ec) {
  HTTP_ASSERT(ec);
  if (ec == beast::error::timeout) {
    core_.counters().read_timeouts_total++;
    return ReadStatus::closed;
  }
  std::optional<Response> refusal = refusal_for(ec);
  if (!refusal) return ReadStatus::closed;
  refusal_ = std::move(*refusal);
  return ReadStatus::refused;
}

// The answer to a request the parser refused, or nullopt when nobody is left to answer (the peer
// closed or reset, or stop() cancelled the read).
std::optional<Response> Session::refusal_for(beast::error_code ec) {
  const Refusal refusal = classify_refusal(ec, parser_->get().target().size(), core_.config());
  Counters& counters = core_.counters();
  switch (refusal) {
    case Refusal::none: return std::nullopt;
    case Refusal::body_too_large: counters.requests_body_too_large_total++; break;
    case Refusal::uri_too_long: counters.requests_uri_too_long_total++; break;
    case Refusal::headers_too_large: counters.requests_headers_too_large_total++; break;
    case Refusal::malformed: counters.requests_malformed_total++; break;
  }
  return refusal_response(refusal, core_.config());
}

Framing Session::framing_of_request() const {
  const auto& message = parser_->get();
  Framing framing;
  framing.version = message.version() >= 11 ? 11 : 10;
  framing.head = message.method() == bhttp::verb::head;
  framing.keep_alive = parser_->keep_alive();
  return framing;
}

Request Session::take_request() { return to_request(parser_->get(), remote_address_); }

asio::awaitable<Response> Session::dispatch(const Request& request) {
  phase_ = Phase::busy;
  if (!core_.try_reserve_pending()) {
    core_.counters().requests_overloaded_total++;
    co_return overloaded_response();
  }
  core_.counters().requests_total++;
  // Runs the handler on the pool; the completion brings this coroutine back to its own strand.
  auto [error, response] = co_await asio::co_spawn(core_.workers(), run_on_worker(core_, request), as_result);
  if (error) co_return internal_error_response();  // run_on_worker itself failed (out of memory)
  co_return std::move(response);
}

asio::awaitable<bool> Session::write_response(Response response, Framing framing) {
  phase_ = Phase::busy;
  if (response.status < 200 || response.status > 599) {
    core_.log("handler returned invalid status " + std::to_string(response.status) + "; sending 500");
    response = internal_error_response();
  }
  WireResponse message = to_wire(std::move(response), framing);
  stream_.socket_stream().expires_after(core_.config().write_timeout);
  auto [ec, bytes] = co_await bhttp::async_write(stream_, message, as_result);
  if (ec == beast::error::timeout) core_.counters().write_timeouts_total++;
  co_return !ec;
}

// One coroutine per stream, no thread: an idle subscriber costs this frame, a timer and its socket.
// The source wakes it through a post to the session's strand that cancels the idle wait.
asio::awaitable<void> Session::stream_events(Response response, Framing framing) {
  phase_ = Phase::streaming;
  const std::shared_ptr<EventStream> source = std::move(response.stream);
  bhttp::response<bhttp::empty_body> head;
  head.version(framing.version);
  head.result(bhttp::status::ok);
  head.set(bhttp::field::server, "ticketd");
  if (!response.content_type.empty()) head.set(bhttp::field::content_type, response.content_type);
  for (const Header& header : response.headers) {
    if (header_allowed(header)) head.insert(header.name, header.value);
  }
  head.keep_alive(false);  // no Content-Length: the body ends when the connection does
  bhttp::response_serializer<bhttp::empty_body> serializer(head);
  stream_.socket_stream().expires_after(core_.config().write_timeout);
  auto [head_ec, head_bytes] = co_await bhttp::async_write_header(stream_, serializer, as_result);
  if (head_ec) co_return;
  // Nothing more is read from this connection: give back the request buffer.
  buffer_.consume(buffer_.size());
  buffer_.shrink_to_fit();
  Counters& counters = core_.counters();
  counters.streams_open++;
  counters.streams_total++;
  asio::steady_timer timer(stream_.get_executor());
  wake_timer_ = &timer;
  tune_keepalive(stream_.socket_stream().socket());
  asio::co_spawn(executor(), watch_peer(shared_from_this()), asio::detached);
  const std::weak_ptr<Session> weak = weak_from_this();
  const auto wake = [weak] {
    std::shared_ptr<Session> self = weak.lock();
    if (!self) return;
    asio::post(self->executor(), [self] {
      if (self->wake_timer_) self->wake_timer_->cancel();
    });
  };
  std::string out;
  while (!core_.stopping()) {
    out.clear();
    EventStream::Next next = source->next(out, false);
    if (next == EventStream::Next::needs_worker) {
      if (!core_.try_reserve_pending()) {
        counters.requests_overloaded_total++;
        break;  // the client reconnects (with Last-Event-ID) when we are less busy
      }
      auto [error, result] = co_await asio::co_spawn(core_.workers(), next_on_worker(core_, source, out), as_result);
      next = error ? EventStream::Next::end : result;
    }
    if (next == EventStream::Next::end) break;
    if (next == EventStream::Next::data) {
      if (!co_await write_stream_bytes(out)) break;
      continue;
    }
    if (!source->arm(wake)) continue;
    if (peer_gone_) break;
    timer.expires_after(core_.config().stream_heartbeat);
    auto [wait_ec] = co_await timer.async_wait(as_result);
    if (core_.stopping() || peer_gone_) break;
    if (!wait_ec && !co_await write_stream_bytes(": hb\n\n")) break;  // idle: keep proxies from closing it
  }
  if (peer_gone_) counters.streams_peer_gone_total++;
  wake_timer_ = nullptr;
  // Ends the watcher's wait (it holds this session alive until it returns).
  beast::error_code ignored;
  stream_.socket_stream().socket().cancel(ignored);
  counters.streams_open--;
}

// While a stream is served nothing more is read, so a client that leaves would go unnoticed until a
// heartbeat write failed (up to stream_heartbeat, holding its slot). The socket turning readable
// (FIN, RST, or bytes an SSE client never sends) ends the stream at once. A reactor wait, not a read:
// it consumes nothing and runs beside the writes.
// `self` keeps the session (and its socket) alive until the wait returns.
asio::awaitable<void> Session::watch_peer(std::shared_ptr<Session> self) {
  auto [ec] = co_await self->stream_.socket_stream().socket().async_wait(tcp::socket::wait_read, as_result);
  if (ec == asio::error::operation_aborted) co_return;  // the stream ended first
  peer_gone_ = true;
  if (wake_timer_) wake_timer_->cancel();
}

asio::awaitable<bool> Session::write_stream_bytes(const std::string& bytes) {
  stream_.socket_stream().expires_after(core_.config().write_timeout);
  auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(bytes), as_result);
  if (ec == beast::error::timeout) core_.counters().write_timeouts_total++;
  co_return !ec;
}

// ---- Core implementation ----------------------------------------------------------------------

Core::Core(ServerConfig config, Handler handler)
    : config_(validated(std::move(config))),
      handler_(std::move(handler)),
      tls_(make_tls_context(config_)),
      ioc_(config_.io_threads),
      workers_(static_cast<size_t>(config_.worker_threads)),
      control_(asio::make_strand(ioc_)),
      acceptor_(control_),
      drain_timer_(control_),
      backoff_timer_(control_) {
  HTTP_ASSERT(handler_);
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
  HTTP_ASSERT(port_ != 0);
}

void Core::run() {
  HTTP_ASSERT(!ran_.exchange(true));
  asio::post(control_, [this] { start(); });
  std::vector<std::thread> io_threads;
  io_threads.reserve(static_cast<size_t>(config_.io_threads - 1));
  for (int i = 1; i < config_.io_threads; ++i) io_threads.emplace_back([this] { run_io(); });
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
    HTTP_ASSERT(erased == 1);
  }
  const size_t before = connections_.fetch_sub(1);
  HTTP_ASSERT(before > 0);
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
    Response r = error_response(429, "too_many_streams",
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
  HTTP_ASSERT(it != streams_by_address_.end() && it->second > 0 && streams_live_ > 0);
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
  HTTP_ASSERT(before > 0);
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
  counters_.handler_exceptions_total++;
  log("handler threw on " + one_line(request.method) + " " + one_line(path_of(request.target)) + ": " + one_line(what));
  return internal_error_response();
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
  stats.read_timeouts_total = counters_.read_timeouts_total.load();
  stats.write_timeouts_total = counters_.write_timeouts_total.load();
  stats.streams_open = counters_.streams_open.load();
  stats.streams_total = counters_.streams_total.load();
  stats.streams_refused_total = counters_.streams_refused_total.load();
  stats.streams_peer_gone_total = counters_.streams_peer_gone_total.load();
  stats.tls_handshake_failures_total = counters_.tls_handshake_failures_total.load();
  return stats;
}

}  // namespace

// ---- Server: the public face ------------------------------------------------------------------

struct Server::Impl {
  Impl(ServerConfig config, Handler handler) : core(std::move(config), std::move(handler)) {}
  Core core;
};

Server::Server(ServerConfig config, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(handler))) {}

Server::~Server() = default;

uint16_t Server::port() const {
  return impl_->core.port();
}

void Server::run() {
  impl_->core.run();
}

void Server::stop() {
  impl_->core.stop();
}

ServerStats Server::stats() const {
  return impl_->core.stats();
}

// The same parser, limits, refusals and conversion as Session::read_request and take_request, over
// bytes in memory instead of a socket.
ParsedRequest parse_request(std::string_view bytes, const ServerConfig& config) {
  ParsedRequest out;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(config.header_bytes_max));
  parser.body_limit(config.body_bytes_max);
  parser.eager(true);
  beast::error_code ec;
  std::string_view rest = bytes;
  bool target_checked = false;
  while (!parser.is_done()) {
    const size_t used = parser.put(asio::buffer(rest.data(), rest.size()), ec);
    HTTP_ASSERT(used <= rest.size());
    rest.remove_prefix(used);
    if (ec == bhttp::error::need_more) return out;  // incomplete: a Session would read on
    if (ec) {
      Refusal refusal = classify_refusal(ec, parser.get().target().size(), config);
      // Past the end of what a client sent, Session closes silently; bytes in memory have no peer,
      // so report every other parse error as the 400 a live peer would get.
      if (refusal == Refusal::none) refusal = Refusal::malformed;
      out.refusal = refusal_response(refusal, config);
      return out;
    }
    if (!target_checked && parser.is_header_done()) {
      target_checked = true;
      if (parser.get().target().size() > config.target_bytes_max) {
        out.refusal = refusal_response(Refusal::uri_too_long, config);
        return out;
      }
    }
    if (used == 0 && !parser.is_done()) return out;
  }
  out.bytes_consumed = bytes.size() - rest.size();
  out.keep_alive = parser.keep_alive();
  out.request = to_request(parser.get(), "127.0.0.1");
  return out;
}

}  // namespace ticketd::http
