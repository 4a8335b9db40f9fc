// The reference ledger (memory_ledger.hpp): the durable ledgers' bookkeeping in maps, the seat
// decisions in core::EventInventory. Every answer here is what the conformance suite expects of the
// SQLite and PostgreSQL ledgers, so its choices follow theirs, and a difference is a bug in one of them.
#include "store/memory/memory_ledger.hpp"

#include <algorithm>

#include "base/assert.hpp"
#include "core/best_available.hpp"
#include "core/limits.hpp"

namespace ticketd::store::memory {

using core::Code;
using core::make_error;

MemoryLedger::EventState::EventState(const core::Event& e)
    : inv(core::InventoryRules{e.id, e.seats_total, e.max_tickets_per_user, e.on_sale_at, e.starts_at}),
      ticket_key_id(e.ticket_key_id) {}

MemoryLedger::EventState& MemoryLedger::state_of(const core::Event& event) {
  auto it = events_.find(event.id);
  if (it == events_.end()) {
    it = events_.emplace(event.id, EventState(event)).first;
    if (auto rule = resale_rules_.find(event.id); rule != resale_rules_.end())
      (void)it->second.inv.set_resale_on_open_sale(rule->second);
  }
  it->second.ticket_key_id = std::max(it->second.ticket_key_id, event.ticket_key_id);  // keys only rotate forward
  return it->second;
}

MemoryLedger::EventState* MemoryLedger::find_state(core::EventId id) {
  auto it = events_.find(id);
  return it == events_.end() ? nullptr : &it->second;
}

void MemoryLedger::report(EventState& st, std::vector<core::SeatId> seats, core::SeatStatus status) {
  if (seats.empty()) return;
  ++st.version;
  if (sink_) sink_->seats_changed(core::SeatChange{st.inv.rules().event_id, std::move(seats), status, st.version});
}

size_t MemoryLedger::advance(EventState& st, TimeMs now) {
  std::vector<core::SeatId> freed;
  const std::vector<core::Hold> expired = st.inv.advance(now);
  for (const core::Hold& h : expired) {
    freed.insert(freed.end(), h.seats.begin(), h.seats.end());
    set_hold_state(h.id, core::HoldState::Expired);
  }
  report(st, std::move(freed), core::SeatStatus::Available);
  return expired.size();
}

void MemoryLedger::set_hold_state(core::HoldId id, core::HoldState state, core::BookingId booking) {
  auto it = holds_.find(id);
  TICKETD_ASSERT(it != holds_.end());
  it->second.state = state;
  it->second.booking_id = booking;
  if (state != core::HoldState::Active && state != core::HoldState::Pinned) {
    auto user = user_holds_.find(it->second.user_id);
    if (user != user_holds_.end()) user->second.erase(id);
  }
}

core::Result<core::Hold> MemoryLedger::owned_hold(core::HoldId id, core::UserId user) {
  auto it = holds_.find(id);
  if (it == holds_.end() || it->second.user_id != user) return make_error(Code::NotFound, "no such hold");
  return it->second;
}

uint32_t MemoryLedger::live_holds_of(core::UserId user, TimeMs now) {
  auto it = user_holds_.find(user);
  if (it == user_holds_.end()) return 0;
  // Lapses are found by each event's advance (which drops them from the list), so ask every event first.
  const std::set<core::HoldId> listed = it->second;
  for (core::HoldId id : listed)
    if (EventState* st = find_state(holds_.at(id).event_id)) advance(*st, now);
  return static_cast<uint32_t>(user_holds_[user].size());
}

core::Result<core::Hold> MemoryLedger::hold_seats(const core::Event& event, const core::Layout& layout,
                                                  const core::HoldRequest& request, TimeMs now) {
  TICKETD_ASSERT(request.active_holds_max >= 1 && request.active_holds_max <= core::limits::active_holds_per_user_max);
  // What needs no seat state first, as every ledger does (core/inventory.hpp), then the cap, then the seats.
  if (auto s = request.best ? core::check_sale_window(event.on_sale_at, event.starts_at, now)
                            : core::check_hold_request(event.on_sale_at, event.starts_at, event.seats_total,
                                                       request.seats, now);
      !s)
    return s.error();
  std::lock_guard lock(mu_);
  if (live_holds_of(request.user_id, now) >= request.active_holds_max)
    return make_error(Code::ActiveHoldsLimitExceeded,
                      "at most " + std::to_string(request.active_holds_max) +
                          " active holds per user across all events: release a hold or buy its seats first");
  EventState& st = state_of(event);
  advance(st, now);
  std::vector<core::SeatId> seats = request.seats;
  if (request.best) {
    auto picked = core::pick_best_available(layout, event.prices, *request.best,
                                            [&](core::SeatId seat) { return st.inv.is_free(seat); },
                                            st.inv.counts().available);
    if (!picked) return make_error(Code::InsufficientSeats, "not enough seats are available");
    seats = std::move(*picked);
  }
  auto held = st.inv.hold(next_hold_id_, request.user_id, std::move(seats), now, request.ttl, request.offer);
  if (!held) return held.error();
  ++next_hold_id_;
  holds_[held->id] = *held;
  user_holds_[request.user_id].insert(held->id);
  report(st, held->seats, core::SeatStatus::Held);
  return held;
}

core::Result<core::Hold> MemoryLedger::find_hold(core::HoldId id, core::UserId user, TimeMs now) {
  std::lock_guard lock(mu_);
  auto stored = owned_hold(id, user);
  if (!stored) return stored;
  EventState* st = find_state(stored->event_id);
  TICKETD_ASSERT(st != nullptr);  // a hold was made through its event
  advance(*st, now);
  if (auto live = st->inv.find_hold(id)) return *live;
  return holds_.at(id);
}

core::Result<core::Hold> MemoryLedger::release_hold(core::HoldId id, core::UserId user, TimeMs now) {
  std::lock_guard lock(mu_);
  auto stored = owned_hold(id, user);
  if (!stored) return stored;
  EventState& st = *find_state(stored->event_id);
  advance(st, now);
  auto released = st.inv.release(id, user, now);
  if (!released) {
    if (released.error().code != Code::NotFound) return released.error();
    const core::Hold& ended = holds_.at(id);
    if (ended.state == core::HoldState::Converted) return make_error(Code::HoldNotActive, "this hold has been checked out");
    return ended;  // released or expired already: nothing to do
  }
  report(st, released->seats, core::SeatStatus::Available);
  set_hold_state(id, core::HoldState::Released);
  return released;
}

std::optional<core::CheckoutRecord> MemoryLedger::find_checkout(core::UserId user, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = checkouts_.find({user, key});
  if (it == checkouts_.end()) return std::nullopt;
  core::CheckoutRecord rec = payments_.at(it->second).record;
  rec.status = bookings_.at(it->second).status;
  return rec;
}

core::Result<core::CheckoutRecord> MemoryLedger::begin_checkout(core::HoldId id, core::UserId user,
                                                                const core::CheckoutStart& start, TimeMs now) {
  std::lock_guard lock(mu_);
  auto stored = owned_hold(id, user);
  if (!stored) return stored.error();
  EventState& st = *find_state(stored->event_id);
  advance(st, now);
  auto pinned = st.inv.pin(id, user, now, core::limits::checkout_pin_max);
  if (!pinned) {
    if (pinned.error().code != Code::NotFound) return pinned.error();
    switch (holds_.at(id).state) {
      case core::HoldState::Converted: return make_error(Code::HoldNotActive, "this hold has been checked out");
      case core::HoldState::Released: return make_error(Code::HoldNotActive, "this hold was released");
      default: return make_error(Code::HoldExpired, "this hold has expired");
    }
  }
  for (const auto& [booking, p] : st.pending)
    if (p.hold_id == id) return make_error(Code::CheckoutInProgress, "a payment for this hold is pending");
  const core::BookingId booking_id = next_booking_id_++;
  core::CheckoutRecord rec{id, booking_id, stored->event_id, user, core::BookingStatus::PendingPayment,
                           next_payment_id_++, "PENDING", "", "ticketd-booking-" + std::to_string(booking_id),
                           start.payment_method, start.amount, start.currency, "", "", now};
  st.pending[booking_id] = Pending{id, user, pinned->seats};
  holds_.at(id).state = core::HoldState::Pinned;
  core::Booking b;
  b.id = booking_id;
  b.hold_id = id;
  b.event_id = stored->event_id;
  b.user_id = user;
  b.status = core::BookingStatus::PendingPayment;
  b.seats = pinned->seats;
  std::sort(b.seats.begin(), b.seats.end());
  b.total_amount = start.amount;
  b.currency = start.currency;
  b.payment_id = rec.payment_id;
  b.created_at = now;
  bookings_[booking_id] = b;
  payments_[booking_id] = Payment{rec, start.idempotency_key, ""};
  checkouts_[{user, start.idempotency_key}] = booking_id;
  return rec;
}

core::Result<core::Settlement> MemoryLedger::settle_payment(core::BookingId booking_id,
                                                            const core::PaymentOutcome& outcome, TimeMs now) {
  std::lock_guard lock(mu_);
  return settle_locked(booking_id, outcome, now);
}

core::Result<core::Settlement> MemoryLedger::settle_locked(core::BookingId booking_id,
                                                           const core::PaymentOutcome& outcome, TimeMs now) {
  auto b = bookings_.find(booking_id);
  if (b == bookings_.end()) return make_error(Code::NotFound, "no such booking");
  EventState& st = *find_state(b->second.event_id);
  advance(st, now);
  if (!outcome.event_id.empty()) payment_events_.insert(outcome.event_id);
  auto it = st.pending.find(booking_id);
  if (it == st.pending.end()) return core::Settlement{booking_view(b->second), false};  // settled already
  const Pending p = it->second;
  core::CheckoutRecord& pay = payments_.at(booking_id).record;
  core::Booking& booking = b->second;
  using Kind = core::PaymentOutcome::Kind;
  if (outcome.kind == Kind::AwaitingAction) {
    st.inv.extend_pin(p.hold_id, now + core::limits::payment_action_pin_max);
    pay.payment_status = "REQUIRES_ACTION";
    pay.payment_ref = outcome.payment_ref;
    return core::Settlement{booking_view(booking), false};
  }
  st.pending.erase(it);
  if (outcome.kind == Kind::Succeeded) {
    std::vector<core::EventInventory::Resold> resold;
    bool sold = st.inv.convert(p.hold_id, booking_id, now, &resold).ok();
    if (!sold) sold = st.inv.sell_direct(booking_id, p.user_id, p.seats, now).ok();
    pay.payment_status = "SUCCEEDED";
    pay.payment_ref = outcome.payment_ref;
    if (!sold) {
      booking.status = core::BookingStatus::Failed;
      booking.decline_code = "seats_taken";
      booking.message = core::kPaidTooLateMessage;
      set_hold_state(p.hold_id, core::HoldState::Expired);
      return core::Settlement{booking_view(booking), true};
    }
    report(st, p.seats, core::SeatStatus::Sold);
    for (const core::EventInventory::Resold& r : resold) sell_listed(r, booking.event_id, now);
    booking.status = core::BookingStatus::Confirmed;
    set_hold_state(p.hold_id, core::HoldState::Converted, booking_id);
    for (core::SeatId seat : booking.seats) {
      core::Ticket t;
      t.id = ticket_ids_.next();
      t.event_id = booking.event_id;
      t.booking_id = booking_id;
      t.owner_id = booking.user_id;
      t.seat = seat;
      t.key_id = st.ticket_key_id;
      t.issued_at = now;
      tickets_by_booking_[booking_id].push_back(t.id);
      tickets_.emplace(t.id, std::move(t));
    }
    return core::Settlement{booking_view(booking), false, !resold.empty()};
  }
  // Declined, or Rejected: a rejected request charged nothing and leaves the hold the buyer's.
  const bool keep_hold = outcome.kind == Kind::Rejected;
  if (keep_hold) {
    st.inv.unpin(p.hold_id, now);
    if (!st.inv.find_hold(p.hold_id)) {  // unpinned past its old deadline: it lapses at once
      report(st, p.seats, core::SeatStatus::Available);
      set_hold_state(p.hold_id, core::HoldState::Expired);
    } else {
      holds_.at(p.hold_id).state = core::HoldState::Active;
    }
  } else if (auto live = st.inv.find_hold(p.hold_id)) {
    auto freed = live->state == core::HoldState::Pinned ? st.inv.release_pinned(p.hold_id, now)
                                                        : st.inv.release(p.hold_id, p.user_id, now);
    if (freed) report(st, freed->seats, core::SeatStatus::Available);
    set_hold_state(p.hold_id, core::HoldState::Released);
  }  // else its pin ran out before the decline: it stays expired
  pay.payment_status = "DECLINED";
  pay.payment_ref = outcome.payment_ref;
  pay.decline_code = outcome.decline_code;
  pay.message = outcome.message;
  booking.status = core::BookingStatus::Failed;
  booking.decline_code = outcome.decline_code;
  booking.message = outcome.message;
  return core::Settlement{booking_view(booking), false};
}

core::Status MemoryLedger::record_refund(core::BookingId booking, const std::string& refund_ref) {
  std::lock_guard lock(mu_);
  auto it = payments_.find(booking);
  if (it != payments_.end() && it->second.record.payment_status == "SUCCEEDED") {
    it->second.record.payment_status = "REFUNDED";
    it->second.refund_ref = refund_ref;
  }
  return core::ok_status();
}

bool MemoryLedger::payment_event_seen(const std::string& event_id) {
  std::lock_guard lock(mu_);
  return payment_events_.contains(event_id);
}

core::Status MemoryLedger::record_payment_event(const std::string& event_id, const std::string&, TimeMs) {
  std::lock_guard lock(mu_);
  payment_events_.insert(event_id);
  return core::ok_status();
}

std::vector<core::CheckoutRecord> MemoryLedger::payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                                      uint32_t limit) {
  std::lock_guard lock(mu_);
  std::map<core::PaymentId, core::CheckoutRecord> due;  // in payment id order, as the cursor needs
  for (const auto& [booking_id, payment] : payments_) {
    const core::CheckoutRecord& r = payment.record;
    const core::BookingStatus status = bookings_.at(booking_id).status;
    if (r.payment_id <= after_payment) continue;
    const bool stuck = status == core::BookingStatus::PendingPayment && r.created_at <= older_than;
    const bool unrefunded = status == core::BookingStatus::Failed && r.payment_status == "SUCCEEDED";
    if (!stuck && !unrefunded) continue;
    core::CheckoutRecord out = r;
    out.status = status;
    due.emplace(r.payment_id, std::move(out));
  }
  std::vector<core::CheckoutRecord> out;
  for (auto& [id, r] : due) {
    if (out.size() >= limit) break;
    out.push_back(std::move(r));
  }
  return out;
}

core::Booking MemoryLedger::booking_view(const core::Booking& b) const {
  core::Booking out = b;
  if (auto p = payments_.find(b.id); p != payments_.end()) out.payment_ref = p->second.record.payment_ref;
  return out;
}

core::Result<core::Booking> MemoryLedger::find_booking(core::BookingId id, core::UserId user) {
  std::lock_guard lock(mu_);
  auto it = bookings_.find(id);
  if (it == bookings_.end() || it->second.user_id != user) return make_error(Code::NotFound, "no such booking");
  return booking_view(it->second);
}

std::optional<core::Booking> MemoryLedger::booking_by_id(core::BookingId id) {
  std::lock_guard lock(mu_);
  auto it = bookings_.find(id);
  if (it == bookings_.end()) return std::nullopt;
  return booking_view(it->second);
}

std::optional<core::BookingId> MemoryLedger::booking_by_payment_ref(const std::string& payment_ref) {
  if (payment_ref.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  for (const auto& [booking, payment] : payments_)
    if (payment.record.payment_ref == payment_ref) return booking;
  return std::nullopt;
}

std::vector<core::Booking> MemoryLedger::list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                                       bool include_failed) {
  std::lock_guard lock(mu_);
  std::vector<core::Booking> out;
  for (auto it = bookings_.rbegin(); it != bookings_.rend() && out.size() < limit; ++it) {
    const core::Booking& b = it->second;
    if (b.user_id != user || (before_id > 0 && b.id >= before_id)) continue;
    if (!include_failed && b.status == core::BookingStatus::Failed) continue;
    out.push_back(booking_view(b));
  }
  return out;
}

void MemoryLedger::revoke_tickets(core::BookingId booking, const std::vector<core::SeatId>* seats, const char* reason,
                                  TimeMs now) {
  auto ids = tickets_by_booking_.find(booking);
  if (ids == tickets_by_booking_.end()) return;
  for (const std::string& id : ids->second) {
    core::Ticket& t = tickets_.at(id);
    if (t.status == core::TicketStatus::Revoked) continue;
    if (seats && !std::binary_search(seats->begin(), seats->end(), t.seat)) continue;
    t.status = core::TicketStatus::Revoked;
    t.revoked_at = now;
    t.revoked_reason = reason;
  }
}

core::Result<core::Booking> MemoryLedger::cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                                         TimeMs now) {
  std::lock_guard lock(mu_);
  EventState* st = find_state(booking.event_id);
  auto stored = bookings_.find(booking.id);
  if (!st || stored == bookings_.end()) return make_error(Code::NotFound, "no such booking");
  advance(*st, now);
  if (st->inv.cancel_sale(booking.id)) {
    report(*st, stored->second.seats, core::SeatStatus::Available);
    stored->second.status = core::BookingStatus::Cancelled;
    stored->second.cancelled_at = now;
    revoke_tickets(booking.id, nullptr, "booking_cancelled", now);
    Payment& pay = payments_.at(booking.id);
    pay.record.payment_status = "REFUNDED";
    pay.refund_ref = refund_ref;
  }
  // Not sold here: a concurrent cancellation came first; the answer is the same.
  core::Booking b = booking;
  b.status = core::BookingStatus::Cancelled;
  b.cancelled_at = now;
  return b;
}

core::Result<core::Booking> MemoryLedger::refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                                       const std::string& refund_ref, TimeMs now) {
  std::lock_guard lock(mu_);
  EventState* st = find_state(booking.event_id);
  auto stored = bookings_.find(booking.id);
  if (!st || stored == bookings_.end()) return make_error(Code::NotFound, "no such booking");
  advance(*st, now);
  if (auto s = st->inv.cancel_seats(booking.id, refund.seats); !s) {
    if (s.error().code == Code::NotFound) return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be refunded");
    return s.error();
  }
  report(*st, refund.seats, core::SeatStatus::Available);
  std::vector<core::SeatId> refunded = refund.seats;
  std::sort(refunded.begin(), refunded.end());
  std::erase_if(stored->second.seats,
                [&](core::SeatId seat) { return std::binary_search(refunded.begin(), refunded.end(), seat); });
  revoke_tickets(booking.id, &refunded, "refunded", now);
  const int64_t id = next_refund_id_++;
  seat_refunds_[id] = core::SeatRefundRecord{id, booking.id, refunded, refund.amount, refund_ref, now};
  core::Booking b = booking;
  std::erase_if(b.seats, [&](core::SeatId seat) { return std::binary_search(refunded.begin(), refunded.end(), seat); });
  return b;
}

void MemoryLedger::sell_listed(const core::EventInventory::Resold& r, core::EventId event, TimeMs now) {
  core::Booking& seller = bookings_.at(r.seller_booking);
  std::erase_if(seller.seats, [&](core::SeatId seat) { return std::binary_search(r.seats.begin(), r.seats.end(), seat); });
  revoke_tickets(r.seller_booking, &r.seats, "resold", now);
  int64_t amount = 0;
  for (core::SeatId seat : r.seats) amount += listed_amounts_[{event, seat}], listed_amounts_.erase({event, seat});
  const int64_t id = next_refund_id_++;
  seat_refunds_[id] = core::SeatRefundRecord{id, r.seller_booking, r.seats, amount, "", now};  // paid later
  if (seller.seats.empty()) {  // every seat resold: over, its money going back by these refunds
    seller.status = core::BookingStatus::Cancelled;
    seller.cancelled_at = now;
    payments_.at(r.seller_booking).record.payment_status = "REFUNDED";
  }
}

void MemoryLedger::resale_rule_changed(core::EventId event, bool on_open_sale) {
  std::lock_guard lock(mu_);
  resale_rules_[event] = on_open_sale;
  if (EventState* st = find_state(event)) {
    std::vector<core::SeatId> changed = st->inv.set_resale_on_open_sale(on_open_sale);
    if (!changed.empty()) report(*st, std::move(changed), on_open_sale ? core::SeatStatus::Available : core::SeatStatus::Sold);
  }
}

core::Status MemoryLedger::change_listing(const core::Booking& seller, const core::ResaleChange& change, TimeMs now) {
  std::lock_guard lock(mu_);
  EventState* st = find_state(seller.event_id);
  if (!st) return make_error(Code::BookingNotConfirmed, "this ticket's booking no longer holds the seat");
  advance(*st, now);
  auto done = change.listed ? st->inv.list_seat(seller.id, change.seat) : st->inv.withdraw_seat(seller.id, change.seat);
  if (!done) {
    if (done.error().code == Code::NotFound)
      return make_error(Code::BookingNotConfirmed, "this ticket's booking no longer holds the seat");
    return done.error();
  }
  report(*st, {change.seat}, change.listed ? core::SeatStatus::Available : core::SeatStatus::Sold);
  if (change.listed) listed_amounts_.insert_or_assign(std::pair{seller.event_id, change.seat}, change.amount);
  else listed_amounts_.erase({seller.event_id, change.seat});
  return core::ok_status();
}

std::optional<core::SeatRefundRecord> MemoryLedger::find_seat_refund(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = seat_refunds_.find(id);
  if (it == seat_refunds_.end()) return std::nullopt;
  return it->second;
}

int64_t MemoryLedger::seat_refunds_total(core::BookingId booking) {
  std::lock_guard lock(mu_);
  int64_t total = 0;
  for (const auto& [id, r] : seat_refunds_)
    if (r.booking_id == booking) total += r.amount;
  return total;
}

std::vector<core::Ticket> MemoryLedger::tickets_of_booking(core::BookingId booking) {
  std::lock_guard lock(mu_);
  std::vector<core::Ticket> out;
  if (auto ids = tickets_by_booking_.find(booking); ids != tickets_by_booking_.end())
    for (const std::string& id : ids->second) out.push_back(tickets_.at(id));
  std::stable_sort(out.begin(), out.end(), [](const core::Ticket& a, const core::Ticket& b) {
    return a.seat != b.seat ? a.seat < b.seat : a.issued_at < b.issued_at;
  });
  return out;
}

std::optional<core::Ticket> MemoryLedger::find_ticket(const std::string& ticket_id) {
  std::lock_guard lock(mu_);
  auto it = tickets_.find(ticket_id);
  if (it == tickets_.end()) return std::nullopt;
  return it->second;
}

core::Result<core::SeatMap> MemoryLedger::seat_map(const core::Event& event, TimeMs now) {
  std::lock_guard lock(mu_);
  EventState& st = state_of(event);
  advance(st, now);
  core::SeatMap map{st.inv.status_chars(), st.inv.counts(), st.version, {}};
  if (!st.inv.rules().resale_on_open_sale) map.listed_for_offers = st.inv.listed_unheld();
  return map;
}

std::optional<uint64_t> MemoryLedger::seat_map_version(const core::Event& event, TimeMs now) {
  std::lock_guard lock(mu_);
  EventState* st = find_state(event.id);
  if (!st) return std::nullopt;
  advance(*st, now);
  return st->version;
}

std::optional<core::SeatCounts> MemoryLedger::seat_counts_in_memory(const core::Event& event, TimeMs now) {
  std::lock_guard lock(mu_);
  EventState* st = find_state(event.id);
  if (!st) return std::nullopt;
  advance(*st, now);
  return st->inv.counts();
}

core::Result<core::Stock> MemoryLedger::stock(const core::Event& event, TimeMs now, TimeMs expiring_before) {
  std::lock_guard lock(mu_);
  EventState& st = state_of(event);
  advance(st, now);
  return st.inv.stock(expiring_before);
}

size_t MemoryLedger::sweep_expired(TimeMs now) {
  std::lock_guard lock(mu_);
  size_t expired = 0;
  for (auto& [id, st] : events_) expired += advance(st, now);
  return expired;
}

void MemoryLedger::event_dates_changed(const core::Event& event) {
  std::lock_guard lock(mu_);
  if (EventState* st = find_state(event.id)) st->inv.set_dates(event.on_sale_at, event.starts_at);
}

}  // namespace ticketd::store::memory
