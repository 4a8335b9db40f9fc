// The seat engine forgets an event whose decision did not become durable, and loads it again from the
// journal. A failure that arrives after the event was already loaded again (an owner that lost the
// event, took it back, and only then heard its older batch refused) must not throw away the new load:
// it would fail every decision made on it since, and under a sale that repeats as long as it lasts.
// (The same journal, counting its reads of holds, shows that a buyer's live hold is found and checked
// out from memory.)
#include <gtest/gtest.h>

#include "ledger_backends.hpp"
#include "store/sqlite/seat_journal.hpp"

namespace ticketd::conformance {
namespace {

using namespace std::chrono_literals;

// The SQLite journal, counting loads, and holding back the next hold's decision (never written) until
// the test fails it.
class HeldBackJournal final : public core::SeatJournal {
 public:
  explicit HeldBackJournal(core::SeatJournal& inner) : inner_(inner) {}

  int loads = 0;
  int hold_reads = 0;
  bool hold_back_next_hold = false;
  Done held_back;

  core::Result<core::JournalEvent> load_event(core::EventId event, TimeMs now) override {
    ++loads;
    return inner_.load_event(event, now);
  }
  void record(core::SeatDecision decision, Done done, Failure failure) override {
    if (hold_back_next_hold && std::holds_alternative<core::HoldPlaced>(decision)) {
      hold_back_next_hold = false;
      held_back = std::move(done);
      return;
    }
    inner_.record(std::move(decision), std::move(done), failure);
  }

  std::vector<core::JournalActiveHold> active_holds() override { return inner_.active_holds(); }
  core::HoldId next_hold_id() override { return inner_.next_hold_id(); }
  core::BookingId next_booking_id() override { return inner_.next_booking_id(); }
  core::PaymentId next_payment_id() override { return inner_.next_payment_id(); }
  std::optional<core::Hold> hold(core::HoldId id) override {
    ++hold_reads;
    return inner_.hold(id);
  }
  std::optional<core::Booking> booking(core::BookingId id) override { return inner_.booking(id); }
  std::optional<core::CheckoutRecord> checkout(core::UserId user, const std::string& key) override {
    return inner_.checkout(user, key);
  }
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& ref) override {
    return inner_.booking_by_payment_ref(ref);
  }
  std::vector<core::BookingId> bookings_of(core::UserId user, uint32_t limit, core::BookingId before,
                                           bool include_failed) override {
    return inner_.bookings_of(user, limit, before, include_failed);
  }
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after,
                                                          uint32_t limit) override {
    return inner_.payments_to_reconcile(older_than, after, limit);
  }
  core::Status record_refund(core::BookingId booking, const std::string& ref) override {
    return inner_.record_refund(booking, ref);
  }
  bool payment_event_seen(const std::string& id) override { return inner_.payment_event_seen(id); }
  core::Status record_payment_event(const std::string& id, const std::string& type, TimeMs now) override {
    return inner_.record_payment_event(id, type, now);
  }
  std::optional<core::SeatRefundRecord> seat_refund(int64_t id) override { return inner_.seat_refund(id); }
  int64_t seat_refunds_total(core::BookingId booking) override { return inner_.seat_refunds_total(booking); }
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override {
    return inner_.tickets_of_booking(booking);
  }
  std::optional<core::Ticket> ticket(const std::string& id) override { return inner_.ticket(id); }
  size_t mark_expired(const std::vector<core::Hold>& expired, TimeMs unloaded_before) override {
    return inner_.mark_expired(expired, unloaded_before);
  }

 private:
  core::SeatJournal& inner_;
};

class SeatEngineReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    event_ = stored_row_event(catalog_, "Reloaded", 10, 10, layout_, t0_);
    alice_ = stored_user(accounts_, "alice", t0_);
    bob_ = stored_user(accounts_, "bob", t0_);
  }

  core::HoldRequest request(core::UserId user, std::vector<core::SeatId> seats) {
    core::HoldRequest r;
    r.user_id = user;
    r.seats = std::move(seats);
    return r;
  }

  test_support::TempDir dir_;
  store::sqlite::Database db_{dir_.path.string(), nullptr};
  store::sqlite::SqliteCatalogStore catalog_{db_};
  store::sqlite::SqliteAccountStore accounts_{db_};
  store::sqlite::SqliteSeatJournal sqlite_journal_{db_};
  HeldBackJournal journal_{sqlite_journal_};
  app::RandomTicketIds ticket_ids_;
  store::engine::SeatEngine engine_{journal_, ticket_ids_};
  core::Layout layout_;
  core::Event event_;
  core::UserId alice_ = 0, bob_ = 0;
  TimeMs t0_ = from_unix_ms(1'900'000'000'000);
};

TEST_F(SeatEngineReloadTest, AFailureOfTheCurrentLoadForgetsTheEvent) {
  ASSERT_TRUE(engine_.hold_seats(event_, layout_, request(alice_, {1}), t0_).ok());
  ASSERT_EQ(journal_.loads, 1);
  journal_.hold_back_next_hold = true;
  std::optional<core::Result<core::Hold>> answer;
  ASSERT_TRUE(engine_.try_hold_seats_async(event_, std::make_shared<const core::Layout>(layout_), request(bob_, {2}),
                                           t0_, [&](core::Result<core::Hold> r) { answer = std::move(r); }));
  ASSERT_TRUE(journal_.held_back);
  journal_.held_back(core::make_error(core::Code::Unavailable, "the batch failed"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_FALSE(answer->ok());
  // Memory was ahead of the journal: the event is read again, and bob's seat is free there.
  ASSERT_EQ(engine_.seat_map(event_, t0_)->status.substr(0, 3), "AHA");
  EXPECT_EQ(journal_.loads, 2);
}

TEST_F(SeatEngineReloadTest, AFailureOfAnOlderLoadKeepsTheEventLoadedSince) {
  ASSERT_TRUE(engine_.hold_seats(event_, layout_, request(alice_, {1}), t0_).ok());
  journal_.hold_back_next_hold = true;
  std::optional<core::Result<core::Hold>> answer;
  ASSERT_TRUE(engine_.try_hold_seats_async(event_, std::make_shared<const core::Layout>(layout_), request(bob_, {2}),
                                           t0_, [&](core::Result<core::Hold> r) { answer = std::move(r); }));
  ASSERT_TRUE(journal_.held_back);
  // The event is lost and loaded again (as an owner's is) before bob's decision is heard of; alice
  // holds another seat on the new load.
  engine_.forget_event(event_.id);
  ASSERT_TRUE(engine_.hold_seats(event_, layout_, request(alice_, {3}), t0_ + 1s).ok());
  ASSERT_EQ(journal_.loads, 2);
  journal_.held_back(core::make_error(core::Code::Unavailable, "refused by the fence"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_FALSE(answer->ok());
  EXPECT_EQ(engine_.seat_map(event_, t0_ + 1s)->status.substr(0, 4), "AHAH");
  EXPECT_EQ(journal_.loads, 2) << "the load made after the failed decision was thrown away";
}

// A buyer's look at their live hold and the checkout that follows are the common case of a sale: the
// hold is in memory (listed as the user's), so neither reads its row. Anything else still does.
TEST_F(SeatEngineReloadTest, ALiveHoldIsFoundAndCheckedOutWithoutReadingItsRow) {
  auto held = engine_.hold_seats(event_, layout_, request(alice_, {1}), t0_);
  ASSERT_TRUE(held.ok());
  journal_.hold_reads = 0;
  auto found = engine_.find_hold(held->id, alice_, t0_);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->state, core::HoldState::Active);
  EXPECT_EQ(found->seats, std::vector<core::SeatId>{1});
  auto record = engine_.begin_checkout(held->id, alice_, core::CheckoutStart{"k", 100, "USD", "pm_card_visa"}, t0_);
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->event_id, event_.id);
  EXPECT_EQ(journal_.hold_reads, 0);
  // Someone else's hold is not theirs, in memory or not.
  EXPECT_EQ(engine_.find_hold(held->id, bob_, t0_).error().code, core::Code::NotFound);
  EXPECT_EQ(engine_.begin_checkout(held->id, bob_, core::CheckoutStart{"k", 100, "USD", "pm_card_visa"}, t0_)
                .error()
                .code,
            core::Code::NotFound);
  // A hold that lapsed is no longer listed: its row tells.
  auto other = engine_.hold_seats(event_, layout_, request(bob_, {2}), t0_);
  ASSERT_TRUE(other.ok());
  const TimeMs later = other->expires_at + 1s;
  journal_.hold_reads = 0;
  auto lapsed = engine_.find_hold(other->id, bob_, later);
  ASSERT_TRUE(lapsed.ok());
  EXPECT_EQ(lapsed->state, core::HoldState::Expired);
  EXPECT_EQ(engine_.begin_checkout(other->id, bob_, core::CheckoutStart{"k2", 100, "USD", "pm_card_visa"}, later)
                .error()
                .code,
            core::Code::HoldExpired);
  EXPECT_GT(journal_.hold_reads, 0);
}

}  // namespace
}  // namespace ticketd::conformance
