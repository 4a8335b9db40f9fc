// Use cases: register, log in and out, authenticate a bearer token, bootstrap the administrator.
// Thread safety: all methods are safe to call concurrently.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/account_links.hpp"
#include "app/session_cache.hpp"
#include "app/session_reader.hpp"
#include "app/two_factor.hpp"
#include "base/metrics.hpp"
#include "core/ports/account_store.hpp"

namespace ticketd::app {

struct SessionToken {
  std::string token;
  core::UserId user_id = 0;
  TimeMs expires_at{};
};

// A request to create many users at once (load tests, imports): emails
// `<email_prefix><first + i>@<email_domain>` for i in [0, count).
struct ProvisionRequest {
  std::string email_prefix;
  std::string email_domain;
  int64_t first = 0;
  uint32_t count = 0;
  std::string name;
};

struct ProvisionedSession {
  core::User user;
  std::string token;
};

struct Provisioned {
  std::vector<ProvisionedSession> users;
  TimeMs expires_at{};
};

class Accounts {
 public:
  // Failed logins per (email, client IP) before 429, within a fixed window that starts at the first
  // failure; the lockout lasts until the window ends. Keyed by IP too, so a stranger cannot lock a buyer
  // out of their own account from elsewhere; guessing from many addresses is what the per-IP login rate
  // limit (http/edge.hpp) and the Argon2id cost slow down. The table is bounded: when full, lapsed
  // windows are swept, and only if none has lapsed is it cleared (a flood resets it, never grows it).
  static constexpr int kLoginFailuresMax = 10;
  static constexpr Millis kLoginFailureWindow{300'000};
  static constexpr size_t kThrottledEmailsMax = 100'000;

  // two_factor may be null: no account has a second factor then.
  // links may be null: no verification link is mailed at sign-up.
  // sessions may be null: every authentication reads the store.
  // reader may be null: authenticate_async never starts a read. Owned: it goes first, answering what
  // it still has queued while the rest is there.
  Accounts(core::AccountStore& store, const Clock& clock, Millis session_ttl, Metrics& metrics,
           TwoFactor* two_factor = nullptr, AccountLinks* links = nullptr, SessionCache* sessions = nullptr,
           std::unique_ptr<SessionReader> reader = nullptr);

  // The new account's address is unverified; a verification link is mailed to it.
  core::Result<core::User> register_user(const std::string& email, const std::string& password,
                                         const std::string& name);
  // client: the caller's IP ("" when unknown). TooManyRequests carries the seconds to wait in
  // Error::detail (digits only).
  // With two-factor login on (app/two_factor), a right password also needs `totp_code`: TotpRequired
  // without one, InvalidTotp (counted as a failed login) for a wrong or used one.
  core::Result<SessionToken> login(const std::string& email, const std::string& password,
                                   const std::string& client = "", const std::string& totp_code = "");
  core::Status logout(std::string_view token);
  // Ends every session of the user, the caller's included.
  core::Status logout_everywhere(core::UserId user);
  // The caller (authenticated by `token`) changes their password: InvalidCredentials if `current` is
  // wrong (counted like a failed login from `client`, so a stolen session cannot guess it freely),
  // InvalidRequest for a new one out of bounds. Every other session of the account ends; this one
  // goes on.
  core::Status change_password(const core::User& user, std::string_view token, const std::string& current,
                               const std::string& next, const std::string& client = "");
  // Unauthenticated for a missing, unknown or expired token. Answered from the session cache when it
  // has the token; otherwise from the store (which may throw core::UnavailableError).
  core::Result<core::User> authenticate(std::string_view token);
  // The cache's answer alone: the account when the cache holds the token, nullopt when only the store
  // can tell (it never blocks: for callers that must not wait on the store). A caller told nullopt
  // asks authenticate() next, which counts the cache's miss.
  std::optional<core::User> authenticate_cached(std::string_view token);
  // Whether authenticate_async() can start a read (a reader and a cache were given).
  bool authenticates_async() const { return reader_ && sessions_; }
  // authenticate() without blocking, for a caller whose session the cache lacks: true when a read by the
  // session reader was started, and `done` hears authenticate()'s answer on the reader's thread (the
  // session is in the cache by then); false, `done` unused, when none can be (no reader or cache, a
  // token of the wrong shape, the reader's queue full): the caller asks authenticate() instead.
  using Authenticated = std::function<void(core::Result<core::User>)>;
  bool authenticate_async(std::string_view token, Authenticated done);
  // Creates the users with a session each, all or nothing. Their password is one random secret,
  // hashed once with the normal Argon2id cost and then forgotten: nobody can log in with it, so the
  // shared hash weakens nothing, and a batch costs one hash instead of `count`.
  core::Result<Provisioned> provision_users(const ProvisionRequest& request);
  // Creates the administrator if no user has this email; promotes nothing silently.
  core::Status ensure_admin(const std::string& email, const std::string& password);

 private:
  struct Failures {
    int count = 0;
    TimeMs window_start{};
  };
  // Remaining lockout of `key` at `now`, or zero when it may try.
  Millis lockout_left(const std::string& key, TimeMs now);
  void note_failure(const std::string& key, TimeMs now);
  // authenticate()'s answer for a session read from the store, kept in the cache when it is live.
  core::Result<core::User> answer_read(const std::string& hash, std::optional<core::SessionRecord> session,
                                       uint64_t cache_generation);

  core::AccountStore& store_;
  const Clock& clock_;
  Millis session_ttl_;
  Metrics& metrics_;
  TwoFactor* two_factor_;
  AccountLinks* links_;
  SessionCache* sessions_;
  std::string dummy_hash_;  // verified against for unknown emails, so timing does not reveal them
  std::mutex failures_mu_;  // guards failures_
  std::unordered_map<std::string, Failures> failures_;
  std::unique_ptr<SessionReader> reader_;  // last: destroyed first (its answers use the members above)
};

}  // namespace ticketd::app
