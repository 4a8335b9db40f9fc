#include "core/rate_limit.hpp"

#include <algorithm>
#include <cmath>

#include "base/assert.hpp"

namespace ticketd::core {

bool rate_rule_valid(const RateRule& rule) {
  if (rule.per_s == 0) return true;
  return rule.per_s > 0 && rule.per_s <= rate_per_s_max && rule.burst >= 1 && rule.burst <= rate_burst_max;
}

TokenBucket::TokenBucket(const RateRule& rule, TimeMs now) : tokens_(rule.burst), last_(now) {
  TICKETD_ASSERT(rate_rule_valid(rule) && rule.on());
}

double TokenBucket::level(const RateRule& rule, TimeMs now) const {
  const int64_t elapsed_ms = std::max<int64_t>(0, (now - last_).count());
  return std::min(rule.burst, tokens_ + static_cast<double>(elapsed_ms) * rule.per_s / 1000.0);
}

RateDecision TokenBucket::take(const RateRule& rule, TimeMs now, double cost) {
  TICKETD_ASSERT(rate_rule_valid(rule) && rule.on());
  TICKETD_ASSERT(cost >= 1.0);
  cost = std::min(cost, rule.burst);
  tokens_ = level(rule, now);
  if (now > last_) last_ = now;
  if (tokens_ >= cost) {
    tokens_ -= cost;
    return RateDecision{true, Millis(0)};
  }
  // Whole milliseconds, rounded up and at least 1: after that wait the tokens are certainly there.
  const double wait_ms = std::ceil((cost - tokens_) * 1000.0 / rule.per_s);
  const RateDecision refused{false, Millis(std::max<int64_t>(1, static_cast<int64_t>(wait_ms)))};
  TICKETD_ASSERT(refused.retry_after.count() > 0);
  return refused;
}

bool TokenBucket::full(const RateRule& rule, TimeMs now) const {
  return level(rule, now) >= rule.burst;
}

RateLimitTable::RateLimitTable(size_t keys_max) : keys_max_(keys_max) {
  TICKETD_ASSERT(keys_max >= 1);
  index_.reserve(std::min<size_t>(keys_max, 4096));
}

RateDecision RateLimitTable::take(uint64_t key, const RateRule& rule, TimeMs now, double cost) {
  auto found = index_.find(key);
  if (found != index_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);  // now the most recently used
    return found->second->bucket.take(rule, now, cost);
  }
  if (index_.size() >= keys_max_) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    ++evictions_;
  }
  lru_.push_front(Entry{key, TokenBucket(rule, now)});
  index_.emplace(key, lru_.begin());
  TICKETD_ASSERT(index_.size() == lru_.size() && index_.size() <= keys_max_);
  return lru_.front().bucket.take(rule, now, cost);
}

}  // namespace ticketd::core
