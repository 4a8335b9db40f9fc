// One keep-alive HTTP/1.1 connection of the load generator (Beast over Asio, C++20 coroutines).
//
// Ownership: a Connection owns its socket and buffers and lives on one io_context; all its calls come
// from coroutines of that io_context's single thread (no locking). One request at a time.
// Bounds: a reply body over kReplyBytesMax fails the request; every request has a deadline.
// A transport failure closes the socket; the next request reconnects. Requests are never retried
// here: a POST sent twice could hold twice, so the caller counts the failure instead.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <string>
#include <string_view>

namespace ticketd::bench {

inline constexpr size_t kReplyBytesMax = 16u << 20;  // a 10,000-user provisioning reply is ~1.3 MB
inline constexpr std::chrono::seconds kRequestTimeout{60};

struct Reply {
  int status = 0;  // 0: transport failure (see error)
  std::string body;
  std::string error;        // transport failure text
  std::string retry_after;  // the Retry-After header, if any
  bool ok() const { return status >= 200 && status < 300; }
};

struct RequestSpec {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string_view target;
  std::string_view body;             // sent as application/json when not empty
  std::string_view bearer;           // Authorization: Bearer ...
  std::string_view idempotency_key;  // Idempotency-Key
  std::string_view access_token;     // X-Access-Token (waiting room)
};

class Connection {
 public:
  Connection(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint);
  boost::asio::awaitable<Reply> request(const RequestSpec& spec);
  uint64_t connects() const { return connects_; }

 private:
  boost::beast::tcp_stream stream_;
  boost::asio::ip::tcp::endpoint endpoint_;
  boost::beast::flat_buffer buffer_;
  bool open_ = false;
  uint64_t connects_ = 0;
};

}  // namespace ticketd::bench
