#include "app/password.hpp"

#include <sodium.h>

#include <semaphore>

#include "base/assert.hpp"

namespace ticketd::app {
namespace {
std::counting_semaphore<kHashesConcurrentMax> hash_slots(kHashesConcurrentMax);

struct SlotGuard {
  SlotGuard() { hash_slots.acquire(); }
  ~SlotGuard() { hash_slots.release(); }
};
}  // namespace

void crypto_init() { TICKETD_ASSERT(sodium_init() >= 0); }

std::string hash_password(std::string_view password) {
  SlotGuard slot;
  char out[crypto_pwhash_STRBYTES];
  const int rc = crypto_pwhash_str_alg(out, password.data(), password.size(), kArgon2OpsLimit, kArgon2MemLimitBytes,
                                       crypto_pwhash_ALG_ARGON2ID13);
  TICKETD_ASSERT(rc == 0);  // fails only when memory cannot be allocated
  return out;
}

bool verify_password(std::string_view password, const std::string& stored_hash) {
  SlotGuard slot;
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

std::string new_token() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char out[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

std::string token_hash(std::string_view token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace ticketd::app
