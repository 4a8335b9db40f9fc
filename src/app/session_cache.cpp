#include "app/session_cache.hpp"

#include <algorithm>
#include <functional>

#include "base/assert.hpp"

namespace ticketd::app {

SessionCache::SessionCache(const Clock& clock, SessionCacheConfig config, core::SessionBus* bus)
    : clock_(clock), config_(config), bus_(bus) {
  TICKETD_ASSERT(config_.entries_max >= kShards);
}

SessionCache::Shard& SessionCache::shard_of(const std::string& token_hash) {
  return shards_[std::hash<std::string>{}(token_hash) % kShards];
}

std::optional<core::User> SessionCache::find(const std::string& token_hash, Look look) {
  if (config_.ttl <= Millis(0)) return std::nullopt;
  const TimeMs now = clock_.now();
  Shard& shard = shard_of(token_hash);
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(token_hash);
    if (it != shard.entries.end()) {
      if (now < it->second.valid_until) {
        hits_.fetch_add(1, std::memory_order_relaxed);
        return it->second.user;
      }
      shard.entries.erase(it);
    }
  }
  if (look == Look::only) misses_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

void SessionCache::put(const std::string& token_hash, const core::User& user, TimeMs session_expires_at,
                       uint64_t generation) {
  if (config_.ttl <= Millis(0)) return;
  const TimeMs now = clock_.now();
  const TimeMs valid_until = std::min(session_expires_at, now + config_.ttl);
  if (valid_until <= now) return;
  Shard& shard = shard_of(token_hash);
  std::lock_guard lock(shard.mu);
  // Checked under the shard's lock: a forget of this token takes the same lock after advancing the
  // generation, so it either sees this entry and erases it, or this put sees its generation.
  if (generation_.load(std::memory_order_acquire) != generation) return;
  if (shard.entries.size() >= config_.entries_max / kShards) make_room(shard, now);
  shard.entries.insert_or_assign(token_hash, Entry{user, valid_until});
}

void SessionCache::make_room(Shard& shard, TimeMs now) {
  std::erase_if(shard.entries, [now](const auto& item) { return item.second.valid_until <= now; });
  if (shard.entries.size() >= config_.entries_max / kShards) shard.entries.erase(shard.entries.begin());
}

void SessionCache::forget_token(const std::string& token_hash) {
  invalidations_.fetch_add(1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  Shard& shard = shard_of(token_hash);
  std::lock_guard lock(shard.mu);
  shard.entries.erase(token_hash);
}

// A user's sessions are spread over every shard: a scan, which is fine for how rarely accounts change
// (a logout everywhere, a password, a verified address) next to how often sessions are read.
void SessionCache::forget_user(core::UserId user) {
  invalidations_.fetch_add(1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    std::erase_if(shard.entries, [user](const auto& item) { return item.second.user.id == user; });
  }
}

void SessionCache::end_token(const std::string& token_hash) {
  forget_token(token_hash);
  if (bus_) bus_->token_ended(token_hash);
}

void SessionCache::change_user(core::UserId user) {
  forget_user(user);
  if (bus_) bus_->user_changed(user);
}

void SessionCache::token_ended_elsewhere(const std::string& token_hash) { forget_token(token_hash); }

void SessionCache::user_changed_elsewhere(core::UserId user) { forget_user(user); }

void SessionCache::resync() {
  invalidations_.fetch_add(1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    shard.entries.clear();
  }
}

SessionCacheStats SessionCache::stats() const {
  SessionCacheStats s;
  s.hits_total = hits_.load(std::memory_order_relaxed);
  s.misses_total = misses_.load(std::memory_order_relaxed);
  s.invalidations_total = invalidations_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    s.entries += shard.entries.size();
  }
  return s;
}

}  // namespace ticketd::app
