#include "store/redis/redis.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <unordered_map>

#include "base/assert.hpp"
#include "base/thread_name.hpp"
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
    : client_(client), sink_(sink), sessions_(sessions), thread_([this] {
        name_this_thread("redis-sub");
        run();
      }) {}

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
          } else if (kind == "subscribe" && channel == seats) {
            sink_.feed_resumed();
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
    sink_.feed_lost();
    if (!stop_) spdlog::warn("redis subscriber lost its connection; reconnecting");
  }
}

}  // namespace ticketd::store::redis
