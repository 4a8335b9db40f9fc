#include "http/compression.hpp"

#include <zlib.h>

#include <algorithm>
#include <optional>
#include <string>

#include "base/assert.hpp"
#include "http/security_headers.hpp"

namespace ticketd::http {

namespace {

constexpr int kGzipLevel = 5;  // most of level 9's gain at a third of its CPU, on JSON and JS alike

bool compressible(std::string_view content_type) {
  return content_type.starts_with("application/json") || content_type.starts_with("text/") ||
         content_type.starts_with("application/javascript") || content_type.starts_with("image/svg+xml");
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x >= 'A' && x <= 'Z' ? x + 32 : x) == (y >= 'A' && y <= 'Z' ? y + 32 : y);
         });
}


void add_vary(Response& response) {
  for (Header& h : response.headers) {
    if (!iequals(h.name, "vary")) continue;
    if (h.value.find("ccept-encoding") == std::string::npos) h.value += ", accept-encoding";
    return;
  }
  response.headers.push_back({"vary", "accept-encoding"});
}

}  // namespace

std::optional<std::string> gzip(std::string_view body) {
  z_stream zs{};
  if (deflateInit2(&zs, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return std::nullopt;
  std::string out(deflateBound(&zs, static_cast<uLong>(body.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t written = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(written);
  return out;
}

bool accepts_gzip(std::string_view value) {
  size_t pos = 0;
  while (pos <= value.size()) {
    const size_t comma = std::min(value.find(',', pos), value.size());
    std::string_view item = trim(value.substr(pos, comma - pos));
    pos = comma + 1;
    const size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    if (!iequals(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view q = trim(item.substr(semi + 1));
    if (!q.starts_with("q=") && !q.starts_with("Q=")) return true;
    q.remove_prefix(2);
    // q=0, 0.0, 0.00, 0.000 refuse; any other value accepts.
    return !(q.find_first_not_of("0.") == std::string_view::npos && !q.empty() && q.front() == '0');
  }
  return false;
}

void gzip_if_accepted(const Request& request, Response& response) {
  if (response.stream || !compressible(response.content_type)) return;
  add_vary(response);
  if (response.body.size() < kGzipBytesMin || response_has_header(response, "content-encoding")) return;
  if (!accepts_gzip(request.header("accept-encoding"))) return;
  std::optional<std::string> packed = gzip(response.body);
  if (!packed || packed->size() >= response.body.size()) return;
  response.body = std::move(*packed);
  response.headers.push_back({"content-encoding", "gzip"});
  for (Header& h : response.headers) {
    if (!iequals(h.name, "etag") || h.value.size() < 2 || h.value.back() != '"') continue;
    h.value.insert(h.value.size() - 1, "-gzip");
  }
}

}  // namespace ticketd::http
