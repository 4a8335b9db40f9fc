#include "core/account_token.hpp"

namespace ticketd::core {

const char* to_string(TokenPurpose p) {
  switch (p) {
    case TokenPurpose::VerifyEmail: return "verify_email";
    case TokenPurpose::VerifyPhone: return "verify_phone";
    case TokenPurpose::ResetPassword: return "reset_password";
  }
  return "verify_email";
}

std::optional<TokenPurpose> token_purpose_from(std::string_view s) {
  if (s == "verify_email") return TokenPurpose::VerifyEmail;
  if (s == "verify_phone") return TokenPurpose::VerifyPhone;
  if (s == "reset_password") return TokenPurpose::ResetPassword;
  return std::nullopt;
}

Millis token_ttl(TokenPurpose p) {
  switch (p) {
    case TokenPurpose::VerifyEmail: return Millis(86'400'000);
    case TokenPurpose::VerifyPhone: return Millis(600'000);
    case TokenPurpose::ResetPassword: return Millis(3'600'000);
  }
  return Millis(600'000);
}

Status check_redeemable(const std::optional<AccountToken>& token, TokenPurpose purpose, TimeMs now,
                        std::string_view current_destination) {
  // One answer for every refusal: which of them it was helps only a guesser.
  const Error refused = make_error(Code::InvalidToken, "the link or code is wrong, used or expired");
  if (!token || token->purpose != purpose) return refused;
  if (token->used_at != TimeMs{} || now >= token->expires_at) return refused;
  if (purpose == TokenPurpose::VerifyPhone && token->attempts >= kPhoneCodeAttemptsMax) return refused;
  if (token->destination != current_destination) return refused;
  return ok_status();
}

bool within_caps(const MessageCaps& caps, const RecentMessages& recent) {
  return recent.by_account < caps.per_account && recent.to_destination < caps.per_destination;
}

}  // namespace ticketd::core
