// The organizer's rules decided in core: event edits and postponements (core/event_edit.hpp), seat
// refunds (core/seat_refund.hpp), general-admission areas and geometry (core/layout.hpp), and the
// seat lists stores keep as text (core/seat_csv.hpp).
#include <gtest/gtest.h>

#include "core/event_edit.hpp"
#include "core/layout.hpp"
#include "core/seat_csv.hpp"
#include "core/seat_refund.hpp"

namespace ticketd::core {
namespace {

constexpr TimeMs kNow{Millis(1'800'000'000'000)};

Layout two_tiers() {
  LayoutSpec spec{"Hall", {}, {}};
  spec.sections.push_back(SectionSpec{"Front", "premium", {RowSpec{"A", 2, {}, {}, {}}}, {}, false});
  spec.sections.push_back(SectionSpec{"Back", "standard", {RowSpec{"A", 3, {}, {}, {}}}, {}, false});
  return *Layout::build(spec);
}

Event event() {
  Event e;
  e.id = 1;
  e.prices = {{"premium", 9000}, {"standard", 4000}};
  e.on_sale_at = kNow - Millis(3'600'000);
  e.starts_at = kNow + Millis(86'400'000);
  return e;
}

TEST(EventEdit, APriceMovesOnlyWhileItsTierIsUntouched) {
  const Layout layout = two_tiers();
  EventPatch patch;
  patch.prices = {{"premium", 9500}};
  EXPECT_TRUE(check_event_edit(event(), layout, "AAAAA", patch));
  EXPECT_EQ(check_event_edit(event(), layout, "HAAAA", patch).error().code, Code::PriceLocked);
  EXPECT_EQ(check_event_edit(event(), layout, "ASAAA", patch).error().code, Code::PriceLocked);
  EXPECT_TRUE(check_event_edit(event(), layout, "AASSH", patch));  // only the other tier is busy
  patch.prices = {{"premium", 9000}};                               // unchanged: always fine
  EXPECT_TRUE(check_event_edit(event(), layout, "SSSSS", patch));
  patch.prices = {{"balcony", 1}};
  EXPECT_EQ(check_event_edit(event(), layout, "AAAAA", patch).error().code, Code::InvalidRequest);
}

TEST(EventEdit, ACancelledEventKeepsItsWordsButMayBeUnpublished) {
  Event e = event();
  e.cancelled_at = kNow;
  EventPatch words;
  words.name = "Back on";
  EXPECT_EQ(check_event_edit(e, two_tiers(), "AAAAA", words).error().code, Code::EventCancelled);
  EventPatch hide;
  hide.published = false;
  EXPECT_TRUE(check_event_edit(e, two_tiers(), "AAAAA", hide));
}

TEST(EventEdit, TextLimits) {
  EXPECT_TRUE(validate_event_text(std::string(2000, 'x'), "https://img.example/a.jpg"));
  EXPECT_FALSE(validate_event_text(std::string(2001, 'x'), ""));
  EXPECT_FALSE(validate_event_text("", "http://img.example/a.jpg"));
  EXPECT_FALSE(validate_event_text("", "https://img.example/a b.jpg"));
  EXPECT_FALSE(validate_event_text("\xff", ""));
}

TEST(Postponement, ANewFutureDateAfterTheOnSaleTime) {
  const Event e = event();
  auto p = plan_postponement(e, e.starts_at + Millis(1000), std::nullopt, kNow);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->on_sale_at, e.on_sale_at);
  EXPECT_EQ(plan_postponement(e, e.starts_at, std::nullopt, kNow).error().code, Code::InvalidRequest);
  EXPECT_EQ(plan_postponement(e, kNow - Millis(1), std::nullopt, kNow).error().code, Code::InvalidRequest);
  EXPECT_EQ(plan_postponement(e, kNow + Millis(10), kNow + Millis(10), kNow).error().code, Code::InvalidRequest);
  EXPECT_EQ(plan_postponement(e, e.starts_at + Millis(1), std::nullopt, e.starts_at).error().code, Code::EventStarted);
  Event cancelled = e;
  cancelled.cancelled_at = kNow;
  EXPECT_EQ(plan_postponement(cancelled, e.starts_at + Millis(1), std::nullopt, kNow).error().code,
            Code::EventCancelled);
}

TEST(SeatRefund, EachSeatAtItsTiersPriceNeverMoreThanWhatRemains) {
  Booking b;
  b.status = BookingStatus::Confirmed;
  b.seats = {0, 1, 2};
  b.total_amount = 22000;
  auto r = plan_seat_refund(b, {2, 0}, event(), two_tiers(), 0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seats, (std::vector<SeatId>{0, 2}));
  EXPECT_EQ(r->amount, 13000);
  EXPECT_EQ(plan_seat_refund(b, {0, 2}, event(), two_tiers(), 15000)->amount, 7000);  // capped at what remains
  EXPECT_EQ(plan_seat_refund(b, {3}, event(), two_tiers(), 0).error().code, Code::InvalidSeat);
  EXPECT_EQ(plan_seat_refund(b, {}, event(), two_tiers(), 0).error().code, Code::InvalidRequest);
  EXPECT_EQ(plan_seat_refund(b, {1, 1}, event(), two_tiers(), 0).error().code, Code::InvalidRequest);
  b.status = BookingStatus::Cancelled;
  EXPECT_EQ(plan_seat_refund(b, {1}, event(), two_tiers(), 0).error().code, Code::BookingNotConfirmed);
}

TEST(GeneralAdmission, AnAreaIsPlacesInRowsOfAtMostAThousandAndNamedByItsArea) {
  const SectionSpec area = general_admission_area("Floor", "floor", 2500);
  ASSERT_EQ(area.rows.size(), 3u);
  EXPECT_EQ(area.rows[2].seats, 500u);
  EXPECT_EQ(area.capacity(), 2500u);
  LayoutSpec spec{"Club", {area}, {}};
  auto layout = Layout::build(spec);
  ASSERT_TRUE(layout);
  const SeatLabel l = *layout->label(1700);
  EXPECT_TRUE(l.general_admission);
  EXPECT_EQ(l.section, "Floor");
  EXPECT_EQ(l.number, 0u);
  spec.sections[0].rows[0].accessible = {1};
  EXPECT_FALSE(Layout::build(spec));  // an area has no seat flags
}

TEST(Geometry, EverySectionOrNoneAndWithinLimits) {
  LayoutSpec spec{"Arena", {}, {}};
  spec.sections.push_back(SectionSpec{"L", "t", {RowSpec{"A", 4, {}, {}, {}}}, SectionGeometry{}, false});
  spec.sections.push_back(SectionSpec{"R", "t", {RowSpec{"A", 4, {}, {}, {}}}, std::nullopt, false});
  EXPECT_FALSE(Layout::build(spec));
  spec.sections[1].geometry = SectionGeometry{};
  EXPECT_TRUE(Layout::build(spec));
  spec.sections[1].geometry->curve_c = 18'001;
  EXPECT_FALSE(Layout::build(spec));
  spec.sections[1].geometry->curve_c = 4000;
  spec.stage = StageShape{0, -500, 0, 300, "Stage"};
  EXPECT_FALSE(Layout::build(spec));  // a stage of no width
}

TEST(SeatCsv, RoundTripsAndSkipsWhatIsNotASeat) {
  EXPECT_EQ(seat_csv({3, 4, 17}), "3,4,17");
  EXPECT_EQ(parse_seat_csv("3,4,17"), (std::vector<SeatId>{3, 4, 17}));
  EXPECT_EQ(parse_seat_csv(""), std::vector<SeatId>{});
  EXPECT_EQ(parse_seat_csv("1,,x,-2,99999999999,5"), (std::vector<SeatId>{1, 5}));
}

}  // namespace
}  // namespace ticketd::core
