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

// The system's wall clock as it read when this object was made, advanced by the monotonic clock since.
// Why not system_clock::now(): hold deadlines are wall times (they are stored and shown), and a step of
// the system clock (an operator, a bad NTP server, a resumed VM) would move every deadline at once: a
// jump forward expires live holds early, a jump back keeps them alive past their TTL (scripts/chaos
// clock shows both). CLOCK_MONOTONIC is never stepped, so here a hold lasts its TTL of real time. NTP's
// gradual slewing still reaches it (the monotonic clock is slewed too); a step does not, until restart:
// `wall_step()` tells how far the system clock has stepped away, for the log.
class SystemClock final : public Clock {
 public:
  SystemClock()
      : wall_at_start_(std::chrono::system_clock::now()), steady_at_start_(std::chrono::steady_clock::now()) {}
  TimeMs now() const override {
    return std::chrono::time_point_cast<Millis>(wall_at_start_ + (std::chrono::steady_clock::now() - steady_at_start_));
  }
  // system_clock::now() - now(): 0 unless the system clock was stepped since start-up.
  Millis wall_step() const {
    return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now() - wall_at_start_ -
                                              (std::chrono::steady_clock::now() - steady_at_start_));
  }

 private:
  std::chrono::system_clock::time_point wall_at_start_;
  std::chrono::steady_clock::time_point steady_at_start_;
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
// "2026-12-28 20:00 UTC": for people (mail, printed tickets); events' own time zones are not known yet.
std::string format_utc_minutes(TimeMs t);
// Accepts RFC 3339 date-times with 'Z' or a ±HH:MM offset and optional fractional seconds.
std::optional<TimeMs> parse_rfc3339(std::string_view text);

}  // namespace ticketd
