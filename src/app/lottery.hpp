// The waiting room's lottery among early joiners, auditable afterwards.
//
// When a room opens the server draws a 32-byte random seed and publishes its commitment,
// hex(SHA-256(seed)). Every early joiner's key is the first 52 bits of
// SHA-256(seed || event id || user id) (ids as 8-byte big-endian); the draw orders early joiners by
// key. After the draw the seed is published: anyone can check it against the commitment and recompute
// every key, so the order could not have been chosen after the fact. Without the seed the keys are
// unpredictable, so the order is a uniformly random permutation.
//
// Thread safety: pure functions; make_seed() uses libsodium's thread-safe randombytes.
#pragma once

#include <optional>
#include <string>

#include "core/ports/waiting_room.hpp"

namespace ticketd::app {

core::LotterySeed make_seed();
std::string seed_commitment(const core::LotterySeed& seed);  // 64 hex digits
std::string seed_hex(const core::LotterySeed& seed);
// The seed seed_hex() wrote; nullopt for anything else.
std::optional<core::LotterySeed> seed_from_hex(const std::string& hex);
uint64_t lottery_key(const core::LotterySeed& seed, core::EventId event, core::UserId user);  // < kLateScoreBase

}  // namespace ticketd::app
