#include "core/best_available.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace ticketd::core;

namespace {
Layout two_sections() {
  LayoutSpec spec{"Hall", {}};
  spec.sections.push_back({"Balcony", "cheap", {{"A", 10, {}, {}, {}}, {"B", 10, {}, {}, {}}}});
  spec.sections.push_back({"Stalls", "dear", {{"A", 6, {}, {}, {}}, {"B", 6, {}, {}, {}}}});
  return *Layout::build(spec);
}
const std::map<std::string, int64_t> kPrices{{"cheap", 1000}, {"dear", 5000}};
}  // namespace

TEST(BestAvailable, PrefersTheBestTierFrontRowCentre) {
  Layout l = two_sections();
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, [](SeatId) { return true; });
  ASSERT_TRUE(seats);
  // Stalls row A is seats 20..25; the centre pair is 22, 23.
  EXPECT_EQ(*seats, (std::vector<SeatId>{22, 23}));
}

TEST(BestAvailable, NeverLeavesAnOrphanWhenAnotherChoiceExists) {
  Layout l = two_sections();
  // Stalls row A (20..25): 20 taken. Free run 21..25 (5 seats). A pair at 22-23 would leave 21 alone.
  std::set<SeatId> taken{20};
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, [&](SeatId s) { return !taken.contains(s); });
  ASSERT_TRUE(seats);
  const SeatId first = (*seats)[0];
  const uint32_t left = first - 21, right = 25 - (first + 1);
  EXPECT_NE(left, 1u);
  EXPECT_NE(right, 1u);
  EXPECT_GE(first, 20u);
  EXPECT_LE(first, 24u);
}

TEST(BestAvailable, KeepsThePartyTogetherInALowerTierIfNeeded) {
  Layout l = two_sections();
  // Stalls: only alternating seats free, so no pair fits there.
  auto free = [](SeatId s) { return s < 20 || s % 2 == 0; };
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, free);
  ASSERT_TRUE(seats);
  EXPECT_LT((*seats)[0], 20u);
  EXPECT_EQ((*seats)[1], (*seats)[0] + 1);
}

TEST(BestAvailable, SplitsOverFewestBlocksWhenNoRowFits) {
  Layout l = two_sections();
  auto seats = pick_best_available(l, kPrices, {12, std::nullopt}, [](SeatId s) { return s >= 20; });
  ASSERT_TRUE(seats);
  EXPECT_EQ(seats->size(), 12u);
}

TEST(BestAvailable, NotEnoughSeatsIsNullopt) {
  Layout l = two_sections();
  EXPECT_FALSE(pick_best_available(l, kPrices, {3, 1u}, [](SeatId s) { return s == 20 || s == 21; }));
}

TEST(BestAvailable, RespectsTheSection) {
  Layout l = two_sections();
  auto seats = pick_best_available(l, kPrices, {4, 0u}, [](SeatId) { return true; });
  ASSERT_TRUE(seats);
  for (SeatId s : *seats) EXPECT_LT(s, 20u);
}
