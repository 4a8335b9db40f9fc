// Queued, pipelined publication of an owner's seat changes (seat_publisher.hpp).
#include "store/redis/seat_publisher.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace ticketd::store::redis {

namespace {

char status_char(core::SeatStatus s) {
  switch (s) {
    case core::SeatStatus::Available: return 'A';
    case core::SeatStatus::Held: return 'H';
    case core::SeatStatus::Sold: return 'S';
  }
  return 'A';
}

// "E V C s1,s2,...", as parse_seat_message reads it.
std::string message_of(const core::SeatChange& change) {
  std::string m = std::to_string(change.event_id) + ' ' + std::to_string(change.version) + ' ' +
                  status_char(change.status) + ' ';
  for (size_t i = 0; i < change.seats.size(); ++i) {
    if (i) m += ',';
    m += std::to_string(change.seats[i]);
  }
  return m;
}

}  // namespace

RedisSeatPublisher::RedisSeatPublisher(const RedisClient& client)
    : client_(client), channel_(client.channel()), thread_([this] { run(); }) {}

RedisSeatPublisher::~RedisSeatPublisher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void RedisSeatPublisher::seats_changed(const core::SeatChange& change) {
  std::string m = message_of(change);
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= kQueuedMax) {
      ++dropped_;  // subscribers find the gap at the next change and resynchronise
      return;
    }
    queue_.push_back(std::move(m));
  }
  wake_.notify_one();
}

bool RedisSeatPublisher::publish(redisContext* c, const std::deque<std::string>& batch) {
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
  std::deque<std::string> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_ && queue_.empty()) break;
      while (!queue_.empty() && batch.size() < kBatchMax) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!c) c = client_.connect_new();
    if (!c || !publish(c, batch)) {
      dropped_ += batch.size();
      spdlog::warn("seat changes: {} not published (Redis unreachable); live maps resynchronise", batch.size());
      if (c) redisFree(c);
      c = nullptr;
      batch.clear();
      // Not in a loop against a Redis that is down: later changes wait a little (and may be dropped).
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_; });
      continue;
    }
    batch.clear();
  }
  if (c) redisFree(c);
}

}  // namespace ticketd::store::redis
