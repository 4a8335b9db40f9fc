// Event ownership leases and their fence against a real PostgreSQL (scripts/services): two owners in
// one process, one of them "paused" (it simply stops renewing), as a SIGSTOPped or partitioned node
// would. What must hold: one owner at a time; a lapsed lease goes to the next claimer with a new epoch;
// the old owner's writes are refused from then on; a takeover waits for a commit in flight.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "core/layout.hpp"
#include "pg_database.hpp"
#include "store/postgres/event_owners.hpp"
#include "store/postgres/owner_commit.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {
namespace {

using namespace std::chrono_literals;

class EventOwnersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = fresh_migrated_database("owners");
    pool_ = std::make_unique<Pool>(url_, 6);
    event_ = make_event();
  }

  core::EventId make_event() {
    PgCatalogStore catalog(*pool_);
    core::LayoutSpec spec{"Hall", {core::SectionSpec{"Floor", "standard", {core::RowSpec{"A", 4, {}, {}, {}}}}}};
    auto layout = core::Layout::build(spec);
    EXPECT_TRUE(layout.ok());
    const TimeMs t0 = from_unix_ms(1'900'000'000'000);
    core::Event e;
    e.name = "Owned";
    e.venue_id = *catalog.create_venue(*layout, 0, t0);
    e.on_sale_at = t0;
    e.starts_at = t0 + std::chrono::days(1);
    e.currency = "USD";
    e.prices = {{"standard", 100}};
    e.seats_total = 4;
    return catalog.create_event(e, t0)->id;
  }

  // A write only an owner would make; a marker row, so the test can tell whether it landed.
  bool write_as(const Ownership& o, const std::string& marker) {
    auto lease = pool_->acquire();
    return fenced_commit(*lease, o, [&](Connection& c) {
      c.query("INSERT INTO payment_events(id, type, received_at) VALUES($1, 'owner-test', 0)", {p(marker)});
    });
  }
  bool landed(const std::string& marker) {
    auto lease = pool_->acquire();
    return !lease->query("SELECT 1 FROM payment_events WHERE id = $1", {p(marker)}).empty();
  }

  std::string url_;
  std::unique_ptr<Pool> pool_;
  core::EventId event_ = 0;
};

TEST_F(EventOwnersTest, TheFirstClaimOwnsTheEventAndOthersSeeThatOwner) {
  EventOwners a(*pool_, "node-a", "10.0.0.1:8080", 5s), b(*pool_, "node-b", "10.0.0.2:8080", 5s);
  const Ownership mine = a.claim(event_);
  EXPECT_EQ(mine.owner, "node-a");
  EXPECT_EQ(mine.epoch, 1);
  const Ownership seen = b.claim(event_);
  EXPECT_EQ(seen.owner, "node-a");
  EXPECT_EQ(seen.address, "10.0.0.1:8080");
  EXPECT_EQ(seen.epoch, 1);
  EXPECT_TRUE(write_as(mine, "a-1"));
  EXPECT_FALSE(write_as(Ownership{event_, "node-b", "", 1}, "b-1"));  // b does not own it
  EXPECT_TRUE(landed("a-1"));
  EXPECT_FALSE(landed("b-1"));
  EXPECT_EQ(a.claim(event_).epoch, 1);  // a claim by the owner renews, same epoch
}

TEST_F(EventOwnersTest, APausedOwnerLosesTheEventAndEveryLaterWriteOfItIsRefused) {
  EventOwners a(*pool_, "node-a", "a:1", EventOwners::kLeaseMin), b(*pool_, "node-b", "b:1", 5s);
  const Ownership old = a.claim(event_);
  std::this_thread::sleep_for(EventOwners::kLeaseMin + 100ms);  // a is paused: no renewal
  const Ownership now = b.claim(event_);
  EXPECT_EQ(now.owner, "node-b");
  EXPECT_EQ(now.epoch, old.epoch + 1);
  EXPECT_FALSE(write_as(old, "late-write"));  // a wakes up and tries to commit
  EXPECT_FALSE(landed("late-write"));
  EXPECT_EQ(a.renew({old}), std::vector<core::EventId>{event_});  // and learns it lost the event
  EXPECT_EQ(a.claim(event_).owner, "node-b");
  EXPECT_TRUE(write_as(now, "b-write"));
}

TEST_F(EventOwnersTest, ALapsedLeaseRefusesWritesUntilItsOwnerRenewsIt) {
  EventOwners a(*pool_, "node-a", "a:1", EventOwners::kLeaseMin);
  const Ownership mine = a.claim(event_);
  std::this_thread::sleep_for(EventOwners::kLeaseMin + 100ms);
  EXPECT_FALSE(write_as(mine, "while-lapsed"));
  // Nobody took it meanwhile, so nobody wrote: the same owner keeps its epoch and its memory is good.
  EXPECT_TRUE(a.renew({mine}).empty());
  EXPECT_TRUE(write_as(mine, "after-renewal"));
  EXPECT_EQ(a.claim(event_).epoch, mine.epoch);
}

TEST_F(EventOwnersTest, ATakeoverWaitsForTheOldOwnersCommitInFlight) {
  EventOwners a(*pool_, "node-a", "a:1", 300ms), b(*pool_, "node-b", "b:1", 5s);
  const Ownership old = a.claim(event_);
  std::atomic<bool> inside{false}, claiming{false};
  std::thread slow([&] {
    auto lease = pool_->acquire();
    const bool committed = fenced_commit(*lease, old, [&](Connection& c) {
      c.query("INSERT INTO payment_events(id, type, received_at) VALUES('in-flight', 'owner-test', 0)");
      inside = true;
      while (!claiming) std::this_thread::sleep_for(5ms);
      std::this_thread::sleep_for(200ms);  // b's claim is under way, and the lease lapsed long ago
    });
    EXPECT_TRUE(committed);  // the fence was passed while a owned the event: the commit stands
  });
  while (!inside) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(400ms);  // a's lease lapses while its transaction is still open
  claiming = true;
  const auto start = std::chrono::steady_clock::now();
  const Ownership next = b.claim(event_);
  const auto waited = std::chrono::steady_clock::now() - start;
  slow.join();
  EXPECT_GE(waited, 150ms) << "the takeover must wait for the commit holding the fence";
  EXPECT_EQ(next.owner, "node-b");
  EXPECT_EQ(next.epoch, old.epoch + 1);
  EXPECT_TRUE(landed("in-flight"));
  EXPECT_FALSE(write_as(old, "after-takeover"));
}

// The owner's batches lock their events' rows in event order (the fence); a renewal of many events must
// lock them in that order too, or the two deadlock (seen with 30 events on one owner: PostgreSQL broke
// the deadlock by failing the batch, and its buyers got 503s). Here a batch's fence holds the first
// event; the renewal, given its events last first, must wait there before it locks the second.
TEST_F(EventOwnersTest, ARenewalLocksItsEventsInTheOrderABatchDoes) {
  const core::EventId first = event_, second = make_event();
  ASSERT_LT(first, second);
  EventOwners a(*pool_, "node-a", "a:1", 5s);
  const Ownership o1 = a.claim(first), o2 = a.claim(second);
  Connection batch(url_), probe(url_);
  batch.exec("BEGIN");
  batch.query("SELECT 1 FROM event_owners WHERE event_id = $1 FOR SHARE", {p(first)});
  std::atomic<bool> renewed{false};
  std::thread renewal([&] {
    EXPECT_TRUE(a.renew({o2, o1}).empty());
    renewed = true;
  });
  std::this_thread::sleep_for(300ms);  // the renewal is waiting for the batch's lock on the first event
  EXPECT_FALSE(renewed);
  probe.exec("BEGIN");
  try {
    probe.query("SELECT 1 FROM event_owners WHERE event_id = $1 FOR SHARE NOWAIT", {p(second)});
  } catch (const PgError& e) {
    ADD_FAILURE() << "the renewal locked the second event while waiting for the first: " << e.what();
  }
  probe.exec("ROLLBACK");
  batch.exec("COMMIT");
  renewal.join();
  EXPECT_TRUE(renewed);
}

TEST_F(EventOwnersTest, AReleasedEventIsTakenAtOnceWithTheNextEpoch) {
  EventOwners a(*pool_, "node-a", "a:1", 5s), b(*pool_, "node-b", "b:1", 5s);
  const Ownership old = a.claim(event_);
  a.release(old);
  EXPECT_FALSE(write_as(old, "after-release"));
  const Ownership next = b.claim(event_);
  EXPECT_EQ(next.owner, "node-b");
  EXPECT_EQ(next.epoch, old.epoch + 1);
}

}  // namespace
}  // namespace ticketd::store::postgres

namespace ticketd::store::postgres {
namespace {

// The owner's fenced group commit: jobs of owned events commit together and are told after the commit;
// jobs decided under a lost ownership, or on top of a failed batch, are refused and write nothing.
class OwnerCommitTest : public EventOwnersTest {
 protected:
  OwnerCommit::Job marker(const std::string& id) {
    return [id](Connection& c) {
      c.query("INSERT INTO payment_events(id, type, received_at) VALUES($1, 'owner-commit-test', 0)", {p(id)});
    };
  }
  // Holds the writer inside a batch until release() so the next jobs queue up into one batch together.
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool inside = false, open = false;
    void wait_inside() {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return inside; });
    }
    void release() {
      std::lock_guard lock(mu);
      open = true;
      cv.notify_all();
    }
  };
  OwnerCommit::Job gated(Gate& g) {
    return [&g](Connection&) {
      std::unique_lock lock(g.mu);
      g.inside = true;
      g.cv.notify_all();
      g.cv.wait(lock, [&] { return g.open; });
    };
  }
};

TEST_F(OwnerCommitTest, JobsOfAnOwnedEventCommitTogetherAndHearOnlyAfterTheCommit) {
  EventOwners a(*pool_, "node-a", "a:1", 5s);
  const Ownership mine = a.claim(event_);
  std::atomic<size_t> batches{0};
  OwnerCommit commit(url_, "node-a", [&](size_t, size_t) { ++batches; });
  Gate gate;
  std::atomic<int> told{0};
  commit.submit(event_, mine.epoch, gated(gate), [&](core::Status s) { EXPECT_TRUE(s.ok()); ++told; });
  gate.wait_inside();
  for (int i = 0; i < 20; ++i)
    commit.submit(event_, mine.epoch, marker("m" + std::to_string(i)), [&, i](core::Status s) {
      EXPECT_TRUE(s.ok());
      EXPECT_TRUE(landed("m" + std::to_string(i)));  // visible to another connection: committed
      ++told;
    });
  EXPECT_EQ(told, 0);
  gate.release();
  EXPECT_TRUE(commit.run(event_, mine.epoch, marker("last")).ok());
  EXPECT_EQ(told, 21);
  EXPECT_LE(batches, 3u);  // the gate's batch, the 20 queued behind it (one), and "last" (maybe with them)
}

TEST_F(OwnerCommitTest, AnOwnerThatLostTheEventWritesNothingUntilItClaimsItAgain) {
  EventOwners a(*pool_, "node-a", "a:1", EventOwners::kLeaseMin), b(*pool_, "node-b", "b:1", 5s);
  const Ownership old = a.claim(event_);
  OwnerCommit commit(url_, "node-a");
  EXPECT_TRUE(commit.run(event_, old.epoch, marker("before")).ok());
  std::this_thread::sleep_for(EventOwners::kLeaseMin + 100ms);  // a paused past its lease
  const Ownership taken = b.claim(event_);
  auto refused = commit.run(event_, old.epoch, marker("after"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Code::Unavailable);
  EXPECT_FALSE(landed("after"));
  b.release(taken);
  const Ownership again = a.claim(event_);
  EXPECT_EQ(again.epoch, taken.epoch + 1);
  commit.reset(event_);  // a reloaded the event under the new epoch
  EXPECT_TRUE(commit.run(event_, again.epoch, marker("reloaded")).ok());
  EXPECT_TRUE(landed("reloaded"));
}

// An owner stopped inside a batch (SIGSTOP, a frozen VM: its transaction holds the fence's row lock)
// must not hold up the takeover of its events for longer than kIdleInBatchMax, and what it was
// writing is not acknowledged.
TEST_F(OwnerCommitTest, AnOwnerStoppedInsideABatchDoesNotHoldUpTheTakeover) {
  EventOwners a(*pool_, "node-a", "a:1", EventOwners::kLeaseMin), b(*pool_, "node-b", "b:1", 5s);
  const Ownership old = a.claim(event_);
  OwnerCommit commit(url_, "node-a");
  Gate gate;  // the writer stays inside its transaction, silent, like a stopped process
  std::atomic<bool> told_ok{false}, told{false};
  commit.submit(event_, old.epoch, [&](Connection& c) {
    c.query("INSERT INTO payment_events(id, type, received_at) VALUES('stopped', 'owner-commit-test', 0)");
    gated(gate)(c);
  }, [&](core::Status s) {
    told_ok = s.ok();
    told = true;
  });
  gate.wait_inside();
  std::this_thread::sleep_for(EventOwners::kLeaseMin + 100ms);  // its lease lapses meanwhile
  const auto t0 = std::chrono::steady_clock::now();
  try {
    const Ownership taken = b.take(event_);  // waits for the lock until PostgreSQL ends the idle batch
    EXPECT_EQ(taken.owner, "node-b");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, OwnerCommit::kIdleInBatchMax + 1500ms);
  } catch (const PgError& e) {
    ADD_FAILURE() << "the takeover gave up waiting for the stopped owner's lock: " << e.what();
  }
  gate.release();
  while (!told) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(told_ok);  // its session was ended: nothing it wrote is acknowledged
  EXPECT_FALSE(landed("stopped"));
  EXPECT_FALSE(commit.run(event_, old.epoch, marker("later")).ok());  // taken over: fenced
}

TEST_F(OwnerCommitTest, AFailedJobRollsBackItsBatchAndStopsTheEventUntilReset) {
  EventOwners a(*pool_, "node-a", "a:1", 5s);
  const Ownership mine = a.claim(event_);
  OwnerCommit commit(url_, "node-a");
  Gate gate;
  commit.submit(event_, mine.epoch, gated(gate), [](core::Status) {});
  gate.wait_inside();
  std::atomic<int> refused{0};
  auto expect_refused = [&](core::Status s) {
    EXPECT_FALSE(s.ok());
    ++refused;
  };
  commit.submit(event_, mine.epoch, marker("good"), expect_refused);
  commit.submit(event_, mine.epoch, [](Connection& c) { c.query("SELECT no_such_column FROM events"); }, expect_refused);
  gate.release();
  EXPECT_FALSE(commit.run(event_, mine.epoch, marker("next")).ok());  // decided on top of the failed batch
  EXPECT_EQ(refused, 2);
  EXPECT_FALSE(landed("good"));
  EXPECT_FALSE(landed("next"));
  commit.reset(event_);
  EXPECT_TRUE(commit.run(event_, mine.epoch, marker("after-reload")).ok());
}

TEST_F(OwnerCommitTest, ABatchRefusesOnlyTheEventsThisNodeLost) {
  const core::EventId lost = make_event();
  EventOwners a_long(*pool_, "node-a", "a:1", 5s), a_short(*pool_, "node-a", "a:1", EventOwners::kLeaseMin);
  EventOwners b(*pool_, "node-b", "b:1", 5s);
  const Ownership kept = a_long.claim(event_);
  const Ownership old = a_short.claim(lost);
  std::this_thread::sleep_for(EventOwners::kLeaseMin + 100ms);
  ASSERT_EQ(b.claim(lost).owner, "node-b");
  OwnerCommit commit(url_, "node-a");
  Gate gate;
  commit.submit(event_, kept.epoch, gated(gate), [](core::Status) {});
  gate.wait_inside();
  std::atomic<int> ok{0}, refused{0};
  auto count = [&](core::Status s) { ++(s.ok() ? ok : refused); };
  commit.submit(lost, old.epoch, marker("lost-1"), count);
  commit.submit(event_, kept.epoch, marker("kept-1"), count);
  commit.submit(lost, old.epoch, marker("lost-2"), count);
  gate.release();
  EXPECT_TRUE(commit.run(event_, kept.epoch, marker("kept-2")).ok());
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(refused, 2);
  EXPECT_TRUE(landed("kept-1"));
  EXPECT_TRUE(landed("kept-2"));
  EXPECT_FALSE(landed("lost-1"));
  EXPECT_FALSE(landed("lost-2"));
}

}  // namespace
}  // namespace ticketd::store::postgres
