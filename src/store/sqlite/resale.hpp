// The embedded ResaleStore (core/ports/resale.hpp) over the shared SQLite database: reads of the
// listings the seat journal writes, and the sellers' refunds once paid.
// Ownership: borrows the Database, which must outlive it. Thread safety: as the port.
#pragma once

#include "core/ports/resale.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteResaleStore final : public core::ResaleStore {
 public:
  explicit SqliteResaleStore(Database& db) : db_(db) {}
  std::optional<core::ResaleListing> listed(core::EventId event, core::SeatId seat) override;
  std::optional<core::ResaleListing> listed_ticket(const std::string& ticket_id) override;
  std::vector<core::ResaleListing> listings_of(core::UserId seller, uint32_t limit) override;
  core::ResaleStats stats(core::EventId event) override;
  std::vector<core::ResaleRefundDue> refunds_due(uint32_t limit) override;
  core::Status record_refund(int64_t refund_id, const std::string& refund_ref) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
