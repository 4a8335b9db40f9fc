#include "app/queue_tokens.hpp"

#include <sodium.h>

#include <cstring>

namespace ticketd::app {

namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kPayloadBytes = 1 + 1 + 4 + 8 + 8 + 8;
constexpr size_t kMacBytes = crypto_auth_hmacsha256_BYTES;
static_assert(kMacBytes == 32);

void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v & 0xff);
    v >>= 8;
  }
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::string b64(const uint8_t* data, size_t n) {
  std::string out(sodium_base64_encoded_len(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// The URL-safe alphabet, checked before libsodium decodes: its decoder maps some bytes outside the
// alphabet (0xFF, found by tokens_fuzz) to digits, which would give one token many spellings.
bool urlsafe_b64_text(std::string_view text) {
  for (const char c : text) {
    const bool digit = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!digit) return false;
  }
  return true;
}

bool unb64(std::string_view text, uint8_t* out, size_t n) {
  if (!urlsafe_b64_text(text)) return false;
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out, n, text.data(), text.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
    return false;
  return len == n && end == text.data() + text.size();
}

}  // namespace

core::Status TokenKeys::validate(const std::vector<std::string>& secrets) {
  if (secrets.empty() || secrets.size() > kSecretsMax)
    return core::make_error(core::Code::InvalidRequest, "queue secret: 1-8 comma-separated secrets required");
  for (const std::string& s : secrets)
    if (s.size() < kSecretBytesMin)
      return core::make_error(core::Code::InvalidRequest, "queue secret: each secret needs at least 16 bytes");
  return core::ok_status();
}

TokenKeys::TokenKeys(const std::vector<std::string>& secrets) {
  TICKETD_ASSERT(validate(secrets).ok());
  TICKETD_ASSERT(sodium_init() >= 0);
  for (const std::string& s : secrets) {
    Key k;
    crypto_hash_sha256(k.key.data(), reinterpret_cast<const unsigned char*>(s.data()), s.size());
    std::array<uint8_t, 32> id_hash{};
    crypto_hash_sha256(id_hash.data(), k.key.data(), k.key.size());
    k.id = (uint32_t{id_hash[0]} << 24) | (uint32_t{id_hash[1]} << 16) | (uint32_t{id_hash[2]} << 8) | id_hash[3];
    keys_.push_back(k);
  }
}

std::string TokenKeys::sign(const TokenClaims& claims) const {
  const Key& k = keys_.front();
  uint8_t payload[kPayloadBytes];
  payload[0] = kVersion;
  payload[1] = static_cast<uint8_t>(claims.kind);
  payload[2] = static_cast<uint8_t>(k.id >> 24);
  payload[3] = static_cast<uint8_t>(k.id >> 16);
  payload[4] = static_cast<uint8_t>(k.id >> 8);
  payload[5] = static_cast<uint8_t>(k.id);
  put_u64(payload + 6, static_cast<uint64_t>(claims.event));
  put_u64(payload + 14, static_cast<uint64_t>(claims.user));
  put_u64(payload + 22, static_cast<uint64_t>(to_unix_ms(claims.expires_at)));
  uint8_t mac[kMacBytes];
  crypto_auth_hmacsha256(mac, payload, sizeof payload, k.key.data());
  return b64(payload, sizeof payload) + "." + b64(mac, sizeof mac);
}

bool TokenKeys::decode(std::string_view token, TokenClaims& out) const {
  if (token.size() > kTokenBytesMax) return false;
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return false;
  uint8_t payload[kPayloadBytes];
  uint8_t mac[kMacBytes];
  if (!unb64(token.substr(0, dot), payload, sizeof payload) || !unb64(token.substr(dot + 1), mac, sizeof mac))
    return false;
  if (payload[0] != kVersion) return false;
  const uint32_t key_id = (uint32_t{payload[2]} << 24) | (uint32_t{payload[3]} << 16) |
                          (uint32_t{payload[4]} << 8) | payload[5];
  for (const Key& k : keys_) {
    if (k.id != key_id) continue;
    if (crypto_auth_hmacsha256_verify(mac, payload, sizeof payload, k.key.data()) != 0) return false;
    if (payload[1] != static_cast<uint8_t>(TokenKind::Queue) && payload[1] != static_cast<uint8_t>(TokenKind::Access))
      return false;
    out.kind = static_cast<TokenKind>(payload[1]);
    out.key_id = key_id;
    out.event = static_cast<core::EventId>(get_u64(payload + 6));
    out.user = static_cast<core::UserId>(get_u64(payload + 14));
    out.expires_at = from_unix_ms(static_cast<int64_t>(get_u64(payload + 22)));
    return true;
  }
  return false;  // signed by a key we do not have (retired, or forged)
}

core::Result<TokenClaims> TokenKeys::verify_access(std::string_view token, core::EventId event, core::UserId user,
                                                   TimeMs now, TokenProblem& problem) const {
  TokenClaims c;
  if (token.empty()) problem = TokenProblem::Missing;
  else if (!decode(token, c) || c.kind != TokenKind::Access) problem = TokenProblem::Invalid;
  else if (c.event != event) problem = TokenProblem::WrongEvent;
  else if (c.user != user) problem = TokenProblem::WrongUser;
  else if (c.expires_at <= now) problem = TokenProblem::Expired;
  else return c;
  return token_error(problem);
}

core::Error token_error(TokenProblem problem) {
  core::Error e = core::make_error(core::Code::Forbidden, "");
  switch (problem) {
    case TokenProblem::Missing:
      e.detail = "access_token_missing";
      e.message = "this event has a waiting room: an X-Access-Token from its queue is required";
      break;
    case TokenProblem::Invalid:
      e.detail = "access_token_invalid";
      e.message = "the access token is malformed or its signature does not verify";
      break;
    case TokenProblem::Expired:
      e.detail = "access_token_expired";
      e.message = "the access token's window has ended";
      break;
    case TokenProblem::WrongEvent:
      e.detail = "access_token_wrong_event";
      e.message = "the access token was issued for another event";
      break;
    case TokenProblem::WrongUser:
      e.detail = "access_token_wrong_user";
      e.message = "the access token was issued to another user";
      break;
  }
  return e;
}

}  // namespace ticketd::app
