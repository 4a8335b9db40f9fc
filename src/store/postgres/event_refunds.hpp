// The distributed EventRefunds (core/ports/event_refunds.hpp) on PostgreSQL.
// Ownership: borrows the pool. Thread safety: as the port.
#pragma once

#include "core/ports/event_refunds.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

// The advisory lock the refunding pass runs under: one node refunds at a time.
inline constexpr int64_t kEventRefundsLockKey = 0x7469636b65747334;  // "tickets4"

class PgEventRefunds final : public core::EventRefunds {
 public:
  explicit PgEventRefunds(Pool& pool) : pool_(pool) {}
  std::vector<core::BookingId> to_refund(core::BookingId after, uint32_t limit) override;
  core::RefundProgress progress(core::EventId event) override;
  std::vector<std::pair<core::HoldId, core::UserId>> holds_to_release(TimeMs now, uint32_t limit) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
