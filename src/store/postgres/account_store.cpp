#include <unordered_map>

#include "core/limits.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {
const char* role_text(core::Role r) { return r == core::Role::Admin ? "admin" : "user"; }
core::Role role_from(const std::string& s) { return s == "admin" ? core::Role::Admin : core::Role::User; }
}  // namespace

PgAccountStore::PgAccountStore(Pool& pool)
    : pool_(pool),
      session_reads_(kSessionReadsInFlightMax, kSessionReadKeysMax,
                     [this](const std::vector<std::string>& hashes) { return find_sessions(hashes); }) {}

core::Result<core::User> PgAccountStore::create_user(const std::string& email, const std::string& name,
                                                     const std::string& password_hash, core::Role role, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::User> {
    Rows r = c.query(
        "INSERT INTO users(email, name, password_hash, role, created_at) VALUES($1, $2, $3, $4, $5) "
        "ON CONFLICT (email) DO NOTHING RETURNING id",
        {p(email), p(name), p(password_hash), p(role_text(role)), p(to_unix_ms(now))});
    if (r.empty()) return make_error(Code::EmailTaken, "an account with this email exists");
    return core::User{r.int64(0, 0), email, name, role};
  }, /*idempotent=*/false);
}

core::Result<std::vector<core::UserId>> PgAccountStore::create_users_bulk(
    const std::vector<core::ProvisionedUser>& users, const std::string& name, const std::string& password_hash,
    TimeMs now, TimeMs session_expires_at) {
  TICKETD_ASSERT(users.size() <= core::limits::provisioned_users_per_request_max);
  std::vector<std::string> emails, token_hashes;
  for (const core::ProvisionedUser& u : users) {
    emails.push_back(u.email);
    token_hashes.push_back(u.token_hash);
  }
  // One statement, so all or nothing: a taken email fails it whole (unique_violation).
  try {
    return with_connection(pool_, [&](Connection& c) -> core::Result<std::vector<core::UserId>> {
      Rows r = c.query(
          "WITH input AS (SELECT e, h, n FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(e, h, n)), "
          "ins AS (INSERT INTO users(email, name, password_hash, role, created_at) "
          "SELECT e, $3, $4, 'user', $5 FROM input ORDER BY n RETURNING id, email), "
          "sess AS (INSERT INTO sessions(token_hash, user_id, expires_at) "
          "SELECT input.h, ins.id, $6 FROM ins JOIN input ON input.e = ins.email RETURNING user_id) "
          "SELECT ins.id FROM ins JOIN input ON input.e = ins.email ORDER BY input.n",
          {p_text_array(emails), p_text_array(token_hashes), p(name), p(password_hash), p(to_unix_ms(now)),
           p(to_unix_ms(session_expires_at))});
      std::vector<core::UserId> ids;
      for (int i = 0; i < r.size(); ++i) ids.push_back(r.int64(i, 0));
      TICKETD_ASSERT(ids.size() == users.size());
      return ids;
    }, /*idempotent=*/false);
  } catch (const PgError& e) {
    if (e.sqlstate == "23505") return make_error(Code::EmailTaken, "an account with one of these emails exists");
    throw;
  }
}

std::optional<core::StoredUser> PgAccountStore::find_user_by_email(const std::string& email) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::StoredUser> {
    Rows r = c.query("SELECT id, email, name, role, password_hash, email_verified_at <> 0 FROM users WHERE email = $1",
                     {p(email)});
    if (r.empty()) return std::nullopt;
    return core::StoredUser{
        core::User{r.int64(0, 0), r.text(0, 1), r.text(0, 2), role_from(r.text(0, 3)), r.boolean(0, 5)}, r.text(0, 4)};
  });
}

std::optional<core::User> PgAccountStore::find_user(core::UserId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::User> {
    Rows r = c.query("SELECT id, email, name, role, email_verified_at <> 0 FROM users WHERE id = $1", {p(id)});
    if (r.empty()) return std::nullopt;
    return core::User{r.int64(0, 0), r.text(0, 1), r.text(0, 2), role_from(r.text(0, 3)), r.boolean(0, 4)};
  });
}

core::Status PgAccountStore::create_session(const std::string& token_hash, core::UserId user, TimeMs expires_at) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    // Expired sessions are dropped as new ones come in, a few at a time, so the table stays as small
    // as the live set without a separate cleaner.
    c.query("DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at <= $1 "
            "LIMIT 16)",
            {p(to_unix_ms(expires_at) - 2 * 86'400'000LL)});
    c.query("INSERT INTO sessions(token_hash, user_id, expires_at) VALUES($1, $2, $3)",
            {p(token_hash), p(user), p(to_unix_ms(expires_at))});
    return core::ok_status();
  }, /*idempotent=*/false);
}

std::optional<core::SessionRecord> PgAccountStore::find_session(const std::string& token_hash) {
  return session_reads_.read(token_hash);
}

std::vector<std::optional<core::SessionRecord>> PgAccountStore::find_sessions(
    const std::vector<std::string>& token_hashes) {
  return with_connection(pool_, [&](Connection& c) {
    // One lookup per key, each the plan of a single session's read (two primary-key probes), whatever
    // the tables' statistics say: written as `token_hash = ANY($1)`, a plan cached while the tables
    // were small (a new deployment) read users whole and hashed it.
    Rows r = c.query(
        "SELECT t.h, f.* FROM unnest($1::text[]) AS t(h), LATERAL (SELECT u.id, u.email, u.name, u.role, "
        "u.email_verified_at <> 0, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = t.h LIMIT 1) f",
        {p_text_array(token_hashes)});
    std::unordered_map<std::string, core::SessionRecord> found;
    for (int i = 0; i < r.size(); ++i)
      found.emplace(r.text(i, 0), core::SessionRecord{core::User{r.int64(i, 1), r.text(i, 2), r.text(i, 3),
                                                                 role_from(r.text(i, 4)), r.boolean(i, 5)},
                                                      from_unix_ms(r.int64(i, 6))});
    std::vector<std::optional<core::SessionRecord>> out;
    out.reserve(token_hashes.size());
    for (const std::string& hash : token_hashes) {
      auto it = found.find(hash);
      out.push_back(it == found.end() ? std::nullopt : std::optional<core::SessionRecord>(it->second));
    }
    return out;
  });
}

core::Status PgAccountStore::delete_session(const std::string& token_hash) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("DELETE FROM sessions WHERE token_hash = $1", {p(token_hash)});
    return core::ok_status();
  });
}

core::Status PgAccountStore::delete_sessions_of(core::UserId user, const std::string& keep_token_hash) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", {p(user), p(keep_token_hash)});
    return core::ok_status();
  });
}

core::Status PgAccountStore::set_password_hash(core::UserId user, const std::string& password_hash,
                                               const std::string& keep_token_hash) {
  // One statement, one commit: the new hash and the end of the other sessions go together.
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("WITH changed AS (UPDATE users SET password_hash = $2 WHERE id = $1) "
            "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $3",
            {p(user), p(password_hash), p(keep_token_hash)});
    return core::ok_status();
  });
}

core::NotifyPrefs PgAccountStore::notify_prefs(core::UserId user) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT phone, email_on, sms_on, hold_expiry_on, phone_verified FROM user_notify WHERE user_id = $1",
                     {p(user)});
    if (r.empty()) return core::NotifyPrefs{};
    return core::NotifyPrefs{r.text(0, 0), r.boolean(0, 1), r.boolean(0, 2), r.boolean(0, 3), r.boolean(0, 4)};
  });
}

core::Status PgAccountStore::set_notify_prefs(core::UserId user, const core::NotifyPrefs& prefs) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("INSERT INTO user_notify(user_id, phone, email_on, sms_on, hold_expiry_on) VALUES($1, $2, $3, $4, $5) "
            "ON CONFLICT (user_id) DO UPDATE SET phone = EXCLUDED.phone, email_on = EXCLUDED.email_on, "
            "sms_on = EXCLUDED.sms_on, hold_expiry_on = EXCLUDED.hold_expiry_on, "
            "phone_verified = user_notify.phone_verified AND user_notify.phone = EXCLUDED.phone",
            {p(user), p(prefs.phone), p(prefs.email ? "true" : "false"), p(prefs.sms ? "true" : "false"),
             p(prefs.hold_expiry ? "true" : "false")});
    return core::ok_status();
  });
}

}  // namespace ticketd::store::postgres
