// The live seat map hub: against the real embedded ledger (random operations, then snapshot +
// changes must equal the ledger's seat map), and on its own for resume, slow consumers and wakes.
#include "support/temp_dir.hpp"
#include "app/seat_stream.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "app/catalog.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "app/ticket_codes.hpp"

using namespace ticketd;
using namespace ticketd::core;
using namespace ticketd::store::sqlite;

namespace {

using test_support::TempDir;  // each fixture's data dir

// A client of the stream: applies what it receives to its own copy of the map.
struct Viewer {
  std::shared_ptr<app::SeatSubscription> sub;
  std::string map;
  uint64_t version = 0;
  size_t snapshots = 0;

  void drain() {
    for (int i = 0; i < 100; ++i) {
      std::vector<app::StreamItem> items;
      if (sub->poll(items, true) == app::SeatSubscription::Poll::idle) return;
      for (const auto& item : items) apply(item);
    }
    FAIL() << "poll never went idle";
  }
  void apply(const app::StreamItem& item) {
    if (item.kind == app::StreamItem::Kind::snapshot) {
      map = item.status;
      snapshots++;
    } else {
      ASSERT_EQ(item.version, version + 1) << "changes must come in version order, without gaps";
      for (SeatId s : item.change->seats) map.at(s) = status_char(item.change->status);
    }
    version = item.version;
  }
};

// Hub plus the real embedded ledger feeding it.
struct LedgerFixture {
  TempDir dir;
  TimeMs now = SystemClock().now();
  std::unique_ptr<app::SeatStream> hub;
  std::unique_ptr<Database> db;
  std::unique_ptr<SqliteCatalogStore> catalog_store;
  app::RandomTicketIds ticket_ids;
  std::unique_ptr<SqliteLedger> ledger;
  SystemClock clock;
  std::unique_ptr<app::Catalog> catalog;
  Event event;
  std::shared_ptr<const Venue> venue;

  LedgerFixture() {
    hub = std::make_unique<app::SeatStream>(
        [this](EventId id) -> Result<SeatMap> {
          EXPECT_EQ(id, event.id);
          return ledger->seat_map(event, now);
        },
        7);
    db = std::make_unique<Database>(dir.path.string(), nullptr);
    catalog_store = std::make_unique<SqliteCatalogStore>(*db);
    ledger = std::make_unique<SqliteLedger>(*db, ticket_ids, hub.get());
    catalog = std::make_unique<app::Catalog>(*catalog_store, *ledger, clock);
    LayoutSpec spec{"Hall", {{"Main", "std", {}}}};
    for (int r = 0; r < 4; ++r) spec.sections[0].rows.push_back({"R" + std::to_string(r), 10, {}, {}, {}});
    venue = *catalog->create_venue(spec);
    Event e;
    e.name = "Show";
    e.venue_id = venue->id;
    e.on_sale_at = now - Millis(1000);
    e.starts_at = now + std::chrono::days(1);
    e.currency = "EUR";
    e.prices = {{"std", 1000}};
    e.max_tickets_per_user = 100;
    event = *catalog->create_event(e);
  }
  ~LedgerFixture() {
    // Subscriptions first (tests drop theirs), then the ledger, then the hub it reports to.
    catalog.reset();
    ledger.reset();
    catalog_store.reset();
    db.reset();
    hub.reset();
  }
  std::string live_map() { return ledger->seat_map(event, now)->status; }
};

}  // namespace

TEST(SeatStream, SnapshotPlusChangesEqualTheSeatMapAfterRandomOperations) {
  LedgerFixture f;
  std::mt19937 rng(20261128);
  Viewer early{*f.hub->subscribe(f.event.id, "")};
  early.drain();
  Viewer late;
  std::vector<HoldId> holds;
  std::vector<Booking> bookings;
  int key = 0;
  for (int step = 0; step < 300; ++step) {
    const int op = static_cast<int>(rng() % 10);
    const UserId user = 1 + rng() % 5;
    if (op <= 3) {  // hold 1-3 random seats, short or long
      std::vector<SeatId> seats;
      for (uint32_t n = 1 + rng() % 3; seats.size() < n;) {
        const SeatId s = rng() % 40;
        if (std::find(seats.begin(), seats.end(), s) == seats.end()) seats.push_back(s);
      }
      auto h = f.ledger->hold_seats(f.event, f.venue->layout,
                                    HoldRequest{user, seats, std::nullopt, Millis(rng() % 2 ? 50 : 100'000)}, f.now);
      if (h) holds.push_back(h->id);
    } else if (op == 4 && !holds.empty()) {  // release (possibly someone else's: refused)
      (void)f.ledger->release_hold(holds[rng() % holds.size()], user, f.now);
    } else if (op == 5 && !holds.empty()) {  // check out: paid, declined or refused by the gateway
      const HoldId id = holds[rng() % holds.size()];
      auto row = f.ledger->find_hold(id, 1, f.now);
      for (UserId u = 1; !row && u <= 5; ++u) row = f.ledger->find_hold(id, u, f.now);
      if (!row) continue;
      auto rec = f.ledger->begin_checkout(id, row->user_id, CheckoutStart{"k" + std::to_string(++key), 1000, "EUR", "pm"},
                                          f.now);
      if (!rec) continue;
      const auto kind = std::array{PaymentOutcome::Kind::Succeeded, PaymentOutcome::Kind::Declined,
                                   PaymentOutcome::Kind::Rejected}[rng() % 3];
      auto settled = f.ledger->settle_payment(rec->booking_id, PaymentOutcome{kind, "pi", "card_declined", "", ""}, f.now);
      if (settled && settled->booking.status == BookingStatus::Confirmed) bookings.push_back(settled->booking);
    } else if (op == 6 && !bookings.empty()) {  // cancel a sale
      const size_t i = rng() % bookings.size();
      (void)f.ledger->cancel_booking(bookings[i], "re_1", f.now);
      bookings.erase(bookings.begin() + static_cast<long>(i));
    } else if (op == 7) {  // time passes: the short holds lapse (found lazily, or by the sweeper)
      f.now += Millis(60);
      if (rng() % 2) f.ledger->sweep_expired(f.now);
    } else if (op == 8 && !late.sub) {
      late.sub = *f.hub->subscribe(f.event.id, "");
    }
    if (step % 3 == 0) {
      // Read the live map first: reading it runs lazy expiry, which is itself a change to receive.
      const std::string live = f.live_map();
      early.drain();
      EXPECT_EQ(early.map, live) << "at step " << step;
    }
  }
  early.drain();
  ASSERT_TRUE(late.sub);
  late.drain();
  const auto live = f.ledger->seat_map(f.event, f.now);
  EXPECT_EQ(early.map, live->status);
  EXPECT_EQ(late.map, live->status);
  EXPECT_EQ(early.version, live->version);
  EXPECT_EQ(late.version, live->version);
  EXPECT_GT(live->version, 50u) << "the sequence should have changed seats many times";
  EXPECT_EQ(early.snapshots, 1u) << "a subscriber that keeps up never needs a second snapshot";
}

TEST(SeatStream, SeatMapVersionCountsEveryChange) {
  LedgerFixture f;
  EXPECT_EQ(f.ledger->seat_map(f.event, f.now)->version, 0u);
  auto h = f.ledger->hold_seats(f.event, f.venue->layout, HoldRequest{1, {1, 2}, std::nullopt, Millis(10)}, f.now);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(f.ledger->seat_map(f.event, f.now)->version, 1u);
  f.now += Millis(20);  // lapses: found by the next call, reported once
  EXPECT_EQ(f.ledger->seat_map(f.event, f.now)->version, 2u);
  EXPECT_EQ(f.ledger->seat_map(f.event, f.now)->version, 2u);
  EXPECT_EQ(f.ledger->seat_map(f.event, f.now)->status.substr(0, 3), "AAA");
}

namespace {

// The hub on its own: a trivial seat map that the test changes and reports by hand.
struct HubFixture {
  std::string map = std::string(10, 'A');
  uint64_t version = 0;
  std::mutex mu;
  app::SeatStream hub;
  explicit HubFixture(app::SeatStreamLimits limits = {})
      : hub(
            [this](EventId) -> Result<SeatMap> {
              std::lock_guard lock(mu);
              return SeatMap{map, {}, version};
            },
            42, limits) {}
  void change(SeatId seat, SeatStatus status) {
    SeatChange c;
    {
      std::lock_guard lock(mu);
      map[seat] = status_char(status);
      c = SeatChange{1, {seat}, status, ++version};
    }
    hub.seats_changed(c);
  }
};

}  // namespace

TEST(SeatStream, LastEventIdResumesWithExactlyTheMissedChanges) {
  HubFixture f;
  std::string last_id;
  {
    Viewer v{*f.hub.subscribe(1, "")};
    v.drain();
    f.change(3, SeatStatus::Held);
    v.drain();
    last_id = v.sub->item_id(v.version);
    EXPECT_EQ(last_id, "42-1");
  }
  f.change(4, SeatStatus::Held);
  f.change(3, SeatStatus::Sold);
  auto sub = *f.hub.subscribe(1, last_id);
  std::vector<app::StreamItem> items;
  ASSERT_EQ(sub->poll(items, false), app::SeatSubscription::Poll::items) << "a resume needs no snapshot";
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, app::StreamItem::Kind::change);
  EXPECT_EQ(items[0].version, 2u);
  EXPECT_EQ(items[1].version, 3u);
  EXPECT_EQ(items[1].change->status, SeatStatus::Sold);
}

TEST(SeatStream, LastEventIdThatCannotBeResumedGetsASnapshot) {
  HubFixture f(app::SeatStreamLimits{.ring_changes_max = 4});
  for (SeatId s = 0; s < 10; ++s) f.change(s, SeatStatus::Held);
  for (const char* id : {"42-1", "41-9", "42-99"}) {  // fell out of the ring; another process; the future
    auto sub = *f.hub.subscribe(1, id);
    std::vector<app::StreamItem> items;
    EXPECT_EQ(sub->poll(items, false), app::SeatSubscription::Poll::needs_snapshot) << id;
    ASSERT_EQ(sub->poll(items, true), app::SeatSubscription::Poll::items) << id;
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].kind, app::StreamItem::Kind::snapshot);
    EXPECT_EQ(items[0].version, 10u);
    EXPECT_EQ(items[0].status, "HHHHHHHHHH");
  }
  auto caught_up = *f.hub.subscribe(1, "42-10");
  std::vector<app::StreamItem> items;
  EXPECT_EQ(caught_up->poll(items, false), app::SeatSubscription::Poll::idle);
  auto in_ring = *f.hub.subscribe(1, "42-6");  // changes 7..10 are the ring's four
  EXPECT_EQ(in_ring->poll(items, false), app::SeatSubscription::Poll::items);
  EXPECT_EQ(items.size(), 4u);
}

TEST(SeatStream, MalformedLastEventIdIsRefused) {
  HubFixture f;
  for (const char* id : {"x", "42", "42-", "-1", "42-1-2", "42-1x", "99999999999999999999999-1"}) {
    auto sub = f.hub.subscribe(1, id);
    ASSERT_FALSE(sub.ok()) << id;
    EXPECT_EQ(sub.error().code, Code::InvalidRequest);
  }
  EXPECT_EQ(f.hub.stats().subscribers, 0u);
}

TEST(SeatStream, SlowConsumerIsResyncedWithASnapshotInsteadOfBuffering) {
  HubFixture f(app::SeatStreamLimits{.ring_changes_max = 8});
  Viewer slow{*f.hub.subscribe(1, "")};
  Viewer quick{*f.hub.subscribe(1, "")};
  slow.drain();
  quick.drain();
  for (int round = 0; round < 3; ++round) {
    f.change(static_cast<SeatId>(round), SeatStatus::Held);
    quick.drain();
  }
  for (int i = 0; i < 8; ++i) {  // 3 + 8 changes: more than the ring keeps since `slow` last polled
    f.change(static_cast<SeatId>(3 + i % 7), i % 2 ? SeatStatus::Held : SeatStatus::Sold);
    quick.drain();
  }
  std::vector<app::StreamItem> items;
  EXPECT_EQ(slow.sub->poll(items, false), app::SeatSubscription::Poll::needs_snapshot);
  slow.drain();
  EXPECT_EQ(slow.snapshots, 2u);
  EXPECT_EQ(slow.map, f.map);
  EXPECT_EQ(slow.version, f.version);
  EXPECT_EQ(quick.snapshots, 1u) << "a subscriber that keeps up is not resynced";
  EXPECT_EQ(quick.map, f.map);
  EXPECT_EQ(f.hub.stats().lagged_total, 1u);
}

TEST(SeatStream, VersionGapResyncsSubscribers) {
  HubFixture f;
  Viewer v{*f.hub.subscribe(1, "")};
  v.drain();
  f.change(1, SeatStatus::Held);
  // A lost pub/sub message: version 2 never arrives here.
  {
    std::lock_guard lock(f.mu);
    f.map[2] = 'H';
    f.version = 2;
  }
  f.change(3, SeatStatus::Held);
  v.drain();
  EXPECT_EQ(v.snapshots, 2u);
  EXPECT_EQ(v.map, f.map);
  EXPECT_EQ(v.version, 3u);
}

TEST(SeatStream, VersionsThatRestartStartANewEraAndResyncSubscribers) {
  HubFixture f;
  Viewer v{*f.hub.subscribe(1, "")};
  v.drain();
  for (SeatId s = 0; s < 5; ++s) f.change(s, SeatStatus::Held);
  v.drain();
  ASSERT_EQ(v.version, 5u);
  // The version source restarted (Redis lost its counters): versions begin again at 1.
  {
    std::lock_guard lock(f.mu);
    f.version = 0;
  }
  f.change(7, SeatStatus::Sold);
  v.drain();
  EXPECT_EQ(v.snapshots, 2u);
  EXPECT_EQ(v.map, f.map);
  EXPECT_EQ(v.version, 1u);
  f.change(8, SeatStatus::Held);  // and the new era streams normally
  v.drain();
  EXPECT_EQ(v.snapshots, 2u);
  EXPECT_EQ(v.map, f.map);
}

TEST(SeatStream, AnEmptyChangeSkippingAVersionResyncsSubscribers) {
  HubFixture f;
  Viewer v{*f.hub.subscribe(1, "")};
  v.drain();
  f.change(1, SeatStatus::Held);
  v.drain();
  // After an outage: seat 2 changed where no message was published, then a version was skipped on
  // purpose and announced with no seats.
  {
    std::lock_guard lock(f.mu);
    f.map[2] = 'S';
    f.version += 2;
  }
  f.hub.seats_changed(SeatChange{1, {}, SeatStatus::Available, f.version});
  v.drain();
  EXPECT_EQ(v.snapshots, 2u);
  EXPECT_EQ(v.map, f.map);
}

TEST(SeatStream, ArmedSubscriberIsWokenOnceForABurst) {
  HubFixture f;
  Viewer v{*f.hub.subscribe(1, "")};
  v.drain();
  std::atomic<int> wakes{0};
  ASSERT_TRUE(v.sub->arm([&] { wakes++; }));
  for (SeatId s = 0; s < 10; ++s) f.change(s, SeatStatus::Held);
  for (int i = 0; i < 500 && wakes.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(wakes.load(), 1);
  EXPECT_FALSE(v.sub->arm([&] { wakes++; })) << "changes are waiting: arming must refuse";
  v.drain();
  EXPECT_EQ(v.version, 10u);
}

TEST(SeatStream, FailedSnapshotEndsTheSubscription) {
  app::SeatStream hub([](EventId) -> Result<SeatMap> { return make_error(Code::Unavailable, "store down"); }, 1);
  auto sub = *hub.subscribe(1, "");
  std::vector<app::StreamItem> items;
  EXPECT_EQ(sub->poll(items, true), app::SeatSubscription::Poll::failed);
  EXPECT_TRUE(items.empty());
}

TEST(SeatStream, SubscribersOverTheLimitAreRefused) {
  HubFixture f(app::SeatStreamLimits{.subscribers_max = 2});
  auto a = f.hub.subscribe(1, "");
  auto b = f.hub.subscribe(2, "");
  auto c = f.hub.subscribe(1, "");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, Code::Unavailable);
  a->reset();
  EXPECT_TRUE(f.hub.subscribe(1, "").ok()) << "a slot frees when a subscriber leaves";
}

TEST(SeatStream, FullTopicTableEvictsOnlyTopicsWithoutSubscribers) {
  HubFixture f(app::SeatStreamLimits{.topics_max = 2});
  auto a = *f.hub.subscribe(1, "");
  auto b = *f.hub.subscribe(2, "");
  EXPECT_FALSE(f.hub.subscribe(3, "").ok());
  f.hub.seats_changed(SeatChange{3, {1}, SeatStatus::Held, 1});
  EXPECT_EQ(f.hub.stats().dropped_total, 1u);
  b.reset();
  EXPECT_TRUE(f.hub.subscribe(3, "").ok());
  EXPECT_EQ(f.hub.stats().topics, 2u);
}
