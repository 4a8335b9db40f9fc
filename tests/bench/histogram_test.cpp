// The load generator's latency histogram: bucket arithmetic, percentiles within the stated error,
// merging, and clamping. No I/O.
#include "histogram.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using ticketd::bench::Histogram;

TEST(Histogram, SmallValuesAreExact) {
  Histogram<7> h;
  for (uint64_t v = 0; v < 128; ++v) h.record(v);
  EXPECT_EQ(h.count(), 128u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 127u);
  EXPECT_EQ(h.percentile(0.5), 63u);
  EXPECT_EQ(h.percentile(1.0), 127u);
}

TEST(Histogram, BucketsAreContiguousAndMonotonic) {
  size_t last = 0;
  for (uint64_t v = 1; v < (uint64_t{1} << 20); ++v) {
    const size_t i = Histogram<7>::index_of(v);
    ASSERT_GE(i, last) << v;
    ASSERT_LE(i, last + 1) << v;  // no bucket skipped
    ASSERT_GE(Histogram<7>::upper_edge(i), v) << v;
    last = i;
  }
  EXPECT_LT(Histogram<7>::index_of(Histogram<7>::kValueMax), Histogram<7>::kBuckets);
}

TEST(Histogram, PercentilesAreWithinOnePercentOfTheExactOnes) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(7.0, 1.5);  // a latency-like long tail, in us
  std::vector<uint64_t> values;
  Histogram<7> h;
  for (int i = 0; i < 200'000; ++i) {
    const uint64_t v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const uint64_t exact = values[static_cast<size_t>(q * values.size()) - 1];
    const uint64_t got = h.percentile(q);
    EXPECT_GE(got, exact) << q;  // the upper edge: never optimistic
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * 1.016 + 1) << q;
  }
  EXPECT_EQ(h.percentile(1.0), values.back());
}

TEST(Histogram, MergeEqualsRecordingEverythingInOne) {
  Histogram<5> a, b, all;
  for (uint64_t v = 1; v < 100'000; v += 37) {
    (v % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
}

TEST(Histogram, ValuesBeyondTheRangeAreClampedNotLost) {
  Histogram<3, uint32_t> h;
  h.record(~uint64_t{0});
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), (Histogram<3, uint32_t>::kValueMax));
  EXPECT_EQ(h.percentile(0.5), h.max());
}

TEST(Histogram, EmptyHistogramReportsZero) {
  Histogram<7> h;
  EXPECT_EQ(h.percentile(0.99), 0u);
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}
