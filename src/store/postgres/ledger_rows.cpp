// The seat ledger's rows in PostgreSQL (ledger_rows.hpp).
#include "store/postgres/ledger_rows.hpp"

#include "core/seat_csv.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

namespace {

// What checkout_from reads (columns 0-14), then where from.
constexpr const char* kCheckoutSelect =
    "SELECT p.hold_id, p.booking_id, b.event_id, p.user_id, b.status, p.id, p.status, p.payment_ref, p.gateway_key, "
    "p.payment_method, p.amount, p.currency, p.decline_code, p.message, p.created_at ";
constexpr const char* kCheckoutFrom = "FROM payments p JOIN bookings b ON b.id = p.booking_id ";

core::CheckoutRecord checkout_from(const Rows& r, int i) {
  return core::CheckoutRecord{r.int64(i, 0),
                              r.int64(i, 1),
                              r.int64(i, 2),
                              r.int64(i, 3),
                              core::booking_status_from(r.text(i, 4)).value_or(core::BookingStatus::Failed),
                              r.int64(i, 5),
                              r.text(i, 6),
                              r.text(i, 7),
                              r.text(i, 8),
                              r.text(i, 9),
                              r.int64(i, 10),
                              r.text(i, 11),
                              r.text(i, 12),
                              r.text(i, 13),
                              from_unix_ms(r.int64(i, 14))};
}

}  // namespace

std::vector<core::SeatId> seats_of(const std::vector<int64_t>& v) {
  std::vector<core::SeatId> out;
  out.reserve(v.size());
  for (int64_t s : v) out.push_back(static_cast<core::SeatId>(s));
  return out;
}

std::optional<StoredHold> LedgerRows::hold(core::HoldId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<StoredHold> {
    Rows r = c.query("SELECT event_id, user_id, created_at, expires_at, state, coalesce(booking_id, 0), deadline, "
                     "(SELECT array_agg(seat ORDER BY seat) FROM hold_seats WHERE hold_id = h.id) "
                     "FROM holds h WHERE id = $1",
                     {p(id)});
    if (r.empty()) return std::nullopt;
    StoredHold out{core::Hold{id, r.int64(0, 0), r.int64(0, 1), seats_of(r.int_array(0, 7)), from_unix_ms(r.int64(0, 2)),
                              from_unix_ms(r.int64(0, 3)), core::HoldState::Active, r.int64(0, 5)},
                   r.text(0, 4), r.int64(0, 6)};
    return out;
  });
}

std::optional<core::CheckoutRecord> LedgerRows::checkout(core::UserId user, const std::string& key) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::CheckoutRecord> {
    static const std::string sql =
        std::string(kCheckoutSelect) + kCheckoutFrom + "WHERE p.user_id = $1 AND p.idempotency_key = $2";
    Rows r = c.query(sql.c_str(), {p(user), p(key)});
    if (r.empty()) return std::nullopt;
    return checkout_from(r, 0);
  });
}

std::vector<std::optional<core::CheckoutRecord>> LedgerRows::checkouts(const std::vector<core::CheckoutKey>& keys) {
  return with_connection(pool_, [&](Connection& c) {
    std::vector<int64_t> users;
    std::vector<std::string> idempotency_keys;
    for (const core::CheckoutKey& k : keys) {
      users.push_back(k.user);
      idempotency_keys.push_back(k.idempotency_key);
    }
    // One probe of the (user_id, idempotency_key) index per key; k.n (column 15) says whose answer a
    // row is. A key names at most one payment (UNIQUE (user_id, idempotency_key)).
    static const std::string sql = std::string(kCheckoutSelect) +
                                   ", k.n FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS k(u, ikey, n) "
                                   "JOIN payments p ON p.user_id = k.u AND p.idempotency_key = k.ikey "
                                   "JOIN bookings b ON b.id = p.booking_id";
    Rows r = c.query(sql.c_str(), {p_array(users), p_text_array(idempotency_keys)});
    std::vector<std::optional<core::CheckoutRecord>> out(keys.size());
    for (int i = 0; i < r.size(); ++i) {
      const int64_t n = r.int64(i, 15);
      if (n >= 1 && static_cast<size_t>(n) <= keys.size()) out[static_cast<size_t>(n - 1)] = checkout_from(r, i);
    }
    return out;
  });
}

core::Status LedgerRows::record_refund(core::BookingId booking, const std::string& refund_ref) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("UPDATE payments SET status = 'REFUNDED', refund_ref = $2 WHERE booking_id = $1 AND status = 'SUCCEEDED'",
            {p(booking), p(refund_ref)});
    return core::ok_status();
  });
}

bool LedgerRows::payment_event_seen(const std::string& event_id) {
  return with_connection(pool_, [&](Connection& c) {
    return !c.query("SELECT 1 FROM payment_events WHERE id = $1", {p(event_id)}).empty();
  });
}

core::Status LedgerRows::record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("INSERT INTO payment_events(id, type, received_at) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
            {p(event_id), p(type), p(to_unix_ms(now))});
    return core::ok_status();
  });
}

std::vector<core::CheckoutRecord> LedgerRows::payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                                 uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    // Every node reconciles; each payment is leased to one of them for 5 s, about one pass (SKIP
    // LOCKED: nodes never wait for each other), so the gateway is asked once per pass, not once per
    // node. A pass that outlasts the lease only costs a duplicate, idempotent, gateway call.
    static const std::string sql =
        "WITH leased AS (UPDATE payments SET reconcile_lease_until = "
        "(extract(epoch FROM clock_timestamp()) * 1000)::bigint + 5000 WHERE id IN ("
        "SELECT p.id FROM payments p JOIN bookings b ON b.id = p.booking_id "
        "WHERE p.id > $3 AND ((b.status = 'PENDING_PAYMENT' AND p.created_at <= $1) "
        "OR (b.status = 'FAILED' AND p.status = 'SUCCEEDED')) AND p.reconcile_lease_until <= (extract(epoch FROM "
        "clock_timestamp()) * 1000)::bigint "
        "ORDER BY p.id LIMIT $2 FOR UPDATE OF p SKIP LOCKED) RETURNING id) " +
        std::string(kCheckoutSelect) + kCheckoutFrom + "WHERE p.id IN (SELECT id FROM leased) ORDER BY p.id";
    Rows r = c.query(sql.c_str(),
                     {p(to_unix_ms(older_than)), p(static_cast<int64_t>(limit)), p(static_cast<int64_t>(after_payment))});
    std::vector<core::CheckoutRecord> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(checkout_from(r, i));
    return out;
  });
}

std::optional<core::Booking> LedgerRows::booking(core::BookingId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::Booking> {
    Rows r = c.query(
        "SELECT b.hold_id, b.event_id, b.user_id, b.status, b.total_amount, b.currency, b.payment_id, b.created_at, "
        "b.cancelled_at, p.payment_ref, b.decline_code, b.message, "
        "(SELECT array_agg(seat ORDER BY seat) FROM booking_seats WHERE booking_id = b.id) "
        "FROM bookings b JOIN payments p ON p.id = b.payment_id WHERE b.id = $1",
        {p(id)});
    if (r.empty()) return std::nullopt;
    return core::Booking{id, r.int64(0, 0), r.int64(0, 1), r.int64(0, 2),
                         core::booking_status_from(r.text(0, 3)).value_or(core::BookingStatus::Cancelled),
                         seats_of(r.int_array(0, 12)), r.int64(0, 4), r.text(0, 5), r.int64(0, 6), r.text(0, 9),
                         from_unix_ms(r.int64(0, 7)), r.is_null(0, 8) ? TimeMs{} : from_unix_ms(r.int64(0, 8)),
                         r.text(0, 10), r.text(0, 11)};
  });
}

std::optional<core::BookingId> LedgerRows::booking_by_payment_ref(const std::string& payment_ref) {
  if (payment_ref.empty()) return std::nullopt;
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::BookingId> {
    Rows r = c.query("SELECT booking_id FROM payments WHERE payment_ref = $1", {p(payment_ref)});
    if (r.empty()) return std::nullopt;
    return r.int64(0, 0);
  });
}

std::vector<core::BookingId> LedgerRows::bookings_of(core::UserId user, uint32_t limit, core::BookingId before_id,
                                                     bool include_failed) {
  return with_connection(pool_, [&](Connection& c) {
    // Newest first by when they were made, not by id: ids come in blocks per node (an event's owner
    // draws its own), so a booking made later on another node may have a smaller id. The cursor is still
    // a booking id: the page goes on from where that booking stands in this order.
    Rows r = c.query("SELECT id FROM bookings WHERE user_id = $1 AND ($4 OR status <> 'FAILED') "
                     "AND ($2 = 0 OR (created_at, id) < (SELECT created_at, id FROM bookings WHERE id = $2)) "
                     "ORDER BY created_at DESC, id DESC LIMIT $3",
                     {p(user), p(before_id > 0 ? before_id : 0), p(static_cast<int64_t>(limit)),
                      p(include_failed ? "true" : "false")});
    std::vector<core::BookingId> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.int64(i, 0));
    return out;
  });
}

int64_t LedgerRows::seat_refunds_total(core::BookingId booking) {
  return with_connection(pool_, [&](Connection& c) {
    return c.query("SELECT COALESCE(SUM(amount), 0) FROM booking_refunds WHERE booking_id = $1", {p(booking)}).int64(0, 0);
  });
}

std::optional<core::SeatRefundRecord> LedgerRows::seat_refund(int64_t id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::SeatRefundRecord> {
    Rows r = c.query("SELECT booking_id, seats, amount, refund_ref, created_at FROM booking_refunds WHERE id = $1", {p(id)});
    if (r.empty()) return std::nullopt;
    return core::SeatRefundRecord{id, r.int64(0, 0), core::parse_seat_csv(r.text(0, 1)), r.int64(0, 2), r.text(0, 3),
                                  from_unix_ms(r.int64(0, 4))};
  });
}

namespace {

// Literals: prepared statements are cached by the SQL text's address.
#define TICKETD_TICKET_COLUMNS \
  "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason FROM tickets "
constexpr const char* kTicketsOfBooking =
    TICKETD_TICKET_COLUMNS "WHERE booking_id = $1 ORDER BY seat, issued_at LIMIT 1000";
constexpr const char* kTicketById = TICKETD_TICKET_COLUMNS "WHERE id = $1";
#undef TICKETD_TICKET_COLUMNS

}  // namespace

core::Ticket ticket_from_row(const Rows& r, int i) {
  core::Ticket t;
  t.id = r.text(i, 0);
  t.event_id = r.int64(i, 1);
  t.booking_id = r.int64(i, 2);
  t.owner_id = r.int64(i, 3);
  t.seat = static_cast<core::SeatId>(r.int64(i, 4));
  t.key_id = static_cast<uint32_t>(r.int64(i, 5));
  // A status this code does not know is treated as the safe one: it admits no one.
  t.status = core::ticket_status_from(r.text(i, 6)).value_or(core::TicketStatus::Revoked);
  t.issued_at = from_unix_ms(r.int64(i, 7));
  if (!r.is_null(i, 8)) t.revoked_at = from_unix_ms(r.int64(i, 8));
  t.revoked_reason = r.text(i, 9);
  return t;
}

std::vector<core::Ticket> LedgerRows::tickets_of_booking(core::BookingId booking) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(kTicketsOfBooking, {p(booking)});
    std::vector<core::Ticket> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(ticket_from_row(r, i));
    return out;
  });
}

std::optional<core::Ticket> LedgerRows::ticket(const std::string& ticket_id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::Ticket> {
    Rows r = c.query(kTicketById, {p(ticket_id)});
    if (r.empty()) return std::nullopt;
    return ticket_from_row(r, 0);
  });
}

}  // namespace ticketd::store::postgres
