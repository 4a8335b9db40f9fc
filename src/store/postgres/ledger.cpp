// The distributed ledger. PostgreSQL decides: every hold, checkout, settlement and cancellation is
// one stored function (one round trip, one transaction; see migrations.cpp), and sold_seats' primary
// key refuses a second sale of any seat whatever else went wrong. Redis, behind core::SeatFront, is
// a front: it turns away holds of seats someone holds before they reach the database, caches each
// event's seat map, and carries seat changes to every node. When Redis is down the front answers
// "unreachable" and PostgreSQL alone decides.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_set>

#include "core/inventory.hpp"
#include "core/limits.hpp"
#include "core/seat_csv.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {

// A PgError from a stored function as a domain error; anything unexpected is rethrown (a bug: 500).
core::Error must_be_domain(const PgError& e) {
  if (auto d = domain_error(e)) return *d;
  throw e;
}

core::HoldState hold_state_at(const std::string& state, int64_t deadline_ms, TimeMs now) {
  const auto s = core::hold_state_from(state).value_or(core::HoldState::Expired);
  if ((s == core::HoldState::Active || s == core::HoldState::Pinned) && deadline_ms <= to_unix_ms(now))
    return core::HoldState::Expired;
  return s;
}

// Cheap checks before the front is touched, so garbage never becomes Redis keys: the same ones, in the
// same order, as every ledger (core/inventory.hpp). The stored function checks the window again.
core::Status precheck(const core::Event& event, const std::vector<core::SeatId>& seats, TimeMs now) {
  return core::check_hold_request(event.on_sale_at, event.starts_at, event.seats_total, seats, now);
}

// Any constant will do, the same on every node: whoever holds it sweeps.
constexpr int64_t kSweeperLockKey = 0x7469636b65747332;  // "tickets2"

}  // namespace

core::HoldId PgLedger::next_hold_id() {
  std::lock_guard lock(id_mu_);
  if (id_next_ == id_end_) {
    const int64_t start = with_connection(pool_, [](Connection& c) {
      return c.query("SELECT nextval('hold_id_blocks')").int64(0, 0);
    });
    id_next_ = start;
    id_end_ = start + kHoldIdBlock;
  }
  return id_next_++;
}

std::vector<core::SeatId> PgLedger::taken_in_db(core::EventId event, const std::vector<core::SeatId>& seats,
                                                TimeMs now) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT seat FROM seat_claims WHERE event_id = $1 AND seat = ANY($2::integer[]) "
                     "AND (booking_id IS NOT NULL OR deadline > $3) ORDER BY seat",
                     {p(event), p_array(seats), p(to_unix_ms(now))});
    std::vector<core::SeatId> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(static_cast<core::SeatId>(r.int64(i, 0)));
    return out;
  });
}

core::Result<core::Hold> PgLedger::hold_explicit(const core::Event& event, std::vector<core::SeatId> seats,
                                                 const core::HoldRequest& request, TimeMs now) {
  const core::UserId user = request.user_id;
  const Millis ttl = request.ttl;
  TICKETD_ASSERT(request.active_holds_max >= 1 && request.active_holds_max <= core::limits::active_holds_per_user_max);
  if (auto s = precheck(event, seats, now); !s) return s.error();
  const core::HoldId id = next_hold_id();
  bool claimed = false;
  if (front_) {
    auto r = front_->claim(event.id, seats, id, ttl, /*force=*/false);
    if (r.outcome == core::SeatFront::Claim::Taken) {
      // The front may remember claims the database has forgotten (a node died between the two, a
      // release whose Redis half failed): the database has the last word.
      std::vector<core::SeatId> taken = taken_in_db(event.id, r.taken, now);
      if (!taken.empty()) {
        if (metrics_) metrics_->count("front_refusals", "held");
        core::Error e = make_error(Code::SeatUnavailable, "some seats are already taken");
        e.seats = std::move(taken);
        return e;
      }
      if (metrics_) metrics_->count("front_refusals", "stale");
      r = front_->claim(event.id, seats, id, ttl, /*force=*/true);
    }
    claimed = r.outcome == core::SeatFront::Claim::Claimed;
    if (r.outcome == core::SeatFront::Claim::Unreachable && metrics_) metrics_->count("front_fallbacks", "hold");
  }
  try {
    with_connection_retrying(pool_, [&](Connection& c) {
      c.query("SELECT ticketd_hold($1, $2, $3, $4::integer[], $5, $6, $7, $8)",
              {p(id), p(event.id), p(user), p_array(seats), p(to_unix_ms(now)), p(ttl.count()),
               p(request.expiry_notice_lead.count()), p(static_cast<int64_t>(request.active_holds_max))});
    });
  } catch (const PgError& e) {
    if (claimed) front_->unclaim(event.id, seats, id);
    return must_be_domain(e);
  } catch (const core::UnavailableError&) {
    if (claimed) front_->unclaim(event.id, seats, id);
    throw;
  }
  std::sort(seats.begin(), seats.end());
  if (front_) front_->held(event.id, seats, id, now + ttl);
  return core::Hold{id, event.id, user, std::move(seats), now, now + ttl, core::HoldState::Active, 0};
}

core::Result<core::Hold> PgLedger::hold_seats(const core::Event& event, const core::Layout& layout,
                                              const core::HoldRequest& request, TimeMs now) {
  if (!request.best)
    return hold_explicit(event, request.seats, request, now);
  if (now < event.on_sale_at || now >= event.starts_at)
    return make_error(Code::SaleNotOpen, "this event is not on sale now");
  // Best available from the (cached) seat map, which may lag a moment behind: seats found taken are
  // avoided on the next attempt.
  if (recently_short_of(event.id, request.best->quantity, now))
    return make_error(Code::InsufficientSeats, "not enough seats are available");
  std::unordered_set<core::SeatId> avoid;
  for (int attempt = 0; attempt < kBestAvailableAttemptsMax; ++attempt) {
    auto map = seat_status(event, now);  // no counts: the pick reads every seat once, and that is enough
    if (!map) return map.error();
    const std::string& status = map->status;
    remember_available(event.id, static_cast<uint32_t>(std::count(status.begin(), status.end(), 'A')), now);
    // Called for every seat of the event: the set of seats to avoid is empty on the first attempt.
    auto picked = core::pick_best_available(layout, event.prices, *request.best, [&](core::SeatId seat) {
      return seat < status.size() && status[seat] == 'A' && (avoid.empty() || !avoid.contains(seat));
    });
    if (!picked) return make_error(Code::InsufficientSeats, "not enough seats are available");
    auto held = hold_explicit(event, std::move(*picked), request, now);
    if (held || held.error().code != Code::SeatUnavailable) return held;
    avoid.insert(held.error().seats.begin(), held.error().seats.end());
  }
  return make_error(Code::InsufficientSeats, "seats are selling fast; try again");
}

bool PgLedger::recently_short_of(core::EventId event, uint32_t quantity, TimeMs now) {
  std::lock_guard lock(seen_mu_);
  auto it = available_seen_.find(event);
  if (it == available_seen_.end()) return false;
  const AvailableSeen& seen = it->second;
  return seen.at <= now && now - seen.at < kShortOfSeatsFor && seen.available < quantity;
}

void PgLedger::remember_available(core::EventId event, uint32_t available, TimeMs now) {
  std::lock_guard lock(seen_mu_);
  if (available_seen_.size() >= kShortOfSeatsEventsMax && !available_seen_.contains(event)) available_seen_.clear();
  available_seen_[event] = AvailableSeen{available, now};
}

std::optional<StoredHold> PgLedger::read_hold(core::HoldId id) { return rows_.hold(id); }

core::Result<StoredHold> PgLedger::owned_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = read_hold(id);
  if (!stored || stored->hold.user_id != user) return make_error(Code::NotFound, "no such hold");
  stored->hold.state = hold_state_at(stored->state, stored->deadline_ms, now);
  return *stored;
}

core::Result<core::Hold> PgLedger::find_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = owned_hold(id, user, now);
  if (!stored) return stored.error();
  return stored->hold;
}

core::Result<core::Hold> PgLedger::release_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = owned_hold(id, user, now);
  if (!stored) return stored.error();
  std::string state;
  try {
    state = with_connection_retrying(pool_, [&](Connection& c) {
      return c.query("SELECT ticketd_release($1, $2, $3)", {p(id), p(user), p(to_unix_ms(now))}).text(0, 0);
    });
  } catch (const PgError& e) {
    return must_be_domain(e);
  }
  core::Hold h = stored->hold;
  h.state = core::hold_state_from(state).value_or(core::HoldState::Expired);
  if (h.state == core::HoldState::Released && front_) front_->freed(h.event_id, h.seats, h.id);
  return h;
}

std::optional<core::CheckoutRecord> PgLedger::find_checkout(core::UserId user, const std::string& key) {
  return rows_.checkout(user, key);
}

core::Result<core::CheckoutRecord> PgLedger::begin_checkout(core::HoldId id, core::UserId user,
                                                            const core::CheckoutStart& start, TimeMs now) {
  auto stored = owned_hold(id, user, now);
  if (!stored) return stored.error();
  core::BookingId booking_id = 0;
  core::PaymentId payment_id = 0;
  try {
    with_connection_retrying(pool_, [&](Connection& c) {
      Rows r = c.query("SELECT o_booking, o_payment FROM ticketd_begin_checkout($1, $2, $3, $4, $5, $6, $7, $8)",
                       {p(id), p(user), p(to_unix_ms(now)), p(core::limits::checkout_pin_max.count()),
                        p(start.idempotency_key), p(start.amount), p(start.currency), p(start.payment_method)});
      booking_id = r.int64(0, 0);
      payment_id = r.int64(0, 1);
    }, /*idempotent=*/false);
  } catch (const PgError& e) {
    // The same key, or the same hold, checked out at the same moment on another node.
    if (e.sqlstate == "23505") return make_error(Code::CheckoutInProgress, "a payment for this hold is pending");
    return must_be_domain(e);
  }
  const core::Hold& h = stored->hold;
  if (front_) front_->pinned(h.event_id, h.seats, h.id, std::max(h.expires_at, now) + core::limits::checkout_pin_max);
  return core::CheckoutRecord{id, booking_id, h.event_id, user, core::BookingStatus::PendingPayment, payment_id,
                              "PENDING", "", "ticketd-booking-" + std::to_string(booking_id), start.payment_method,
                              start.amount, start.currency, "", "", now};
}

std::optional<TimeMs> PgLedger::event_starts_at(core::EventId event) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<TimeMs> {
    Rows r = c.query("SELECT starts_at FROM events WHERE id = $1", {p(event)});
    if (r.empty()) return std::nullopt;
    return from_unix_ms(r.int64(0, 0));
  });
}

core::Result<core::Settlement> PgLedger::settle_payment(core::BookingId booking_id, const core::PaymentOutcome& outcome,
                                                        TimeMs now) {
  auto current = booking_by_id(booking_id);
  if (!current) return make_error(Code::NotFound, "no such booking");
  using Kind = core::PaymentOutcome::Kind;
  const char* kind = outcome.kind == Kind::Succeeded        ? "SUCCEEDED"
                     : outcome.kind == Kind::AwaitingAction ? "AWAITING_ACTION"
                     : outcome.kind == Kind::Rejected       ? "REJECTED"
                                                            : "DECLINED";
  std::string result;
  std::vector<std::string> ticket_ids;  // one per seat, used if this call sells them
  for (size_t i = 0; i < current->seats.size(); ++i) ticket_ids.push_back(ticket_ids_.next());
  try {
    // Safe to repeat: a second call finds the booking settled. One transaction: the tickets of a
    // booking are issued in the commit that confirms it, or not at all.
    result = with_connection_retrying(pool_, [&](Connection& c) {
      c.exec("BEGIN");
      try {
        std::string r =
            c.query("SELECT ticketd_settle($1, $2, $3, $4, $5, $6, $7, $8)",
                    {p(booking_id), p(kind), p(outcome.payment_ref), p(outcome.decline_code), p(outcome.message),
                     p(outcome.event_id), p(to_unix_ms(now)), p(core::limits::payment_action_pin_max.count())})
                .text(0, 0);
        if (r == "failed") {
          // A declined payment releases its hold, unless the hold had lapsed already (its pin ran out):
          // that one stays expired, whether or not the sweeper got to it, as every ledger answers.
          c.query("UPDATE holds SET state = 'EXPIRED' WHERE id = $1 AND state = 'RELEASED' AND deadline <= $2",
                  {p(current->hold_id), p(to_unix_ms(now))});
        }
        if (r == "sold") {
          // Signed with the event's current key as of this commit (a rotation is a row in event_entry).
          c.query("INSERT INTO tickets(id, event_id, booking_id, owner_id, seat, key_id, status, issued_at) "
                  "SELECT t.id, $2, $3, $4, t.seat, "
                  "COALESCE((SELECT ticket_key_id FROM event_entry WHERE event_id = $2), 1), 'VALID', $6 "
                  "FROM unnest($1::text[], $5::integer[]) AS t(id, seat)",
                  {p_text_array(ticket_ids), p(current->event_id), p(booking_id), p(current->user_id),
                   p_array(current->seats), p(to_unix_ms(now))});
        }
        c.exec("COMMIT");
        return r;
      } catch (...) {
        if (c.healthy()) c.exec("ROLLBACK");
        throw;
      }
    });
  } catch (const PgError& e) {
    return must_be_domain(e);
  }
  if (front_) {
    if (result == "sold") {
      // The front refuses holds of sold seats quickly while the sale is hot, then forgets them
      // (PostgreSQL refuses such holds on its own): Redis holds only the seats sold recently.
      const TimeMs until = std::min(event_starts_at(current->event_id).value_or(now), now + kSoldSeatsInFrontFor);
      front_->sold(current->event_id, current->seats, until);
    } else if (result == "failed" || result == "refund-needed") {
      front_->freed(current->event_id, current->seats, current->hold_id);
    } else if (result == "awaiting-action") {
      front_->pinned(current->event_id, current->seats, current->hold_id, now + core::limits::payment_action_pin_max);
    }
  }
  // The row was just written; gone now only if someone deleted it by hand: an error, not a crash.
  auto settled = booking_by_id(booking_id);
  if (!settled) return make_error(Code::Unavailable, "the settled booking could not be read back");
  return core::Settlement{*settled, result == "refund-needed"};
}

core::Status PgLedger::record_refund(core::BookingId booking, const std::string& refund_ref) {
  return rows_.record_refund(booking, refund_ref);
}

bool PgLedger::payment_event_seen(const std::string& event_id) { return rows_.payment_event_seen(event_id); }

core::Status PgLedger::record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) {
  return rows_.record_payment_event(event_id, type, now);
}

std::vector<core::CheckoutRecord> PgLedger::payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                                 uint32_t limit) {
  return rows_.payments_to_reconcile(older_than, after_payment, limit);
}

std::optional<core::Booking> PgLedger::booking_by_id(core::BookingId id) { return rows_.booking(id); }

std::optional<core::BookingId> PgLedger::booking_by_payment_ref(const std::string& payment_ref) {
  if (payment_ref.empty()) return std::nullopt;
  return rows_.booking_by_payment_ref(payment_ref);
}

core::Result<core::Booking> PgLedger::find_booking(core::BookingId id, core::UserId user) {
  auto b = booking_by_id(id);
  if (!b || b->user_id != user) return make_error(Code::NotFound, "no such booking");
  return *b;
}

std::vector<core::Booking> PgLedger::list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                                   bool include_failed) {
  std::vector<core::Booking> out;
  for (core::BookingId id : rows_.bookings_of(user, limit, before_id, include_failed))
    if (auto b = rows_.booking(id)) out.push_back(std::move(*b));
  return out;
}

core::Result<core::Booking> PgLedger::cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                                     TimeMs now) {
  bool cancelled_now = false;
  try {
    cancelled_now = with_connection_retrying(pool_, [&](Connection& c) {
      c.exec("BEGIN");  // the tickets are revoked in the commit that cancels their booking
      try {
        const bool now_cancelled =
            c.query("SELECT ticketd_cancel($1, $2, $3)", {p(booking.id), p(refund_ref), p(to_unix_ms(now))})
                .boolean(0, 0);
        c.query("UPDATE tickets SET status = 'REVOKED', revoked_at = $2, changed_at = $2, "
                "revoked_reason = 'booking_cancelled' WHERE booking_id = $1 AND status <> 'REVOKED'",
                {p(booking.id), p(to_unix_ms(now))});
        c.exec("COMMIT");
        return now_cancelled;
      } catch (...) {
        if (c.healthy()) c.exec("ROLLBACK");
        throw;
      }
    });
  } catch (const PgError& e) {
    return must_be_domain(e);
  }
  if (cancelled_now && front_) front_->freed(booking.event_id, booking.seats, 0);
  auto b = booking_by_id(booking.id);
  if (!b) return make_error(Code::Unavailable, "the cancelled booking could not be read back");
  return *b;
}

core::Result<core::Booking> PgLedger::refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                                  const std::string& refund_ref, TimeMs now) {
  std::vector<core::SeatId> distinct = refund.seats;
  std::sort(distinct.begin(), distinct.end());
  if (std::adjacent_find(distinct.begin(), distinct.end()) != distinct.end())
    return make_error(Code::InvalidRequest, "seat_ids: a seat is named twice");
  const std::string seats_csv = core::seat_csv(refund.seats);
  const std::string seats_array = "{" + seats_csv + "}";  // a PostgreSQL int[] literal
  auto done = with_connection(pool_, [&](Connection& c) -> core::Status {
    c.exec("BEGIN");
    try {
      // The booking's row lock orders this against its cancellation and other refunds of it.
      Rows b = c.query("SELECT status FROM bookings WHERE id = $1 FOR UPDATE", {p(booking.id)});
      if (b.empty() || b.text(0, 0) != "CONFIRMED") {
        c.exec("ROLLBACK");
        return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be refunded");
      }
      // As core::EventInventory::cancel_seats decides for the embedded store (the conformance suite
      // holds both to it): some of the booking's seats, never none or all (all is a cancellation).
      Rows mine = c.query("SELECT count(*) FILTER (WHERE seat = ANY($2::int[])), count(*) FROM booking_seats "
                          "WHERE booking_id = $1",
                          {p(booking.id), p(seats_array)});
      if (refund.seats.empty() || static_cast<int64_t>(refund.seats.size()) >= mine.int64(0, 1)) {
        c.exec("ROLLBACK");
        return make_error(Code::InvalidRequest, "seat_ids: some of the booking's seats, not none or all");
      }
      if (mine.int64(0, 0) != static_cast<int64_t>(refund.seats.size())) {
        c.exec("ROLLBACK");
        return make_error(Code::InvalidSeat, "seat_ids: a seat is no longer one of this booking's");
      }
      c.query("DELETE FROM sold_seats WHERE booking_id = $1 AND seat = ANY($2::int[])", {p(booking.id), p(seats_array)});
      c.query("DELETE FROM seat_claims WHERE booking_id = $1 AND seat = ANY($2::int[])", {p(booking.id), p(seats_array)});
      c.query("DELETE FROM booking_seats WHERE booking_id = $1 AND seat = ANY($2::int[])",
              {p(booking.id), p(seats_array)});
      c.query("UPDATE tickets SET status = 'REVOKED', revoked_at = $3, changed_at = $3, revoked_reason = 'refunded' "
              "WHERE booking_id = $1 AND seat = ANY($2::int[]) AND status <> 'REVOKED'",
              {p(booking.id), p(seats_array), p(to_unix_ms(now))});
      const int64_t refund_id =
          c.query("INSERT INTO booking_refunds(booking_id, seats, amount, refund_ref, created_at) "
                  "VALUES($1, $2, $3, $4, $5) RETURNING id",
                  {p(booking.id), p(seats_csv), p(refund.amount), p(refund_ref), p(to_unix_ms(now))})
              .int64(0, 0);
      // The buyer's notice, on the channels they chose; then pointed at this refund (the rows just
      // inserted are the only ones of this booking's seats_refunded notices without one).
      c.query("SELECT ticketd_enqueue_notice('seats_refunded', $1, $2, $3, $4, $5, $5)",
              {p(booking.user_id), p(booking.event_id), p(booking.id), p(booking.hold_id), p(to_unix_ms(now))});
      c.query("UPDATE outbox SET refund_id = $2 WHERE booking_id = $1 AND kind = 'seats_refunded' AND refund_id = 0",
              {p(booking.id), p(refund_id)});
      c.exec("COMMIT");
      return core::ok_status();
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
  if (!done) return done.error();
  if (front_) front_->freed(booking.event_id, refund.seats, 0);
  auto b = booking_by_id(booking.id);
  if (!b) return make_error(Code::NotFound, "no such booking");
  return *b;
}

int64_t PgLedger::seat_refunds_total(core::BookingId booking) { return rows_.seat_refunds_total(booking); }

std::optional<core::SeatRefundRecord> PgLedger::find_seat_refund(int64_t id) { return rows_.seat_refund(id); }

std::vector<core::Ticket> PgLedger::tickets_of_booking(core::BookingId booking) {
  return rows_.tickets_of_booking(booking);
}

std::optional<core::Ticket> PgLedger::find_ticket(const std::string& ticket_id) { return rows_.ticket(ticket_id); }

core::Result<core::SeatMap> PgLedger::map_from_db(const core::Event& event, TimeMs now, uint64_t version) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::SeatMap> {
    Rows r = c.query("SELECT seat, booking_id IS NOT NULL FROM seat_claims WHERE event_id = $1 "
                     "AND (booking_id IS NOT NULL OR deadline > $2)",
                     {p(event.id), p(to_unix_ms(now))});
    core::SeatMap map;
    map.status.assign(event.seats_total, 'A');
    map.version = version;
    for (int i = 0; i < r.size(); ++i) {
      const auto seat = static_cast<size_t>(r.int64(i, 0));
      if (seat < map.status.size()) map.status[seat] = r.boolean(i, 1) ? 'S' : 'H';
    }
    return map;
  });
}

core::Result<core::SeatMap> PgLedger::seat_map(const core::Event& event, TimeMs now) {
  auto map = seat_status(event, now);
  if (!map) return map;
  for (char c : map->status) {
    if (c == 'H') ++map->counts.held;
    else if (c == 'S') ++map->counts.sold;
    else ++map->counts.available;
  }
  return map;
}

core::Result<core::SeatMap> PgLedger::seat_status(const core::Event& event, TimeMs now) {
  core::SeatMap map;
  std::optional<core::SeatFront::Snapshot> cached;
  if (front_) cached = front_->snapshot(event.id);
  if (cached && cached->status.size() == event.seats_total) {
    map.status = std::move(cached->status);
    map.version = cached->version;
  } else {
    // Read the version first: changes published after it are applied on top by live subscribers,
    // and the map is cached only if none happened while it was built.
    const uint64_t version = front_ ? front_->version(event.id) : 0;
    auto built = map_from_db(event, now, version);
    if (!built) return built;
    map = std::move(*built);
    if (front_) front_->store_snapshot(event.id, core::SeatFront::Snapshot{map.status, map.version});
  }
  return map;
}

core::Result<core::Stock> PgLedger::stock(const core::Event& event, TimeMs now, TimeMs expiring_before) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::Stock> {
    Rows r = c.query(
        "SELECT count(*), count(*) FILTER (WHERE c.booking_id IS NULL AND h.state = 'ACTIVE' AND c.deadline < $3), "
        "count(DISTINCT c.hold_id) FILTER (WHERE c.booking_id IS NULL) + count(DISTINCT c.booking_id) "
        "FROM seat_claims c LEFT JOIN holds h ON h.id = c.hold_id "
        "WHERE c.event_id = $1 AND (c.booking_id IS NOT NULL OR c.deadline > $2)",
        {p(event.id), p(to_unix_ms(now)), p(to_unix_ms(expiring_before))});
    core::Stock s;
    const auto claimed = static_cast<uint32_t>(r.int64(0, 0));
    s.available = claimed >= event.seats_total ? 0 : event.seats_total - claimed;
    s.expiring = static_cast<uint32_t>(r.int64(0, 1));
    s.basket_seats = claimed;
    s.baskets = static_cast<uint64_t>(r.int64(0, 2));
    return s;
  });
}

size_t PgLedger::sweep_expired(TimeMs now) {
  std::map<std::pair<core::EventId, core::HoldId>, std::vector<core::SeatId>> freed;
  const bool swept = with_connection(pool_, [&](Connection& c) {
    c.exec("BEGIN");
    try {
      if (!c.query("SELECT pg_try_advisory_xact_lock($1)", {p(kSweeperLockKey)}).boolean(0, 0)) {
        c.exec("ROLLBACK");
        return false;  // another node is sweeping
      }
      Rows r = c.query("SELECT event_id, seat, hold_id FROM ticketd_sweep($1, $2)",
                       {p(to_unix_ms(now)), p(static_cast<int64_t>(kSweepRowsPerPassMax))});
      c.exec("COMMIT");
      for (int i = 0; i < r.size(); ++i)
        freed[{r.int64(i, 0), r.int64(i, 2)}].push_back(static_cast<core::SeatId>(r.int64(i, 1)));
      return true;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  });
  if (!swept) return 0;
  size_t seats = 0;
  for (auto& [key, list] : freed) {
    seats += list.size();
    if (front_) front_->freed(key.first, list, key.second);
  }
  return seats;
}

}  // namespace ticketd::store::postgres
