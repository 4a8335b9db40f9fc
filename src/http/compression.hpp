// gzip (zlib) of answers whose client accepts it: JSON, HTML, CSS, JavaScript and SVG of at least
// kGzipBytesMin. Applied by the API layer to every answer it makes (handlers and static files alike);
// streams are not compressed (each event must reach the client when it is written).
//
// Caches: every compressible answer says `Vary: Accept-Encoding`, compressed or not. A compressed
// answer's ETag gets a "-gzip" suffix inside the quotes (RFC 9110: two representations, two strong
// tags); etag_matches() takes either spelling for the same body, so a revalidation still gets 304.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ticketd::http {

// Below this a gzip header and trailer (18 bytes) and a round trip's worth of CPU buy nothing.
inline constexpr size_t kGzipBytesMin = 1024;

// The body as one gzip member, or nullopt if zlib fails (the answer then goes out uncompressed).
std::optional<std::string> gzip(std::string_view body);

// True if an Accept-Encoding value accepts gzip (or "*") with a non-zero q.
bool accepts_gzip(std::string_view accept_encoding);

// Compresses `response` in place if `request` accepts gzip and the body is worth it.
void gzip_if_accepted(const Request& request, Response& response);

}  // namespace ticketd::http
