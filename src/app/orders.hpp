// Use cases: an event's orders and sales for its organizer (docs/console.md, "Orders" and "Sales
// report"). Who may ask is decided by app/organizations before these are called.
// Thread safety: all methods are safe to call concurrently (the store is; nothing here is mutable).
#pragma once

#include <string>
#include <vector>

#include "app/catalog.hpp"
#include "base/clock.hpp"
#include "core/ports/orders.hpp"

namespace ticketd::app {

struct SalesLine {
  std::string key;  // a price tier, or a day (YYYY-MM-DD, UTC)
  uint64_t seats = 0;
  int64_t amount = 0;  // minor units
};

struct SalesReport {
  uint64_t bookings = 0;
  uint64_t seats = 0;
  int64_t revenue = 0;                  // the confirmed bookings' totals
  std::vector<SalesLine> per_tier;      // seats at their tier's price
  std::vector<SalesLine> per_day;       // by the day each booking was made (UTC)
  std::vector<uint32_t> seats_per_minute;  // the last 60 minutes, oldest first
};

class OrderDesk {
 public:
  static constexpr size_t kSearchTextBytesMax = 200;
  static constexpr uint32_t kPageMax = 100;

  OrderDesk(core::Orders& store, Catalog& catalog, const Clock& clock);
  // `query`: part of the buyer's email or name, or a booking id (digits). InvalidRequest when too long.
  core::Result<std::vector<core::Order>> search(core::EventId event, const std::string& query, core::BookingId after,
                                                uint32_t limit);
  core::Result<SalesReport> report(core::EventId event);

 private:
  core::Orders& store_;
  Catalog& catalog_;
  const Clock& clock_;
};

}  // namespace ticketd::app
