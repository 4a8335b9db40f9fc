// The SessionBus on Redis pub/sub: channel ticketd:<db>:sessions, messages "t <token hash>" (a session
// ended) and "u <user id>" (an account changed). Publishing is best effort: when Redis is down the
// message is dropped and the other nodes' caches catch up by their TTL (app/session_cache.hpp).
#pragma once

#include <string>

#include "core/ports/session_bus.hpp"
#include "store/redis/redis.hpp"

namespace ticketd::store::redis {

class RedisSessionBus final : public core::SessionBus {
 public:
  explicit RedisSessionBus(RedisClient& client) : redis_(client) {}
  void token_ended(const std::string& token_hash) override;
  void user_changed(core::UserId user) override;

 private:
  RedisClient& redis_;
};

// Applies one message of the session channel to `news`. False (and nothing applied) if malformed.
bool apply_session_message(const std::string& text, core::SessionNews& news);

}  // namespace ticketd::store::redis
