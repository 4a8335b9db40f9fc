#include "store/sqlite/account_tokens.hpp"

#include <sqlite3.h>

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

core::Result<core::AccountTokenId> SqliteAccountTokens::issue(const core::AccountToken& token, core::NoticeKind kind,
                                                              const char* channel, uint32_t max_recent, TimeMs since) {
  core::AccountTokenId id = 0;
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    auto& recent = c.prepare(
        "SELECT count(*) FROM account_tokens WHERE user_id = ?1 AND purpose = ?2 AND created_at > ?3");
    recent.bind(1, token.user_id).bind(2, core::to_string(token.purpose)).bind(3, to_unix_ms(since));
    const int64_t n = recent.step() ? recent.int64(0) : 0;
    recent.reset();
    if (n >= static_cast<int64_t>(max_recent))
      return make_error(Code::LimitReached, "too many of these messages in the last hour; try again later");
    auto& st = c.prepare(
        "INSERT INTO account_tokens(user_id, purpose, destination, created_at, expires_at) VALUES(?1, ?2, ?3, ?4, ?5)");
    st.bind(1, token.user_id)
        .bind(2, core::to_string(token.purpose))
        .bind(3, token.destination)
        .bind(4, to_unix_ms(token.created_at))
        .bind(5, to_unix_ms(token.expires_at));
    if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not store the token");
    id = c.last_insert_rowid();
    auto& row = c.prepare(
        "INSERT INTO outbox(kind, channel, user_id, event_id, status, created_at, due_at, token_id) "
        "VALUES(?1, ?2, ?3, 0, 'PENDING', ?4, ?4, ?5)");
    row.bind(1, core::to_string(kind)).bind(2, channel).bind(3, token.user_id).bind(4, to_unix_ms(token.created_at))
        .bind(5, id);
    if (row.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "could not queue the message");
    return core::ok_status();
  });
  if (!s) return s.error();
  return id;
}

std::optional<core::AccountToken> SqliteAccountTokens::find(core::AccountTokenId id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT user_id, purpose, destination, created_at, expires_at, used_at, attempts FROM account_tokens "
      "WHERE id = ?1");
  st.bind(1, id);
  std::optional<core::AccountToken> out;
  if (st.step()) {
    // A purpose this binary does not know is no token it may redeem.
    if (auto purpose = core::token_purpose_from(st.text(1)))
      out = core::AccountToken{id, st.int64(0), *purpose, st.text(2), from_unix_ms(st.int64(3)),
                               from_unix_ms(st.int64(4)), from_unix_ms(st.int64(5)),
                               static_cast<int32_t>(st.int64(6))};
  }
  st.reset();
  return out;
}

std::optional<core::AccountToken> SqliteAccountTokens::latest(core::UserId user, core::TokenPurpose purpose) {
  core::AccountTokenId id = 0;
  {
    auto r = db_.readers().acquire();
    auto& st = r->prepare(
        "SELECT max(id) FROM account_tokens WHERE user_id = ?1 AND purpose = ?2");
    st.bind(1, user).bind(2, core::to_string(purpose));
    if (st.step()) id = st.int64(0);
    st.reset();
  }
  if (id == 0) return std::nullopt;
  return find(id);
}

core::Status SqliteAccountTokens::note_attempt(core::AccountTokenId id) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("UPDATE account_tokens SET attempts = attempts + 1 WHERE id = ?1").bind(1, id).step_status();
    return core::ok_status();
  });
}

core::Status SqliteAccountTokens::redeem(const core::AccountToken& token, TimeMs now,
                                         const std::string& password_hash) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("UPDATE account_tokens SET used_at = ?2 WHERE id = ?1 AND used_at = 0")
        .bind(1, token.id).bind(2, to_unix_ms(now)).step_status();
    if (c.changes() != 1) return make_error(Code::InvalidToken, "the link or code is wrong, used or expired");
    const int64_t at = to_unix_ms(now);
    switch (token.purpose) {
      case core::TokenPurpose::VerifyEmail:
        c.prepare("UPDATE users SET email_verified_at = ?3 WHERE id = ?1 AND email = ?2")
            .bind(1, token.user_id).bind(2, token.destination).bind(3, at).step_status();
        break;
      case core::TokenPurpose::VerifyPhone:
        c.prepare("UPDATE user_notify SET phone_verified = 1 WHERE user_id = ?1 AND phone = ?2")
            .bind(1, token.user_id).bind(2, token.destination).step_status();
        break;
      case core::TokenPurpose::ResetPassword:
        c.prepare("UPDATE users SET password_hash = ?2, email_verified_at = CASE WHEN email = ?3 THEN ?4 "
                  "ELSE email_verified_at END WHERE id = ?1")
            .bind(1, token.user_id).bind(2, password_hash).bind(3, token.destination).bind(4, at).step_status();
        c.prepare("DELETE FROM sessions WHERE user_id = ?1").bind(1, token.user_id).step_status();
        break;
    }
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite
