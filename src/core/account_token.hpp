// Account tokens: what proves that a person controls an address or a phone, or may set a new
// password. Each is a stored row (who, for what, sent where, until when, used or not); the secret the
// person receives (a link token or a 6-digit code) is derived from the row and a server key, so the
// database alone never holds one (app/account_links).
//
// The rules here are the only place that decides whether a token may be redeemed, how long each kind
// lives and how many may be issued: plain values and pure functions, no I/O, time passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

using AccountTokenId = int64_t;

enum class TokenPurpose : uint8_t {
  VerifyEmail,    // a link mailed to the account's address
  VerifyPhone,    // a 6-digit code sent by the SMS webhook to the account's phone
  ResetPassword,  // a link mailed to the account's address; redeeming it sets a new password
};
const char* to_string(TokenPurpose p);  // verify_email | verify_phone | reset_password
std::optional<TokenPurpose> token_purpose_from(std::string_view s);

struct AccountToken {
  AccountTokenId id = 0;
  UserId user_id = 0;
  TokenPurpose purpose = TokenPurpose::VerifyEmail;
  std::string destination;  // the address or the number it was sent to
  TimeMs created_at{};
  TimeMs expires_at{};
  TimeMs used_at{};       // zero until redeemed
  int32_t attempts = 0;   // wrong codes tried (VerifyPhone)
};

// How long each kind lives: a link a day (mail can be slow and read later), a reset an hour (it
// takes over the account), a code ten minutes (six digits must not stay guessable for long).
Millis token_ttl(TokenPurpose p);
// Tokens of one purpose an account may be sent per hour: each is a message to someone's inbox or
// phone, and a sender of codes is what SMS pumping abuses.
inline constexpr uint32_t kTokensPerPurposeHourMax = 3;
inline constexpr Millis kTokenIssueWindow{3'600'000};
// Wrong codes before a phone code is dead (a new one must be asked for): 5 guesses of 10^6.
inline constexpr int32_t kPhoneCodeAttemptsMax = 5;

// Whether `token` may be redeemed at `now` for `purpose`, sent to what is still the account's
// `current_destination` (a link to an address the account has since left proves nothing).
// Errors: InvalidToken (unknown, wrong purpose, used, expired, too many attempts, stale destination).
Status check_redeemable(const std::optional<AccountToken>& token, TokenPurpose purpose, TimeMs now,
                        std::string_view current_destination);

// A message cap: at most `per_account` messages to one account and `per_destination` to one address
// or number within kMessageCapWindow. A message over either is not sent.
struct MessageCaps {
  uint32_t per_account = 30;
  uint32_t per_destination = 20;
};
inline constexpr Millis kMessageCapWindow{3'600'000};
inline constexpr uint32_t kMessageCapMax = 10'000;  // bound on the configurable values
struct RecentMessages {
  uint64_t by_account = 0;
  uint64_t to_destination = 0;
};
bool within_caps(const MessageCaps& caps, const RecentMessages& recent);

}  // namespace ticketd::core
