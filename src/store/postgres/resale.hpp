// The distributed ResaleStore (core/ports/resale.hpp) on PostgreSQL: reads of the listings the event
// owners' seat journals write, and the sellers' refunds once paid.
// Ownership: borrows the pool. Thread safety: as the port.
#pragma once

#include "core/ports/resale.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgResaleStore final : public core::ResaleStore {
 public:
  explicit PgResaleStore(Pool& pool) : pool_(pool) {}
  std::optional<core::ResaleListing> listed(core::EventId event, core::SeatId seat) override;
  std::optional<core::ResaleListing> listed_ticket(const std::string& ticket_id) override;
  std::vector<core::ResaleListing> listings_of(core::UserId seller, uint32_t limit) override;
  core::ResaleStats stats(core::EventId event) override;
  std::vector<core::ResaleRefundDue> refunds_due(uint32_t limit) override;
  core::Status record_refund(int64_t refund_id, const std::string& refund_ref) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
