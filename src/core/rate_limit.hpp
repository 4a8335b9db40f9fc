// Token buckets for abuse limits: a pure state machine over an injected time, so tests drive it by hand.
//
// A bucket holds up to `burst` tokens and gains `per_s` tokens per second; a request takes one token or is
// refused with the wait until one is there. A RateLimitTable keeps one bucket per key with a hard bound on
// the number of keys: inserting past `keys_max` evicts the least recently used bucket. An evicted client
// starts again with a full bucket, so eviction can only make a limit more lenient, never refuse anyone
// wrongly; with keys_max far above the number of clients active within one refill time it does not matter.
//
// Thread safety: none. The caller serialises access (the HTTP layer shards tables behind mutexes).
// Time: `now` must come from a monotonic source; a `now` earlier than the last one is treated as no time
// having passed (no refill, never a negative one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "base/clock.hpp"

namespace ticketd::core {

struct RateRule {
  double per_s = 0;  // tokens added per second; 0 = this limit is off
  double burst = 0;  // bucket size: requests allowed at once after a quiet period; >= 1 when on
  bool on() const { return per_s > 0; }
};

// Bounds of a rule, so a typo in configuration cannot overflow the arithmetic below.
inline constexpr double rate_per_s_max = 1'000'000;
inline constexpr double rate_burst_max = 10'000'000;

// A valid rule is off (per_s == 0) or has 0 < per_s <= rate_per_s_max and 1 <= burst <= rate_burst_max.
bool rate_rule_valid(const RateRule& rule);

struct RateDecision {
  bool allowed = true;
  Millis retry_after{0};  // when refused: the wait until one token is there (> 0)
};

class TokenBucket {
 public:
  // Starts full: a new client gets its whole burst. REQUIRES: rate_rule_valid(rule) && rule.on().
  TokenBucket(const RateRule& rule, TimeMs now);
  // Takes `cost` tokens (an expensive request costs more than a cheap one) if they are there; a cost
  // above the burst is taken as the burst, so it can pass after a quiet period. The rule is passed
  // each time (it is configuration, not state). REQUIRES: cost >= 1.
  RateDecision take(const RateRule& rule, TimeMs now, double cost = 1.0);
  // True when the bucket would be full at `now`: forgetting it changes nothing.
  bool full(const RateRule& rule, TimeMs now) const;

 private:
  double level(const RateRule& rule, TimeMs now) const;
  double tokens_;
  TimeMs last_;
};

// One bucket per 64-bit key (the caller hashes class, scope and client into it), at most keys_max of them.
class RateLimitTable {
 public:
  // REQUIRES: keys_max >= 1.
  explicit RateLimitTable(size_t keys_max);
  // REQUIRES: rate_rule_valid(rule) && rule.on().
  RateDecision take(uint64_t key, const RateRule& rule, TimeMs now, double cost = 1.0);
  size_t size() const { return index_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    uint64_t key;
    TokenBucket bucket;
  };
  size_t keys_max_;
  uint64_t evictions_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
};

}  // namespace ticketd::core
