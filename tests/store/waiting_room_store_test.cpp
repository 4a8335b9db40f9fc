// The waiting room end to end below HTTP: app::WaitingRoom and app::Sales over the real SQLite store
// (ledger, catalogue, queue), with a ManualClock driving on-sale time, release intervals and windows.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "app/ticket_codes.hpp"
#include "support/temp_dir.hpp"
#include "app/catalog.hpp"
#include "app/lottery.hpp"
#include "app/sales.hpp"
#include "app/waiting_room.hpp"
#include "payments/test/test_gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/waiting_room.hpp"

using namespace ticketd;
using namespace ticketd::core;
using namespace ticketd::store::sqlite;

namespace {

const TimeMs kStart = from_unix_ms(1'900'000'000'000);  // 2030-03-17
const Millis kInterval{10'000};
const Millis kWindow{60'000};

using test_support::TempDir;  // each fixture's data dir

// Lottery seeds from a fixed sequence, not from randombytes: every run of these tests draws the same
// orders, so the statistical check below passes or fails for the code, never by the luck of one run
// (with random seeds it failed, as designed, about once in a thousand runs: once on a fresh machine).
app::WaitingRoom::SeedSource fixed_seeds() {
  return [rng = std::make_shared<std::mt19937_64>(20261205)] {
    LotterySeed seed{};
    for (size_t i = 0; i < seed.size(); i += sizeof(uint64_t)) {
      const uint64_t bits = (*rng)();
      std::memcpy(seed.data() + i, &bits, sizeof bits);
    }
    return seed;
  };
}

// Everything a node has, over one data dir. Destroy and rebuild it to simulate a restart.
struct Node {
  ManualClock& clock;
  Database db;
  SqliteCatalogStore catalog_store{db};
  app::RandomTicketIds ticket_ids;
  SqliteLedger ledger{db, ticket_ids};
  SqliteWaitingRoomStore queue_store{db};
  Metrics metrics;
  app::Catalog catalog{catalog_store, ledger, clock};
  app::TokenKeys keys{{"test-secret-0123456789"}};
  app::WaitingRoom room{queue_store, catalog, ledger, keys, clock, metrics, fixed_seeds()};
  payments::TestGateway gateway;
  app::Sales sales{ledger, catalog, gateway, clock, Millis(300'000), metrics, &room};
  Node(const std::string& dir, ManualClock& c) : clock(c), db(dir, nullptr) {}

  VenueId venue(uint32_t seats) {
    LayoutSpec spec{"Hall", {{"Main", "std", {{"A", seats, {}, {}, {}}}}}};
    return (*catalog.create_venue(spec))->id;
  }
  // On sale 60 s from now; the room opened an hour before.
  Event event(VenueId venue, uint32_t batch, uint32_t tickets_per_user = 4) {
    Event e;
    e.name = "Flash";
    e.venue_id = venue;
    e.on_sale_at = clock.now() + Millis(60'000);
    e.starts_at = clock.now() + std::chrono::days(10);
    e.currency = "EUR";
    e.prices = {{"std", 1000}};
    e.max_tickets_per_user = tickets_per_user;
    e.waiting_room = WaitingRoomSettings{true, batch, kInterval, kWindow, Millis(3'600'000)};
    return *catalog.create_event(e);
  }
  app::QueueView join(UserId user, EventId event) {
    auto v = room.join(user, event);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return *v;
  }
  app::QueueView status(EventId event, UserId user) {
    auto t = keys.sign(app::TokenClaims{app::TokenKind::Queue, 0, event, user, clock.now() + std::chrono::days(1)});
    auto v = room.status(event, t);
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return *v;
  }
  Result<app::HoldView> hold(UserId user, EventId event, uint32_t quantity, const std::string& token) {
    app::HoldInput in;
    in.event_id = event;
    in.quantity = quantity;
    in.access_token = token;
    return sales.hold(user, in);
  }
};

std::string code_of(const Result<app::HoldView>& r) {
  if (r.ok()) return "ok";
  return r.error().detail.empty() ? r.error().message : r.error().detail;
}

struct QueueTest : ::testing::Test {
  TempDir dir;
  ManualClock clock{kStart};
  std::unique_ptr<Node> node = std::make_unique<Node>(dir.path.string(), clock);
  void restart() {
    node.reset();
    node = std::make_unique<Node>(dir.path.string(), clock);
  }
  // Moves to the event's on-sale time and runs the releaser there (the draw and the first batch).
  void go_on_sale(const Event& e) {
    clock.set(e.on_sale_at);
    node->room.release();
  }
};

// Pearson's chi-square of a table of counts against a uniform expectation.
double chi_square(const std::vector<std::vector<int>>& table, double expected) {
  double x2 = 0;
  for (const auto& row : table)
    for (int n : row) x2 += (n - expected) * (n - expected) / expected;
  return x2;
}

}  // namespace

TEST_F(QueueTest, EarlyJoinersGetAUniformlyRandomOrder) {
  // 240 draws of 5 early joiners (joining in the same order each time): how often does the i-th to
  // join end at position j? Uniform means 48 each. A fixed or arrival-biased order fails at once.
  constexpr int kUsers = 5, kDraws = 240;
  const VenueId venue = node->venue(100);
  std::vector<std::vector<int>> seen(kUsers, std::vector<int>(kUsers, 0));
  for (int d = 0; d < kDraws; ++d) {
    clock.set(kStart);
    const Event e = node->event(venue, 1000);
    for (int u = 0; u < kUsers; ++u) {
      const app::QueueView v = node->join(u + 1, e.id);
      EXPECT_TRUE(v.early && v.draw_pending);
      EXPECT_EQ(v.position, 0u);
    }
    clock.set(e.on_sale_at);
    ASSERT_TRUE(node->queue_store.draw(e.id, clock.now()).ok());
    std::vector<bool> taken(kUsers, false);
    for (int u = 0; u < kUsers; ++u) {
      const uint64_t pos = node->queue_store.place(e.id, u + 1)->position;
      ASSERT_GE(pos, 1u);
      ASSERT_LE(pos, static_cast<uint64_t>(kUsers));
      ASSERT_FALSE(taken[pos - 1]) << "two users at one position";
      taken[pos - 1] = true;
      ++seen[u][pos - 1];
    }
  }
  // df = (5-1)^2 = 16; P(X2 > 39.25) = 0.001: a uniform shuffle passes with the fixed seeds above, a
  // fixed or arrival-biased order fails whatever the seeds.
  const double x2 = chi_square(seen, static_cast<double>(kDraws) / kUsers);
  EXPECT_LT(x2, 39.25) << "positions are not uniform over the early joiners";
  // And not merely uniform by accident of a fixed rotation: the first joiner is first about 1/5 of the time.
  EXPECT_GT(seen[0][0], 10);
  EXPECT_LT(seen[0][0], 100);
}

TEST_F(QueueTest, LaterJoinersQueueFirstComeFirstServedAfterTheLottery) {
  const Event e = node->event(node->venue(100), 1000);
  for (UserId u = 1; u <= 3; ++u) node->join(u, e.id);
  clock.set(e.on_sale_at + Millis(1));
  for (UserId u = 10; u <= 14; ++u) {
    const app::QueueView v = node->join(u, e.id);
    EXPECT_FALSE(v.early);
    EXPECT_EQ(v.position, static_cast<uint64_t>(3 + (u - 10) + 1)) << "user " << u;
  }
  // The early three hold positions 1-3 in some order.
  std::vector<uint64_t> early;
  for (UserId u = 1; u <= 3; ++u) early.push_back(node->status(e.id, u).position);
  std::sort(early.begin(), early.end());
  EXPECT_EQ(early, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(QueueTest, JoiningTwiceKeepsTheSamePlace) {
  const Event e = node->event(node->venue(100), 1000);
  go_on_sale(e);
  node->join(1, e.id);
  const app::QueueView first = node->join(2, e.id);
  const app::QueueView again = node->join(2, e.id);
  EXPECT_EQ(first.position, again.position);
  EXPECT_EQ(first.queue_token, again.queue_token);
  EXPECT_EQ(node->queue_store.room(e.id)->waiting, 2u);
}

TEST_F(QueueTest, JoiningIsRefusedWithoutARoomBeforeItOpensAndAfterTheStart) {
  const VenueId venue = node->venue(10);
  Event plain;
  plain.name = "No queue";
  plain.venue_id = venue;
  plain.on_sale_at = kStart;
  plain.starts_at = kStart + std::chrono::days(1);
  plain.currency = "EUR";
  plain.prices = {{"std", 1000}};
  plain = *node->catalog.create_event(plain);
  EXPECT_EQ(node->room.join(1, plain.id).error().code, Code::WaitingRoomOff);
  clock.set(kStart - Millis(3'600'001 - 60'000));
  const Event e = node->event(venue, 10);  // on sale 60 s from now, opens an hour before that
  clock.set(e.on_sale_at - Millis(3'600'001));
  EXPECT_EQ(node->room.join(1, e.id).error().code, Code::QueueNotOpen);
  clock.set(e.on_sale_at - Millis(3'600'000));
  EXPECT_TRUE(node->room.join(1, e.id).ok());
  clock.set(e.starts_at);
  EXPECT_EQ(node->room.join(2, e.id).error().code, Code::EventStarted);
}

TEST_F(QueueTest, BatchesAreReleasedOnScheduleAndExactlyBatchSize) {
  const Event e = node->event(node->venue(1000), 3);
  clock.set(e.on_sale_at);
  for (UserId u = 1; u <= 10; ++u) node->join(u, e.id);
  auto admitted = [&] { return node->queue_store.room(e.id)->admitted_total; };
  EXPECT_EQ(node->room.release(), 3u);
  EXPECT_EQ(admitted(), 3u);
  clock.advance(kInterval - Millis(1));
  EXPECT_EQ(node->room.release(), 0u) << "released before the interval passed";
  clock.advance(Millis(1));
  EXPECT_EQ(node->room.release(), 3u);
  EXPECT_EQ(node->room.release(), 0u) << "two batches in one interval";
  clock.advance(kInterval);
  EXPECT_EQ(node->room.release(), 3u);
  clock.advance(kInterval);
  EXPECT_EQ(node->room.release(), 1u);  // the last one
  EXPECT_EQ(admitted(), 10u);
  // Admitted in line order: whoever was at position 1 is admitted with a token; the estimate moved.
  for (UserId u = 1; u <= 10; ++u) {
    const app::QueueView v = node->status(e.id, u);
    EXPECT_EQ(v.status, QueueStatus::Admitted);
    EXPECT_FALSE(v.access_token.empty());
  }
}

TEST_F(QueueTest, WaitEstimateComesFromTheMeasuredReleaseRate) {
  const Event e = node->event(node->venue(1000), 5);
  clock.set(e.on_sale_at);
  for (UserId u = 1; u <= 30; ++u) node->join(u, e.id);
  // Before any release: the configured rate, 5 per 10 s. Position 30 -> 60 s.
  EXPECT_EQ(node->status(e.id, 30).estimated_wait_s, 60);
  node->room.release();  // 5 admitted in one 10 s tick: 0.5/s
  const app::QueueView v = node->status(e.id, 30);
  EXPECT_EQ(v.position, 25u);
  EXPECT_EQ(v.estimated_wait_s, 50);
  EXPECT_GE(v.retry_after_s, 1);
  EXPECT_LE(v.retry_after_s, 10);
}

// The measured rate lives in the store, not in the releasing node's memory: a node that never
// released (here, the same store after a restart) estimates from it, not from the configured rate.
TEST_F(QueueTest, TheMeasuredReleaseRateIsStoredAndSurvivesARestart) {
  const Event e = node->event(node->venue(1000), 5);
  clock.set(e.on_sale_at);
  for (UserId u = 1; u <= 30; ++u) node->join(u, e.id);
  node->room.release();  // 5 in one 10 s tick
  clock.advance(kInterval);
  node->room.release();  // 5 more
  EXPECT_EQ(node->queue_store.room(e.id)->history.ticks(), 2u);
  restart();
  const RoomRecord rec = *node->queue_store.room(e.id);
  EXPECT_EQ(rec.history.ticks(), 2u);
  ASSERT_TRUE(rec.history.rate_per_s(kInterval).has_value());
  EXPECT_DOUBLE_EQ(*rec.history.rate_per_s(kInterval), 0.5);
  EXPECT_EQ(node->status(e.id, 30).position, 20u);
  EXPECT_EQ(node->status(e.id, 30).estimated_wait_s, 40);  // 20 at the measured 0.5/s
}

TEST_F(QueueTest, AdmissionIsCappedByStockAndSoldOutIsToldThenAdmissionResumes) {
  // 8 seats, up to 4 per person, batch 100: the stock serves 2 people, not 100.
  const Event e = node->event(node->venue(8), 100);
  clock.set(e.on_sale_at);
  for (UserId u = 1; u <= 6; ++u) node->join(u, e.id);
  EXPECT_EQ(node->room.release(), 2u);
  // Both admitted buy 4 seats each: nothing is left.
  std::vector<UserId> admitted;
  for (UserId u = 1; u <= 6; ++u)
    if (node->status(e.id, u).status == QueueStatus::Admitted) admitted.push_back(u);
  ASSERT_EQ(admitted.size(), 2u);
  std::vector<HoldId> holds;
  for (UserId u : admitted) {
    auto h = node->hold(u, e.id, 4, node->status(e.id, u).access_token);
    ASSERT_TRUE(h.ok()) << code_of(h);
    holds.push_back(h->hold.id);
  }
  clock.advance(kInterval);
  EXPECT_EQ(node->room.release(), 0u);
  for (UserId u = 1; u <= 6; ++u) {
    if (std::find(admitted.begin(), admitted.end(), u) != admitted.end()) continue;
    EXPECT_EQ(node->status(e.id, u).status, QueueStatus::SoldOut) << "user " << u;
  }
  // One buyer lets go: 4 seats are back, admission resumes with one person.
  ASSERT_TRUE(node->sales.release(admitted[0], holds[0]).ok());
  clock.advance(kInterval);
  EXPECT_EQ(node->room.release(), 1u);
  EXPECT_FALSE(node->queue_store.room(e.id)->sold_out);
  int waiting = 0;
  for (UserId u = 1; u <= 6; ++u) waiting += node->status(e.id, u).status == QueueStatus::Waiting ? 1 : 0;
  EXPECT_EQ(waiting, 3);
}

TEST_F(QueueTest, InactiveAdmittedUsersExpireAndTheirSlotsGoToTheNextInLine) {
  const Event e = node->event(node->venue(8), 100);  // the stock serves 2 at a time
  clock.set(e.on_sale_at);
  for (UserId u = 1; u <= 4; ++u) node->join(u, e.id);
  EXPECT_EQ(node->room.release(), 2u);
  clock.advance(kInterval);
  EXPECT_EQ(node->room.release(), 0u) << "the two admitted still count against the stock";
  std::vector<UserId> first;
  for (UserId u = 1; u <= 4; ++u)
    if (node->status(e.id, u).status == QueueStatus::Admitted) first.push_back(u);
  ASSERT_EQ(first.size(), 2u);
  // One of them holds (the slot is in use), the other does nothing.
  auto h = node->hold(first[0], e.id, 2, node->status(e.id, first[0]).access_token);
  ASSERT_TRUE(h.ok()) << code_of(h);
  const std::string idle_token = node->status(e.id, first[1]).access_token;
  clock.set(e.on_sale_at + kWindow);
  // The idle slot is freed; 6 seats are left and the real average basket is now 2 (one hold of 2):
  // they serve 3 more people, so both still waiting are admitted.
  EXPECT_EQ(node->room.release(), 2u) << "the idle slot and the seats it was keeping go to the next in line";
  EXPECT_EQ(node->status(e.id, first[1]).status, QueueStatus::Expired);
  EXPECT_EQ(node->queue_store.room(e.id)->expired_total, 1u);
  EXPECT_EQ(code_of(node->hold(first[1], e.id, 1, idle_token)), "access_token_expired");
}

TEST_F(QueueTest, AUserWhoseTurnEndedJoinsAgainAtTheEndAndARestartKeepsIt) {
  const Event e = node->event(node->venue(100), 1);
  clock.set(e.on_sale_at);
  node->join(1, e.id);
  node->join(2, e.id);
  EXPECT_EQ(node->room.release(), 1u);
  ASSERT_EQ(node->status(e.id, 1).status, QueueStatus::Admitted);
  EXPECT_EQ(node->join(1, e.id).status, QueueStatus::Admitted) << "joining during one's turn changes nothing";
  node->join(3, e.id);
  // The window ends before the releaser has marked the turn expired: joining again is allowed at once.
  clock.set(e.on_sale_at + kWindow);
  const app::QueueView again = node->join(1, e.id);
  EXPECT_EQ(again.status, QueueStatus::Waiting);
  EXPECT_EQ(again.position, 3u) << "behind user 2 and user 3, who waited meanwhile";
  EXPECT_EQ(node->join(1, e.id).position, 3u) << "joining again while waiting keeps the place";
  const RoomRecord rec = *node->queue_store.room(e.id);
  EXPECT_EQ(rec.expired_total, 1u);
  EXPECT_EQ(rec.waiting, 3u);
  EXPECT_EQ(rec.admitted_outstanding, 0u);
  restart();
  EXPECT_EQ(node->status(e.id, 1).position, 3u);
  const RoomRecord reloaded = *node->queue_store.room(e.id);
  EXPECT_EQ(reloaded.expired_total, rec.expired_total);
  EXPECT_EQ(reloaded.waiting, rec.waiting);
  EXPECT_EQ(reloaded.admitted_outstanding, 0u);
  // User 2's turn, then user 3's, then user 1's second turn.
  for (UserId expected : {UserId{2}, UserId{3}, UserId{1}}) {
    clock.advance(kWindow);
    EXPECT_EQ(node->room.release(), 1u);
    EXPECT_EQ(node->status(e.id, expected).status, QueueStatus::Admitted) << "user " << expected;
  }
  // A turn that was used (a hold) and is over may be joined again too.
  ASSERT_TRUE(node->hold(1, e.id, 1, node->status(e.id, 1).access_token).ok());
  clock.advance(kWindow);
  EXPECT_EQ(node->join(1, e.id).status, QueueStatus::Waiting);
}

TEST_F(QueueTest, HoldsNeedAValidAccessTokenOfThisEventAndUser) {
  const VenueId venue = node->venue(100);
  const Event e = node->event(venue, 10);
  const Event other = node->event(venue, 10);
  clock.set(e.on_sale_at);
  node->join(1, e.id);
  node->join(2, e.id);
  node->join(1, other.id);
  node->room.release();
  const std::string t1 = node->status(e.id, 1).access_token;
  const std::string t1_other = node->status(other.id, 1).access_token;
  ASSERT_FALSE(t1.empty());
  EXPECT_EQ(code_of(node->hold(1, e.id, 1, "")), "access_token_missing");
  std::string forged = t1;
  forged[10] = forged[10] == 'A' ? 'B' : 'A';
  EXPECT_EQ(code_of(node->hold(1, e.id, 1, forged)), "access_token_invalid");
  EXPECT_EQ(code_of(node->hold(1, e.id, 1, t1_other)), "access_token_wrong_event");
  EXPECT_EQ(code_of(node->hold(2, e.id, 1, t1)), "access_token_wrong_user");
  EXPECT_EQ(code_of(node->hold(1, e.id, 1, t1)), "ok");
  clock.advance(kWindow);
  EXPECT_EQ(code_of(node->hold(1, e.id, 1, t1)), "access_token_expired");
}

TEST_F(QueueTest, ARestartKeepsEveryPositionTheSeedAndTheCounters) {
  const Event e = node->event(node->venue(1000), 4);
  for (UserId u = 1; u <= 20; ++u) node->join(u, e.id);
  clock.set(e.on_sale_at + Millis(5));
  for (UserId u = 21; u <= 25; ++u) node->join(u, e.id);
  node->room.release();  // draws (already drawn by the late joins) and admits 4
  UserId engaged = 0;
  for (UserId u = 1; u <= 25 && !engaged; ++u) {
    const app::QueueView v = node->status(e.id, u);
    if (v.status == QueueStatus::Admitted) {
      ASSERT_TRUE(node->hold(u, e.id, 1, v.access_token).ok());
      engaged = u;
    }
  }
  clock.advance(kWindow);
  node->room.release();  // three idle ones expire; 4 more admitted
  std::map<UserId, std::pair<QueueStatus, uint64_t>> before;
  for (UserId u = 1; u <= 25; ++u) {
    const app::QueueView v = node->status(e.id, u);
    before[u] = {v.status, v.position};
  }
  const RoomRecord rec = *node->queue_store.room(e.id);
  EXPECT_EQ(rec.expired_total, 3u);
  EXPECT_EQ(rec.engaged_total, 1u);
  restart();
  const RoomRecord again = *node->queue_store.room(e.id);
  EXPECT_EQ(again.seed, rec.seed);
  EXPECT_EQ(again.commitment, rec.commitment);
  EXPECT_TRUE(again.drawn);
  EXPECT_EQ(again.waiting, rec.waiting);
  EXPECT_EQ(again.admitted_total, rec.admitted_total);
  EXPECT_EQ(again.engaged_total, rec.engaged_total);
  EXPECT_EQ(again.expired_total, rec.expired_total);
  EXPECT_EQ(again.early, 20u);
  for (UserId u = 1; u <= 25; ++u) {
    const app::QueueView v = node->status(e.id, u);
    EXPECT_EQ(v.status, before[u].first) << "user " << u;
    EXPECT_EQ(v.position, before[u].second) << "user " << u;
  }
  // And the queue goes on from where it was.
  clock.advance(kInterval);
  EXPECT_EQ(node->room.release(), 4u);
}

TEST_F(QueueTest, TheSeedMatchesItsCommitmentAndReproducesTheDraw) {
  const Event e = node->event(node->venue(100), 10);
  auto info = node->room.info(e.id);
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->open);
  EXPECT_TRUE(info->seed.empty()) << "the seed is secret until the draw";
  const std::string commitment = info->seed_commitment;
  for (UserId u = 1; u <= 8; ++u) node->join(u, e.id);
  clock.set(e.on_sale_at);
  EXPECT_FALSE(node->status(e.id, 1).draw_pending);  // the first poll after on-sale time draws
  info = node->room.info(e.id);
  ASSERT_TRUE(info->drawn);
  EXPECT_EQ(info->seed_commitment, commitment);
  // Audit: hash the published seed, recompute every key, sort: the same order as the queue's.
  LotterySeed seed{};
  for (size_t i = 0; i < seed.size(); ++i)
    seed[i] = static_cast<uint8_t>(std::stoi(info->seed.substr(2 * i, 2), nullptr, 16));
  EXPECT_EQ(app::seed_commitment(seed), commitment);
  std::vector<std::pair<uint64_t, UserId>> keyed;
  for (UserId u = 1; u <= 8; ++u) keyed.push_back({app::lottery_key(seed, e.id, u), u});
  std::sort(keyed.begin(), keyed.end());
  for (size_t r = 0; r < keyed.size(); ++r)
    EXPECT_EQ(node->status(e.id, keyed[r].second).position, r + 1) << "rank " << r;
}

TEST(WaitingRoomMemory, FiveHundredThousandUsersInOneEvent) {
  // Not timed: it measures and documents. The figure is printed and bounded (see waiting_room.hpp).
  TempDir dir;
  ManualClock clock(kStart);
  Node node(dir.path.string(), clock);
  const Event e = node.event(node.venue(100), 1000);
  constexpr int kUsers = 500'000, kThreads = 64;
  ASSERT_TRUE(node.room.info(e.id).ok());  // opens the room
  const LotterySeed seed = node.queue_store.room(e.id)->seed;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int u = t; u < kUsers; u += kThreads)
        (void)node.queue_store.join(e.id, u + 1, true, app::lottery_key(seed, e.id, u + 1), clock.now());
    });
  for (auto& t : threads) t.join();
  ASSERT_EQ(node.queue_store.room(e.id)->waiting, static_cast<uint64_t>(kUsers));
  ASSERT_TRUE(node.queue_store.draw(e.id, e.on_sale_at).ok());
  const size_t bytes = node.queue_store.memory_bytes(e.id);
  const double per_user = static_cast<double>(bytes) / kUsers;
  std::printf("waiting room memory: %d users, %zu bytes, %.1f bytes per user\n", kUsers, bytes, per_user);
  EXPECT_LE(per_user, 40.0);
}

TEST_F(QueueTest, ConcurrentJoinsPollsAndReleasesKeepOnePlacePerUserInOneLine) {
  // 8 joiners, 4 pollers and the releaser at once (run under --sanitize=thread too). Afterwards every
  // user is in the line exactly once, ranks are distinct, and nothing was admitted twice or lost.
  constexpr int kJoiners = 8, kPerJoiner = 250, kUsers = kJoiners * kPerJoiner;
  const Event e = node->event(node->venue(1000), 50, 1);
  clock.set(e.on_sale_at);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kJoiners; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerJoiner; ++i) {
        const UserId u = 1 + t * kPerJoiner + i;
        ASSERT_TRUE(node->room.join(u, e.id).ok());
        ASSERT_TRUE(node->room.join(u, e.id).ok());  // twice: the same place
      }
    });
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (UserId u = 1 + t; !done; u = (u % kUsers) + 1) (void)node->room.status(e.id, node->keys.sign(
          app::TokenClaims{app::TokenKind::Queue, 0, e.id, u, e.starts_at}));
    });
  std::thread releaser([&] {
    while (!done) {
      node->room.release();
      clock.advance(kInterval);  // one batch per pass
      std::this_thread::sleep_for(std::chrono::milliseconds(1));  // ~10 simulated days take ~86 s: never reached
    }
  });
  for (int t = 0; t < kJoiners; ++t) threads[t].join();
  done = true;
  releaser.join();
  for (size_t t = kJoiners; t < threads.size(); ++t) threads[t].join();
  const RoomRecord rec = *node->queue_store.room(e.id);
  // The releaser's clock runs fast: a user whose turn ended between their two joins joined again, at
  // the end of the line, and has a second entry.
  const std::string metrics = node->metrics.render([](std::string&) {});
  const std::string again_line = "ticketd_queue_joins_total{result=\"again\"} ";
  const size_t at = metrics.find(again_line);
  const uint64_t again = at == std::string::npos ? 0 : std::stoull(metrics.substr(at + again_line.size()));
  EXPECT_EQ(rec.waiting + rec.admitted_total, static_cast<uint64_t>(kUsers) + again);
  std::vector<bool> rank_seen(kUsers + again, false);
  uint64_t waiting = 0;
  for (UserId u = 1; u <= kUsers; ++u) {
    auto place = node->queue_store.place(e.id, u);
    ASSERT_TRUE(place.ok()) << "user " << u;
    if (place->state != PlaceState::Waiting) continue;
    ++waiting;
    ASSERT_GE(place->position, 1u);
    ASSERT_LE(place->position, rec.waiting);
    ASSERT_FALSE(rank_seen[place->position - 1]) << "two users at position " << place->position;
    rank_seen[place->position - 1] = true;
  }
  EXPECT_EQ(waiting, rec.waiting);
}

// A stored room whose rows do not fit together used to stop the server at every start (assertions in
// the loader: a crash loop). Now that room stays closed, says why in the log, and everything else runs.
TEST_F(QueueTest, DamagedRowsCloseTheirRoomAndTheRestStartsAsUsual) {
  const char* damages[] = {
      "UPDATE queue_entries SET seq = seq + 5 WHERE event_id = ?1 AND seq = 3",           // a gap in the line
      "UPDATE queue_rooms SET drawn_at = NULL WHERE event_id = ?1",                        // admitted, never drawn
      "UPDATE queue_rooms SET seed = 'zz' WHERE event_id = ?1",                            // a seed that is no seed
      "UPDATE queue_admissions SET count = 1000 WHERE event_id = ?1",                       // more admitted than queued
      "UPDATE queue_admissions SET first_rank = 2 WHERE event_id = ?1",                     // a batch out of place
      "UPDATE queue_entries SET early_key = 5 WHERE event_id = ?1 AND seq = 6",             // early after late
  };
  for (const char* damage : damages) {
    SCOPED_TRACE(damage);
    const Event hurt = node->event(node->venue(100), 2);
    const Event fine = node->event(node->venue(100), 2);
    for (UserId u = 1; u <= 5; ++u) {
      node->join(u, hurt.id);
      node->join(u, fine.id);
    }
    clock.set(hurt.on_sale_at + Millis(5));
    for (UserId u = 6; u <= 7; ++u) node->join(u, hurt.id);
    node->room.release();  // the draw, and a first batch of each
    node.reset();
    {
      Connection c((dir.path / kDatabaseFile).string(), Connection::Mode::ReadWrite);
      const int rc = c.prepare(damage).bind(1, hurt.id).step_status();
      ASSERT_EQ(c.changes(), 1) << "the damage must hit a row; rc " << rc << " event " << hurt.id;
    }
    node = std::make_unique<Node>(dir.path.string(), clock);  // starts: no assertion reached
    EXPECT_FALSE(node->queue_store.room(hurt.id).has_value());
    auto joined = node->room.join(42, hurt.id);
    ASSERT_FALSE(joined.ok());
    EXPECT_EQ(joined.error().code, Code::Unavailable) << joined.error().message;
    EXPECT_TRUE(node->queue_store.room(fine.id).has_value());
    (void)node->status(fine.id, 5);  // its line answers
  }
}
