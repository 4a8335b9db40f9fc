// The owner's seat journal in PostgreSQL (seat_journal.hpp): each decision's SQL, run as a fenced job
// of the owner's group commit, and the loading of an event under a new epoch.
#include "store/postgres/seat_journal.hpp"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <type_traits>

#include "base/assert.hpp"
#include "core/seat_csv.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {

void note_event(Connection& c, const std::string& event_id, const char* type, TimeMs at) {
  if (event_id.empty()) return;
  c.query("INSERT INTO payment_events(id, type, received_at) VALUES($1, $2, $3) ON CONFLICT DO NOTHING",
          {p(event_id), p(type), p(to_unix_ms(at))});
}

void notice(Connection& c, const char* kind, core::UserId user, core::EventId event, core::BookingId booking,
            core::HoldId hold, TimeMs at, TimeMs due) {
  c.query("SELECT ticketd_enqueue_notice($1, $2, $3, $4, $5, $6, $7)",
          {p(kind), p(user), p(event), p(booking), p(hold), p(to_unix_ms(at)), p(to_unix_ms(due))});
}

// The hold's claims go away (a sale's claims, which name the booking, stay).
void drop_hold_claims(Connection& c, core::HoldId hold) {
  c.query("DELETE FROM seat_claims WHERE hold_id = $1 AND booking_id IS NULL", {p(hold)});
}

// Seats bought from resale listings leave their sellers' bookings before the buyer's booking takes
// them: each seller's claims, sold rows and tickets for them go, the listings are sold, and a refund of
// the listed amounts is recorded, due (app/resale pays it).
void sell_listed(Connection& c, const core::PaymentSucceeded& d) {
  const int64_t at = to_unix_ms(d.at);
  for (const core::EventInventory::Resold& r : d.resold) {
    const Param seats = p_array(r.seats);
    c.query("DELETE FROM seat_claims WHERE event_id = $1 AND seat = ANY($2::integer[]) AND booking_id = $3",
            {p(d.event), seats, p(r.seller_booking)});
    c.query("DELETE FROM sold_seats WHERE booking_id = $1 AND seat = ANY($2::integer[])", {p(r.seller_booking), seats});
    c.query("DELETE FROM booking_seats WHERE booking_id = $1 AND seat = ANY($2::integer[])",
            {p(r.seller_booking), seats});
    c.query("UPDATE tickets SET status = 'REVOKED', revoked_at = $3, changed_at = $3, revoked_reason = 'resold' "
            "WHERE booking_id = $1 AND seat = ANY($2::integer[]) AND status <> 'REVOKED'",
            {p(r.seller_booking), seats, p(at)});
    Rows listed = c.query("SELECT count(*), coalesce(sum(amount), 0) FROM resale_listings WHERE event_id = $1 "
                          "AND seat = ANY($2::integer[]) AND state = 'LISTED'",
                          {p(d.event), seats});
    if (listed.int64(0, 0) != static_cast<int64_t>(r.seats.size()))
      throw Refused("booking " + std::to_string(d.booking) + ": a resold seat has no listing in PostgreSQL");
    const int64_t refund_id = c.query("INSERT INTO booking_refunds(booking_id, seats, amount, refund_ref, created_at) "
                                      "VALUES($1, $2, $3, '', $4) RETURNING id",
                                      {p(r.seller_booking), p(core::seat_csv(r.seats)), p(listed.int64(0, 1)), p(at)})
                                  .int64(0, 0);
    c.query("UPDATE resale_listings SET state = 'SOLD', ended_at = $3, buyer_booking_id = $4, refund_id = $5 "
            "WHERE event_id = $1 AND seat = ANY($2::integer[]) AND state = 'LISTED'",
            {p(d.event), seats, p(at), p(d.booking), p(refund_id)});
    notice(c, "seats_refunded", r.seller, d.event, r.seller_booking, 0, d.at, d.at);
    c.query("UPDATE outbox SET refund_id = $2 WHERE booking_id = $1 AND kind = 'seats_refunded' AND refund_id = 0",
            {p(r.seller_booking), p(refund_id)});
    // Every seat resold: the booking is over, its money going back by these refunds (as a cancellation's).
    c.query("WITH over AS (UPDATE bookings SET status = 'CANCELLED', cancelled_at = $2 WHERE id = $1 "
            "AND status = 'CONFIRMED' AND NOT EXISTS (SELECT 1 FROM booking_seats WHERE booking_id = $1) "
            "RETURNING payment_id) UPDATE payments SET status = 'REFUNDED' WHERE id IN (SELECT payment_id FROM over)",
            {p(r.seller_booking), p(at)});
  }
}

void write(Connection& c, const core::ListingChanged& d) {
  const core::Booking& b = d.seller;
  if (d.change.listed)
    // Listed already (a repeated request): the row stays as it is.
    c.query("INSERT INTO resale_listings(event_id, seat, booking_id, seller_id, amount, state, listed_at) "
            "VALUES($1, $2, $3, $4, $5, 'LISTED', $6) ON CONFLICT (event_id, seat) WHERE state = 'LISTED' DO NOTHING",
            {p(b.event_id), p(int64_t{d.change.seat}), p(b.id), p(b.user_id), p(d.change.amount), p(to_unix_ms(d.at))});
  else
    c.query("UPDATE resale_listings SET state = 'WITHDRAWN', ended_at = $3 WHERE event_id = $1 AND seat = $2 "
            "AND state = 'LISTED'",
            {p(b.event_id), p(int64_t{d.change.seat}), p(to_unix_ms(d.at))});
}

void write(Connection& c, const core::PaymentAwaitingAction& d) {
  c.query("UPDATE payments SET status = 'REQUIRES_ACTION', payment_ref = $2, updated_at = $3 WHERE booking_id = $1",
          {p(d.booking), p(d.outcome.payment_ref), p(to_unix_ms(d.at))});
  note_event(c, d.outcome.event_id, "awaiting_action", d.at);
}

// Paid after the hold lapsed and its seats went to someone else: the booking failed and the caller
// refunds. (A payment that sold its seats is staged: staged_writes.hpp.)
void write_paid_too_late(Connection& c, const core::PaymentSucceeded& d) {
  TICKETD_ASSERT(!d.sold);
  c.query("UPDATE payments SET status = 'SUCCEEDED', payment_ref = $2, updated_at = $3 WHERE booking_id = $1",
          {p(d.booking), p(d.outcome.payment_ref), p(to_unix_ms(d.at))});
  note_event(c, d.outcome.event_id, "succeeded", d.at);
  c.query("UPDATE bookings SET status = 'FAILED', decline_code = 'seats_taken', message = $2 WHERE id = $1",
          {p(d.booking), p(core::kPaidTooLateMessage)});
  c.query("UPDATE holds SET state = 'EXPIRED' WHERE id = $1", {p(d.hold)});
  drop_hold_claims(c, d.hold);
  notice(c, "payment_failed", d.user, d.event, d.booking, d.hold, d.at, d.at);
}

void write(Connection& c, const core::PaymentFailed& d) {
  c.query("UPDATE payments SET status = 'DECLINED', payment_ref = $2, decline_code = $3, message = $4, updated_at = $5 "
          "WHERE booking_id = $1",
          {p(d.booking), p(d.outcome.payment_ref), p(d.outcome.decline_code), p(d.outcome.message), p(to_unix_ms(d.at))});
  c.query("UPDATE bookings SET status = 'FAILED', decline_code = $2, message = $3 WHERE id = $1",
          {p(d.booking), p(d.outcome.decline_code), p(d.outcome.message)});
  note_event(c, d.outcome.event_id, "failed", d.at);
  using HoldEnd = core::PaymentFailed::HoldEnd;
  // A rejected request (an unknown payment method) charged nothing and the buyer is told at once, with
  // the hold still theirs: only a real decline is announced.
  if (d.hold_end == HoldEnd::kept) return;
  c.query("UPDATE holds SET state = $2 WHERE id = $1",
          {p(d.hold), p(d.hold_end == HoldEnd::released ? "RELEASED" : "EXPIRED")});
  drop_hold_claims(c, d.hold);
  notice(c, "payment_failed", d.user, d.event, d.booking, d.hold, d.at, d.at);
}

void write(Connection& c, const core::SettledAlready& d) { note_event(c, d.outcome.event_id, "settled-already", d.at); }

void write(Connection& c, const core::BookingCancelled& d) {
  const core::Booking& b = d.booking;
  const int64_t at = to_unix_ms(d.at);
  c.query("UPDATE bookings SET status = 'CANCELLED', cancelled_at = $2 WHERE id = $1", {p(b.id), p(at)});
  c.query("DELETE FROM sold_seats WHERE booking_id = $1", {p(b.id)});
  c.query("DELETE FROM seat_claims WHERE booking_id = $1", {p(b.id)});
  c.query("UPDATE resale_listings SET state = 'WITHDRAWN', ended_at = $2 WHERE booking_id = $1 AND state = 'LISTED'",
          {p(b.id), p(at)});
  c.query("UPDATE tickets SET status = 'REVOKED', revoked_at = $2, changed_at = $2, revoked_reason = 'booking_cancelled' "
          "WHERE booking_id = $1 AND status <> 'REVOKED'",
          {p(b.id), p(at)});
  c.query("UPDATE payments SET status = 'REFUNDED', refund_ref = $2 WHERE id = $1", {p(b.payment_id), p(d.refund_ref)});
  notice(c, "booking_cancelled", b.user_id, b.event_id, b.id, b.hold_id, d.at, d.at);
}

void write(Connection& c, const core::SeatsRefunded& d) {
  const core::Booking& b = d.booking;
  const std::string seats_csv = core::seat_csv(d.refund.seats);
  const Param seats = p_array(d.refund.seats);
  const int64_t at = to_unix_ms(d.at);
  c.query("DELETE FROM sold_seats WHERE booking_id = $1 AND seat = ANY($2::integer[])", {p(b.id), seats});
  c.query("DELETE FROM seat_claims WHERE booking_id = $1 AND seat = ANY($2::integer[])", {p(b.id), seats});
  c.query("DELETE FROM booking_seats WHERE booking_id = $1 AND seat = ANY($2::integer[])", {p(b.id), seats});
  c.query("UPDATE resale_listings SET state = 'WITHDRAWN', ended_at = $3 WHERE booking_id = $1 "
          "AND seat = ANY($2::integer[]) AND state = 'LISTED'",
          {p(b.id), seats, p(at)});
  c.query("UPDATE tickets SET status = 'REVOKED', revoked_at = $3, changed_at = $3, revoked_reason = 'refunded' "
          "WHERE booking_id = $1 AND seat = ANY($2::integer[]) AND status <> 'REVOKED'",
          {p(b.id), seats, p(at)});
  const int64_t refund_id = c.query("INSERT INTO booking_refunds(booking_id, seats, amount, refund_ref, created_at) "
                                    "VALUES($1, $2, $3, $4, $5) RETURNING id",
                                    {p(b.id), p(seats_csv), p(d.refund.amount), p(d.refund_ref), p(at)})
                                .int64(0, 0);
  // The buyer's notice, pointed at this refund (the rows just inserted are the only ones of this
  // booking's seats_refunded notices without one).
  notice(c, "seats_refunded", b.user_id, b.event_id, b.id, b.hold_id, d.at, d.at);
  c.query("UPDATE outbox SET refund_id = $2 WHERE booking_id = $1 AND kind = 'seats_refunded' AND refund_id = 0",
          {p(b.id), p(refund_id)});
}

void write(Connection&, const core::Barrier&) {}

core::EventId event_of(const core::SeatDecision& decision) {
  return std::visit(
      [](const auto& d) -> core::EventId {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, core::HoldPlaced>) return d.hold.event_id;
        else if constexpr (std::is_same_v<D, core::CheckoutBegun>) return d.record.event_id;
        else if constexpr (std::is_same_v<D, core::BookingCancelled> || std::is_same_v<D, core::SeatsRefunded>)
          return d.booking.event_id;
        else if constexpr (std::is_same_v<D, core::ListingChanged>) return d.seller.event_id;
        else return d.event;
      },
      decision);
}

// Hold ids: 16 blocks of hold_id_blocks (which steps by 64), 1,024 ids per round trip. A hold decided
// without blocking needs an id at hand (next_hold_id_if_ready); with 64 per draw, one hold in six of
// a busy owner found none (another thread was drawing) and went to a worker instead.
constexpr const char* kHoldIds =
    "SELECT generate_series(s, s + 63) FROM (SELECT nextval('hold_id_blocks') AS s FROM generate_series(1, 16)) x";
// Booking and payment ids likewise, 1,024 per round trip: a checkout begun without blocking finds none at
// hand while they are being drawn (it goes to a worker then), which 64 per draw made one in nine of a
// busy owner's. An id drawn and never used is a gap, as a rolled-back one is.
constexpr const char* kBookingIds = "SELECT nextval('bookings_id_seq') FROM generate_series(1, 1024)";
constexpr const char* kPaymentIds = "SELECT nextval('payments_id_seq') FROM generate_series(1, 1024)";

}  // namespace

PgSeatJournal::PgSeatJournal(Pool& pool, EventOwners& owners, OwnerCommit& commit)
    : pool_(pool), owners_(owners), commit_(commit), rows_(pool) {
  commit_.set_stager(&staged_);
}

PgSeatJournal::~PgSeatJournal() {
  std::lock_guard lock(mu_);
  for (const auto& [event, h] : held_) {
    if (h.lost) continue;
    try {
      owners_.release(h.ownership);  // a clean stop hands the event over at once
    } catch (const std::exception&) {
      // PostgreSQL is gone: the lease lapses on its own.
    }
  }
}

int64_t PgSeatJournal::IdRuns::take() {
  TICKETD_ASSERT(!runs.empty());
  auto& [next, end] = runs.back();
  const int64_t id = next++;
  if (next == end) runs.pop_back();
  return id;
}

int64_t PgSeatJournal::next_id(IdRuns& ids, const char* sql) {
  std::unique_lock lock(ids_mu_);
  draw_if_empty(lock, ids, sql);
  return ids.take();
}

// The round trip runs without ids_mu_, so a caller that must not block (next_id_if_ready) only ever
// waits for another's take. Two threads that find the same runs empty both draw: the ids left over are
// taken later.
void PgSeatJournal::draw_if_empty(std::unique_lock<std::mutex>& lock, IdRuns& ids, const char* sql) {
  if (!ids.empty()) return;
  lock.unlock();
  std::vector<int64_t> drawn = with_connection(pool_, [&](Connection& c) {
    Rows r = c.query(sql);
    std::vector<int64_t> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(r.int64(i, 0));
    return out;
  });
  lock.lock();
  if (drawn.empty()) throw PgError("XX000", "drawing ids returned no row");
  // Blocks of one sequence, or values of one: consecutive unless another node drew at the same moment.
  std::sort(drawn.begin(), drawn.end(), std::greater<>());
  std::vector<std::pair<int64_t, int64_t>> runs;
  for (int64_t id : drawn) {
    if (!runs.empty() && runs.back().first == id + 1)
      --runs.back().first;
    else
      runs.emplace_back(id, id + 1);
  }
  ids.runs.insert(ids.runs.end(), runs.begin(), runs.end());
  std::sort(ids.runs.begin(), ids.runs.end(), std::greater<>());  // the lowest run last, taken first
}

core::HoldId PgSeatJournal::next_hold_id() { return next_id(holds_, kHoldIds); }

std::optional<int64_t> PgSeatJournal::next_id_if_ready(IdRuns& ids) {
  std::lock_guard lock(ids_mu_);  // never held across a draw (draw_if_empty)
  if (ids.empty()) return std::nullopt;
  return ids.take();
}

std::optional<core::HoldId> PgSeatJournal::next_hold_id_if_ready() {
  return next_id_if_ready(holds_);
}
core::BookingId PgSeatJournal::next_booking_id() { return next_id(bookings_, kBookingIds); }
core::PaymentId PgSeatJournal::next_payment_id() { return next_id(payments_, kPaymentIds); }

std::optional<Ownership> PgSeatJournal::held(core::EventId event) {
  std::lock_guard lock(mu_);
  auto it = held_.find(event);
  if (it == held_.end()) return std::nullopt;
  return it->second.ownership;
}

core::Result<core::JournalEvent> PgSeatJournal::load_event(core::EventId event, TimeMs now) {
  std::optional<core::InventoryRules> rules = with_connection(pool_, [&](Connection& c) -> std::optional<core::InventoryRules> {
    Rows ev = c.query("SELECT seats_total, max_tickets_per_user, on_sale_at, starts_at, coalesce((SELECT resale_open_sale "
                      "FROM waitlists WHERE event_id = $1), true) FROM events WHERE id = $1",
                      {p(event)});
    if (ev.empty()) return std::nullopt;
    return core::InventoryRules{event, static_cast<uint32_t>(ev.int64(0, 0)), static_cast<uint32_t>(ev.int64(0, 1)),
                                from_unix_ms(ev.int64(0, 2)), from_unix_ms(ev.int64(0, 3)), ev.boolean(0, 4)};
  });
  if (!rules) return make_error(Code::NotFound, "no such event");
  const Ownership o = owners_.take(event);
  if (o.owner != owners_.node()) {
    core::Error e = make_error(Code::Unavailable, "this event's seats are decided by node " + o.owner);
    e.detail = kOwnerDetailPrefix + o.address;  // where the router (cluster/owner_router.hpp) forwards
    return e;
  }
  {
    std::lock_guard lock(mu_);
    held_[event] = Held{o, false};
  }
  // Jobs of older epochs fail the fence by themselves: what was refused under them need not be kept.
  commit_.reset(event);
  // The event's checkouts begun without blocking take their ids from what is drawn already (next_id_if_ready):
  // have some at hand from its first one on.
  {
    std::unique_lock lock(ids_mu_);
    draw_if_empty(lock, bookings_, kBookingIds);
    draw_if_empty(lock, payments_, kPaymentIds);
  }
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::JournalEvent> {
    core::JournalEvent out;
    out.rules = *rules;
    out.version_base = static_cast<uint64_t>(o.epoch) << 32;
    // Read after the new epoch is in place: every commit of an older one is in, and none can follow.
    Rows sold = c.query("SELECT s.booking_id, b.user_id, array_agg(s.seat ORDER BY s.seat) FROM sold_seats s "
                        "JOIN bookings b ON b.id = s.booking_id WHERE s.event_id = $1 GROUP BY s.booking_id, b.user_id "
                        "ORDER BY s.booking_id",
                        {p(event)});
    for (int i = 0; i < sold.size(); ++i)
      out.sales.push_back(core::JournalSale{sold.int64(i, 0), sold.int64(i, 1), seats_of(sold.int_array(i, 2))});
    Rows listed = c.query("SELECT booking_id, seat FROM resale_listings WHERE event_id = $1 AND state = 'LISTED'",
                          {p(event)});
    for (int i = 0; i < listed.size(); ++i)
      out.listings.push_back(core::JournalListing{listed.int64(i, 0), static_cast<core::SeatId>(listed.int64(i, 1))});
    Rows holds = c.query("SELECT h.id, h.user_id, h.created_at, h.expires_at, "
                         "(SELECT array_agg(seat ORDER BY seat) FROM hold_seats WHERE hold_id = h.id) FROM holds h "
                         "WHERE h.event_id = $1 AND h.state IN ('ACTIVE', 'PINNED') AND h.expires_at > $2 "
                         "ORDER BY h.id DESC",
                         {p(event), p(to_unix_ms(now))});
    for (int i = 0; i < holds.size(); ++i) {
      core::Hold h;
      h.id = holds.int64(i, 0);
      h.event_id = event;
      h.user_id = holds.int64(i, 1);
      h.created_at = from_unix_ms(holds.int64(i, 2));
      h.expires_at = from_unix_ms(holds.int64(i, 3));
      h.seats = seats_of(holds.int_array(i, 4));
      out.holds.push_back(std::move(h));
    }
    Rows pending = c.query("SELECT b.id, b.hold_id, b.user_id, (SELECT array_agg(seat ORDER BY seat) FROM booking_seats "
                           "WHERE booking_id = b.id) FROM bookings b WHERE b.event_id = $1 AND b.status = "
                           "'PENDING_PAYMENT' ORDER BY b.id",
                           {p(event)});
    for (int i = 0; i < pending.size(); ++i)
      out.pending.push_back(core::JournalPending{pending.int64(i, 0), pending.int64(i, 1), pending.int64(i, 2),
                                                 seats_of(pending.int_array(i, 3))});
    return out;
  });
}

std::vector<core::JournalActiveHold> PgSeatJournal::active_holds() {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT id, event_id, user_id, expires_at FROM holds WHERE state IN ('ACTIVE', 'PINNED')");
    std::vector<core::JournalActiveHold> out;
    for (int i = 0; i < r.size(); ++i)
      out.push_back(core::JournalActiveHold{r.int64(i, 1), r.int64(i, 0), r.int64(i, 2), from_unix_ms(r.int64(i, 3))});
    return out;
  });
}

void PgSeatJournal::record(core::SeatDecision decision, Done done, Failure) {
  const core::EventId event = event_of(decision);
  const std::optional<Ownership> o = held(event);
  // The engine records only for events it loaded, and loading took the event here.
  TICKETD_ASSERT(o.has_value());
  commit_.submit(event, o->epoch,
                 [this, decision = std::move(decision)](Connection& c) {
                   std::visit(
                       [&](const auto& d) {
                         using D = std::decay_t<decltype(d)>;
                         if constexpr (std::is_same_v<D, core::HoldPlaced> || std::is_same_v<D, core::HoldReleased> ||
                                       std::is_same_v<D, core::CheckoutBegun>) {
                           staged_.stage(c, d);
                         } else if constexpr (std::is_same_v<D, core::PaymentSucceeded>) {
                           if (d.sold && d.resold.empty()) return staged_.stage(c, d);
                           staged_.flush(c);  // what was decided before this is written before it
                           if (!d.sold) return write_paid_too_late(c, d);
                           sell_listed(c, d);  // the seats leave their sellers before the buyer takes them
                           staged_.stage(c, d);
                         } else {
                           staged_.flush(c);  // what was decided before this is written before it
                           write(c, d);
                         }
                       },
                       decision);
                 },
                 std::move(done));
}

std::optional<core::Hold> PgSeatJournal::hold(core::HoldId id) {
  std::optional<StoredHold> stored = rows_.hold(id);
  if (!stored) return std::nullopt;
  // As the engine reads a stored hold: ACTIVE or PINNED rows are "recorded active" (a pin lives in the
  // owner's memory), whatever their deadline.
  const std::string& s = stored->state;
  stored->hold.state = s == "ACTIVE" || s == "PINNED" ? core::HoldState::Active
                                                       : core::hold_state_from(s).value_or(core::HoldState::Expired);
  return stored->hold;
}

size_t PgSeatJournal::mark_expired(const std::vector<core::Hold>& expired, TimeMs) {
  std::map<core::EventId, std::vector<core::HoldId>> by_event;
  for (const core::Hold& h : expired) by_event[h.event_id].push_back(h.id);
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0, marked = 0;
  } w;
  for (auto& [event, ids] : by_event) {
    const std::optional<Ownership> o = held(event);
    if (!o) continue;
    {
      std::lock_guard lock(w.mu);
      ++w.pending;
    }
    const size_t n = ids.size();
    commit_.submit(
        event, o->epoch,
        [this, ids = std::move(ids)](Connection& c) {
          staged_.flush(c);
          c.query("UPDATE holds SET state = 'EXPIRED' WHERE id = ANY($1::bigint[]) AND state IN ('ACTIVE', 'PINNED')",
                  {p_array(ids)});
          c.query("DELETE FROM seat_claims WHERE hold_id = ANY($1::bigint[]) AND booking_id IS NULL", {p_array(ids)});
        },
        [&w, n](core::Status s) {
          std::lock_guard lock(w.mu);
          if (s) w.marked += n;
          if (--w.pending == 0) w.cv.notify_one();
        });
  }
  std::unique_lock lock(w.mu);
  w.cv.wait(lock, [&] { return w.pending == 0; });
  return w.marked;
}

void PgSeatJournal::renew_leases() {
  std::vector<Ownership> mine;
  {
    std::lock_guard lock(mu_);
    for (const auto& [event, h] : held_)
      if (!h.lost) mine.push_back(h.ownership);
  }
  const std::vector<core::EventId> lost = owners_.renew(mine);
  {
    std::lock_guard lock(mu_);
    // Not renewed again. The epoch stays: decisions recorded under it are refused by the fence, and the
    // engine then loads the event again (a new take()) or learns who owns it now.
    for (core::EventId event : lost)
      if (auto it = held_.find(event); it != held_.end()) it->second.lost = true;
  }
  if (on_lost_)
    for (core::EventId event : lost) on_lost_(event);
}

bool PgSeatJournal::owns(core::EventId event) {
  std::lock_guard lock(mu_);
  auto it = held_.find(event);
  return it != held_.end() && !it->second.lost;
}

}  // namespace ticketd::store::postgres
