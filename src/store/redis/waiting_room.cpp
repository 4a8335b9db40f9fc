#include "store/redis/waiting_room.hpp"

#include <hiredis/hiredis.h>

#include <cstdlib>

#include "core/limits.hpp"

namespace ticketd::store::redis {

using core::Code;
using core::make_error;

namespace {

std::string tag(core::EventId e) { return "{" + std::to_string(e) + "}"; }
std::string room_key(core::EventId e) { return "wr:" + tag(e) + ":room"; }
std::string queue_key(core::EventId e) { return "wr:" + tag(e) + ":queue"; }
std::string state_key(core::EventId e) { return "wr:" + tag(e) + ":state"; }
std::string idle_key(core::EventId e) { return "wr:" + tag(e) + ":idle"; }
std::string ticks_key(core::EventId e) { return "wr:" + tag(e) + ":ticks"; }
constexpr const char* kRoomsKey = "wr:rooms";

core::Error unreachable() { return make_error(Code::Unavailable, "the waiting room is unavailable; retry shortly"); }

std::string hex(const core::LotterySeed& seed) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : seed) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

core::LotterySeed unhex(const std::string& s) {
  core::LotterySeed seed{};
  for (size_t i = 0; i < seed.size() && 2 * i + 1 < s.size(); ++i)
    seed[i] = static_cast<uint8_t>(std::strtoul(s.substr(2 * i, 2).c_str(), nullptr, 16));
  return seed;
}

std::string str(const redisReply* r) { return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : ""; }
int64_t num(const std::string& s) { return s.empty() ? 0 : std::strtoll(s.c_str(), nullptr, 10); }

// KEYS: room, rooms. ARGV: seed, commitment, now. Creates the room once; an existing one keeps its seed.
constexpr const char* kOpen = R"lua(
if redis.call('HSETNX', KEYS[1], 'commitment', ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], 'seed', ARGV[1], 'created_at', ARGV[3])
end
redis.call('SADD', KEYS[2], ARGV[4])
return 1
)lua";

// KEYS: room, queue, state. ARGV: user, early (0/1), early_key, entries_max.
// Returns the user's state string (an existing one unchanged), or an error: NOROOM, FULL.
constexpr const char* kJoin = R"lua(
local s = redis.call('HGET', KEYS[3], ARGV[1])
if s then return s end
if redis.call('HEXISTS', KEYS[1], 'commitment') == 0 then return redis.error_reply('NOROOM') end
if redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[4]) then return redis.error_reply('FULL') end
local score
if ARGV[2] == '1' then
  score = ARGV[3]
  redis.call('HINCRBY', KEYS[1], 'early', 1)
else
  score = string.format('%.0f', 4503599627370496 + redis.call('HINCRBY', KEYS[1], 'seq', 1))
end
redis.call('ZADD', KEYS[2], 'NX', score, ARGV[1])
s = 'W' .. ARGV[2]
redis.call('HSET', KEYS[3], ARGV[1], s)
return s
)lua";

// KEYS: room, queue, state, idle. ARGV: user, admitted_until. A user whose access is over (expired,
// or admitted or engaged at or before admitted_until) goes to the end of the line; an admitted one
// counts as expired first. Returns the state string; 0 for a user who never joined (place() then
// answers NotFound).
constexpr const char* kRejoin = R"lua(
local s = redis.call('HGET', KEYS[3], ARGV[1])
if not s then return 0 end
local kind = string.sub(s, 1, 1)
local colon = string.find(s, ':', 1, true)
local over = kind == 'X'
if (kind == 'A' or kind == 'E') and colon then
  over = tonumber(string.sub(s, colon + 1)) <= tonumber(ARGV[2])
end
if not over then return s end
if kind == 'A' then
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'expired_total', 1)
end
local score = string.format('%.0f', 4503599627370496 + redis.call('HINCRBY', KEYS[1], 'seq', 1))
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], 'W0')
return 'W0'
)lua";

// KEYS: room, queue, state. ARGV: user. Returns {state or false, drawn_at or false, rank or -1}.
constexpr const char* kPlace = R"lua(
local s = redis.call('HGET', KEYS[3], ARGV[1])
local drawn = redis.call('HGET', KEYS[1], 'drawn_at')
local rank = -1
if s and string.sub(s, 1, 1) == 'W' and drawn then rank = redis.call('ZRANK', KEYS[2], ARGV[1]) or -1 end
return {s, drawn, rank}
)lua";

// KEYS: room, queue, state, idle, ticks. ARGV: count, now, ticks_max. Admits the `count` lowest
// scores; a tick that found anyone waiting goes to the head of the capped ticks list.
constexpr const char* kAdmit = R"lua(
local waiting = redis.call('ZCARD', KEYS[2])
local popped = redis.call('ZPOPMIN', KEYS[2], ARGV[1])
local n = 0
for i = 1, #popped, 2 do
  local user = popped[i]
  local s = redis.call('HGET', KEYS[3], user) or 'W0'
  redis.call('HSET', KEYS[3], user, 'A' .. string.sub(s, 2, 2) .. ':' .. ARGV[2])
  redis.call('ZADD', KEYS[4], ARGV[2], user)
  n = n + 1
end
redis.call('HINCRBY', KEYS[1], 'admitted_total', n)
redis.call('HSET', KEYS[1], 'last_release_at', ARGV[2])
if waiting > 0 then
  redis.call('LPUSH', KEYS[5], n)
  redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[3]) - 1)
end
return n
)lua";

// KEYS: room, state, idle. ARGV: admitted_until, limit. Admitted users without a hold whose window
// ended become expired.
constexpr const char* kExpire = R"lua(
local users = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, user in ipairs(users) do
  local s = redis.call('HGET', KEYS[2], user)
  if s and string.sub(s, 1, 1) == 'A' then redis.call('HSET', KEYS[2], user, 'X' .. string.sub(s, 2)) end
  redis.call('ZREM', KEYS[3], user)
end
redis.call('HINCRBY', KEYS[1], 'expired_total', #users)
return #users
)lua";

// KEYS: room, state, idle. ARGV: user. Admitted -> engaged (a hold was placed); else unchanged.
constexpr const char* kEngage = R"lua(
local s = redis.call('HGET', KEYS[2], ARGV[1])
if s and string.sub(s, 1, 1) == 'A' then
  redis.call('HSET', KEYS[2], ARGV[1], 'E' .. string.sub(s, 2))
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'engaged_total', 1)
end
return 1
)lua";

core::Place place_from(const std::string& state, bool drawn, int64_t rank) {
  core::Place p;
  if (state.size() >= 2) p.early = state[1] == '1';
  const auto colon = state.find(':');
  if (colon != std::string::npos) p.admitted_at = from_unix_ms(num(state.substr(colon + 1)));
  switch (state.empty() ? 'W' : state[0]) {
    case 'A': p.state = core::PlaceState::Admitted; break;
    case 'E': p.state = core::PlaceState::Engaged; break;
    case 'X': p.state = core::PlaceState::Expired; break;
    default:
      p.state = core::PlaceState::Waiting;
      if (drawn && rank >= 0) p.position = static_cast<uint64_t>(rank) + 1;
  }
  return p;
}

}  // namespace

core::Result<core::RoomRecord> RedisWaitingRoomStore::open_room(core::EventId event, const core::LotterySeed& seed,
                                                                const std::string& commitment, TimeMs now) {
  Reply r = redis_.eval(kOpen, {room_key(event), kRoomsKey},
                        {hex(seed), commitment, std::to_string(to_unix_ms(now)), std::to_string(event)});
  if (!r) return unreachable();
  auto rec = room(event);
  if (!rec) return unreachable();
  return *rec;
}

std::optional<core::RoomRecord> RedisWaitingRoomStore::room(core::EventId event) {
  Reply h = redis_.command({"HGETALL", room_key(event)});
  if (!h) throw core::UnavailableError("the waiting room is unavailable");
  if (h->type != REDIS_REPLY_ARRAY || h->elements == 0) return std::nullopt;
  std::unordered_map<std::string, std::string> f;
  for (size_t i = 0; i + 1 < h->elements; i += 2) f[str(h->element[i])] = str(h->element[i + 1]);
  if (f["commitment"].empty()) return std::nullopt;
  Reply counts = redis_.command({"EVAL",
                                 "return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), "
                                 "redis.call('LRANGE', KEYS[3], 0, -1)}",
                                 "3", queue_key(event), idle_key(event), ticks_key(event)});
  if (!counts || counts->type != REDIS_REPLY_ARRAY || counts->elements != 3 ||
      counts->element[2]->type != REDIS_REPLY_ARRAY)
    throw core::UnavailableError("the waiting room is unavailable");
  core::RoomRecord rec;
  rec.seed = unhex(f["seed"]);
  rec.commitment = f["commitment"];
  rec.drawn = !f["drawn_at"].empty();
  if (rec.drawn) rec.drawn_at = from_unix_ms(num(f["drawn_at"]));
  rec.sold_out = f["sold_out"] == "1";
  rec.waiting = static_cast<uint64_t>(counts->element[0]->integer);
  rec.early = static_cast<uint64_t>(num(f["early"]));
  rec.admitted_total = static_cast<uint64_t>(num(f["admitted_total"]));
  rec.admitted_outstanding = static_cast<uint64_t>(counts->element[1]->integer);
  rec.engaged_total = static_cast<uint64_t>(num(f["engaged_total"]));
  rec.expired_total = static_cast<uint64_t>(num(f["expired_total"]));
  if (!f["last_release_at"].empty()) rec.last_release_at = from_unix_ms(num(f["last_release_at"]));
  const redisReply* ticks = counts->element[2];  // newest first: replay oldest first
  for (size_t i = ticks->elements; i > 0; --i)
    rec.history.record(rec.last_release_at.value_or(TimeMs{}), static_cast<uint32_t>(num(str(ticks->element[i - 1]))));
  return rec;
}

std::vector<core::EventId> RedisWaitingRoomStore::rooms() {
  Reply r = redis_.command({"SMEMBERS", kRoomsKey});
  if (!r) throw core::UnavailableError("the waiting room is unavailable");
  std::vector<core::EventId> out;
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) out.push_back(num(str(r->element[i])));
  return out;
}

core::Result<core::Place> RedisWaitingRoomStore::join(core::EventId event, core::UserId user, bool early,
                                                      uint64_t early_key, TimeMs) {
  TICKETD_ASSERT(!early || early_key < core::kLateScoreBase);
  Reply r = redis_.command({"EVAL", kJoin, "3", room_key(event), queue_key(event), state_key(event),
                            std::to_string(user), early ? "1" : "0", std::to_string(early_key),
                            std::to_string(core::limits::queue_entries_max)});
  if (!r) return unreachable();
  if (r->type == REDIS_REPLY_ERROR) {
    const std::string e(r->str, r->len);
    if (e.find("FULL") != std::string::npos) return make_error(Code::QueueFull, "the waiting room is full");
    if (e.find("NOROOM") != std::string::npos) return make_error(Code::NotFound, "no waiting room for this event");
    return unreachable();
  }
  return place(event, user);
}

core::Result<core::Place> RedisWaitingRoomStore::rejoin(core::EventId event, core::UserId user,
                                                        TimeMs admitted_until, TimeMs) {
  Reply r = redis_.eval(kRejoin, {room_key(event), queue_key(event), state_key(event), idle_key(event)},
                        {std::to_string(user), std::to_string(to_unix_ms(admitted_until))});
  if (!r) return unreachable();  // eval() answers an error reply as nullptr too
  return place(event, user);
}

core::Result<core::Place> RedisWaitingRoomStore::place(core::EventId event, core::UserId user) {
  Reply r = redis_.eval(kPlace, {room_key(event), queue_key(event), state_key(event)}, {std::to_string(user)});
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) return unreachable();
  if (r->element[0]->type != REDIS_REPLY_STRING) return make_error(Code::NotFound, "not in this waiting room");
  const bool drawn = r->element[1]->type == REDIS_REPLY_STRING;
  return place_from(str(r->element[0]), drawn, r->element[2]->integer);
}

core::Status RedisWaitingRoomStore::draw(core::EventId event, TimeMs now) {
  // HSETNX: the first draw's time stands (idempotent).
  Reply r = redis_.command({"HSETNX", room_key(event), "drawn_at", std::to_string(to_unix_ms(now))});
  if (!r) return unreachable();
  return core::ok_status();
}

core::Result<uint32_t> RedisWaitingRoomStore::admit(core::EventId event, uint32_t count, TimeMs now) {
  Reply r = redis_.eval(kAdmit, {room_key(event), queue_key(event), state_key(event), idle_key(event), ticks_key(event)},
                        {std::to_string(count), std::to_string(to_unix_ms(now)),
                         std::to_string(core::limits::queue_rate_ticks)});
  if (!r || r->type != REDIS_REPLY_INTEGER) return unreachable();
  return static_cast<uint32_t>(r->integer);
}

core::Result<uint32_t> RedisWaitingRoomStore::expire_admitted(core::EventId event, TimeMs admitted_until) {
  // Bounded per call; the releaser calls again next tick for the rest.
  Reply r = redis_.eval(kExpire, {room_key(event), state_key(event), idle_key(event)},
                        {std::to_string(to_unix_ms(admitted_until)), "10000"});
  if (!r || r->type != REDIS_REPLY_INTEGER) return unreachable();
  return static_cast<uint32_t>(r->integer);
}

core::Status RedisWaitingRoomStore::engage(core::EventId event, core::UserId user) {
  Reply r = redis_.eval(kEngage, {room_key(event), state_key(event), idle_key(event)}, {std::to_string(user)});
  if (!r) return unreachable();
  return core::ok_status();
}

void RedisWaitingRoomStore::set_sold_out(core::EventId event, bool sold_out) {
  (void)redis_.command({"HSET", room_key(event), "sold_out", sold_out ? "1" : "0"});
}

size_t RedisWaitingRoomStore::memory_bytes(core::EventId event) {
  size_t total = 0;
  for (const std::string& key : {room_key(event), queue_key(event), state_key(event), idle_key(event), ticks_key(event)}) {
    Reply r = redis_.command({"MEMORY", "USAGE", key});
    if (r && r->type == REDIS_REPLY_INTEGER) total += static_cast<size_t>(r->integer);
  }
  return total;
}

}  // namespace ticketd::store::redis
