// Access and queue tokens: signature, expiry, event and user binding, key rotation; the lottery's
// commitment and keys.
#include "app/queue_tokens.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <map>

#include "app/lottery.hpp"

using namespace ticketd;
using namespace ticketd::app;

namespace {
const std::string kOld = "old-secret-0123456789";
const std::string kNew = "new-secret-9876543210";
const TimeMs kNow = from_unix_ms(1'900'000'000'000);

std::string access(const TokenKeys& keys, core::EventId e, core::UserId u, TimeMs exp) {
  return keys.sign(TokenClaims{TokenKind::Access, 0, e, u, exp});
}

std::string problem_code(const TokenKeys& keys, const std::string& token, core::EventId e, core::UserId u, TimeMs now) {
  TokenProblem p{};
  auto r = keys.verify_access(token, e, u, now, p);
  return r.ok() ? "ok" : r.error().detail;
}
}  // namespace

TEST(AccessToken, ValidForItsEventAndUserUntilItsExpiry) {
  TokenKeys keys({kNew});
  const std::string t = access(keys, 7, 42, kNow + Millis(1000));
  EXPECT_EQ(problem_code(keys, t, 7, 42, kNow), "ok");
  EXPECT_EQ(problem_code(keys, t, 7, 42, kNow + Millis(999)), "ok");
  EXPECT_EQ(problem_code(keys, t, 7, 42, kNow + Millis(1000)), "access_token_expired");
}

TEST(AccessToken, AnotherEventsOrAnotherUsersTokenIsRefused) {
  TokenKeys keys({kNew});
  const std::string t = access(keys, 7, 42, kNow + Millis(60'000));
  EXPECT_EQ(problem_code(keys, t, 8, 42, kNow), "access_token_wrong_event");
  EXPECT_EQ(problem_code(keys, t, 7, 43, kNow), "access_token_wrong_user");
}

TEST(AccessToken, MissingMalformedAndForgedTokensAreRefused) {
  TokenKeys keys({kNew});
  const std::string t = access(keys, 7, 42, kNow + Millis(60'000));
  EXPECT_EQ(problem_code(keys, "", 7, 42, kNow), "access_token_missing");
  EXPECT_EQ(problem_code(keys, "garbage", 7, 42, kNow), "access_token_invalid");
  EXPECT_EQ(problem_code(keys, t + "x", 7, 42, kNow), "access_token_invalid");
  EXPECT_EQ(problem_code(keys, std::string(300, 'a'), 7, 42, kNow), "access_token_invalid");
  // Flip one character of the payload (the user id, say): the MAC no longer matches.
  for (size_t i : {size_t{0}, size_t{20}, t.find('.') + 3}) {
    std::string forged = t;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    EXPECT_EQ(problem_code(keys, forged, 7, 42, kNow), "access_token_invalid") << "at " << i;
  }
  // Signed with a secret the server does not have.
  TokenKeys stranger({"someone-elses-secret-000"});
  EXPECT_EQ(problem_code(keys, access(stranger, 7, 42, kNow + Millis(60'000)), 7, 42, kNow), "access_token_invalid");
  // A queue token is not an access token.
  const std::string q = keys.sign(TokenClaims{TokenKind::Queue, 0, 7, 42, kNow + Millis(60'000)});
  EXPECT_EQ(problem_code(keys, q, 7, 42, kNow), "access_token_invalid");
}

// Found by fuzz/tokens_fuzz: libsodium's decoder reads most bytes 0x80-0xFF as the digit '_', so a
// token had other spellings that verified. Every byte outside the URL-safe alphabet is now refused.
TEST(AccessToken, OnlyTheExactSpellingOfATokenVerifies) {
  const TokenKeys keys({kNew});
  std::string token;
  core::EventId event = 1;
  for (; event < 1000 && token.find('_') == std::string::npos; ++event)
    token = access(keys, event, 9, kNow + Millis(60'000));
  --event;
  ASSERT_NE(token.find('_'), std::string::npos) << "the case that failed needs a '_' in the token";
  ASSERT_EQ(problem_code(keys, token, event, 9, kNow), "ok");
  for (size_t at = 0; at < token.size(); ++at) {
    for (int byte = 0; byte < 256; ++byte) {
      if (static_cast<char>(byte) == token[at]) continue;
      std::string changed = token;
      changed[at] = static_cast<char>(byte);
      TokenClaims claims;
      ASSERT_FALSE(keys.decode(changed, claims)) << "byte " << byte << " at " << at;
    }
  }
}

TEST(AccessToken, RotationKeepsOldTokensValidAndSignsWithTheNewKey) {
  TokenKeys before({kOld});
  const std::string old_token = access(before, 7, 42, kNow + Millis(60'000));
  TokenKeys during({kNew, kOld});
  EXPECT_EQ(problem_code(during, old_token, 7, 42, kNow), "ok");
  const std::string new_token = access(during, 7, 42, kNow + Millis(60'000));
  EXPECT_NE(new_token, old_token);
  EXPECT_EQ(problem_code(TokenKeys({kNew}), new_token, 7, 42, kNow), "ok");
  // Once the old secret is retired, its tokens stop working; the new ones do not depend on it.
  TokenKeys after({kNew});
  EXPECT_EQ(problem_code(after, old_token, 7, 42, kNow), "access_token_invalid");
  EXPECT_EQ(problem_code(TokenKeys({kOld}), new_token, 7, 42, kNow), "access_token_invalid");
}

TEST(TokenKeys, SecretsAreValidated) {
  EXPECT_FALSE(TokenKeys::validate({}).ok());
  EXPECT_FALSE(TokenKeys::validate({"short"}).ok());
  EXPECT_TRUE(TokenKeys::validate({std::string(16, 'k')}).ok());
  EXPECT_FALSE(TokenKeys::validate(std::vector<std::string>(9, std::string(16, 'k'))).ok());
}

TEST(Lottery, CommitmentIsTheSha256OfTheSeed) {
  const core::LotterySeed seed = make_seed();
  uint8_t digest[32];
  crypto_hash_sha256(digest, seed.data(), seed.size());
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  EXPECT_EQ(seed_commitment(seed), std::string(hex));
  EXPECT_NE(seed_commitment(seed), seed_commitment(make_seed()));  // fresh seeds differ
}

TEST(Lottery, KeysAreReproducibleFromTheSeedAndDifferPerUserAndEvent) {
  const core::LotterySeed seed = make_seed();
  EXPECT_EQ(lottery_key(seed, 1, 2), lottery_key(seed, 1, 2));
  EXPECT_NE(lottery_key(seed, 1, 2), lottery_key(seed, 1, 3));
  EXPECT_NE(lottery_key(seed, 1, 2), lottery_key(seed, 2, 2));
  EXPECT_LT(lottery_key(seed, 1, 2), core::kLateScoreBase);
}
