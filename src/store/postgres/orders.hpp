// The distributed Orders (core/ports/orders.hpp) on PostgreSQL. Ownership: borrows the pool.
#pragma once

#include "core/ports/orders.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgOrders final : public core::Orders {
 public:
  explicit PgOrders(Pool& pool) : pool_(pool) {}
  std::vector<core::Order> search(core::EventId event, const std::string& text, core::BookingId booking_id,
                                  core::BookingId after, uint32_t limit) override;
  std::vector<core::Booking> confirmed(core::EventId event) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
