// The embedded Orders (core/ports/orders.hpp). Ownership: borrows the Database.
#pragma once

#include "core/ports/orders.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteOrders final : public core::Orders {
 public:
  explicit SqliteOrders(Database& db) : db_(db) {}
  std::vector<core::Order> search(core::EventId event, const std::string& text, core::BookingId booking_id,
                                  core::BookingId after, uint32_t limit) override;
  std::vector<core::Booking> confirmed(core::EventId event) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
