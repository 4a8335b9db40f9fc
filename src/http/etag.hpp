// Strong entity tags for bodies that never change once made (venue layouts, static files), and the
// If-None-Match test (RFC 9110 §13.1.2: weak comparison, "*" matches anything).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ticketd::http {

// "<16 hex digits of FNV-1a 64 of the body>", quoted. Equal bodies, equal tags.
inline std::string strong_etag(std::string_view body) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char out[20];
  std::snprintf(out, sizeof out, "\"%016llx\"", static_cast<unsigned long long>(h));
  return out;
}

// True if the If-None-Match header value names `etag` (or is "*").
inline bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  size_t pos = 0;
  while (pos < if_none_match.size()) {
    size_t comma = if_none_match.find(',', pos);
    if (comma == std::string_view::npos) comma = if_none_match.size();
    std::string_view tag = if_none_match.substr(pos, comma - pos);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    // The gzip representation's tag (compression.hpp): the same body, compressed.
    constexpr std::string_view kGzipSuffix = "-gzip\"";
    if (tag.size() == etag.size() + 5 && tag.ends_with(kGzipSuffix) &&
        tag.substr(0, etag.size() - 1) == etag.substr(0, etag.size() - 1))
      return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace ticketd::http
