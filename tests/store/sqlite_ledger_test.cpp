// The embedded store against a real SQLite file: durability across reopen, concurrent holds through
// group commit, and the offline audit.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "app/catalog.hpp"
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
    auto pinned = f.ledger.begin_checkout(held->id, 1, f.clock.now());
    ASSERT_TRUE(pinned.ok());
    auto booking = f.ledger.complete_checkout(*pinned, CheckoutPayment{"k1", 2000, "EUR", "pm_card_visa", "pi_1", true, "", ""},
                                              f.clock.now());
    ASSERT_TRUE(booking.ok());
    booking_id = booking->id;
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
