// The bulk of a sale's decisions, written per batch rather than per decision (owner_commit.hpp's
// Stager): new holds, holds released, checkouts begun and payments that sold their seats. Each kind is
// written in a few multi-row statements, whatever the number of decisions, all sent at once: a batch's
// writes cost one round trip to PostgreSQL instead of a few per decision (a checkout is eleven statements
// one by one).
//
// Order is kept. Any other decision flushes what is staged before its own statements
// (PgSeatJournal::record), and the kinds are written in causal order: releases, then holds, then
// checkouts begun (on holds), then payments (of checkouts begun). Releases go first because a release
// only frees seats: a hold staged after it may claim them, one staged before it cannot have (they were
// held), and a hold released in the batch that placed it flushes first. A seat claimed twice in one
// batch (a hold lapsed and its seat taken again between two commits) flushes first too: one statement
// must not claim a row twice, and the second claim is then checked against the first like any other.
//
// The database keeps its last line of defence: a hold's claim is written only over a free or lapsed
// one, a sale's only over a hold's; a claim refused fails the batch (Refused).
//
// A flush sends all its statements at once and reads their answers together (Connection::send, sync):
// one round trip to PostgreSQL, however many kinds are staged. The claims are checked when the answers
// are in, before the batch commits.
//
// Written by the owner commit's writer thread only, so unguarded.
#pragma once

#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/ports/seat_journal.hpp"
#include "store/postgres/owner_commit.hpp"

namespace ticketd::store::postgres {

// A decision the database refuses means memory and PostgreSQL disagree: a bug, or a writer that is
// not the owner. The batch fails and its events are loaded again.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class StagedWrites final : public Stager {
 public:
  void stage(Connection& c, const core::HoldPlaced& d);
  void stage(Connection& c, const core::HoldReleased& d);
  void stage(Connection& c, const core::CheckoutBegun& d);
  // A payment that sold its seats. REQUIRES: d.sold; seats bought from resale listings have left their
  // sellers' bookings already (PgSeatJournal's sell_listed).
  void stage(Connection& c, const core::PaymentSucceeded& d);

  void flush(Connection& c) override;
  void discard() override;

 private:
  // Flushes first when one of `seats` is claimed by what is staged.
  void claim(Connection& c, core::EventId event, const std::vector<core::SeatId>& seats);
  // The statements of a flush, sent in one pipeline, and the claims to check in their answers.
  struct Sending {
    Connection& c;
    size_t sent = 0;
    struct Claims {
      size_t answer;  // which statement's answer: one row per seat claimed
      size_t seats;   // claimed by memory
      const char* what;
    };
    std::vector<Claims> claims;
    void send(const char* sql, const std::vector<Param>& params) {
      c.send(sql, params);
      ++sent;
    }
    void send_claims(const char* sql, const std::vector<Param>& params, size_t seats, const char* what) {
      claims.push_back(Claims{sent, seats, what});
      send(sql, params);
    }
  };
  void send_releases(Sending& c);
  void send_holds(Sending& c);
  void send_checkouts(Sending& c);
  void send_sales(Sending& c);

  struct Holds {
    std::vector<int64_t> id, event, user, created, expires;                      // one per hold
    std::vector<int64_t> seat_hold, seat;                                        // hold_seats: one per seat
    std::vector<int64_t> claim_hold, claim_seat, claim_event, claim_user, claim_created, claim_expires;  // per claim
    std::vector<int64_t> notice_hold, notice_user, notice_event, notice_at, notice_due;  // per notice
  } holds_;
  std::vector<int64_t> released_;  // hold ids: RELEASED, their claims gone
  struct Checkouts {
    std::vector<int64_t> booking, hold, event, user, amount, payment, created;  // one per checkout
    std::vector<std::string> currency, idempotency_key, gateway_key, payment_method;
    std::vector<int64_t> seat_booking, seat;  // booking_seats: one per seat
  } checkouts_;
  struct Sales {
    std::vector<int64_t> booking, hold, user, event, at;  // one per payment
    std::vector<std::string> payment_ref;
    std::vector<std::string> gateway_event;  // payment_events: one per webhook event applied
    std::vector<int64_t> gateway_event_at;
    std::vector<int64_t> seat_event, seat, seat_booking, seat_hold, seat_user, seat_at;  // one per seat sold
    std::vector<std::string> ticket;                                                      // one per seat sold
  } sales_;
  bool empty() const {
    return released_.empty() && holds_.id.empty() && checkouts_.booking.empty() && sales_.booking.empty();
  }
  std::set<std::pair<core::EventId, core::SeatId>> claimed_;
};

}  // namespace ticketd::store::postgres
