// The embedded outbox. Rows are added by the ledger inside its writer jobs (enqueue_notice: same
// transaction as the change); the delivery worker claims, marks and lists them here. Claims and
// marks are writer jobs too, so they serialise with everything else written and need no locks.
#include <sqlite3.h>

#include <algorithm>

#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

void enqueue_notice(Connection& c, core::NoticeKind kind, core::UserId user, core::EventId event,
                    core::BookingId booking, core::HoldId hold, TimeMs now, TimeMs due, int64_t refund_id) {
  // One row per channel the user chose (no user_notify row: email only). A hold_expiring notice only
  // for users who opted in. Everything the message says is read at delivery time from the rows it
  // names (an event's name, a booking's seats and amount as they are then, a seat refund).
  auto& st = c.prepare(
      "INSERT INTO outbox(kind, channel, user_id, event_id, booking_id, hold_id, status, created_at, due_at, "
      "refund_id) SELECT ?1, ch.name, ?2, ?3, ?4, ?5, 'PENDING', ?6, ?7, ?8 "
      "FROM (SELECT 'email' AS name UNION ALL SELECT 'webhook') ch LEFT JOIN user_notify n ON n.user_id = ?2 "
      "WHERE ((ch.name = 'email' AND coalesce(n.email_on, 1) = 1) "
      "    OR (ch.name = 'webhook' AND coalesce(n.sms_on, 0) = 1 AND coalesce(n.phone, '') <> '')) "
      "AND (?1 <> 'hold_expiring' OR coalesce(n.hold_expiry_on, 0) = 1)");
  st.bind(1, core::to_string(kind))
      .bind(2, user)
      .bind(3, event)
      .bind(4, booking)
      .bind(5, hold)
      .bind(6, to_unix_ms(now))
      .bind(7, to_unix_ms(due))
      .bind(8, refund_id);
  const int rc = st.step_status();
  TICKETD_ASSERT(rc == SQLITE_DONE);
}

namespace {

// Claims and prunes change nothing a client was told about; a failure is an unexpected database error.
void must_ok(const core::Status& s) {
  if (!s) throw DbError("outbox write failed: " + s.error().message);
}

constexpr const char* kRowColumns =
    "id, kind, channel, user_id, event_id, booking_id, hold_id, status, attempts, created_at, due_at, last_error, "
    "coalesce(sent_at, 0), transfer_id, refund_id, token_id";

core::OutboxRow row_from(Statement& st) {
  core::OutboxRow r;
  r.id = st.int64(0);
  r.kind = core::notice_kind_from(st.text(1)).value_or(core::NoticeKind::BookingConfirmed);
  r.channel = st.text(2);
  r.user_id = st.int64(3);
  r.event_id = st.int64(4);
  r.booking_id = st.int64(5);
  r.hold_id = st.int64(6);
  r.status = core::outbox_status_from(st.text(7)).value_or(core::OutboxStatus::Dead);
  r.attempts = static_cast<int32_t>(st.int64(8));
  r.created_at = from_unix_ms(st.int64(9));
  r.due_at = from_unix_ms(st.int64(10));
  r.last_error = st.text(11);
  r.sent_at = from_unix_ms(st.int64(12));
  r.transfer_id = st.int64(13);
  r.refund_id = st.int64(14);
  r.token_id = st.int64(15);
  return r;
}

}  // namespace

std::vector<core::OutboxRow> SqliteOutbox::claim(const std::string& owner, const std::vector<std::string>& channels,
                                                 TimeMs now, Millis lease, uint32_t limit) {
  std::vector<core::OutboxRow> out;
  const bool email = std::find(channels.begin(), channels.end(), core::kChannelEmail) != channels.end();
  const bool webhook = std::find(channels.begin(), channels.end(), core::kChannelWebhook) != channels.end();
  if (!email && !webhook) return out;
  {
    // Polled every few hundred ms: an idle server answers from a read connection and never queues a
    // write (or an fsync) for nothing.
    auto r = db_.readers().acquire();
    auto& due = r->prepare(
        "SELECT 1 FROM outbox WHERE status = 'PENDING' AND due_at <= ?1 AND lease_until <= ?1 "
        "AND ((channel = 'email' AND ?2) OR (channel = 'webhook' AND ?3)) LIMIT 1");
    due.bind(1, to_unix_ms(now)).bind(2, email ? 1 : 0).bind(3, webhook ? 1 : 0);
    const bool any = due.step();
    due.reset();
    if (!any) return out;
  }
  must_ok(db_.writer().run([&](Connection& c) -> core::Status {
    static const std::string sql =
        std::string(
            "UPDATE outbox SET lease_until = ?2, lease_owner = ?3 WHERE id IN (SELECT id FROM outbox "
            "WHERE status = 'PENDING' AND due_at <= ?1 AND lease_until <= ?1 "
            "AND ((channel = 'email' AND ?5) OR (channel = 'webhook' AND ?6)) ORDER BY due_at, id LIMIT ?4) "
            "RETURNING ") +
        kRowColumns;
    auto& st = c.prepare(sql.c_str());
    st.bind(1, to_unix_ms(now))
        .bind(2, to_unix_ms(now + lease))
        .bind(3, owner)
        .bind(4, limit)
        .bind(5, email ? 1 : 0)
        .bind(6, webhook ? 1 : 0);
    while (st.step()) out.push_back(row_from(st));
    return core::ok_status();
  }));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.due_at < b.due_at || (a.due_at == b.due_at && a.id < b.id); });
  return out;
}

core::Status SqliteOutbox::mark_sent(core::OutboxId id, TimeMs now, const std::string& destination) {
  return db_.writer().run([&](Connection& c) {
    c.prepare(
         "UPDATE outbox SET status = 'SENT', attempts = attempts + 1, sent_at = ?2, lease_until = 0, "
         "last_error = '', destination = ?3 WHERE id = ?1 AND status = 'PENDING'")
        .bind(1, id)
        .bind(2, to_unix_ms(now))
        .bind(3, destination)
        .step_status();
    return core::ok_status();
  });
}

core::RecentMessages SqliteOutbox::sent_since(core::UserId user, const std::string& destination, TimeMs since) {
  auto r = db_.readers().acquire();
  // Two index range scans (outbox_sent_by_user, outbox_sent_to); each at most a cap's worth of rows
  // in a live window, since a message over the cap is never sent.
  auto& st = r->prepare(
      "SELECT (SELECT count(*) FROM outbox WHERE status = 'SENT' AND user_id = ?1 AND sent_at > ?3), "
      "(SELECT count(*) FROM outbox WHERE status = 'SENT' AND destination = ?2 AND sent_at > ?3)");
  st.bind(1, user).bind(2, destination).bind(3, to_unix_ms(since));
  core::RecentMessages out;
  if (st.step()) out = core::RecentMessages{static_cast<uint64_t>(st.int64(0)), static_cast<uint64_t>(st.int64(1))};
  st.reset();
  return out;
}

core::Status SqliteOutbox::mark_failed(core::OutboxId id, const std::string& owner, const std::string& error,
                                       std::optional<TimeMs> next_due) {
  return db_.writer().run([&](Connection& c) {
    auto& st = c.prepare(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, lease_until = 0, "
        "status = CASE WHEN ?4 THEN 'PENDING' ELSE 'DEAD' END, due_at = CASE WHEN ?4 THEN ?5 ELSE due_at END "
        "WHERE id = ?1 AND status = 'PENDING' AND lease_owner = ?2");
    st.bind(1, id)
        .bind(2, owner)
        .bind(3, error.substr(0, kErrorBytesMax))
        .bind(4, next_due ? 1 : 0)
        .bind(5, next_due ? to_unix_ms(*next_due) : 0);
    st.step_status();
    return core::ok_status();
  });
}

core::Status SqliteOutbox::mark_skipped(core::OutboxId id, const std::string& why) {
  return db_.writer().run([&](Connection& c) {
    c.prepare(
         "UPDATE outbox SET status = 'SKIPPED', last_error = ?2, lease_until = 0 WHERE id = ?1 AND status = 'PENDING'")
        .bind(1, id)
        .bind(2, why.substr(0, kErrorBytesMax))
        .step_status();
    return core::ok_status();
  });
}

std::vector<core::OutboxRow> SqliteOutbox::list(core::OutboxStatus status, core::OutboxId after_id, uint32_t limit) {
  auto r = db_.readers().acquire();
  static const std::string sql =
      std::string("SELECT ") + kRowColumns + " FROM outbox WHERE status = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
  auto& st = r->prepare(sql.c_str());
  st.bind(1, core::to_string(status)).bind(2, after_id).bind(3, limit);
  std::vector<core::OutboxRow> out;
  while (st.step()) out.push_back(row_from(st));
  return out;
}

core::Status SqliteOutbox::retry_dead(core::OutboxId id, TimeMs now) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare(
         "UPDATE outbox SET status = 'PENDING', attempts = 0, due_at = ?2, lease_until = 0, lease_owner = '' "
         "WHERE id = ?1 AND status = 'DEAD'")
        .bind(1, id)
        .bind(2, to_unix_ms(now))
        .step_status();
    if (c.changes() == 0) return make_error(Code::NotFound, "no dead-lettered notification with this id");
    return core::ok_status();
  });
}

core::OutboxCounts SqliteOutbox::counts() {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT (SELECT count(*) FROM outbox WHERE status = 'PENDING'), "
      "(SELECT count(*) FROM outbox WHERE status = 'DEAD')");
  st.step();
  core::OutboxCounts c{static_cast<uint64_t>(st.int64(0)), static_cast<uint64_t>(st.int64(1))};
  st.reset();
  return c;
}

size_t SqliteOutbox::prune(TimeMs before, uint32_t limit) {
  size_t n = 0;
  {
    auto r = db_.readers().acquire();
    // Each half is answered by a partial index (outbox_done, outbox_due), never by a table scan.
    auto& old = r->prepare(
        "SELECT EXISTS(SELECT 1 FROM outbox WHERE status IN ('SENT','SKIPPED') AND created_at < ?1) "
        "OR EXISTS(SELECT 1 FROM outbox WHERE status = 'PENDING' AND created_at < ?1)");
    old.bind(1, to_unix_ms(before));
    const bool any = old.step() && old.int64(0) != 0;
    old.reset();
    if (!any) return 0;  // nothing that old: no write
  }
  must_ok(db_.writer().run([&](Connection& c) {
    c.prepare(
         "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status IN ('SENT','SKIPPED') "
         "AND created_at < ?1 LIMIT ?2)")
        .bind(1, to_unix_ms(before))
        .bind(2, limit)
        .step_status();
    n = static_cast<size_t>(c.changes());
    c.prepare(
         "UPDATE outbox SET status = 'SKIPPED', last_error = 'expired: not delivered within the retention period', "
         "lease_until = 0 WHERE id IN (SELECT id FROM outbox WHERE status = 'PENDING' AND created_at < ?1 LIMIT ?2)")
        .bind(1, to_unix_ms(before))
        .bind(2, limit)
        .step_status();
    n += static_cast<size_t>(c.changes());
    return core::ok_status();
  }));
  return n;
}

core::Status SqliteOutbox::enqueue_again(core::NoticeKind kind, core::UserId user, core::EventId event,
                                         core::BookingId booking, core::HoldId hold, uint32_t max_notices, TimeMs now) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    auto& st = c.prepare("SELECT count(*) FROM outbox WHERE booking_id = ?1 AND kind = ?2 AND channel = 'email'");
    st.bind(1, booking).bind(2, core::to_string(kind));
    st.step();
    const int64_t sent = st.int64(0);
    st.reset();
    if (sent >= max_notices)
      return core::make_error(core::Code::LimitReached, "this notice was sent " + std::to_string(sent) + " times already");
    enqueue_notice(c, kind, user, event, booking, hold, now, now);
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite
