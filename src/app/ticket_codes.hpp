// Ticket codes: what a ticket shows at the door and what a scanner checks, offline. The formats are
// specified byte for byte, with test vectors, in docs/tickets.md; this file is their one
// implementation in ticketd (tests/app/ticket_codes_test.cpp checks it against those vectors).
//
// Static code: a 41-byte payload (version, key id, event, seat, ticket id, validity window) signed
// with the event's Ed25519 key, as 168 characters of RFC 4648 base32 (QR alphanumeric mode).
// Rotating code: the static code, ':', and 8 digits of TOTP (RFC 6238, HMAC-SHA256, 15 s steps) under
// a key derived from the event's rotation secret and the ticket id: the owner is given that key, a
// scanner derives it, and a screenshot is refused once its step is 2 steps old.
//
// Keys: every event key (signing key and rotation secret) is derived from the operator's ticket
// secret, the event id and the key id, so every node of a cluster has them without storing them.
//
// Thread safety: pure functions (libsodium's are thread-safe once sodium_init() ran, which
// TicketSecret's constructor ensures).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/limits.hpp"
#include "core/ports/ticket_ids.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::app {

inline constexpr uint8_t kTicketCodeVersion = 1;
inline constexpr size_t kTicketPayloadBytes = 41;
inline constexpr size_t kTicketSignatureBytes = 64;
inline constexpr size_t kStaticCodeChars = 168;  // base32 of 105 bytes, unpadded
inline constexpr uint32_t kRotatingDigits = 8;

using TicketIdBytes = std::array<uint8_t, 16>;
using PublicKey = std::array<uint8_t, 32>;
using SecretKey = std::array<uint8_t, 64>;  // libsodium's Ed25519 secret key (seed + public key)
using Key32 = std::array<uint8_t, 32>;

struct TicketClaims {
  uint32_t key_id = 0;
  core::EventId event_id = 0;
  core::SeatId seat = 0;
  TicketIdBytes ticket_id{};
  uint32_t valid_from_s = 0;   // Unix seconds
  uint32_t valid_until_s = 0;  // Unix seconds, exclusive
};

struct EventKey {
  uint32_t key_id = 0;
  PublicKey public_key{};
  SecretKey secret_key{};
  Key32 rotation_secret{};
};

// The operator's ticket secret (32 bytes, given as 64 hex digits): the root of every event key.
class TicketSecret {
 public:
  // nullopt unless `hex` is exactly 64 hex digits.
  static std::optional<TicketSecret> from_hex(std::string_view hex);
  static std::string random_hex();
  EventKey event_key(core::EventId event, uint32_t key_id) const;
  // The key of account links and codes (app/account_links): one more key derived from the same root,
  // so every node that shares the ticket secret verifies every other node's links.
  Key32 account_key() const;

 private:
  explicit TicketSecret(const Key32& bytes) : bytes_(bytes) {}
  Key32 bytes_;
};

// Ticket ids: 16 random bytes as 32 lower-case hex digits.
std::string new_ticket_id();
std::optional<TicketIdBytes> ticket_id_bytes(std::string_view hex);
std::string ticket_id_hex(const TicketIdBytes& bytes);

std::string hex_encode(const uint8_t* data, size_t size);  // lower case
// The ticket ids the ledgers issue: new_ticket_id() for each.
class RandomTicketIds final : public core::TicketIdSource {
 public:
  std::string next() override { return new_ticket_id(); }
};

std::string base32_encode(const uint8_t* data, size_t size);
std::optional<std::string> base32_decode(std::string_view text);

std::array<uint8_t, kTicketPayloadBytes> encode_payload(const TicketClaims& claims);
std::optional<TicketClaims> decode_payload(const uint8_t* payload, size_t size);

// REQUIRES: key.key_id == claims.key_id.
std::string static_code(const TicketClaims& claims, const EventKey& key);
// The per-ticket key of the rotating part: HMAC-SHA256(rotation_secret, "ticketd-rotation-v1" || id).
Key32 ticket_rotation_key(const Key32& rotation_secret, const TicketIdBytes& ticket_id);
// RFC 6238 TOTP with HMAC-SHA256: `digits` digits of HMAC(key, counter) (RFC 4226 truncation).
uint32_t totp(const uint8_t* key, size_t key_size, uint64_t counter, uint32_t digits);
uint64_t rotation_counter(TimeMs now);
std::string rotating_code(std::string_view static_code, const Key32& rotation_key, TimeMs now);

// What a scanner decides from a code alone (no ticket state: revocation and re-entry come after).
enum class CodeVerdict { ok, invalid, wrong_event, unknown_key, not_yet_valid, expired, code_expired };
const char* to_string(CodeVerdict v);

struct CodeCheck {
  CodeVerdict verdict = CodeVerdict::invalid;
  TicketClaims claims;   // set unless invalid
  bool rotating = false;  // the code carried a rotating part (and it was current)
};

// The event's key by key id (nullptr: unknown).
using KeyLookup = std::function<const EventKey*(uint32_t key_id)>;

// Checks a code read at the door for `event`. `require_rotating`: the event refuses static codes
// (screenshots); a rotating part, when present, must be current whatever the setting.
CodeCheck check_code(std::string_view code, core::EventId event, const KeyLookup& key_of, TimeMs now,
                     bool require_rotating);

}  // namespace ticketd::app
