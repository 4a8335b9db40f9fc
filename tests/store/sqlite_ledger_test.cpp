// The embedded store against a real SQLite file: durability across reopen, concurrent holds through
// group commit, and the offline audit.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "app/catalog.hpp"
#include "app/ticket_codes.hpp"
#include "core/limits.hpp"
#include "store/sqlite/event_refunds.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

using namespace ticketd;
using namespace ticketd::core;
using namespace ticketd::store::sqlite;

namespace {

using test_support::TempDir;  // each fixture's data dir

struct Fixture {
  Database db;
  SqliteCatalogStore catalog_store{db};
  app::RandomTicketIds ticket_ids;
  SqliteLedger ledger{db, ticket_ids};
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
  EXPECT_EQ(f.ledger.payments_to_reconcile(late, 0, 10).size(), 1u);  // the refund still to make
  ASSERT_TRUE(f.ledger.record_refund(pb->booking_id, "re_b").ok());
  EXPECT_TRUE(f.ledger.payments_to_reconcile(late, 0, 10).empty());
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

// The cap on live holds per user across events (HoldRequest::active_holds_max).
namespace {

struct CapFixture : Fixture {
  std::vector<Event> events;
  std::vector<std::shared_ptr<const Venue>> venues;
  CapFixture(const std::string& dir, size_t event_count) : Fixture(dir) {
    for (size_t i = 0; i < event_count; ++i) {
      events.push_back(make_event(1, 4));
      venues.push_back(*catalog.venue(events.back().venue_id));
    }
  }
  Result<Hold> hold(UserId user, size_t event, SeatId seat, uint32_t cap, TimeMs now, Millis ttl = Millis(600'000)) {
    HoldRequest r{user, {seat}, std::nullopt, ttl};
    r.active_holds_max = cap;
    return ledger.hold_seats(events[event], venues[event]->layout, r, now);
  }
};

Code code_of(const Result<Hold>& r) { return r.ok() ? Code::InvalidRequest : r.error().code; }

}  // namespace

TEST(SqliteLedger, ActiveHoldsAreCappedPerUserAcrossEvents) {
  TempDir dir;
  CapFixture f(dir.path.string(), 4);
  const TimeMs t = f.clock.now();
  auto lapsing = f.hold(1, 0, 0, 3, t, Millis(1000));
  auto second = f.hold(1, 1, 0, 3, t);
  ASSERT_TRUE(lapsing.ok() && second.ok() && f.hold(1, 2, 0, 3, t).ok());
  auto refused = f.hold(1, 3, 0, 3, t);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Code::ActiveHoldsLimitExceeded);
  EXPECT_NE(refused.error().message.find("at most 3 active holds"), std::string::npos) << refused.error().message;
  EXPECT_EQ(code_of(f.hold(1, 0, 1, 3, t)), Code::ActiveHoldsLimitExceeded);  // in an event already held, too
  // The refused seat stayed free, and another user is not affected.
  EXPECT_EQ(f.ledger.seat_map(f.events[3], t)->status, "AAAA");
  ASSERT_TRUE(f.hold(2, 3, 0, 3, t).ok());
  // A release makes room for exactly one more.
  ASSERT_TRUE(f.ledger.release_hold(second->id, 1, t).ok());
  ASSERT_TRUE(f.hold(1, 3, 1, 3, t).ok());
  EXPECT_EQ(code_of(f.hold(1, 1, 1, 3, t)), Code::ActiveHoldsLimitExceeded);
  // So does a lapse, at the deadline and not a millisecond before.
  EXPECT_EQ(code_of(f.hold(1, 1, 1, 3, t + Millis(999))), Code::ActiveHoldsLimitExceeded);
  ASSERT_TRUE(f.hold(1, 1, 1, 3, t + Millis(1000)).ok());
  EXPECT_EQ(code_of(f.hold(1, 0, 2, 3, t + Millis(1000))), Code::ActiveHoldsLimitExceeded);
}

TEST(SqliteLedger, AHoldInCheckoutCountsUntilItIsSoldOrDeclined) {
  TempDir dir;
  CapFixture f(dir.path.string(), 4);
  const TimeMs t = f.clock.now();
  auto a = f.hold(1, 0, 0, 2, t, Millis(1000));
  auto b = f.hold(1, 1, 0, 2, t, Millis(1000));
  ASSERT_TRUE(a.ok() && b.ok());
  auto pa = f.ledger.begin_checkout(a->id, 1, CheckoutStart{"ka", 1000, "EUR", "pm"}, t);
  auto pb = f.ledger.begin_checkout(b->id, 1, CheckoutStart{"kb", 1000, "EUR", "pm"}, t);
  ASSERT_TRUE(pa.ok() && pb.ok());
  // Past their expiry the pins keep both holds live: still two.
  const TimeMs later = t + Millis(5000);
  EXPECT_EQ(code_of(f.hold(1, 2, 0, 2, later)), Code::ActiveHoldsLimitExceeded);
  f.ledger.sweep_expired(later);  // the sweeper's pass must not drop a pinned hold from the count
  EXPECT_EQ(code_of(f.hold(1, 2, 0, 2, later)), Code::ActiveHoldsLimitExceeded);
  using Kind = PaymentOutcome::Kind;
  ASSERT_EQ(f.ledger.settle_payment(pa->booking_id, {Kind::Succeeded, "pi_a", "", "", ""}, later)->booking.status,
            BookingStatus::Confirmed);
  ASSERT_TRUE(f.hold(1, 2, 0, 2, later).ok());  // a sale is not a hold
  EXPECT_EQ(code_of(f.hold(1, 3, 0, 2, later)), Code::ActiveHoldsLimitExceeded);
  ASSERT_EQ(f.ledger.settle_payment(pb->booking_id, {Kind::Declined, "pi_b", "card_declined", "no", ""}, later)
                ->booking.status,
            BookingStatus::Failed);
  ASSERT_TRUE(f.hold(1, 3, 0, 2, later).ok());
}

TEST(SqliteLedger, TheActiveHoldsCapSurvivesReopen) {
  TempDir dir;
  const TimeMs t = SystemClock().now();
  HoldId first = 0;
  EventId third = 0;
  {
    CapFixture f(dir.path.string(), 3);
    auto h = f.hold(1, 0, 0, 2, t);
    ASSERT_TRUE(h.ok() && f.hold(1, 1, 0, 2, t).ok());
    first = h->id;
    third = f.events[2].id;
  }
  // Reopened, no event loaded yet: the two holds on disk still count.
  Fixture reopened(dir.path.string());
  Event event = *reopened.catalog.event(third);
  auto venue = *reopened.catalog.venue(event.venue_id);
  HoldRequest r{1, {0}, std::nullopt, Millis(600'000)};
  r.active_holds_max = 2;
  EXPECT_EQ(code_of(reopened.ledger.hold_seats(event, venue->layout, r, t)), Code::ActiveHoldsLimitExceeded);
  ASSERT_TRUE(reopened.ledger.release_hold(first, 1, t).ok());
  EXPECT_TRUE(reopened.ledger.hold_seats(event, venue->layout, r, t).ok());
}

TEST(SqliteLedger, ConcurrentHoldsOfOneUserNeverPassTheCap) {
  TempDir dir;
  CapFixture f(dir.path.string(), 4);
  const TimeMs t = f.clock.now();
  constexpr uint32_t kCap = 5;
  std::atomic<int> won{0}, capped{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)  // 16 different seats over 4 events: only the cap can refuse
    threads.emplace_back([&, i] {
      auto r = f.hold(7, static_cast<size_t>(i / 4), static_cast<SeatId>(i % 4), kCap, t);
      if (r.ok()) ++won;
      else if (r.error().code == Code::ActiveHoldsLimitExceeded) ++capped;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(won.load(), static_cast<int>(kCap));
  EXPECT_EQ(capped.load(), 16 - static_cast<int>(kCap));
  std::string report;
  EXPECT_TRUE(verify_data_dir(dir.path.string(), t, report)) << report;
}

// The refunding pass runs about once a second whether or not an event is cancelled: its read starts
// from the cancelled events and reaches bookings only through their event. Joined the other way, SQLite
// walked every booking ever made, by id, each pass.
TEST(SqliteLedger, TheRefundPassReadsBookingsOnlyOfCancelledEvents) {
  TempDir dir;
  Fixture f(dir.path.string());
  static const std::string plan_sql = std::string("EXPLAIN QUERY PLAN ") + SqliteEventRefunds::kToRefundSql;
  auto reader = f.db.readers().acquire();
  auto& st = reader->prepare(plan_sql.c_str());
  st.bind(1, int64_t{0}).bind(2, int64_t{100});
  std::vector<std::string> steps;  // EXPLAIN QUERY PLAN's rows: id, parent, 0, detail
  while (st.step()) steps.push_back(st.text(3));
  st.reset();
  std::string plan;
  for (const std::string& s : steps) plan += s + "\n";
  ASSERT_GE(steps.size(), 2u) << plan;
  EXPECT_EQ(steps[0].rfind("SCAN x USING INDEX event_entry_cancelled", 0), 0u) << plan;
  EXPECT_NE(steps[1].find("bookings_by_event_status (event_id=?"), std::string::npos) << plan;
}
