// `ticketd verify --store postgres`: the SQL audit of a distributed deployment, independent of the
// code that wrote it (the same checks as the embedded audit, plus the seat claims). Each check
// counts violations; all must be zero. Safe to run against a live database (read-only, one
// REPEATABLE READ snapshot so the checks agree with each other).
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

namespace {
struct Check {
  const char* name;
  const char* sql;  // returns one integer: the number of violations; $1 = now (ms)
};

constexpr Check kChecks[] = {
    {"no seat sold twice (confirmed bookings)",
     "SELECT count(*) FROM (SELECT b.event_id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
     "WHERE b.status = 'CONFIRMED' GROUP BY b.event_id, s.seat HAVING count(*) > 1) x WHERE $1::bigint IS NOT NULL"},
    {"sold seats == seats of confirmed bookings",
     "SELECT (SELECT count(*) FROM (SELECT event_id, seat, booking_id FROM sold_seats EXCEPT "
     "SELECT b.event_id, s.seat, b.id FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
     "WHERE b.status = 'CONFIRMED') x) + (SELECT count(*) FROM (SELECT b.event_id, s.seat, b.id FROM bookings b "
     "JOIN booking_seats s ON s.booking_id = b.id WHERE b.status = 'CONFIRMED' EXCEPT "
     "SELECT event_id, seat, booking_id FROM sold_seats) y) + 0 * $1::bigint"},
    {"sold seats exist in their venue",
     "SELECT count(*) FROM sold_seats s JOIN events e ON e.id = s.event_id "
     "WHERE (s.seat < 0 OR s.seat >= e.seats_total) AND $1::bigint IS NOT NULL"},
    {"every sold seat is claimed by its booking",
     "SELECT count(*) FROM sold_seats s LEFT JOIN seat_claims c ON c.event_id = s.event_id AND c.seat = s.seat "
     "WHERE (c.booking_id IS NULL OR c.booking_id <> s.booking_id) AND $1::bigint IS NOT NULL"},
    {"no live hold overlaps a sale (but a seat listed for resale)",
     "SELECT count(*) FROM holds h JOIN hold_seats hs ON hs.hold_id = h.id JOIN sold_seats s "
     "ON s.event_id = h.event_id AND s.seat = hs.seat WHERE h.state IN ('ACTIVE','PINNED') AND h.deadline > $1 "
     "AND s.booking_id NOT IN (SELECT id FROM bookings WHERE hold_id = h.id) AND NOT EXISTS (SELECT 1 FROM "
     "resale_listings l WHERE l.event_id = s.event_id AND l.seat = s.seat AND l.booking_id = s.booking_id "
     "AND l.state = 'LISTED')"},
    {"no seat in two live holds",
     "SELECT count(*) FROM (SELECT h.event_id, hs.seat FROM holds h JOIN hold_seats hs ON hs.hold_id = h.id "
     "WHERE h.state IN ('ACTIVE','PINNED') AND h.deadline > $1 GROUP BY h.event_id, hs.seat HAVING count(*) > 1) x"},
    {"every confirmed booking has a succeeded payment of its amount",
     "SELECT count(*) FROM bookings b LEFT JOIN payments p ON p.id = b.payment_id WHERE b.status = 'CONFIRMED' "
     "AND (p.id IS NULL OR p.status <> 'SUCCEEDED' OR p.amount <> b.total_amount) AND $1::bigint IS NOT NULL"},
    {"every cancelled booking was refunded",
     "SELECT count(*) FROM bookings b LEFT JOIN payments p ON p.id = b.payment_id WHERE b.status = 'CANCELLED' "
     "AND (p.id IS NULL OR p.status <> 'REFUNDED') AND $1::bigint IS NOT NULL"},
    {"no booking pending or failed owns a sold seat",
     "SELECT count(*) FROM sold_seats s JOIN bookings b ON b.id = s.booking_id "
     "WHERE b.status <> 'CONFIRMED' AND $1::bigint IS NOT NULL"},
    {"every payment belongs to its booking",
     "SELECT count(*) FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id WHERE (b.id IS NULL "
     "OR b.payment_id <> p.id OR p.amount <> b.total_amount) AND $1::bigint IS NOT NULL"},
    {"every converted hold has its booking",
     "SELECT count(*) FROM holds h LEFT JOIN bookings b ON b.id = h.booking_id WHERE h.state = 'CONVERTED' "
     "AND (b.id IS NULL OR b.hold_id <> h.id OR b.status NOT IN ('CONFIRMED','CANCELLED')) AND $1::bigint IS NOT NULL"},
    {"bookings hold the seats of their hold",
     "SELECT count(*) FROM (SELECT b.id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
     "EXCEPT SELECT b.id, hs.seat FROM bookings b JOIN hold_seats hs ON hs.hold_id = b.hold_id) x "
     "WHERE $1::bigint IS NOT NULL"},
    {"live tickets == sold seats, one each, owned by the buyer (or whom it was sent to)",
     "SELECT (SELECT count(*) FROM (SELECT event_id, seat, booking_id FROM sold_seats EXCEPT "
     "SELECT event_id, seat, booking_id FROM tickets WHERE status <> 'REVOKED') x) + (SELECT count(*) FROM tickets t "
     "LEFT JOIN sold_seats s ON s.event_id = t.event_id AND s.seat = t.seat AND s.booking_id = t.booking_id "
     "LEFT JOIN bookings b ON b.id = t.booking_id LEFT JOIN ticket_transfers x ON x.ticket_id = t.id "
     "WHERE t.status <> 'REVOKED' AND (s.seat IS NULL OR t.owner_id <> CASE WHEN x.id IS NULL THEN b.user_id "
     "WHEN x.status = 'PENDING' THEN 0 WHEN x.status = 'ACCEPTED' THEN x.to_user_id ELSE x.from_user_id END)) + 0 * $1::bigint"},
};
}  // namespace

bool verify_database(const std::string& postgres_url, TimeMs now, std::string& report) {
  Connection conn(postgres_url);
  Rows version = conn.query(
      "SELECT coalesce((SELECT max(version) FROM schema_migrations), 0) "
      "WHERE EXISTS(SELECT 1 FROM pg_tables WHERE tablename = 'schema_migrations')");
  if (version.empty() || version.int64(0, 0) == 0) {
    report += "no ticketd schema in this database\n";
    return false;
  }
  conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  bool all_ok = true;
  for (const Check& check : kChecks) {
    const int64_t violations = conn.query(check.sql, {p(to_unix_ms(now))}).int64(0, 0);
    all_ok = all_ok && violations == 0;
    report += (violations == 0 ? "ok    " : "FAIL  ") + std::string(check.name);
    if (violations) report += " (" + std::to_string(violations) + " violations)";
    report += "\n";
  }
  Rows counts = conn.query(
      "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM bookings WHERE status = 'CONFIRMED'), "
      "(SELECT count(*) FROM sold_seats), (SELECT count(*) FROM holds WHERE state IN ('ACTIVE','PINNED') "
      "AND deadline > $1)",
      {p(to_unix_ms(now))});
  report += "schema version " + std::to_string(version.int64(0, 0)) + ", events " + std::to_string(counts.int64(0, 0)) +
            ", confirmed bookings " + std::to_string(counts.int64(0, 1)) + ", sold seats " +
            std::to_string(counts.int64(0, 2)) + ", live holds " + std::to_string(counts.int64(0, 3)) + "\n";
  conn.exec("COMMIT");
  return all_ok;
}

}  // namespace ticketd::store::postgres
