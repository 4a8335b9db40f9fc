#include "store/postgres/totp_store.hpp"

namespace ticketd::store::postgres {

std::optional<core::TotpRecord> PgTotpStore::find(core::UserId user) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::TotpRecord> {
    Rows r = c.query("SELECT secret_hex, enabled, last_step FROM user_totp WHERE user_id = $1", {p(user)});
    if (r.empty()) return std::nullopt;
    return core::TotpRecord{r.text(0, 0), r.boolean(0, 1), r.int64(0, 2)};
  });
}

bool PgTotpStore::begin_enrolment(core::UserId user, const std::string& secret_hex, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) {
    return !c.query("INSERT INTO user_totp(user_id, secret_hex, enabled, last_step, created_at) "
                    "VALUES($1, $2, false, 0, $3) ON CONFLICT(user_id) DO UPDATE SET secret_hex = excluded.secret_hex, "
                    "last_step = 0, created_at = excluded.created_at WHERE NOT user_totp.enabled RETURNING user_id",
                    {p(user), p(secret_hex), p(to_unix_ms(now))})
                .empty();
  });
}

bool PgTotpStore::accept_step(core::UserId user, int64_t step, bool enable) {
  // Not retried on a lost connection: a second try of a step that did commit would say "replayed".
  return with_connection(pool_, [&](Connection& c) {
    return !c.query("UPDATE user_totp SET last_step = $2, enabled = enabled OR $3::boolean "
                    "WHERE user_id = $1 AND last_step < $2 AND ($3::boolean OR enabled) RETURNING user_id",
                    {p(user), p(step), p(enable ? "true" : "false")})
                .empty();
  }, /*idempotent=*/false);
}

core::Status PgTotpStore::remove(core::UserId user) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("DELETE FROM user_totp WHERE user_id = $1", {p(user)});
    return core::ok_status();
  });
}

}  // namespace ticketd::store::postgres
