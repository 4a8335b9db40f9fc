// Time as the domain sees it: milliseconds since the Unix epoch, read through an injected Clock
// so the core and the simulator can drive time by hand.
//
// Thread safety: SystemClock is stateless; ManualClock is for single-threaded tests and
// simulations only, except that now() may be read concurrently with no advance() in flight.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ticketd {

using Millis = std::chrono::milliseconds;
using TimeMs = std::chrono::sys_time<std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs now() const override {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start) : now_ms_(start.time_since_epoch().count()) {}
  TimeMs now() const override { return TimeMs(Millis(now_ms_.load())); }
  void advance(Millis by) { now_ms_ += by.count(); }
  void set(TimeMs to) { now_ms_ = to.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> now_ms_;
};

inline int64_t to_unix_ms(TimeMs t) { return t.time_since_epoch().count(); }
inline TimeMs from_unix_ms(int64_t ms) { return TimeMs(Millis(ms)); }

// "2026-12-01T20:00:00.000Z". Always UTC, always milliseconds.
std::string format_rfc3339(TimeMs t);
// Accepts RFC 3339 date-times with 'Z' or a ±HH:MM offset and optional fractional seconds.
std::optional<TimeMs> parse_rfc3339(std::string_view text);

}  // namespace ticketd
