// Password hashing (Argon2id through libsodium) and bearer tokens.
// Thread safety: all functions are safe to call concurrently. hash_password() and
// verify_password() cost ~19 MiB and tens of ms each; at most kHashesConcurrentMax run at once so a
// burst of logins cannot exhaust memory.
#pragma once

#include <string>
#include <string_view>

namespace ticketd::app {

inline constexpr int kHashesConcurrentMax = 4;

// OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1 (libsodium always uses p = 1).
inline constexpr unsigned long long kArgon2OpsLimit = 2;
inline constexpr size_t kArgon2MemLimitBytes = 19u * 1024u * 1024u;

void crypto_init();  // REQUIRES: called once before anything else here
std::string hash_password(std::string_view password);
bool verify_password(std::string_view password, const std::string& stored_hash);
std::string new_token();                        // 32 random bytes, base64url, no padding
std::string token_hash(std::string_view token); // SHA-256, hex

}  // namespace ticketd::app
