// The waiting list's rules (core/waitlist.hpp): which free seats an entry takes, the estimate, and the
// validation of a join and of the organizer's settings.
#include "core/waitlist.hpp"

#include <gtest/gtest.h>

namespace ticketd::core {
namespace {

// Two sections: "Front" (tier "gold", rows A and B of 4 seats: ids 0-3, 4-7) and "Back" (tier "std",
// row A of 4 seats: ids 8-11).
Layout venue() {
  LayoutSpec spec{"Hall",
                  {SectionSpec{"Front", "gold", {RowSpec{"A", 4, {}, {}, {}}, RowSpec{"B", 4, {}, {}, {}}}, {}, false},
                   SectionSpec{"Back", "std", {RowSpec{"A", 4, {}, {}, {}}}, {}, false}},
                  {}};
  auto layout = Layout::build(spec);
  EXPECT_TRUE(layout.ok());
  return *layout;
}

TEST(WaitlistSeats, TogetherNeedsAdjacentSeatsInOneRow) {
  const Layout l = venue();
  // 3 and 4 are consecutive ids but the end of row A and the start of row B: not together.
  EXPECT_FALSE(seats_for(l, WaitlistWant{2, true, ""}, {3, 4}));
  EXPECT_EQ(seats_for(l, WaitlistWant{2, true, ""}, {0, 3, 5, 6}), (std::vector<SeatId>{5, 6}));
  EXPECT_EQ(seats_for(l, WaitlistWant{3, true, ""}, {1, 2, 3, 9, 10}), (std::vector<SeatId>{1, 2, 3}));
  // 7 (Front B4) and 8 (Back A1) are consecutive ids in different sections.
  EXPECT_FALSE(seats_for(l, WaitlistWant{2, true, ""}, {7, 8}));
}

TEST(WaitlistSeats, AnyTakesABlockWhenThereIsOneElseTheLongestRunsFirst) {
  const Layout l = venue();
  EXPECT_EQ(seats_for(l, WaitlistWant{2, false, ""}, {0, 5, 6}), (std::vector<SeatId>{5, 6}));
  EXPECT_EQ(seats_for(l, WaitlistWant{3, false, ""}, {0, 5, 6, 10}), (std::vector<SeatId>{0, 5, 6}));
  EXPECT_EQ(seats_for(l, WaitlistWant{1, false, ""}, {9}), (std::vector<SeatId>{9}));
  EXPECT_FALSE(seats_for(l, WaitlistWant{4, false, ""}, {0, 5, 6}));
  EXPECT_FALSE(seats_for(l, WaitlistWant{1, false, ""}, {}));
}

TEST(WaitlistSeats, ATierKeepsToItsSeats) {
  const Layout l = venue();
  EXPECT_EQ(seats_for(l, WaitlistWant{1, false, "std"}, {0, 1, 11}), (std::vector<SeatId>{11}));
  EXPECT_FALSE(seats_for(l, WaitlistWant{2, false, "std"}, {0, 1, 11}));
  EXPECT_EQ(seats_for(l, WaitlistWant{2, true, "gold"}, {0, 1, 9, 10}), (std::vector<SeatId>{0, 1}));
  // Seats outside the layout are ignored, never returned.
  EXPECT_FALSE(seats_for(l, WaitlistWant{1, false, ""}, {12, 400}));
}

TEST(WaitlistEstimate, FollowsTheLastHoursOffersAndSaysNothingWithoutThem) {
  EXPECT_EQ(waitlist_estimate_s(1, 0), std::nullopt);
  EXPECT_EQ(waitlist_estimate_s(0, 10), std::nullopt);
  EXPECT_EQ(waitlist_estimate_s(1, 3600), 1);
  EXPECT_EQ(waitlist_estimate_s(10, 60), 600);  // one offer a minute: ten minutes for ten places
  EXPECT_EQ(waitlist_estimate_s(1, 7), 515);    // rounded up, never sooner than the pace says
}

TEST(WaitlistRules, AJoinWantsAQuantityWithinTheLimitAndAPricedTier) {
  Event e;
  e.max_tickets_per_user = 4;
  e.prices = {{"gold", 9000}, {"std", 5000}};
  EXPECT_TRUE(validate(WaitlistWant{4, true, "gold"}, e));
  EXPECT_TRUE(validate(WaitlistWant{1, false, ""}, e));
  EXPECT_EQ(validate(WaitlistWant{0, true, ""}, e).error().code, Code::InvalidRequest);
  EXPECT_EQ(validate(WaitlistWant{5, true, ""}, e).error().code, Code::InvalidRequest);
  EXPECT_EQ(validate(WaitlistWant{1, true, "vip"}, e).error().code, Code::InvalidRequest);
}

TEST(WaitlistRules, SettingsAreBounded) {
  EXPECT_TRUE(validate(WaitlistSettings{}));
  EXPECT_FALSE(validate(WaitlistSettings{true, true, kOfferTtlMinS - 1, 0}));
  EXPECT_FALSE(validate(WaitlistSettings{true, true, kOfferTtlMaxS + 1, 0}));
  EXPECT_FALSE(validate(WaitlistSettings{true, true, 1800, kDrawWindowMaxS + 1}));
  EXPECT_TRUE(validate(WaitlistSettings{false, false, kOfferTtlMinS, kDrawWindowMaxS}));
}

TEST(WaitlistRules, StatesReadBackAndUnknownOnesAreNotRead) {
  for (auto s : {WaitlistState::Waiting, WaitlistState::Offered, WaitlistState::Fulfilled, WaitlistState::Lapsed,
                 WaitlistState::Left, WaitlistState::Skipped})
    EXPECT_EQ(waitlist_state_from(to_string(s)), s);
  EXPECT_EQ(waitlist_state_from("waiting"), std::nullopt);
  EXPECT_TRUE(is_active(WaitlistState::Offered));
  EXPECT_FALSE(is_active(WaitlistState::Fulfilled));
}

}  // namespace
}  // namespace ticketd::core
