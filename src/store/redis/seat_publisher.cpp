// Queued, pipelined publication of an owner's seat changes (seat_publisher.hpp).
#include "store/redis/seat_publisher.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "base/thread_name.hpp"

namespace ticketd::store::redis {

namespace {

// "E V C s1,s2,...", as parse_seat_message reads it.
std::string message_of(const core::SeatChange& change) {
  std::string m = std::to_string(change.event_id) + ' ' + std::to_string(change.version) + ' ' +
                  core::status_char(change.status) + ' ';
  for (size_t i = 0; i < change.seats.size(); ++i) {
    if (i) m += ',';
    m += std::to_string(change.seats[i]);
  }
  return m;
}

}  // namespace

RedisSeatPublisher::RedisSeatPublisher(const RedisClient& client)
    : client_(client), channel_(client.channel()), thread_([this] {
        name_this_thread("redis-pub");
        run();
      }) {}

RedisSeatPublisher::~RedisSeatPublisher() {
  queue_.stop();
  thread_.join();
}

void RedisSeatPublisher::seats_changed(const core::SeatChange& change) {
  std::string m = message_of(change);
  if (!queue_.push(m)) ++dropped_;  // subscribers find the gap at the next change and resynchronise
}

bool RedisSeatPublisher::publish(redisContext* c, const std::vector<std::string>& batch) {
  for (const std::string& m : batch)
    if (redisAppendCommand(c, "PUBLISH %b %b", channel_.data(), channel_.size(), m.data(), m.size()) != REDIS_OK)
      return false;
  for (size_t i = 0; i < batch.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(c, &reply) != REDIS_OK) return false;
    freeReplyObject(reply);
  }
  return true;
}

void RedisSeatPublisher::run() {
  redisContext* c = nullptr;
  std::vector<std::string> batch;
  while (queue_.take(batch)) {
    if (!c) c = client_.connect_new();
    if (!c || !publish(c, batch)) {
      dropped_ += batch.size();
      spdlog::warn("seat changes: {} not published (Redis unreachable); live maps resynchronise", batch.size());
      if (c) redisFree(c);
      c = nullptr;
      batch.clear();
      // Not in a loop against a Redis that is down: later changes wait a little (and may be dropped).
      queue_.pause(std::chrono::milliseconds(200));
      continue;
    }
    batch.clear();
  }
  if (c) redisFree(c);
}

}  // namespace ticketd::store::redis
