// The sessions this node has seen, in memory: bearer-token hash -> the account, so an authenticated
// request costs a hash and a map lookup instead of two store reads (a session row and a user row).
//
// Freshness: an entry is used until its session expires or `ttl` after it was read from the store,
// whichever is first. Ending a session here (logout, password change, reset, verified address) forgets
// it at once and tells the other nodes through the SessionBus; news from them arrives as SessionNews.
// The TTL bounds how long a lost message can keep an ended session alive on another node.
//
// A read racing an end: authenticate() reads the store, a logout deletes the row and forgets the
// entry, then the read puts the old answer back. To refuse that put, every forget advances a
// generation; a reader takes the generation before it reads the store, and put() with an older one
// does nothing.
//
// Bound: entries_max in all (per shard entries_max / kShards). A full shard drops its lapsed entries,
// then, if still full, an arbitrary one: the cost is one more store read, never a wrong answer.
//
// Thread safety: all methods may be called concurrently; each shard has its own mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.hpp"
#include "core/ports/session_bus.hpp"
#include "core/types.hpp"

namespace ticketd::app {

struct SessionCacheConfig {
  size_t entries_max = 100'000;  // about 200 B each: 20 MB at most
  Millis ttl{10'000};            // the safety net for a lost invalidation; 0 turns the cache off
};

struct SessionCacheStats {
  uint64_t hits_total = 0;
  uint64_t misses_total = 0;
  uint64_t invalidations_total = 0;  // local and remote forgets
  uint64_t entries = 0;
};

class SessionCache final : public core::SessionNews {
 public:
  static constexpr size_t kShards = 16;

  // bus may be null (embedded: no other node to tell).
  SessionCache(const Clock& clock, SessionCacheConfig config, core::SessionBus* bus);

  // A look that another follows when it misses (the I/O thread's, before a worker reads the store and
  // looks again) counts its hits only, so that each request counts one hit or one miss.
  enum class Look { only, before_another };
  std::optional<core::User> find(const std::string& token_hash, Look look = Look::only);
  // Take before reading the store; pass to put().
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  void put(const std::string& token_hash, const core::User& user, TimeMs session_expires_at, uint64_t generation);

  // This node ended a session, or changed an account: forget it here and tell the other nodes.
  void end_token(const std::string& token_hash);
  void change_user(core::UserId user);

  // SessionNews: the same, heard from another node.
  void token_ended_elsewhere(const std::string& token_hash) override;
  void user_changed_elsewhere(core::UserId user) override;
  void resync() override;

  SessionCacheStats stats() const;

 private:
  struct Entry {
    core::User user;
    TimeMs valid_until{};
  };
  struct Shard {
    mutable std::mutex mu;  // guards entries
    std::unordered_map<std::string, Entry> entries;
  };
  Shard& shard_of(const std::string& token_hash);
  void forget_token(const std::string& token_hash);
  void forget_user(core::UserId user);
  void make_room(Shard& shard, TimeMs now);

  const Clock& clock_;
  const SessionCacheConfig config_;
  core::SessionBus* bus_;
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> hits_{0}, misses_{0}, invalidations_{0};
};

}  // namespace ticketd::app
