// The rules of account tokens and message caps (core/account_token.hpp).
#include <gtest/gtest.h>

#include "core/account_token.hpp"

namespace ticketd::core {
namespace {

const TimeMs kNow = from_unix_ms(1'800'000'000'000);

AccountToken token(TokenPurpose purpose = TokenPurpose::VerifyEmail) {
  return AccountToken{7, 3, purpose, "ann@example.com", kNow, kNow + token_ttl(purpose), TimeMs{}, 0};
}

TEST(AccountToken, AFreshTokenForTheCurrentAddressIsRedeemable) {
  EXPECT_TRUE(check_redeemable(token(), TokenPurpose::VerifyEmail, kNow, "ann@example.com"));
}

TEST(AccountToken, EachRefusalIsTheSameInvalidToken) {
  AccountToken used = token();
  used.used_at = kNow;
  AccountToken tried = token(TokenPurpose::VerifyPhone);
  tried.attempts = kPhoneCodeAttemptsMax;
  const AccountToken t = token();
  const Status refused[] = {
      check_redeemable(std::nullopt, TokenPurpose::VerifyEmail, kNow, "ann@example.com"),
      check_redeemable(t, TokenPurpose::ResetPassword, kNow, "ann@example.com"),     // another purpose
      check_redeemable(used, TokenPurpose::VerifyEmail, kNow, "ann@example.com"),    // single use
      check_redeemable(t, TokenPurpose::VerifyEmail, t.expires_at, "ann@example.com"),  // expired at the instant
      check_redeemable(t, TokenPurpose::VerifyEmail, kNow, "bob@example.com"),       // the address changed since
      check_redeemable(tried, TokenPurpose::VerifyPhone, kNow, "ann@example.com"),   // out of tries
  };
  for (const Status& s : refused) {
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Code::InvalidToken);
    EXPECT_EQ(s.error().message, refused[0].error().message);
  }
}

TEST(AccountToken, APhoneCodeTakesItsLastTryThenNoMore) {
  AccountToken t = token(TokenPurpose::VerifyPhone);
  t.attempts = kPhoneCodeAttemptsMax - 1;
  EXPECT_TRUE(check_redeemable(t, TokenPurpose::VerifyPhone, kNow, "ann@example.com"));
}

TEST(AccountToken, ACodeLivesShorterThanAResetAndAResetShorterThanALink) {
  EXPECT_LT(token_ttl(TokenPurpose::VerifyPhone), token_ttl(TokenPurpose::ResetPassword));
  EXPECT_LT(token_ttl(TokenPurpose::ResetPassword), token_ttl(TokenPurpose::VerifyEmail));
}

TEST(AccountToken, PurposesRoundTripAndUnknownOnesAreNone) {
  for (TokenPurpose p : {TokenPurpose::VerifyEmail, TokenPurpose::VerifyPhone, TokenPurpose::ResetPassword})
    EXPECT_EQ(token_purpose_from(to_string(p)), p);
  EXPECT_EQ(token_purpose_from("verify_fax"), std::nullopt);
}

TEST(MessageCaps, EitherCapStopsAMessage) {
  const MessageCaps caps{3, 2};
  EXPECT_TRUE(within_caps(caps, {2, 1}));
  EXPECT_FALSE(within_caps(caps, {3, 0}));  // the account had its share
  EXPECT_FALSE(within_caps(caps, {0, 2}));  // the address or number had its share, from any account
}

}  // namespace
}  // namespace ticketd::core
