// The HTTP/1.1 transport: accepts connections, reads requests, runs the Handler on a worker pool and
// writes responses. It knows nothing about routes or JSON beyond its own error bodies; see message.hpp
// for the values it exchanges with the layers above. Boost stays behind the pimpl (server.cpp).
//
// Behaviour past each limit in ServerConfig is explicit: the client gets a JSON error
// {"error":{"code":"...","message":"..."}} and, for malformed or oversized requests, the connection is
// closed; each refusal increments a counter in ServerStats.
//
// Thread safety: stop(), port() and stats() may be called from any thread at any time. run() is called
// once, from one thread. The destructor REQUIRES that run() has returned or was never called.
//
// Invariants:
//   1. At most connections_max connections are served at once; one more is answered 503 and closed.
//   2. At most pending_requests_max requests wait for a worker; one more is answered 503.
//   3. Per connection, requests are read, handled and answered one at a time, in order.
//   4. The Handler never runs on an I/O thread; the InlineHandler only does.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ticketd::http {

struct ServerConfig {
  std::string host = "127.0.0.1";      // IP literal or name; resolved once, in the constructor
  uint16_t port = 8080;                // 0 = pick a free port; Server::port() tells which
  int io_threads = 2;                  // accept/read/write threads (one per core); 1..256
  int worker_threads = 32;             // threads that run Handler (they may block on disk); 1..1024
  size_t pending_requests_max = 4096;  // requests waiting for a worker; beyond -> 503 overloaded + Retry-After: 1
  size_t body_bytes_max = 1 << 20;     // -> 413 body_too_large
  size_t header_bytes_max = size_t{16} * 1024;  // request line + headers; -> 431 headers_too_large
  size_t target_bytes_max = size_t{8} * 1024;   // -> 414 uri_too_long
  size_t connections_max = 10000;               // beyond -> answer 503 overloaded and close (never an unbounded accept)
  std::chrono::milliseconds read_timeout{30000};   // a request must arrive completely within this (slowloris)
  std::chrono::milliseconds idle_timeout{60000};   // keep-alive connection idle limit
  std::chrono::milliseconds write_timeout{30000};  // a response must be written within this
  std::chrono::milliseconds stream_heartbeat{15000};  // idle streams get a comment line this often (proxies)
  // Streams (SSE) hold a connection for minutes: their own share of connections_max, and a share per
  // client address, so one client cannot take the slots every other client needs. Past either: the
  // request is answered 429 too_many_streams (per address) or 503 overloaded (in all), and closed.
  size_t streams_max = 0;            // <= connections_max; 0: half of connections_max
  size_t streams_per_ip_max = 16;    // a browser keeps one per open event page; lowered to streams_max
  bool handle_signals = true;                      // SIGINT/SIGTERM -> graceful stop()
  // TLS on the listener (TLS 1.2+), for deployments without a terminating proxy: PEM files, both or
  // neither. Empty: plain HTTP. The handshake runs under read_timeout.
  std::string tls_cert_file;  // certificate chain, leaf first
  std::string tls_key_file;   // its private key
};

// Counters since construction, for /metrics. Each is read atomically; the set is not a snapshot.
struct ServerStats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted_total = 0;
  uint64_t connections_refused_total = 0;         // over connections_max: 503 and close
  uint64_t requests_total = 0;                    // requests given to the Handler
  uint64_t requests_inline_total = 0;             // requests answered on the I/O thread (InlineHandler)
  uint64_t requests_overloaded_total = 0;         // over pending_requests_max: 503
  uint64_t requests_malformed_total = 0;          // 400 bad_request
  uint64_t requests_body_too_large_total = 0;     // 413
  uint64_t requests_headers_too_large_total = 0;  // 431
  uint64_t requests_uri_too_long_total = 0;       // 414
  uint64_t handler_exceptions_total = 0;          // Handler threw: 500
  uint64_t read_timeouts_total = 0;               // a started request did not arrive within read_timeout
  uint64_t write_timeouts_total = 0;              // a response was not taken within write_timeout
  uint64_t streams_open = 0;                      // streaming responses (SSE) being served
  uint64_t streams_total = 0;
  uint64_t streams_refused_total = 0;             // over streams_max or streams_per_ip_max
  uint64_t streams_peer_gone_total = 0;           // ended because the client left (seen at once, not at a heartbeat)
  uint64_t tls_handshake_failures_total = 0;      // TLS clients that did not complete a handshake
};

class Server {
 public:
  // Binds and listens immediately, so port() is valid before run(). Throws std::runtime_error with a
  // message naming host:port on bind/listen failure or an invalid config (caught by main).
  // answer_inline may be empty: every request goes to the worker pool. prepare_inline may be empty: a
  // request answer_inline passed goes to the Handler at once.
  Server(ServerConfig config, Handler handler, InlineHandler answer_inline = {}, Preparer prepare_inline = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;

  // Blocks until stopped; runs io_threads I/O threads (this one included) and the worker pool.
  // REQUIRES: called at most once.
  void run();

  // Thread-safe, idempotent; may be called before, during or after run(). Graceful: stops accepting,
  // closes connections waiting for a request, lets in-flight requests finish and their responses be
  // written (with Connection: close), then run() returns. After a 10 s drain deadline the remaining
  // connections are cut; a Handler call still running then delays run() until it returns.
  void stop();

  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One request parsed from bytes in memory exactly as a Session parses it off a socket (same parser,
// limits and refusals), for the fuzzer and tests: no sockets, no threads. One of three outcomes:
// `request` (complete; bytes_consumed says where a pipelined next request would start), `refusal`
// (what the client would be answered before the connection is closed: 400, 413, 414 or 431), or
// neither (the bytes end before the request does; a Session would keep reading).
struct ParsedRequest {
  std::optional<Request> request;
  std::optional<Response> refusal;
  size_t bytes_consumed = 0;
  bool keep_alive = false;
};
ParsedRequest parse_request(std::string_view bytes, const ServerConfig& config);

}  // namespace ticketd::http
