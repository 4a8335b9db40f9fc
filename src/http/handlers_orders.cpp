// GET /v1/events/{id}/orders and /v1/events/{id}/sales-report: an event's orders and sales for its
// organizers and administrators (docs/console.md, "Orders", "Sales report").
#include "app/orders.hpp"
#include "http/csv.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response no_orders() { return error_response(core::Code::NotFound, "orders are not served here"); }

// An order as the console shows it: the booking, its seats as people read them, and its buyer.
json::object order_json(const core::Order& o, const core::Layout* layout) {
  const core::Booking& b = o.booking;
  json::array seats;
  for (core::SeatId id : b.seats) {
    json::object seat{{"id", id}};
    if (auto label = layout ? layout->label(id) : std::nullopt)
      seat.insert({{"section", label->section}, {"row", label->row}, {"number", label->number}});
    seats.push_back(std::move(seat));
  }
  json::object out{{"id", b.id},
                   {"event_id", b.event_id},
                   {"status", core::to_string(b.status)},
                   {"seats", std::move(seats)},
                   {"total_amount", b.total_amount},
                   {"refunded_amount", o.refunded_amount},
                   {"currency", b.currency},
                   {"created_at", format_rfc3339(b.created_at)},
                   {"buyer", json::object{{"id", b.user_id}, {"email", o.email}, {"name", o.name}}}};
  if (b.status == core::BookingStatus::Cancelled) out["cancelled_at"] = format_rfc3339(b.cancelled_at);
  return out;
}

Response list_orders(Ctx& c) {
  if (!c.services.orders) return no_orders();
  const core::Event& event = c.managed_event();
  auto venue = c.services.catalog.venue(event.venue_id);
  std::string q;
  if (auto it = c.query.find("q"); it != c.query.end()) q = it->second;
  auto after = c.after_id("a booking id (the previous page's next)");
  if (!after) return error_response(after.error());
  uint32_t limit = 50;
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    const std::string& s = it->second;
    if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos || std::stoul(s) < 1 ||
        std::stoul(s) > app::OrderDesk::kPageMax)
      return error_response(core::Code::InvalidRequest, "limit: 1-100");
    limit = static_cast<uint32_t>(std::stoul(s));
  }
  auto orders = c.services.orders->search(c.ids[0], q, *after, limit);
  if (!orders) return error_response(orders.error());
  json::array out;
  for (const core::Order& o : *orders) out.push_back(order_json(o, venue ? &(*venue)->layout : nullptr));
  json::object page{{"orders", std::move(out)}};
  page["next"] = orders->size() == limit ? json::value(std::to_string(orders->back().booking.id)) : json::value(nullptr);
  Response r = json_response(200, page);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

json::array lines_json(const std::vector<app::SalesLine>& lines, const char* key) {
  json::array out;
  for (const app::SalesLine& l : lines) out.push_back(json::object{{key, l.key}, {"seats", l.seats}, {"amount", l.amount}});
  return out;
}

Response sales_report(Ctx& c) {
  if (!c.services.orders) return no_orders();
  const core::Event& event = c.managed_event();
  auto report = c.services.orders->report(c.ids[0]);
  if (!report) return error_response(report.error());
  json::array minutes;
  for (uint32_t n : report->seats_per_minute) minutes.push_back(n);
  Response r = json_response(200, json::object{{"event_id", c.ids[0]},
                                               {"currency", event.currency},
                                               {"bookings", report->bookings},
                                               {"seats", report->seats},
                                               {"revenue", report->revenue},
                                               {"per_tier", lines_json(report->per_tier, "tier")},
                                               {"per_day", lines_json(report->per_day, "day")},
                                               {"seats_per_minute", std::move(minutes)}});
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

// The sales report as CSV: one line per tier, then per day (amounts in minor units).
Response sales_report_csv(Ctx& c) {
  if (!c.services.orders) return no_orders();
  const core::Event& event = c.managed_event();
  auto report = c.services.orders->report(c.ids[0]);
  if (!report) return error_response(report.error());
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.headers = {{"cache-control", "no-store"},
               {"content-disposition", "attachment; filename=\"sales-" + std::to_string(c.ids[0]) + ".csv\""}};
  append_csv_row(r.body, {"kind", "key", "seats", "amount_minor", "currency"});
  for (const app::SalesLine& l : report->per_tier)
    append_csv_row(r.body, {"tier", l.key, std::to_string(l.seats), std::to_string(l.amount), event.currency});
  for (const app::SalesLine& l : report->per_day)
    append_csv_row(r.body, {"day", l.key, std::to_string(l.seats), std::to_string(l.amount), event.currency});
  append_csv_row(r.body, {"total", "", std::to_string(report->seats), std::to_string(report->revenue), event.currency});
  return r;
}

}  // namespace

void add_order_routes(Router& router) {
  router.add("GET", "/v1/events/{id}/orders", list_orders, {.who = Caller::event_manager});
  router.add("GET", "/v1/events/{id}/sales-report", sales_report, {.who = Caller::event_manager});
  router.add("GET", "/v1/events/{id}/sales-report.csv", sales_report_csv, {.who = Caller::event_manager});
}

}  // namespace ticketd::http
