#include "store/sqlite/resale.hpp"

#include <sqlite3.h>

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

// Literals: the statement cache is keyed by their addresses.
#define TICKETD_LISTING_COLUMNS                                                                              \
  "SELECT l.id, l.event_id, l.seat, l.booking_id, l.seller_id, l.amount, l.state, l.listed_at, l.ended_at, " \
  "l.buyer_booking_id, l.refund_id, COALESCE(r.refund_ref, ''), COALESCE((SELECT t.id FROM tickets t "       \
  "WHERE t.booking_id = l.booking_id AND t.seat = l.seat ORDER BY t.issued_at DESC LIMIT 1), '') "           \
  "FROM resale_listings l "                                                                                 \
  "LEFT JOIN booking_refunds r ON r.id = l.refund_id "
constexpr const char* kListed = TICKETD_LISTING_COLUMNS "WHERE l.event_id = ?1 AND l.seat = ?2 AND l.state = 'LISTED'";
constexpr const char* kOfTicket = TICKETD_LISTING_COLUMNS
    "JOIN tickets t ON t.event_id = l.event_id AND t.seat = l.seat AND t.booking_id = l.booking_id "
    "WHERE t.id = ?1 AND t.status = 'VALID' AND l.state = 'LISTED'";
constexpr const char* kOfSeller = TICKETD_LISTING_COLUMNS "WHERE l.seller_id = ?1 ORDER BY l.id DESC LIMIT ?2";
#undef TICKETD_LISTING_COLUMNS

core::ResaleListing listing_from(Statement& st) {
  core::ResaleListing l;
  l.id = st.int64(0);
  l.event_id = st.int64(1);
  l.seat = static_cast<core::SeatId>(st.int64(2));
  l.booking_id = st.int64(3);
  l.seller_id = st.int64(4);
  l.amount = st.int64(5);
  l.state = core::listing_state_from(st.text(6)).value_or(core::ListingState::Withdrawn);
  l.listed_at = from_unix_ms(st.int64(7));
  l.ended_at = from_unix_ms(st.int64(8));
  l.buyer_booking_id = st.int64(9);
  l.refund_id = st.int64(10);
  l.refund_ref = st.text(11);
  l.ticket_id = st.text(12);
  return l;
}

}  // namespace

std::optional<core::ResaleListing> SqliteResaleStore::listed(core::EventId event, core::SeatId seat) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kListed);
  st.bind(1, event).bind(2, int64_t{seat});
  std::optional<core::ResaleListing> out;
  if (st.step()) out = listing_from(st);
  st.reset();
  return out;
}

std::optional<core::ResaleListing> SqliteResaleStore::listed_ticket(const std::string& ticket_id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kOfTicket);
  st.bind(1, ticket_id);
  std::optional<core::ResaleListing> out;
  if (st.step()) out = listing_from(st);
  st.reset();
  return out;
}

std::vector<core::ResaleListing> SqliteResaleStore::listings_of(core::UserId seller, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kOfSeller);
  st.bind(1, seller).bind(2, int64_t{limit});
  std::vector<core::ResaleListing> out;
  while (st.step()) out.push_back(listing_from(st));
  st.reset();
  return out;
}

core::ResaleStats SqliteResaleStore::stats(core::EventId event) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT COALESCE(SUM(state = 'LISTED'), 0), COALESCE(SUM(state = 'SOLD'), 0), COALESCE(SUM(state = 'WITHDRAWN'), 0), "
      "COALESCE(SUM(CASE WHEN state = 'SOLD' THEN amount ELSE 0 END), 0), "
      "COALESCE(SUM(state = 'SOLD' AND refund_paid = 0), 0) FROM resale_listings WHERE event_id = ?1");
  st.bind(1, event);
  core::ResaleStats out;
  if (st.step())
    out = core::ResaleStats{static_cast<uint64_t>(st.int64(0)), static_cast<uint64_t>(st.int64(1)),
                            static_cast<uint64_t>(st.int64(2)), st.int64(3), static_cast<uint64_t>(st.int64(4))};
  st.reset();
  return out;
}

std::vector<core::ResaleRefundDue> SqliteResaleStore::refunds_due(uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT DISTINCT l.refund_id, f.booking_id, COALESCE(p.payment_ref, ''), f.amount FROM resale_listings l "
      "JOIN booking_refunds f ON f.id = l.refund_id JOIN bookings b ON b.id = f.booking_id "
      "LEFT JOIN payments p ON p.id = b.payment_id WHERE l.state = 'SOLD' AND l.refund_paid = 0 "
      "ORDER BY l.refund_id LIMIT ?1");
  st.bind(1, int64_t{limit});
  std::vector<core::ResaleRefundDue> out;
  while (st.step()) out.push_back(core::ResaleRefundDue{st.int64(0), st.int64(1), st.text(2), st.int64(3)});
  st.reset();
  return out;
}

core::Status SqliteResaleStore::record_refund(int64_t refund_id, const std::string& refund_ref) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("UPDATE booking_refunds SET refund_ref = ?2 WHERE id = ?1 AND refund_ref = ''")
        .bind(1, refund_id).bind(2, refund_ref).step_status();
    c.prepare("UPDATE resale_listings SET refund_paid = 1 WHERE refund_id = ?1 AND state = 'SOLD'")
        .bind(1, refund_id).step_status();
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite
