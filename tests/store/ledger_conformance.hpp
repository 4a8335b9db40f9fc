// One behavioural suite for every core::Ledger: the reference (store/memory), the embedded (SQLite) and
// the distributed (PostgreSQL) ledger answer the same calls the same way. A backend is a class with:
//   core::Ledger& ledger();
//   core::Event add_event(core::Event e, const core::Layout& layout, TimeMs now);  // stored, id given
//   core::UserId add_user(const std::string& name, TimeMs now);
//   void move_event(const core::Event& e, TimeMs now);  // new dates stored, then the ledger told, as the
//                                                       // catalogue does on a postponement
//   void restart();  // a durable ledger is rebuilt from its storage (a crash between calls); memory: no-op
// Each test gets a fresh backend. Time is injected (t0_ and offsets), so lapses never wait.
//
// Instantiated in ledger_conformance_test.cpp (memory, SQLite) and pg_ledger_conformance_test.cpp
// (PostgreSQL, under scripts/services).
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/layout.hpp"
#include "core/limits.hpp"
#include "core/ports/ledger.hpp"

namespace ticketd::conformance {

using core::Code;
using Kind = core::PaymentOutcome::Kind;

// The code a call was refused with; nullopt when it succeeded (so a wrong success fails the test
// instead of tripping Result's assertion).
template <class T>
std::optional<Code> code_of(const core::Result<T>& r) {
  return r.ok() ? std::nullopt : std::optional<Code>(r.error().code);
}

template <class Backend>
class LedgerConformance : public ::testing::Test {
 protected:
  // 30 seats: Floor rows A and B (ids 0-19, "standard"), Balcony row C (ids 20-29, "value").
  LedgerConformance() {
    core::LayoutSpec spec{"Hall",
                          {core::SectionSpec{"Floor", "standard", {core::RowSpec{"A", 10, {}, {}, {}},
                                                                   core::RowSpec{"B", 10, {}, {}, {}}}},
                           core::SectionSpec{"Balcony", "value", {core::RowSpec{"C", 10, {}, {}, {}}}}}};
    layout_ = *core::Layout::build(spec);
    event_ = make_event(t0_ - Millis(1000));
    alice_ = backend_.add_user("alice", t0_);
    bob_ = backend_.add_user("bob", t0_);
  }

  core::Event make_event(TimeMs on_sale_at, uint32_t max_per_user = 6) {
    core::Event e;
    e.name = "Conformance night";
    e.on_sale_at = on_sale_at;
    e.starts_at = t0_ + std::chrono::days(30);
    e.currency = "USD";
    e.prices = {{"standard", 5000}, {"value", 3000}};
    e.max_tickets_per_user = max_per_user;
    e.seats_total = layout_.seats_total();
    return backend_.add_event(e, layout_, t0_);
  }

  core::Ledger& ledger() { return backend_.ledger(); }

  core::Result<core::Hold> hold(core::UserId u, std::vector<core::SeatId> seats, TimeMs now,
                                Millis ttl = Millis(600'000), const core::Event* event = nullptr,
                                uint32_t active_holds_max = core::limits::active_holds_per_user_default) {
    core::HoldRequest r;
    r.user_id = u;
    r.seats = std::move(seats);
    r.ttl = ttl;
    r.active_holds_max = active_holds_max;
    return ledger().hold_seats(event ? *event : event_, layout_, r, now);
  }

  core::Result<core::Hold> best(core::UserId u, uint32_t quantity, TimeMs now, std::optional<uint32_t> section = {}) {
    core::HoldRequest r;
    r.user_id = u;
    r.best = core::BestAvailableRequest{quantity, section};
    return ledger().hold_seats(event_, layout_, r, now);
  }

  core::Result<core::CheckoutRecord> checkout(core::HoldId h, core::UserId u, TimeMs now, const std::string& key = "") {
    return ledger().begin_checkout(
        h, u, core::CheckoutStart{key.empty() ? "key-" + std::to_string(h) : key, 10000, "USD", "pm_card_visa"}, now);
  }

  core::Result<core::Settlement> settle(core::BookingId b, Kind kind, TimeMs now, const std::string& event_id = "") {
    core::PaymentOutcome o;
    o.kind = kind;
    o.payment_ref = "pi_" + std::to_string(b);
    o.event_id = event_id;
    if (kind == Kind::Declined || kind == Kind::Rejected) {
      o.decline_code = "card_declined";
      o.message = "Your card was declined.";
    }
    return ledger().settle_payment(b, o, now);
  }

  // A try_ call's answer, waited for (it may come on the store's commit thread); nullopt when the call
  // was not taken. `start` calls the try_ with the completion it is given.
  template <class T, class Start>
  static std::optional<core::Result<T>> answer_of(Start start) {
    std::promise<core::Result<T>> answered;
    std::future<core::Result<T>> answer = answered.get_future();
    if (!start([&answered](core::Result<T> r) { answered.set_value(std::move(r)); })) return std::nullopt;
    return answer.get();
  }

  std::optional<core::Result<core::CheckoutRecord>> checkout_async(core::HoldId h, core::UserId u, TimeMs now,
                                                                   const std::string& key) {
    const core::CheckoutStart start{key, 10000, "USD", "pm_card_visa"};
    return answer_of<core::CheckoutRecord>([&](const core::Ledger::CheckoutDone& done) {
      return ledger().try_begin_checkout_async(h, u, start, now, done);
    });
  }

  std::optional<core::Result<core::Settlement>> settle_async(core::BookingId b, Kind kind, TimeMs now) {
    core::PaymentOutcome o;
    o.kind = kind;
    o.payment_ref = "pi_" + std::to_string(b);
    if (kind == Kind::Declined || kind == Kind::Rejected) {
      o.decline_code = "card_declined";
      o.message = "Your card was declined.";
    }
    return answer_of<core::Settlement>(
        [&](const core::Ledger::SettleDone& done) { return ledger().try_settle_payment_async(b, o, now, done); });
  }

  // The booking answered is the booking as stored, field by field.
  void expect_as_stored(const core::Booking& b) {
    const std::optional<core::Booking> stored = ledger().booking_by_id(b.id);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(std::tie(b.id, b.hold_id, b.event_id, b.user_id, b.status, b.seats, b.total_amount, b.currency),
              std::tie(stored->id, stored->hold_id, stored->event_id, stored->user_id, stored->status, stored->seats,
                       stored->total_amount, stored->currency));
    EXPECT_EQ(std::tie(b.payment_id, b.payment_ref, b.created_at, b.cancelled_at, b.decline_code, b.message),
              std::tie(stored->payment_id, stored->payment_ref, stored->created_at, stored->cancelled_at,
                       stored->decline_code, stored->message));
  }

  // A confirmed booking of `seats` for `u`, bought at t0_.
  core::Booking buy(core::UserId u, std::vector<core::SeatId> seats) {
    auto h = hold(u, std::move(seats), t0_);
    EXPECT_TRUE(h.ok()) << (h.ok() ? "" : h.error().message);
    auto c = checkout(h->id, u, t0_);
    EXPECT_TRUE(c.ok());
    auto s = settle(c->booking_id, Kind::Succeeded, t0_);
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s->booking.status, core::BookingStatus::Confirmed);
    return s->booking;
  }

  std::string map(TimeMs now, const core::Event* event = nullptr) {
    auto m = ledger().seat_map(event ? *event : event_, now);
    EXPECT_TRUE(m.ok());
    return m.ok() ? m->status : "";
  }

  Backend backend_;
  TimeMs t0_ = from_unix_ms(1'900'000'000'000);
  core::Layout layout_;
  core::Event event_;
  core::UserId alice_ = 0;
  core::UserId bob_ = 0;
};

TYPED_TEST_SUITE_P(LedgerConformance);

TYPED_TEST_P(LedgerConformance, AHoldIsAllOrNothingAndNamesTheTakenSeats) {
  auto a = this->hold(this->alice_, {1, 2}, this->t0_);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->state, core::HoldState::Active);
  EXPECT_EQ(a->expires_at, this->t0_ + Millis(600'000));
  auto clash = this->hold(this->bob_, {2, 3}, this->t0_);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(code_of(clash), Code::SeatUnavailable);
  EXPECT_EQ(clash.error().seats, std::vector<core::SeatId>{2});
  EXPECT_EQ(this->map(this->t0_).substr(0, 5), "AHHAA");  // seat 3 was not taken by the refused hold
  EXPECT_TRUE(this->hold(this->bob_, {3}, this->t0_).ok());
}

// hold_seats_each (a waiting list's round of offers): each request answered as it would be alone, in
// the order given, whether or not the event was in memory before, and durable when answered.
TYPED_TEST_P(LedgerConformance, HoldsDecidedTogetherAreEachDecidedAsAloneInTheirOrder) {
  auto req = [](core::UserId u, std::vector<core::SeatId> seats) {
    core::HoldRequest r;
    r.user_id = u;
    r.seats = std::move(seats);
    return r;
  };
  EXPECT_TRUE(this->ledger().hold_seats_each(this->event_, this->layout_, {}, this->t0_).empty());
  auto first = this->ledger().hold_seats_each(
      this->event_, this->layout_,
      {req(this->alice_, {0, 1}), req(this->bob_, {1, 2}), req(this->bob_, {3}), req(this->alice_, {30}),
       req(this->alice_, {4})},
      this->t0_);
  ASSERT_EQ(first.size(), 5u);
  ASSERT_TRUE(first[0].ok());
  EXPECT_EQ(first[0]->seats, (std::vector<core::SeatId>{0, 1}));
  EXPECT_EQ(first[0]->user_id, this->alice_);
  ASSERT_EQ(code_of(first[1]), Code::SeatUnavailable);
  EXPECT_EQ(first[1].error().seats, std::vector<core::SeatId>{1});
  ASSERT_TRUE(first[2].ok());
  EXPECT_EQ(first[2]->user_id, this->bob_);
  EXPECT_EQ(code_of(first[3]), Code::InvalidSeat);
  ASSERT_TRUE(first[4].ok());
  EXPECT_NE(first[0]->id, first[2]->id);
  EXPECT_NE(first[2]->id, first[4]->id);
  // The event is in memory now: a seat two requests want still goes to the earlier one.
  auto second = this->ledger().hold_seats_each(this->event_, this->layout_,
                                               {req(this->bob_, {5}), req(this->alice_, {5, 6})}, this->t0_);
  ASSERT_EQ(second.size(), 2u);
  ASSERT_TRUE(second[0].ok());
  EXPECT_EQ(second[0]->user_id, this->bob_);
  EXPECT_EQ(code_of(second[1]), Code::SeatUnavailable);
  this->backend_.restart();
  EXPECT_EQ(this->map(this->t0_).substr(0, 8), "HHAHHHAA");
  EXPECT_EQ(this->ledger().find_hold(first[2]->id, this->bob_, this->t0_)->seats, std::vector<core::SeatId>{3});
  EXPECT_EQ(this->ledger().find_hold(second[0]->id, this->bob_, this->t0_)->seats, std::vector<core::SeatId>{5});
}

TYPED_TEST_P(LedgerConformance, BadSeatListsAreRefused) {
  EXPECT_EQ(code_of(this->hold(this->alice_, {}, this->t0_)), Code::InvalidRequest);
  EXPECT_EQ(code_of(this->hold(this->alice_, {4, 4}, this->t0_)), Code::InvalidRequest);
  EXPECT_EQ(code_of(this->hold(this->alice_, {30}, this->t0_)), Code::InvalidSeat);
  EXPECT_EQ(this->map(this->t0_), std::string(30, 'A'));
}

TYPED_TEST_P(LedgerConformance, NothingIsHeldOutsideTheSaleWindowUntilTheDatesMove) {
  core::Event later = this->make_event(this->t0_ + Millis(60'000));
  EXPECT_EQ(code_of(this->hold(this->alice_, {0}, this->t0_, Millis(600'000), &later)), Code::SaleNotOpen);
  EXPECT_EQ(this->map(this->t0_, &later), std::string(30, 'A'));  // the event is known to the ledger now
  later.on_sale_at = this->t0_ - Millis(1);
  this->backend_.move_event(later, this->t0_);
  EXPECT_TRUE(this->hold(this->alice_, {0}, this->t0_, Millis(600'000), &later).ok());
}

TYPED_TEST_P(LedgerConformance, AReleaseFreesTheSeatsAndASecondOneChangesNothing) {
  auto a = this->hold(this->alice_, {5, 6}, this->t0_);
  ASSERT_TRUE(a.ok());
  auto released = this->ledger().release_hold(a->id, this->alice_, this->t0_);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(this->map(this->t0_).substr(5, 2), "AA");
  auto again = this->ledger().release_hold(a->id, this->alice_, this->t0_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, core::HoldState::Released);
  EXPECT_EQ(this->ledger().find_hold(a->id, this->alice_, this->t0_)->state, core::HoldState::Released);
  EXPECT_TRUE(this->hold(this->bob_, {5, 6}, this->t0_).ok());
}

TYPED_TEST_P(LedgerConformance, AnotherUsersHoldIsNotFound) {
  auto a = this->hold(this->alice_, {7}, this->t0_);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(code_of(this->ledger().find_hold(a->id, this->bob_, this->t0_)), Code::NotFound);
  EXPECT_EQ(code_of(this->ledger().release_hold(a->id, this->bob_, this->t0_)), Code::NotFound);
  EXPECT_EQ(code_of(this->checkout(a->id, this->bob_, this->t0_)), Code::NotFound);
  EXPECT_EQ(code_of(this->ledger().find_hold(a->id + 1000, this->alice_, this->t0_)), Code::NotFound);
  EXPECT_EQ(this->map(this->t0_)[7], 'H');
}

TYPED_TEST_P(LedgerConformance, ALapsedHoldFreesItsSeatsWithoutASweep) {
  auto a = this->hold(this->alice_, {8, 9}, this->t0_, Millis(1000));
  ASSERT_TRUE(a.ok());
  const TimeMs later = this->t0_ + Millis(1000);
  EXPECT_EQ(this->map(later).substr(8, 2), "AA");
  EXPECT_EQ(this->ledger().find_hold(a->id, this->alice_, later)->state, core::HoldState::Expired);
  EXPECT_EQ(code_of(this->checkout(a->id, this->alice_, later)), Code::HoldExpired);
  EXPECT_TRUE(this->hold(this->bob_, {8, 9}, later).ok());
  this->ledger().sweep_expired(later + core::limits::checkout_pin_max + Millis(1));
  EXPECT_EQ(this->ledger().find_hold(a->id, this->alice_, later)->state, core::HoldState::Expired);
  EXPECT_EQ(this->map(later).substr(8, 2), "HH");  // bob's hold is untouched by the sweep
}

TYPED_TEST_P(LedgerConformance, TheTicketLimitCountsHeldAndBoughtSeats) {
  this->buy(this->alice_, {0, 1, 2});
  ASSERT_TRUE(this->hold(this->alice_, {3, 4}, this->t0_).ok());
  auto over = this->hold(this->alice_, {5, 6}, this->t0_);  // 3 bought + 2 held + 2 > 6
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(code_of(over), Code::TicketLimitExceeded);
  EXPECT_TRUE(this->hold(this->alice_, {5}, this->t0_).ok());
  EXPECT_TRUE(this->hold(this->bob_, {6, 7, 8, 9, 10, 11}, this->t0_).ok());
}

TYPED_TEST_P(LedgerConformance, LiveHoldsAreCappedPerUserAcrossEvents) {
  const core::Event second = this->make_event(this->t0_ - Millis(1000));
  ASSERT_TRUE(this->hold(this->alice_, {0}, this->t0_, Millis(600'000), nullptr, 2).ok());
  auto lapsing = this->hold(this->alice_, {0}, this->t0_, Millis(1000), &second, 2);
  ASSERT_TRUE(lapsing.ok());
  auto third = this->hold(this->alice_, {1}, this->t0_, Millis(600'000), &second, 2);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(code_of(third), Code::ActiveHoldsLimitExceeded);
  EXPECT_TRUE(this->hold(this->bob_, {1}, this->t0_, Millis(600'000), &second, 2).ok());  // per user
  // A lapsed hold no longer counts, nor does a released one.
  EXPECT_TRUE(this->hold(this->alice_, {2}, this->t0_ + Millis(1000), Millis(600'000), &second, 2).ok());
  EXPECT_FALSE(this->hold(this->alice_, {3}, this->t0_ + Millis(1000), Millis(600'000), &second, 2).ok());
}

TYPED_TEST_P(LedgerConformance, ACheckoutPinsTheHoldAndASuccessSellsItsSeatsWithTickets) {
  auto a = this->hold(this->alice_, {10, 11}, this->t0_, Millis(1000));
  ASSERT_TRUE(a.ok());
  auto c = this->checkout(a->id, this->alice_, this->t0_, "k-1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->status, core::BookingStatus::PendingPayment);
  EXPECT_EQ(c->payment_status, "PENDING");
  EXPECT_EQ(c->amount, 10000);
  EXPECT_EQ(c->gateway_key, "ticketd-booking-" + std::to_string(c->booking_id));
  EXPECT_EQ(code_of(this->checkout(a->id, this->alice_, this->t0_, "k-2")), Code::CheckoutInProgress);
  const TimeMs past_deadline = this->t0_ + Millis(60'000);  // the hold's own deadline passed; the pin holds it
  EXPECT_EQ(this->map(past_deadline).substr(10, 2), "HH");
  EXPECT_EQ(code_of(this->hold(this->bob_, {11}, past_deadline)), Code::SeatUnavailable);
  auto s = this->settle(c->booking_id, Kind::Succeeded, past_deadline, "evt_ok");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->refund_needed);
  EXPECT_EQ(s->booking.status, core::BookingStatus::Confirmed);
  EXPECT_EQ(s->booking.seats, (std::vector<core::SeatId>{10, 11}));
  EXPECT_EQ(s->booking.payment_ref, "pi_" + std::to_string(c->booking_id));
  EXPECT_TRUE(this->ledger().payment_event_seen("evt_ok"));
  EXPECT_EQ(this->map(past_deadline).substr(10, 2), "SS");
  EXPECT_EQ(this->ledger().find_hold(a->id, this->alice_, past_deadline)->state, core::HoldState::Converted);
  auto record = this->ledger().find_checkout(this->alice_, "k-1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->status, core::BookingStatus::Confirmed);
  EXPECT_EQ(record->payment_status, "SUCCEEDED");
  EXPECT_FALSE(this->ledger().find_checkout(this->bob_, "k-1").has_value());
  const auto tickets = this->ledger().tickets_of_booking(c->booking_id);
  ASSERT_EQ(tickets.size(), 2u);
  for (size_t i = 0; i < tickets.size(); ++i) {
    EXPECT_EQ(tickets[i].seat, 10 + i);
    EXPECT_EQ(tickets[i].owner_id, this->alice_);
    EXPECT_EQ(tickets[i].status, core::TicketStatus::Valid);
    EXPECT_EQ(tickets[i].key_id, 1u);
    EXPECT_EQ(tickets[i].id.size(), 32u);
    EXPECT_EQ(this->ledger().find_ticket(tickets[i].id)->booking_id, c->booking_id);
  }
  EXPECT_EQ(this->ledger().booking_by_payment_ref(s->booking.payment_ref), c->booking_id);
  EXPECT_EQ(code_of(this->ledger().release_hold(a->id, this->alice_, past_deadline)), Code::HoldNotActive);
  EXPECT_EQ(code_of(this->checkout(a->id, this->alice_, past_deadline, "k-3")), Code::HoldNotActive);
}

// The booking a sale answers is the booking as stored, field by field: an owner answers it from the
// checkout it began in memory, without reading it back. Seats held out of order are listed in order.
TYPED_TEST_P(LedgerConformance, ASaleAnswersTheBookingAsStored) {
  auto a = this->hold(this->alice_, {13, 12}, this->t0_);
  ASSERT_TRUE(a.ok());
  auto c = this->checkout(a->id, this->alice_, this->t0_ + Millis(5));
  ASSERT_TRUE(c.ok());
  auto s = this->settle(c->booking_id, Kind::Succeeded, this->t0_ + Millis(9));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->booking.seats, (std::vector<core::SeatId>{12, 13}));
  this->expect_as_stored(s->booking);
  EXPECT_EQ(s->booking.created_at, this->t0_ + Millis(5));
}

// A ledger that decides checkouts without blocking (Ledger::try_begin_checkout_async, try_settle_payment_async)
// decides them as the blocking calls do, and answers what is stored; what it cannot decide from memory
// it leaves to them.
TYPED_TEST_P(LedgerConformance, ACheckoutDecidedWithoutBlockingIsTheBlockingOnesDecision) {
  if (!this->ledger().checkouts_without_blocking()) GTEST_SKIP() << "this ledger checks out only by blocking calls";
  auto a = this->hold(this->alice_, {13, 12}, this->t0_);
  ASSERT_TRUE(a.ok());
  const std::optional<core::Hold> kept = this->ledger().hold_as_taken_in_memory(a->id, this->alice_);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->seats, a->seats);
  EXPECT_FALSE(this->ledger().hold_as_taken_in_memory(a->id, this->bob_).has_value());
  EXPECT_FALSE(this->checkout_async(a->id, this->bob_, this->t0_, "bobs").has_value());  // not bob's: not taken
  auto c = this->checkout_async(a->id, this->alice_, this->t0_ + Millis(5), "k-1");
  ASSERT_TRUE(c.has_value() && c->ok());
  EXPECT_EQ((*c)->status, core::BookingStatus::PendingPayment);
  EXPECT_EQ((*c)->amount, 10000);
  EXPECT_EQ(code_of(*this->checkout_async(a->id, this->alice_, this->t0_ + Millis(6), "k-2")),
            Code::CheckoutInProgress);
  auto again = this->checkout_async(a->id, this->alice_, this->t0_ + Millis(6), "k-1");  // the same checkout again
  ASSERT_TRUE(again.has_value() && again->ok());
  EXPECT_EQ((*again)->booking_id, (*c)->booking_id);
  EXPECT_EQ(this->ledger().find_checkout(this->alice_, "k-1")->booking_id, (*c)->booking_id);
  const std::vector<std::optional<core::CheckoutRecord>> found =
      this->ledger().find_checkouts({{this->alice_, "k-1"}, {this->bob_, "k-1"}, {this->alice_, "k-9"}});
  ASSERT_EQ(found.size(), 3u);
  EXPECT_TRUE(found[0].has_value() && found[0]->booking_id == (*c)->booking_id);
  EXPECT_FALSE(found[1].has_value());
  EXPECT_FALSE(found[2].has_value());
  auto s = this->settle_async((*c)->booking_id, Kind::Succeeded, this->t0_ + Millis(9));
  ASSERT_TRUE(s.has_value() && s->ok());
  EXPECT_EQ((*s)->booking.status, core::BookingStatus::Confirmed);
  EXPECT_EQ((*s)->booking.seats, (std::vector<core::SeatId>{12, 13}));
  this->expect_as_stored((*s)->booking);
  EXPECT_EQ(this->map(this->t0_ + Millis(9)).substr(12, 2), "SS");
  EXPECT_EQ(this->ledger().tickets_of_booking((*c)->booking_id).size(), 2u);
  // Settled already: the store has the answer, and the blocking call reads it.
  EXPECT_FALSE(this->settle_async((*c)->booking_id, Kind::Declined, this->t0_ + Millis(10)).has_value());
  EXPECT_FALSE(this->checkout_async(a->id, this->alice_, this->t0_ + Millis(10), "k-3").has_value());  // ended
}

TYPED_TEST_P(LedgerConformance, AFailedPaymentDecidedWithoutBlockingAnswersTheBookingAsStored) {
  if (!this->ledger().checkouts_without_blocking()) GTEST_SKIP() << "this ledger checks out only by blocking calls";
  auto declined = this->hold(this->alice_, {14}, this->t0_);
  auto awaiting = this->hold(this->alice_, {15}, this->t0_);
  auto rejected = this->hold(this->bob_, {16}, this->t0_);
  ASSERT_TRUE(declined.ok() && awaiting.ok() && rejected.ok());
  auto c1 = this->checkout_async(declined->id, this->alice_, this->t0_, "d");
  auto c2 = this->checkout_async(awaiting->id, this->alice_, this->t0_, "w");
  auto c3 = this->checkout_async(rejected->id, this->bob_, this->t0_, "r");
  ASSERT_TRUE(c1.has_value() && c1->ok() && c2.has_value() && c2->ok() && c3.has_value() && c3->ok());
  auto s1 = this->settle_async((*c1)->booking_id, Kind::Declined, this->t0_);
  auto s2 = this->settle_async((*c2)->booking_id, Kind::AwaitingAction, this->t0_);
  auto s3 = this->settle_async((*c3)->booking_id, Kind::Rejected, this->t0_);
  ASSERT_TRUE(s1.has_value() && s1->ok() && s2.has_value() && s2->ok() && s3.has_value() && s3->ok());
  EXPECT_EQ((*s1)->booking.status, core::BookingStatus::Failed);
  EXPECT_EQ((*s1)->booking.decline_code, "card_declined");
  EXPECT_EQ((*s2)->booking.status, core::BookingStatus::PendingPayment);
  EXPECT_EQ((*s3)->booking.status, core::BookingStatus::Failed);
  for (const auto* s : {&*s1, &*s2, &*s3}) this->expect_as_stored((*s)->booking);
  EXPECT_EQ(this->map(this->t0_).substr(14, 3), "AHH");  // declined: free; awaiting and rejected: still held
  EXPECT_EQ(this->ledger().find_hold(rejected->id, this->bob_, this->t0_)->state, core::HoldState::Active);
}

TYPED_TEST_P(LedgerConformance, ABookingIsSettledOnceWhateverComesLater) {
  auto a = this->hold(this->alice_, {12}, this->t0_);
  auto c = this->checkout(a->id, this->alice_, this->t0_);
  ASSERT_TRUE(this->settle(c->booking_id, Kind::Succeeded, this->t0_).ok());
  auto late = this->settle(c->booking_id, Kind::Declined, this->t0_, "evt_late");
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->booking.status, core::BookingStatus::Confirmed);
  EXPECT_TRUE(this->ledger().payment_event_seen("evt_late"));
  EXPECT_EQ(this->ledger().tickets_of_booking(c->booking_id).size(), 1u);
  EXPECT_EQ(code_of(this->ledger().settle_payment(c->booking_id + 1000, core::PaymentOutcome{}, this->t0_)),
            Code::NotFound);
}

TYPED_TEST_P(LedgerConformance, ADeclineFailsTheBookingAndFreesTheSeatsAtOnce) {
  auto a = this->hold(this->alice_, {13, 14}, this->t0_);
  auto c = this->checkout(a->id, this->alice_, this->t0_);
  auto s = this->settle(c->booking_id, Kind::Declined, this->t0_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->booking.status, core::BookingStatus::Failed);
  EXPECT_EQ(s->booking.decline_code, "card_declined");
  EXPECT_EQ(this->map(this->t0_).substr(13, 2), "AA");
  EXPECT_EQ(this->ledger().find_hold(a->id, this->alice_, this->t0_)->state, core::HoldState::Released);
  EXPECT_EQ(code_of(this->checkout(a->id, this->alice_, this->t0_, "again")), Code::HoldNotActive);
  EXPECT_EQ(this->ledger().find_checkout(this->alice_, "key-" + std::to_string(a->id))->payment_status, "DECLINED");
  EXPECT_TRUE(this->ledger().tickets_of_booking(c->booking_id).empty());
}

TYPED_TEST_P(LedgerConformance, ARejectedPaymentLeavesTheHoldToTheBuyer) {
  auto a = this->hold(this->alice_, {15}, this->t0_);
  auto c = this->checkout(a->id, this->alice_, this->t0_);
  auto s = this->settle(c->booking_id, Kind::Rejected, this->t0_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->booking.status, core::BookingStatus::Failed);
  EXPECT_EQ(this->map(this->t0_)[15], 'H');
  EXPECT_EQ(this->ledger().find_hold(a->id, this->alice_, this->t0_)->state, core::HoldState::Active);
  auto retry = this->checkout(a->id, this->alice_, this->t0_, "another-card");
  ASSERT_TRUE(retry.ok());
  EXPECT_NE(retry->booking_id, c->booking_id);
  EXPECT_TRUE(this->settle(retry->booking_id, Kind::Succeeded, this->t0_).ok());
  EXPECT_EQ(this->map(this->t0_)[15], 'S');
}

TYPED_TEST_P(LedgerConformance, AwaitingAuthenticationKeepsTheSeatsPastACheckoutsPin) {
  auto a = this->hold(this->alice_, {16}, this->t0_, Millis(1000));
  auto c = this->checkout(a->id, this->alice_, this->t0_);
  auto s = this->settle(c->booking_id, Kind::AwaitingAction, this->t0_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->booking.status, core::BookingStatus::PendingPayment);
  EXPECT_EQ(this->ledger().find_checkout(this->alice_, "key-" + std::to_string(a->id))->payment_status,
            "REQUIRES_ACTION");
  const TimeMs after_checkout_pin = this->t0_ + Millis(1000) + core::limits::checkout_pin_max + Millis(1000);
  EXPECT_EQ(this->map(after_checkout_pin)[16], 'H');
  EXPECT_TRUE(this->settle(c->booking_id, Kind::Succeeded, after_checkout_pin).ok());
  EXPECT_EQ(this->map(after_checkout_pin)[16], 'S');
}

TYPED_TEST_P(LedgerConformance, APaymentAfterTheHoldLapsedSellsFreeSeatsAndRefundsTakenOnes) {
  auto a = this->hold(this->alice_, {17}, this->t0_, Millis(1000));
  auto b = this->hold(this->alice_, {18}, this->t0_, Millis(1000));
  auto ca = this->checkout(a->id, this->alice_, this->t0_);
  auto cb = this->checkout(b->id, this->alice_, this->t0_);
  const TimeMs lapsed = this->t0_ + Millis(1000) + core::limits::checkout_pin_max;
  EXPECT_EQ(this->map(lapsed).substr(17, 2), "AA");  // the pins ran out
  ASSERT_TRUE(this->hold(this->bob_, {18}, lapsed).ok());
  auto free_seat = this->settle(ca->booking_id, Kind::Succeeded, lapsed);
  ASSERT_TRUE(free_seat.ok());
  EXPECT_EQ(free_seat->booking.status, core::BookingStatus::Confirmed);
  EXPECT_FALSE(free_seat->refund_needed);
  auto taken = this->settle(cb->booking_id, Kind::Succeeded, lapsed);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->booking.status, core::BookingStatus::Failed);
  EXPECT_EQ(taken->booking.decline_code, "seats_taken");
  EXPECT_TRUE(taken->refund_needed);
  EXPECT_EQ(this->map(lapsed).substr(17, 2), "SH");
  // The reconciler finds the money to give back until the refund is recorded.
  auto due = this->ledger().payments_to_reconcile(lapsed, 0, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].booking_id, cb->booking_id);
  ASSERT_TRUE(this->ledger().record_refund(cb->booking_id, "re_1").ok());
  EXPECT_TRUE(this->ledger().payments_to_reconcile(lapsed, 0, 10).empty());
}

TYPED_TEST_P(LedgerConformance, PendingPaymentsAreReconciledInOrderFromTheCursor) {
  std::vector<core::CheckoutRecord> started;
  for (core::SeatId seat : {20, 21, 22}) {
    auto h = this->hold(this->bob_, {seat}, this->t0_);
    started.push_back(*this->checkout(h->id, this->bob_, this->t0_ + Millis(seat)));
  }
  EXPECT_TRUE(this->ledger().payments_to_reconcile(this->t0_, 0, 10).empty());  // not old enough yet
  auto page = this->ledger().payments_to_reconcile(this->t0_ + Millis(60'000), 0, 2);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].payment_id, started[0].payment_id);
  EXPECT_EQ(page[1].payment_id, started[1].payment_id);
  auto rest = this->ledger().payments_to_reconcile(this->t0_ + Millis(60'000), page[1].payment_id, 2);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].payment_id, started[2].payment_id);
  EXPECT_EQ(rest[0].status, core::BookingStatus::PendingPayment);
}

TYPED_TEST_P(LedgerConformance, ACancellationFreesTheSeatsRevokesTheTicketsOnce) {
  const core::Booking b = this->buy(this->alice_, {23, 24});
  auto cancelled = this->ledger().cancel_booking(b, "re_cancel", this->t0_);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->status, core::BookingStatus::Cancelled);
  EXPECT_EQ(this->map(this->t0_).substr(23, 2), "AA");
  for (const core::Ticket& t : this->ledger().tickets_of_booking(b.id)) {
    EXPECT_EQ(t.status, core::TicketStatus::Revoked);
    EXPECT_EQ(t.revoked_reason, "booking_cancelled");
  }
  EXPECT_EQ(this->ledger().booking_by_id(b.id)->status, core::BookingStatus::Cancelled);
  ASSERT_TRUE(this->hold(this->bob_, {23}, this->t0_).ok());
  auto again = this->ledger().cancel_booking(b, "re_cancel", this->t0_);  // a second request: same answer
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, core::BookingStatus::Cancelled);
  EXPECT_EQ(this->map(this->t0_).substr(23, 2), "HA");  // bob's hold stands
}

TYPED_TEST_P(LedgerConformance, ARefundOfSomeSeatsFreesThemAndKeepsTheRest) {
  const core::Booking b = this->buy(this->alice_, {25, 26, 27, 28});
  EXPECT_EQ(code_of(this->ledger().refund_seats(b, core::SeatRefund{{25, 25}, 6000}, "re_twice", this->t0_)),
            Code::InvalidRequest);
  auto refunded = this->ledger().refund_seats(b, core::SeatRefund{{25, 27}, 6000}, "re_part", this->t0_);
  ASSERT_TRUE(refunded.ok());
  EXPECT_EQ(refunded->seats, (std::vector<core::SeatId>{26, 28}));
  EXPECT_EQ(this->map(this->t0_).substr(25, 4), "ASAS");
  EXPECT_EQ(this->ledger().seat_refunds_total(b.id), 6000);
  EXPECT_EQ(this->ledger().booking_by_id(b.id)->seats, (std::vector<core::SeatId>{26, 28}));
  EXPECT_EQ(this->ledger().booking_by_id(b.id)->total_amount, b.total_amount);  // what was charged stays
  for (const core::Ticket& t : this->ledger().tickets_of_booking(b.id))
    EXPECT_EQ(t.status == core::TicketStatus::Valid, t.seat == 26 || t.seat == 28) << t.seat;
  EXPECT_EQ(code_of(this->ledger().refund_seats(*refunded, core::SeatRefund{{25}, 3000}, "re_again", this->t0_)),
            Code::InvalidSeat);
  EXPECT_EQ(code_of(this->ledger().refund_seats(*refunded, core::SeatRefund{{26, 28}, 3000}, "re_all", this->t0_)),
            Code::InvalidRequest);  // all of them is a cancellation
  EXPECT_EQ(code_of(this->ledger().refund_seats(*refunded, core::SeatRefund{}, "re_none", this->t0_)),
            Code::InvalidRequest);
  ASSERT_TRUE(this->ledger().cancel_booking(*refunded, "re_rest", this->t0_).ok());
  EXPECT_EQ(code_of(this->ledger().refund_seats(*refunded, core::SeatRefund{{26}, 3000}, "re_late", this->t0_)),
            Code::BookingNotConfirmed);
}

// Resale (docs/resale.md): a listed seat is on offer to anyone but its seller, stays the seller's while a
// buyer holds it (a withdrawal is refused, a released hold gives it back to the listing), and the
// buyer's paid checkout moves it: the seller's ticket revoked, the listed amount refunded, across
// restarts (an owner reloading the event) at every point.
TYPED_TEST_P(LedgerConformance, AListedSeatMovesFromItsSellerToTheBuyerWhoPays) {
  const core::Booking b = this->buy(this->alice_, {10, 11, 12});
  EXPECT_EQ(code_of(this->ledger().change_listing(b, {13, true, 5000}, this->t0_)), Code::InvalidSeat);
  EXPECT_EQ(code_of(this->ledger().change_listing(b, {10, false, 0}, this->t0_)), Code::InvalidSeat);  // not listed
  ASSERT_TRUE(this->ledger().change_listing(b, {10, true, 5000}, this->t0_).ok());
  ASSERT_TRUE(this->ledger().change_listing(b, {12, true, 5000}, this->t0_).ok());
  EXPECT_EQ(this->map(this->t0_).substr(10, 3), "ASA");
  EXPECT_EQ(code_of(this->hold(this->alice_, {10}, this->t0_)), Code::SeatUnavailable);  // not to its seller
  auto held = this->hold(this->bob_, {10, 13}, this->t0_);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(code_of(this->ledger().change_listing(b, {10, false, 0}, this->t0_)), Code::ResaleInProgress);
  this->backend_.restart();
  EXPECT_EQ(this->map(this->t0_).substr(10, 4), "HSAH");
  auto c = this->checkout(held->id, this->bob_, this->t0_);
  ASSERT_TRUE(c.ok());
  auto settled = this->settle(c->booking_id, Kind::Succeeded, this->t0_);
  ASSERT_TRUE(settled.ok());
  EXPECT_TRUE(settled->resold);
  EXPECT_EQ(settled->booking.seats, (std::vector<core::SeatId>{10, 13}));
  EXPECT_EQ(this->ledger().booking_by_id(b.id)->seats, (std::vector<core::SeatId>{11, 12}));
  EXPECT_EQ(this->ledger().seat_refunds_total(b.id), 5000);
  for (const core::Ticket& t : this->ledger().tickets_of_booking(b.id))
    EXPECT_EQ(t.status == core::TicketStatus::Valid, t.seat != 10) << t.seat;
  EXPECT_EQ(this->ledger().tickets_of_booking(c->booking_id).size(), 2u);
  this->backend_.restart();
  EXPECT_EQ(this->map(this->t0_).substr(10, 4), "SSAS");
  // A hold that ends gives the seat back to its listing; then it can be withdrawn.
  auto other = this->hold(this->bob_, {12}, this->t0_);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(this->ledger().release_hold(other->id, this->bob_, this->t0_).ok());
  EXPECT_EQ(this->map(this->t0_)[12], 'A');
  const core::Booking rest = *this->ledger().booking_by_id(b.id);
  ASSERT_TRUE(this->ledger().change_listing(rest, {12, false, 0}, this->t0_).ok());
  EXPECT_EQ(this->map(this->t0_)[12], 'S');
  // A cancelled sale ends its listings: the seat is simply free.
  ASSERT_TRUE(this->ledger().change_listing(rest, {11, true, 5000}, this->t0_).ok());
  ASSERT_TRUE(this->ledger().cancel_booking(rest, "re_rest", this->t0_).ok());
  this->backend_.restart();
  EXPECT_EQ(this->map(this->t0_).substr(10, 3), "SAA");
  EXPECT_EQ(code_of(this->ledger().change_listing(rest, {11, true, 5000}, this->t0_)), Code::BookingNotConfirmed);
  // A booking whose every seat was resold is over: cancelled, its money going back by the refund.
  const core::Booking single = this->buy(this->alice_, {14});
  ASSERT_TRUE(this->ledger().change_listing(single, {14, true, 5000}, this->t0_).ok());
  auto last = this->hold(this->bob_, {14}, this->t0_);
  ASSERT_TRUE(last.ok());
  auto paid = this->checkout(last->id, this->bob_, this->t0_);
  ASSERT_TRUE(paid.ok());
  ASSERT_TRUE(this->settle(paid->booking_id, Kind::Succeeded, this->t0_).ok());
  this->backend_.restart();
  const auto over = this->ledger().booking_by_id(single.id);
  EXPECT_EQ(over->status, core::BookingStatus::Cancelled);
  EXPECT_TRUE(over->seats.empty());
  EXPECT_EQ(this->ledger().seat_refunds_total(single.id), 5000);
  EXPECT_EQ(this->map(this->t0_)[14], 'S');
}

TYPED_TEST_P(LedgerConformance, BestAvailablePicksFreeSeatsOfTheSectionOrRefuses) {
  ASSERT_TRUE(this->hold(this->bob_, {20, 21}, this->t0_).ok());
  auto picked = this->best(this->alice_, 3, this->t0_, 1);
  ASSERT_TRUE(picked.ok());
  ASSERT_EQ(picked->seats.size(), 3u);
  for (core::SeatId s : picked->seats) EXPECT_TRUE(s >= 22 && s < 30) << s;
  EXPECT_EQ(code_of(this->best(this->alice_, 6, this->t0_, 1)), Code::InsufficientSeats);  // 5 left there
  const core::Event later = this->make_event(this->t0_ + Millis(60'000));
  core::HoldRequest r;
  r.user_id = this->bob_;
  r.best = core::BestAvailableRequest{1, std::nullopt};
  EXPECT_EQ(code_of(this->ledger().hold_seats(later, this->layout_, r, this->t0_)), Code::SaleNotOpen);
}

TYPED_TEST_P(LedgerConformance, BookingsAreListedNewestFirstWithFailedOnesOnRequest) {
  const core::Booking first = this->buy(this->alice_, {0});
  auto h = this->hold(this->alice_, {1}, this->t0_);
  auto failed = this->checkout(h->id, this->alice_, this->t0_);
  ASSERT_TRUE(this->settle(failed->booking_id, Kind::Declined, this->t0_).ok());
  const core::Booking third = this->buy(this->alice_, {2});
  this->buy(this->bob_, {3});
  auto shown = this->ledger().list_bookings(this->alice_, 10, 0, false);
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0].id, third.id);
  EXPECT_EQ(shown[1].id, first.id);
  EXPECT_EQ(this->ledger().list_bookings(this->alice_, 10, 0, true).size(), 3u);
  auto page = this->ledger().list_bookings(this->alice_, 1, third.id, true);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, failed->booking_id);
  EXPECT_EQ(code_of(this->ledger().find_booking(first.id, this->bob_)), Code::NotFound);
  EXPECT_EQ(this->ledger().find_booking(first.id, this->alice_)->seats, std::vector<core::SeatId>{0});
}

TYPED_TEST_P(LedgerConformance, StockCountsWhatIsLeftAndWhatLapsesSoon) {
  ASSERT_TRUE(this->hold(this->alice_, {0, 1}, this->t0_, Millis(5'000)).ok());
  ASSERT_TRUE(this->hold(this->bob_, {2}, this->t0_, Millis(600'000)).ok());
  this->buy(this->bob_, {3, 4, 5});
  auto stock = this->ledger().stock(this->event_, this->t0_, this->t0_ + Millis(10'000));
  ASSERT_TRUE(stock.ok());
  EXPECT_EQ(stock->available, 24u);
  EXPECT_EQ(stock->expiring, 2u);
  EXPECT_EQ(stock->basket_seats, 6u);
  EXPECT_EQ(stock->baskets, 3u);
  auto counts = this->ledger().seat_map(this->event_, this->t0_)->counts;
  EXPECT_EQ(counts.available, 24u);
  EXPECT_EQ(counts.held, 3u);
  EXPECT_EQ(counts.sold, 3u);
}

TYPED_TEST_P(LedgerConformance, HoldsCheckoutsAndSalesSurviveARestart) {
  auto live = this->hold(this->alice_, {0, 1}, this->t0_);
  auto paying = this->hold(this->alice_, {2}, this->t0_);
  auto c = this->checkout(paying->id, this->alice_, this->t0_);
  const core::Booking sold = this->buy(this->bob_, {3});
  this->backend_.restart();
  EXPECT_EQ(this->map(this->t0_).substr(0, 5), "HHHSA");
  EXPECT_EQ(code_of(this->hold(this->bob_, {1}, this->t0_)), Code::SeatUnavailable);
  EXPECT_EQ(this->ledger().find_hold(live->id, this->alice_, this->t0_)->seats, (std::vector<core::SeatId>{0, 1}));
  auto settled = this->settle(c->booking_id, Kind::Succeeded, this->t0_);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(settled->booking.status, core::BookingStatus::Confirmed);
  EXPECT_EQ(this->ledger().booking_by_id(sold.id)->status, core::BookingStatus::Confirmed);
  EXPECT_EQ(this->ledger().tickets_of_booking(sold.id).size(), 1u);
  ASSERT_TRUE(this->ledger().release_hold(live->id, this->alice_, this->t0_).ok());
  EXPECT_EQ(this->map(this->t0_).substr(0, 5), "AASSA");
}

// A checkout pins its hold while the card is charged, past the hold's own expiry: a restart then (an
// owner taking the event over) must keep the pin, or another buyer takes the seats and the payment
// that succeeds a moment later has to be refunded.
TYPED_TEST_P(LedgerConformance, APinOutlivesItsHoldsExpiryAcrossARestart) {
  auto paying = this->hold(this->alice_, {4, 5}, this->t0_, Millis(5'000));
  ASSERT_TRUE(paying.ok());
  auto c = this->checkout(paying->id, this->alice_, this->t0_ + Millis(4'000));
  ASSERT_TRUE(c.ok());
  const TimeMs later = this->t0_ + Millis(20'000);  // the hold's own expiry long past, the pin not
  this->backend_.restart();
  EXPECT_EQ(this->map(later).substr(4, 2), "HH");
  EXPECT_EQ(code_of(this->hold(this->bob_, {5}, later)), Code::SeatUnavailable);
  auto settled = this->settle(c->booking_id, Kind::Succeeded, later);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(settled->booking.status, core::BookingStatus::Confirmed);
  EXPECT_FALSE(settled->refund_needed);
  EXPECT_EQ(this->map(later).substr(4, 2), "SS");
}

REGISTER_TYPED_TEST_SUITE_P(
    LedgerConformance, AHoldIsAllOrNothingAndNamesTheTakenSeats, HoldsDecidedTogetherAreEachDecidedAsAloneInTheirOrder,
    BadSeatListsAreRefused, NothingIsHeldOutsideTheSaleWindowUntilTheDatesMove,
    AReleaseFreesTheSeatsAndASecondOneChangesNothing, AnotherUsersHoldIsNotFound, ALapsedHoldFreesItsSeatsWithoutASweep,
    TheTicketLimitCountsHeldAndBoughtSeats, LiveHoldsAreCappedPerUserAcrossEvents,
    ACheckoutPinsTheHoldAndASuccessSellsItsSeatsWithTickets, ASaleAnswersTheBookingAsStored,
    ACheckoutDecidedWithoutBlockingIsTheBlockingOnesDecision,
    AFailedPaymentDecidedWithoutBlockingAnswersTheBookingAsStored, ABookingIsSettledOnceWhateverComesLater,
    ADeclineFailsTheBookingAndFreesTheSeatsAtOnce, ARejectedPaymentLeavesTheHoldToTheBuyer,
    AwaitingAuthenticationKeepsTheSeatsPastACheckoutsPin, APaymentAfterTheHoldLapsedSellsFreeSeatsAndRefundsTakenOnes,
    PendingPaymentsAreReconciledInOrderFromTheCursor, ACancellationFreesTheSeatsRevokesTheTicketsOnce,
    ARefundOfSomeSeatsFreesThemAndKeepsTheRest, AListedSeatMovesFromItsSellerToTheBuyerWhoPays,
    BestAvailablePicksFreeSeatsOfTheSectionOrRefuses, BookingsAreListedNewestFirstWithFailedOnesOnRequest,
    StockCountsWhatIsLeftAndWhatLapsesSoon, HoldsCheckoutsAndSalesSurviveARestart,
    APinOutlivesItsHoldsExpiryAcrossARestart);

}  // namespace ticketd::conformance
