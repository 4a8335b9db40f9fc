// Each user's live holds across nodes, in Redis (user_holds.hpp).
#include "store/redis/user_holds.hpp"

#include <hiredis/hiredis.h>

#include <string>

namespace ticketd::store::redis {

namespace {

std::string key_of(core::UserId user) { return "uholds:{" + std::to_string(user) + "}"; }

// KEYS[1] the user's holds; ARGV now, cap, hold, until. 1 counted, 0 at the cap. A hold already there
// (a retried reservation) is extended, never refused.
constexpr const char* kReserve = R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
)lua";

// KEYS[1] the user's holds; ARGV hold, until. Only a hold still counted is extended.
constexpr const char* kExtend = R"lua(
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
)lua";

}  // namespace

core::UserHolds::Reserve RedisUserHolds::reserve(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap,
                                                 TimeMs now) {
  Reply r = redis_.eval(kReserve, {key_of(user)},
                        {std::to_string(to_unix_ms(now)), std::to_string(cap), std::to_string(hold),
                         std::to_string(to_unix_ms(until))});
  if (!r || r->type != REDIS_REPLY_INTEGER) return Reserve::unknown;
  return r->integer == 1 ? Reserve::reserved : Reserve::at_cap;
}

void RedisUserHolds::extend(core::UserId user, core::HoldId hold, TimeMs until) {
  (void)redis_.eval(kExtend, {key_of(user)}, {std::to_string(hold), std::to_string(to_unix_ms(until))});
}

void RedisUserHolds::end(core::UserId user, core::HoldId hold) {
  (void)redis_.command({"ZREM", key_of(user), std::to_string(hold)});
}

}  // namespace ticketd::store::redis
