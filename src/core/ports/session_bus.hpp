// Port: news of ended sessions between nodes. Each node keeps the sessions it has seen in memory
// (app/session_cache.hpp); when a session ends or an account changes on one node, the others must
// forget their copies before the copies would lapse by themselves.
//
// Delivery is best effort (distributed: Redis pub/sub). A lost message costs at most the cache's TTL,
// and a receiver that was cut off from the bus forgets everything it holds (SessionNews::resync).
// Embedded: one process, no bus.
//
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <string>

#include "core/types.hpp"

namespace ticketd::core {

class SessionBus {
 public:
  virtual ~SessionBus() = default;
  // token_hash: SHA-256 of the bearer token, hex (never the token itself).
  virtual void token_ended(const std::string& token_hash) = 0;
  // Every session of `user` ended, or the account itself changed (its password, its verified address).
  virtual void user_changed(UserId user) = 0;
};

// The receiving side: what the bus delivers from other nodes.
class SessionNews {
 public:
  virtual ~SessionNews() = default;
  virtual void token_ended_elsewhere(const std::string& token_hash) = 0;
  virtual void user_changed_elsewhere(UserId user) = 0;
  // The bus was down for a while: messages may be lost, forget everything.
  virtual void resync() = 0;
};

}  // namespace ticketd::core
