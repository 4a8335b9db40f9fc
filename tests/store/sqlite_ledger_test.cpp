// The embedded store against a real SQLite file: durability across reopen, concurrent holds through
// group commit, and the offline audit.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "app/catalog.hpp"
#include "core/limits.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace ticketd;
using namespace ticketd::core;
using namespace ticketd::store::sqlite;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("ticketd-store-test-" + std::to_string(::getpid()) + "-" +
                                                     std::to_string(reinterpret_cast<uintptr_t>(this)));
    std::filesystem::remove_all(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

struct Fixture {
  Database db;
  SqliteCatalogStore catalog_store{db};
  SqliteLedger ledger{db};
  SystemClock clock;
  app::Catalog catalog{catalog_store, ledger, clock};
  explicit Fixture(const std::string& dir) : db(dir, nullptr) {}

  Event make_event(uint32_t rows, uint32_t seats) {
    LayoutSpec spec{"Hall", {{"Main", "std", {}}}};
    for (uint32_t r = 0; r < rows; ++r) spec.sections[0].rows.push_back({"R" + std::to_string(r), seats, {}, {}, {}});
    auto venue = catalog.create_venue(spec);
    EXPECT_TRUE(venue.ok());
    Event e;
    e.name = "Show";
    e.venue_id = (*venue)->id;
    e.on_sale_at = clock.now() - Millis(1000);
    e.starts_at = clock.now() + std::chrono::days(1);
    e.currency = "EUR";
    e.prices = {{"std", 1000}};
    e.max_tickets_per_user = 100;
    return *catalog.create_event(e);
  }
};

}  // namespace

TEST(SqliteLedger, HoldsAndSalesSurviveReopen) {
  TempDir dir;
  EventId event_id;
  BookingId booking_id;
  {
    Fixture f(dir.path.string());
    Event e = f.make_event(2, 10);
    event_id = e.id;
    auto layout = f.catalog.venue(e.venue_id);
    auto held = f.ledger.hold_seats(e, (*layout)->layout, HoldRequest{1, {0, 1}, std::nullopt, Millis(600'000)},
                                    f.clock.now());
    ASSERT_TRUE(held.ok());
    auto pending = f.ledger.begin_checkout(held->id, 1, CheckoutStart{"k1", 2000, "EUR", "pm_card_visa"}, f.clock.now());
    ASSERT_TRUE(pending.ok());
    EXPECT_EQ(pending->status, BookingStatus::PendingPayment);
    auto settled = f.ledger.settle_payment(
        pending->booking_id, PaymentOutcome{PaymentOutcome::Kind::Succeeded, "pi_1", "", "", "evt_1"}, f.clock.now());
    ASSERT_TRUE(settled.ok());
    EXPECT_EQ(settled->booking.status, BookingStatus::Confirmed);
    EXPECT_FALSE(settled->refund_needed);
    EXPECT_TRUE(f.ledger.payment_event_seen("evt_1"));
    booking_id = settled->booking.id;
    ASSERT_TRUE(f.ledger.hold_seats(e, (*layout)->layout, HoldRequest{2, {5}, std::nullopt, Millis(600'000)},
                                    f.clock.now()).ok());
  }
  Fixture f(dir.path.string());
  auto e = f.catalog.event(event_id);
  ASSERT_TRUE(e.ok());
  auto map = f.ledger.seat_map(*e, f.clock.now());
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->status.substr(0, 6), "SSAAAH");
  EXPECT_EQ(f.ledger.find_booking(booking_id, 1)->status, BookingStatus::Confirmed);
  EXPECT_EQ(f.ledger.find_booking(booking_id, 2).error().code, Code::NotFound);
  auto record = f.ledger.find_checkout(1, "k1");
  ASSERT_TRUE(record);
  EXPECT_EQ(record->booking_id, booking_id);
  EXPECT_EQ(record->payment_status, "SUCCEEDED");
  std::string report;
  EXPECT_TRUE(verify_data_dir(dir.path.string(), f.clock.now(), report)) << report;
}

TEST(SqliteLedger, ConcurrentHoldsNeverShareASeat) {
  TempDir dir;
  Fixture f(dir.path.string());
  Event e = f.make_event(4, 25);
  auto venue = f.catalog.venue(e.venue_id);
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      for (SeatId s = 0; s < 100; ++s) {
        auto r = f.ledger.hold_seats(e, (*venue)->layout, HoldRequest{t + 1, {s}, std::nullopt, Millis(600'000)},
                                     f.clock.now());
        if (r.ok()) ++won;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 100);
  std::string report;
  EXPECT_TRUE(verify_data_dir(dir.path.string(), f.clock.now(), report)) << report;
}

TEST(SqliteLedger, ReleasedHoldAnswersReleasedAndFreesTheSeat) {
  TempDir dir;
  Fixture f(dir.path.string());
  Event e = f.make_event(1, 5);
  auto venue = f.catalog.venue(e.venue_id);
  auto held = f.ledger.hold_seats(e, (*venue)->layout, HoldRequest{1, {2}, std::nullopt, Millis(600'000)}, f.clock.now());
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(f.ledger.release_hold(held->id, 1, f.clock.now()).ok());
  EXPECT_EQ(f.ledger.find_hold(held->id, 1, f.clock.now())->state, HoldState::Released);
  EXPECT_EQ(f.ledger.seat_map(e, f.clock.now())->status, "AAAAA");
}

TEST(SqliteLedger, SweeperMarksLapsedHoldsExpiredOnDisk) {
  TempDir dir;
  Fixture f(dir.path.string());
  Event e = f.make_event(1, 5);
  auto venue = f.catalog.venue(e.venue_id);
  const TimeMs t = f.clock.now();
  auto held = f.ledger.hold_seats(e, (*venue)->layout, HoldRequest{1, {0, 1}, std::nullopt, Millis(1000)}, t);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(f.ledger.sweep_expired(t + Millis(999)), 0u);
  EXPECT_EQ(f.ledger.sweep_expired(t + Millis(1000)), 1u);
  EXPECT_EQ(f.ledger.sweep_expired(t + Millis(2000)), 0u);
  EXPECT_EQ(f.ledger.find_hold(held->id, 1, t + Millis(2000))->state, HoldState::Expired);
  EXPECT_EQ(f.ledger.seat_map(e, t + Millis(2000))->status, "AAAAA");
}

TEST(SqliteLedger, LapsedHoldIsNotRestoredAfterReopen) {
  TempDir dir;
  EventId event_id;
  const TimeMs t = SystemClock().now();
  {
    Fixture f(dir.path.string());
    Event e = f.make_event(1, 5);
    event_id = e.id;
    auto venue = f.catalog.venue(e.venue_id);
    ASSERT_TRUE(f.ledger.hold_seats(e, (*venue)->layout, HoldRequest{1, {3}, std::nullopt, Millis(50)}, t).ok());
  }
  Fixture f(dir.path.string());
  auto e = f.catalog.event(event_id);
  EXPECT_EQ(f.ledger.seat_map(*e, t + Millis(50))->status, "AAAAA");
}

TEST(SqliteLedger, LatePaymentSellsFreeSeatsAndRefundsTakenOnes) {
  TempDir dir;
  Fixture f(dir.path.string());
  Event e = f.make_event(1, 6);
  auto venue = f.catalog.venue(e.venue_id);
  const TimeMs t = f.clock.now();
  auto hold_request = [](UserId u, std::vector<SeatId> seats) {
    return HoldRequest{u, std::move(seats), std::nullopt, Millis(1000)};
  };
  auto a = f.ledger.hold_seats(e, (*venue)->layout, hold_request(1, {0}), t);
  auto b = f.ledger.hold_seats(e, (*venue)->layout, hold_request(2, {1}), t);
  ASSERT_TRUE(a.ok() && b.ok());
  auto pa = f.ledger.begin_checkout(a->id, 1, CheckoutStart{"ka", 1000, "EUR", "pm"}, t);
  auto pb = f.ledger.begin_checkout(b->id, 2, CheckoutStart{"kb", 1000, "EUR", "pm"}, t);
  ASSERT_TRUE(pa.ok() && pb.ok());
  // Both pins lapse; seat 1 is then taken by someone else.
  const TimeMs late = t + Millis(1000) + limits::checkout_pin_max;
  ASSERT_TRUE(f.ledger.hold_seats(e, (*venue)->layout, hold_request(3, {1}), late).ok());
  using Kind = PaymentOutcome::Kind;
  auto sa = f.ledger.settle_payment(pa->booking_id, {Kind::Succeeded, "pi_a", "", "", ""}, late);
  auto sb = f.ledger.settle_payment(pb->booking_id, {Kind::Succeeded, "pi_b", "", "", ""}, late);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_EQ(sa->booking.status, BookingStatus::Confirmed);
  EXPECT_FALSE(sa->refund_needed);
  EXPECT_EQ(sb->booking.status, BookingStatus::Failed);
  EXPECT_TRUE(sb->refund_needed);
  EXPECT_EQ(f.ledger.payments_to_reconcile(late, 10).size(), 1u);  // the refund still to make
  ASSERT_TRUE(f.ledger.record_refund(pb->booking_id, "re_b").ok());
  EXPECT_TRUE(f.ledger.payments_to_reconcile(late, 10).empty());
  // Settling twice changes nothing.
  auto again = f.ledger.settle_payment(pa->booking_id, {Kind::Declined, "pi_a", "x", "", ""}, late);
  EXPECT_EQ(again->booking.status, BookingStatus::Confirmed);
  EXPECT_EQ(f.ledger.seat_map(e, late)->status, "SH" "AAAA");
  std::string report;
  EXPECT_TRUE(verify_data_dir(dir.path.string(), late, report)) << report;
}

TEST(SqliteLedger, DeclineFreesSeatsAtOnceAndPendingSurvivesReopen) {
  TempDir dir;
  BookingId pending_id;
  EventId event_id;
  {
    Fixture f(dir.path.string());
    Event e = f.make_event(1, 4);
    event_id = e.id;
    auto venue = f.catalog.venue(e.venue_id);
    auto h1 = f.ledger.hold_seats(e, (*venue)->layout, HoldRequest{1, {0}, std::nullopt, Millis(600'000)}, f.clock.now());
    auto h2 = f.ledger.hold_seats(e, (*venue)->layout, HoldRequest{1, {1}, std::nullopt, Millis(600'000)}, f.clock.now());
    auto p1 = f.ledger.begin_checkout(h1->id, 1, CheckoutStart{"k1", 1000, "EUR", "pm"}, f.clock.now());
    auto p2 = f.ledger.begin_checkout(h2->id, 1, CheckoutStart{"k2", 1000, "EUR", "pm"}, f.clock.now());
    ASSERT_TRUE(p1.ok() && p2.ok());
    auto declined = f.ledger.settle_payment(p1->booking_id,
                                            {PaymentOutcome::Kind::Declined, "pi_1", "generic_decline", "no", ""},
                                            f.clock.now());
    EXPECT_EQ(declined->booking.status, BookingStatus::Failed);
    EXPECT_EQ(f.ledger.seat_map(e, f.clock.now())->status, "AHAA");
    pending_id = p2->booking_id;
  }
  Fixture f(dir.path.string());
  auto e = f.catalog.event(event_id);
  EXPECT_EQ(f.ledger.seat_map(*e, f.clock.now())->status, "AHAA");
  auto settled = f.ledger.settle_payment(pending_id, {PaymentOutcome::Kind::Succeeded, "pi_2", "", "", ""},
                                         f.clock.now());
  EXPECT_EQ(settled->booking.status, BookingStatus::Confirmed);
  EXPECT_EQ(f.ledger.seat_map(*e, f.clock.now())->status, "ASAA");
}
