// The distributed outbox (see PgOutbox in postgres_store.hpp). Leases are measured on the database
// clock, so nodes whose clocks disagree still agree on when a lease lapsed.
#include <algorithm>

#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {

#define TICKETD_OUTBOX_COLUMNS                                                                        \
  "id, kind, channel, user_id, event_id, booking_id, hold_id, status, attempts, created_at, due_at, " \
  "last_error, coalesce(sent_at, 0), transfer_id, refund_id, token_id"

constexpr const char* kDbNowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

core::OutboxRow row_from(const Rows& r, int i) {
  core::OutboxRow o;
  o.id = r.int64(i, 0);
  o.kind = core::notice_kind_from(r.text(i, 1)).value_or(core::NoticeKind::BookingConfirmed);
  o.channel = r.text(i, 2);
  o.user_id = r.int64(i, 3);
  o.event_id = r.int64(i, 4);
  o.booking_id = r.int64(i, 5);
  o.hold_id = r.int64(i, 6);
  o.status = core::outbox_status_from(r.text(i, 7)).value_or(core::OutboxStatus::Dead);
  o.attempts = static_cast<int32_t>(r.int64(i, 8));
  o.created_at = from_unix_ms(r.int64(i, 9));
  o.due_at = from_unix_ms(r.int64(i, 10));
  o.last_error = r.text(i, 11);
  o.sent_at = from_unix_ms(r.int64(i, 12));
  o.transfer_id = r.int64(i, 13);
  o.refund_id = r.int64(i, 14);
  o.token_id = r.int64(i, 15);
  return o;
}

}  // namespace

std::vector<core::OutboxRow> PgOutbox::claim(const std::string& owner, const std::vector<std::string>& channels,
                                             TimeMs now, Millis lease, uint32_t limit) {
  if (channels.empty()) return {};
  std::string list = "{";
  for (const std::string& ch : channels) list += (list.size() > 1 ? "," : "") + ch;  // names are fixed identifiers
  list += "}";
  return with_connection(pool_, [&](Connection& c) {
    static const std::string sql =
        std::string("UPDATE outbox SET lease_until = ") + kDbNowMs +
        " + $2, lease_owner = $3 WHERE id IN ("
        "SELECT id FROM outbox WHERE status = 'PENDING' AND due_at <= $1 AND lease_until <= " +
        kDbNowMs +
        " AND channel = ANY($5::text[]) ORDER BY due_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) "
        "RETURNING " TICKETD_OUTBOX_COLUMNS;
    Rows r =
        c.query(sql.c_str(), {p(to_unix_ms(now)), p(lease.count()), p(owner), p(static_cast<int64_t>(limit)), p(list)});
    std::vector<core::OutboxRow> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(row_from(r, i));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.due_at < b.due_at || (a.due_at == b.due_at && a.id < b.id);
    });
    return out;
  });
}

core::Status PgOutbox::mark_sent(core::OutboxId id, TimeMs now, const std::string& destination) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query(
        "UPDATE outbox SET status = 'SENT', attempts = attempts + 1, sent_at = $2, lease_until = 0, "
        "last_error = '', destination = $3 WHERE id = $1 AND status = 'PENDING'",
        {p(id), p(to_unix_ms(now)), p(destination)});
    return core::ok_status();
  });
}

core::RecentMessages PgOutbox::sent_since(core::UserId user, const std::string& destination, TimeMs since) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(
        "SELECT (SELECT count(*) FROM outbox WHERE status = 'SENT' AND user_id = $1 AND sent_at > $3), "
        "(SELECT count(*) FROM outbox WHERE status = 'SENT' AND destination = $2 AND sent_at > $3)",
        {p(user), p(destination), p(to_unix_ms(since))});
    return core::RecentMessages{static_cast<uint64_t>(r.int64(0, 0)), static_cast<uint64_t>(r.int64(0, 1))};
  });
}

core::Status PgOutbox::mark_failed(core::OutboxId id, const std::string& owner, const std::string& error,
                                   std::optional<TimeMs> next_due) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $3, lease_until = 0, "
        "status = CASE WHEN $4::boolean THEN 'PENDING' ELSE 'DEAD' END, "
        "due_at = CASE WHEN $4::boolean THEN $5::bigint ELSE due_at END "
        "WHERE id = $1 AND status = 'PENDING' AND lease_owner = $2",
        {p(id), p(owner), p(error.substr(0, kErrorBytesMax)), p(next_due ? "true" : "false"),
         p(next_due ? to_unix_ms(*next_due) : 0)});
    return core::ok_status();
  });
}

core::Status PgOutbox::mark_skipped(core::OutboxId id, const std::string& why) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query(
        "UPDATE outbox SET status = 'SKIPPED', last_error = $2, lease_until = 0 WHERE id = $1 AND status = 'PENDING'",
        {p(id), p(why.substr(0, kErrorBytesMax))});
    return core::ok_status();
  });
}

std::vector<core::OutboxRow> PgOutbox::list(core::OutboxStatus status, core::OutboxId after_id, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT " TICKETD_OUTBOX_COLUMNS " FROM outbox WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3",
                     {p(core::to_string(status)), p(after_id), p(static_cast<int64_t>(limit))});
    std::vector<core::OutboxRow> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(row_from(r, i));
    return out;
  });
}

core::Status PgOutbox::retry_dead(core::OutboxId id, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    Rows r = c.query(
        "UPDATE outbox SET status = 'PENDING', attempts = 0, due_at = $2, lease_until = 0, lease_owner = '' "
        "WHERE id = $1 AND status = 'DEAD' RETURNING id",
        {p(id), p(to_unix_ms(now))});
    if (r.empty()) return make_error(Code::NotFound, "no dead-lettered notification with this id");
    return core::ok_status();
  });
}

core::OutboxCounts PgOutbox::counts() {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(
        "SELECT (SELECT count(*) FROM outbox WHERE status = 'PENDING'), "
        "(SELECT count(*) FROM outbox WHERE status = 'DEAD')");
    return core::OutboxCounts{static_cast<uint64_t>(r.int64(0, 0)), static_cast<uint64_t>(r.int64(0, 1))};
  });
}

size_t PgOutbox::prune(TimeMs before, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(
        "WITH gone AS (DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status IN "
        "('SENT','SKIPPED') AND created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1) "
        "SELECT count(*) FROM gone",
        {p(to_unix_ms(before)), p(static_cast<int64_t>(limit))});
    Rows e = c.query(
        "WITH gone AS (UPDATE outbox SET status = 'SKIPPED', lease_until = 0, "
        "last_error = 'expired: not delivered within the retention period' WHERE id IN (SELECT id FROM "
        "outbox WHERE status = 'PENDING' AND created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1) "
        "SELECT count(*) FROM gone",
        {p(to_unix_ms(before)), p(static_cast<int64_t>(limit))});
    return static_cast<size_t>(r.int64(0, 0) + e.int64(0, 0));
  });
}

core::Status PgOutbox::enqueue_again(core::NoticeKind kind, core::UserId user, core::EventId event,
                                     core::BookingId booking, core::HoldId hold, uint32_t max_notices, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.exec("BEGIN");
    try {
      // The booking's row lock: two resends at once count each other.
      c.query("SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE", {p(booking)});
      const int64_t sent = c.query("SELECT count(*) FROM outbox WHERE booking_id = $1 AND kind = $2 AND channel = 'email'",
                                   {p(booking), p(core::to_string(kind))})
                               .int64(0, 0);
      if (sent >= max_notices) {
        c.exec("ROLLBACK");
        return core::make_error(core::Code::LimitReached,
                                "this notice was sent " + std::to_string(sent) + " times already");
      }
      c.query("SELECT ticketd_enqueue_notice($1, $2, $3, $4, $5, $6, $6)",
              {p(core::to_string(kind)), p(user), p(event), p(booking), p(hold), p(to_unix_ms(now))});
      c.exec("COMMIT");
      return core::ok_status();
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

}  // namespace ticketd::store::postgres
