// The wire codec: Beast messages to and from the plain values of message.hpp, the parser's refusals
// (400, 413, 414, 431) with their answers, and the JSON error bodies the transport writes itself
// (those refusals, 503 overloaded, 500 internal). No sockets: parse_request (server.hpp) runs the same
// code over bytes in memory.
// Thread safety: pure functions.
#pragma once

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <string>
#include <string_view>

#include "http/error_table.hpp"
#include "http/message.hpp"
#include "http/server.hpp"

namespace ticketd::http::detail {

namespace beast = boost::beast;
namespace bhttp = beast::http;

// ---- Transport error responses ----------------------------------------------------------------

// The status and code come from the one error table (http/error_table.hpp).
// REQUIRES: message needs no JSON escaping (our own constants and numbers).
Response transport_error(HttpError error, std::string_view message);
Response overloaded_response();      // 503 overloaded, Retry-After: 1
Response internal_error_response();  // 500 internal

// ---- Refusals ---------------------------------------------------------------------------------

// Why the parser refused a request; each kind has its own answer and counter.
enum class Refusal { none, body_too_large, uri_too_long, headers_too_large, malformed };

// `target_bytes`: the target the parser had seen when it stopped (0 if the request line never ended).
Refusal classify_refusal(beast::error_code ec, size_t target_bytes, const ServerConfig& config);

// REQUIRES: refusal != Refusal::none.
Response refusal_response(Refusal refusal, const ServerConfig& config);

// ---- Messages ---------------------------------------------------------------------------------

using WireRequest = bhttp::request<bhttp::string_body>;
using WireResponse = bhttp::response<bhttp::string_body>;

// The Request the layers above see: header names lower-cased, the body moved out of `message`.
Request to_request(WireRequest& message, const std::string& remote_address);

// How a response travels: derived from the request it answers.
struct Framing {
  unsigned version = 11;    // 10 or 11
  bool head = false;        // HEAD: Content-Length of the body, but no body
  bool keep_alive = false;  // false: Connection: close, then the session closes
};

// False for a header a Response may not carry onto the wire: a malformed name or value (see
// message.hpp), or one the transport owns (framing and its own identity).
bool header_allowed(const Header& header);

// REQUIRES: 200 <= response.status <= 599.
WireResponse to_wire(Response response, const Framing& framing);

}  // namespace ticketd::http::detail
