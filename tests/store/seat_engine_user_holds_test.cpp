// The seat engine with a registry of users' holds across nodes (distributed: core/ports/user_holds.hpp).
// The registry counts a hold from its reservation, made before the decision, until its end arrives. So
// when one user's concurrent holds are refused for their seats (the ticket limit), a reservation
// answered in between may have counted them: the engine asks again, and the buyer hears the real reason.
// A user really at the cap is still refused, and asked about no more than needed.
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "ledger_backends.hpp"
#include "store/engine/seat_engine.hpp"
#include "store/sqlite/seat_journal.hpp"

namespace ticketd::conformance {
namespace {

using namespace std::chrono_literals;
using Reserve = core::UserHolds::Reserve;

// The registry as a node's Redis connection answers it (store/redis/user_holds.cpp): every call waits
// in one queue, and answer_batch() answers the calls queued so far in order, each answer heard before
// the next is given. Calls made while a batch is answered wait for the next one.
class QueuedUserHolds final : public core::UserHolds {
 public:
  int reservations = 0;  // reserve questions answered

  Reserve reserve(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now) override {
    EXPECT_TRUE(queue_.empty()) << "a blocking reservation would wait behind the queued calls";
    return count(user, hold, until, cap, now);
  }
  void reserve_async(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now,
                     ReserveDone done) override {
    queue_.push_back([=, this] { done(count(user, hold, until, cap, now)); });
  }
  void extend(core::UserId user, core::HoldId hold, TimeMs until) override {
    queue_.push_back([=, this] {
      if (auto it = holds_[user].find(hold); it != holds_[user].end()) it->second = until;
    });
  }
  void end(core::UserId user, core::HoldId hold) override {
    queue_.push_back([=, this] { holds_[user].erase(hold); });
  }

  // False when nothing was queued.
  bool answer_batch() {
    std::deque<std::function<void()>> batch;
    batch.swap(queue_);
    for (auto& call : batch) call();
    return !batch.empty();
  }
  size_t counted(core::UserId user) const { return holds_.count(user) ? holds_.at(user).size() : 0; }

 private:
  Reserve count(core::UserId user, core::HoldId hold, TimeMs until, uint32_t cap, TimeMs now) {
    ++reservations;
    auto& mine = holds_[user];
    std::erase_if(mine, [&](const auto& h) { return h.second <= now; });
    if (!mine.count(hold) && mine.size() >= cap) return Reserve::at_cap;
    mine[hold] = until;
    return Reserve::reserved;
  }

  std::deque<std::function<void()>> queue_;  // only the test's thread calls the registry
  std::map<core::UserId, std::map<core::HoldId, TimeMs>> holds_;
};

class SeatEngineUserHoldsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = stored_row_event(catalog_, "Capped", 10, kTicketsPerUserMax, layout_, t0_);
    alice_ = stored_user(accounts_, "alice", t0_);
    const core::UserId bob = stored_user(accounts_, "bob", t0_);
    // Bob's hold loads the event, so that alice's are decided on the registry's answers.
    ASSERT_TRUE(engine_.hold_seats(event_, layout_, request(bob, 9, kCapDefault), t0_).ok());
  }

  core::HoldRequest request(core::UserId user, core::SeatId seat, uint32_t cap) {
    core::HoldRequest r;
    r.user_id = user;
    r.seats = {seat};
    r.active_holds_max = cap;
    return r;
  }

  // Alice asks for each of the first `seats` seats, one hold each, at once, at most `cap` live holds: the answers, in order.
  std::vector<core::Result<core::Hold>> hold_together(uint32_t seats, uint32_t cap) {
    std::mutex mu;
    std::condition_variable cv;
    std::map<core::SeatId, core::Result<core::Hold>> answers;
    for (core::SeatId seat = 0; seat < seats; ++seat)
      EXPECT_TRUE(engine_.try_hold_seats_async(event_, std::make_shared<const core::Layout>(layout_),
                                               request(alice_, seat, cap), t0_, [&, seat](core::Result<core::Hold> r) {
                                                 std::lock_guard lock(mu);
                                                 answers.emplace(seat, std::move(r));
                                                 cv.notify_all();
                                               }));
    while (registry_.answer_batch()) {
    }
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return answers.size() == seats; })) << answers.size() << " answered";
    std::vector<core::Result<core::Hold>> out;
    for (auto& [seat, r] : answers) out.push_back(std::move(r));
    return out;
  }

  static std::map<core::Code, int> codes(const std::vector<core::Result<core::Hold>>& answers) {
    std::map<core::Code, int> out;
    for (const auto& a : answers)
      if (!a) ++out[a.error().code];
    return out;
  }

  static constexpr uint32_t kTicketsPerUserMax = 4;
  static constexpr uint32_t kCapDefault = 10;
  test_support::TempDir dir_;
  store::sqlite::Database db_{dir_.path.string(), nullptr};
  store::sqlite::SqliteCatalogStore catalog_{db_};
  store::sqlite::SqliteAccountStore accounts_{db_};
  store::sqlite::SqliteSeatJournal journal_{db_};
  app::RandomTicketIds ticket_ids_;
  QueuedUserHolds registry_;
  store::engine::SeatEngine engine_{journal_, ticket_ids_, nullptr, &registry_};
  core::Layout layout_;
  core::Event event_;
  core::UserId alice_ = 0;
  TimeMs t0_ = from_unix_ms(1'900'000'000'000);
};

// Eight holds at once, a cap of 6, a ticket limit of 4. The registry counts six and refuses two at the
// cap; of the six, four are held and two refused at the ticket limit, whose ends are sent before the two
// answers at the cap are heard. Those two are asked again and refused at the ticket limit, as the
// buyer with four live holds should hear.
TEST_F(SeatEngineUserHoldsTest, HoldsRefusedForTheirSeatsDoNotKeepOthersAtTheCap) {
  const auto answers = hold_together(8, 6);
  EXPECT_EQ(std::count_if(answers.begin(), answers.end(), [](const auto& a) { return a.ok(); }), 4);
  EXPECT_EQ(codes(answers), (std::map<core::Code, int>{{core::Code::TicketLimitExceeded, 4}}));
  EXPECT_EQ(registry_.reservations, 1 + 8 + 2);  // bob's, alice's eight, the two asked again
  EXPECT_EQ(registry_.counted(alice_), 4u);
}

// Three holds at once with a cap of 2: two are held and nothing ended, so the answer at the cap stands
// and is not asked again.
TEST_F(SeatEngineUserHoldsTest, AUserAtTheCapIsRefusedWithoutAskingAgain) {
  const auto answers = hold_together(3, 2);
  EXPECT_EQ(std::count_if(answers.begin(), answers.end(), [](const auto& a) { return a.ok(); }), 2);
  EXPECT_EQ(codes(answers), (std::map<core::Code, int>{{core::Code::ActiveHoldsLimitExceeded, 1}}));
  EXPECT_EQ(registry_.reservations, 1 + 3);
  EXPECT_EQ(registry_.counted(alice_), 2u);
}

// A best-available hold is decided on the registry's answer as well, on the registry's thread: its seats
// are picked then, with the layout the engine kept (the caller let go of its own at once).
TEST_F(SeatEngineUserHoldsTest, ABestAvailableHoldIsPickedWhenTheRegistryAnswers) {
  core::HoldRequest r;
  r.user_id = alice_;
  r.best = core::BestAvailableRequest{2, std::nullopt};
  r.active_holds_max = kCapDefault;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<core::Result<core::Hold>> answer;
  std::weak_ptr<const core::Layout> kept;
  {
    auto layout = std::make_shared<const core::Layout>(layout_);
    kept = layout;
    ASSERT_TRUE(engine_.try_hold_seats_async(event_, std::move(layout), r, t0_, [&](core::Result<core::Hold> h) {
      std::lock_guard lock(mu);
      answer = std::move(h);
      cv.notify_all();
    }));
  }
  EXPECT_FALSE(kept.expired());  // the engine holds it until the registry answers
  while (registry_.answer_batch()) {
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return answer.has_value(); }));
  ASSERT_TRUE(answer->ok()) << answer->error().message;
  // Row A is seats 0-9 and bob holds 9: the pair nearest the centre of the row that leaves no lone seat.
  EXPECT_EQ((*answer)->seats, (std::vector<core::SeatId>{4, 5}));
  EXPECT_EQ(registry_.reservations, 1 + 1);
  EXPECT_TRUE(kept.expired());
}

// A hold the seats refuse now (taken, too few free, past the ticket limit) is answered on the caller's
// thread, before the registry is asked: most holds of a sold-out sale cost no round trip to Redis and
// leave no reservation to take back.
TEST_F(SeatEngineUserHoldsTest, AHoldItsSeatsRefuseIsAnsweredWithoutAskingTheRegistry) {
  core::HoldRequest taken = request(alice_, 9, kCapDefault);  // bob holds seat 9
  core::HoldRequest too_many = request(alice_, 0, kCapDefault);
  too_many.seats = {0, 1, 2, 3, 4};  // a ticket limit of 4
  core::HoldRequest sold_out;
  sold_out.user_id = alice_;
  sold_out.best = core::BestAvailableRequest{10, std::nullopt};  // 9 seats are free
  sold_out.active_holds_max = kCapDefault;
  const auto layout = std::make_shared<const core::Layout>(layout_);
  std::vector<core::Code> heard;  // answered before try_hold_seats_async returned
  for (const core::HoldRequest& r : {taken, too_many, sold_out})
    ASSERT_TRUE(engine_.try_hold_seats_async(event_, layout, r, t0_, [&](core::Result<core::Hold> h) {
      ASSERT_FALSE(h.ok());
      heard.push_back(h.error().code);
    }));
  EXPECT_EQ(heard, (std::vector<core::Code>{core::Code::SeatUnavailable, core::Code::TicketLimitExceeded,
                                            core::Code::InsufficientSeats}));
  EXPECT_FALSE(registry_.answer_batch());  // nothing was queued for it
  EXPECT_EQ(registry_.reservations, 1);    // bob's
  EXPECT_EQ(registry_.counted(alice_), 0u);
  // The seats that are free still go through the registry.
  const auto answers = hold_together(2, kCapDefault);
  EXPECT_EQ(std::count_if(answers.begin(), answers.end(), [](const auto& a) { return a.ok(); }), 2);
  EXPECT_EQ(registry_.reservations, 1 + 2);
}

}  // namespace
}  // namespace ticketd::conformance
