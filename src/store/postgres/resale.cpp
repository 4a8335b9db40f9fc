#include "store/postgres/resale.hpp"

namespace ticketd::store::postgres {

namespace {

// Literals: prepared statements are cached by their addresses.
#define TICKETD_LISTING_COLUMNS                                                                              \
  "SELECT l.id, l.event_id, l.seat, l.booking_id, l.seller_id, l.amount, l.state, l.listed_at, l.ended_at, " \
  "l.buyer_booking_id, l.refund_id, coalesce(r.refund_ref, ''), coalesce((SELECT t.id FROM tickets t "       \
  "WHERE t.booking_id = l.booking_id AND t.seat = l.seat ORDER BY t.issued_at DESC LIMIT 1), '') "           \
  "FROM resale_listings l "                                                                                 \
  "LEFT JOIN booking_refunds r ON r.id = l.refund_id "
constexpr const char* kListed = TICKETD_LISTING_COLUMNS "WHERE l.event_id = $1 AND l.seat = $2 AND l.state = 'LISTED'";
constexpr const char* kOfTicket = TICKETD_LISTING_COLUMNS
    "JOIN tickets t ON t.event_id = l.event_id AND t.seat = l.seat AND t.booking_id = l.booking_id "
    "WHERE t.id = $1 AND t.status = 'VALID' AND l.state = 'LISTED'";
constexpr const char* kOfSeller = TICKETD_LISTING_COLUMNS "WHERE l.seller_id = $1 ORDER BY l.id DESC LIMIT $2";
#undef TICKETD_LISTING_COLUMNS

core::ResaleListing listing_from(const Rows& r, int i) {
  core::ResaleListing l;
  l.id = r.int64(i, 0);
  l.event_id = r.int64(i, 1);
  l.seat = static_cast<core::SeatId>(r.int64(i, 2));
  l.booking_id = r.int64(i, 3);
  l.seller_id = r.int64(i, 4);
  l.amount = r.int64(i, 5);
  l.state = core::listing_state_from(r.text(i, 6)).value_or(core::ListingState::Withdrawn);
  l.listed_at = from_unix_ms(r.int64(i, 7));
  l.ended_at = from_unix_ms(r.int64(i, 8));
  l.buyer_booking_id = r.int64(i, 9);
  l.refund_id = r.int64(i, 10);
  l.refund_ref = r.text(i, 11);
  l.ticket_id = r.text(i, 12);
  return l;
}

}  // namespace

std::optional<core::ResaleListing> PgResaleStore::listed(core::EventId event, core::SeatId seat) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::ResaleListing> {
    Rows r = c.query(kListed,
                     {p(event), p(int64_t{seat})});
    if (r.empty()) return std::nullopt;
    return listing_from(r, 0);
  });
}

std::optional<core::ResaleListing> PgResaleStore::listed_ticket(const std::string& ticket_id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::ResaleListing> {
    Rows r = c.query(kOfTicket, {p(ticket_id)});
    if (r.empty()) return std::nullopt;
    return listing_from(r, 0);
  });
}

std::vector<core::ResaleListing> PgResaleStore::listings_of(core::UserId seller, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(kOfSeller,
                     {p(seller), p(int64_t{limit})});
    std::vector<core::ResaleListing> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(listing_from(r, i));
    return out;
  });
}

core::ResaleStats PgResaleStore::stats(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT count(*) FILTER (WHERE state = 'LISTED'), count(*) FILTER (WHERE state = 'SOLD'), "
                     "count(*) FILTER (WHERE state = 'WITHDRAWN'), "
                     "coalesce(sum(amount) FILTER (WHERE state = 'SOLD'), 0)::bigint, "
                     "count(*) FILTER (WHERE state = 'SOLD' AND NOT refund_paid) FROM resale_listings WHERE event_id = $1",
                     {p(event)});
    return core::ResaleStats{static_cast<uint64_t>(r.int64(0, 0)), static_cast<uint64_t>(r.int64(0, 1)),
                             static_cast<uint64_t>(r.int64(0, 2)), r.int64(0, 3), static_cast<uint64_t>(r.int64(0, 4))};
  });
}

std::vector<core::ResaleRefundDue> PgResaleStore::refunds_due(uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT DISTINCT l.refund_id, f.booking_id, coalesce(p.payment_ref, ''), f.amount "
                     "FROM resale_listings l JOIN booking_refunds f ON f.id = l.refund_id "
                     "JOIN bookings b ON b.id = f.booking_id LEFT JOIN payments p ON p.id = b.payment_id "
                     "WHERE l.state = 'SOLD' AND NOT l.refund_paid ORDER BY l.refund_id LIMIT $1",
                     {p(int64_t{limit})});
    std::vector<core::ResaleRefundDue> out;
    for (int i = 0; i < r.size(); ++i)
      out.push_back(core::ResaleRefundDue{r.int64(i, 0), r.int64(i, 1), r.text(i, 2), r.int64(i, 3)});
    return out;
  });
}

core::Status PgResaleStore::record_refund(int64_t refund_id, const std::string& refund_ref) {
  with_connection(pool_, [&](Connection& c) {
    c.exec("BEGIN");
    try {
      c.query("UPDATE booking_refunds SET refund_ref = $2 WHERE id = $1 AND refund_ref = ''", {p(refund_id), p(refund_ref)});
      c.query("UPDATE resale_listings SET refund_paid = true WHERE refund_id = $1 AND state = 'SOLD'", {p(refund_id)});
      c.exec("COMMIT");
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
    return 0;
  });
  return core::ok_status();
}

}  // namespace ticketd::store::postgres
