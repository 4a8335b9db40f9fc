// `ticketd verify`: an offline audit of a data directory, in SQL, independent of the code that wrote
// it. Each check counts violations; all must be zero.
#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

namespace {
struct Check {
  const char* name;
  const char* sql;  // returns one integer: the number of violations; ?1 = now (ms)
};

constexpr Check kChecks[] = {
    {"no seat sold twice (confirmed bookings)",
     "SELECT COUNT(*) FROM (SELECT b.event_id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
     "WHERE b.status = 'CONFIRMED' GROUP BY b.event_id, s.seat HAVING COUNT(*) > 1)"},
    {"sold seats == seats of confirmed bookings",
     "SELECT (SELECT COUNT(*) FROM (SELECT event_id, seat, booking_id FROM sold_seats EXCEPT "
     "SELECT b.event_id, s.seat, b.id FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
     "WHERE b.status = 'CONFIRMED')) + (SELECT COUNT(*) FROM (SELECT b.event_id, s.seat, b.id FROM bookings b "
     "JOIN booking_seats s ON s.booking_id = b.id WHERE b.status = 'CONFIRMED' EXCEPT "
     "SELECT event_id, seat, booking_id FROM sold_seats))"},
    {"sold seats exist in their venue",
     "SELECT COUNT(*) FROM sold_seats s JOIN events e ON e.id = s.event_id WHERE s.seat < 0 OR s.seat >= e.seats_total"},
    {"no live hold overlaps a sale (but a seat listed for resale)",
     "SELECT COUNT(*) FROM holds h JOIN hold_seats hs ON hs.hold_id = h.id JOIN sold_seats s "
     "ON s.event_id = h.event_id AND s.seat = hs.seat WHERE h.state = 'ACTIVE' AND h.expires_at > ?1 "
     "AND NOT EXISTS (SELECT 1 FROM resale_listings l WHERE l.event_id = s.event_id AND l.seat = s.seat "
     "AND l.booking_id = s.booking_id AND l.state = 'LISTED')"},
    {"no seat in two live holds",
     "SELECT COUNT(*) FROM (SELECT h.event_id, hs.seat FROM holds h JOIN hold_seats hs ON hs.hold_id = h.id "
     "WHERE h.state = 'ACTIVE' AND h.expires_at > ?1 GROUP BY h.event_id, hs.seat HAVING COUNT(*) > 1)"},
    {"every confirmed booking has a succeeded payment of its amount",
     "SELECT COUNT(*) FROM bookings b LEFT JOIN payments p ON p.id = b.payment_id WHERE b.status = 'CONFIRMED' "
     "AND (p.id IS NULL OR p.status <> 'SUCCEEDED' OR p.amount <> b.total_amount)"},
    {"every cancelled booking was refunded",
     "SELECT COUNT(*) FROM bookings b LEFT JOIN payments p ON p.id = b.payment_id WHERE b.status = 'CANCELLED' "
     "AND (p.id IS NULL OR p.status <> 'REFUNDED')"},
    {"no booking pending or failed owns a sold seat",
     "SELECT COUNT(*) FROM sold_seats s JOIN bookings b ON b.id = s.booking_id WHERE b.status <> 'CONFIRMED'"},
    {"every payment belongs to its booking",
     "SELECT COUNT(*) FROM payments p LEFT JOIN bookings b ON b.id = p.booking_id WHERE b.id IS NULL "
     "OR b.payment_id <> p.id OR p.amount <> b.total_amount"},
    {"every converted hold has its booking",
     "SELECT COUNT(*) FROM holds h LEFT JOIN bookings b ON b.id = h.booking_id WHERE h.state = 'CONVERTED' "
     "AND (b.id IS NULL OR b.hold_id <> h.id OR b.status NOT IN ('CONFIRMED','CANCELLED'))"},
    {"bookings hold the seats of their hold",
     "SELECT COUNT(*) FROM (SELECT b.id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
     "EXCEPT SELECT b.id, hs.seat FROM bookings b JOIN hold_seats hs ON hs.hold_id = b.hold_id)"},
    {"live tickets == sold seats, one each, owned by the buyer (or whom it was sent to)",
     "SELECT (SELECT COUNT(*) FROM (SELECT event_id, seat, booking_id FROM sold_seats EXCEPT "
     "SELECT event_id, seat, booking_id FROM tickets WHERE status <> 'REVOKED')) + (SELECT COUNT(*) FROM tickets t "
     "LEFT JOIN sold_seats s ON s.event_id = t.event_id AND s.seat = t.seat AND s.booking_id = t.booking_id "
     "LEFT JOIN bookings b ON b.id = t.booking_id LEFT JOIN ticket_transfers x ON x.ticket_id = t.id "
     "WHERE t.status <> 'REVOKED' AND (s.seat IS NULL OR t.owner_id <> CASE WHEN x.id IS NULL THEN b.user_id "
     "WHEN x.status = 'PENDING' THEN 0 WHEN x.status = 'ACCEPTED' THEN x.to_user_id ELSE x.from_user_id END))"},
};
}  // namespace

bool verify_data_dir(const std::string& data_dir, TimeMs now, std::string& report) {
  const auto path = std::filesystem::path(data_dir) / kDatabaseFile;
  if (!std::filesystem::exists(path)) {
    report += "no database at " + path.string() + "\n";
    return false;
  }
  // Read-write so SQLite can replay the WAL of a process that was killed; nothing is modified.
  Connection conn(path.string(), Connection::Mode::ReadWrite);
  bool all_ok = true;
  for (const Check& check : kChecks) {
    auto& st = conn.prepare(check.sql);
    if (std::string(check.sql).find("?1") != std::string::npos) st.bind(1, to_unix_ms(now));
    st.step();
    const int64_t violations = st.int64(0);
    st.reset();
    all_ok = all_ok && violations == 0;
    report += (violations == 0 ? "ok    " : "FAIL  ") + std::string(check.name);
    if (violations) report += " (" + std::to_string(violations) + " violations)";
    report += "\n";
  }
  auto& counts = conn.prepare(
      "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM bookings WHERE status = 'CONFIRMED'), "
      "(SELECT COUNT(*) FROM sold_seats), (SELECT COUNT(*) FROM holds WHERE state = 'ACTIVE' AND expires_at > ?1)");
  counts.bind(1, to_unix_ms(now));
  counts.step();
  report += "events " + std::to_string(counts.int64(0)) + ", confirmed bookings " + std::to_string(counts.int64(1)) +
            ", sold seats " + std::to_string(counts.int64(2)) + ", live holds " + std::to_string(counts.int64(3)) + "\n";
  counts.reset();
  return all_ok;
}

}  // namespace ticketd::store::sqlite
