// A connection's byte stream, plain TCP or TLS over it, and the socket-level steps around it: the
// listener's TLS context, TCP keepalive for long-lived streams, and the lingering close that lets a
// client read a last response before the socket goes.
// Thread safety: a Connection belongs to one session and is used on that session's strand only.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

#include "http/server.hpp"

namespace ticketd::http::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// I/O outcomes come back as values (error_code first), never as exceptions.
inline constexpr auto as_result = asio::as_tuple(asio::use_awaitable);

// After a response with Connection: close we half-close and discard what the client still sends,
// bounded by these: closing a socket with unread input makes the kernel send RST, which can destroy
// the response (a 413 in particular) before the client reads it.
constexpr std::chrono::seconds linger_timeout{2};
constexpr size_t linger_bytes_max = size_t{256} * 1024;

// The TLS settings of the listener: TLS 1.2 and 1.3 only, the certificate chain and key read once at
// start. Null when the config names no certificate. Throws std::runtime_error naming the file that
// could not be used.
std::unique_ptr<asio::ssl::context> make_tls_context(const ServerConfig& config);

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
  asio::awaitable<bool> start(Clock::duration timeout);

  // TLS: send close_notify and wait, under `timeout`, for the peer's, so a client reading to the end
  // of the stream sees a clean end rather than a truncation.
  asio::awaitable<void> close_notify(Clock::duration timeout);

 private:
  beast::tcp_stream tcp_;
  std::optional<asio::ssl::stream<beast::tcp_stream&>> tls_;  // over tcp_, declared after it
};

// Half-closes, then reads and discards what the peer still sends until it closes, `timeout` passes
// or `bytes_max` are read. See linger_timeout for why.
asio::awaitable<void> linger_close(beast::tcp_stream& stream, Clock::duration timeout, size_t bytes_max);

// The same for a session's connection. Over TLS the close_notify exchange does the
// same job: the peer has read the response by the time it answers.
asio::awaitable<void> linger_close(Connection& connection, Clock::duration timeout, size_t bytes_max);

// A peer that vanished without a FIN (a phone that lost its network) is found by TCP keepalive: first
// probe after 30 s idle, then every 10 s, given up after 3 (~60 s), instead of the kernel's 2 hours.
void tune_keepalive(tcp::socket& socket);

}  // namespace ticketd::http::detail
