// The Redis adapter: a small pool of hiredis connections with timeouts and a circuit breaker, and
// the subscriber that feeds every node's SeatChangeSink (and session news). What uses Redis lives
// beside it: seat_publisher (seat changes on pub/sub), user_holds (the cap on live holds per user),
// session_bus, waiting_room.
//
// Channel: ticketd:<db>:seats, message "E V C s1,s2,..." (event, version, status char, seats).
//
// Failure: any error marks Redis down for down_for; meanwhile calls return at once as unreachable,
// so an outage costs one timeout, not one per request.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/ports/seat_changes.hpp"
#include "core/ports/session_bus.hpp"

struct redisContext;
struct redisReply;

namespace ticketd::store::redis {

struct RedisConfig {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;
  std::chrono::milliseconds timeout{500};
  std::chrono::milliseconds down_for{1000};
  size_t pool_size = 32;
};

// redis://[:password@]host[:port][/db]. False with `error` set if malformed.
bool parse_redis_url(const std::string& url, RedisConfig& out, std::string& error);

struct ReplyDeleter {
  void operator()(redisReply* r) const;
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisClient {
 public:
  explicit RedisClient(RedisConfig cfg);
  ~RedisClient();
  // Runs one command; nullptr if Redis is unreachable (or marked down), or answered an error.
  Reply command(const std::vector<std::string>& argv);
  // EVALSHA of a script loaded on demand (reloaded after a Redis restart forgot it).
  Reply eval(const std::string& script, const std::vector<std::string>& keys, const std::vector<std::string>& args);
  bool up() const;
  const RedisConfig& config() const { return cfg_; }
  std::string channel() const { return "ticketd:" + std::to_string(cfg_.db) + ":seats"; }
  // Ended sessions (store/redis/session_bus.hpp).
  std::string session_channel() const { return "ticketd:" + std::to_string(cfg_.db) + ":sessions"; }
  // Opens a new connection (for the subscriber). nullptr on failure.
  redisContext* connect_new() const;

 private:
  redisContext* take();
  void give_back(redisContext* c, bool healthy);
  void mark_down();
  RedisConfig cfg_;
  std::mutex mu_;  // guards idle_
  std::vector<redisContext*> idle_;
  std::atomic<int64_t> down_until_ms_{0};
};

// Listens on the seat channel and hands every change to the sink, and (when `sessions` is set) on the
// session channel, reconnecting after failures. What was published while the connection was down is
// lost: the sink hears feed_lost() when a connection ends and feed_resumed() once it listens again, and
// `sessions` resyncs after every (re)subscription.
class RedisSubscriber {
 public:
  RedisSubscriber(const RedisClient& client, core::SeatChangeSink& sink, core::SessionNews* sessions = nullptr);
  ~RedisSubscriber();

 private:
  void run();
  void deliver(const std::string& channel, const std::string& text);
  const RedisClient& client_;
  core::SeatChangeSink& sink_;
  core::SessionNews* sessions_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Parses a published change ("E V C s1,s2,..."). False if malformed.
bool parse_seat_message(const std::string& text, core::SeatChange& out);

}  // namespace ticketd::store::redis
