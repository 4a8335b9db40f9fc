// A batch's holds, checkouts begun and sales in a few multi-row statements (staged_writes.hpp).
#include "store/postgres/staged_writes.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace ticketd::store::postgres {

void StagedWrites::claim(Connection& c, core::EventId event, const std::vector<core::SeatId>& seats) {
  for (core::SeatId seat : seats)
    if (claimed_.contains({event, seat})) {
      flush(c);
      break;
    }
  for (core::SeatId seat : seats) claimed_.emplace(event, seat);
}

void StagedWrites::stage(Connection& c, const core::HoldPlaced& d) {
  const core::Hold& h = d.hold;
  // A seat taken from a resale listing stays claimed by its seller's sale until the buyer pays.
  std::vector<core::SeatId> claims;
  for (core::SeatId seat : h.seats)
    if (std::find(d.listed.begin(), d.listed.end(), seat) == d.listed.end()) claims.push_back(seat);
  claim(c, h.event_id, claims);
  Holds& s = holds_;
  s.id.push_back(h.id);
  s.event.push_back(h.event_id);
  s.user.push_back(h.user_id);
  s.created.push_back(to_unix_ms(h.created_at));
  s.expires.push_back(to_unix_ms(h.expires_at));
  for (core::SeatId seat : h.seats) {
    s.seat_hold.push_back(h.id);
    s.seat.push_back(seat);
  }
  for (core::SeatId seat : claims) {
    s.claim_hold.push_back(h.id);
    s.claim_seat.push_back(seat);
    s.claim_event.push_back(h.event_id);
    s.claim_user.push_back(h.user_id);
    s.claim_created.push_back(to_unix_ms(h.created_at));
    s.claim_expires.push_back(to_unix_ms(h.expires_at));
  }
  if (d.expiry_notice_lead.count() > 0) {
    s.notice_hold.push_back(h.id);
    s.notice_user.push_back(h.user_id);
    s.notice_event.push_back(h.event_id);
    s.notice_at.push_back(to_unix_ms(h.created_at));
    s.notice_due.push_back(to_unix_ms(std::max(h.created_at, h.expires_at - d.expiry_notice_lead)));
  }
}

void StagedWrites::stage(Connection& c, const core::HoldReleased& d) {
  // Placed in this batch: its rows are written before they are released (releases go first).
  if (std::find(holds_.id.begin(), holds_.id.end(), d.hold) != holds_.id.end()) flush(c);
  released_.push_back(d.hold);
}

void StagedWrites::stage(Connection&, const core::CheckoutBegun& d) {
  const core::CheckoutRecord& r = d.record;
  Checkouts& s = checkouts_;
  s.booking.push_back(r.booking_id);
  s.hold.push_back(r.hold_id);
  s.event.push_back(r.event_id);
  s.user.push_back(r.user_id);
  s.amount.push_back(r.amount);
  s.payment.push_back(r.payment_id);
  s.created.push_back(to_unix_ms(r.created_at));
  s.currency.push_back(r.currency);
  s.idempotency_key.push_back(d.idempotency_key);
  s.gateway_key.push_back(r.gateway_key);
  s.payment_method.push_back(r.payment_method);
  for (core::SeatId seat : d.seats) {
    s.seat_booking.push_back(r.booking_id);
    s.seat.push_back(seat);
  }
}

void StagedWrites::stage(Connection& c, const core::PaymentSucceeded& d) {
  TICKETD_ASSERT(d.sold);
  TICKETD_ASSERT(d.ticket_ids.size() == d.seats.size());
  claim(c, d.event, d.seats);
  Sales& s = sales_;
  const int64_t at = to_unix_ms(d.at);
  s.booking.push_back(d.booking);
  s.hold.push_back(d.hold);
  s.user.push_back(d.user);
  s.event.push_back(d.event);
  s.at.push_back(at);
  s.payment_ref.push_back(d.outcome.payment_ref);
  if (!d.outcome.event_id.empty()) {
    s.gateway_event.push_back(d.outcome.event_id);
    s.gateway_event_at.push_back(at);
  }
  for (size_t i = 0; i < d.seats.size(); ++i) {
    s.seat_event.push_back(d.event);
    s.seat.push_back(d.seats[i]);
    s.seat_booking.push_back(d.booking);
    s.seat_hold.push_back(d.hold);
    s.seat_user.push_back(d.user);
    s.seat_at.push_back(at);
    s.ticket.push_back(d.ticket_ids[i]);
  }
}

void StagedWrites::flush(Connection& c) {
  if (empty()) return;
  // Every statement in one round trip (a pipeline); the claims are checked once all have answered,
  // before anything commits.
  Sending out{c};
  send_releases(out);
  send_holds(out);
  send_checkouts(out);
  send_sales(out);
  const std::vector<Rows> answers = c.sync();
  for (const Sending::Claims& claims : out.claims) {
    const int claimed = answers.at(claims.answer).size();
    if (claimed != static_cast<int>(claims.seats))
      throw Refused(std::string(claims.what) + " (" + std::to_string(claims.seats) + " seats, " +
                    std::to_string(claimed) + " claimed)");
  }
  discard();
}

// The holds let go: their claims go (a sale's claims, which name the booking, stay).
void StagedWrites::send_releases(Sending& c) {
  if (released_.empty()) return;
  c.send("UPDATE holds SET state = 'RELEASED' WHERE id = ANY($1::bigint[])", {p_array(released_)});
  c.send("DELETE FROM seat_claims WHERE hold_id = ANY($1::bigint[]) AND booking_id IS NULL", {p_array(released_)});
}

void StagedWrites::send_holds(Sending& c) {
  const Holds& s = holds_;
  if (s.id.empty()) return;
  c.send("INSERT INTO holds(id, event_id, user_id, created_at, expires_at, deadline, state) "
          "SELECT h, e, u, at, x, x, 'ACTIVE' FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], "
          "$5::bigint[]) AS t(h, e, u, at, x)",
          {p_array(s.id), p_array(s.event), p_array(s.user), p_array(s.created), p_array(s.expires)});
  c.send("INSERT INTO hold_seats(hold_id, seat) SELECT * FROM unnest($1::bigint[], $2::integer[])",
         {p_array(s.seat_hold), p_array(s.seat)});
  // Each claim over a free seat or a claim lapsed when its hold was made, never over a live hold or a
  // sale: the database's own check of what memory decided.
  c.send_claims(
      "INSERT INTO seat_claims(event_id, seat, hold_id, user_id, deadline, claimed_at) "
      "SELECT * FROM unnest($1::bigint[], $2::integer[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) "
      "ON CONFLICT (event_id, seat) DO UPDATE SET hold_id = EXCLUDED.hold_id, user_id = EXCLUDED.user_id, "
      "deadline = EXCLUDED.deadline, claimed_at = EXCLUDED.claimed_at, booking_id = NULL "
      "WHERE seat_claims.booking_id IS NULL AND seat_claims.deadline <= EXCLUDED.claimed_at RETURNING seat",
      {p_array(s.claim_event), p_array(s.claim_seat), p_array(s.claim_hold), p_array(s.claim_user),
       p_array(s.claim_expires), p_array(s.claim_created)},
      s.claim_seat.size(), "a held seat is claimed in PostgreSQL that memory had free");
  if (!s.notice_hold.empty())
    // Only users who asked for this notice get one (ticketd_enqueue_notice decides the channels): the
    // join skips the function for everyone else, most buyers in a sale.
    c.send("SELECT ticketd_enqueue_notice('hold_expiring', t.u, t.e, 0, t.h, t.at, t.due) "
            "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS t(h, u, e, at, due) "
            "JOIN user_notify n ON n.user_id = t.u AND n.hold_expiry_on",
            {p_array(s.notice_hold), p_array(s.notice_user), p_array(s.notice_event), p_array(s.notice_at),
             p_array(s.notice_due)});
}

// A PENDING_PAYMENT booking and a PENDING payment per checkout, before any money moves.
void StagedWrites::send_checkouts(Sending& c) {
  const Checkouts& s = checkouts_;
  if (s.booking.empty()) return;
  c.send("INSERT INTO bookings(id, hold_id, event_id, user_id, status, total_amount, currency, payment_id, created_at) "
          "SELECT b, h, e, u, 'PENDING_PAYMENT', amount, cur, pay, at FROM unnest($1::bigint[], $2::bigint[], "
          "$3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::bigint[]) "
          "AS t(b, h, e, u, amount, cur, pay, at)",
          {p_array(s.booking), p_array(s.hold), p_array(s.event), p_array(s.user), p_array(s.amount),
           p_text_array(s.currency), p_array(s.payment), p_array(s.created)});
  c.send("INSERT INTO booking_seats(booking_id, seat) SELECT * FROM unnest($1::bigint[], $2::integer[])",
         {p_array(s.seat_booking), p_array(s.seat)});
  c.send("INSERT INTO payments(id, user_id, hold_id, booking_id, idempotency_key, gateway_key, amount, currency, "
          "payment_method, status, created_at, updated_at) "
          "SELECT pay, u, h, b, ikey, gkey, amount, cur, pm, 'PENDING', at, at FROM unnest($1::bigint[], $2::bigint[], "
          "$3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::bigint[]) "
          "AS t(pay, u, h, b, ikey, gkey, amount, cur, pm, at)",
          {p_array(s.payment), p_array(s.user), p_array(s.hold), p_array(s.booking), p_text_array(s.idempotency_key),
           p_text_array(s.gateway_key), p_array(s.amount), p_text_array(s.currency), p_text_array(s.payment_method),
           p_array(s.created)});
}

// Paid: the payment succeeded, the booking is confirmed, its seats are sold (the sale's claims replace
// the hold's, never another sale's) with one ticket each, the hold converted, the buyer told.
void StagedWrites::send_sales(Sending& c) {
  const Sales& s = sales_;
  if (s.booking.empty()) return;
  c.send("UPDATE payments SET status = 'SUCCEEDED', payment_ref = t.ref, updated_at = t.at "
          "FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS t(b, ref, at) WHERE payments.booking_id = t.b",
          {p_array(s.booking), p_text_array(s.payment_ref), p_array(s.at)});
  if (!s.gateway_event.empty())
    c.send("INSERT INTO payment_events(id, type, received_at) SELECT id, 'succeeded', at "
            "FROM unnest($1::text[], $2::bigint[]) AS t(id, at) ON CONFLICT DO NOTHING",
            {p_text_array(s.gateway_event), p_array(s.gateway_event_at)});
  c.send("UPDATE bookings SET status = 'CONFIRMED' WHERE id = ANY($1::bigint[])", {p_array(s.booking)});
  c.send_claims(
      "INSERT INTO seat_claims(event_id, seat, hold_id, user_id, deadline, booking_id) "
      "SELECT e, seat, h, u, 9223372036854775807, b FROM unnest($1::bigint[], $2::integer[], $3::bigint[], "
      "$4::bigint[], $5::bigint[]) AS t(e, seat, h, u, b) ORDER BY e, seat "
      "ON CONFLICT (event_id, seat) DO UPDATE SET hold_id = EXCLUDED.hold_id, user_id = EXCLUDED.user_id, "
      "deadline = EXCLUDED.deadline, booking_id = EXCLUDED.booking_id WHERE seat_claims.booking_id IS NULL "
      "RETURNING seat",
      {p_array(s.seat_event), p_array(s.seat), p_array(s.seat_hold), p_array(s.seat_user), p_array(s.seat_booking)},
      s.seat.size(), "a seat is sold in PostgreSQL that memory had free");
  c.send("INSERT INTO sold_seats(event_id, seat, booking_id) SELECT * FROM unnest($1::bigint[], $2::integer[], "
          "$3::bigint[])",
          {p_array(s.seat_event), p_array(s.seat), p_array(s.seat_booking)});
  // Signed with the event's current key as of this commit (a rotation is a row in event_entry).
  c.send("INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at) "
          "SELECT t.id, t.e, t.b, t.u, t.seat, COALESCE((SELECT ticket_key_id FROM event_entry WHERE event_id = t.e), 1), "
          "'VALID', t.at FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::integer[], $6::bigint[]) "
          "AS t(id, e, b, u, seat, at)",
          {p_text_array(s.ticket), p_array(s.seat_event), p_array(s.seat_booking), p_array(s.seat_user), p_array(s.seat),
           p_array(s.seat_at)});
  c.send("UPDATE holds SET state = 'CONVERTED', booking_id = t.b FROM unnest($1::bigint[], $2::bigint[]) AS t(h, b) "
          "WHERE holds.id = t.h",
          {p_array(s.hold), p_array(s.booking)});
  // One planned INSERT for the batch: the channel rule (ticketd_notice_channels) is inlined into it.
  c.send(
      "INSERT INTO outbox(kind, channel, user_id, event_id, booking_id, hold_id, status, created_at, due_at) "
      "SELECT 'booking_confirmed', c.channel, t.u, t.e, t.b, t.h, 'PENDING', t.at, t.at "
      "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) WITH ORDINALITY "
      "AS t(u, e, b, h, at, n) CROSS JOIN LATERAL ticketd_notice_channels('booking_confirmed', t.u) AS c "
      "ORDER BY t.n, c.channel",
      {p_array(s.user), p_array(s.event), p_array(s.booking), p_array(s.hold), p_array(s.at)});
}

void StagedWrites::discard() {
  released_.clear();
  holds_ = {};
  checkouts_ = {};
  sales_ = {};
  claimed_.clear();
}

}  // namespace ticketd::store::postgres
