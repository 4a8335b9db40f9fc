// The compact seat map's kept encodings (http/seat_map_cache.hpp): one build per version, gzip kept
// beside it, a new version replaces an old one and never the other way round, version 0 is not kept.
#include "http/seat_map_cache.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace ticketd::http;

namespace {

TEST(SeatMapCache, ARepeatOfOneVersionIsTheKeptBytesAndANewVersionIsBuiltAgain) {
  SeatMapCache cache;
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

TEST(SeatMapCache, VersionZeroIsNeverKeptAndSmallBodiesAreNotCompressed) {
  SeatMapCache cache;
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

TEST(SeatMapCache, StaysBoundedAcrossManyEvents) {
  SeatMapCache cache;
  for (int64_t e = 1; e <= static_cast<int64_t>(SeatMapCache::kEventsMax) * 3; ++e) {
    (void)cache.get(e, 1, [e] { return std::to_string(e); });
    ASSERT_LE(cache.events(), SeatMapCache::kEventsMax);
  }
  EXPECT_EQ(cache.events(), SeatMapCache::kEventsMax);
  // Whatever was dropped is built again on its next read: a slower answer, never a wrong one.
  for (int64_t e = 1; e <= 5; ++e) EXPECT_EQ(cache.get(e, 1, [e] { return std::to_string(e); })->plain, std::to_string(e));
}

}  // namespace
