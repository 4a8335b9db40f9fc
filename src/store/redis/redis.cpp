#include "store/redis/redis.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "base/assert.hpp"
#include "store/redis/session_bus.hpp"

namespace ticketd::store::redis {

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

timeval to_timeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

std::string seat_key(core::EventId e, core::SeatId s) {
  return "seat:{" + std::to_string(e) + "}:" + std::to_string(s);
}
std::string map_key(core::EventId e) { return "seatmap:{" + std::to_string(e) + "}"; }
std::string version_key(core::EventId e) { return "seatver:{" + std::to_string(e) + "}"; }

// KEYS: seat keys. ARGV: holder, ttl_ms, force ("1": overwrite keys that are not "S").
// Returns the 1-based indexes of the seats claimed by someone else (nothing is claimed then).
constexpr const char* kClaim = R"lua(
local taken = {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v and (ARGV[3] ~= '1' or v == 'S') then taken[#taken + 1] = i end
end
if #taken > 0 then return taken end
for _, k in ipairs(KEYS) do redis.call('SET', k, ARGV[1], 'PX', ARGV[2]) end
return {}
)lua";

// KEYS: seat keys. ARGV: holder. Deletes the keys that still name the holder.
constexpr const char* kUnclaim = R"lua(
for _, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[1] then redis.call('DEL', k) end
end
return 0
)lua";

// KEYS: seatmap, seatver, then one seat key per seat. ARGV: mode, holder, expire_at_ms, channel,
// event id, then the seat numbers (same order as the seat keys).
//   H: the database committed a hold: the keys name it until expire_at (PG decided; overwrite).
//   S: sold: the keys say "S" until expire_at (the event's start).
//   A: freed: keys naming the holder are deleted; a seat someone else claimed since is left alone.
//   P: pinned: keys naming the holder last until expire_at; nothing is published.
// Then the cached map (if any) is updated, the version INCR'd and the change published.
constexpr const char* kApply = R"lua(
local mode, holder, at = ARGV[1], ARGV[2], ARGV[3]
local changed = {}
for i = 3, #KEYS do
  local k, seat = KEYS[i], ARGV[i + 3]
  if mode == 'H' then
    redis.call('SET', k, holder, 'PXAT', at)
    changed[#changed + 1] = seat
  elseif mode == 'S' then
    redis.call('SET', k, 'S', 'PXAT', at)
    changed[#changed + 1] = seat
  elseif mode == 'P' then
    if redis.call('GET', k) == holder then redis.call('PEXPIREAT', k, at) end
  else
    local v = redis.call('GET', k)
    if v == holder then redis.call('DEL', k) end
    if (not v) or v == holder then changed[#changed + 1] = seat end
  end
end
if #changed == 0 then return 0 end
local c = mode == 'A' and 'A' or (mode == 'S' and 'S' or 'H')
if redis.call('EXISTS', KEYS[1]) == 1 then
  for _, seat in ipairs(changed) do redis.call('SETRANGE', KEYS[1], tonumber(seat), c) end
end
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. version .. ' ' .. c .. ' ' .. table.concat(changed, ','))
return version
)lua";

// KEYS: seatmap, seatver. ARGV: channel, event id. After an outage: the map goes, the version skips
// one, and an empty change at the new version tells every live subscriber it missed something.
constexpr const char* kRepair = R"lua(
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
local version = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. version .. ' A ')
return version
)lua";

// KEYS: seatmap, seatver. ARGV: expected version, map, ttl_ms. Caches the map only if no change was
// published since the version was read.
constexpr const char* kStoreMap = R"lua(
local v = redis.call('GET', KEYS[2]) or '0'
if v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
)lua";

}  // namespace

void ReplyDeleter::operator()(redisReply* r) const {
  if (r) freeReplyObject(r);
}

bool parse_redis_url(const std::string& url, RedisConfig& out, std::string& error) {
  const std::string scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    error = "--redis-url must start with redis://";
    return false;
  }
  std::string rest = url.substr(scheme.size());
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = auth.find(':');
    out.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
  }
  std::string hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    const std::string db = rest.substr(slash + 1);
    if (!db.empty()) {
      char* end = nullptr;
      const long n = std::strtol(db.c_str(), &end, 10);
      if (*end != '\0' || n < 0 || n > 1'000'000) {
        error = "--redis-url: bad database index";
        return false;
      }
      out.db = static_cast<int>(n);
    }
  }
  if (const auto colon = hostport.rfind(':'); colon != std::string::npos) {
    char* end = nullptr;
    const long port = std::strtol(hostport.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535) {
      error = "--redis-url: bad port";
      return false;
    }
    out.port = static_cast<int>(port);
    hostport = hostport.substr(0, colon);
  }
  if (hostport.empty()) {
    error = "--redis-url: missing host";
    return false;
  }
  out.host = hostport;
  return true;
}

RedisClient::RedisClient(RedisConfig cfg) : cfg_(std::move(cfg)) {}

RedisClient::~RedisClient() {
  for (redisContext* c : idle_) redisFree(c);
}

bool RedisClient::up() const { return steady_ms() >= down_until_ms_.load(); }

void RedisClient::mark_down() {
  if (up()) spdlog::warn("redis unreachable host={} port={}: skipped for {} ms at a time until it answers", cfg_.host,
                          cfg_.port, cfg_.down_for.count());
  down_until_ms_ = steady_ms() + cfg_.down_for.count();
}

redisContext* RedisClient::connect_new() const {
  redisContext* c = redisConnectWithTimeout(cfg_.host.c_str(), cfg_.port, to_timeval(cfg_.timeout));
  if (!c || c->err) {
    if (c) redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, to_timeval(cfg_.timeout));
  auto ok = [&](redisReply* r) {
    const bool good = r && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    return good;
  };
  if (!cfg_.password.empty() &&
      !ok(static_cast<redisReply*>(redisCommand(c, "AUTH %b", cfg_.password.data(), cfg_.password.size())))) {
    redisFree(c);
    return nullptr;
  }
  if (cfg_.db != 0 && !ok(static_cast<redisReply*>(redisCommand(c, "SELECT %d", cfg_.db)))) {
    redisFree(c);
    return nullptr;
  }
  return c;
}

redisContext* RedisClient::take() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      return c;
    }
  }
  return connect_new();
}

void RedisClient::give_back(redisContext* c, bool healthy) {
  if (!healthy || c->err) {
    redisFree(c);
    // The idle ones were opened before this failure, most likely to the same server (restarted, or
    // gone): each would fail its next command in turn and mark Redis down for another down_for.
    std::vector<redisContext*> stale;
    {
      std::lock_guard lock(mu_);
      stale.swap(idle_);
    }
    for (redisContext* s : stale) redisFree(s);
    return;
  }
  std::lock_guard lock(mu_);
  if (idle_.size() < cfg_.pool_size) {
    idle_.push_back(c);
    return;
  }
  redisFree(c);
}

Reply RedisClient::command(const std::vector<std::string>& argv) {
  if (!up()) return nullptr;
  redisContext* c = take();
  if (!c) {
    mark_down();
    return nullptr;
  }
  std::vector<const char*> args;
  std::vector<size_t> lens;
  args.reserve(argv.size());
  lens.reserve(argv.size());
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  Reply r(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data())));
  if (!r) {
    give_back(c, false);
    mark_down();
    return nullptr;
  }
  give_back(c, true);
  if (r->type == REDIS_REPLY_ERROR) {
    const std::string message(r->str, r->len);
    // NOSCRIPT is expected after a restart; the caller reloads. Anything else is a bug or a full Redis.
    if (message.rfind("NOSCRIPT", 0) != 0) spdlog::warn("redis error: {}", message);
    return Reply(r.release());
  }
  return r;
}

Reply RedisClient::eval(const std::string& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args) {
  static std::mutex sha_mu;
  static std::unordered_map<std::string, std::string> shas;  // script -> SHA1, learnt from SCRIPT LOAD
  std::string sha;
  {
    std::lock_guard lock(sha_mu);
    if (auto it = shas.find(script); it != shas.end()) sha = it->second;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha.empty()) {
      Reply loaded = command({"SCRIPT", "LOAD", script});
      if (!loaded || loaded->type != REDIS_REPLY_STRING) return nullptr;
      sha.assign(loaded->str, loaded->len);
      std::lock_guard lock(sha_mu);
      shas[script] = sha;
    }
    std::vector<std::string> argv{"EVALSHA", sha, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    Reply r = command(argv);
    if (r && r->type == REDIS_REPLY_ERROR && std::string(r->str, r->len).rfind("NOSCRIPT", 0) == 0) {
      sha.clear();  // Redis restarted and forgot it
      continue;
    }
    if (r && r->type == REDIS_REPLY_ERROR) return nullptr;
    return r;
  }
  return nullptr;
}

core::SeatFront::ClaimResult RedisSeatFront::claim(core::EventId event, const std::vector<core::SeatId>& seats,
                                                   core::HoldId hold, Millis ttl, bool force) {
  std::vector<std::string> keys;
  keys.reserve(seats.size());
  for (core::SeatId s : seats) keys.push_back(seat_key(event, s));
  Reply r = redis_.eval(kClaim, keys, {std::to_string(hold), std::to_string(ttl.count()), force ? "1" : "0"});
  if (!r || r->type != REDIS_REPLY_ARRAY) return {Claim::Unreachable, {}};
  if (r->elements == 0) return {Claim::Claimed, {}};
  ClaimResult out{Claim::Taken, {}};
  for (size_t i = 0; i < r->elements; ++i) {
    // The script answers 1-based indexes of `seats`; anything else (a Redis that is not ours, a
    // changed script) is treated like no answer: the decision falls to PostgreSQL.
    const redisReply* e = r->element[i];
    if (e->type != REDIS_REPLY_INTEGER || e->integer < 1 || static_cast<uint64_t>(e->integer) > seats.size())
      return {Claim::Unreachable, {}};
    out.taken.push_back(seats[static_cast<size_t>(e->integer) - 1]);
  }
  return out;
}

void RedisSeatFront::unclaim(core::EventId event, const std::vector<core::SeatId>& seats, core::HoldId hold) {
  std::vector<std::string> keys;
  for (core::SeatId s : seats) keys.push_back(seat_key(event, s));
  (void)redis_.eval(kUnclaim, keys, {std::to_string(hold)});
}

void RedisSeatFront::apply(char mode, core::EventId event, const std::vector<core::SeatId>& seats,
                           const std::string& holder, int64_t expire_at_ms) {
  if (seats.empty()) return;
  std::vector<std::string> keys{map_key(event), version_key(event)};
  std::vector<std::string> args{std::string(1, mode), holder, std::to_string(expire_at_ms), redis_.channel(),
                                std::to_string(event)};
  for (core::SeatId s : seats) {
    keys.push_back(seat_key(event, s));
    args.push_back(std::to_string(s));
  }
  // A pin that fails only shortens a filter's memory; a change that fails leaves the cached map and
  // the live subscribers behind PostgreSQL until repair().
  if (!redis_.eval(kApply, keys, args) && mode != 'P') mark_stale(event);
}

void RedisSeatFront::mark_stale(core::EventId event) {
  std::lock_guard lock(stale_mu_);
  if (stale_.size() < kStaleEventsMax) stale_.insert(event);
  else stale_overflow_ = true;
  any_stale_ = true;
}

void RedisSeatFront::repair() {
  if (!any_stale_ || !redis_.up()) return;
  std::unordered_set<core::EventId> events;
  bool overflow = false;
  {
    std::lock_guard lock(stale_mu_);
    events.swap(stale_);
    overflow = std::exchange(stale_overflow_, false);
    any_stale_ = false;
  }
  std::vector<core::EventId> failed;
  for (core::EventId e : events) {
    // Drop the map (the next read rebuilds it from PostgreSQL) and skip a version: a subscriber that
    // sees the gap at the next change, or at the empty change published here, takes a fresh snapshot.
    Reply r = redis_.eval(kRepair, {map_key(e), version_key(e)}, {redis_.channel(), std::to_string(e)});
    if (!r) failed.push_back(e);
  }
  if (overflow) {
    // Too many to remember: every cached map goes (they are rebuilt on demand).
    std::string cursor = "0";
    do {
      Reply page = redis_.command({"SCAN", cursor, "MATCH", "seatmap:*", "COUNT", "1000"});
      if (!page || page->type != REDIS_REPLY_ARRAY || page->elements != 2) {
        failed.push_back(0);
        break;
      }
      cursor.assign(page->element[0]->str, page->element[0]->len);
      for (size_t i = 0; i < page->element[1]->elements; ++i)
        (void)redis_.command({"DEL", std::string(page->element[1]->element[i]->str, page->element[1]->element[i]->len)});
    } while (cursor != "0");
  }
  if (!failed.empty()) {
    std::lock_guard lock(stale_mu_);
    for (core::EventId e : failed) {
      if (e == 0) stale_overflow_ = true;
      else stale_.insert(e);
    }
    any_stale_ = true;
  }
}

void RedisSeatFront::held(core::EventId event, const std::vector<core::SeatId>& seats, core::HoldId hold,
                          TimeMs until) {
  apply('H', event, seats, std::to_string(hold), to_unix_ms(until));
}
void RedisSeatFront::sold(core::EventId event, const std::vector<core::SeatId>& seats, TimeMs until) {
  apply('S', event, seats, "S", to_unix_ms(until));
}
void RedisSeatFront::freed(core::EventId event, const std::vector<core::SeatId>& seats, core::HoldId hold) {
  apply('A', event, seats, hold == 0 ? std::string("S") : std::to_string(hold), 0);
}
void RedisSeatFront::pinned(core::EventId event, const std::vector<core::SeatId>& seats, core::HoldId hold,
                            TimeMs until) {
  apply('P', event, seats, std::to_string(hold), to_unix_ms(until));
}

std::optional<core::SeatFront::Snapshot> RedisSeatFront::snapshot(core::EventId event) {
  Reply r = redis_.command({"MGET", map_key(event), version_key(event)});
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING)
    return std::nullopt;
  Snapshot s;
  s.status.assign(r->element[0]->str, r->element[0]->len);
  if (r->element[1]->type == REDIS_REPLY_STRING) s.version = std::strtoull(r->element[1]->str, nullptr, 10);
  return s;
}

uint64_t RedisSeatFront::version(core::EventId event) {
  Reply r = redis_.command({"GET", version_key(event)});
  if (!r || r->type != REDIS_REPLY_STRING) return 0;
  return std::strtoull(r->str, nullptr, 10);
}

void RedisSeatFront::store_snapshot(core::EventId event, const Snapshot& built) {
  (void)redis_.eval(kStoreMap, {map_key(event), version_key(event)},
                    {std::to_string(built.version), built.status, std::to_string(redis_.config().map_ttl.count())});
}

bool parse_seat_message(const std::string& text, core::SeatChange& out) {
  const char* s = text.c_str();
  char* end = nullptr;
  out.event_id = std::strtoll(s, &end, 10);
  if (end == s || *end != ' ') return false;
  s = end + 1;
  out.version = std::strtoull(s, &end, 10);
  if (end == s || *end != ' ') return false;
  s = end + 1;
  switch (*s) {
    case 'A': out.status = core::SeatStatus::Available; break;
    case 'H': out.status = core::SeatStatus::Held; break;
    case 'S': out.status = core::SeatStatus::Sold; break;
    default: return false;
  }
  if (s[1] != ' ') return false;
  s += 2;
  out.seats.clear();
  // No seats: a version skipped on purpose (see kRepair); subscribers resynchronise.
  while (*s) {
    const unsigned long seat = std::strtoul(s, &end, 10);
    if (end == s) return false;
    out.seats.push_back(static_cast<core::SeatId>(seat));
    s = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end != '\0') return false;
  }
  return out.event_id > 0 && out.version > 0;
}

RedisSubscriber::RedisSubscriber(const RedisClient& client, core::SeatChangeSink& sink, core::SessionNews* sessions)
    : client_(client), sink_(sink), sessions_(sessions), thread_([this] { run(); }) {}

RedisSubscriber::~RedisSubscriber() {
  stop_ = true;
  thread_.join();
}

void RedisSubscriber::deliver(const std::string& channel, const std::string& text) {
  if (channel == client_.session_channel()) {
    if (sessions_ && !apply_session_message(text, *sessions_))
      spdlog::warn("redis subscriber: malformed session message ignored");
    return;
  }
  core::SeatChange change;
  if (parse_seat_message(text, change))
    sink_.seats_changed(change);
  else
    spdlog::warn("redis subscriber: malformed seat message ignored");
}

void RedisSubscriber::run() {
  const std::string seats = client_.channel();
  const std::string session_channel = client_.session_channel();
  while (!stop_) {
    redisContext* c = client_.connect_new();
    if (!c) {
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    const int appended = sessions_ ? redisAppendCommand(c, "SUBSCRIBE %b %b", seats.data(), seats.size(),
                                                        session_channel.data(), session_channel.size())
                                   : redisAppendCommand(c, "SUBSCRIBE %b", seats.data(), seats.size());
    if (appended != REDIS_OK) {
      redisFree(c);
      continue;
    }
    int done = 0;
    while (!done) {
      if (redisBufferWrite(c, &done) != REDIS_OK) break;
    }
    spdlog::info("redis subscriber listening channel={}", seats);
    // Poll with a short timeout so a stop request is seen promptly; read whatever arrives.
    while (!stop_ && !c->err) {
      void* raw = nullptr;
      if (redisGetReplyFromReader(c, &raw) != REDIS_OK) break;
      if (raw) {
        Reply r(static_cast<redisReply*>(raw));
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
            r->element[1]->type == REDIS_REPLY_STRING) {
          const std::string kind(r->element[0]->str, r->element[0]->len);
          const std::string channel(r->element[1]->str, r->element[1]->len);
          if (kind == "message" && r->element[2]->type == REDIS_REPLY_STRING) {
            deliver(channel, std::string(r->element[2]->str, r->element[2]->len));
          } else if (kind == "subscribe" && channel == session_channel && sessions_) {
            // Whatever was published while no connection listened is lost: cached sessions start over.
            sessions_->resync();
          }
        }
        continue;
      }
      pollfd pfd{c->fd, POLLIN, 0};
      const int n = ::poll(&pfd, 1, 200);
      if (n < 0) break;
      if (n > 0 && redisBufferRead(c) != REDIS_OK) break;
    }
    redisFree(c);
    if (!stop_) spdlog::warn("redis subscriber lost its connection; reconnecting");
  }
}

}  // namespace ticketd::store::redis
