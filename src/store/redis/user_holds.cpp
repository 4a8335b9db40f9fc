// Each user's live holds across nodes, in Redis (user_holds.hpp).
#include "store/redis/user_holds.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <string>

#include "base/thread_name.hpp"

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

// After a failed connection, calls are answered without trying again for this long (as RedisClient).
constexpr auto kDownFor = std::chrono::milliseconds(1'000);

core::UserHolds::Reserve answer_of(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_INTEGER) return core::UserHolds::Reserve::unknown;
  return r->integer == 1 ? core::UserHolds::Reserve::reserved : core::UserHolds::Reserve::at_cap;
}

}  // namespace

RedisUserHolds::RedisUserHolds(const RedisClient& client)
    : client_(client), thread_([this] {
        name_this_thread("redis-uholds");
        run();
      }) {}

RedisUserHolds::~RedisUserHolds() {
  queue_.stop();
  thread_.join();
  if (c_) redisFree(c_);
}

core::UserHolds::Reserve RedisUserHolds::reserve(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap,
                                                 TimeMs now) {
  auto answer = std::make_shared<std::promise<Reserve>>();
  std::future<Reserve> answered = answer->get_future();
  reserve_async(user, hold, until, cap, now, [answer](Reserve r) { answer->set_value(r); });
  return answered.get();
}

void RedisUserHolds::reserve_async(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now,
                                   ReserveDone done) {
  enqueue(Call{{key_of(user), std::to_string(to_unix_ms(now)), std::to_string(cap), std::to_string(hold),
                std::to_string(to_unix_ms(until))},
               Call::Script::reserve,
               std::move(done)});
}

void RedisUserHolds::extend(core::UserId user, core::HoldId hold, TimeMs until) {
  enqueue(Call{{key_of(user), std::to_string(hold), std::to_string(to_unix_ms(until))}, Call::Script::extend, {}});
}

void RedisUserHolds::end(core::UserId user, core::HoldId hold) {
  enqueue(Call{{"ZREM", key_of(user), std::to_string(hold)}, Call::Script::none, {}});
}

void RedisUserHolds::enqueue(Call call) {
  if (!queue_.push(call) && call.done) call.done(Reserve::unknown);  // full: this node's own count decides
}

bool RedisUserHolds::connect() {
  c_ = client_.connect_new();
  if (!c_) return false;
  auto load = [&](const char* script, std::string& sha) {
    auto* r = static_cast<redisReply*>(redisCommand(c_, "SCRIPT LOAD %s", script));
    const bool ok = r && r->type == REDIS_REPLY_STRING;
    if (ok) sha.assign(r->str, r->len);
    if (r) freeReplyObject(r);
    return ok;
  };
  if (load(kReserve, reserve_sha_) && load(kExtend, extend_sha_)) return true;
  redisFree(c_);
  c_ = nullptr;
  return false;
}

bool RedisUserHolds::send(std::vector<Call>& batch) {
  for (const Call& call : batch) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    auto add = [&](const std::string& s) {
      argv.push_back(s.data());
      lens.push_back(s.size());
    };
    static const std::string kEvalsha = "EVALSHA", kOneKey = "1";
    if (call.script != Call::Script::none) {
      add(kEvalsha);
      add(call.script == Call::Script::reserve ? reserve_sha_ : extend_sha_);
      add(kOneKey);
    }
    for (const std::string& a : call.argv) add(a);
    if (redisAppendCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) return false;
  }
  for (Call& call : batch) {
    void* raw = nullptr;
    if (redisGetReply(c_, &raw) != REDIS_OK) return false;
    auto* r = static_cast<redisReply*>(raw);
    if (r && r->type == REDIS_REPLY_ERROR) spdlog::warn("redis user holds: {}", std::string(r->str, r->len));
    ReserveDone done = std::move(call.done);
    const Reserve answer = answer_of(r);
    freeReplyObject(raw);
    if (done) done(answer);
  }
  return true;
}

void RedisUserHolds::run() {
  std::vector<Call> batch;
  std::chrono::steady_clock::time_point down_until{};
  while (queue_.take(batch)) {
    const auto now = std::chrono::steady_clock::now();
    if (!c_ && now >= down_until && !connect()) down_until = now + kDownFor;
    if (c_ && !send(batch)) {
      spdlog::warn("redis user holds: the connection failed; reconnecting");
      redisFree(c_);
      c_ = nullptr;
    }
    for (Call& call : batch)  // not answered (Redis unreachable, or the batch broke off)
      if (call.done) call.done(Reserve::unknown);
    batch.clear();
  }
}

}  // namespace ticketd::store::redis
