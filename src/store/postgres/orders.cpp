#include "store/postgres/orders.hpp"

#include "core/seat_csv.hpp"

namespace ticketd::store::postgres {

namespace {

std::vector<core::SeatId> seats_of(const std::string& csv) { return core::parse_seat_csv(csv); }

}  // namespace

std::vector<core::Order> PgOrders::search(core::EventId event, const std::string& text, core::BookingId booking_id,
                                          core::BookingId after, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(
        "SELECT b.id, b.status, b.total_amount, b.currency, b.created_at, COALESCE(b.cancelled_at, 0), b.user_id, "
        "u.email, u.name, COALESCE((SELECT string_agg(seat::text, ',' ORDER BY seat) FROM booking_seats s "
        "WHERE s.booking_id = b.id), ''), (SELECT COALESCE(SUM(amount), 0) FROM booking_refunds r WHERE r.booking_id = b.id) "
        "FROM bookings b JOIN users u ON u.id = b.user_id "
        "WHERE b.event_id = $1 AND b.id > $2 AND ($3 = '' OR strpos(u.email, $3) > 0 OR strpos(lower(u.name), $3) > 0 "
        "OR b.id = $4) ORDER BY b.id LIMIT $5",
        {p(event), p(after), p(text), p(booking_id), p(static_cast<int64_t>(limit))});
    std::vector<core::Order> out;
    for (int i = 0; i < r.size(); ++i) {
      core::Order o;
      o.booking.id = r.int64(i, 0);
      o.booking.event_id = event;
      o.booking.status = core::booking_status_from(r.text(i, 1)).value_or(core::BookingStatus::Failed);
      o.booking.total_amount = r.int64(i, 2);
      o.booking.currency = r.text(i, 3);
      o.booking.created_at = from_unix_ms(r.int64(i, 4));
      if (r.int64(i, 5) > 0) o.booking.cancelled_at = from_unix_ms(r.int64(i, 5));
      o.booking.user_id = r.int64(i, 6);
      o.email = r.text(i, 7);
      o.name = r.text(i, 8);
      o.booking.seats = seats_of(r.text(i, 9));
      o.refunded_amount = r.int64(i, 10);
      out.push_back(std::move(o));
    }
    return out;
  });
}

std::vector<core::Booking> PgOrders::confirmed(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(
        "SELECT b.id, b.total_amount - (SELECT COALESCE(SUM(amount), 0) FROM booking_refunds r WHERE r.booking_id = b.id), "
        "b.created_at, COALESCE((SELECT string_agg(seat::text, ',') FROM booking_seats s "
        "WHERE s.booking_id = b.id), '') FROM bookings b WHERE b.event_id = $1 AND b.status = 'CONFIRMED' ORDER BY b.id",
        {p(event)});
    std::vector<core::Booking> out;
    for (int i = 0; i < r.size(); ++i) {
      core::Booking b;
      b.id = r.int64(i, 0);
      b.event_id = event;
      b.total_amount = r.int64(i, 1);
      b.created_at = from_unix_ms(r.int64(i, 2));
      b.seats = seats_of(r.text(i, 3));
      out.push_back(std::move(b));
    }
    return out;
  });
}

}  // namespace ticketd::store::postgres
