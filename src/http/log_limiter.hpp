// The transport's stderr log: at most a few lines per second, each one line of bounded length, so a
// hostile client or a broken handler cannot flood the log. Untrusted text passes through one_line()
// (and a request target through path_of()) before it is logged.
// Thread safety: LogLimiter::line may be called from any thread; the free functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace ticketd::http::detail {

// Makes untrusted or multi-line text safe for one log line: no control characters, bounded length.
std::string one_line(std::string_view text);

// The query string may carry secrets (tokens, emails); logs get the path only.
std::string_view path_of(std::string_view target);

class LogLimiter {
 public:
  // Prints "ticketd http: <text>" unless this second's budget is spent; the next line printed says how
  // many were suppressed.
  void line(const std::string& text);

 private:
  using Clock = std::chrono::steady_clock;

  std::mutex mutex_;  // guards the three fields below
  Clock::time_point window_start_{};
  int lines_in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace ticketd::http::detail
