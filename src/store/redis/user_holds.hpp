// The live holds of each user across nodes in Redis (core/ports/user_holds.hpp), for the cap on live
// holds per user when each event's owner decides its own holds.
//
// Keys: `uholds:{U}`, a sorted set of the user's hold ids scored by the time each lapses (ms since the
// epoch), expiring with its last member. A reservation is one Lua script: drop the lapsed members,
// refuse at the cap, add. Redis holds no decision here that cannot be rebuilt: an entry lost with a
// Redis restart or eviction lets that user hold past the cap until their holds lapse (at most the hold
// TTL), and while Redis is unreachable each node counts only the holds it knows (reserve() answers
// unknown), as before this registry.
#pragma once

#include "core/ports/user_holds.hpp"
#include "store/redis/redis.hpp"

namespace ticketd::store::redis {

class RedisUserHolds final : public core::UserHolds {
 public:
  explicit RedisUserHolds(RedisClient& client) : redis_(client) {}
  Reserve reserve(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now) override;
  void extend(core::UserId user, core::HoldId hold, TimeMs until) override;
  void end(core::UserId user, core::HoldId hold) override;

 private:
  RedisClient& redis_;
};

}  // namespace ticketd::store::redis
