// The wire codec (see wire.hpp), and parse_request: the same parser, limits and refusals as a Session,
// over bytes in memory.

// Asio's std::atomic_thread_fence: see server.cpp.
#if defined(__SANITIZE_THREAD__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include "http/wire.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <utility>

#include "base/assert.hpp"
#include "http/security_headers.hpp"

namespace ticketd::http {
namespace detail {

namespace {

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

// ---- Transport error responses ----------------------------------------------------------------

Response transport_error(HttpError error, std::string_view message) {
  const ErrorStatus s = status_of(error);
  const std::string_view code = s.code;
  TICKETD_ASSERT(message.find_first_of("\"\\") == std::string_view::npos);
  Response response;
  response.status = s.status;
  response.body.reserve(40 + code.size() + message.size());
  response.body.append(R"({"error":{"code":")").append(code);
  response.body.append(R"(","message":")").append(message).append(R"("}})");
  add_security_headers(response);  // the transport's own answers never pass the API layer's decorate()
  return response;
}

Response overloaded_response() {
  Response response = transport_error(HttpError::overloaded, "server is overloaded, retry later");
  response.headers.push_back({"retry-after", "1"});
  return response;
}

Response internal_error_response() {
  return transport_error(HttpError::internal, "internal error");
}

// ---- Refusals ---------------------------------------------------------------------------------

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

Response refusal_response(Refusal refusal, const ServerConfig& config) {
  TICKETD_ASSERT(refusal != Refusal::none);
  switch (refusal) {
    case Refusal::body_too_large:
      return transport_error(HttpError::body_too_large,
                            "request body exceeds " + std::to_string(config.body_bytes_max) + " bytes");
    case Refusal::uri_too_long:
      return transport_error(HttpError::uri_too_long,
                            "request target exceeds " + std::to_string(config.target_bytes_max) + " bytes");
    case Refusal::headers_too_large:
      return transport_error(HttpError::headers_too_large,
                            "request headers exceed " + std::to_string(config.header_bytes_max) + " bytes");
    case Refusal::malformed:
    case Refusal::none:
      break;
  }
  return transport_error(HttpError::bad_request, "malformed HTTP request");
}

// ---- Messages ---------------------------------------------------------------------------------

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

bool header_allowed(const Header& header) {
  if (header.name.empty()) return false;
  if (header.name.find_first_of(": \t\r\n") != std::string::npos) return false;
  if (header.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) return false;
  // The transport owns framing and its own identity.
  const std::string name = lower_ascii(header.name);
  return name != "content-length" && name != "transfer-encoding" && name != "connection" && name != "server";
}

WireResponse to_wire(Response response, const Framing& framing) {
  TICKETD_ASSERT(response.status >= 200 && response.status <= 599);
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

}  // namespace detail

// ---- parse_request: the public in-memory parser -----------------------------------------------

// The same parser, limits, refusals and conversion as Session::read_request and take_request, over
// bytes in memory instead of a socket.
ParsedRequest parse_request(std::string_view bytes, const ServerConfig& config) {
  using detail::Refusal;
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  ParsedRequest out;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<uint32_t>(config.header_bytes_max));
  parser.body_limit(config.body_bytes_max);
  parser.eager(true);
  beast::error_code ec;
  std::string_view rest = bytes;
  bool target_checked = false;
  while (!parser.is_done()) {
    const size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    TICKETD_ASSERT(used <= rest.size());
    rest.remove_prefix(used);
    if (ec == bhttp::error::need_more) return out;  // incomplete: a Session would read on
    if (ec) {
      Refusal refusal = detail::classify_refusal(ec, parser.get().target().size(), config);
      // Past the end of what a client sent, Session closes silently; bytes in memory have no peer,
      // so report every other parse error as the 400 a live peer would get.
      if (refusal == Refusal::none) refusal = Refusal::malformed;
      out.refusal = detail::refusal_response(refusal, config);
      return out;
    }
    if (!target_checked && parser.is_header_done()) {
      target_checked = true;
      if (parser.get().target().size() > config.target_bytes_max) {
        out.refusal = detail::refusal_response(Refusal::uri_too_long, config);
        return out;
      }
    }
    if (used == 0 && !parser.is_done()) return out;
  }
  out.bytes_consumed = bytes.size() - rest.size();
  out.keep_alive = parser.keep_alive();
  out.request = detail::to_request(parser.get(), "127.0.0.1");
  return out;
}

}  // namespace ticketd::http
