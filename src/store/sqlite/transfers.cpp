#include "store/sqlite/transfers.hpp"

#include <sqlite3.h>

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

// Literals: the statement cache is keyed by their addresses.
constexpr const char* kTicket =
    "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason "
    "FROM tickets WHERE id = ?1";
constexpr const char* kTransfer =
    "SELECT id, event_id, from_ticket_id, ticket_id, from_user_id, to_email, to_user_id, status, created_at, "
    "decided_at FROM ticket_transfers WHERE id = ?1";
constexpr const char* kTransfersOf =
    "SELECT id, event_id, from_ticket_id, ticket_id, from_user_id, to_email, to_user_id, status, created_at, "
    "decided_at FROM ticket_transfers WHERE from_user_id = ?1 OR to_email = ?2 ORDER BY id DESC LIMIT ?3";
constexpr const char* kTicketsOfOwner =
    "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason "
    "FROM tickets WHERE owner_id = ?1 ORDER BY issued_at DESC, id LIMIT ?2";

core::Transfer transfer_from(const Statement& st) {
  core::Transfer t;
  t.id = st.int64(0);
  t.event_id = st.int64(1);
  t.from_ticket_id = st.text(2);
  t.ticket_id = st.text(3);
  t.from_user = st.int64(4);
  t.to_email = st.text(5);
  t.to_user = st.is_null(6) ? 0 : st.int64(6);
  // A status this code does not know is treated as decided: nothing more can happen to it.
  t.status = core::transfer_status_from(st.text(7)).value_or(core::TransferStatus::Cancelled);
  t.created_at = from_unix_ms(st.int64(8));
  if (!st.is_null(9)) t.decided_at = from_unix_ms(st.int64(9));
  return t;
}

std::optional<core::Ticket> read_ticket(Connection& c, const std::string& id) {
  auto& st = c.prepare(kTicket);
  st.bind(1, id);
  std::optional<core::Ticket> out;
  if (st.step()) out = ticket_from_row(st);
  st.reset();
  return out;
}

std::optional<core::Transfer> read_transfer(Connection& c, core::TransferId id) {
  auto& st = c.prepare(kTransfer);
  st.bind(1, id);
  std::optional<core::Transfer> out;
  if (st.step()) out = transfer_from(st);
  st.reset();
  return out;
}

}  // namespace

core::Result<core::Transfer> SqliteTransferStore::send(const std::string& ticket_id, core::UserId from,
                                                       const std::string& to_email, const std::string& new_ticket_id,
                                                       TimeMs now) {
  core::Transfer out;
  auto job = [&](Connection& c) -> core::Status {
    auto ticket = read_ticket(c, ticket_id);
    if (!ticket) return make_error(Code::NotFound, "no such ticket");
    if (auto s = core::may_send(*ticket, from); !s) return s;
    c.prepare("UPDATE tickets SET status = 'REVOKED', revoked_at = ?2, changed_at = ?2, revoked_reason = 'transferred' "
              "WHERE id = ?1 AND status = 'VALID'")
        .bind(1, ticket_id).bind(2, to_unix_ms(now)).step_status();
    if (c.changes() != 1) return make_error(Code::Unavailable, "ticket changed under the writer");
    // owner_id 0: nobody's until accepted or cancelled; same seat and booking, the event's current key.
    auto& ins = c.prepare("INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at) "
                          "VALUES(?1, ?2, ?3, 0, ?4, COALESCE((SELECT ticket_key_id FROM event_entry "
                          "WHERE event_id = ?2), 1), 'VALID', ?5)");
    ins.bind(1, new_ticket_id).bind(2, ticket->event_id).bind(3, ticket->booking_id).bind(4, ticket->seat)
        .bind(5, to_unix_ms(now));
    if (ins.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not issue the new ticket");
    c.prepare("INSERT INTO ticket_transfers(event_id, from_ticket_id, ticket_id, from_user_id, to_email, status, "
              "created_at) VALUES(?1, ?2, ?3, ?4, ?5, 'PENDING', ?6)")
        .bind(1, ticket->event_id).bind(2, ticket_id).bind(3, new_ticket_id).bind(4, from).bind(5, to_email)
        .bind(6, to_unix_ms(now)).step_status();
    out = core::Transfer{c.last_insert_rowid(), ticket->event_id, ticket_id, new_ticket_id, from, to_email, 0,
                         core::TransferStatus::Pending, now, {}};
    // The receiver is told, at least once, by the outbox row committed with the transfer (email: an
    // address is all there is of them).
    c.prepare("INSERT INTO outbox(kind, channel, user_id, event_id, transfer_id, status, created_at, due_at) "
              "VALUES('ticket_sent', 'email', ?1, ?2, ?3, 'PENDING', ?4, ?4)")
        .bind(1, from).bind(2, ticket->event_id).bind(3, out.id).bind(4, to_unix_ms(now)).step_status();
    return core::ok_status();
  };
  if (auto s = db_.writer().run(job); !s) return s.error();
  return out;
}

// accept (email_key set) or cancel (null), by the one rule each in core/transfer.
core::Result<core::Transfer> SqliteTransferStore::decide(core::TransferId id, core::UserId user,
                                                         const std::string* email_key, TimeMs now) {
  core::Transfer out;
  auto job = [&](Connection& c) -> core::Status {
    auto t = read_transfer(c, id);
    if (!t) return make_error(Code::NotFound, "no such transfer");
    auto pending = read_ticket(c, t->ticket_id);
    if (!pending) return make_error(Code::NotFound, "no such transfer");
    if (email_key) {
      if (auto s = core::may_accept(*t, *pending, user, *email_key); !s) return s;
    } else if (auto s = core::may_cancel(*t, user); !s) {
      return s;
    }
    const core::TransferStatus next = email_key ? core::TransferStatus::Accepted : core::TransferStatus::Cancelled;
    c.prepare("UPDATE tickets SET owner_id = ?2 WHERE id = ?1").bind(1, t->ticket_id).bind(2, user).step_status();
    c.prepare("UPDATE ticket_transfers SET status = ?2, to_user_id = ?3, decided_at = ?4 WHERE id = ?1 AND status = 'PENDING'")
        .bind(1, id).bind(2, core::to_string(next)).bind(3, email_key ? user : int64_t{0}).bind(4, to_unix_ms(now))
        .step_status();
    if (c.changes() != 1) return make_error(Code::Unavailable, "transfer changed under the writer");
    t->status = next;
    if (email_key) t->to_user = user;
    t->decided_at = now;
    out = *t;
    return core::ok_status();
  };
  if (auto s = db_.writer().run(job); !s) return s.error();
  return out;
}

core::Result<core::Transfer> SqliteTransferStore::accept(core::TransferId id, core::UserId user,
                                                         const std::string& email_key, TimeMs now) {
  return decide(id, user, &email_key, now);
}

core::Result<core::Transfer> SqliteTransferStore::cancel(core::TransferId id, core::UserId user, TimeMs now) {
  return decide(id, user, nullptr, now);
}

std::optional<core::Transfer> SqliteTransferStore::find(core::TransferId id) {
  auto r = db_.readers().acquire();
  return read_transfer(*r, id);
}

std::vector<core::Transfer> SqliteTransferStore::of_user(core::UserId user, const std::string& email_key,
                                                         uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kTransfersOf);
  st.bind(1, user).bind(2, email_key).bind(3, limit);
  std::vector<core::Transfer> out;
  while (st.step()) out.push_back(transfer_from(st));
  st.reset();
  return out;
}

std::vector<core::Ticket> SqliteTransferStore::tickets_of_owner(core::UserId user, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kTicketsOfOwner);
  st.bind(1, user).bind(2, limit);
  std::vector<core::Ticket> out;
  while (st.step()) out.push_back(ticket_from_row(st));
  st.reset();
  return out;
}

std::pair<uint32_t, uint32_t> SqliteTransferStore::sent_since(core::UserId from, const std::string& to_email,
                                                              TimeMs since) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT (SELECT COUNT(*) FROM ticket_transfers WHERE from_user_id = ?1 AND created_at >= ?3), "
                        "(SELECT COUNT(*) FROM ticket_transfers WHERE to_email = ?2 AND created_at >= ?3)");
  st.bind(1, from).bind(2, to_email).bind(3, to_unix_ms(since));
  std::pair<uint32_t, uint32_t> out{0, 0};
  if (st.step()) out = {static_cast<uint32_t>(st.int64(0)), static_cast<uint32_t>(st.int64(1))};
  st.reset();
  return out;
}

bool SqliteTransferStore::booking_has_transfers(core::BookingId booking) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT 1 FROM ticket_transfers x JOIN tickets t ON t.id = x.from_ticket_id WHERE t.booking_id = ?1 LIMIT 1");
  st.bind(1, booking);
  const bool found = st.step();
  st.reset();
  return found;
}

}  // namespace ticketd::store::sqlite
