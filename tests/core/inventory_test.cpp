#include "core/inventory.hpp"

#include <gtest/gtest.h>

using namespace ticketd;
using namespace ticketd::core;

namespace {
const TimeMs kT0 = from_unix_ms(1'800'000'000'000);
const Millis kTtl{600'000};

EventInventory make(uint32_t seats = 10, uint32_t per_user = 4) {
  return EventInventory(InventoryRules{7, seats, per_user, kT0 - Millis(1000), kT0 + std::chrono::days(30)});
}
}  // namespace

TEST(EventInventory, HoldTakesSeatsAllOrNothing) {
  auto inv = make();
  ASSERT_TRUE(inv.hold(1, 100, {0, 1}, kT0, kTtl).ok());
  auto second = inv.hold(2, 200, {1, 2}, kT0, kTtl);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Code::SeatUnavailable);
  EXPECT_EQ(second.error().seats, std::vector<SeatId>{1});
  EXPECT_EQ(inv.status(2), SeatStatus::Available);
  inv.check_invariants();
}

TEST(EventInventory, ExpiredHoldFreesSeatsAtTheDeadline) {
  auto inv = make();
  ASSERT_TRUE(inv.hold(1, 100, {3}, kT0, kTtl).ok());
  inv.advance(kT0 + kTtl - Millis(1));
  EXPECT_EQ(inv.status(3), SeatStatus::Held);
  auto h = inv.hold(2, 200, {3}, kT0 + kTtl, kTtl);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(inv.find_hold(1), std::nullopt);
  inv.check_invariants();
}

// Two threads read the clock, then decide in either order: the one with the older reading must not date
// its hold before the lapse the other one saw (the durable stores refuse a claim made before the
// previous claim's deadline).
TEST(EventInventory, AHoldDecidedWithAnOlderClockReadingIsStampedAtTheLatestTimeSeen) {
  auto inv = make();
  ASSERT_TRUE(inv.hold(1, 100, {3}, kT0, kTtl).ok());
  const TimeMs lapse_seen = kT0 + kTtl + Millis(5);
  inv.advance(lapse_seen);
  auto h = inv.hold(2, 200, {3}, kT0 + kTtl - Millis(20), kTtl);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->created_at, lapse_seen);
  EXPECT_EQ(h->expires_at, lapse_seen + kTtl);
  inv.check_invariants();
}

TEST(EventInventory, TicketLimitCountsHeldAndSold) {
  auto inv = make(10, 4);
  ASSERT_TRUE(inv.hold(1, 100, {0, 1, 2}, kT0, kTtl).ok());
  EXPECT_EQ(inv.hold(2, 100, {3, 4}, kT0, kTtl).error().code, Code::TicketLimitExceeded);
  ASSERT_TRUE(inv.hold(3, 100, {3}, kT0, kTtl).ok());  // exactly at the limit
  ASSERT_TRUE(inv.pin(1, 100, kT0, Millis(1000)).ok());
  ASSERT_TRUE(inv.convert(1, 50, kT0).ok());
  EXPECT_EQ(inv.tickets_of(100), 4u);
  ASSERT_TRUE(inv.cancel_sale(50).ok());
  EXPECT_EQ(inv.tickets_of(100), 1u);
  inv.check_invariants();
}

TEST(EventInventory, RejectsBadSeatsAndSaleWindow) {
  auto inv = make(10);
  EXPECT_EQ(inv.hold(1, 1, {10}, kT0, kTtl).error().code, Code::InvalidSeat);
  EXPECT_EQ(inv.hold(1, 1, {2, 2}, kT0, kTtl).error().code, Code::InvalidRequest);
  EXPECT_EQ(inv.hold(1, 1, {}, kT0, kTtl).error().code, Code::InvalidRequest);
  EXPECT_EQ(inv.hold(1, 1, {1}, kT0 - Millis(5000), kTtl).error().code, Code::SaleNotOpen);
  EXPECT_EQ(inv.hold(1, 1, {1}, kT0 + std::chrono::days(31), kTtl).error().code, Code::SaleNotOpen);
}

TEST(EventInventory, PinnedHoldOutlivesItsDeadlineUpToTheCap) {
  auto inv = make();
  ASSERT_TRUE(inv.hold(1, 100, {0}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.pin(1, 100, kT0 + kTtl - Millis(10), Millis(5000)).ok());
  inv.advance(kT0 + kTtl + Millis(4000));
  EXPECT_EQ(inv.status(0), SeatStatus::Held);
  inv.advance(kT0 + kTtl + Millis(5000));
  EXPECT_EQ(inv.status(0), SeatStatus::Available);
  EXPECT_EQ(inv.convert(1, 9, kT0 + kTtl + Millis(5000)).error().code, Code::HoldExpired);
  inv.check_invariants();
}

TEST(EventInventory, ReleaseByAnotherUserIsNotFound) {
  auto inv = make();
  ASSERT_TRUE(inv.hold(1, 100, {0}, kT0, kTtl).ok());
  EXPECT_EQ(inv.release(1, 200, kT0).error().code, Code::NotFound);
  EXPECT_TRUE(inv.release(1, 100, kT0).ok());
  EXPECT_EQ(inv.status(0), SeatStatus::Available);
}

TEST(EventInventory, DeclineReleasesAndUnpinRestoresDeadline) {
  auto inv = make();
  ASSERT_TRUE(inv.hold(1, 100, {0}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.pin(1, 100, kT0, Millis(1000)).ok());
  EXPECT_EQ(inv.pin(1, 100, kT0, Millis(1000)).error().code, Code::CheckoutInProgress);
  inv.unpin(1, kT0);
  ASSERT_TRUE(inv.pin(1, 100, kT0, Millis(1000)).ok());
  ASSERT_TRUE(inv.release_pinned(1, kT0).ok());
  EXPECT_EQ(inv.status(0), SeatStatus::Available);
  inv.check_invariants();
}

TEST(EventInventory, AListedSeatIsOnOfferAndStaysItsSellersUntilItsBuyerPays) {
  auto inv = make(10, 4);
  ASSERT_TRUE(inv.hold(1, 100, {0, 1}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.convert(1, 50, kT0).ok());
  EXPECT_EQ(inv.list_seat(51, 0).error().code, Code::NotFound);
  EXPECT_EQ(inv.list_seat(50, 2).error().code, Code::InvalidSeat);
  ASSERT_TRUE(inv.list_seat(50, 0).ok());
  ASSERT_TRUE(inv.list_seat(50, 0).ok());  // again: nothing changes
  EXPECT_EQ(inv.status(0), SeatStatus::Available);
  EXPECT_EQ(inv.counts().available, 9u);
  EXPECT_EQ(inv.counts().sold, 1u);
  EXPECT_EQ(inv.hold(2, 100, {0}, kT0, kTtl).error().code, Code::SeatUnavailable);  // its own seller
  ASSERT_TRUE(inv.hold(3, 200, {0, 5}, kT0, kTtl).ok());
  EXPECT_EQ(inv.withdraw_seat(50, 0).error().code, Code::ResaleInProgress);
  EXPECT_EQ(inv.tickets_of(100), 2u);  // still the seller's
  inv.check_invariants();
  ASSERT_TRUE(inv.release(3, 200, kT0).ok());
  EXPECT_EQ(inv.status(0), SeatStatus::Available);  // back to its listing
  EXPECT_EQ(inv.status(5), SeatStatus::Available);
  ASSERT_TRUE(inv.hold(4, 200, {0}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.pin(4, 200, kT0, Millis(120'000)).ok());
  std::vector<EventInventory::Resold> resold;
  ASSERT_TRUE(inv.convert(4, 60, kT0, &resold).ok());
  ASSERT_EQ(resold.size(), 1u);
  EXPECT_EQ(resold[0].seller_booking, 50);
  EXPECT_EQ(resold[0].seller, 100);
  EXPECT_EQ(resold[0].seats, std::vector<SeatId>{0});
  EXPECT_EQ(inv.tickets_of(100), 1u);
  EXPECT_EQ(inv.tickets_of(200), 1u);
  EXPECT_EQ(inv.status(0), SeatStatus::Sold);
  EXPECT_FALSE(inv.is_listed(0));
  EXPECT_EQ(inv.withdraw_seat(50, 0).error().code, Code::InvalidSeat);
  EXPECT_EQ(inv.cancel_seats(50, {0}).error().code, Code::InvalidRequest);  // the sale has one seat left
  inv.check_invariants();
  // A sale cancelled under a buyer's hold of its listed seat: the hold keeps it, then it is free.
  ASSERT_TRUE(inv.list_seat(50, 1).ok());
  ASSERT_TRUE(inv.hold(5, 200, {1}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.cancel_sale(50).ok());
  EXPECT_EQ(inv.status(1), SeatStatus::Held);
  inv.check_invariants();
  ASSERT_TRUE(inv.release(5, 200, kT0).ok());
  EXPECT_EQ(inv.status(1), SeatStatus::Available);
  EXPECT_EQ(inv.counts().available, 9u);
  inv.check_invariants();
}

TEST(EventInventory, ListedSeatsKeptOffOpenSaleGoOnlyToOffers) {
  auto inv = make(10, 4);
  ASSERT_TRUE(inv.hold(1, 100, {0, 1}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.convert(1, 50, kT0).ok());
  EXPECT_TRUE(inv.set_resale_on_open_sale(false).empty());  // nothing listed yet
  ASSERT_TRUE(inv.list_seat(50, 0).ok());
  EXPECT_EQ(inv.status(0), SeatStatus::Sold);  // shown sold: not on open sale
  EXPECT_FALSE(inv.is_free(0));
  EXPECT_EQ(inv.counts().available, 8u);
  EXPECT_EQ(inv.listed_unheld(), std::vector<SeatId>{0});
  EXPECT_EQ(inv.hold(2, 200, {0}, kT0, kTtl).error().code, Code::SeatUnavailable);
  ASSERT_TRUE(inv.hold(3, 200, {0}, kT0, kTtl, /*offer=*/true).ok());
  EXPECT_EQ(inv.status(0), SeatStatus::Held);
  EXPECT_TRUE(inv.listed_unheld().empty());
  EXPECT_EQ(inv.counts().available + inv.counts().held + inv.counts().sold, 10u);
  inv.check_invariants();
  ASSERT_TRUE(inv.release(3, 200, kT0).ok());
  EXPECT_EQ(inv.set_resale_on_open_sale(true), std::vector<SeatId>{0});
  EXPECT_EQ(inv.status(0), SeatStatus::Available);
  EXPECT_EQ(inv.counts().available, 9u);
  inv.check_invariants();
}

TEST(EventInventory, ARestoredListingIsTheBookingsOnly) {
  auto inv = make(10, 4);
  inv.restore_sale(50, 100, {0, 1});
  EXPECT_FALSE(inv.restore_listing(50, 2));
  EXPECT_FALSE(inv.restore_listing(51, 0));
  EXPECT_TRUE(inv.restore_listing(50, 0));
  EXPECT_FALSE(inv.restore_listing(50, 0));
  EXPECT_TRUE(inv.restore_hold(Hold{7, 7, 200, {0}, kT0, kT0 + kTtl, HoldState::Active, 0}));
  EXPECT_FALSE(inv.restore_hold(Hold{8, 7, 100, {1}, kT0, kT0 + kTtl, HoldState::Active, 0}));
  inv.check_invariants();
}

TEST(EventInventory, ASeatRefundNamesSomeOfTheSaleOnceEach) {
  auto inv = make(10, 4);
  ASSERT_TRUE(inv.hold(1, 100, {0, 1, 2}, kT0, kTtl).ok());
  ASSERT_TRUE(inv.pin(1, 100, kT0, Millis(120'000)).ok());
  ASSERT_TRUE(inv.convert(1, 50, kT0).ok());
  EXPECT_EQ(inv.cancel_seats(50, {1, 1}).error().code, Code::InvalidRequest);  // a repeat, not a crash
  EXPECT_EQ(inv.cancel_seats(50, {}).error().code, Code::InvalidRequest);
  EXPECT_EQ(inv.cancel_seats(50, {0, 1, 2}).error().code, Code::InvalidRequest);  // all: a cancellation
  EXPECT_EQ(inv.cancel_seats(50, {3}).error().code, Code::InvalidSeat);
  EXPECT_EQ(inv.cancel_seats(51, {0}).error().code, Code::NotFound);
  ASSERT_TRUE(inv.cancel_seats(50, {1}).ok());
  EXPECT_EQ(inv.status(1), SeatStatus::Available);
  EXPECT_EQ(inv.status(0), SeatStatus::Sold);
  inv.check_invariants();
}
