// The embedded EventRefunds (core/ports/event_refunds.hpp): two reads of the bookings table.
// Ownership: borrows the Database. Thread safety: as the port.
#pragma once

#include "core/ports/event_refunds.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteEventRefunds final : public core::EventRefunds {
 public:
  explicit SqliteEventRefunds(Database& db) : db_(db) {}
  std::vector<core::BookingId> to_refund(core::BookingId after, uint32_t limit) override;
  core::RefundProgress progress(core::EventId event) override;
  std::vector<std::pair<core::HoldId, core::UserId>> holds_to_release(TimeMs now, uint32_t limit) override;

  // to_refund's statement (?1 after, ?2 limit), public for the test of its plan. Run about once a
  // second, cancelled events or not: CROSS JOIN keeps SQLite's join order, cancelled events first (none,
  // mostly), then only their bookings. The other order walked every booking ever made, each pass.
  static constexpr const char* kToRefundSql =
      "SELECT b.id FROM event_entry x CROSS JOIN bookings b ON b.event_id = x.event_id "
      "WHERE x.cancelled_at > 0 AND b.status = 'CONFIRMED' AND b.id > ?1 ORDER BY b.id LIMIT ?2";

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
