#include "client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>

namespace ticketd::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
constexpr auto as_result = asio::as_tuple(asio::use_awaitable);
}

Connection::Connection(asio::io_context& io, asio::ip::tcp::endpoint endpoint) : stream_(io), endpoint_(endpoint) {}

asio::awaitable<Reply> Connection::request(const RequestSpec& spec) {
  Reply reply;
  if (!open_) {
    stream_.expires_after(kRequestTimeout);
    auto [ec] = co_await stream_.async_connect(endpoint_, as_result);
    if (ec) {
      reply.error = "connect: " + ec.message();
      stream_.close();
      co_return reply;
    }
    stream_.socket().set_option(asio::ip::tcp::no_delay(true));
    open_ = true;
    ++connects_;
    buffer_.clear();
  }
  http::request<http::string_body> req{spec.method, spec.target, 11};
  req.set(http::field::host, "ticketd");
  if (!spec.bearer.empty()) req.set(http::field::authorization, std::string("Bearer ") + std::string(spec.bearer));
  if (!spec.idempotency_key.empty()) req.set("idempotency-key", spec.idempotency_key);
  if (!spec.access_token.empty()) req.set("x-access-token", spec.access_token);
  if (!spec.body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(spec.body);
  }
  req.prepare_payload();
  stream_.expires_after(kRequestTimeout);
  if (auto [ec, n] = co_await http::async_write(stream_, req, as_result); ec) {
    reply.error = "write: " + ec.message();
    open_ = false;
    stream_.close();
    co_return reply;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kReplyBytesMax);
  if (auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, as_result); ec) {
    reply.error = "read: " + ec.message();
    open_ = false;
    stream_.close();
    co_return reply;
  }
  auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  if (auto it = res.find(http::field::retry_after); it != res.end()) reply.retry_after = std::string(it->value());
  reply.body = std::move(res.body());
  if (!res.keep_alive()) {
    open_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }
  co_return reply;
}

}  // namespace ticketd::bench
