#include "core/layout.hpp"

#include <gtest/gtest.h>

#include "base/clock.hpp"

using namespace ticketd;
using namespace ticketd::core;

TEST(Layout, NumbersSeatsInLayoutOrder) {
  LayoutSpec spec{"Hall", {{"S1", "a", {{"A", 3, {1}, {2}, {3}}, {"B", 2, {}, {}, {}}}}, {"S2", "b", {{"A", 4, {}, {}, {}}}}}};
  auto l = Layout::build(spec);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->seats_total(), 9u);
  EXPECT_EQ(l->seat(0).flags, kAccessible);
  EXPECT_EQ(l->seat(4).row, 1u);
  EXPECT_EQ(l->seat(4).number, 2u);
  EXPECT_EQ(l->seat(5).section, 1u);
  EXPECT_EQ(l->price_tier_of(8), "b");
}

TEST(Layout, RejectsOutOfRangeInput) {
  EXPECT_FALSE(Layout::build({"", {{"S", "a", {{"A", 1, {}, {}, {}}}}}}).ok());
  EXPECT_FALSE(Layout::build({"H", {}}).ok());
  EXPECT_FALSE(Layout::build({"H", {{"S", "a", {{"A", 0, {}, {}, {}}}}}}).ok());
  EXPECT_FALSE(Layout::build({"H", {{"S", "a", {{"A", 1001, {}, {}, {}}}}}}).ok());
  EXPECT_TRUE(Layout::build({"H", {{"S", "a", {{"A", 1000, {}, {}, {}}}}}}).ok());
  EXPECT_FALSE(Layout::build({"H", {{"S", "a", {{"A", 3, {4}, {}, {}}}}}}).ok());
  EXPECT_FALSE(Layout::build({"H", {{"S", "a", {{"A", 3, {}, {}, {}}}}, {"S", "a", {{"A", 3, {}, {}, {}}}}}}).ok());
}

TEST(Layout, AcceptsTwoHundredThousandSeatsButNotMore) {
  LayoutSpec spec{"Big", {}};
  for (int s = 0; s < 200; ++s) {
    SectionSpec sec{"S" + std::to_string(s), "a", {}};
    for (int r = 0; r < 10; ++r) sec.rows.push_back({"R" + std::to_string(r), 100, {}, {}, {}});
    spec.sections.push_back(sec);
  }
  EXPECT_TRUE(Layout::build(spec).ok());
  spec.sections[0].rows[0].seats = 101;
  EXPECT_FALSE(Layout::build(spec).ok());
}

TEST(Time, Rfc3339RoundTrips) {
  auto t = parse_rfc3339("2026-12-01T20:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-12-01T20:00:00.000Z");
  EXPECT_EQ(*parse_rfc3339("2026-12-01T21:30:00.5+01:30"), *t + Millis(500));
  EXPECT_FALSE(parse_rfc3339("2026-13-01T20:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-01 20:00"));
  EXPECT_FALSE(parse_rfc3339("2026-12-01T20:00:00"));
}
