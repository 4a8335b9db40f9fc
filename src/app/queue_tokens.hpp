// Signed tokens of the waiting room, verified by any node without a lookup.
//
// Two kinds share one format: a queue token (names a user's place in one event's queue; what a
// status poll presents) and an access token (the user was admitted to one event until `expires_at`;
// what the hold endpoints require in X-Access-Token).
//
// Format: base64url(payload) "." base64url(HMAC-SHA256(key, payload)), payload = version(1) kind(1)
// key_id(4) event(8) user(8) expires_at_ms(8), big-endian. key = SHA-256(secret); key_id = the first
// four bytes of SHA-256(key), so a token names the key that signed it whatever the list's order.
//
// Rotation: the first secret signs; every secret verifies. Add the new secret in front, wait for the
// old tokens to lapse (an active window), then drop the old one: nobody is logged out.
//
// Thread safety: immutable after construction; verify() and sign() may be called concurrently.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::app {

enum class TokenKind : uint8_t { Queue = 'Q', Access = 'A' };

struct TokenClaims {
  TokenKind kind = TokenKind::Access;
  uint32_t key_id = 0;
  core::EventId event = 0;
  core::UserId user = 0;
  TimeMs expires_at{};
};

// Why a token was refused; the HTTP layer maps each to its own 403 code.
enum class TokenProblem { Missing, Invalid, Expired, WrongEvent, WrongUser };

class TokenKeys {
 public:
  static constexpr size_t kSecretsMax = 8;        // more keys than this is a misconfiguration
  static constexpr size_t kSecretBytesMin = 16;   // a shorter secret could be guessed
  static constexpr size_t kTokenBytesMax = 256;   // a real token is ~84 bytes; longer input is refused unread

  // REQUIRES: 1..kSecretsMax secrets of at least kSecretBytesMin bytes (validate() first).
  explicit TokenKeys(const std::vector<std::string>& secrets);
  static core::Status validate(const std::vector<std::string>& secrets);

  std::string sign(const TokenClaims& claims) const;  // with the first secret; claims.key_id ignored
  // Checks format and signature only (kind, expiry and names are the caller's business).
  bool decode(std::string_view token, TokenClaims& out) const;
  // Full check of an access token for (event, user) at `now`.
  core::Result<TokenClaims> verify_access(std::string_view token, core::EventId event, core::UserId user,
                                          TimeMs now, TokenProblem& problem) const;

 private:
  struct Key {
    uint32_t id = 0;
    std::array<uint8_t, 32> key{};
  };
  std::vector<Key> keys_;
};

// A 403 error for a token problem: Code::Forbidden with the problem's API code in Error::detail.
core::Error token_error(TokenProblem problem);

}  // namespace ticketd::app
