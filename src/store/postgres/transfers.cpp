#include "store/postgres/transfers.hpp"

#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {

constexpr const char* kLockTicket =
    "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason "
    "FROM tickets WHERE id = $1 FOR UPDATE";
constexpr const char* kLockTransfer =
    "SELECT id, event_id, from_ticket_id, ticket_id, from_user_id, to_email, to_user_id, status, created_at, "
    "decided_at FROM ticket_transfers WHERE id = $1 FOR UPDATE";
constexpr const char* kTransfersOf =
    "SELECT id, event_id, from_ticket_id, ticket_id, from_user_id, to_email, to_user_id, status, created_at, "
    "decided_at FROM ticket_transfers WHERE from_user_id = $1 OR to_email = $2 ORDER BY id DESC LIMIT $3";
constexpr const char* kTicketsOfOwner =
    "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason "
    "FROM tickets WHERE owner_id = $1 ORDER BY issued_at DESC, id LIMIT $2";

core::Transfer transfer_from(const Rows& r, int i) {
  core::Transfer t;
  t.id = r.int64(i, 0);
  t.event_id = r.int64(i, 1);
  t.from_ticket_id = r.text(i, 2);
  t.ticket_id = r.text(i, 3);
  t.from_user = r.int64(i, 4);
  t.to_email = r.text(i, 5);
  t.to_user = r.int64(i, 6);  // 0 for NULL
  t.status = core::transfer_status_from(r.text(i, 7)).value_or(core::TransferStatus::Cancelled);
  t.created_at = from_unix_ms(r.int64(i, 8));
  if (!r.is_null(i, 9)) t.decided_at = from_unix_ms(r.int64(i, 9));
  return t;
}

// Runs `f` in a transaction; an error Result rolls it back.
template <class F>
core::Result<core::Transfer> in_transaction(Pool& pool, F&& f) {
  return with_connection(pool, [&](Connection& c) -> core::Result<core::Transfer> {
    c.exec("BEGIN");
    try {
      core::Result<core::Transfer> out = f(c);
      c.exec(out ? "COMMIT" : "ROLLBACK");
      return out;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

}  // namespace

core::Result<core::Transfer> PgTransferStore::send(const std::string& ticket_id, core::UserId from,
                                                   const std::string& to_email, const std::string& new_ticket_id,
                                                   TimeMs now) {
  return in_transaction(pool_, [&](Connection& c) -> core::Result<core::Transfer> {
    Rows r = c.query(kLockTicket, {p(ticket_id)});
    if (r.empty()) return make_error(Code::NotFound, "no such ticket");
    const core::Ticket ticket = ticket_from_row(r, 0);
    if (auto s = core::may_send(ticket, from); !s) return s.error();
    c.query("UPDATE tickets SET status = 'REVOKED', revoked_at = $2, changed_at = $2, revoked_reason = 'transferred' "
            "WHERE id = $1",
            {p(ticket_id), p(to_unix_ms(now))});
    c.query("INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at) "
            "VALUES($1, $2, $3, 0, $4, COALESCE((SELECT ticket_key_id FROM event_entry WHERE event_id = $2), 1), "
            "'VALID', $5)",
            {p(new_ticket_id), p(ticket.event_id), p(ticket.booking_id), p(static_cast<int64_t>(ticket.seat)),
             p(to_unix_ms(now))});
    Rows id = c.query("INSERT INTO ticket_transfers(event_id, from_ticket_id, ticket_id, from_user_id, to_email, "
                      "status, created_at) VALUES($1, $2, $3, $4, $5, 'PENDING', $6) RETURNING id",
                      {p(ticket.event_id), p(ticket_id), p(new_ticket_id), p(from), p(to_email), p(to_unix_ms(now))});
    // The receiver is told, at least once, by the outbox row committed with the transfer.
    c.query("INSERT INTO outbox(kind, channel, user_id, event_id, transfer_id, status, created_at, due_at) "
            "VALUES('ticket_sent', 'email', $1, $2, $3, 'PENDING', $4, $4)",
            {p(from), p(ticket.event_id), p(id.int64(0, 0)), p(to_unix_ms(now))});
    return core::Transfer{id.int64(0, 0), ticket.event_id, ticket_id, new_ticket_id, from, to_email, 0,
                          core::TransferStatus::Pending, now, {}};
  });
}

core::Result<core::Transfer> PgTransferStore::decide(core::TransferId id, core::UserId user,
                                                     const std::string* email_key, TimeMs now) {
  return in_transaction(pool_, [&](Connection& c) -> core::Result<core::Transfer> {
    Rows r = c.query(kLockTransfer, {p(id)});
    if (r.empty()) return make_error(Code::NotFound, "no such transfer");
    core::Transfer t = transfer_from(r, 0);
    Rows tr = c.query(kLockTicket, {p(t.ticket_id)});
    if (tr.empty()) return make_error(Code::NotFound, "no such transfer");
    const core::Ticket pending = ticket_from_row(tr, 0);
    if (email_key) {
      if (auto s = core::may_accept(t, pending, user, *email_key); !s) return s.error();
    } else if (auto s = core::may_cancel(t, user); !s) {
      return s.error();
    }
    t.status = email_key ? core::TransferStatus::Accepted : core::TransferStatus::Cancelled;
    t.to_user = email_key ? user : 0;
    t.decided_at = now;
    c.query("UPDATE tickets SET owner_id = $2 WHERE id = $1", {p(t.ticket_id), p(user)});
    c.query("UPDATE ticket_transfers SET status = $2, to_user_id = $3, decided_at = $4 WHERE id = $1",
            {p(id), p(core::to_string(t.status)), email_key ? p(user) : p_null(), p(to_unix_ms(now))});
    return t;
  });
}

core::Result<core::Transfer> PgTransferStore::accept(core::TransferId id, core::UserId user,
                                                     const std::string& email_key, TimeMs now) {
  return decide(id, user, &email_key, now);
}

core::Result<core::Transfer> PgTransferStore::cancel(core::TransferId id, core::UserId user, TimeMs now) {
  return decide(id, user, nullptr, now);
}

std::optional<core::Transfer> PgTransferStore::find(core::TransferId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::Transfer> {
    Rows r = c.query("SELECT id, event_id, from_ticket_id, ticket_id, from_user_id, to_email, to_user_id, status, "
                     "created_at, decided_at FROM ticket_transfers WHERE id = $1",
                     {p(id)});
    if (r.empty()) return std::nullopt;
    return transfer_from(r, 0);
  });
}

std::vector<core::Transfer> PgTransferStore::of_user(core::UserId user, const std::string& email_key, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(kTransfersOf, {p(user), p(email_key), p(static_cast<int64_t>(limit))});
    std::vector<core::Transfer> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(transfer_from(r, i));
    return out;
  });
}

std::vector<core::Ticket> PgTransferStore::tickets_of_owner(core::UserId user, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(kTicketsOfOwner, {p(user), p(static_cast<int64_t>(limit))});
    std::vector<core::Ticket> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(ticket_from_row(r, i));
    return out;
  });
}

std::pair<uint32_t, uint32_t> PgTransferStore::sent_since(core::UserId from, const std::string& to_email, TimeMs since) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT (SELECT count(*) FROM ticket_transfers WHERE from_user_id = $1 AND created_at >= $3), "
                     "(SELECT count(*) FROM ticket_transfers WHERE to_email = $2 AND created_at >= $3)",
                     {p(from), p(to_email), p(to_unix_ms(since))});
    return std::pair<uint32_t, uint32_t>{static_cast<uint32_t>(r.int64(0, 0)), static_cast<uint32_t>(r.int64(0, 1))};
  });
}

bool PgTransferStore::booking_has_transfers(core::BookingId booking) {
  return with_connection(pool_, [&](Connection& c) {
    return !c.query("SELECT 1 FROM ticket_transfers x JOIN tickets t ON t.id = x.from_ticket_id "
                    "WHERE t.booking_id = $1 LIMIT 1",
                    {p(booking)})
                .empty();
  });
}

}  // namespace ticketd::store::postgres
