#include "app/orders.hpp"

#include <chrono>
#include <map>

#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

OrderDesk::OrderDesk(core::Orders& store, Catalog& catalog, const Clock& clock)
    : store_(store), catalog_(catalog), clock_(clock) {}

core::Result<std::vector<core::Order>> OrderDesk::search(core::EventId event, const std::string& query,
                                                         core::BookingId after, uint32_t limit) {
  if (query.size() > kSearchTextBytesMax) return make_error(Code::InvalidRequest, "q: at most 200 bytes");
  if (auto e = catalog_.event(event); !e) return e.error();
  core::BookingId id = 0;
  if (!query.empty() && query.size() <= 18 && query.find_first_not_of("0123456789") == std::string::npos)
    id = std::stoll(query);
  return store_.search(event, core::lower_ascii(query), id, after, std::min(limit, kPageMax));
}

namespace {

std::string utc_day(TimeMs t) {
  const auto days = std::chrono::floor<std::chrono::days>(std::chrono::sys_time<Millis>(t.time_since_epoch()));
  const std::chrono::year_month_day ymd{days};
  char out[16];
  std::snprintf(out, sizeof out, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return out;
}

}  // namespace

core::Result<SalesReport> OrderDesk::report(core::EventId event_id) {
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  const core::Layout& layout = (*venue)->layout;
  SalesReport r;
  r.seats_per_minute.assign(60, 0);
  const TimeMs now = clock_.now();
  std::map<std::string, SalesLine> tiers, days;
  for (const core::Booking& b : store_.confirmed(event_id)) {
    ++r.bookings;
    r.revenue += b.total_amount;
    SalesLine& day = days[utc_day(b.created_at)];
    day.amount += b.total_amount;
    for (core::SeatId seat : b.seats) {
      if (!layout.contains(seat)) continue;  // a stored seat the layout lacks: not counted, not trusted
      ++r.seats;
      ++day.seats;
      const std::string& tier = layout.price_tier_of(seat);
      SalesLine& line = tiers[tier];
      ++line.seats;
      if (auto p = event->prices.find(tier); p != event->prices.end()) line.amount += p->second;
    }
    const auto ago_min = std::chrono::duration_cast<std::chrono::minutes>(now - b.created_at).count();
    if (ago_min >= 0 && ago_min < 60) r.seats_per_minute[59 - ago_min] += static_cast<uint32_t>(b.seats.size());
  }
  for (auto& [key, line] : tiers) r.per_tier.push_back({key, line.seats, line.amount});
  for (auto& [key, line] : days) r.per_day.push_back({key, line.seats, line.amount});
  return r;
}

}  // namespace ticketd::app
