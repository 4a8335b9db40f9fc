#include "app/lottery.hpp"

#include <sodium.h>

namespace ticketd::app {

core::LotterySeed make_seed() {
  TICKETD_ASSERT(sodium_init() >= 0);
  core::LotterySeed seed{};
  randombytes_buf(seed.data(), seed.size());
  return seed;
}

std::string seed_hex(const core::LotterySeed& seed) {
  std::string out(seed.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), seed.data(), seed.size());
  out.pop_back();
  return out;
}

std::optional<core::LotterySeed> seed_from_hex(const std::string& hex) {
  core::LotterySeed seed{};
  size_t len = 0;
  const char* end = nullptr;
  if (hex.size() != seed.size() * 2 ||
      sodium_hex2bin(seed.data(), seed.size(), hex.data(), hex.size(), nullptr, &len, &end) != 0 ||
      len != seed.size() || end != hex.data() + hex.size())
    return std::nullopt;
  return seed;
}

std::string seed_commitment(const core::LotterySeed& seed) {
  core::LotterySeed digest{};
  crypto_hash_sha256(digest.data(), seed.data(), seed.size());
  return seed_hex(digest);
}

uint64_t lottery_key(const core::LotterySeed& seed, core::EventId event, core::UserId user) {
  uint8_t input[32 + 16];
  std::copy(seed.begin(), seed.end(), input);
  for (int i = 0; i < 8; ++i) {
    input[32 + i] = static_cast<uint8_t>(static_cast<uint64_t>(event) >> (56 - 8 * i));
    input[40 + i] = static_cast<uint8_t>(static_cast<uint64_t>(user) >> (56 - 8 * i));
  }
  uint8_t digest[32];
  crypto_hash_sha256(digest, input, sizeof input);
  uint64_t key = 0;
  for (int i = 0; i < 8; ++i) key = (key << 8) | digest[i];
  key >>= 12;  // 52 bits
  TICKETD_ASSERT(key < core::kLateScoreBase);
  return key;
}

}  // namespace ticketd::app
