// Port: the bookings an event cancellation still has to refund (app/event_cancellations). The state of
// the job is the bookings themselves (CONFIRMED: not refunded yet), so it survives any restart.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "core/types.hpp"

namespace ticketd::core {

struct RefundProgress {
  uint64_t confirmed = 0;  // still to refund
  uint64_t cancelled = 0;  // refunded (by the job, or by their buyers before)
};

class EventRefunds {
 public:
  virtual ~EventRefunds() = default;
  // CONFIRMED bookings of cancelled events with an id above `after`, ascending, at most `limit`.
  virtual std::vector<BookingId> to_refund(BookingId after, uint32_t limit) = 0;
  virtual RefundProgress progress(EventId event) = 0;
  // Live holds (not pinned by a checkout, not lapsed at `now`) of cancelled events: (hold, its user),
  // ascending, at most `limit`. Releasing them puts the seats back at once instead of at their expiry.
  virtual std::vector<std::pair<HoldId, UserId>> holds_to_release(TimeMs now, uint32_t limit) = 0;
};

}  // namespace ticketd::core
