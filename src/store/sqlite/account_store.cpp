#include <sqlite3.h>

#include "base/assert.hpp"
#include "core/limits.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {
const char* role_text(core::Role r) { return r == core::Role::Admin ? "admin" : "user"; }
core::Role role_from(const std::string& s) { return s == "admin" ? core::Role::Admin : core::Role::User; }
}  // namespace

core::Result<core::User> SqliteAccountStore::create_user(const std::string& email, const std::string& name,
                                                         const std::string& password_hash, core::Role role,
                                                         TimeMs now) {
  core::User user{0, email, name, role};
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    auto& st = c.prepare(
        "INSERT INTO users(email, name, password_hash, role, created_at) VALUES(?1, ?2, ?3, ?4, ?5)");
    st.bind(1, email).bind(2, name).bind(3, password_hash).bind(4, role_text(role)).bind(5, to_unix_ms(now));
    const int rc = st.step_status();
    if (rc == SQLITE_CONSTRAINT) return make_error(Code::EmailTaken, "an account with this email exists");
    if (rc != SQLITE_DONE) return make_error(Code::Unavailable, "could not store the user");
    user.id = c.last_insert_rowid();
    return core::ok_status();
  });
  if (!s) return s.error();
  return user;
}

core::Result<std::vector<core::UserId>> SqliteAccountStore::create_users_bulk(
    const std::vector<core::ProvisionedUser>& users, const std::string& name, const std::string& password_hash,
    TimeMs now, TimeMs session_expires_at) {
  TICKETD_ASSERT(users.size() <= core::limits::provisioned_users_per_request_max);
  std::vector<core::UserId> ids;
  ids.reserve(users.size());
  // One job, so one savepoint: a taken email rolls back every row this request wrote.
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    ids.clear();
    auto& user_st =
        c.prepare("INSERT INTO users(email, name, password_hash, role, created_at) VALUES(?1, ?2, ?3, 'user', ?4)");
    auto& session_st = c.prepare("INSERT INTO sessions(token_hash, user_id, expires_at) VALUES(?1, ?2, ?3)");
    for (const core::ProvisionedUser& u : users) {
      user_st.reset();
      user_st.bind(1, u.email).bind(2, name).bind(3, password_hash).bind(4, to_unix_ms(now));
      const int rc = user_st.step_status();
      if (rc == SQLITE_CONSTRAINT) return make_error(Code::EmailTaken, "an account with email " + u.email + " exists");
      if (rc != SQLITE_DONE) return make_error(Code::Unavailable, "could not store the users");
      const core::UserId id = c.last_insert_rowid();
      session_st.reset();
      session_st.bind(1, u.token_hash).bind(2, id).bind(3, to_unix_ms(session_expires_at));
      if (session_st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not store the sessions");
      ids.push_back(id);
    }
    return core::ok_status();
  });
  if (!s) return s.error();
  TICKETD_ASSERT(ids.size() == users.size());
  return ids;
}

std::optional<core::StoredUser> SqliteAccountStore::find_user_by_email(const std::string& email) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT id, email, name, role, password_hash, email_verified_at <> 0 FROM users WHERE email = ?1");
  st.bind(1, email);
  if (!st.step()) return std::nullopt;
  return core::StoredUser{core::User{st.int64(0), st.text(1), st.text(2), role_from(st.text(3)), st.int64(5) != 0},
                          st.text(4)};
}

std::optional<core::User> SqliteAccountStore::find_user(core::UserId id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, email, name, role, email_verified_at <> 0 FROM users WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return core::User{st.int64(0), st.text(1), st.text(2), role_from(st.text(3)), st.int64(4) != 0};
}

core::Status SqliteAccountStore::create_session(const std::string& token_hash, core::UserId user, TimeMs expires_at) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    // Expired sessions are dropped as new ones come in, so the table stays as small as the live set.
    c.prepare("DELETE FROM sessions WHERE expires_at <= ?1 AND rowid IN (SELECT rowid FROM sessions "
              "WHERE expires_at <= ?1 LIMIT 16)")
        .bind(1, to_unix_ms(expires_at) - 2 * 86'400'000LL)
        .step_status();
    auto& st = c.prepare("INSERT INTO sessions(token_hash, user_id, expires_at) VALUES(?1, ?2, ?3)");
    st.bind(1, token_hash).bind(2, user).bind(3, to_unix_ms(expires_at));
    if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not store the session");
    return core::ok_status();
  });
}

std::optional<core::SessionRecord> SqliteAccountStore::find_session(const std::string& token_hash) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT u.id, u.email, u.name, u.role, u.email_verified_at <> 0, s.expires_at FROM sessions s "
      "JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1");
  st.bind(1, token_hash);
  if (!st.step()) return std::nullopt;
  return core::SessionRecord{core::User{st.int64(0), st.text(1), st.text(2), role_from(st.text(3)), st.int64(4) != 0},
                             from_unix_ms(st.int64(5))};
}

core::Status SqliteAccountStore::delete_session(const std::string& token_hash) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("DELETE FROM sessions WHERE token_hash = ?1").bind(1, token_hash).step_status();
    return core::ok_status();
  });
}

core::Status SqliteAccountStore::delete_sessions_of(core::UserId user, const std::string& keep_token_hash) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2")
        .bind(1, user).bind(2, keep_token_hash).step_status();
    return core::ok_status();
  });
}

core::Status SqliteAccountStore::set_password_hash(core::UserId user, const std::string& password_hash,
                                                   const std::string& keep_token_hash) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("UPDATE users SET password_hash = ?2 WHERE id = ?1").bind(1, user).bind(2, password_hash).step_status();
    c.prepare("DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2")
        .bind(1, user).bind(2, keep_token_hash).step_status();
    return core::ok_status();
  });
}

core::NotifyPrefs SqliteAccountStore::notify_prefs(core::UserId user) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT phone, email_on, sms_on, hold_expiry_on, phone_verified FROM user_notify WHERE user_id = ?1");
  st.bind(1, user);
  if (!st.step()) return core::NotifyPrefs{};
  core::NotifyPrefs p{st.text(0), st.int64(1) != 0, st.int64(2) != 0, st.int64(3) != 0, st.int64(4) != 0};
  st.reset();
  return p;
}

core::Status SqliteAccountStore::set_notify_prefs(core::UserId user, const core::NotifyPrefs& prefs) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    auto& st = c.prepare(
        "INSERT INTO user_notify(user_id, phone, email_on, sms_on, hold_expiry_on) VALUES(?1, ?2, ?3, ?4, ?5) "
        "ON CONFLICT(user_id) DO UPDATE SET phone = excluded.phone, email_on = excluded.email_on, "
        "sms_on = excluded.sms_on, hold_expiry_on = excluded.hold_expiry_on, "
        "phone_verified = CASE WHEN user_notify.phone = excluded.phone THEN user_notify.phone_verified ELSE 0 END");
    st.bind(1, user).bind(2, prefs.phone).bind(3, prefs.email ? 1 : 0).bind(4, prefs.sms ? 1 : 0)
        .bind(5, prefs.hold_expiry ? 1 : 0);
    if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not store the preferences");
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite
