// The security headers every response carries (docs/security.md), in one place: the API layer adds
// them to what handlers return (edge.cpp's decorate) and the transport to the answers it makes itself
// (400, 413, 414, 431, 503, 500), which never reach the API layer.
// Thread safety: a pure function over a Response the caller owns.
#pragma once

#include <algorithm>
#include <string_view>

#include "http/message.hpp"

namespace ticketd::http {

// An API answer is JSON: it needs no script, style or frame. Pages of the web app set their own CSP.
inline constexpr std::string_view kApiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'";

// Handlers may name headers in any case; lower_name is lower-case.
inline bool response_has_header(const Response& r, std::string_view lower_name) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (const Header& h : r.headers) {
    if (h.name.size() != lower_name.size()) continue;
    if (std::equal(h.name.begin(), h.name.end(), lower_name.begin(), [&](char a, char b) { return lower(a) == b; }))
      return true;
  }
  return false;
}

// nosniff, frame denial, no referrer, and the API's CSP unless the response brings its own.
inline void add_security_headers(Response& response) {
  if (!response_has_header(response, "content-security-policy"))
    response.headers.push_back({"content-security-policy", std::string(kApiContentSecurityPolicy)});
  if (!response_has_header(response, "x-content-type-options"))
    response.headers.push_back({"x-content-type-options", "nosniff"});
  if (!response_has_header(response, "x-frame-options")) response.headers.push_back({"x-frame-options", "DENY"});
  if (!response_has_header(response, "referrer-policy"))
    response.headers.push_back({"referrer-policy", "no-referrer"});
}

}  // namespace ticketd::http
