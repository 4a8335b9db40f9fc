// Connection's TLS steps, the listener's TLS context, lingering close and TCP keepalive (see
// connection.hpp).

// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/socket_base.hpp>
#include <stdexcept>
#include <string>

namespace ticketd::http::detail {

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

asio::awaitable<bool> Connection::start(Clock::duration timeout) {
  if (!tls_) co_return true;
  tcp_.expires_after(timeout);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, as_result);
  co_return !ec;
}

asio::awaitable<void> Connection::close_notify(Clock::duration timeout) {
  if (!tls_) co_return;
  tcp_.expires_after(timeout);
  // Whatever the outcome (the peer's close_notify, EOF, a timeout), the connection closes next.
  co_await tls_->async_shutdown(as_result);
}

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

asio::awaitable<void> linger_close(Connection& connection, Clock::duration timeout, size_t bytes_max) {
  if (connection.secure()) {
    co_await connection.close_notify(timeout);
    co_return;
  }
  co_await linger_close(connection.socket_stream(), timeout, bytes_max);
}

void tune_keepalive(tcp::socket& socket) {
  beast::error_code ignored;
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.native_handle();
  const int idle_s = 30, interval_s = 10, probes = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
}

}  // namespace ticketd::http::detail
