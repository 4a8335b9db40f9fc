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

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
