// Use cases of account tokens (core/account_token.hpp): verifying an account's email address and
// phone number, and resetting a forgotten password by email.
//
// What a person receives is derived, never stored: a link token "<id>.<32 hex>" whose hex is an
// HMAC-SHA256 (key: TicketSecret::account_key) over the token row (id, purpose, account, destination,
// expiry), and for a phone the 6 digits of another such HMAC. So a copy of the database alone lets
// nobody verify or reset anything, and every node sharing the ticket secret checks every other's.
//
// Thread safety: immutable once set_public_url() was called; all methods may then be called concurrently.
#pragma once

#include <optional>
#include <string>

#include "base/metrics.hpp"
#include "app/session_cache.hpp"
#include "app/ticket_codes.hpp"
#include "base/clock.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/account_tokens.hpp"

namespace ticketd::app {

// What an account message says, resolved at delivery from its token (Notifications).
struct AccountMessage {
  std::string destination;  // the address or number the token was issued for
  std::string link;         // VerifyEmail, ResetPassword: the absolute URL to open
  std::string code;         // VerifyPhone: the 6 digits
  TimeMs expires_at{};
};

class AccountLinks {
 public:
  // sessions may be null; otherwise a verified address or a reset is told to it (cached accounts change).
  AccountLinks(core::AccountTokenStore& tokens, core::AccountStore& accounts, const Key32& key, const Clock& clock,
               Metrics& metrics, SessionCache* sessions = nullptr);
  // Where the web app is served ("https://tickets.example.com"): the start of every link.
  // REQUIRES: called once, before any other thread uses this object.
  void set_public_url(std::string url);

  // Mails a verification link to the account's address (at sign-up, and when asked again).
  // LimitReached after core::kTokensPerPurposeHourMax in an hour; ok and nothing sent if verified.
  core::Status send_email_link(const core::User& user);
  core::Status verify_email(const std::string& token);
  // Sends a code to the account's phone by the SMS webhook. InvalidRequest without a phone;
  // LimitReached as above; ok and nothing sent if the phone is verified already.
  core::Status send_phone_code(core::UserId user);
  // InvalidToken for a wrong code (counted: after core::kPhoneCodeAttemptsMax the code is dead).
  core::Status verify_phone(core::UserId user, const std::string& code);
  // Mails a reset link if an account has this address. Always ok: the answer must not tell which
  // addresses have accounts (an address past its hourly limit gets nothing, silently).
  core::Status request_password_reset(const std::string& email);
  // Sets the new password, ends every session of the account, and verifies its address.
  core::Status reset_password(const std::string& token, const std::string& new_password);

  // The message of token `id` as it should be delivered at `now`, or nullopt when there is nothing
  // to deliver any more (used, expired, or the address or number changed since).
  std::optional<AccountMessage> message(core::AccountTokenId id, TimeMs now);

 private:
  core::Result<core::AccountTokenId> issue(core::UserId user, core::TokenPurpose purpose, std::string destination);
  // The token named by a link, if its MAC is right; nullopt for anything else.
  std::optional<core::AccountToken> from_link(const std::string& token);
  std::string link_token(const core::AccountToken& t) const;
  std::string phone_code(const core::AccountToken& t) const;
  // The account's current address or number for a purpose ("" when it has none).
  std::string current_destination(core::UserId user, core::TokenPurpose purpose);

  core::AccountTokenStore& tokens_;
  core::AccountStore& accounts_;
  Key32 key_;
  std::string public_url_;
  const Clock& clock_;
  Metrics& metrics_;
  SessionCache* sessions_;
};

}  // namespace ticketd::app
