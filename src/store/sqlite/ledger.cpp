// The embedded ledger: each event's seats live in a core::EventInventory in memory, guarded by that
// event's own mutex, so holds on different events never wait for each other. A change is decided in
// memory under the mutex, queued to the group-commit writer before the mutex is released (so the
// disk sees changes of one event in the order memory made them), and acknowledged only after the
// batch holding it is on disk. State is loaded lazily from disk the first time an event is used.
#include <sqlite3.h>

#include <algorithm>

#include "core/limits.hpp"
#include "core/seat_csv.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

void insert_hold(Connection& c, const core::Hold& h) {
  c.prepare("INSERT INTO holds(id, event_id, user_id, created_at, expires_at, state) VALUES(?1,?2,?3,?4,?5,'ACTIVE')")
      .bind(1, h.id).bind(2, h.event_id).bind(3, h.user_id).bind(4, to_unix_ms(h.created_at))
      .bind(5, to_unix_ms(h.expires_at))
      .step_status();
  for (core::SeatId s : h.seats)
    c.prepare("INSERT INTO hold_seats(hold_id, seat) VALUES(?1, ?2)").bind(1, h.id).bind(2, s).step_status();
}

core::Status set_hold_state(Connection& c, core::HoldId id, const char* state, core::BookingId booking) {
  auto& st = c.prepare("UPDATE holds SET state = ?2, booking_id = ?3 WHERE id = ?1");
  st.bind(1, id).bind(2, state);
  if (booking) st.bind(3, booking); else st.bind_null(3);
  if (st.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "hold update failed");
  return core::ok_status();
}

// One ticket per seat of a booking being confirmed, in the writer job that confirms it. The partial
// unique index refuses a second live ticket for a seat, whatever memory believed.
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

// A queued write must not fail: memory already moved on. If it does, that is a bug; stop.
void must(core::Status s) {
  if (!s) std::fprintf(stderr, "ticketd: ledger write failed: %s\n", s.error().message.c_str());
  TICKETD_ASSERT(s.ok());
}

}  // namespace

SqliteLedger::SqliteLedger(Database& db, core::TicketIdSource& ticket_ids, core::SeatChangeSink* sink)
    : db_(db), ticket_ids_(ticket_ids), sink_(sink) {
  // ACTIVE rows include every live hold and every pinned one (a pin lives in memory only); rows that
  // lapsed and are not marked yet are listed too and dropped once found dead (the sweeper keeps them
  // few: it marks lapsed rows EXPIRED every second).
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, event_id, user_id, expires_at FROM holds WHERE state = 'ACTIVE'");
  while (st.step()) {
    const core::UserId user = st.int64(2);
    stripe_of(user).holds[user].push_back(UserHold{st.int64(1), st.int64(0), from_unix_ms(st.int64(3))});
  }
}

bool SqliteLedger::hold_live(const UserHold& h, TimeMs now) {
  auto s = slot(h.event_id);
  std::lock_guard lock(s->mu);
  if (!ensure_loaded(*s, h.event_id, now)) return false;  // no such event: nothing of it is live
  advance(*s, h.event_id, now);
  return s->inv->find_hold(h.hold_id).has_value();
}

void SqliteLedger::prune_user_holds(std::vector<UserHold>& holds, TimeMs now, std::optional<TimeMs> checked_before) {
  std::erase_if(holds, [&](const UserHold& h) {
    if (checked_before && h.expires_at > *checked_before) return false;
    return !hold_live(h, now);
  });
}

void SqliteLedger::prune_all_user_holds(TimeMs now) {
  for (UserStripe& stripe : user_stripes_) {
    std::lock_guard lock(stripe.mu);
    // Only holds past their expiry are asked about (lapsed, or pinned by a checkout): the others are
    // live unless released or sold, and those are forgotten when that happens.
    for (auto it = stripe.holds.begin(); it != stripe.holds.end();) {
      prune_user_holds(it->second, now, now);
      it = it->second.empty() ? stripe.holds.erase(it) : std::next(it);
    }
  }
}

void SqliteLedger::forget_user_hold(core::UserId user, core::HoldId hold) {
  UserStripe& stripe = stripe_of(user);
  std::lock_guard lock(stripe.mu);
  auto it = stripe.holds.find(user);
  if (it == stripe.holds.end()) return;
  std::erase_if(it->second, [&](const UserHold& h) { return h.hold_id == hold; });
  if (it->second.empty()) stripe.holds.erase(it);
}

void SqliteLedger::remember(Slot& slot, core::HoldId id, core::HoldState state) {
  if (slot.finished_order.size() >= kFinishedRememberedMax) {
    slot.finished.erase(slot.finished_order.front());
    slot.finished_order.pop_front();
  }
  slot.finished[id] = state;
  slot.finished_order.push_back(id);
}

core::HoldState SqliteLedger::settled_state(const Slot& slot, const core::Hold& stored) {
  if (auto it = slot.finished.find(stored.id); it != slot.finished.end()) return it->second;
  // An ACTIVE row whose hold is gone from memory has lapsed (the sweeper has not marked it yet).
  return stored.state == core::HoldState::Active ? core::HoldState::Expired : stored.state;
}

void SqliteLedger::report(Slot& slot, core::EventId event, std::vector<core::SeatId> seats, core::SeatStatus status) {
  if (seats.empty()) return;
  ++slot.version;
  if (sink_) sink_->seats_changed(core::SeatChange{event, std::move(seats), status, slot.version});
}

std::vector<core::Hold> SqliteLedger::advance(Slot& slot, core::EventId event, TimeMs now) {
  TICKETD_ASSERT(slot.inv.has_value());
  std::vector<core::Hold> expired = slot.inv->advance(now);
  // All the seats one pass frees are one change: one version, one message to subscribers.
  std::vector<core::SeatId> freed;
  for (const core::Hold& h : expired) freed.insert(freed.end(), h.seats.begin(), h.seats.end());
  report(slot, event, std::move(freed), core::SeatStatus::Available);
  return expired;
}

std::shared_ptr<SqliteLedger::Slot> SqliteLedger::slot(core::EventId event) {
  {
    std::shared_lock lock(slots_mu_);
    if (auto it = slots_.find(event); it != slots_.end()) return it->second;
  }
  std::unique_lock lock(slots_mu_);
  auto& s = slots_[event];
  if (!s) s = std::make_shared<Slot>();
  return s;
}

core::Status SqliteLedger::ensure_loaded(Slot& slot, core::EventId event, TimeMs now) {
  if (slot.inv) return core::ok_status();
  auto r = db_.readers().acquire();
  auto& ev = r->prepare("SELECT seats_total, max_tickets_per_user, on_sale_at, starts_at FROM events WHERE id = ?1");
  ev.bind(1, event);
  if (!ev.step()) return make_error(Code::NotFound, "no such event");
  core::InventoryRules rules{event, static_cast<uint32_t>(ev.int64(0)), static_cast<uint32_t>(ev.int64(1)),
                             from_unix_ms(ev.int64(2)), from_unix_ms(ev.int64(3))};
  ev.reset();
  core::EventInventory inv(rules);
  // Sales first, then holds: a hold that lapsed and whose seat was later sold is not live anyway.
  auto& sold = r->prepare(
      "SELECT s.booking_id, b.user_id, s.seat FROM sold_seats s JOIN bookings b ON b.id = s.booking_id "
      "WHERE s.event_id = ?1 ORDER BY s.booking_id");
  sold.bind(1, event);
  core::BookingId current = 0;
  core::UserId current_user = 0;
  std::vector<core::SeatId> seats;
  while (sold.step()) {
    if (sold.int64(0) != current && current != 0) {
      inv.restore_sale(current, current_user, seats);
      seats.clear();
    }
    current = sold.int64(0);
    current_user = sold.int64(1);
    seats.push_back(static_cast<core::SeatId>(sold.int64(2)));
  }
  if (current != 0) inv.restore_sale(current, current_user, seats);
  sold.reset();
  const int64_t now_ms = to_unix_ms(now);
  auto& holds = r->prepare(
      "SELECT h.id, h.user_id, h.created_at, h.expires_at, s.seat FROM holds h JOIN hold_seats s ON s.hold_id = h.id "
      "WHERE h.event_id = ?1 AND h.state = 'ACTIVE' AND h.expires_at > ?2 ORDER BY h.id DESC");
  holds.bind(1, event).bind(2, now_ms);
  // Newest first: should a clock step backwards make a lapsed hold look live, the newer claim on a
  // seat (made after the old one lapsed) wins and the older hold is dropped.
  core::Hold h;
  while (holds.step()) {
    if (holds.int64(0) != h.id && h.id != 0) {
      (void)inv.restore_hold(h);
      h = core::Hold{};
    }
    h.id = holds.int64(0);
    h.event_id = event;
    h.user_id = holds.int64(1);
    h.created_at = from_unix_ms(holds.int64(2));
    h.expires_at = from_unix_ms(holds.int64(3));
    h.seats.push_back(static_cast<core::SeatId>(holds.int64(4)));
  }
  if (h.id != 0) (void)inv.restore_hold(h);
  holds.reset();
  // Bookings still awaiting payment: their holds stay pinned (a payment may be in flight), and a
  // late success finds them in `pending`.
  auto& pending = r->prepare(
      "SELECT b.id, b.hold_id, b.user_id, s.seat FROM bookings b JOIN booking_seats s ON s.booking_id = b.id "
      "WHERE b.event_id = ?1 AND b.status = 'PENDING_PAYMENT' ORDER BY b.id");
  pending.bind(1, event);
  slot.pending.clear();
  while (pending.step()) {
    PendingBooking& p = slot.pending[pending.int64(0)];
    p.hold_id = pending.int64(1);
    p.user_id = pending.int64(2);
    p.seats.push_back(static_cast<core::SeatId>(pending.int64(3)));
  }
  pending.reset();
  for (const auto& [booking, p] : slot.pending) (void)inv.pin(p.hold_id, p.user_id, now, core::limits::payment_action_pin_max);
  slot.inv.emplace(std::move(inv));
  return core::ok_status();
}

std::optional<core::Result<core::Hold>> SqliteLedger::place_hold(const core::Event& event, const core::Layout& layout,
                                                                const core::HoldRequest& request, TimeMs now,
                                                                bool only_if_loaded, const SubmitHold& submit) {
  TICKETD_ASSERT(request.active_holds_max >= 1 && request.active_holds_max <= core::limits::active_holds_per_user_max);
  // What needs no seat state first, as every ledger does (core/inventory.hpp), then the cap, then the seats.
  if (auto st = request.best ? core::check_sale_window(event.on_sale_at, event.starts_at, now)
                             : core::check_hold_request(event.on_sale_at, event.starts_at, event.seats_total,
                                                        request.seats, now);
      !st)
    return st.error();
  auto s = slot(event.id);
  if (only_if_loaded) {
    std::lock_guard lock(s->mu);
    if (!s->inv) return std::nullopt;
  }
  // This user's holds are decided one at a time, from the count to the decision in memory, so two
  // concurrent holds (on any events) cannot both pass the cap. Released before the commit.
  UserStripe& stripe = stripe_of(request.user_id);
  std::unique_lock user_lock(stripe.mu);
  if (auto it = stripe.holds.find(request.user_id);
      it != stripe.holds.end() && it->second.size() >= request.active_holds_max) {
    prune_user_holds(it->second, now, std::nullopt);  // the list may name holds that ended: ask
    if (it->second.size() >= request.active_holds_max)
      return make_error(Code::ActiveHoldsLimitExceeded,
                        "at most " + std::to_string(request.active_holds_max) +
                            " active holds per user across all events: release a hold or buy its seats first");
  }
  core::Hold hold;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, event.id, now); !st) return st.error();
    core::EventInventory& inv = *s->inv;
    advance(*s, event.id, now);
    std::vector<core::SeatId> seats = request.seats;
    if (request.best) {
      auto picked = core::pick_best_available(layout, event.prices, *request.best,
                                              [&](core::SeatId seat) { return inv.is_free(seat); });
      if (!picked) return make_error(Code::InsufficientSeats, "not enough seats are available");
      seats = std::move(*picked);
    }
    auto held = inv.hold(db_.next_hold_id(), request.user_id, std::move(seats), now, request.ttl);
    if (!held) return held.error();
    hold = *held;
    report(*s, event.id, hold.seats, core::SeatStatus::Held);
    submit(hold, [hold, lead = request.expiry_notice_lead](Connection& c) {
      insert_hold(c, hold);
      if (lead.count() > 0)
        enqueue_notice(c, core::NoticeKind::HoldExpiring, hold.user_id, hold.event_id, 0, hold.id, hold.created_at,
                       std::max(hold.created_at, hold.expires_at - lead));
      return core::ok_status();
    });
  }
  stripe.holds[request.user_id].push_back(UserHold{event.id, hold.id, hold.expires_at});
  return hold;
}

core::Result<core::Hold> SqliteLedger::hold_seats(const core::Event& event, const core::Layout& layout,
                                                  const core::HoldRequest& request, TimeMs now) {
  std::shared_ptr<GroupCommit::Ticket> ticket;
  auto placed = place_hold(event, layout, request, now, false,
                           [&](const core::Hold&, GroupCommit::Job job) { ticket = db_.writer().submit(std::move(job)); });
  TICKETD_ASSERT(placed.has_value());  // loading was allowed
  if (!*placed) return *placed;
  must(ticket->wait());
  return *placed;
}

bool SqliteLedger::try_hold_seats_async(const core::Event& event, const core::Layout& layout,
                                        const core::HoldRequest& request, TimeMs now, const HoldDone& done) {
  auto placed = place_hold(event, layout, request, now, true, [&](const core::Hold& hold, GroupCommit::Job job) {
    // A hold job that fails is memory ahead of disk: fail-stop (must_succeed), after `done` hears 503.
    db_.writer().submit(
        std::move(job),
        [done, hold](core::Status s) { done(s ? core::Result<core::Hold>(hold) : core::Result<core::Hold>(s.error())); },
        GroupCommit::Failure::stop);
  });
  if (!placed) return false;
  if (!*placed) done(placed->error());
  return true;
}

SqliteLedger::HoldRow SqliteLedger::read_hold(core::HoldId id) {
  HoldRow row;
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT event_id, user_id, created_at, expires_at, state, booking_id FROM holds WHERE id = ?1");
  st.bind(1, id);
  if (!st.step()) return row;
  row.found = true;
  row.hold = core::Hold{id, st.int64(0), st.int64(1), {}, from_unix_ms(st.int64(2)), from_unix_ms(st.int64(3)),
                        core::hold_state_from(st.text(4)).value_or(core::HoldState::Expired),
                        st.is_null(5) ? 0 : st.int64(5)};
  st.reset();
  auto& seats = r->prepare("SELECT seat FROM hold_seats WHERE hold_id = ?1 ORDER BY seat");
  seats.bind(1, id);
  while (seats.step()) row.hold.seats.push_back(static_cast<core::SeatId>(seats.int64(0)));
  return row;
}

core::Result<core::Hold> SqliteLedger::owned_hold(core::HoldId id, core::UserId user) {
  HoldRow row = read_hold(id);
  if (!row.found || row.hold.user_id != user) return make_error(Code::NotFound, "no such hold");
  return row.hold;
}

core::Result<core::Hold> SqliteLedger::find_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = owned_hold(id, user);
  if (!stored) return stored;
  auto s = slot(stored->event_id);
  std::lock_guard lock(s->mu);
  if (auto st = ensure_loaded(*s, stored->event_id, now); !st) return st.error();
  advance(*s, stored->event_id, now);
  if (auto live = s->inv->find_hold(id)) return *live;
  stored->state = settled_state(*s, *stored);
  return stored;
}

core::Result<core::Hold> SqliteLedger::release_live(Slot& s, core::EventId event, core::HoldId id, core::UserId user,
                                                    TimeMs now) {
  advance(s, event, now);
  auto released = s.inv->release(id, user, now);
  if (!released) return released;
  report(s, event, released->seats, core::SeatStatus::Available);
  remember(s, id, core::HoldState::Released);
  return released;
}

GroupCommit::Job SqliteLedger::release_job(core::HoldId id) {
  return [id](Connection& c) { return set_hold_state(c, id, "RELEASED", 0); };
}

core::Result<core::Hold> SqliteLedger::release_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = owned_hold(id, user);
  if (!stored) return stored;
  auto s = slot(stored->event_id);
  std::shared_ptr<GroupCommit::Ticket> ticket;
  core::Hold released;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, stored->event_id, now); !st) return st.error();
    auto r = release_live(*s, stored->event_id, id, user, now);
    if (!r) {
      if (r.error().code != Code::NotFound) return r.error();
      stored->state = settled_state(*s, *stored);
      if (stored->state == core::HoldState::Converted)
        return make_error(Code::HoldNotActive, "this hold has been checked out");
      return stored;  // released or expired already: nothing to do
    }
    released = *r;
    ticket = db_.writer().submit(release_job(id));
  }
  forget_user_hold(user, id);  // after the slot mutex: lock order (see sqlite_store.hpp)
  must(ticket->wait());
  return released;
}

core::EventId SqliteLedger::listed_hold_event(core::UserId user, core::HoldId hold) {
  UserStripe& stripe = stripe_of(user);
  std::lock_guard lock(stripe.mu);
  auto it = stripe.holds.find(user);
  if (it == stripe.holds.end()) return 0;
  for (const UserHold& h : it->second)
    if (h.hold_id == hold) return h.event_id;
  return 0;
}

bool SqliteLedger::try_release_hold_async(core::HoldId id, core::UserId user, TimeMs now, const HoldDone& done) {
  // A user's list names only their own holds, so a hold found there is theirs; one not listed (ended,
  // someone else's, unknown) needs the store to tell which answer it gets.
  const core::EventId event = listed_hold_event(user, id);
  if (event == 0) return false;
  auto s = slot(event);
  {
    std::lock_guard lock(s->mu);
    if (!s->inv) return false;
    auto released = release_live(*s, event, id, user, now);
    if (!released) return false;  // it ended meanwhile (expired, checked out): the store tells how
    // A release job that fails is memory ahead of disk: fail-stop, after `done` hears 503.
    db_.writer().submit(
        release_job(id),
        [done, hold = *released](core::Status st) {
          done(st ? core::Result<core::Hold>(hold) : core::Result<core::Hold>(st.error()));
        },
        GroupCommit::Failure::stop);
  }
  forget_user_hold(user, id);  // after the slot mutex: lock order (see sqlite_store.hpp)
  return true;
}

namespace {
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

void note_event(Connection& c, const std::string& event_id, const char* type, TimeMs now) {
  if (event_id.empty()) return;
  c.prepare("INSERT OR IGNORE INTO payment_events(id, type, received_at) VALUES(?1, ?2, ?3)")
      .bind(1, event_id).bind(2, type).bind(3, to_unix_ms(now)).step_status();
}
}  // namespace

std::optional<core::CheckoutRecord> SqliteLedger::find_checkout(core::UserId user, const std::string& key) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT p.hold_id, p.booking_id, b.event_id, p.user_id, b.status, p.id, p.status, p.payment_ref, p.gateway_key, "
      "p.payment_method, p.amount, p.currency, p.decline_code, p.message, p.created_at FROM payments p "
      "JOIN bookings b ON b.id = p.booking_id WHERE p.user_id = ?1 AND p.idempotency_key = ?2");
  st.bind(1, user).bind(2, key);
  if (!st.step()) return std::nullopt;
  return checkout_from(st);
}

core::Result<core::CheckoutRecord> SqliteLedger::begin_checkout(core::HoldId id, core::UserId user,
                                                                const core::CheckoutStart& start, TimeMs now) {
  auto stored = owned_hold(id, user);
  if (!stored) return stored.error();
  auto s = slot(stored->event_id);
  core::CheckoutRecord rec;
  std::shared_ptr<GroupCommit::Ticket> ticket;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, stored->event_id, now); !st) return st.error();
    advance(*s, stored->event_id, now);
    auto pinned = s->inv->pin(id, user, now, core::limits::checkout_pin_max);
    if (!pinned) {
      if (pinned.error().code != Code::NotFound) return pinned.error();
      switch (settled_state(*s, *stored)) {
        case core::HoldState::Converted: return make_error(Code::HoldNotActive, "this hold has been checked out");
        case core::HoldState::Released: return make_error(Code::HoldNotActive, "this hold was released");
        default: return make_error(Code::HoldExpired, "this hold has expired");
      }
    }
    for (const auto& [booking, p] : s->pending)
      if (p.hold_id == id) return make_error(Code::CheckoutInProgress, "a payment for this hold is pending");
    const core::BookingId booking_id = db_.next_booking_id();
    rec = core::CheckoutRecord{id, booking_id, stored->event_id, user, core::BookingStatus::PendingPayment,
                               db_.next_payment_id(), "PENDING", "", "ticketd-booking-" + std::to_string(booking_id),
                               start.payment_method, start.amount, start.currency, "", "", now};
    s->pending[booking_id] = PendingBooking{id, user, pinned->seats};
    ticket = db_.writer().submit([rec, seats = pinned->seats, key = start.idempotency_key](Connection& c) -> core::Status {
      auto& b = c.prepare("INSERT INTO bookings(id, hold_id, event_id, user_id, status, total_amount, currency, "
                          "payment_id, created_at) VALUES(?1,?2,?3,?4,'PENDING_PAYMENT',?5,?6,?7,?8)");
      b.bind(1, rec.booking_id).bind(2, rec.hold_id).bind(3, rec.event_id).bind(4, rec.user_id).bind(5, rec.amount)
          .bind(6, rec.currency).bind(7, rec.payment_id).bind(8, to_unix_ms(rec.created_at));
      if (b.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "booking insert failed");
      for (core::SeatId seat : seats)
        c.prepare("INSERT INTO booking_seats(booking_id, seat) VALUES(?1, ?2)").bind(1, rec.booking_id).bind(2, seat)
            .step_status();
      auto& p = c.prepare(
          "INSERT INTO payments(id, user_id, hold_id, booking_id, idempotency_key, gateway_key, amount, currency, "
          "payment_method, status, created_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,'PENDING',?10,?10)");
      p.bind(1, rec.payment_id).bind(2, rec.user_id).bind(3, rec.hold_id).bind(4, rec.booking_id).bind(5, key)
          .bind(6, rec.gateway_key).bind(7, rec.amount).bind(8, rec.currency).bind(9, rec.payment_method)
          .bind(10, to_unix_ms(rec.created_at));
      if (p.step_status() != SQLITE_DONE) return make_error(Code::Unavailable, "payment insert failed");
      return core::ok_status();
    });
  }
  must(ticket->wait());
  return rec;
}

core::Result<core::Settlement> SqliteLedger::settle_payment(core::BookingId booking_id,
                                                            const core::PaymentOutcome& outcome, TimeMs now) {
  auto current = read_booking(booking_id);
  if (!current) return make_error(Code::NotFound, "no such booking");
  auto s = slot(current->event_id);
  std::shared_ptr<GroupCommit::Ticket> ticket;
  bool refund_needed = false;
  core::HoldId ended_hold = 0;  // a hold this settlement ended (sold, or its seats freed)
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, current->event_id, now); !st) return st.error();
    advance(*s, current->event_id, now);
    auto it = s->pending.find(booking_id);
    if (it == s->pending.end()) {
      // Settled already (by the checkout reply, a webhook or the reconciler): nothing changes. Wait
      // for that settlement's commit (queued earlier) so the booking read below is the settled one.
      ticket = db_.writer().submit([outcome, now](Connection& c) {
        note_event(c, outcome.event_id, "settled-already", now);
        return core::ok_status();
      });
    } else {
      const PendingBooking p = it->second;
      using Kind = core::PaymentOutcome::Kind;
      if (outcome.kind == Kind::AwaitingAction) {
        s->inv->extend_pin(p.hold_id, now + core::limits::payment_action_pin_max);
        ticket = db_.writer().submit([booking_id, outcome, now](Connection& c) {
          c.prepare("UPDATE payments SET status = 'REQUIRES_ACTION', payment_ref = ?2, updated_at = ?3 "
                    "WHERE booking_id = ?1")
              .bind(1, booking_id).bind(2, outcome.payment_ref).bind(3, to_unix_ms(now)).step_status();
          note_event(c, outcome.event_id, "awaiting-action", now);
          return core::ok_status();
        });
      } else if (outcome.kind == Kind::Succeeded) {
        bool sold = s->inv->convert(p.hold_id, booking_id, now).ok();
        if (!sold) sold = s->inv->sell_direct(booking_id, p.user_id, p.seats, now).ok();
        if (sold) report(*s, current->event_id, p.seats, core::SeatStatus::Sold);
        refund_needed = !sold;
        ended_hold = p.hold_id;
        s->pending.erase(it);
        remember(*s, p.hold_id, sold ? core::HoldState::Converted : core::HoldState::Expired);
        std::vector<std::string> ticket_ids;  // drawn here: the writer job only writes
        for (size_t i = 0; i < p.seats.size(); ++i) ticket_ids.push_back(ticket_ids_.next());
        ticket = db_.writer().submit([booking_id, p, outcome, now, sold, event = current->event_id,
                                      ticket_ids = std::move(ticket_ids)](Connection& c) -> core::Status {
          c.prepare("UPDATE payments SET status = 'SUCCEEDED', payment_ref = ?2, updated_at = ?3 WHERE booking_id = ?1")
              .bind(1, booking_id).bind(2, outcome.payment_ref).bind(3, to_unix_ms(now)).step_status();
          note_event(c, outcome.event_id, "succeeded", now);
          if (!sold) {
            c.prepare("UPDATE bookings SET status = 'FAILED', decline_code = 'seats_taken', message = ?2 WHERE id = ?1")
                .bind(1, booking_id).bind(2, "paid after the hold lapsed and the seats were taken; refunded")
                .step_status();
            enqueue_notice(c, core::NoticeKind::PaymentFailed, p.user_id, event, booking_id, p.hold_id, now, now);
            return set_hold_state(c, p.hold_id, "EXPIRED", 0);
          }
          c.prepare("UPDATE bookings SET status = 'CONFIRMED' WHERE id = ?1").bind(1, booking_id).step_status();
          for (core::SeatId seat : p.seats)
            // The PRIMARY KEY (event_id, seat) refuses a second sale of a seat, whatever memory believed.
            if (c.prepare("INSERT INTO sold_seats(event_id, seat, booking_id) VALUES(?1, ?2, ?3)")
                    .bind(1, event).bind(2, seat).bind(3, booking_id).step_status() != SQLITE_DONE)
              return make_error(Code::SeatUnavailable, "seat already sold");
          if (auto issued = issue_tickets(c, event, booking_id, p.user_id, p.seats, ticket_ids, now); !issued)
            return issued;
          enqueue_notice(c, core::NoticeKind::BookingConfirmed, p.user_id, event, booking_id, p.hold_id, now, now);
          return set_hold_state(c, p.hold_id, "CONVERTED", booking_id);
        });
      } else {
        const bool keep_hold = outcome.kind == Kind::Rejected;
        // A hold whose pin ran out before the decline stays expired (as every ledger answers).
        bool released = false;
        if (keep_hold) {
          s->inv->unpin(p.hold_id, now);
          // Unpinned past its old deadline, the hold lapses at once (inside unpin's advance).
          if (!s->inv->find_hold(p.hold_id)) report(*s, current->event_id, p.seats, core::SeatStatus::Available);
        } else if (auto live = s->inv->find_hold(p.hold_id)) {
          auto freed = live->state == core::HoldState::Pinned ? s->inv->release_pinned(p.hold_id, now)
                                                              : s->inv->release(p.hold_id, p.user_id, now);
          if (freed) report(*s, current->event_id, freed->seats, core::SeatStatus::Available);
          released = true;
        }
        s->pending.erase(it);
        if (!keep_hold) {
          remember(*s, p.hold_id, released ? core::HoldState::Released : core::HoldState::Expired);
          ended_hold = p.hold_id;
        }
        ticket = db_.writer().submit([booking_id, p, outcome, now, keep_hold, released,
                                      event = current->event_id](Connection& c) -> core::Status {
          c.prepare("UPDATE payments SET status = 'DECLINED', payment_ref = ?2, decline_code = ?3, message = ?4, "
                    "updated_at = ?5 WHERE booking_id = ?1")
              .bind(1, booking_id).bind(2, outcome.payment_ref).bind(3, outcome.decline_code).bind(4, outcome.message)
              .bind(5, to_unix_ms(now)).step_status();
          c.prepare("UPDATE bookings SET status = 'FAILED', decline_code = ?2, message = ?3 WHERE id = ?1")
              .bind(1, booking_id).bind(2, outcome.decline_code).bind(3, outcome.message).step_status();
          note_event(c, outcome.event_id, "failed", now);
          // A rejected request (an unknown payment method) charged nothing and the buyer is told at
          // once, with the hold still theirs: only a real decline is announced.
          if (!keep_hold)
            enqueue_notice(c, core::NoticeKind::PaymentFailed, p.user_id, event, booking_id, p.hold_id, now, now);
          if (keep_hold) return core::ok_status();
          return set_hold_state(c, p.hold_id, released ? "RELEASED" : "EXPIRED", 0);
        });
      }
    }
  }
  if (ended_hold != 0) forget_user_hold(current->user_id, ended_hold);  // after the slot mutex: lock order
  must(ticket->wait());
  auto settled = read_booking(booking_id);
  if (!settled) return make_error(Code::Unavailable, "the settled booking could not be read back");
  return core::Settlement{*settled, refund_needed};
}

core::Status SqliteLedger::record_refund(core::BookingId booking, const std::string& refund_ref) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("UPDATE payments SET status = 'REFUNDED', refund_ref = ?2 WHERE booking_id = ?1 AND status = 'SUCCEEDED'")
        .bind(1, booking).bind(2, refund_ref).step_status();
    return core::ok_status();
  });
}

std::optional<core::BookingId> SqliteLedger::booking_by_payment_ref(const std::string& payment_ref) {
  if (payment_ref.empty()) return std::nullopt;
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT booking_id FROM payments WHERE payment_ref = ?1");
  st.bind(1, payment_ref);
  if (!st.step()) return std::nullopt;
  return st.int64(0);
}

bool SqliteLedger::payment_event_seen(const std::string& event_id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT 1 FROM payment_events WHERE id = ?1");
  st.bind(1, event_id);
  return st.step();
}

core::Status SqliteLedger::record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) {
  return db_.writer().run([&](Connection& c) {
    c.prepare("INSERT OR IGNORE INTO payment_events(id, type, received_at) VALUES(?1, ?2, ?3)")
        .bind(1, event_id).bind(2, type).bind(3, to_unix_ms(now)).step_status();
    return core::ok_status();
  });
}

std::vector<core::CheckoutRecord> SqliteLedger::payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                                     uint32_t limit) {
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

std::optional<core::Booking> SqliteLedger::read_booking(core::BookingId id) {
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

core::Result<core::Booking> SqliteLedger::find_booking(core::BookingId id, core::UserId user) {
  auto b = read_booking(id);
  if (!b || b->user_id != user) return make_error(Code::NotFound, "no such booking");
  return *b;
}

std::vector<core::Booking> SqliteLedger::list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                                       bool include_failed) {
  std::vector<core::BookingId> ids;
  {
    auto r = db_.readers().acquire();
    auto& st = r->prepare("SELECT id FROM bookings WHERE user_id = ?1 AND id < ?2 AND (?4 OR status <> 'FAILED') "
                          "ORDER BY id DESC LIMIT ?3");
    st.bind(1, user).bind(2, before_id > 0 ? before_id : INT64_MAX).bind(3, limit).bind(4, include_failed ? 1 : 0);
    while (st.step()) ids.push_back(st.int64(0));
  }
  std::vector<core::Booking> out;
  for (core::BookingId id : ids)
    if (auto b = read_booking(id)) out.push_back(std::move(*b));
  return out;
}

core::Result<core::Booking> SqliteLedger::cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                                         TimeMs now) {
  auto s = slot(booking.event_id);
  std::shared_ptr<GroupCommit::Ticket> ticket;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, booking.event_id, now); !st) return st.error();
    advance(*s, booking.event_id, now);
    if (!s->inv->cancel_sale(booking.id)) {
      // A confirmed booking whose sale is not in memory was cancelled by a concurrent request
      // (whose commit may still be in flight). A no-op queued behind that commit lets us answer only
      // once the cancellation is on disk: the writer commits in queue order.
      ticket = db_.writer().submit([](Connection&) { return core::ok_status(); });
    } else {
      report(*s, booking.event_id, booking.seats, core::SeatStatus::Available);
      ticket = db_.writer().submit([id = booking.id, payment = booking.payment_id, refund_ref, now, user = booking.user_id,
                                    event = booking.event_id, hold = booking.hold_id](Connection& c) {
      c.prepare("UPDATE bookings SET status = 'CANCELLED', cancelled_at = ?2 WHERE id = ?1")
          .bind(1, id).bind(2, to_unix_ms(now)).step_status();
      c.prepare("DELETE FROM sold_seats WHERE booking_id = ?1").bind(1, id).step_status();
      c.prepare("UPDATE tickets SET status = 'REVOKED', revoked_at = ?2, changed_at = ?2, "
                "revoked_reason = 'booking_cancelled' WHERE booking_id = ?1 AND status <> 'REVOKED'")
          .bind(1, id).bind(2, to_unix_ms(now)).step_status();
      c.prepare("UPDATE payments SET status = 'REFUNDED', refund_ref = ?2 WHERE id = ?1")
          .bind(1, payment).bind(2, refund_ref).step_status();
      enqueue_notice(c, core::NoticeKind::BookingCancelled, user, event, id, hold, now, now);
      return core::ok_status();
    });
    }
  }
  must(ticket->wait());
  core::Booking b = booking;
  b.status = core::BookingStatus::Cancelled;
  b.cancelled_at = now;
  return b;
}

core::Result<core::Booking> SqliteLedger::refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                                      const std::string& refund_ref, TimeMs now) {
  auto s = slot(booking.event_id);
  std::shared_ptr<GroupCommit::Ticket> ticket;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, booking.event_id, now); !st) return st.error();
    advance(*s, booking.event_id, now);
    if (auto st = s->inv->cancel_seats(booking.id, refund.seats); !st) {
      if (st.error().code == Code::NotFound)  // the sale is gone: the booking was cancelled meanwhile
        return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be refunded");
      return st.error();
    }
    report(*s, booking.event_id, refund.seats, core::SeatStatus::Available);
    const std::string seats_csv = core::seat_csv(refund.seats);
    ticket = db_.writer().submit([id = booking.id, user = booking.user_id, event = booking.event_id,
                                  hold = booking.hold_id, seats = refund.seats, seats_csv, amount = refund.amount,
                                  refund_ref, now](Connection& c) {
      for (core::SeatId seat : seats) {
        c.prepare("DELETE FROM sold_seats WHERE booking_id = ?1 AND seat = ?2").bind(1, id).bind(2, int64_t{seat})
            .step_status();
        c.prepare("DELETE FROM booking_seats WHERE booking_id = ?1 AND seat = ?2").bind(1, id).bind(2, int64_t{seat})
            .step_status();
        c.prepare("UPDATE tickets SET status = 'REVOKED', revoked_at = ?3, changed_at = ?3, revoked_reason = 'refunded' "
                  "WHERE booking_id = ?1 AND seat = ?2 AND status <> 'REVOKED'")
            .bind(1, id).bind(2, int64_t{seat}).bind(3, to_unix_ms(now)).step_status();
      }
      c.prepare("INSERT INTO booking_refunds(booking_id, seats, amount, refund_ref, created_at) VALUES(?1, ?2, ?3, ?4, ?5)")
          .bind(1, id).bind(2, seats_csv).bind(3, amount).bind(4, refund_ref).bind(5, to_unix_ms(now)).step_status();
      enqueue_notice(c, core::NoticeKind::SeatsRefunded, user, event, id, hold, now, now, c.last_insert_rowid());
      return core::ok_status();
    });
  }
  must(ticket->wait());
  core::Booking b = booking;
  std::erase_if(b.seats, [&](core::SeatId seat) {
    return std::binary_search(refund.seats.begin(), refund.seats.end(), seat);
  });
  return b;
}

void SqliteLedger::event_dates_changed(const core::Event& event) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (s->inv) s->inv->set_dates(event.on_sale_at, event.starts_at);  // not loaded: it loads the new ones
}

int64_t SqliteLedger::seat_refunds_total(core::BookingId booking) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT COALESCE(SUM(amount), 0) FROM booking_refunds WHERE booking_id = ?1");
  st.bind(1, booking);
  st.step();
  const int64_t total = st.int64(0);
  st.reset();
  return total;
}

std::optional<core::SeatRefundRecord> SqliteLedger::find_seat_refund(int64_t id) {
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

namespace {

// Literals: the statement cache is keyed by their addresses.
#define TICKETD_TICKET_COLUMNS \
  "SELECT id, event_id, booking_id, owner_id, seat, key_id, status, issued_at, revoked_at, revoked_reason FROM tickets "
constexpr const char* kTicketsOfBooking = TICKETD_TICKET_COLUMNS "WHERE booking_id = ?1 ORDER BY seat, issued_at LIMIT 1000";
constexpr const char* kTicketById = TICKETD_TICKET_COLUMNS "WHERE id = ?1";
#undef TICKETD_TICKET_COLUMNS

}  // namespace

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

std::vector<core::Ticket> SqliteLedger::tickets_of_booking(core::BookingId booking) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kTicketsOfBooking);
  st.bind(1, booking);
  std::vector<core::Ticket> out;
  while (st.step() && out.size() < 1000) out.push_back(ticket_from_row(st));  // a booking has at most 100 seats
  st.reset();
  return out;
}

std::optional<core::Ticket> SqliteLedger::find_ticket(const std::string& ticket_id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(kTicketById);
  st.bind(1, ticket_id);
  std::optional<core::Ticket> out;
  if (st.step()) out = ticket_from_row(st);
  st.reset();
  return out;
}

core::Result<core::SeatMap> SqliteLedger::seat_map(const core::Event& event, TimeMs now) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (auto st = ensure_loaded(*s, event.id, now); !st) return st.error();
  advance(*s, event.id, now);
  return core::SeatMap{s->inv->status_chars(), s->inv->counts(), s->version};
}

std::optional<uint64_t> SqliteLedger::seat_map_version(const core::Event& event, TimeMs now) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (!s->inv) return std::nullopt;
  advance(*s, event.id, now);  // lapsed holds change the map, and its version, as seat_map() would see
  return s->version;
}

std::optional<core::SeatCounts> SqliteLedger::seat_counts_in_memory(const core::Event& event, TimeMs now) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (!s->inv) return std::nullopt;
  advance(*s, event.id, now);  // lapsed holds are available again, as seat_map() would count them
  return s->inv->counts();
}

core::Result<core::Stock> SqliteLedger::stock(const core::Event& event, TimeMs now, TimeMs expiring_before) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (auto st = ensure_loaded(*s, event.id, now); !st) return st.error();
  s->inv->advance(now);
  return s->inv->stock(expiring_before);
}

size_t SqliteLedger::sweep_expired(TimeMs now) {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::shared_lock lock(slots_mu_);
    for (auto& [id, s] : slots_) all.push_back(s);
  }
  std::vector<core::HoldId> expired;
  for (auto& s : all) {
    std::lock_guard lock(s->mu);
    if (!s->inv) continue;
    for (const core::Hold& h : advance(*s, s->inv->rules().event_id, now)) expired.push_back(h.id);
  }
  prune_all_user_holds(now);  // no slot mutex held here: lock order
  // Holds of events not in memory lapse on disk; the margin keeps pinned holds (in memory) untouched.
  const int64_t disk_cutoff_ms = to_unix_ms(now) - core::limits::checkout_pin_max.count();
  bool disk_due = false;
  {
    auto r = db_.readers().acquire();
    auto& st = r->prepare("SELECT 1 FROM holds WHERE state = 'ACTIVE' AND expires_at <= ?1 LIMIT 1");
    st.bind(1, disk_cutoff_ms);
    disk_due = st.step();
  }
  if (expired.empty() && !disk_due) return 0;  // an idle server does not write (or fsync) every second
  size_t changed = 0;
  must(db_.writer().run([&](Connection& c) {
    for (core::HoldId id : expired) {
      c.prepare("UPDATE holds SET state = 'EXPIRED' WHERE id = ?1 AND state = 'ACTIVE'").bind(1, id).step_status();
      changed += static_cast<size_t>(c.changes());
    }
    // Bounded per pass so a backlog (after downtime) never becomes one huge transaction.
    c.prepare("UPDATE holds SET state = 'EXPIRED' WHERE id IN (SELECT id FROM holds WHERE state = 'ACTIVE' "
              "AND expires_at <= ?1 LIMIT ?2)")
        .bind(1, disk_cutoff_ms).bind(2, kSweepRowsPerPassMax).step_status();
    changed += static_cast<size_t>(c.changes());
    return core::ok_status();
  }));
  return changed;
}

core::SeatCounts SqliteLedger::loaded_counts(TimeMs now) {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::shared_lock lock(slots_mu_);
    for (auto& [id, s] : slots_) all.push_back(s);
  }
  core::SeatCounts total;
  for (auto& s : all) {
    std::lock_guard lock(s->mu);
    if (!s->inv) continue;
    advance(*s, s->inv->rules().event_id, now);
    const core::SeatCounts c = s->inv->counts();
    total.available += c.available;
    total.held += c.held;
    total.sold += c.sold;
  }
  return total;
}

}  // namespace ticketd::store::sqlite
