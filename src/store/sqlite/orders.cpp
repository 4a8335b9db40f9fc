#include "store/sqlite/orders.hpp"

#include "core/seat_csv.hpp"

namespace ticketd::store::sqlite {

namespace {

std::vector<core::SeatId> seats_of(const std::string& csv) { return core::parse_seat_csv(csv); }

}  // namespace

std::vector<core::Order> SqliteOrders::search(core::EventId event, const std::string& text, core::BookingId booking_id,
                                              core::BookingId after, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT b.id, b.status, b.total_amount, b.currency, b.created_at, COALESCE(b.cancelled_at, 0), b.user_id, "
      "u.email, u.name, (SELECT group_concat(seat) FROM booking_seats s WHERE s.booking_id = b.id), "
      "(SELECT COALESCE(SUM(amount), 0) FROM booking_refunds r WHERE r.booking_id = b.id) "
      "FROM bookings b JOIN users u ON u.id = b.user_id WHERE b.event_id = ?1 AND b.id > ?2 "
      "AND (?3 = '' OR instr(u.email, ?3) > 0 OR instr(lower(u.name), ?3) > 0 OR b.id = ?4) ORDER BY b.id LIMIT ?5");
  st.bind(1, event).bind(2, after).bind(3, text).bind(4, booking_id).bind(5, int64_t{limit});
  std::vector<core::Order> out;
  while (st.step()) {
    core::Order o;
    o.booking.id = st.int64(0);
    o.booking.event_id = event;
    o.booking.status = core::booking_status_from(st.text(1)).value_or(core::BookingStatus::Failed);
    o.booking.total_amount = st.int64(2);
    o.booking.currency = st.text(3);
    o.booking.created_at = from_unix_ms(st.int64(4));
    if (st.int64(5) > 0) o.booking.cancelled_at = from_unix_ms(st.int64(5));
    o.booking.user_id = st.int64(6);
    o.email = st.text(7);
    o.name = st.text(8);
    o.booking.seats = seats_of(st.is_null(9) ? std::string() : st.text(9));
    o.refunded_amount = st.int64(10);
    out.push_back(std::move(o));
  }
  st.reset();
  return out;
}

std::vector<core::Booking> SqliteOrders::confirmed(core::EventId event) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT b.id, b.total_amount - (SELECT COALESCE(SUM(amount), 0) FROM booking_refunds r WHERE r.booking_id = b.id), "
      "b.created_at, (SELECT group_concat(seat) FROM booking_seats s "
      "WHERE s.booking_id = b.id) FROM bookings b WHERE b.event_id = ?1 AND b.status = 'CONFIRMED' ORDER BY b.id");
  st.bind(1, event);
  std::vector<core::Booking> out;
  while (st.step()) {
    core::Booking b;
    b.id = st.int64(0);
    b.event_id = event;
    b.total_amount = st.int64(1);
    b.created_at = from_unix_ms(st.int64(2));
    b.seats = seats_of(st.is_null(3) ? std::string() : st.text(3));
    out.push_back(std::move(b));
  }
  st.reset();
  return out;
}

}  // namespace ticketd::store::sqlite
