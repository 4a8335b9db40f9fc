#include "store/postgres/account_tokens.hpp"

#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {
const core::Error kRefused = make_error(Code::InvalidToken, "the link or code is wrong, used or expired");
}  // namespace

core::Result<core::AccountTokenId> PgAccountTokens::issue(const core::AccountToken& token, core::NoticeKind kind,
                                                          const char* channel, uint32_t max_recent, TimeMs since) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::AccountTokenId> {
    c.exec("BEGIN");
    try {
      // The user's row lock orders issues of one account across nodes, so the count below is exact.
      c.query("SELECT id FROM users WHERE id = $1 FOR UPDATE", {p(token.user_id)});
      Rows n = c.query("SELECT count(*) FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND created_at > $3",
                       {p(token.user_id), p(core::to_string(token.purpose)), p(to_unix_ms(since))});
      if (n.int64(0, 0) >= static_cast<int64_t>(max_recent)) {
        c.exec("ROLLBACK");
        return make_error(Code::LimitReached, "too many of these messages in the last hour; try again later");
      }
      Rows r = c.query("INSERT INTO account_tokens(user_id, purpose, destination, created_at, expires_at) "
                       "VALUES($1, $2, $3, $4, $5) RETURNING id",
                       {p(token.user_id), p(core::to_string(token.purpose)), p(token.destination),
                        p(to_unix_ms(token.created_at)), p(to_unix_ms(token.expires_at))});
      const core::AccountTokenId id = r.int64(0, 0);
      c.query("INSERT INTO outbox(kind, channel, user_id, event_id, status, created_at, due_at, token_id) "
              "VALUES($1, $2, $3, 0, 'PENDING', $4, $4, $5)",
              {p(core::to_string(kind)), p(channel), p(token.user_id), p(to_unix_ms(token.created_at)), p(id)});
      c.exec("COMMIT");
      return id;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

std::optional<core::AccountToken> PgAccountTokens::find(core::AccountTokenId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::AccountToken> {
    Rows r = c.query("SELECT user_id, purpose, destination, created_at, expires_at, used_at, attempts "
                     "FROM account_tokens WHERE id = $1",
                     {p(id)});
    if (r.empty()) return std::nullopt;
    auto purpose = core::token_purpose_from(r.text(0, 1));
    if (!purpose) return std::nullopt;  // a purpose this binary does not know is no token it may redeem
    return core::AccountToken{id, r.int64(0, 0), *purpose, r.text(0, 2), from_unix_ms(r.int64(0, 3)),
                              from_unix_ms(r.int64(0, 4)), from_unix_ms(r.int64(0, 5)),
                              static_cast<int32_t>(r.int64(0, 6))};
  });
}

std::optional<core::AccountToken> PgAccountTokens::latest(core::UserId user, core::TokenPurpose purpose) {
  const core::AccountTokenId id = with_connection(pool_, [&](Connection& c) -> core::AccountTokenId {
    Rows r = c.query("SELECT coalesce(max(id), 0) FROM account_tokens WHERE user_id = $1 AND purpose = $2",
                     {p(user), p(core::to_string(purpose))});
    return r.int64(0, 0);
  });
  if (id == 0) return std::nullopt;
  return find(id);
}

core::Status PgAccountTokens::note_attempt(core::AccountTokenId id) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("UPDATE account_tokens SET attempts = attempts + 1 WHERE id = $1", {p(id)});
    return core::ok_status();
  }, /*idempotent=*/false);
}

core::Status PgAccountTokens::redeem(const core::AccountToken& token, TimeMs now, const std::string& password_hash) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.exec("BEGIN");
    try {
      const int64_t at = to_unix_ms(now);
      if (c.query("UPDATE account_tokens SET used_at = $2 WHERE id = $1 AND used_at = 0 RETURNING id",
                  {p(token.id), p(at)})
              .empty()) {
        c.exec("ROLLBACK");
        return kRefused;
      }
      switch (token.purpose) {
        case core::TokenPurpose::VerifyEmail:
          c.query("UPDATE users SET email_verified_at = $3 WHERE id = $1 AND email = $2",
                  {p(token.user_id), p(token.destination), p(at)});
          break;
        case core::TokenPurpose::VerifyPhone:
          c.query("UPDATE user_notify SET phone_verified = true WHERE user_id = $1 AND phone = $2",
                  {p(token.user_id), p(token.destination)});
          break;
        case core::TokenPurpose::ResetPassword:
          c.query("UPDATE users SET password_hash = $2, email_verified_at = CASE WHEN email = $3 THEN $4 "
                  "ELSE email_verified_at END WHERE id = $1",
                  {p(token.user_id), p(password_hash), p(token.destination), p(at)});
          c.query("DELETE FROM sessions WHERE user_id = $1", {p(token.user_id)});
          break;
      }
      c.exec("COMMIT");
      return core::ok_status();
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

}  // namespace ticketd::store::postgres
