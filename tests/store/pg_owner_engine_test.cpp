// The seat engine as an event's owner over PostgreSQL, with two owners in one process: one decides,
// pauses past its lease (it stops renewing, as a SIGSTOPped node would), the other takes the event
// over, and every decision the first one makes afterwards is refused, never committed; it then forgets
// the event and learns who owns it. Nothing is sold twice (`ticketd verify`'s checks).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "pg_ledger_backend.hpp"
#include "store/postgres/event_refunds.hpp"

namespace ticketd::conformance {
namespace {

using namespace std::chrono_literals;

class OwnerEngineTest : public ::testing::Test {
 protected:
  // Two nodes over one database; node a's lease is short so that a pause loses it.
  struct Node {
    store::postgres::EventOwners owners;
    store::postgres::OwnerCommit commit;
    store::postgres::PgSeatJournal journal;
    store::engine::SeatEngine engine;
    Node(store::postgres::Pool& pool, const std::string& url, const std::string& name, std::chrono::milliseconds lease,
         core::TicketIdSource& ids, store::postgres::OwnerCommit::OnBatch on_batch = {})
        : owners(pool, name, name + ":8080", lease),
          commit(url, name, std::move(on_batch)),
          journal(pool, owners, commit),
          engine(journal, ids) {}
  };

  void SetUp() override {
    backend_ = std::make_unique<PostgresOwnerBackend>();  // the database, its catalogue and accounts
    pool_ = std::make_unique<store::postgres::Pool>(backend_->url(), 4);
    core::LayoutSpec spec{"Hall", {core::SectionSpec{"Floor", "standard", {core::RowSpec{"A", 10, {}, {}, {}}}}}};
    layout_ = *core::Layout::build(spec);
    core::Event e;
    e.name = "Owned";
    e.on_sale_at = t0_ - 1s;
    e.starts_at = t0_ + std::chrono::days(1);
    e.currency = "USD";
    e.prices = {{"standard", 100}};
    e.max_tickets_per_user = 10;
    e.seats_total = 10;
    event_ = backend_->add_event(e, layout_, t0_);
    alice_ = backend_->add_user("alice", t0_);
    bob_ = backend_->add_user("bob", t0_);
  }

  // A writer that pauses after each batch while `pausing`: what is decided meanwhile shares the next one.
  struct PausingWriter {
    std::atomic<bool> pausing = false;
    std::atomic<size_t> largest_batch = 0;
    store::postgres::OwnerCommit::OnBatch on_batch() {
      return [this](size_t jobs, size_t) {
        largest_batch = std::max(largest_batch.load(), jobs);
        if (pausing) std::this_thread::sleep_for(300ms);
      };
    }
  };

  // A new event of `seats` seats in `arena`, sold one seat a sale by an owner that then stops, so that
  // PostgreSQL counts what its connection read.
  core::Event sold_out(int seats, core::Layout& arena);

  core::Result<core::Hold> hold(Node& n, core::UserId u, std::vector<core::SeatId> seats) {
    core::HoldRequest r;
    r.user_id = u;
    r.seats = std::move(seats);
    return n.engine.hold_seats(event_, layout_, r, t0_);
  }

  std::unique_ptr<PostgresOwnerBackend> backend_;
  std::unique_ptr<store::postgres::Pool> pool_;
  app::RandomTicketIds ids_;
  core::Layout layout_;
  core::Event event_;
  core::UserId alice_ = 0, bob_ = 0;
  TimeMs t0_ = from_unix_ms(1'900'000'000'000);
};

TEST_F(OwnerEngineTest, OneOwnerDecidesAndAnotherIsToldWhoOwnsTheEvent) {
  Node a(*pool_, backend_->url(), "node-a", 5s, ids_), b(*pool_, backend_->url(), "node-b", 5s, ids_);
  ASSERT_TRUE(hold(a, alice_, {1, 2}).ok());
  auto refused = hold(b, bob_, {3});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Code::Unavailable);
  EXPECT_NE(refused.error().message.find("node-a"), std::string::npos) << refused.error().message;
  EXPECT_EQ(a.engine.seat_map(event_, t0_)->status.substr(0, 4), "AHHA");
}

TEST_F(OwnerEngineTest, APausedOwnerLosesTheEventAndNothingItDecidesAfterwardsCommits) {
  Node a(*pool_, backend_->url(), "node-a", store::postgres::EventOwners::kLeaseMin, ids_);
  Node b(*pool_, backend_->url(), "node-b", 5s, ids_);
  auto first = hold(a, alice_, {1, 2});
  ASSERT_TRUE(first.ok());
  std::this_thread::sleep_for(store::postgres::EventOwners::kLeaseMin + 100ms);  // a paused: no renewal
  // b takes the event over, loads it (alice's hold included) and sells seat 3 to bob.
  auto taken = hold(b, bob_, {3});
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  EXPECT_EQ(b.engine.seat_map(event_, t0_)->status.substr(0, 5), "AHHHA");
  // a wakes up: in its memory seat 3 is free; its hold of it is decided, then refused by the fence.
  auto stale = hold(a, alice_, {3, 4});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, core::Code::Unavailable);
  // a forgot the event: asked again, it loads it and learns b owns it now.
  auto again = hold(a, alice_, {4});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("node-b"), std::string::npos) << again.error().message;
  // Only b's decisions and a's from before the pause are in PostgreSQL.
  auto c = b.engine.begin_checkout(taken->id, bob_, core::CheckoutStart{"k", 100, "USD", "pm_card_visa"}, t0_);
  ASSERT_TRUE(c.ok());
  core::PaymentOutcome paid;
  paid.kind = core::PaymentOutcome::Kind::Succeeded;
  paid.payment_ref = "pi_b";
  ASSERT_TRUE(b.engine.settle_payment(c->booking_id, paid, t0_).ok());
  EXPECT_EQ(b.engine.seat_map(event_, t0_)->status.substr(0, 5), "AHHSA");
  backend_->audit(t0_);
}

TEST_F(OwnerEngineTest, ACleanStopHandsTheEventOverAtOnce) {
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_);
  ASSERT_TRUE(hold(*a, alice_, {1}).ok());
  a.reset();  // the journal releases its leases
  Node b(*pool_, backend_->url(), "node-b", 30s, ids_);
  ASSERT_TRUE(hold(b, bob_, {2}).ok());
  EXPECT_EQ(b.engine.seat_map(event_, t0_)->status.substr(0, 3), "AHH");
}

// A batch's checkouts begun and sales are written by a few multi-row statements (store/postgres/
// staged_writes): many of them in one batch read back as decided, one by one, and from a fresh load.
TEST_F(OwnerEngineTest, CheckoutsAndSalesWrittenTogetherReadBackAsDecided) {
  constexpr int kBuyers = 10;
  PausingWriter writer;
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_, writer.on_batch());
  std::vector<core::UserId> buyers;
  std::vector<core::HoldId> holds;
  for (int i = 0; i < kBuyers; ++i) {
    buyers.push_back(backend_->add_user("buyer" + std::to_string(i), t0_));
    auto h = hold(*a, buyers.back(), {static_cast<core::SeatId>(i)});
    ASSERT_TRUE(h.ok()) << h.error().message;
    holds.push_back(h->id);
  }
  // Each buyer on a thread of their own, all at once; `each` runs one buyer's step.
  auto together = [&](const std::function<void(int)>& each) {
    writer.largest_batch = 0;
    writer.pausing = true;
    std::vector<std::thread> threads;
    for (int i = 0; i < kBuyers; ++i) threads.emplace_back(each, i);
    for (std::thread& t : threads) t.join();
    writer.pausing = false;
  };
  std::vector<core::BookingId> bookings(kBuyers);
  together([&](int i) {
    const std::string key = "key-" + std::to_string(i);
    auto c = a->engine.begin_checkout(holds[i], buyers[i], core::CheckoutStart{key, 100, "USD", "pm_\"card\"," + key}, t0_);
    ASSERT_TRUE(c.ok()) << c.error().message;
    bookings[i] = c->booking_id;
  });
  EXPECT_GE(writer.largest_batch.load(), 5u) << "the checkouts did not share a batch";
  together([&](int i) {
    core::PaymentOutcome paid;
    paid.kind = core::PaymentOutcome::Kind::Succeeded;
    paid.payment_ref = "pi_" + std::to_string(i);
    paid.event_id = i % 2 ? "evt_" + std::to_string(i) : "";  // webhooks for some, the checkout's answer for others
    auto settled = a->engine.settle_payment(bookings[i], paid, t0_);
    ASSERT_TRUE(settled.ok()) << settled.error().message;
    EXPECT_EQ(settled->booking.status, core::BookingStatus::Confirmed);
  });
  EXPECT_GE(writer.largest_batch.load(), 5u) << "the sales did not share a batch";
  for (int i = 0; i < kBuyers; ++i) {
    SCOPED_TRACE("buyer " + std::to_string(i));
    auto checkout = a->journal.checkout(buyers[i], "key-" + std::to_string(i));
    ASSERT_TRUE(checkout.has_value());
    EXPECT_EQ(checkout->booking_id, bookings[i]);
    EXPECT_EQ(checkout->hold_id, holds[i]);
    EXPECT_EQ(checkout->payment_status, "SUCCEEDED");
    EXPECT_EQ(checkout->payment_ref, "pi_" + std::to_string(i));
    EXPECT_EQ(checkout->payment_method, "pm_\"card\",key-" + std::to_string(i));
    EXPECT_EQ(checkout->amount, 100);
    EXPECT_EQ(checkout->currency, "USD");
    auto booking = a->journal.booking(bookings[i]);
    ASSERT_TRUE(booking.has_value());
    EXPECT_EQ(booking->status, core::BookingStatus::Confirmed);
    EXPECT_EQ(booking->user_id, buyers[i]);
    EXPECT_EQ(booking->seats, std::vector<core::SeatId>{static_cast<core::SeatId>(i)});
    const std::vector<core::Ticket> tickets = a->journal.tickets_of_booking(bookings[i]);
    ASSERT_EQ(tickets.size(), 1u);
    EXPECT_EQ(tickets[0].seat, static_cast<core::SeatId>(i));
    EXPECT_EQ(tickets[0].owner_id, buyers[i]);
    EXPECT_EQ(a->journal.hold(holds[i])->state, core::HoldState::Converted);
    EXPECT_EQ(a->journal.payment_event_seen("evt_" + std::to_string(i)), i % 2 == 1);
  }
  a.reset();  // a fresh owner loads the event from what PostgreSQL holds
  Node b(*pool_, backend_->url(), "node-b", 30s, ids_);
  EXPECT_EQ(b.engine.seat_map(event_, t0_)->status, std::string(kBuyers, 'S'));
  backend_->audit(t0_);
}

// Releases are staged too, and written before the holds of their batch: a seat let go and taken again
// while the writer is busy goes to PostgreSQL in one batch, the release's claims gone before the new
// hold's claim is checked against them (written the other way round, the database refuses the batch).
TEST_F(OwnerEngineTest, ReleasesAndTheHoldsOfTheirSeatsShareABatch) {
  constexpr int kSeats = 5;
  PausingWriter writer;
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_, writer.on_batch());
  std::vector<core::UserId> first, second;
  std::vector<core::HoldId> released;
  for (int i = 0; i < kSeats; ++i) {
    first.push_back(backend_->add_user("first" + std::to_string(i), t0_));
    second.push_back(backend_->add_user("second" + std::to_string(i), t0_));
    auto h = hold(*a, first.back(), {static_cast<core::SeatId>(i)});
    ASSERT_TRUE(h.ok()) << h.error().message;
    released.push_back(h->id);
  }
  writer.pausing = true;
  // Each seat on a thread of its own: its release is decided at once (answered once durable), and the
  // hold that takes the seat next is decided right after it, so both wait for the same batch.
  std::vector<core::HoldId> taken(kSeats);
  std::atomic<int> released_ok = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kSeats; ++i)
    threads.emplace_back([&, i] {
      const bool decided =
          a->engine.try_release_hold_async(released[i], first[i], t0_, [&](core::Result<core::Hold> r) {
            EXPECT_TRUE(r.ok()) << r.error().message;
            if (r.ok()) ++released_ok;
          });
      ASSERT_TRUE(decided) << "the release of a loaded event's hold waited";
      auto h = hold(*a, second[i], {static_cast<core::SeatId>(i)});
      ASSERT_TRUE(h.ok()) << h.error().message;
      taken[i] = h->id;
    });
  for (std::thread& t : threads) t.join();
  writer.pausing = false;
  for (int tries = 0; tries < 100 && released_ok < kSeats; ++tries) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(released_ok.load(), kSeats);
  EXPECT_GE(writer.largest_batch.load(), 4u) << "the releases and holds did not share a batch";
  for (int i = 0; i < kSeats; ++i) {
    SCOPED_TRACE("seat " + std::to_string(i));
    EXPECT_EQ(a->journal.hold(released[i])->state, core::HoldState::Released);
    EXPECT_EQ(a->journal.hold(taken[i])->state, core::HoldState::Active);
  }
  a.reset();  // a fresh owner loads the event from what PostgreSQL holds: the second holds, live
  Node b(*pool_, backend_->url(), "node-b", 30s, ids_);
  EXPECT_EQ(b.engine.seat_map(event_, t0_)->status.substr(0, kSeats), std::string(kSeats, 'H'));
  for (int i = 0; i < kSeats; ++i) EXPECT_TRUE(b.engine.find_hold(taken[i], second[i], t0_).ok());
  backend_->audit(t0_);
}

// An event of `seats` seats in rows of 40, on sale in tables that may still be empty.
core::Event sale_of(const core::Event& like, int seats, core::Layout& layout, PostgresOwnerBackend& backend,
                    TimeMs at) {
  core::LayoutSpec spec{"Arena", {core::SectionSpec{"Floor", "standard", {}}}};
  for (int row = 0; row * 40 < seats; ++row)
    spec.sections[0].rows.push_back(core::RowSpec{std::string(1, static_cast<char>('A' + row)), 40, {}, {}, {}});
  layout = *core::Layout::build(spec);
  core::Event e = like;
  e.id = 0;
  e.name = "Empty tables";
  e.seats_total = seats;
  return backend.add_event(e, layout, at);
}

// Sells `count` seats from `first` to `buyer`: a hold, a checkout and its payment, each a batch of its own.
std::optional<core::Booking> sell(store::engine::SeatEngine& engine, const core::Event& sale,
                                  const core::Layout& layout, core::UserId buyer, uint32_t first, uint32_t count,
                                  TimeMs at) {
  core::HoldRequest r;
  r.user_id = buyer;
  for (uint32_t seat = first; seat < first + count; ++seat) r.seats.push_back(static_cast<core::SeatId>(seat));
  auto h = engine.hold_seats(sale, layout, r, at);
  EXPECT_TRUE(h.ok()) << h.error().message;
  if (!h.ok()) return std::nullopt;
  const core::CheckoutStart start{"k", int64_t{100} * count, "USD", "pm_card"};
  auto c = engine.begin_checkout(h->id, buyer, start, at);
  EXPECT_TRUE(c.ok()) << c.error().message;
  if (!c.ok()) return std::nullopt;
  core::PaymentOutcome paid;
  paid.kind = core::PaymentOutcome::Kind::Succeeded;
  paid.payment_ref = "pi_" + std::to_string(first);
  auto settled = engine.settle_payment(c->booking_id, paid, at);
  EXPECT_TRUE(settled.ok()) << settled.error().message;
  if (!settled.ok()) return std::nullopt;
  return settled->booking;
}

// Sells the event's seats `per_sale` at a time, each sale to a buyer of its own, one sale after the other.
std::vector<core::Booking> sell_all(store::engine::SeatEngine& engine, const core::Event& sale,
                                    const core::Layout& layout, PostgresOwnerBackend& backend, uint32_t per_sale,
                                    TimeMs at) {
  std::vector<core::Booking> sold;
  for (uint32_t i = 0; i + per_sale <= sale.seats_total; i += per_sale) {
    auto booking = sell(engine, sale, layout, backend.add_user("seq" + std::to_string(i), at), i, per_sale, at);
    if (!booking) break;
    sold.push_back(std::move(*booking));
  }
  return sold;
}

core::Event OwnerEngineTest::sold_out(int seats, core::Layout& arena) {
  const core::Event sale = sale_of(event_, seats, arena, *backend_, t0_);
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_);
  EXPECT_EQ(sell_all(a->engine, sale, arena, *backend_, 1, t0_).size(), static_cast<size_t>(seats));
  return sale;
}

// PostgreSQL's counts of whole-table reads of `tables`, once the rows of `updated` (a table and how many
// of its rows were updated or deleted) have been counted: a closed backend's counts arrive shortly after
// it ends.
std::map<std::string, int64_t> seq_scans_once_counted(const std::string& url, const std::vector<std::string>& tables,
                                                      const std::pair<std::string, int64_t>& updated) {
  store::postgres::Connection stats(url);
  std::map<std::string, int64_t> scans;
  for (int tries = 0; tries < 200; ++tries) {
    store::postgres::Rows r = stats.query(
        "SELECT relname, seq_scan, n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = ANY($1::text[])",
        {store::postgres::p_text_array(tables)});
    bool counted = false;
    for (int i = 0; i < r.size(); ++i) {
      scans[r.text(i, 0)] = r.int64(i, 1);
      if (r.text(i, 0) == updated.first) counted = r.int64(i, 2) >= updated.second;
    }
    if (counted) return scans;
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "the owner's counts of " << updated.first << " never arrived";
  return scans;
}

// The owner's batches find their rows by key however small the tables were when the connection
// planned its statements. Every table starts empty here, as in a new deployment's first sale; the sales
// below read bookings, payments and holds by index, not by reading each table whole every batch.
TEST_F(OwnerEngineTest, BatchesFindTheirRowsByKeyInTablesThatStartedEmpty) {
  constexpr int kSales = 120;
  core::Layout arena;
  sold_out(kSales, arena);
  const auto scans = seq_scans_once_counted(backend_->url(), {"bookings", "payments", "holds"}, {"holds", kSales});
  for (const auto& [table, seq_scans] : scans)
    // A load of the event or a read at the start may scan an empty table once or twice; a plan that
    // reads the table whole does it once per batch, about kSales times.
    EXPECT_LE(seq_scans, 5) << table << " read whole " << seq_scans << " times for " << kSales << " sales";
  EXPECT_EQ(scans.size(), size_t{3});
  backend_->audit(t0_);
}

// A cancel and a refund find the booking's claims, open listings and refund notice by booking (migration
// 13), not by reading seat_claims, resale_listings and outbox whole, once each, on the owner's one writer.
TEST_F(OwnerEngineTest, CancelsAndRefundsFindTheirRowsByBooking) {
  constexpr int kSales = 60;  // of two seats each: a refund returns one of them
  core::Layout arena;
  const core::Event sale = sale_of(event_, 2 * kSales, arena, *backend_, t0_);
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_);
  const std::vector<core::Booking> sold = sell_all(a->engine, sale, arena, *backend_, 2, t0_);
  ASSERT_EQ(sold.size(), size_t{kSales});
  const auto before =
      seq_scans_once_counted(backend_->url(), {"seat_claims", "resale_listings", "outbox"}, {"seat_claims", 0});
  for (int i = 0; i < kSales; ++i) {
    const core::Booking& b = sold[static_cast<size_t>(i)];
    if (i % 2 == 0) {
      auto cancelled = a->engine.cancel_booking(b, "re_" + std::to_string(i), t0_);
      ASSERT_TRUE(cancelled.ok()) << cancelled.error().message;
    } else {
      auto refunded =
          a->engine.refund_seats(b, core::SeatRefund{{b.seats.front()}, 100}, "re_" + std::to_string(i), t0_);
      ASSERT_TRUE(refunded.ok()) << refunded.error().message;
    }
  }
  a.reset();
  // A cancel deletes its two claims and a refund one: 1.5 kSales deletions once all are counted.
  const auto after = seq_scans_once_counted(backend_->url(), {"seat_claims", "resale_listings", "outbox"},
                                            {"seat_claims", kSales + kSales / 2});
  ASSERT_EQ(after.size(), size_t{3});
  for (const auto& [table, seq_scans] : after) {
    const int64_t scans = seq_scans - (before.count(table) ? before.at(table) : 0);
    EXPECT_LE(scans, 5) << table << " read whole " << scans << " times for " << kSales << " cancels and refunds";
  }
  backend_->audit(t0_);
}

// PostgreSQL's count of index entries read on `table` (all its indexes), once `changed` of its rows have
// been counted as updated or deleted: a closed backend's counts arrive shortly after it ends.
int64_t index_entries_read_once_counted(const std::string& url, const std::string& table, int64_t changed) {
  store::postgres::Connection stats(url);
  for (int tries = 0; tries < 200; ++tries) {
    store::postgres::Rows r = stats.query(
        "SELECT (SELECT coalesce(sum(idx_tup_read), 0)::bigint FROM pg_stat_user_indexes WHERE relname = $1), "
        "(SELECT n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = $1)",
        {store::postgres::p(table)});
    if (r.int64(0, 1) >= changed) return r.int64(0, 0);
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << "the owner's counts of " << table << " never arrived";
  return 0;
}

// A released hold's claims are found by its id among the claims not sold (migration 15), reading only
// its own. A sale rewrites each claim, so a hot sale leaves every index of unsold claims full of dead
// entries until vacuum; when PostgreSQL combined such an index (claims by deadline) with the one by
// hold, every release read all of them: 1-2 ms a release on the owner's one writer, in a flash sale.
TEST_F(OwnerEngineTest, AReleaseReadsOnlyTheClaimsOfItsHold) {
  constexpr int kSales = 400, kReleases = 40;
  core::Layout arena;
  const core::Event sale = sale_of(event_, kSales + kReleases, arena, *backend_, t0_);
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_);
  std::vector<std::pair<core::HoldId, core::UserId>> holds;
  for (int i = 0; i < kReleases; ++i) {
    // Placed first, so the sales below rewrite claims while these are live, as in a sale.
    core::HoldRequest r;
    r.user_id = backend_->add_user("holder" + std::to_string(i), t0_);
    r.seats = {static_cast<core::SeatId>(kSales + i)};
    auto h = a->engine.hold_seats(sale, arena, r, t0_);
    ASSERT_TRUE(h.ok()) << h.error().message;
    holds.emplace_back(h->id, r.user_id);
  }
  for (uint32_t seat = 0; seat < kSales; ++seat)
    ASSERT_TRUE(sell(a->engine, sale, arena, backend_->add_user("buyer" + std::to_string(seat), t0_), seat, 1, t0_));
  a.reset();  // its counts arrive once its connection has closed
  const int64_t before = index_entries_read_once_counted(backend_->url(), "seat_claims", kSales);
  auto b = std::make_unique<Node>(*pool_, backend_->url(), "node-b", 30s, ids_);
  for (const auto& [id, holder] : holds) {
    auto released = b->engine.release_hold(id, holder, t0_);
    ASSERT_TRUE(released.ok()) << released.error().message;
  }
  b.reset();
  const int64_t read = index_entries_read_once_counted(backend_->url(), "seat_claims", kSales + kReleases) - before;
  // One claim per hold, and what its batch's other statements look up (a claim taken over, by seat).
  EXPECT_LE(read, 4 * kReleases) << "releasing " << kReleases << " holds read " << read
                                 << " entries of seat_claims' indexes";
  backend_->audit(t0_);
}

// The refunding pass runs on every node about once a second, whether or not an event is cancelled. With
// none cancelled it reads no booking: it starts from the cancelled events and reaches bookings only
// through theirs. Joined the other way, PostgreSQL walked every booking ever made by id, each pass.
TEST_F(OwnerEngineTest, TheRefundPassReadsNoBookingWhenNoEventIsCancelled) {
  core::Layout arena;
  sold_out(200, arena);
  store::postgres::Connection c(backend_->url());
  c.exec("SET plan_cache_mode = force_generic_plan");  // as a pool connection plans it after five runs
  c.exec(std::string("PREPARE to_refund(bigint, bigint) AS ") + store::postgres::PgEventRefunds::kToRefundSql);
  // Planned first as after a first sale (statistics of tables that started empty), then as analysed.
  for (const bool analysed : {false, true}) {
    SCOPED_TRACE(analysed ? "analysed" : "as the tables grew");
    if (analysed) c.exec("ANALYZE");
    store::postgres::Rows plan = c.query("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE to_refund(0, 100)");
    std::string text;
    for (int i = 0; i < plan.size(); ++i) text += plan.text(i, 0) + "\n";
    const size_t bookings = text.find(" on bookings");
    ASSERT_NE(bookings, std::string::npos) << text;
    const std::string line = text.substr(bookings, text.find('\n', bookings) - bookings);
    EXPECT_NE(line.find("never executed"), std::string::npos) << text;
  }
}

// A sale's booking_confirmed notices, written by the owner in one statement per batch, go to the
// channels each buyer chose (ticketd_notice_channels, migration 14): email unless turned off, a webhook
// for a buyer with texts on and a phone number, one row per channel.
TEST_F(OwnerEngineTest, ASalesNoticesGoToTheChannelsEachBuyerChose) {
  core::Layout arena;
  const core::Event sale = sale_of(event_, 3, arena, *backend_, t0_);
  const core::UserId plain = backend_->add_user("plain", t0_), texted = backend_->add_user("texted", t0_),
                     quiet = backend_->add_user("quiet", t0_);
  store::postgres::Connection c(backend_->url());
  c.query("INSERT INTO user_notify(user_id, phone, sms_on) VALUES ($1, '+15550100', true)",
          {store::postgres::p(texted)});
  c.query("INSERT INTO user_notify(user_id, email_on) VALUES ($1, false)", {store::postgres::p(quiet)});
  auto a = std::make_unique<Node>(*pool_, backend_->url(), "node-a", 30s, ids_);
  uint32_t seat = 0;
  for (const core::UserId buyer : {plain, texted, quiet})
    ASSERT_TRUE(sell(a->engine, sale, arena, buyer, seat++, 1, t0_));
  a.reset();
  store::postgres::Rows r =
      c.query("SELECT user_id, channel FROM outbox WHERE kind = 'booking_confirmed' AND event_id = $1 ORDER BY id",
              {store::postgres::p(sale.id)});
  std::vector<std::pair<core::UserId, std::string>> notices;
  for (int i = 0; i < r.size(); ++i) notices.emplace_back(r.int64(i, 0), r.text(i, 1));
  const std::vector<std::pair<core::UserId, std::string>> chosen = {
      {plain, "email"}, {texted, "email"}, {texted, "webhook"}};
  EXPECT_EQ(notices, chosen);
  backend_->audit(t0_);
}

// Under the writer's session settings, a statement that has no index to take still scans, but is never
// compiled: with sequential scans off its cost is far past jit_above_cost, and compiling took 30-110 ms
// a run (a cancel's claims found by booking, before migration 13), which queued a sale's cancels behind
// the writer for seconds.
TEST_F(OwnerEngineTest, TheWritersStatementsAreNeverCompiled) {
  store::postgres::Connection c(backend_->url());
  store::postgres::OwnerCommit::set_up_session(c);
  c.exec("CREATE TEMP TABLE unindexed(booking_id bigint)");
  c.exec("SET jit_above_cost = 0");  // compile anything PostgreSQL would compile, were it allowed to
  store::postgres::Rows plan = c.query("EXPLAIN DELETE FROM unindexed WHERE booking_id = 1");
  std::string text;
  for (int i = 0; i < plan.size(); ++i) text += plan.text(i, 0) + "\n";
  EXPECT_NE(text.find("Seq Scan on unindexed"), std::string::npos) << text;
  EXPECT_EQ(text.find("JIT"), std::string::npos) << text;
}

// Ids are drawn ahead in runs (1,024 hold ids per round trip): two owners drawing at once never hand out
// the same id, each hands out increasing ones, and an id at hand is taken without waiting.
TEST_F(OwnerEngineTest, TwoOwnersDrawingIdsAtOnceNeverShareOne) {
  Node a(*pool_, backend_->url(), "node-a", 5s, ids_), b(*pool_, backend_->url(), "node-b", 5s, ids_);
  constexpr int kHolds = 3'000, kBookings = 300;
  std::vector<int64_t> holds_a, holds_b, bookings_a, bookings_b;
  auto draw = [&](Node& n, std::vector<int64_t>& holds, std::vector<int64_t>& bookings) {
    for (int i = 0; i < kHolds; ++i) {
      const std::optional<core::HoldId> ready = n.journal.next_hold_id_if_ready();
      holds.push_back(ready ? *ready : n.journal.next_hold_id());
      if (i < kBookings) bookings.push_back(n.journal.next_booking_id());
    }
  };
  std::thread ta([&] { draw(a, holds_a, bookings_a); });
  std::thread tb([&] { draw(b, holds_b, bookings_b); });
  ta.join();
  tb.join();
  for (const auto* ids : {&holds_a, &holds_b, &bookings_a, &bookings_b}) {
    EXPECT_TRUE(std::is_sorted(ids->begin(), ids->end()));
    EXPECT_EQ(std::adjacent_find(ids->begin(), ids->end()), ids->end());  // strictly increasing
  }
  std::set<int64_t> holds(holds_a.begin(), holds_a.end());
  holds.insert(holds_b.begin(), holds_b.end());
  EXPECT_EQ(holds.size(), size_t{2 * kHolds});
  std::set<int64_t> bookings(bookings_a.begin(), bookings_a.end());
  bookings.insert(bookings_b.begin(), bookings_b.end());
  EXPECT_EQ(bookings.size(), size_t{2 * kBookings});
  // After a draw, the rest of its run is at hand without a round trip.
  EXPECT_TRUE(a.journal.next_hold_id_if_ready().has_value());
}

}  // namespace
}  // namespace ticketd::conformance
