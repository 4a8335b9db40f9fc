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

  // to_refund's statement ($1 after, $2 limit), public for the test of its plan. Every node runs it
  // about once a second, cancelled events or not: it starts from the cancelled events (none, mostly)
  // and reads only their bookings. A join PostgreSQL was free to order walked every booking ever
  // made by id, each pass, to find none.
  static constexpr const char* kToRefundSql =
      "SELECT b.id FROM event_entry x CROSS JOIN LATERAL (SELECT id FROM bookings WHERE event_id = x.event_id "
      "AND status = 'CONFIRMED' AND id > $1 ORDER BY id LIMIT $2) b WHERE x.cancelled_at > 0 ORDER BY b.id LIMIT $2";

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
