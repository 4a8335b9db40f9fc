// The transport's rate-limited stderr log and the helpers that make untrusted text fit one line of it.
#include "http/log_limiter.hpp"

#include <cstddef>
#include <cstdio>

namespace ticketd::http::detail {

namespace {

// stderr lines per second, so a hostile client or a broken handler cannot flood the log.
constexpr int log_lines_per_second_max = 20;
constexpr size_t log_field_bytes_max = 200;

}  // namespace

std::string one_line(std::string_view text) {
  std::string out(text.substr(0, log_field_bytes_max));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  if (text.size() > log_field_bytes_max) out += "...";
  return out;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

void LogLimiter::line(const std::string& text) {
  uint64_t suppressed = 0;
  {
    std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      lines_in_window_ = 0;
      suppressed = suppressed_;
      suppressed_ = 0;
    }
    if (lines_in_window_ >= log_lines_per_second_max) {
      ++suppressed_;
      return;
    }
    ++lines_in_window_;
  }
  // Printed outside the lock: no I/O while holding it.
  if (suppressed > 0) {
    std::fprintf(stderr, "ticketd http: %llu log lines suppressed\n", static_cast<unsigned long long>(suppressed));
  }
  std::fprintf(stderr, "ticketd http: %s\n", text.c_str());
}

}  // namespace ticketd::http::detail
