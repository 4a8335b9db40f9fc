// The live holds of each user across nodes in Redis (core/ports/user_holds.hpp), for the cap on live
// holds per user when each event's owner decides its own holds.
//
// Keys: `uholds:{U}`, a sorted set of the user's hold ids scored by the time each lapses (ms since the
// epoch), expiring with its last member. A reservation is one Lua script: drop the lapsed members,
// refuse at the cap, add. Redis holds no decision here that cannot be rebuilt: an entry lost with a
// Redis restart or eviction lets that user hold past the cap until their holds lapse (at most the hold
// TTL), and while Redis is unreachable each node counts only the holds it knows (reserve() answers
// unknown), as before this registry.
//
// Every call is queued (at most kQueuedMax) for one thread, which sends what is queued pipelined over
// its own connection (at most kBatchMax calls a round trip) and hands each reservation its answer: a
// node's reservations cost one round trip per batch, not one per hold, and reach Redis in the order
// they were made, ends after their reservations. A reservation that finds the queue full, or whose
// batch fails, answers unknown; an end or extension that cannot be sent is dropped (the entry lapses).
#pragma once

#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "base/batch_queue.hpp"
#include "core/ports/user_holds.hpp"
#include "store/redis/redis.hpp"

namespace ticketd::store::redis {

class RedisUserHolds final : public core::UserHolds {
 public:
  static constexpr size_t kQueuedMax = 65'536;
  static constexpr size_t kBatchMax = 512;

  explicit RedisUserHolds(const RedisClient& client);
  ~RedisUserHolds() override;
  RedisUserHolds(const RedisUserHolds&) = delete;
  RedisUserHolds& operator=(const RedisUserHolds&) = delete;

  Reserve reserve(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now) override;
  void reserve_async(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now,
                     ReserveDone done) override;
  void extend(core::UserId user, core::HoldId hold, TimeMs until) override;
  void end(core::UserId user, core::HoldId hold) override;

 private:
  struct Call {
    std::vector<std::string> argv;  // the command (EVALSHA's script is named when sent)
    enum class Script { none, reserve, extend } script = Script::none;
    ReserveDone done;  // reservations only
  };
  void enqueue(Call call);
  void run();
  // Sends `batch` pipelined over `c_` and answers its reservations; false if the connection failed
  // (the unanswered ones are answered unknown).
  bool send(std::vector<Call>& batch);
  bool connect();  // opens c_ and loads the scripts; false if Redis is unreachable

  const RedisClient& client_;
  BatchQueue<Call> queue_{kQueuedMax, kBatchMax};
  // The registry thread's alone:
  redisContext* c_ = nullptr;
  std::string reserve_sha_;
  std::string extend_sha_;
  std::thread thread_;
};

}  // namespace ticketd::store::redis
