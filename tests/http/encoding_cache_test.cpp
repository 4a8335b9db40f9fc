// Kept encodings (http/encoding_cache.hpp): one build per version, gzip and the ETag kept beside it, a
// new version replaces an old one and never the other way round, nullopt is never kept, and a cache
// holds at most the entries it was made for.
#include "http/encoding_cache.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/etag.hpp"

using namespace ticketd::http;

namespace {

TEST(EncodingCache, ARepeatOfOneVersionIsTheKeptBytesAndANewVersionIsBuiltAgain) {
  EncodingCache cache;
  int builds = 0;
  auto body = [&](char c) {
    return [&builds, c] {
      ++builds;
      return std::string(4000, c);
    };
  };
  auto first = cache.get(7, 3, body('A'));
  auto again = cache.get(7, 3, body('X'));  // same version: not built again, whatever the encoder says
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(again.get(), first.get());
  EXPECT_EQ(cache.hits(), 1u);
  ASSERT_TRUE(first->gzip.has_value());  // 4,000 equal bytes compress
  EXPECT_LT(first->gzip->size(), first->plain.size());
  auto next = cache.get(7, 4, body('H'));
  EXPECT_EQ(builds, 2);
  EXPECT_EQ(next->plain, std::string(4000, 'H'));
  // A late build of an older version does not replace the newer one.
  (void)cache.get(7, 3, body('O'));
  EXPECT_EQ(cache.get(7, 4, body('Z'))->plain, std::string(4000, 'H'));
}

TEST(EncodingCache, VersionZeroIsNeverKeptAndSmallBodiesAreNotCompressed) {
  EncodingCache cache;
  int builds = 0;
  auto small = [&] {
    ++builds;
    return std::string("{\"status\":\"AAH\"}");
  };
  (void)cache.get(1, std::nullopt, small);
  auto again = cache.get(1, std::nullopt, small);
  EXPECT_EQ(builds, 2);
  EXPECT_FALSE(again->gzip.has_value());
}

TEST(EncodingCache, StaysBoundedAcrossManyEvents) {
  EncodingCache cache;
  for (int64_t e = 1; e <= static_cast<int64_t>(EncodingCache::kSeatMapsMax) * 3; ++e) {
    (void)cache.get(e, 1, [e] { return std::to_string(e); });
    ASSERT_LE(cache.entries(), EncodingCache::kSeatMapsMax);
  }
  EXPECT_EQ(cache.entries(), EncodingCache::kSeatMapsMax);
  // Whatever was dropped is built again on its next read: a slower answer, never a wrong one.
  for (int64_t e = 1; e <= 5; ++e) EXPECT_EQ(cache.get(e, 1, [e] { return std::to_string(e); })->plain, std::to_string(e));
}

TEST(EncodingCache, KeepsTheBodysStrongTagAndHoldsAtMostItsEntries) {
  EncodingCache layouts(2);
  auto first = layouts.get(10, 0, [] { return std::string(2000, 'L'); });
  EXPECT_EQ(first->etag, strong_etag(first->plain));
  (void)layouts.get(11, 0, [] { return std::string("b"); });
  (void)layouts.get(12, 0, [] { return std::string("c"); });
  EXPECT_EQ(layouts.entries(), 2u);
  EXPECT_EQ(layouts.find(12, 0)->plain, "c");
}

}  // namespace
