// The embedded seat journal (seat_journal.hpp): the SQL of each decision, run as a group-commit job,
// and the reads the seat engine needs.
#include "store/sqlite/seat_journal.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <type_traits>

#include "core/seat_csv.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

core::Status set_hold_state(Connection& c, core::HoldId id, const char* state, core::BookingId booking) {
  auto& st = c.prepare("UPDATE holds SET state = ?2, booking_id = ?3 WHERE id = ?1");
  st.bind(1, id).bind(2, state);
  if (booking) st.bind(3, booking); else st.bind_null(3);
  if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "hold update failed");
  return core::ok_status();
}

void note_event(Connection& c, const std::string& event_id, const char* type, TimeMs now) {
  if (event_id.empty()) return;
  c.prepare("INSERT OR IGNORE INTO payment_events(id, type, received_at) VALUES(?1, ?2, ?3)")
      .bind(1, event_id).bind(2, type).bind(3, to_unix_ms(now)).step_status();
}

// One ticket per seat of a booking being confirmed, in the job that confirms it. The partial unique
// index refuses a second live ticket for a seat, whatever memory believed.
core::Status issue_tickets(Connection& c, core::EventId event, core::BookingId booking, core::UserId owner,
                           const std::vector<core::SeatId>& seats, const std::vector<std::string>& ids, TimeMs now) {
  TICKETD_ASSERT(ids.size() == seats.size());
  for (size_t i = 0; i < seats.size(); ++i) {
    // Signed with the event's current key as of this commit (a rotation is a row in event_entry).
    auto& st = c.prepare("INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at) "
                         "VALUES(?1, ?2, ?3, ?4, ?5, COALESCE((SELECT ticket_key_id FROM event_entry "
                         "WHERE event_id = ?2), 1), 'VALID', ?6)");
    st.bind(1, ids[i]).bind(2, event).bind(3, booking).bind(4, owner).bind(5, seats[i]).bind(6, to_unix_ms(now));
    if (st.step_status() != SQLITE_DONE) return make_error(Code::SeatUnavailable, "seat already has a live ticket");
  }
  return core::ok_status();
}

// Seats bought from resale listings leave their sellers' bookings before the buyer's booking takes
// them: each seller's tickets for them revoked, the listings sold, and a refund of the listed amounts
// recorded, due (app/resale pays it).
core::Status sell_listed(Connection& c, const core::PaymentSucceeded& d) {
  const int64_t at = to_unix_ms(d.at);
  for (const core::EventInventory::Resold& r : d.resold) {
    int64_t amount = 0;
    for (core::SeatId seat : r.seats) {
      c.prepare("DELETE FROM sold_seats WHERE booking_id = ?1 AND seat = ?2").bind(1, r.seller_booking)
          .bind(2, int64_t{seat}).step_status();
      c.prepare("DELETE FROM booking_seats WHERE booking_id = ?1 AND seat = ?2").bind(1, r.seller_booking)
          .bind(2, int64_t{seat}).step_status();
      c.prepare("UPDATE tickets SET status = 'REVOKED', revoked_at = ?3, changed_at = ?3, revoked_reason = 'resold' "
                "WHERE booking_id = ?1 AND seat = ?2 AND status <> 'REVOKED'")
          .bind(1, r.seller_booking).bind(2, int64_t{seat}).bind(3, at).step_status();
      auto& listed = c.prepare("SELECT amount FROM resale_listings WHERE event_id = ?1 AND seat = ?2 AND state = 'LISTED'");
      listed.bind(1, d.event).bind(2, int64_t{seat});
      if (!listed.step()) return make_error(Code::Unavailable, "a resold seat has no listing");
      amount += listed.int64(0);
      listed.reset();
    }
    c.prepare("INSERT INTO booking_refunds(booking_id, seats, amount, refund_ref, created_at) VALUES(?1, ?2, ?3, '', ?4)")
        .bind(1, r.seller_booking).bind(2, core::seat_csv(r.seats)).bind(3, amount).bind(4, at).step_status();
    const int64_t refund_id = c.last_insert_rowid();
    for (core::SeatId seat : r.seats)
      c.prepare("UPDATE resale_listings SET state = 'SOLD', ended_at = ?3, buyer_booking_id = ?4, refund_id = ?5, "
                "refund_paid = 0 WHERE event_id = ?1 AND seat = ?2 AND state = 'LISTED'")
          .bind(1, d.event).bind(2, int64_t{seat}).bind(3, at).bind(4, d.booking).bind(5, refund_id).step_status();
    enqueue_notice(c, core::NoticeKind::SeatsRefunded, r.seller, d.event, r.seller_booking, 0, d.at, d.at, refund_id);
    // Every seat resold: the booking is over, its money going back by these refunds (as a cancellation's).
    c.prepare("UPDATE bookings SET status = 'CANCELLED', cancelled_at = ?2 WHERE id = ?1 AND status = 'CONFIRMED' "
              "AND NOT EXISTS (SELECT 1 FROM booking_seats WHERE booking_id = ?1)")
        .bind(1, r.seller_booking).bind(2, at).step_status();
    if (c.changes() == 1)
      c.prepare("UPDATE payments SET status = 'REFUNDED' WHERE id = (SELECT payment_id FROM bookings WHERE id = ?1)")
          .bind(1, r.seller_booking).step_status();
  }
  return core::ok_status();
}

// A sale that gives back seats (cancelled, refunded) ends their listings.
void end_listings(Connection& c, core::BookingId booking, TimeMs at) {
  c.prepare("UPDATE resale_listings SET state = 'WITHDRAWN', ended_at = ?2 WHERE booking_id = ?1 AND state = 'LISTED'")
      .bind(1, booking).bind(2, to_unix_ms(at)).step_status();
}

core::Status write(Connection& c, const core::ListingChanged& d) {
  const core::Booking& b = d.seller;
  if (d.change.listed) {
    // Listed already (a repeated request): the row stays as it is.
    c.prepare("INSERT OR IGNORE INTO resale_listings(event_id, seat, booking_id, seller_id, amount, state, listed_at) "
              "VALUES(?1, ?2, ?3, ?4, ?5, 'LISTED', ?6)")
        .bind(1, b.event_id).bind(2, int64_t{d.change.seat}).bind(3, b.id).bind(4, b.user_id).bind(5, d.change.amount)
        .bind(6, to_unix_ms(d.at)).step_status();
  } else {
    c.prepare("UPDATE resale_listings SET state = 'WITHDRAWN', ended_at = ?3 WHERE event_id = ?1 AND seat = ?2 "
              "AND state = 'LISTED'")
        .bind(1, b.event_id).bind(2, int64_t{d.change.seat}).bind(3, to_unix_ms(d.at)).step_status();
  }
  return core::ok_status();
}

core::Status write(Connection& c, const core::HoldPlaced& d) {
  const core::Hold& h = d.hold;
  c.prepare("INSERT INTO holds(id, event_id, user_id, created_at, expires_at, state) VALUES(?1,?2,?3,?4,?5,'ACTIVE')")
      .bind(1, h.id).bind(2, h.event_id).bind(3, h.user_id).bind(4, to_unix_ms(h.created_at))
      .bind(5, to_unix_ms(h.expires_at))
      .step_status();
  for (core::SeatId s : h.seats)
    c.prepare("INSERT INTO hold_seats(hold_id, seat) VALUES(?1, ?2)").bind(1, h.id).bind(2, s).step_status();
  if (d.expiry_notice_lead.count() > 0)
    enqueue_notice(c, core::NoticeKind::HoldExpiring, h.user_id, h.event_id, 0, h.id, h.created_at,
                   std::max(h.created_at, h.expires_at - d.expiry_notice_lead));
  return core::ok_status();
}

core::Status write(Connection& c, const core::HoldReleased& d) { return set_hold_state(c, d.hold, "RELEASED", 0); }

core::Status write(Connection& c, const core::CheckoutBegun& d) {
  const core::CheckoutRecord& rec = d.record;
  auto& b = c.prepare("INSERT INTO bookings(id, hold_id, event_id, user_id, status, total_amount, currency, "
                      "payment_id, created_at) VALUES(?1,?2,?3,?4,'PENDING_PAYMENT',?5,?6,?7,?8)");
  b.bind(1, rec.booking_id).bind(2, rec.hold_id).bind(3, rec.event_id).bind(4, rec.user_id).bind(5, rec.amount)
      .bind(6, rec.currency).bind(7, rec.payment_id).bind(8, to_unix_ms(rec.created_at));
  if (b.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "booking insert failed");
  for (core::SeatId seat : d.seats)
    c.prepare("INSERT INTO booking_seats(booking_id, seat) VALUES(?1, ?2)").bind(1, rec.booking_id).bind(2, seat)
        .step_status();
  auto& p = c.prepare(
      "INSERT INTO payments(id, user_id, hold_id, booking_id, idempotency_key, gateway_key, amount, currency, "
      "payment_method, status, created_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,'PENDING',?10,?10)");
  p.bind(1, rec.payment_id).bind(2, rec.user_id).bind(3, rec.hold_id).bind(4, rec.booking_id).bind(5, d.idempotency_key)
      .bind(6, rec.gateway_key).bind(7, rec.amount).bind(8, rec.currency).bind(9, rec.payment_method)
      .bind(10, to_unix_ms(rec.created_at));
  if (p.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "payment insert failed");
  return core::ok_status();
}

core::Status write(Connection& c, const core::PaymentAwaitingAction& d) {
  c.prepare("UPDATE payments SET status = 'REQUIRES_ACTION', payment_ref = ?2, updated_at = ?3 WHERE booking_id = ?1")
      .bind(1, d.booking).bind(2, d.outcome.payment_ref).bind(3, to_unix_ms(d.at)).step_status();
  note_event(c, d.outcome.event_id, "awaiting-action", d.at);
  return core::ok_status();
}

core::Status write(Connection& c, const core::PaymentSucceeded& d) {
  c.prepare("UPDATE payments SET status = 'SUCCEEDED', payment_ref = ?2, updated_at = ?3 WHERE booking_id = ?1")
      .bind(1, d.booking).bind(2, d.outcome.payment_ref).bind(3, to_unix_ms(d.at)).step_status();
  note_event(c, d.outcome.event_id, "succeeded", d.at);
  if (!d.sold) {
    c.prepare("UPDATE bookings SET status = 'FAILED', decline_code = 'seats_taken', message = ?2 WHERE id = ?1")
        .bind(1, d.booking)
        .bind(2, core::kPaidTooLateMessage)
        .step_status();
    enqueue_notice(c, core::NoticeKind::PaymentFailed, d.user, d.event, d.booking, d.hold, d.at, d.at);
    return set_hold_state(c, d.hold, "EXPIRED", 0);
  }
  c.prepare("UPDATE bookings SET status = 'CONFIRMED' WHERE id = ?1").bind(1, d.booking).step_status();
  if (auto st = sell_listed(c, d); !st) return st;
  for (core::SeatId seat : d.seats)
    // The PRIMARY KEY (event_id, seat) refuses a second sale of a seat, whatever memory believed.
    if (c.prepare("INSERT INTO sold_seats(event_id, seat, booking_id) VALUES(?1, ?2, ?3)")
            .bind(1, d.event).bind(2, seat).bind(3, d.booking).step_status() != SQLITE_DONE)
      return make_error(Code::SeatUnavailable, "seat already sold");
  if (auto issued = issue_tickets(c, d.event, d.booking, d.user, d.seats, d.ticket_ids, d.at); !issued) return issued;
  enqueue_notice(c, core::NoticeKind::BookingConfirmed, d.user, d.event, d.booking, d.hold, d.at, d.at);
  return set_hold_state(c, d.hold, "CONVERTED", d.booking);
}

core::Status write(Connection& c, const core::PaymentFailed& d) {
  c.prepare("UPDATE payments SET status = 'DECLINED', payment_ref = ?2, decline_code = ?3, message = ?4, "
            "updated_at = ?5 WHERE booking_id = ?1")
      .bind(1, d.booking).bind(2, d.outcome.payment_ref).bind(3, d.outcome.decline_code).bind(4, d.outcome.message)
      .bind(5, to_unix_ms(d.at)).step_status();
  c.prepare("UPDATE bookings SET status = 'FAILED', decline_code = ?2, message = ?3 WHERE id = ?1")
      .bind(1, d.booking).bind(2, d.outcome.decline_code).bind(3, d.outcome.message).step_status();
  note_event(c, d.outcome.event_id, "failed", d.at);
  using HoldEnd = core::PaymentFailed::HoldEnd;
  // A rejected request (an unknown payment method) charged nothing and the buyer is told at once, with
  // the hold still theirs: only a real decline is announced.
  if (d.hold_end == HoldEnd::kept) return core::ok_status();
  enqueue_notice(c, core::NoticeKind::PaymentFailed, d.user, d.event, d.booking, d.hold, d.at, d.at);
  return set_hold_state(c, d.hold, d.hold_end == HoldEnd::released ? "RELEASED" : "EXPIRED", 0);
}

core::Status write(Connection& c, const core::SettledAlready& d) {
  note_event(c, d.outcome.event_id, "settled-already", d.at);
  return core::ok_status();
}

core::Status write(Connection& c, const core::BookingCancelled& d) {
  const core::Booking& b = d.booking;
  const int64_t at = to_unix_ms(d.at);
  c.prepare("UPDATE bookings SET status = 'CANCELLED', cancelled_at = ?2 WHERE id = ?1").bind(1, b.id).bind(2, at)
      .step_status();
  c.prepare("DELETE FROM sold_seats WHERE booking_id = ?1").bind(1, b.id).step_status();
  end_listings(c, b.id, d.at);
  c.prepare("UPDATE tickets SET status = 'REVOKED', revoked_at = ?2, changed_at = ?2, "
            "revoked_reason = 'booking_cancelled' WHERE booking_id = ?1 AND status <> 'REVOKED'")
      .bind(1, b.id).bind(2, at).step_status();
  c.prepare("UPDATE payments SET status = 'REFUNDED', refund_ref = ?2 WHERE id = ?1")
      .bind(1, b.payment_id).bind(2, d.refund_ref).step_status();
  enqueue_notice(c, core::NoticeKind::BookingCancelled, b.user_id, b.event_id, b.id, b.hold_id, d.at, d.at);
  return core::ok_status();
}

core::Status write(Connection& c, const core::SeatsRefunded& d) {
  const core::Booking& b = d.booking;
  const int64_t at = to_unix_ms(d.at);
  for (core::SeatId seat : d.refund.seats) {
    c.prepare("DELETE FROM sold_seats WHERE booking_id = ?1 AND seat = ?2").bind(1, b.id).bind(2, int64_t{seat})
        .step_status();
    c.prepare("DELETE FROM booking_seats WHERE booking_id = ?1 AND seat = ?2").bind(1, b.id).bind(2, int64_t{seat})
        .step_status();
    c.prepare("UPDATE tickets SET status = 'REVOKED', revoked_at = ?3, changed_at = ?3, revoked_reason = 'refunded' "
              "WHERE booking_id = ?1 AND seat = ?2 AND status <> 'REVOKED'")
        .bind(1, b.id).bind(2, int64_t{seat}).bind(3, at).step_status();
    c.prepare("UPDATE resale_listings SET state = 'WITHDRAWN', ended_at = ?3 WHERE booking_id = ?1 AND seat = ?2 "
              "AND state = 'LISTED'")
        .bind(1, b.id).bind(2, int64_t{seat}).bind(3, at).step_status();
  }
  c.prepare("INSERT INTO booking_refunds(booking_id, seats, amount, refund_ref, created_at) VALUES(?1, ?2, ?3, ?4, ?5)")
      .bind(1, b.id).bind(2, core::seat_csv(d.refund.seats)).bind(3, d.refund.amount).bind(4, d.refund_ref).bind(5, at)
      .step_status();
  enqueue_notice(c, core::NoticeKind::SeatsRefunded, b.user_id, b.event_id, b.id, b.hold_id, d.at, d.at,
                 c.last_insert_rowid());
  return core::ok_status();
}

core::Status write(Connection&, const core::Barrier&) { return core::ok_status(); }

core::CheckoutRecord checkout_from(Statement& st) {
  return core::CheckoutRecord{st.int64(0),
                              st.int64(1),
                              st.int64(2),
                              st.int64(3),
                              core::booking_status_from(st.text(4)).value_or(core::BookingStatus::Failed),
                              st.int64(5),
                              st.text(6),
                              st.text(7),
                              st.text(8),
                              st.text(9),
                              st.int64(10),
                              st.text(11),
                              st.text(12),
                              st.text(13),
                              from_unix_ms(st.int64(14))};
}

// Literals: the statement cache is keyed by their addresses.
#define TICKETD_TICKET_COLUMNS \
  "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason FROM tickets "
constexpr const char* kTicketsOfBooking = TICKETD_TICKET_COLUMNS "WHERE booking_id = ?1 ORDER BY seat, issued_at LIMIT 1000";
constexpr const char* kTicketById = TICKETD_TICKET_COLUMNS "WHERE id = ?1";
#undef TICKETD_TICKET_COLUMNS

}  // namespace

core::HoldId SqliteSeatJournal::next_hold_id() { return db_.next_hold_id(); }
core::BookingId SqliteSeatJournal::next_booking_id() { return db_.next_booking_id(); }
core::PaymentId SqliteSeatJournal::next_payment_id() { return db_.next_payment_id(); }

void SqliteSeatJournal::record(core::SeatDecision decision, Done done, Failure failure) {
  db_.writer().submit(
      [decision = std::move(decision)](Connection& c) {
        return std::visit([&](const auto& d) { return write(c, d); }, decision);
      },
      std::move(done), failure == Failure::stop ? GroupCommit::Failure::stop : GroupCommit::Failure::answer);
}

core::Result<core::JournalEvent> SqliteSeatJournal::load_event(core::EventId event, TimeMs now) {
  auto r = db_.readers().acquire();
  auto& ev = r->prepare("SELECT seats_total, max_tickets_per_user, on_sale_at, starts_at, "
                        "COALESCE((SELECT resale_open_sale FROM waitlists WHERE event_id = ?1), 1) FROM events WHERE id = ?1");
  ev.bind(1, event);
  if (!ev.step()) return make_error(Code::NotFound, "no such event");
  core::JournalEvent out;
  out.rules = core::InventoryRules{event, static_cast<uint32_t>(ev.int64(0)), static_cast<uint32_t>(ev.int64(1)),
                                   from_unix_ms(ev.int64(2)), from_unix_ms(ev.int64(3)), ev.int64(4) != 0};
  ev.reset();
  auto& sold = r->prepare(
      "SELECT s.booking_id, b.user_id, s.seat FROM sold_seats s JOIN bookings b ON b.id = s.booking_id "
      "WHERE s.event_id = ?1 ORDER BY s.booking_id");
  sold.bind(1, event);
  while (sold.step()) {
    if (out.sales.empty() || out.sales.back().booking != sold.int64(0))
      out.sales.push_back(core::JournalSale{sold.int64(0), sold.int64(1), {}});
    out.sales.back().seats.push_back(static_cast<core::SeatId>(sold.int64(2)));
  }
  sold.reset();
  auto& listed = r->prepare("SELECT booking_id, seat FROM resale_listings WHERE event_id = ?1 AND state = 'LISTED'");
  listed.bind(1, event);
  while (listed.step())
    out.listings.push_back(core::JournalListing{listed.int64(0), static_cast<core::SeatId>(listed.int64(1))});
  listed.reset();
  auto& holds = r->prepare(
      "SELECT h.id, h.user_id, h.created_at, h.expires_at, s.seat FROM holds h JOIN hold_seats s ON s.hold_id = h.id "
      "WHERE h.event_id = ?1 AND h.state = 'ACTIVE' AND h.expires_at > ?2 ORDER BY h.id DESC");
  holds.bind(1, event).bind(2, to_unix_ms(now));
  while (holds.step()) {
    if (out.holds.empty() || out.holds.back().id != holds.int64(0)) {
      core::Hold h;
      h.id = holds.int64(0);
      h.event_id = event;
      h.user_id = holds.int64(1);
      h.created_at = from_unix_ms(holds.int64(2));
      h.expires_at = from_unix_ms(holds.int64(3));
      out.holds.push_back(std::move(h));
    }
    out.holds.back().seats.push_back(static_cast<core::SeatId>(holds.int64(4)));
  }
  holds.reset();
  auto& pending = r->prepare(
      "SELECT b.id, b.hold_id, b.user_id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
      "WHERE b.event_id = ?1 AND b.status = 'PENDING_PAYMENT' ORDER BY b.id");
  pending.bind(1, event);
  while (pending.step()) {
    if (out.pending.empty() || out.pending.back().booking != pending.int64(0))
      out.pending.push_back(core::JournalPending{pending.int64(0), pending.int64(1), pending.int64(2), {}});
    out.pending.back().seats.push_back(static_cast<core::SeatId>(pending.int64(3)));
  }
  pending.reset();
  return out;
}

std::vector<core::JournalActiveHold> SqliteSeatJournal::active_holds() {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, event_id, user_id, expires_at FROM holds WHERE state = 'ACTIVE'");
  std::vector<core::JournalActiveHold> out;
  while (st.step()) out.push_back(core::JournalActiveHold{st.int64(1), st.int64(0), st.int64(2), from_unix_ms(st.int64(3))});
  st.reset();
  return out;
}

std::optional<core::Hold> SqliteSeatJournal::hold(core::HoldId id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT event_id, user_id, created_at, expires_at, state, booking_id FROM holds WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  core::Hold h{id, st.int64(0), st.int64(1), {}, from_unix_ms(st.int64(2)), from_unix_ms(st.int64(3)),
               core::hold_state_from(st.text(4)).value_or(core::HoldState::Expired), st.is_null(5) ? 0 : st.int64(5)};
  st.reset();
  auto& seats = r->prepare("SELECT seat FROM hold_seats WHERE hold_id = ?1 ORDER BY seat");
  seats.bind(1, id);
  while (seats.step()) h.seats.push_back(static_cast<core::SeatId>(seats.int64(0)));
  return h;
}

std::optional<core::Booking> SqliteSeatJournal::booking(core::BookingId id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT b.hold_id, b.event_id, b.user_id, b.status, b.total_amount, b.currency, b.payment_id, b.created_at, "
      "b.cancelled_at, p.payment_ref, b.decline_code, b.message FROM bookings b JOIN payments p ON p.id = b.payment_id "
      "WHERE b.id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  core::Booking b{id, st.int64(0), st.int64(1), st.int64(2),
                  core::booking_status_from(st.text(3)).value_or(core::BookingStatus::Cancelled), {}, st.int64(4),
                  st.text(5), st.int64(6), st.text(9), from_unix_ms(st.int64(7)),
                  st.is_null(8) ? TimeMs{} : from_unix_ms(st.int64(8)), st.text(10), st.text(11)};
  st.reset();
  auto& seats = r->prepare("SELECT seat FROM booking_seats WHERE booking_id = ?1 ORDER BY seat");
  seats.bind(1, id);
  while (seats.step()) b.seats.push_back(static_cast<core::SeatId>(seats.int64(0)));
  return b;
}

std::optional<core::CheckoutRecord> SqliteSeatJournal::checkout(core::UserId user, const std::string& key) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT p.hold_id, p.booking_id, b.event_id, p.user_id, b.status, p.id, p.status, p.payment_ref, p.gateway_key, "
      "p.payment_method, p.amount, p.currency, p.decline_code, p.message, p.created_at FROM payments p "
      "JOIN bookings b ON b.id = p.booking_id WHERE p.user_id = ?1 AND p.idempotency_key = ?2");
  st.bind(1, user).bind(2, key);
  if (!st.step()) return std::nullopt;
  return checkout_from(st);
}

std::optional<core::BookingId> SqliteSeatJournal::booking_by_payment_ref(const std::string& payment_ref) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT booking_id FROM payments WHERE payment_ref = ?1");
  st.bind(1, payment_ref);
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

std::vector<core::BookingId> SqliteSeatJournal::bookings_of(core::UserId user, uint32_t limit, core::BookingId before_id,
                                                            bool include_failed) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id FROM bookings WHERE user_id = ?1 AND id < ?2 AND (?4 OR status <> 'FAILED') "
                        "ORDER BY id DESC LIMIT ?3");
  st.bind(1, user).bind(2, before_id > 0 ? before_id : INT64_MAX).bind(3, limit).bind(4, include_failed ? 1 : 0);
  std::vector<core::BookingId> ids;
  while (st.step()) ids.push_back(st.int64(0));
  return ids;
}

std::vector<core::CheckoutRecord> SqliteSeatJournal::payments_to_reconcile(TimeMs older_than,
                                                                          core::PaymentId after_payment, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT p.hold_id, p.booking_id, b.event_id, p.user_id, b.status, p.id, p.status, p.payment_ref, p.gateway_key, "
      "p.payment_method, p.amount, p.currency, p.decline_code, p.message, p.created_at FROM payments p "
      "JOIN bookings b ON b.id = p.booking_id WHERE p.id > ?3 AND ((b.status = 'PENDING_PAYMENT' AND p.created_at <= ?1) "
      "OR (b.status = 'FAILED' AND p.status = 'SUCCEEDED')) ORDER BY p.id LIMIT ?2");
  st.bind(1, to_unix_ms(older_than)).bind(2, limit).bind(3, after_payment);
  std::vector<core::CheckoutRecord> out;
  while (st.step()) out.push_back(checkout_from(st));
  return out;
}

core::Status SqliteSeatJournal::record_refund(core::BookingId booking, const std::string& refund_ref) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("UPDATE payments SET status = 'REFUNDED', refund_ref = ?2 WHERE booking_id = ?1 AND status = 'SUCCEEDED'")
        .bind(1, booking).bind(2, refund_ref).step_status();
    return core::ok_status();
  });
}

bool SqliteSeatJournal::payment_event_seen(const std::string& event_id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT 1 FROM payment_events WHERE id = ?1");
  st.bind(1, event_id);
  return st.step();
}

core::Status SqliteSeatJournal::record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("INSERT OR IGNORE INTO payment_events(id, type, received_at) VALUES(?1, ?2, ?3)")
        .bind(1, event_id).bind(2, type).bind(3, to_unix_ms(now)).step_status();
    return core::ok_status();
  });
}

std::optional<core::SeatRefundRecord> SqliteSeatJournal::seat_refund(int64_t id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT booking_id, seats, amount, refund_ref, created_at FROM booking_refunds WHERE id = ?1");
  st.bind(1, id);
  std::optional<core::SeatRefundRecord> out;
  if (st.step()) {
    out = core::SeatRefundRecord{id, st.int64(0), core::parse_seat_csv(st.text(1)), st.int64(2), st.text(3),
                                 from_unix_ms(st.int64(4))};
  }
  st.reset();
  return out;
}

int64_t SqliteSeatJournal::seat_refunds_total(core::BookingId booking) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT COALESCE(SUM(amount), 0) FROM booking_refunds WHERE booking_id = ?1");
  st.bind(1, booking);
  st.step();
  const int64_t total = st.int64(0);
  st.reset();
  return total;
}

core::Ticket ticket_from_row(const Statement& st) {
  core::Ticket t;
  t.id = st.text(0);
  t.event_id = st.int64(1);
  t.booking_id = st.int64(2);
  t.owner_id = st.int64(3);
  t.seat = static_cast<core::SeatId>(st.int64(4));
  t.key_id = static_cast<uint32_t>(st.int64(5));
  // A status this code does not know is treated as the safe one: it admits no one.
  t.status = core::ticket_status_from(st.text(6)).value_or(core::TicketStatus::Revoked);
  t.issued_at = from_unix_ms(st.int64(7));
  if (!st.is_null(8)) t.revoked_at = from_unix_ms(st.int64(8));
  t.revoked_reason = st.text(9);
  return t;
}

std::vector<core::Ticket> SqliteSeatJournal::tickets_of_booking(core::BookingId booking) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kTicketsOfBooking);
  st.bind(1, booking);
  std::vector<core::Ticket> out;
  while (st.step() && out.size() < 1000) out.push_back(ticket_from_row(st));  // a booking has at most 100 seats
  st.reset();
  return out;
}

std::optional<core::Ticket> SqliteSeatJournal::ticket(const std::string& ticket_id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kTicketById);
  st.bind(1, ticket_id);
  std::optional<core::Ticket> out;
  if (st.step()) out = ticket_from_row(st);
  st.reset();
  return out;
}

size_t SqliteSeatJournal::mark_expired(const std::vector<core::Hold>& expired, TimeMs unloaded_before) {
  const int64_t cutoff_ms = to_unix_ms(unloaded_before);
  bool due = false;
  {
    auto r = db_.readers().acquire();
    auto& st = r->prepare("SELECT 1 FROM holds WHERE state = 'ACTIVE' AND expires_at <= ?1 LIMIT 1");
    st.bind(1, cutoff_ms);
    due = st.step();
    st.reset();
  }
  if (expired.empty() && !due) return 0;  // an idle server does not write (or fsync) every second
  size_t changed = 0;
  const core::Status s = db_.writer().run([&](Connection& c) {
    for (const core::Hold& h : expired) {
      c.prepare("UPDATE holds SET state = 'EXPIRED' WHERE id = ?1 AND state = 'ACTIVE'").bind(1, h.id).step_status();
      changed += static_cast<size_t>(c.changes());
    }
    // Bounded per pass so a backlog (after downtime) never becomes one huge transaction.
    c.prepare("UPDATE holds SET state = 'EXPIRED' WHERE id IN (SELECT id FROM holds WHERE state = 'ACTIVE' "
              "AND expires_at <= ?1 LIMIT ?2)")
        .bind(1, cutoff_ms).bind(2, kSweepRowsPerPassMax).step_status();
    changed += static_cast<size_t>(c.changes());
    return core::ok_status();
  });
  TICKETD_ASSERT(s.ok());  // these statements cannot fail but for the disk, which fail-stops the writer
  return changed;
}

}  // namespace ticketd::store::sqlite
