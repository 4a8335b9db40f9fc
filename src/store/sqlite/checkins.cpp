// The embedded CheckinStore: every scan is one writer job, so scans of one ticket are decided one at a
// time in commit order (the writer is the only writer), and the scan's record commits with the
// ticket's new status or not at all.
#include "store/sqlite/checkins.hpp"

#include <sqlite3.h>

#include "base/clock.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

core::Scan scan_from(Statement& st, core::EventId event) {
  core::Scan s;
  s.event_id = event;
  s.scan_id = st.text(0);
  s.ticket_id = st.text(1);
  s.gate = st.text(2);
  s.device_id = st.text(3);
  s.staff_id = st.int64(4);
  s.direction = core::scan_direction_from(st.text(5)).value_or(core::ScanDirection::In);
  s.scanned_at = from_unix_ms(st.int64(6));
  s.recorded_at = from_unix_ms(st.int64(7));
  s.result = core::checkin_result_from(st.text(8)).value_or(core::CheckinResult::Invalid);
  s.offline_result = core::checkin_result_from(st.text(9));
  return s;
}

std::optional<core::Scan> find_scan(Connection& c, core::EventId event, const std::string& scan_id) {
  auto& st = c.prepare("SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, "
                       "result, offline_result FROM checkins WHERE event_id = ?1 AND scan_id = ?2");
  st.bind(1, event).bind(2, scan_id);
  std::optional<core::Scan> out;
  if (st.step()) out = scan_from(st, event);
  st.reset();
  return out;
}

// The last scan that let this ticket in.
std::optional<core::Scan> last_admission(Connection& c, core::EventId event, const std::string& ticket_id) {
  auto& st = c.prepare("SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, "
                       "result, offline_result FROM checkins WHERE ticket_id = ?1 AND result = 'ok' AND direction = 'in' "
                       "ORDER BY recorded_at DESC LIMIT 1");
  st.bind(1, ticket_id);
  std::optional<core::Scan> out;
  if (st.step()) out = scan_from(st, event);
  st.reset();
  return out;
}

std::optional<core::Ticket> read_ticket(Connection& c, const std::string& id) {
  auto& st = c.prepare("SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, "
                       "revoked_reason FROM tickets WHERE id = ?1");
  st.bind(1, id);
  std::optional<core::Ticket> out;
  if (st.step()) out = ticket_from_row(st);
  st.reset();
  return out;
}

void insert_scan(Connection& c, const core::Scan& s) {
  c.prepare("INSERT INTO checkins(event_id, scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, "
            "recorded_at, result, offline_result) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")
      .bind(1, s.event_id).bind(2, s.scan_id).bind(3, s.ticket_id).bind(4, s.gate).bind(5, s.device_id)
      .bind(6, s.staff_id).bind(7, core::to_string(s.direction)).bind(8, to_unix_ms(s.scanned_at))
      .bind(9, to_unix_ms(s.recorded_at)).bind(10, core::to_string(s.result))
      .bind(11, s.offline_result ? core::to_string(*s.offline_result) : "")
      .step_status();
}

}  // namespace

core::Result<core::ScanOutcome> SqliteCheckinStore::record_scan(const core::Scan& scan,
                                                                std::optional<core::CheckinResult> code_refusal) {
  core::ScanOutcome out;
  auto job = [&](Connection& c) -> core::Status {
    out = core::ScanOutcome{};
    if (auto seen = find_scan(c, scan.event_id, scan.scan_id)) {
      out.scan = *seen;
      out.replayed = true;
      if (!seen->ticket_id.empty()) out.ticket = read_ticket(c, seen->ticket_id);
      return core::ok_status();
    }
    out.scan = scan;
    std::optional<core::Ticket> ticket;
    if (!scan.ticket_id.empty()) ticket = read_ticket(c, scan.ticket_id);
    if (ticket && ticket->event_id != scan.event_id) ticket.reset();  // not this event's: as unknown
    if (code_refusal) {
      out.scan.result = *code_refusal;
    } else if (!ticket) {
      out.scan.result = core::CheckinResult::Invalid;  // a signed code for a ticket this store never issued
    } else {
      const core::CheckinDecision d = core::decide_checkin(ticket->status, scan.direction);
      out.scan.result = d.result;
      if (d.result == core::CheckinResult::AlreadyIn) out.previous = last_admission(c, scan.event_id, ticket->id);
      if (d.next) {
        c.prepare("UPDATE tickets SET status = ?2, changed_at = ?4, gate = ?5 WHERE id = ?1 AND status = ?3")
            .bind(1, ticket->id).bind(2, core::to_string(*d.next)).bind(3, core::to_string(ticket->status))
            .bind(4, to_unix_ms(scan.recorded_at)).bind(5, scan.gate)
            .step_status();
        if (c.changes() != 1) return make_error(Code::Unavailable, "ticket changed under the writer");
        ticket->status = *d.next;
      }
    }
    if (ticket) out.ticket = ticket;
    else out.scan.ticket_id.clear();
    insert_scan(c, out.scan);
    return core::ok_status();
  };
  if (auto s = db_.writer().run(job); !s) return s.error();
  return out;
}

core::TicketStates SqliteCheckinStore::ticket_states(core::EventId event, uint32_t limit) {
  core::TicketStates out;
  auto r = db_.readers().acquire();
  auto& count = r->prepare("SELECT COUNT(*) FROM tickets WHERE event_id = ?1");
  count.bind(1, event);
  if (count.step()) out.tickets = static_cast<uint32_t>(count.int64(0));
  count.reset();
  auto& st = r->prepare("SELECT id, status FROM tickets WHERE event_id = ?1 AND status <> 'VALID' ORDER BY id");
  st.bind(1, event);
  while (st.step()) {
    auto& list = st.text(1) == "REVOKED" ? out.revoked : out.checked_in;
    if (list.size() >= limit) {
      out.truncated = true;
      continue;
    }
    list.push_back(st.text(0));
  }
  st.reset();
  return out;
}

std::vector<core::TicketChange> SqliteCheckinStore::ticket_changes(core::EventId event, TimeMs since,
                                                                  uint32_t limit) {
  std::vector<core::TicketChange> out;
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, status, gate, changed_at FROM tickets WHERE event_id = ?1 AND changed_at > 0 "
                        "AND changed_at >= ?2 ORDER BY changed_at DESC LIMIT ?3");
  st.bind(1, event).bind(2, to_unix_ms(since)).bind(3, limit);
  while (st.step()) {
    core::TicketChange ch;
    ch.ticket_id = st.text(0);
    ch.status = core::ticket_status_from(st.text(1)).value_or(core::TicketStatus::Revoked);
    ch.gate = ch.status == core::TicketStatus::Revoked ? "" : st.text(2);
    ch.changed_at = from_unix_ms(st.int64(3));
    out.push_back(std::move(ch));
  }
  st.reset();
  return out;
}

std::vector<core::CheckinConflict> SqliteCheckinStore::conflicts(core::EventId event, uint32_t limit) {
  std::vector<core::CheckinConflict> out;
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, "
                        "result, offline_result FROM checkins WHERE event_id = ?1 AND offline_result = 'ok' "
                        "AND result <> 'ok' ORDER BY recorded_at DESC LIMIT ?2");
  st.bind(1, event).bind(2, limit);
  while (st.step()) out.push_back(core::CheckinConflict{scan_from(st, event), std::nullopt});
  st.reset();
  for (core::CheckinConflict& c : out) {
    auto& a = r->prepare("SELECT scan_id, ticket_id, gate, device_id, staff_id, direction, scanned_at, recorded_at, "
                         "result, offline_result FROM checkins WHERE ticket_id = ?1 AND result = 'ok' AND "
                         "direction = 'in' AND recorded_at <= ?2 AND scan_id <> ?3 ORDER BY recorded_at DESC LIMIT 1");
    a.bind(1, c.scan.ticket_id).bind(2, to_unix_ms(c.scan.recorded_at)).bind(3, c.scan.scan_id);
    if (a.step()) c.admitted_by = scan_from(a, event);
    a.reset();
  }
  return out;
}

std::vector<core::Attendee> SqliteCheckinStore::attendees(core::EventId event, const std::string& after_id,
                                                          uint32_t limit) {
  std::vector<core::Attendee> out;
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT t.id, t.event_id, t.booking_id, t.owner_id, t.seat, t.key_id, t.status, t.issued_at, "
                        "t.revoked_at, t.revoked_reason, coalesce(u.email, ''), coalesce(u.name, ''), t.gate "
                        "FROM tickets t LEFT JOIN users u ON u.id = t.owner_id WHERE t.event_id = ?1 AND t.id > ?2 "
                        "ORDER BY t.id LIMIT ?3");
  st.bind(1, event).bind(2, after_id).bind(3, limit);
  while (st.step()) out.push_back(core::Attendee{ticket_from_row(st), st.text(10), st.text(11), st.text(12)});
  st.reset();
  return out;
}

std::vector<core::GateCount> SqliteCheckinStore::inside_by_gate(core::EventId event, uint32_t limit) {
  std::vector<core::GateCount> out;
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT gate, COUNT(*) AS n FROM tickets WHERE event_id = ?1 AND status = 'CHECKED_IN' "
                        "GROUP BY gate ORDER BY n DESC, gate LIMIT ?2");
  st.bind(1, event).bind(2, limit);
  while (st.step()) out.push_back(core::GateCount{st.text(0), static_cast<uint32_t>(st.int64(1))});
  st.reset();
  return out;
}

core::Status SqliteCheckinStore::grant_staff(core::EventId event, core::UserId user, TimeMs now) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("INSERT OR IGNORE INTO event_staff(event_id, user_id, created_at) VALUES(?1, ?2, ?3)")
        .bind(1, event).bind(2, user).bind(3, to_unix_ms(now)).step_status();
    return core::ok_status();
  });
}

core::Status SqliteCheckinStore::revoke_staff(core::EventId event, core::UserId user) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("DELETE FROM event_staff WHERE event_id = ?1 AND user_id = ?2").bind(1, event).bind(2, user)
        .step_status();
    return core::ok_status();
  });
}

bool SqliteCheckinStore::is_staff(core::EventId event, core::UserId user) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT 1 FROM event_staff WHERE event_id = ?1 AND user_id = ?2");
  st.bind(1, event).bind(2, user);
  const bool found = st.step();
  st.reset();
  return found;
}

std::vector<core::UserId> SqliteCheckinStore::staff_of(core::EventId event, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT user_id FROM event_staff WHERE event_id = ?1 ORDER BY user_id LIMIT ?2");
  st.bind(1, event).bind(2, limit);
  std::vector<core::UserId> out;
  while (st.step()) out.push_back(st.int64(0));
  st.reset();
  return out;
}

}  // namespace ticketd::store::sqlite
