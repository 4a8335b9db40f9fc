// The seat changes an owner's seat engine decides (distributed mode, one owner per event), published on
// the seat channel so that every node's live seat maps follow them (store/redis/redis.hpp: channel
// and message format; every node's RedisSubscriber feeds its own SeatStream, the owner's included).
//
// The engine reports a change under its event's mutex, where nothing may block, so changes are queued
// here (at most kQueuedMax) and one thread publishes them in pipelined batches over its own connection.
// A change that cannot be published (queue full, Redis unreachable) is dropped: the next one carries a
// version the subscribers did not expect, and they resynchronise from a fresh snapshot (the owner's
// map), as after any missed message. Versions are the engine's, which rise across owners (epoch << 32).
//
// Thread safety: seats_changed() from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "base/batch_queue.hpp"
#include "core/ports/seat_changes.hpp"
#include "store/redis/redis.hpp"

namespace ticketd::store::redis {

class RedisSeatPublisher final : public core::SeatChangeSink {
 public:
  static constexpr size_t kQueuedMax = 65'536;
  static constexpr size_t kBatchMax = 512;

  explicit RedisSeatPublisher(const RedisClient& client);
  ~RedisSeatPublisher() override;
  RedisSeatPublisher(const RedisSeatPublisher&) = delete;
  RedisSeatPublisher& operator=(const RedisSeatPublisher&) = delete;

  void seats_changed(const core::SeatChange& change) override;
  uint64_t dropped() const { return dropped_.load(); }

 private:
  void run();
  // Publishes `batch` over `c` (pipelined); false if the connection failed.
  bool publish(redisContext* c, const std::vector<std::string>& batch);

  const RedisClient& client_;
  const std::string channel_;
  BatchQueue<std::string> queue_{kQueuedMax, kBatchMax};  // formatted messages, oldest first
  std::atomic<uint64_t> dropped_{0};
  std::thread thread_;
};

}  // namespace ticketd::store::redis
