#include "app/accounts.hpp"

#include "app/email_address.hpp"

#include "app/password.hpp"
#include "base/assert.hpp"
#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Accounts::Accounts(core::AccountStore& store, const Clock& clock, Millis session_ttl, Metrics& metrics,
                   TwoFactor* two_factor, AccountLinks* links, SessionCache* sessions,
                   std::unique_ptr<SessionReader> reader)
    : store_(store),
      clock_(clock),
      session_ttl_(session_ttl),
      metrics_(metrics),
      two_factor_(two_factor),
      links_(links),
      sessions_(sessions),
      dummy_hash_(hash_password("ticketd-no-such-user")),
      reader_(std::move(reader)) {}

core::Result<core::User> Accounts::register_user(const std::string& email, const std::string& password,
                                                 const std::string& name) {
  auto key = normalize_email(email);
  if (!key) return key.error();
  if (auto s = core::validate_password(password); !s) return s.error();
  if (auto s = core::validate_person_name(name); !s) return s.error();
  if (store_.find_user_by_email(*key)) return make_error(Code::EmailTaken, "an account with this email exists");
  auto user = store_.create_user(*key, name, hash_password(password), core::Role::User, clock_.now());
  metrics_.count("registrations", user.ok() ? "ok" : "rejected");
  // The account exists either way; a link that could not be queued is asked for again from the web app.
  if (user && links_) (void)links_->send_email_link(*user);
  return user;
}

Millis Accounts::lockout_left(const std::string& key, TimeMs now) {
  std::lock_guard lock(failures_mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return Millis(0);
  const TimeMs window_end = it->second.window_start + kLoginFailureWindow;
  if (now >= window_end) {
    failures_.erase(it);
    return Millis(0);
  }
  return it->second.count >= kLoginFailuresMax ? window_end - now : Millis(0);
}

void Accounts::note_failure(const std::string& key, TimeMs now) {
  std::lock_guard lock(failures_mu_);
  if (failures_.size() >= kThrottledEmailsMax) {
    std::erase_if(failures_, [&](const auto& entry) { return now - entry.second.window_start >= kLoginFailureWindow; });
    if (failures_.size() >= kThrottledEmailsMax) failures_.clear();
  }
  Failures& f = failures_[key];
  if (f.count == 0 || now - f.window_start >= kLoginFailureWindow) f = Failures{0, now};
  ++f.count;
  TICKETD_ASSERT(failures_.size() <= kThrottledEmailsMax);
}

core::Result<SessionToken> Accounts::login(const std::string& email, const std::string& password,
                                           const std::string& client, const std::string& totp_code) {
  if (email.size() > 1024 || password.size() > core::limits::password_bytes_max)
    return make_error(Code::InvalidCredentials, "wrong email or password");
  // Not an address: no account can have it (the same answer as a wrong password, without a hash:
  // it reveals nothing about which addresses have accounts).
  auto key = normalize_email(email);
  if (!key) return make_error(Code::InvalidCredentials, "wrong email or password");
  const std::string throttle_key = *key + '\n' + client;  // '\n' is in no email and no IP
  const TimeMs now = clock_.now();
  if (const Millis left = lockout_left(throttle_key, now); left > Millis(0)) {
    metrics_.count("logins", "throttled");
    core::Error e = make_error(Code::TooManyRequests, "too many failed logins; try again later");
    e.detail = std::to_string((left.count() + 999) / 1000);
    return e;
  }
  auto stored = store_.find_user_by_email(*key);
  const bool good = stored ? verify_password(password, stored->password_hash) : (verify_password(password, dummy_hash_), false);
  if (!good) {
    note_failure(throttle_key, now);
    metrics_.count("logins", "failed");
    return make_error(Code::InvalidCredentials, "wrong email or password");
  }
  // Only a right password reaches the second factor: these answers tell nothing to a guesser.
  if (two_factor_ && two_factor_->enabled(stored->user.id)) {
    if (totp_code.empty()) {
      metrics_.count("logins", "totp_required");
      return make_error(Code::TotpRequired, "this account also needs the code of its authenticator app");
    }
    if (!two_factor_->check(stored->user.id, totp_code)) {
      note_failure(throttle_key, now);
      metrics_.count("logins", "totp_failed");
      return make_error(Code::InvalidTotp, "wrong or used authenticator code");
    }
  }
  SessionToken session{new_token(), stored->user.id, now + session_ttl_};
  if (auto s = store_.create_session(token_hash(session.token), session.user_id, session.expires_at); !s)
    return s.error();
  metrics_.count("logins", "ok");
  return session;
}

core::Status Accounts::logout(std::string_view token) {
  const std::string hash = token_hash(token);
  auto s = store_.delete_session(hash);
  if (sessions_) sessions_->end_token(hash);  // after the row is gone: see SessionCache on the race
  return s;
}

core::Status Accounts::logout_everywhere(core::UserId user) {
  metrics_.count("logouts", "everywhere");
  auto s = store_.delete_sessions_of(user, "");
  if (sessions_) sessions_->change_user(user);
  return s;
}

core::Status Accounts::change_password(const core::User& user, std::string_view token, const std::string& current,
                                       const std::string& next, const std::string& client) {
  const std::string throttle_key = user.email + '\n' + client;
  const TimeMs now = clock_.now();
  if (const Millis left = lockout_left(throttle_key, now); left > Millis(0)) {
    core::Error e = make_error(Code::TooManyRequests, "too many wrong passwords; try again later");
    e.detail = std::to_string((left.count() + 999) / 1000);
    return e;
  }
  if (current.size() > core::limits::password_bytes_max)
    return make_error(Code::InvalidCredentials, "the current password is wrong");
  auto stored = store_.find_user_by_email(user.email);
  if (!stored || stored->user.id != user.id || !verify_password(current, stored->password_hash)) {
    note_failure(throttle_key, now);
    metrics_.count("password_changes", "wrong_password");
    return make_error(Code::InvalidCredentials, "the current password is wrong");
  }
  if (auto s = core::validate_password(next); !s) return s.error();
  auto changed = store_.set_password_hash(user.id, hash_password(next), token_hash(token));
  metrics_.count("password_changes", changed.ok() ? "ok" : "failed");
  if (sessions_) sessions_->change_user(user.id);  // the other sessions ended; this one is read again
  return changed;
}

namespace {
bool token_shape_ok(std::string_view token) { return !token.empty() && token.size() <= 256; }
}  // namespace

std::optional<core::User> Accounts::authenticate_cached(std::string_view token) {
  if (!sessions_ || !token_shape_ok(token)) return std::nullopt;
  // A miss here is counted by the look authenticate() makes next, once the caller may wait on the store.
  return sessions_->find(token_hash(token), SessionCache::Look::before_another);
}

core::Result<core::User> Accounts::authenticate(std::string_view token) {
  if (!token_shape_ok(token)) return make_error(Code::Unauthenticated, "a bearer token is required");
  const std::string hash = token_hash(token);
  if (sessions_) {
    if (auto cached = sessions_->find(hash)) return *cached;
  }
  const uint64_t generation = sessions_ ? sessions_->generation() : 0;
  return answer_read(hash, store_.find_session(hash), generation);
}

bool Accounts::authenticate_async(std::string_view token, Authenticated done) {
  if (!authenticates_async() || !token_shape_ok(token)) return false;
  std::string hash = token_hash(token);
  if (auto cached = sessions_->find(hash)) {  // arrived meanwhile; counts the miss otherwise
    done(*cached);
    return true;
  }
  // Taken before the read, as authenticate() does: an end of sessions published meanwhile keeps this
  // read out of the cache.
  const uint64_t generation = sessions_->generation();
  return reader_->read(hash, [this, hash, generation, done = std::move(done)](auto read) {
    if (!read) return done(read.error());
    done(answer_read(hash, std::move(*read), generation));
  });
}

core::Result<core::User> Accounts::answer_read(const std::string& hash, std::optional<core::SessionRecord> session,
                                               uint64_t cache_generation) {
  if (!session || session->expires_at <= clock_.now())
    return make_error(Code::Unauthenticated, "the token is unknown or expired");
  if (sessions_) sessions_->put(hash, session->user, session->expires_at, cache_generation);
  return std::move(session->user);
}

namespace {

bool provision_chars_ok(std::string_view s, bool dots_and_dashes_only) {
  for (const char ch : s) {
    const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
    const bool punct = ch == '.' || ch == '-' || (!dots_and_dashes_only && (ch == '_' || ch == '+'));
    if (!alnum && !punct) return false;
  }
  return true;
}

core::Status validate_provision(const ProvisionRequest& r) {
  namespace lim = core::limits;
  if (r.count < 1 || r.count > lim::provisioned_users_per_request_max)
    return make_error(Code::InvalidRequest, "count: 1-10000 required");
  if (r.first < 0 || r.first > lim::provision_first_index_max)
    return make_error(Code::InvalidRequest, "first: 0-1000000000 required");
  if (r.email_prefix.empty() || r.email_prefix.size() > lim::provision_email_prefix_bytes_max ||
      !provision_chars_ok(r.email_prefix, false))
    return make_error(Code::InvalidRequest, "email_prefix: 1-64 characters of a-z 0-9 . _ + - required");
  if (r.email_domain.empty() || r.email_domain.size() > lim::provision_email_domain_bytes_max ||
      !provision_chars_ok(r.email_domain, true) || r.email_domain.find('.') == std::string::npos)
    return make_error(Code::InvalidRequest, "email_domain: 1-100 characters of a-z 0-9 . - with a dot required");
  return core::validate_person_name(r.name);
}

}  // namespace

core::Result<Provisioned> Accounts::provision_users(const ProvisionRequest& request) {
  if (auto s = validate_provision(request); !s) return s.error();
  const std::string password_hash = hash_password(new_token());  // the secret is never kept
  const TimeMs now = clock_.now();
  Provisioned out;
  out.expires_at = now + session_ttl_;
  out.users.reserve(request.count);
  std::vector<core::ProvisionedUser> rows;
  rows.reserve(request.count);
  for (uint32_t i = 0; i < request.count; ++i) {
    std::string email = request.email_prefix + std::to_string(request.first + i) + "@" + request.email_domain;
    if (auto s = core::validate_email(email); !s) return s.error();
    std::string token = new_token();
    rows.push_back(core::ProvisionedUser{email, token_hash(token)});
    out.users.push_back(
        ProvisionedSession{core::User{0, std::move(email), request.name, core::Role::User}, std::move(token)});
  }
  auto ids = store_.create_users_bulk(rows, request.name, password_hash, now, out.expires_at);
  metrics_.count("provisions", ids.ok() ? "ok" : "rejected");
  if (!ids) return ids.error();
  TICKETD_ASSERT(ids->size() == out.users.size());
  for (size_t i = 0; i < ids->size(); ++i) out.users[i].user.id = (*ids)[i];
  return out;
}

core::Status Accounts::ensure_admin(const std::string& email, const std::string& password) {
  auto key = normalize_email(email);
  if (!key) return key.error();
  if (auto s = core::validate_password(password); !s) return s.error();
  const std::string& lower = *key;
  if (auto existing = store_.find_user_by_email(lower)) {
    if (existing->user.role == core::Role::Admin) return core::ok_status();
    return make_error(Code::EmailTaken, "the administrator email belongs to an ordinary user");
  }
  auto user = store_.create_user(lower, "Administrator", hash_password(password), core::Role::Admin, clock_.now());
  if (!user) return user.error();
  return core::ok_status();
}

}  // namespace ticketd::app
