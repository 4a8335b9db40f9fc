// The waiting room's pure rules: the admission budget, the measured release rate, the wait estimate
// and the settings' bounds.
#include "core/waiting_room.hpp"

#include <gtest/gtest.h>

using namespace ticketd;
using namespace ticketd::core;

namespace {
AdmissionInput input(uint32_t available, uint32_t expiring, uint64_t outstanding, uint32_t batch) {
  AdmissionInput in;
  in.stock = Stock{available, expiring, 0, 0};
  in.tickets_per_user_max = 4;
  in.admitted_outstanding = outstanding;
  in.batch_size = batch;
  return in;
}
}  // namespace

TEST(AdmissionBudget, PlentyOfStockAdmitsExactlyOneBatch) {
  EXPECT_EQ(admission_budget(input(50'000, 0, 0, 1000)).admit, 1000u);
}

TEST(AdmissionBudget, NeverAdmitsMoreThanTheSeatsLeftCanServe) {
  // 10 seats, basket 4 (the per-user limit, nothing bought yet): ceil(10 / 4) = 3 people.
  const Admission a = admission_budget(input(10, 0, 0, 1000));
  EXPECT_EQ(a.admit, 3u);
  EXPECT_DOUBLE_EQ(a.basket, 4.0);
  EXPECT_FALSE(a.sold_out);
}

TEST(AdmissionBudget, AdmittedPeopleWithoutAHoldAlreadyCountAgainstTheStock) {
  EXPECT_EQ(admission_budget(input(10, 0, 2, 1000)).admit, 1u);
  EXPECT_EQ(admission_budget(input(10, 0, 3, 1000)).admit, 0u);
  EXPECT_EQ(admission_budget(input(10, 0, 30, 1000)).admit, 0u);
}

TEST(AdmissionBudget, SeatsAboutToExpireCountAsStock) {
  EXPECT_EQ(admission_budget(input(0, 8, 0, 1000)).admit, 2u);
  EXPECT_FALSE(admission_budget(input(0, 8, 0, 1000)).sold_out);
}

TEST(AdmissionBudget, UsesTheRealAverageBasketWhenThereIsOne) {
  AdmissionInput in = input(100, 0, 0, 1000);
  in.stock.basket_seats = 30;  // 15 holds and sales of 2 seats on average
  in.stock.baskets = 15;
  const Admission a = admission_budget(in);
  EXPECT_DOUBLE_EQ(a.basket, 2.0);
  EXPECT_EQ(a.admit, 50u);
}

TEST(AdmissionBudget, NothingLeftIsSoldOutAndAdmitsNobody) {
  const Admission a = admission_budget(input(0, 0, 0, 1000));
  EXPECT_TRUE(a.sold_out);
  EXPECT_EQ(a.admit, 0u);
  // One seat back: not sold out, one person.
  EXPECT_FALSE(admission_budget(input(1, 0, 0, 1000)).sold_out);
  EXPECT_EQ(admission_budget(input(1, 0, 0, 1000)).admit, 1u);
}

TEST(ReleaseHistory, RateIsAdmittedPerSecondOverTheRecentTicks) {
  ReleaseHistory h;
  EXPECT_FALSE(h.rate_per_s(Millis(10'000)).has_value());
  const TimeMs t0 = from_unix_ms(0);
  h.record(t0, 100);
  EXPECT_DOUBLE_EQ(*h.rate_per_s(Millis(10'000)), 10.0);
  h.record(t0 + Millis(10'000), 0);  // paused by stock: the rate halves
  EXPECT_DOUBLE_EQ(*h.rate_per_s(Millis(10'000)), 5.0);
  for (size_t i = 0; i < limits::queue_rate_ticks; ++i) h.record(t0, 20);  // old ticks fall out
  EXPECT_DOUBLE_EQ(*h.rate_per_s(Millis(10'000)), 2.0);
  EXPECT_EQ(h.ticks(), limits::queue_rate_ticks);
}

TEST(EstimateWait, IsPositionOverRatePlusTheLeadTime) {
  EXPECT_EQ(estimate_wait_s(100, 10.0, Millis(0)), 10);
  EXPECT_EQ(estimate_wait_s(101, 10.0, Millis(0)), 11);  // rounded up
  EXPECT_EQ(estimate_wait_s(100, 10.0, Millis(5'000)), 15);
  EXPECT_FALSE(estimate_wait_s(100, 0.0, Millis(0)).has_value());  // paused: no honest number
}

TEST(RetryAfter, IsATenthOfTheWaitWithinBounds) {
  EXPECT_EQ(retry_after_s(600, Millis(30'000)), 30);   // capped by the interval
  EXPECT_EQ(retry_after_s(100, Millis(30'000)), 10);
  EXPECT_EQ(retry_after_s(3, Millis(30'000)), 1);      // at least 1
  EXPECT_EQ(retry_after_s(100'000, Millis(3'600'000)), 60);  // at most 60
  EXPECT_EQ(retry_after_s(std::nullopt, Millis(5'000)), 5);
}

TEST(WaitingRoomSettings, BoundsAreEnforcedAtEachEdge) {
  WaitingRoomSettings s;
  s.enabled = true;
  EXPECT_TRUE(validate_waiting_room(s).ok());
  auto with = [&](auto change) {
    WaitingRoomSettings c = s;
    change(c);
    return validate_waiting_room(c).ok();
  };
  EXPECT_FALSE(with([](auto& c) { c.batch_size = 0; }));
  EXPECT_TRUE(with([](auto& c) { c.batch_size = 1; }));
  EXPECT_TRUE(with([](auto& c) { c.batch_size = limits::queue_batch_size_max; }));
  EXPECT_FALSE(with([](auto& c) { c.batch_size = limits::queue_batch_size_max + 1; }));
  EXPECT_FALSE(with([](auto& c) { c.release_interval = Millis(999); }));
  EXPECT_TRUE(with([](auto& c) { c.release_interval = Millis(1000); }));
  EXPECT_FALSE(with([](auto& c) { c.release_interval = Millis(3'600'001); }));
  EXPECT_FALSE(with([](auto& c) { c.active_window = Millis(999); }));
  EXPECT_TRUE(with([](auto& c) { c.active_window = Millis(86'400'000); }));
  EXPECT_FALSE(with([](auto& c) { c.active_window = Millis(86'400'001); }));
  EXPECT_TRUE(with([](auto& c) { c.opens_before = Millis(0); }));
  EXPECT_FALSE(with([](auto& c) { c.opens_before = Millis(-1); }));
  EXPECT_FALSE(with([](auto& c) { c.opens_before = Millis(7 * 86'400'000LL + 1); }));
}
