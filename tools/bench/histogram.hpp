// A fixed-memory latency histogram after HdrHistogram: values (microseconds) fall into log-spaced
// buckets, 2^SubBits per power of two, so every recorded value is known to within 1/2^(SubBits-1) of
// itself, from 1 us to 2^40 us (12 days), in (41 - SubBits) * 2^(SubBits-1) + 2^SubBits counters.
// Record is O(1) and allocation-free; merge adds counters.
//
// Thread safety: none; each thread records into its own histogram and they are merged afterwards.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "base/assert.hpp"

namespace ticketd::bench {

template <int SubBits, typename CountT = uint64_t>
class Histogram {
  static_assert(SubBits >= 2 && SubBits <= 10, "2..10 sub-bucket bits");

 public:
  static constexpr uint64_t kValueMax = (uint64_t{1} << 40) - 1;  // larger values are clamped
  static constexpr uint64_t kSub = uint64_t{1} << SubBits;
  static constexpr uint64_t kHalf = kSub / 2;
  static constexpr size_t kBuckets = static_cast<size_t>((41 - SubBits) * kHalf + kSub);

  void record(uint64_t value) {
    value = std::min(value, kValueMax);
    const size_t i = index_of(value);
    TICKETD_ASSERT(i < kBuckets);
    ++counts_[i];
    ++total_;
    max_ = std::max(max_, value);
    min_ = total_ == 1 ? value : std::min(min_, value);
    sum_ += value;
  }

  void merge(const Histogram& other) {
    for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    if (other.total_ != 0) {
      min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
      max_ = std::max(max_, other.max_);
    }
    total_ += other.total_;
    sum_ += other.sum_;
  }

  // The smallest bucket value v such that at least q of the recorded values are <= v's bucket;
  // reported as the bucket's upper edge (never below the truth), and never above the exact max.
  uint64_t percentile(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(total_) + 0.999999));
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(upper_edge(i), max_);
    }
    return max_;
  }

  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return min_; }
  double mean() const { return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_); }

  static size_t index_of(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    const int shift = std::bit_width(v) - SubBits;  // >= 1
    return static_cast<size_t>(shift) * kHalf + static_cast<size_t>(v >> shift);
  }
  static uint64_t upper_edge(size_t i) {
    if (i < kSub) return i;
    const size_t shift = i / kHalf - 1;
    const uint64_t sub = i % kHalf + kHalf;
    return ((sub + 1) << shift) - 1;
  }

 private:
  std::array<CountT, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
};

}  // namespace ticketd::bench
