// The waiting room's domain rules that need no storage: per-event settings and their limits, the
// admission budget (how many people the seats left can serve), the release-rate window and the
// estimated wait. Pure functions of their inputs, so they are tested with hand-made numbers.
//
// Storage of the queue itself is behind core/ports/waiting_room.hpp; signing of tokens and the
// lottery's hashing (libsodium) are in app/.
//
// Thread safety: plain values and pure functions; ReleaseHistory is guarded by its owner.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

#include "base/clock.hpp"
#include "core/result.hpp"

namespace ticketd::core {

namespace limits {
// Settings bounds. A batch beyond 100,000 every second would already exceed any venue.
inline constexpr uint32_t queue_batch_size_max = 100'000;
inline constexpr uint32_t queue_batch_size_default = 1'000;  // the seed's example: 1,000 every 30 s
inline constexpr int64_t queue_release_interval_s_max = 3'600;
inline constexpr int64_t queue_release_interval_s_default = 30;
// An admitted buyer gets this long to place a hold; 1 s minimum so tests can watch a slot lapse.
inline constexpr int64_t queue_active_window_s_max = 86'400;
inline constexpr int64_t queue_active_window_s_default = 600;
inline constexpr int64_t queue_opens_before_s_max = 7 * 86'400;
inline constexpr int64_t queue_opens_before_s_default = 3'600;
// One event's queue holds at most this many people (~29 B each in memory, see docs/architecture.md:
// ~58 MB). Past it joins are refused with 503 queue_full and counted: the process never grows without bound.
inline constexpr uint64_t queue_entries_max = 2'000'000;
// The release rate is measured over this many recent release ticks (a tick that admitted nobody
// because of stock counts as zero, so the estimate slows down honestly).
inline constexpr size_t queue_rate_ticks = 10;
// Retry-After of a status poll: a tenth of the estimated wait, within these bounds.
inline constexpr int64_t queue_retry_after_s_min = 1;
inline constexpr int64_t queue_retry_after_s_max = 60;
}  // namespace limits

struct WaitingRoomSettings {
  bool enabled = false;
  uint32_t batch_size = limits::queue_batch_size_default;
  Millis release_interval{limits::queue_release_interval_s_default * 1000};
  Millis active_window{limits::queue_active_window_s_default * 1000};
  Millis opens_before{limits::queue_opens_before_s_default * 1000};
  bool operator==(const WaitingRoomSettings&) const = default;
};

// InvalidRequest naming the field when a setting is out of range.
Status validate_waiting_room(const WaitingRoomSettings& s);

// What a person in the queue is told.
enum class QueueStatus : uint8_t { Waiting, Admitted, Expired, SoldOut };
const char* to_string(QueueStatus s);

// Seats that may still be sold, as the ledger sees them at one moment.
struct Stock {
  uint32_t available = 0;
  uint32_t expiring = 0;        // held seats whose hold lapses before the next release
  uint64_t basket_seats = 0;    // seats in live holds and sales ...
  uint64_t baskets = 0;         // ... and how many holds and sales they are (for the average basket)
};

struct AdmissionInput {
  Stock stock;
  uint32_t tickets_per_user_max = 8;  // the basket when nothing was bought yet
  uint64_t admitted_outstanding = 0;  // admitted, inside their window, no hold placed yet
  uint32_t batch_size = 0;
};

struct Admission {
  uint32_t admit = 0;     // how many to admit now: <= batch_size
  bool sold_out = false;  // nothing left to sell: everyone waiting is told SOLD_OUT
  double basket = 0;      // the average basket used
};

// admit = clamp(ceil((available + expiring) / basket) - admitted_outstanding, 0, batch_size), where
// basket = basket_seats / baskets (real holds and sales) or, before any, tickets_per_user_max.
// sold_out = (available + expiring == 0).
Admission admission_budget(const AdmissionInput& in);

// The recent release ticks of one room: how many were admitted at each.
class ReleaseHistory {
 public:
  void record(TimeMs at, uint32_t admitted);
  size_t ticks() const { return size_; }
  // People per second over the recorded ticks: sum(admitted) / (ticks * interval). Nullopt before any tick.
  std::optional<double> rate_per_s(Millis interval) const;

 private:
  std::array<uint32_t, limits::queue_rate_ticks> admitted_{};
  size_t next_ = 0;
  size_t size_ = 0;
};

// Seconds until `position` (1 = next) is admitted at `rate_per_s`, plus the time until the draw if it
// is still to come. Nullopt when the rate is zero (admission paused by stock: no honest number).
std::optional<int64_t> estimate_wait_s(uint64_t position, double rate_per_s, Millis until_first_release);

// Retry-After for a status poll: a tenth of the wait, clamped to [1, 60] s and to the release interval.
int64_t retry_after_s(std::optional<int64_t> wait_s, Millis interval);

}  // namespace ticketd::core
