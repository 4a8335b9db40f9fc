#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>

#include "core/notification.hpp"

using namespace ticketd;
using namespace ticketd::core;

namespace {
const RetryPolicy kPolicy{Millis(1'000), Millis(60'000), 5};
}

TEST(RetryDelay, DoublesFromTheBaseWithJitterInTheUpperHalf) {
  // jitter 0 gives half the step, the largest jitter the whole step.
  EXPECT_EQ(retry_delay(kPolicy, 1, 0), Millis(500));
  EXPECT_EQ(retry_delay(kPolicy, 1, 500), Millis(1'000));
  EXPECT_EQ(retry_delay(kPolicy, 1, 501), Millis(500));  // wraps: the jitter is taken modulo 501
  EXPECT_EQ(retry_delay(kPolicy, 2, 0), Millis(1'000));
  EXPECT_EQ(retry_delay(kPolicy, 3, 0), Millis(2'000));
  EXPECT_EQ(retry_delay(kPolicy, 4, 0), Millis(4'000));
  EXPECT_EQ(retry_delay(kPolicy, 2, 500), Millis(1'500));  // jitter modulo (spread + 1)
}

TEST(RetryDelay, StaysWithinHalfToFullStepForAnyJitter) {
  for (int32_t failures = 1; failures <= 10; ++failures) {
    const int64_t step = std::min<int64_t>(1'000LL << (failures - 1), 60'000);
    for (uint64_t jitter : std::initializer_list<uint64_t>{0, 1, 12345, 0x9E3779B97F4A7C15ULL, UINT64_MAX}) {
      const Millis d = retry_delay(kPolicy, failures, jitter);
      EXPECT_GE(d.count(), step / 2) << failures << " " << jitter;
      EXPECT_LE(d.count(), step) << failures << " " << jitter;
    }
  }
}

TEST(RetryDelay, IsCappedAndNeverOverflowsAfterManyFailures) {
  EXPECT_EQ(retry_delay(kPolicy, 7, 0), Millis(30'000));  // 64 s step capped at 60 s
  EXPECT_EQ(retry_delay(kPolicy, 100, 0), Millis(30'000));
  EXPECT_LE(retry_delay(kPolicy, 1'000'000, UINT64_MAX), Millis(60'000));
}

TEST(NextTryAt, RetriesUntilAttemptsMaxThenDeadLetters) {
  const TimeMs now = from_unix_ms(1'000'000);
  EXPECT_EQ(next_try_at(kPolicy, 1, now, 0), now + Millis(500));
  EXPECT_TRUE(next_try_at(kPolicy, 4, now, 0).has_value());   // 4 failed of 5 allowed: one more try
  EXPECT_FALSE(next_try_at(kPolicy, 5, now, 0).has_value());  // the 5th failure is the last
  EXPECT_FALSE(next_try_at(kPolicy, 6, now, 0).has_value());
  const RetryPolicy once{Millis(1'000), Millis(1'000), 1};
  EXPECT_FALSE(next_try_at(once, 1, now, 0).has_value());
}

TEST(Phone, AcceptsE164AndEmptyOnly) {
  EXPECT_TRUE(valid_phone(""));
  EXPECT_TRUE(valid_phone("+4915112345678"));
  EXPECT_TRUE(valid_phone("+12025550123"));
  EXPECT_TRUE(valid_phone("+12345678"));           // 8 digits: the shortest
  EXPECT_FALSE(valid_phone("+1234567"));           // 7 digits
  EXPECT_TRUE(valid_phone("+123456789012345"));    // 15 digits: the longest
  EXPECT_FALSE(valid_phone("+1234567890123456"));  // 16
  EXPECT_FALSE(valid_phone("4915112345678"));
  EXPECT_FALSE(valid_phone("+0915112345678"));
  EXPECT_FALSE(valid_phone("+49 151 12345678"));
  EXPECT_FALSE(valid_phone("+49151\n2345678"));
}

TEST(NoticeKind, RoundTripsThroughItsName) {
  for (auto k : {NoticeKind::BookingConfirmed, NoticeKind::BookingCancelled, NoticeKind::PaymentFailed,
                 NoticeKind::HoldExpiring})
    EXPECT_EQ(notice_kind_from(to_string(k)), k);
  EXPECT_FALSE(notice_kind_from("booking_lost").has_value());
}

TEST(Amount, FormatsMinorUnitsByTheCurrencysIso4217Digits) {
  EXPECT_EQ(format_amount(15000, "USD"), "150.00 USD");
  EXPECT_EQ(format_amount(5, "EUR"), "0.05 EUR");
  EXPECT_EQ(format_amount(-1250, "EUR"), "-12.50 EUR");
  // ISO 4217 minor units: a yen has none, a Kuwaiti dinar has fils (1/1000).
  EXPECT_EQ(format_amount(5000, "JPY"), "5000 JPY");
  EXPECT_EQ(format_amount(0, "KRW"), "0 KRW");
  EXPECT_EQ(format_amount(1250, "KWD"), "1.250 KWD");
  EXPECT_EQ(format_amount(7, "BHD"), "0.007 BHD");
  EXPECT_EQ(format_amount(12345, "CLF"), "1.2345 CLF");
  EXPECT_EQ(format_amount(INT64_MIN, "USD"), "-92233720368547758.08 USD");
}
