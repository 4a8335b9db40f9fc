#include "store/postgres/checkins.hpp"

#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

namespace {

constexpr const char* kFindScan =
    "SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, result, "
    "offline_result FROM checkins WHERE event_id = $1 AND scan_id = $2";
constexpr const char* kLastAdmission =
    "SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, result, "
    "offline_result FROM checkins WHERE ticket_id = $1 AND result = 'ok' AND direction = 'in' ORDER BY recorded_at DESC LIMIT 1";
constexpr const char* kLockTicket =
    "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason "
    "FROM tickets WHERE id = $1 FOR UPDATE";
constexpr const char* kReadTicket =
    "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason "
    "FROM tickets WHERE id = $1";

core::Scan scan_from(const Rows& r, core::EventId event, int i = 0) {
  core::Scan s;
  s.event_id = event;
  s.scan_id = r.text(i, 0);
  s.ticket_id = r.text(i, 1);
  s.gate = r.text(i, 2);
  s.device_id = r.text(i, 3);
  s.staff_id = r.int64(i, 4);
  s.direction = core::scan_direction_from(r.text(i, 5)).value_or(core::ScanDirection::In);
  s.scanned_at = from_unix_ms(r.int64(i, 6));
  s.recorded_at = from_unix_ms(r.int64(i, 7));
  s.result = core::checkin_result_from(r.text(i, 8)).value_or(core::CheckinResult::Invalid);
  s.offline_result = core::checkin_result_from(r.text(i, 9));
  return s;
}

std::optional<core::Ticket> ticket_from(const Rows& r) {
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r, 0);
}

// One scan inside an open transaction.
core::ScanOutcome decide(Connection& c, const core::Scan& scan, std::optional<core::CheckinResult> code_refusal) {
  core::ScanOutcome out;
  // The ticket's row first: a scan of it on another node waits here, then sees this one's record.
  std::optional<core::Ticket> ticket;
  if (!scan.ticket_id.empty()) ticket = ticket_from(c.query(kLockTicket, {p(scan.ticket_id)}));
  Rows seen = c.query(kFindScan, {p(scan.event_id), p(scan.scan_id)});
  if (!seen.empty()) {
    out.scan = scan_from(seen, scan.event_id);
    out.replayed = true;
    if (!out.scan.ticket_id.empty()) out.ticket = ticket_from(c.query(kReadTicket, {p(out.scan.ticket_id)}));
    return out;
  }
  out.scan = scan;
  if (ticket && ticket->event_id != scan.event_id) ticket.reset();  // not this event's: as unknown
  if (code_refusal) {
    out.scan.result = *code_refusal;
  } else if (!ticket) {
    out.scan.result = core::CheckinResult::Invalid;
  } else {
    const core::CheckinDecision d = core::decide_checkin(ticket->status, scan.direction);
    out.scan.result = d.result;
    if (d.result == core::CheckinResult::AlreadyIn) {
      Rows prev = c.query(kLastAdmission, {p(ticket->id)});
      if (!prev.empty()) out.previous = scan_from(prev, scan.event_id);
    }
    if (d.next) {
      c.query("UPDATE tickets SET status = $2, changed_at = $3, gate = $4 WHERE id = $1",
              {p(ticket->id), p(core::to_string(*d.next)), p(to_unix_ms(scan.recorded_at)), p(scan.gate)});
      ticket->status = *d.next;
    }
  }
  if (ticket) out.ticket = ticket;
  else out.scan.ticket_id.clear();
  // ON CONFLICT: the same scan id of a code that named no ticket, racing itself (no row to lock).
  c.query("INSERT INTO checkins(event_id, scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, "
          "recorded_at, result, offline_result) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
          "ON CONFLICT DO NOTHING",
          {p(out.scan.event_id), p(out.scan.scan_id), p(out.scan.ticket_id), p(out.scan.gate), p(out.scan.device_id),
           p(out.scan.staff_id), p(core::to_string(out.scan.direction)), p(to_unix_ms(out.scan.scanned_at)),
           p(to_unix_ms(out.scan.recorded_at)), p(core::to_string(out.scan.result)),
           p(out.scan.offline_result ? core::to_string(*out.scan.offline_result) : "")});
  return out;
}

}  // namespace

core::Result<core::ScanOutcome> PgCheckinStore::record_scan(const core::Scan& scan,
                                                            std::optional<core::CheckinResult> code_refusal) {
  // Safe to retry on a lost connection: the transaction either committed (the retry finds the scan id)
  // or did not (nothing changed).
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::ScanOutcome> {
    c.exec("BEGIN");
    try {
      core::ScanOutcome out = decide(c, scan, code_refusal);
      c.exec("COMMIT");
      return out;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  });
}

core::TicketStates PgCheckinStore::ticket_states(core::EventId event, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    core::TicketStates out;
    out.tickets = static_cast<uint32_t>(
        c.query("SELECT count(*) FROM tickets WHERE event_id = $1", {p(event)}).int64(0, 0));
    // One snapshot would need a transaction; the two lists may straddle a scan, which a scanner
    // tolerates (it asks the server for any ticket it is unsure of).
    for (const char* status : {"REVOKED", "CHECKED_IN"}) {
      Rows r = c.query("SELECT id FROM tickets WHERE event_id = $1 AND status = $2 ORDER BY id LIMIT $3",
                       {p(event), p(status), p(static_cast<int64_t>(limit) + 1)});
      auto& list = std::string_view(status) == "REVOKED" ? out.revoked : out.checked_in;
      for (int i = 0; i < r.size(); ++i) {
        if (list.size() >= limit) {
          out.truncated = true;
          break;
        }
        list.push_back(r.text(i, 0));
      }
    }
    return out;
  });
}

std::vector<core::TicketChange> PgCheckinStore::ticket_changes(core::EventId event, TimeMs since, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT id, status, gate, changed_at FROM tickets WHERE event_id = $1 AND changed_at > 0 "
                     "AND changed_at >= $2 ORDER BY changed_at DESC LIMIT $3",
                     {p(event), p(to_unix_ms(since)), p(static_cast<int64_t>(limit))});
    std::vector<core::TicketChange> out;
    for (int i = 0; i < r.size(); ++i) {
      core::TicketChange ch;
      ch.ticket_id = r.text(i, 0);
      ch.status = core::ticket_status_from(r.text(i, 1)).value_or(core::TicketStatus::Revoked);
      ch.gate = ch.status == core::TicketStatus::Revoked ? "" : r.text(i, 2);
      ch.changed_at = from_unix_ms(r.int64(i, 3));
      out.push_back(std::move(ch));
    }
    return out;
  });
}

std::vector<core::CheckinConflict> PgCheckinStore::conflicts(core::EventId event, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, result, "
                     "offline_result FROM checkins WHERE event_id = $1 AND offline_result = 'ok' AND result <> 'ok' "
                     "ORDER BY recorded_at DESC LIMIT $2",
                     {p(event), p(static_cast<int64_t>(limit))});
    std::vector<core::CheckinConflict> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(core::CheckinConflict{scan_from(r, event, i), std::nullopt});
    for (core::CheckinConflict& x : out) {
      Rows a = c.query("SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, "
                       "result, offline_result FROM checkins WHERE ticket_id = $1 AND result = 'ok' AND "
                       "direction = 'in' AND recorded_at <= $2 AND scan_id <> $3 ORDER BY recorded_at DESC LIMIT 1",
                       {p(x.scan.ticket_id), p(to_unix_ms(x.scan.recorded_at)), p(x.scan.scan_id)});
      if (!a.empty()) x.admitted_by = scan_from(a, event);
    }
    return out;
  });
}

std::vector<core::Attendee> PgCheckinStore::attendees(core::EventId event, const std::string& after_id,
                                                      uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT t.id, t.event_id, t.booking_id, t.owner_id, t.seat, t.key_id, t.status, t.issued_at, "
                     "t.revoked_at, t.revoked_reason, coalesce(u.email, ''), coalesce(u.name, ''), t.gate "
                     "FROM tickets t LEFT JOIN users u ON u.id = t.owner_id WHERE t.event_id = $1 AND t.id > $2 "
                     "ORDER BY t.id LIMIT $3",
                     {p(event), p(after_id), p(static_cast<int64_t>(limit))});
    std::vector<core::Attendee> out;
    for (int i = 0; i < r.size(); ++i)
      out.push_back(core::Attendee{ticket_from_row(r, i), r.text(i, 10), r.text(i, 11), r.text(i, 12)});
    return out;
  });
}

std::vector<core::GateCount> PgCheckinStore::inside_by_gate(core::EventId event, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT gate, count(*) AS n FROM tickets WHERE event_id = $1 AND status = 'CHECKED_IN' "
                     "GROUP BY gate ORDER BY n DESC, gate LIMIT $2",
                     {p(event), p(static_cast<int64_t>(limit))});
    std::vector<core::GateCount> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(core::GateCount{r.text(i, 0), static_cast<uint32_t>(r.int64(i, 1))});
    return out;
  });
}

core::Status PgCheckinStore::grant_staff(core::EventId event, core::UserId user, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("INSERT INTO event_staff(event_id, user_id, created_at) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
            {p(event), p(user), p(to_unix_ms(now))});
    return core::ok_status();
  });
}

core::Status PgCheckinStore::revoke_staff(core::EventId event, core::UserId user) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("DELETE FROM event_staff WHERE event_id = $1 AND user_id = $2", {p(event), p(user)});
    return core::ok_status();
  });
}

bool PgCheckinStore::is_staff(core::EventId event, core::UserId user) {
  return with_connection(pool_, [&](Connection& c) {
    return !c.query("SELECT 1 FROM event_staff WHERE event_id = $1 AND user_id = $2", {p(event), p(user)}).empty();
  });
}

std::vector<core::UserId> PgCheckinStore::staff_of(core::EventId event, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT user_id FROM event_staff WHERE event_id = $1 ORDER BY user_id LIMIT $2",
                     {p(event), p(static_cast<int64_t>(limit))});
    std::vector<core::UserId> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.int64(i, 0));
    return out;
  });
}

}  // namespace ticketd::store::postgres
