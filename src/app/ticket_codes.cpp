#include "app/ticket_codes.hpp"

#include <sodium.h>

#include "base/assert.hpp"
#include "core/limits.hpp"

namespace ticketd::app {

namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSigningLabel = "ticketd-event-signing-v1";
constexpr std::string_view kRotationLabel = "ticketd-event-rotation-v1";
constexpr std::string_view kTicketRotationLabel = "ticketd-rotation-v1";
static_assert(kStaticCodeChars == ((kTicketPayloadBytes + kTicketSignatureBytes) * 8 + 4) / 5);

void ensure_sodium() {
  static const int ready = sodium_init();
  TICKETD_ASSERT(ready >= 0);
}

void put_u32(uint8_t* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void put_u64(uint8_t* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
uint32_t get_u32(const uint8_t* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | in[i];
  return v;
}
uint64_t get_u64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

// HMAC-SHA256(key, label || event id || key id): one derived key per (purpose, event, key id).
Key32 derive(const Key32& root, std::string_view label, core::EventId event, uint32_t key_id) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, root.data(), root.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(label.data()), label.size());
  uint8_t ids[12];
  put_u64(ids, static_cast<uint64_t>(event));
  put_u32(ids + 8, key_id);
  crypto_auth_hmacsha256_update(&st, ids, sizeof ids);
  Key32 out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::optional<TicketSecret> TicketSecret::from_hex(std::string_view hex) {
  ensure_sodium();
  Key32 bytes;
  size_t len = 0;
  if (hex.size() != 64) return std::nullopt;
  if (sodium_hex2bin(bytes.data(), bytes.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != bytes.size())
    return std::nullopt;
  return TicketSecret(bytes);
}

std::string TicketSecret::random_hex() {
  ensure_sodium();
  Key32 bytes;
  randombytes_buf(bytes.data(), bytes.size());
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, bytes.data(), bytes.size());
  return hex;
}

EventKey TicketSecret::event_key(core::EventId event, uint32_t key_id) const {
  EventKey key;
  key.key_id = key_id;
  const Key32 seed = derive(bytes_, kSigningLabel, event, key_id);
  TICKETD_ASSERT(crypto_sign_seed_keypair(key.public_key.data(), key.secret_key.data(), seed.data()) == 0);
  key.rotation_secret = derive(bytes_, kRotationLabel, event, key_id);
  return key;
}

Key32 TicketSecret::account_key() const { return derive(bytes_, "ticketd account tokens v1", 0, 0); }

std::string new_ticket_id() {
  ensure_sodium();
  TicketIdBytes bytes;
  randombytes_buf(bytes.data(), bytes.size());
  return ticket_id_hex(bytes);
}

std::optional<TicketIdBytes> ticket_id_bytes(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  TicketIdBytes out;
  for (size_t i = 0; i < out.size(); ++i) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;  // lower case only: one id has one spelling
    };
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string hex_encode(const uint8_t* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

std::string ticket_id_hex(const TicketIdBytes& bytes) { return hex_encode(bytes.data(), bytes.size()); }

std::string base32_encode(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve((size * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out += kBase32Alphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kBase32Alphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const size_t v = kBase32Alphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;  // upper case only, no padding
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // Unpadded RFC 4648: the leftover bits (fewer than 5) must be zero, or two texts would decode alike.
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::array<uint8_t, kTicketPayloadBytes> encode_payload(const TicketClaims& c) {
  std::array<uint8_t, kTicketPayloadBytes> p{};
  p[0] = kTicketCodeVersion;
  put_u32(&p[1], c.key_id);
  put_u64(&p[5], static_cast<uint64_t>(c.event_id));
  put_u32(&p[13], c.seat);
  std::copy(c.ticket_id.begin(), c.ticket_id.end(), p.begin() + 17);
  put_u32(&p[33], c.valid_from_s);
  put_u32(&p[37], c.valid_until_s);
  return p;
}

std::optional<TicketClaims> decode_payload(const uint8_t* p, size_t size) {
  if (size != kTicketPayloadBytes || p[0] != kTicketCodeVersion) return std::nullopt;
  TicketClaims c;
  c.key_id = get_u32(&p[1]);
  const uint64_t event = get_u64(&p[5]);
  if (event == 0 || event > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  c.event_id = static_cast<core::EventId>(event);
  c.seat = get_u32(&p[13]);
  std::copy(p + 17, p + 33, c.ticket_id.begin());
  c.valid_from_s = get_u32(&p[33]);
  c.valid_until_s = get_u32(&p[37]);
  return c;
}

std::string static_code(const TicketClaims& claims, const EventKey& key) {
  TICKETD_ASSERT(key.key_id == claims.key_id);
  ensure_sodium();
  std::array<uint8_t, kTicketPayloadBytes + kTicketSignatureBytes> signed_payload{};
  const auto payload = encode_payload(claims);
  std::copy(payload.begin(), payload.end(), signed_payload.begin());
  crypto_sign_detached(signed_payload.data() + kTicketPayloadBytes, nullptr, payload.data(), payload.size(),
                       key.secret_key.data());
  std::string code = base32_encode(signed_payload.data(), signed_payload.size());
  TICKETD_ASSERT(code.size() == kStaticCodeChars);
  return code;
}

Key32 ticket_rotation_key(const Key32& rotation_secret, const TicketIdBytes& ticket_id) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, rotation_secret.data(), rotation_secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const uint8_t*>(kTicketRotationLabel.data()),
                                kTicketRotationLabel.size());
  crypto_auth_hmacsha256_update(&st, ticket_id.data(), ticket_id.size());
  Key32 out;
  crypto_auth_hmacsha256_final(&st, out.data());
  return out;
}

uint32_t totp(const uint8_t* key, size_t key_size, uint64_t counter, uint32_t digits) {
  TICKETD_ASSERT(digits >= 6 && digits <= 9);
  uint8_t message[8];
  put_u64(message, counter);
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, key_size);
  crypto_auth_hmacsha256_update(&st, message, sizeof message);
  crypto_auth_hmacsha256_final(&st, mac);
  // RFC 4226 5.3: dynamic truncation at the offset the last nibble names.
  const size_t offset = mac[sizeof mac - 1] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  uint32_t modulus = 1;
  for (uint32_t i = 0; i < digits; ++i) modulus *= 10;
  return binary % modulus;
}

uint64_t rotation_counter(TimeMs now) {
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return s <= 0 ? 0 : static_cast<uint64_t>(s) / static_cast<uint64_t>(core::limits::ticket_rotation_step.count());
}

std::string rotating_code(std::string_view static_code, const Key32& rotation_key, TimeMs now) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%0*u", static_cast<int>(kRotatingDigits),
                totp(rotation_key.data(), rotation_key.size(), rotation_counter(now), kRotatingDigits));
  return std::string(static_code) + ":" + digits;
}

const char* to_string(CodeVerdict v) {
  switch (v) {
    case CodeVerdict::ok: return "ok";
    case CodeVerdict::invalid: return "invalid";
    case CodeVerdict::wrong_event: return "wrong_event";
    case CodeVerdict::unknown_key: return "invalid";  // to a door, an unknown key is a forgery
    case CodeVerdict::not_yet_valid: return "invalid";
    case CodeVerdict::expired: return "invalid";
    case CodeVerdict::code_expired: return "code_expired";
  }
  return "invalid";
}

CodeCheck check_code(std::string_view code, core::EventId event, const KeyLookup& key_of, TimeMs now,
                     bool require_rotating) {
  ensure_sodium();
  CodeCheck out;
  if (code.size() > core::limits::ticket_code_bytes_max) return out;
  const size_t colon = code.find(':');
  const std::string_view static_part = code.substr(0, colon);
  const std::string_view rotating_part = colon == std::string_view::npos ? std::string_view() : code.substr(colon + 1);
  if (static_part.size() != kStaticCodeChars) return out;
  if (colon != std::string_view::npos && (rotating_part.size() != kRotatingDigits || !all_digits(rotating_part)))
    return out;
  const auto bytes = base32_decode(static_part);
  if (!bytes || bytes->size() != kTicketPayloadBytes + kTicketSignatureBytes) return out;
  const auto* raw = reinterpret_cast<const uint8_t*>(bytes->data());
  const auto claims = decode_payload(raw, kTicketPayloadBytes);
  if (!claims) return out;
  const EventKey* key = key_of ? key_of(claims->key_id) : nullptr;
  out.claims = *claims;
  if (claims->event_id != event) {
    out.verdict = CodeVerdict::wrong_event;  // said before the key: another event's key is not ours to know
    return out;
  }
  if (!key) {
    out.verdict = CodeVerdict::unknown_key;
    return out;
  }
  if (crypto_sign_verify_detached(raw + kTicketPayloadBytes, raw, kTicketPayloadBytes, key->public_key.data()) != 0)
    return out;  // invalid: altered or forged
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (now_s < claims->valid_from_s) {
    out.verdict = CodeVerdict::not_yet_valid;
    return out;
  }
  if (now_s >= claims->valid_until_s) {
    out.verdict = CodeVerdict::expired;
    return out;
  }
  if (rotating_part.empty()) {
    out.verdict = require_rotating ? CodeVerdict::code_expired : CodeVerdict::ok;
    return out;
  }
  const Key32 ticket_key = ticket_rotation_key(key->rotation_secret, claims->ticket_id);
  const uint64_t counter = rotation_counter(now);
  const uint32_t shown = static_cast<uint32_t>(std::stoul(std::string(rotating_part)));
  const uint64_t skew = core::limits::ticket_rotation_steps_skew_max;
  for (uint64_t c = counter >= skew ? counter - skew : 0; c <= counter + skew; ++c) {
    if (totp(ticket_key.data(), ticket_key.size(), c, kRotatingDigits) == shown) {
      out.verdict = CodeVerdict::ok;
      out.rotating = true;
      return out;
    }
  }
  out.verdict = CodeVerdict::code_expired;
  return out;
}

}  // namespace ticketd::app
