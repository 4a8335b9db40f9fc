#include "app/account_links.hpp"

#include <sodium.h>

#include <charconv>

#include "app/email_address.hpp"
#include "app/password.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;
using core::TokenPurpose;

namespace {

constexpr size_t kLinkMacHexDigits = 32;  // 128 bits
constexpr size_t kLinkTokenBytesMax = 20 + 1 + kLinkMacHexDigits;

void put_u64(crypto_auth_hmacsha256_state& st, uint64_t v) {
  uint8_t b[8];
  for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<uint8_t>(v);
  crypto_auth_hmacsha256_update(&st, b, sizeof b);
}

// HMAC over everything the token row says, so a link cannot be moved to another row or destination.
std::array<uint8_t, 32> mac(const Key32& key, std::string_view label, const core::AccountToken& t) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  const std::string purpose = core::to_string(t.purpose);
  for (std::string_view part : {label, std::string_view(purpose), std::string_view(t.destination)}) {
    put_u64(st, part.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(part.data()), part.size());
  }
  put_u64(st, static_cast<uint64_t>(t.id));
  put_u64(st, static_cast<uint64_t>(t.user_id));
  put_u64(st, static_cast<uint64_t>(to_unix_ms(t.expires_at)));
  std::array<uint8_t, 32> out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

}  // namespace

AccountLinks::AccountLinks(core::AccountTokenStore& tokens, core::AccountStore& accounts, const Key32& key,
                           const Clock& clock, Metrics& metrics, SessionCache* sessions)
    : tokens_(tokens), accounts_(accounts), key_(key), clock_(clock), metrics_(metrics), sessions_(sessions) {}

void AccountLinks::set_public_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  public_url_ = std::move(url);
}

std::string AccountLinks::link_token(const core::AccountToken& t) const {
  const auto m = mac(key_, "link", t);
  return std::to_string(t.id) + "." + hex_encode(m.data(), kLinkMacHexDigits / 2);
}

std::string AccountLinks::phone_code(const core::AccountToken& t) const {
  const auto m = mac(key_, "code", t);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | m[i];
  std::string code = std::to_string(v % 1'000'000);
  return std::string(6 - code.size(), '0') + code;
}

std::string AccountLinks::current_destination(core::UserId user, TokenPurpose purpose) {
  if (purpose == TokenPurpose::VerifyPhone) return accounts_.notify_prefs(user).phone;
  auto u = accounts_.find_user(user);
  return u ? u->email : std::string();
}

core::Result<core::AccountTokenId> AccountLinks::issue(core::UserId user, TokenPurpose purpose,
                                                       std::string destination) {
  const TimeMs now = clock_.now();
  core::AccountToken t{0, user, purpose, std::move(destination), now, now + core::token_ttl(purpose), TimeMs{}, 0};
  const auto kind = purpose == TokenPurpose::VerifyEmail   ? core::NoticeKind::VerifyEmail
                    : purpose == TokenPurpose::VerifyPhone ? core::NoticeKind::VerifyPhone
                                                           : core::NoticeKind::PasswordReset;
  const char* channel = purpose == TokenPurpose::VerifyPhone ? core::kChannelWebhook : core::kChannelEmail;
  auto id = tokens_.issue(t, kind, channel, core::kTokensPerPurposeHourMax, now - core::kTokenIssueWindow);
  metrics_.count("account_tokens", id.ok() ? "issued" : "refused");
  return id;
}

core::Status AccountLinks::send_email_link(const core::User& user) {
  auto fresh = accounts_.find_user(user.id);
  if (!fresh) return make_error(Code::NotFound, "no such account");
  if (fresh->email_verified) return core::ok_status();
  auto id = issue(fresh->id, TokenPurpose::VerifyEmail, fresh->email);
  if (!id) return id.error();
  return core::ok_status();
}

std::optional<core::AccountToken> AccountLinks::from_link(const std::string& token) {
  const size_t dot = token.find('.');
  if (token.size() > kLinkTokenBytesMax || dot == std::string::npos || token.size() - dot - 1 != kLinkMacHexDigits)
    return std::nullopt;
  core::AccountTokenId id = 0;
  const auto [end, ec] = std::from_chars(token.data(), token.data() + dot, id);
  if (ec != std::errc() || end != token.data() + dot || id <= 0) return std::nullopt;
  auto t = tokens_.find(id);
  if (!t) return std::nullopt;
  const std::string expected = link_token(*t);
  if (expected.size() != token.size() || sodium_memcmp(expected.data(), token.data(), token.size()) != 0)
    return std::nullopt;
  return t;
}

core::Status AccountLinks::verify_email(const std::string& token) {
  auto t = from_link(token);
  const TimeMs now = clock_.now();
  const std::string current = t ? current_destination(t->user_id, TokenPurpose::VerifyEmail) : std::string();
  if (auto s = core::check_redeemable(t, TokenPurpose::VerifyEmail, now, current); !s) {
    metrics_.count("email_verifications", "refused");
    return s;
  }
  auto s = tokens_.redeem(*t, now, "");
  metrics_.count("email_verifications", s ? "ok" : "refused");
  if (s && sessions_) sessions_->change_user(t->user_id);  // cached copies say "unverified"
  return s;
}

core::Status AccountLinks::send_phone_code(core::UserId user) {
  const core::NotifyPrefs prefs = accounts_.notify_prefs(user);
  if (prefs.phone.empty()) return make_error(Code::InvalidRequest, "phone: set a phone number first");
  if (prefs.phone_verified) return core::ok_status();
  auto id = issue(user, TokenPurpose::VerifyPhone, prefs.phone);
  if (!id) return id.error();
  return core::ok_status();
}

core::Status AccountLinks::verify_phone(core::UserId user, const std::string& code) {
  if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string::npos)
    return make_error(Code::InvalidRequest, "code: the 6 digits sent to your phone");
  auto t = tokens_.latest(user, TokenPurpose::VerifyPhone);
  const TimeMs now = clock_.now();
  if (auto s = core::check_redeemable(t, TokenPurpose::VerifyPhone, now, accounts_.notify_prefs(user).phone); !s)
    return s;
  const std::string expected = phone_code(*t);
  if (sodium_memcmp(expected.data(), code.data(), expected.size()) != 0) {
    (void)tokens_.note_attempt(t->id);
    metrics_.count("phone_verifications", "wrong_code");
    return make_error(Code::InvalidToken, "the link or code is wrong, used or expired");
  }
  auto s = tokens_.redeem(*t, now, "");
  metrics_.count("phone_verifications", s ? "ok" : "refused");
  return s;
}

core::Status AccountLinks::request_password_reset(const std::string& email) {
  auto key = normalize_email(email);
  if (!key) return key.error();  // not an address at all: saying so reveals nothing about accounts
  auto stored = accounts_.find_user_by_email(*key);
  if (!stored) {
    metrics_.count("password_resets", "unknown_address");
    return core::ok_status();
  }
  (void)issue(stored->user.id, TokenPurpose::ResetPassword, stored->user.email);
  return core::ok_status();
}

core::Status AccountLinks::reset_password(const std::string& token, const std::string& new_password) {
  auto t = from_link(token);
  const TimeMs now = clock_.now();
  const std::string current = t ? current_destination(t->user_id, TokenPurpose::ResetPassword) : std::string();
  if (auto s = core::check_redeemable(t, TokenPurpose::ResetPassword, now, current); !s) {
    metrics_.count("password_resets", "refused");
    return s;
  }
  if (auto s = core::validate_password(new_password); !s) return s;
  auto s = tokens_.redeem(*t, now, hash_password(new_password));
  metrics_.count("password_resets", s ? "ok" : "refused");
  if (s && sessions_) sessions_->change_user(t->user_id);  // every session of the account ended
  return s;
}

std::optional<AccountMessage> AccountLinks::message(core::AccountTokenId id, TimeMs now) {
  auto t = tokens_.find(id);
  if (!t || !core::check_redeemable(t, t->purpose, now, current_destination(t->user_id, t->purpose))) return std::nullopt;
  AccountMessage m{t->destination, "", "", t->expires_at};
  switch (t->purpose) {
    case TokenPurpose::VerifyEmail: m.link = public_url_ + "/#/verify-email/" + link_token(*t); break;
    case TokenPurpose::ResetPassword: m.link = public_url_ + "/#/reset-password/" + link_token(*t); break;
    case TokenPurpose::VerifyPhone: m.code = phone_code(*t); break;
  }
  return m;
}

}  // namespace ticketd::app
