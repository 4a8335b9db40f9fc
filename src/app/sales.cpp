#include "app/sales.hpp"

#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Sales::Sales(core::Ledger& ledger, Catalog& catalog, core::PaymentGateway& gateway, const Clock& clock,
             Millis hold_ttl, Metrics& metrics, WaitingRoom* room, Millis expiry_notice_lead,
             uint32_t active_holds_max, core::TransferStore* transfers)
    : ledger_(ledger), catalog_(catalog), gateway_(gateway), clock_(clock), hold_ttl_(hold_ttl),
      expiry_notice_lead_(expiry_notice_lead), active_holds_max_(active_holds_max), metrics_(metrics), room_(room),
      transfers_(transfers) {
  TICKETD_ASSERT(hold_ttl.count() > 0);
  TICKETD_ASSERT(expiry_notice_lead.count() >= 0);
  TICKETD_ASSERT(active_holds_max >= 1 && active_holds_max <= core::limits::active_holds_per_user_max);
  if (ledger_.checkouts_without_blocking())
    key_reader_ = std::make_unique<BatchReader<core::CheckoutKey, core::CheckoutRecord>>(
        "checkout-keys", kKeyReadsQueuedMax, kKeyReadsBatchMax,
        [&ledger](const std::vector<core::CheckoutKey>& keys) { return ledger.find_checkouts(keys); });
}

namespace {
const char* metric_result(const core::Error& e) {
  switch (e.code) {
    case Code::SeatUnavailable: return "seat_unavailable";
    case Code::InsufficientSeats: return "insufficient_seats";
    case Code::TicketLimitExceeded: return "ticket_limit";
    case Code::ActiveHoldsLimitExceeded: return "active_holds_limit";
    case Code::PaymentFailed: return "declined";
    case Code::HoldExpired: return "hold_expired";
    default: return "rejected";
  }
}
}  // namespace

namespace {
HoldView view_of(const core::Hold& hold, const core::Event& event, const core::Layout& layout) {
  HoldView v{hold, 0, event.currency};
  for (core::SeatId s : hold.seats) v.total_amount += event.prices.at(layout.price_tier_of(s));
  return v;
}
}  // namespace

core::Result<HoldView> Sales::view(const core::Hold& hold) {
  auto event = catalog_.event(hold.event_id);
  if (!event) return event.error();
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  return view_of(hold, *event, (*venue)->layout);
}

core::Result<core::HoldRequest> Sales::hold_request(core::UserId user, const HoldInput& input, const core::Event& event,
                                                    const core::Layout& layout) const {
  if (event.cancelled()) return make_error(Code::EventCancelled, "this event is cancelled");
  if (!event.published) return make_error(Code::SaleNotOpen, "this event is not published");
  core::HoldRequest request{user, input.seats, std::nullopt, hold_ttl_, expiry_notice_lead_, active_holds_max_};
  if (input.quantity) {
    if (*input.quantity < 1 || *input.quantity > core::limits::seats_per_hold_max)
      return make_error(Code::InvalidRequest, "quantity: 1-100 required");
    core::BestAvailableRequest best{*input.quantity, std::nullopt};
    if (input.section) {
      const auto& sections = layout.spec().sections;
      for (uint32_t i = 0; i < sections.size(); ++i)
        if (sections[i].name == *input.section) best.section = i;
      if (!best.section) return make_error(Code::InvalidRequest, "section: no such section in this venue");
    }
    request.best = best;
  }
  return request;
}

core::Result<HoldView> Sales::hold(core::UserId user, const HoldInput& input) {
  auto event = catalog_.event(input.event_id);
  if (!event) return event.error();
  if (!event->cancelled() && event->published && event->waiting_room.enabled) {
    if (!room_) return make_error(Code::Unavailable, "this event's waiting room is not served here");
    if (auto s = room_->authorize_hold(*event, user, input.access_token); !s) {
      metrics_.count("holds", "queue_refused");
      return s.error();
    }
  }
  if (waitlist_ && !event->cancelled()) {
    if (auto s = waitlist_->admit_open_sale(event->id); !s) return s.error();
  }
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  const core::Layout& layout = (*venue)->layout;
  auto request = hold_request(user, input, *event, layout);
  if (!request) return request.error();
  auto hold = ledger_.hold_seats(*event, layout, *request, clock_.now());
  metrics_.count("holds", hold.ok() ? "ok" : metric_result(hold.error()));
  if (!hold) return hold.error();
  if (room_) room_->hold_placed(*event, user);
  return view_of(*hold, *event, layout);
}

bool Sales::try_hold_async(core::UserId user, const HoldInput& input, HoldViewDone done) {
  auto event = catalog_.cached_event(input.event_id);
  if (!event || event->waiting_room.enabled) return false;  // the room's checks read its store
  if (waitlist_ && !event->cancelled()) {
    const std::optional<bool> gated = waitlist_->gated_in_memory(event->id);
    if (!gated) return false;  // the gate's copy is missing or stale: hold() reads the store
    if (*gated) {
      done(Waitlist::open_sale_refused());
      return true;
    }
  }
  std::shared_ptr<const core::Venue> venue = catalog_.cached_venue(event->venue_id);
  if (!venue) return false;
  auto request = hold_request(user, input, *event, venue->layout);
  if (!request) {
    done(request.error());
    return true;
  }
  // The cached event and venue travel with the completion (shared, not copied): pricing the hold reads
  // no store there.
  return ledger_.try_hold_seats_async(*event, std::shared_ptr<const core::Layout>(venue, &venue->layout), *request,
                                      clock_.now(),
                                      [this, done = std::move(done), event, venue](core::Result<core::Hold> hold) {
                                        metrics_.count("holds", hold.ok() ? "ok" : metric_result(hold.error()));
                                        if (!hold) return done(hold.error());
                                        done(view_of(*hold, *event, venue->layout));
                                      });
}

core::Result<HoldView> Sales::get_hold(core::UserId user, core::HoldId id) {
  auto hold = ledger_.find_hold(id, user, clock_.now());
  if (!hold) return hold.error();
  return view(*hold);
}

core::Status Sales::release(core::UserId user, core::HoldId id) {
  auto hold = ledger_.release_hold(id, user, clock_.now());
  if (!hold) return hold.error();
  metrics_.count("releases", "ok");
  return core::ok_status();
}

bool Sales::try_release_async(core::UserId user, core::HoldId id, StatusDone done) {
  return ledger_.try_release_hold_async(id, user, clock_.now(), [this, done = std::move(done)](core::Result<core::Hold> hold) {
    if (!hold) return done(hold.error());
    metrics_.count("releases", "ok");
    done(core::ok_status());
  });
}

CheckoutResult Sales::checkout(core::UserId user, core::HoldId id, const std::string& key, const std::string& pm) {
  if (auto s = core::validate_idempotency_key(key); !s) return s.error();
  if (pm.size() > 255) return make_error(Code::InvalidRequest, "payment_method: at most 255 bytes");
  metrics_.count("checkout_paths", "worker");
  std::promise<CheckoutResult> mine;
  {
    std::unique_lock lock(inflight_mu_);
    auto it = inflight_.find({user, key});
    if (it != inflight_.end()) {
      // Another request with this key is charging right now: its answer is ours.
      if (it->second.hold_id != id)
        return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used for another hold");
      if (it->second.payment_method != pm)
        return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used with another payment_method");
      auto outcome = it->second.outcome;
      lock.unlock();
      return outcome.get();
    }
    if (inflight_.size() >= kCheckoutsInflightMax) return make_error(Code::Unavailable, "too many checkouts in flight");
    inflight_.emplace(InflightKey{user, key}, Inflight{id, pm, mine.get_future().share()});
  }
  // Whatever happens (even an exception from a store read), waiters get an answer and the key is
  // released, so a later retry is not stuck behind a broken promise.
  auto release = [&] {
    std::lock_guard lock(inflight_mu_);
    inflight_.erase({user, key});
  };
  try {
    CheckoutResult result = run_checkout(user, id, key, pm);
    mine.set_value(result);
    release();
    return result;
  } catch (...) {
    mine.set_exception(std::current_exception());
    release();
    throw;
  }
}

core::Result<core::ChargeResult> collect_payment(core::PaymentGateway& gateway, const core::ChargeRequest& request) {
  if (request.amount < 0) return make_error(Code::InvalidRequest, "a charge's amount cannot be negative");
  if (request.amount == 0) return core::ChargeResult{core::ChargeStatus::Succeeded, "", "", "free: nothing to pay", ""};
  return gateway.charge(request);
}

core::Result<std::string> return_payment(core::PaymentGateway& gateway, const std::string& payment_ref,
                                         int64_t amount, const std::string& idempotency_key) {
  if (amount < 0) return make_error(Code::InvalidRequest, "a refund's amount cannot be negative");
  if (amount == 0) return std::string();  // nothing was taken, so nothing goes back
  return gateway.refund(payment_ref, amount, idempotency_key);
}

core::Result<core::PaymentOutcome> outcome_of_charge(const core::Result<core::ChargeResult>& charged,
                                                     const std::string& event_id, Metrics& metrics) {
  using Kind = core::PaymentOutcome::Kind;
  if (!charged) {
    const Code code = charged.error().code;
    if (code != Code::InvalidPaymentMethod && code != Code::InvalidRequest) {
      // Outcome unknown: the booking stays pending; a retry (same key) or the reconciler finds out.
      metrics.count("checkouts", "gateway_error");
      return make_error(Code::Unavailable, "the payment's outcome is not known yet; retry with the same Idempotency-Key");
    }
    // Refused before any money moved, and refused again however often it is sent (an unknown card;
    // a stored row the gateway cannot take): the booking fails, rather than staying pending for the
    // reconciler to send again forever. As for an unknown card, the hold stays the buyer's until it
    // lapses: a new checkout of it prices it afresh.
    const char* decline = code == Code::InvalidPaymentMethod ? "invalid_payment_method" : "invalid_request";
    metrics.count("checkouts", decline);
    return core::PaymentOutcome{Kind::Rejected, "", decline, charged.error().message, event_id};
  }
  const core::ChargeResult& c = *charged;
  Kind kind = Kind::AwaitingAction;
  if (c.status == core::ChargeStatus::Succeeded) kind = Kind::Succeeded;
  if (c.status == core::ChargeStatus::Declined) kind = Kind::Declined;
  return core::PaymentOutcome{kind, c.payment_ref, c.decline_code, c.message, event_id};
}

core::Result<core::Booking> answer_of_settlement(const core::Settlement& settled,
                                                 const core::Result<core::ChargeResult>& charged, Metrics& metrics) {
  if (!charged) return charged.error();  // refused by the gateway: the buyer hears why
  const core::Booking& b = settled.booking;
  metrics.count("settlements", core::to_string(b.status));
  if (b.status == core::BookingStatus::Failed) {
    if (b.decline_code == "seats_taken") return make_error(Code::HoldExpired, b.message);
    core::Error e = make_error(Code::PaymentFailed, b.message.empty() ? "the payment was declined" : b.message);
    e.detail = b.decline_code;
    return e;
  }
  return b;
}

core::Result<core::Booking> apply_charge(core::Ledger& ledger, core::PaymentGateway& gateway,
                                         const core::CheckoutRecord& record,
                                         const core::Result<core::ChargeResult>& charged, const std::string& event_id,
                                         TimeMs now, Metrics& metrics, SellerPayouts* payouts) {
  auto outcome = outcome_of_charge(charged, event_id, metrics);
  if (!outcome) return outcome.error();
  auto settled = ledger.settle_payment(record.booking_id, *outcome, now);
  if (!settled) return settled.error();
  if (charged && settled->refund_needed) {
    // Paid after the hold lapsed and someone else has the seats: give the money back at once. If the
    // gateway is down now, the reconciler retries (the payment stays SUCCEEDED on a FAILED booking).
    auto refund = return_payment(gateway, charged->payment_ref, record.amount, record.gateway_key + "-refund");
    if (refund) (void)ledger.record_refund(record.booking_id, *refund);
    metrics.count("checkouts", "late_refunded");
  }
  // Seats bought from resale listings: their sellers are refunded now (or by the reconciler's pass).
  if (charged && settled->resold && payouts) payouts->pay_due();
  return answer_of_settlement(*settled, charged, metrics);
}

CheckoutResult Sales::charge(const core::CheckoutRecord& record) {
  core::ChargeRequest request{record.amount,   record.currency, record.payment_method, record.gateway_key,
                              record.booking_id, record.hold_id, record.user_id,       record.event_id};
  return apply_charge(ledger_, gateway_, record, collect_payment(gateway_, request), "", clock_.now(), metrics_,
                      payouts_);
}

CheckoutResult Sales::resume(const core::CheckoutRecord& record) {
  switch (record.status) {
    case core::BookingStatus::Confirmed:
    case core::BookingStatus::Cancelled:
      return ledger_.find_booking(record.booking_id, record.user_id);
    case core::BookingStatus::Failed: {
      if (record.decline_code == "invalid_payment_method")
        return make_error(Code::InvalidPaymentMethod, record.message);
      if (record.decline_code == "seats_taken") return make_error(Code::HoldExpired, record.message);
      core::Error e = make_error(Code::PaymentFailed, record.message.empty() ? "the payment was declined" : record.message);
      e.detail = record.decline_code;
      return e;
    }
    case core::BookingStatus::PendingPayment:
      if (record.payment_status == "REQUIRES_ACTION") return ledger_.find_booking(record.booking_id, record.user_id);
      return charge(record);  // never answered: the same gateway key makes this safe
  }
  return make_error(Code::Unavailable, "unknown booking state");
}

CheckoutResult Sales::run_checkout(core::UserId user, core::HoldId id, const std::string& key,
                                   const std::string& pm) {
  if (auto record = ledger_.find_checkout(user, key)) {
    if (record->hold_id != id)
      return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used for another hold");
    // Like Stripe: a key names one request. Another body under it is a client bug, and replaying the
    // first answer would hide that the second card was never charged.
    if (record->payment_method != pm)
      return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used with another payment_method");
    return resume(*record);
  }
  // Its event and seats price it; whether it is still live is begin_checkout's to decide, below.
  auto hold = ledger_.hold_as_taken(id, user, clock_.now());
  if (!hold) return hold.error();
  // A hold taken before the event was cancelled is not paid for: it is let go now.
  if (auto event = catalog_.event(hold->event_id); event && event->cancelled()) {
    (void)ledger_.release_hold(id, user, clock_.now());
    return make_error(Code::EventCancelled, "this event is cancelled");
  }
  auto priced = view(*hold);
  if (!priced) return priced.error();
  if (priced->total_amount > 0 && pm.empty())
    return make_error(Code::InvalidRequest, "payment_method is required: this hold costs money");
  // Amounts come from the event's prices, never from the client.
  auto record = ledger_.begin_checkout(id, user, {key, priced->total_amount, priced->currency, pm}, clock_.now());
  if (!record && record.error().code == Code::CheckoutInProgress) {
    // The same checkout (this key) may have begun after the lookup above: a retry that reached another
    // node while the first was committing, or an owner that reloaded the event meanwhile. Its record
    // is durable by now if so, and the retry continues it rather than hear "in progress".
    if (auto again = ledger_.find_checkout(user, key); again && again->hold_id == id && again->payment_method == pm)
      return resume(*again);
  }
  if (!record) {
    metrics_.count("checkouts", metric_result(record.error()));
    return record.error();
  }
  return charge(*record);
}

std::optional<HoldView> Sales::priced_in_memory(core::UserId user, core::HoldId id) {
  std::optional<core::Hold> hold = ledger_.hold_as_taken_in_memory(id, user);
  if (!hold) return std::nullopt;
  std::shared_ptr<const core::Event> event = catalog_.cached_event(hold->event_id);
  if (!event || event->cancelled()) return std::nullopt;  // a cancelled event's hold is let go by checkout()
  std::shared_ptr<const core::Venue> venue = catalog_.cached_venue(event->venue_id);
  if (!venue) return std::nullopt;
  // Amounts come from the event's prices, never from the client.
  HoldView priced = view_of(*hold, *event, venue->layout);
  // A paid hold is charged on the commit thread, which only an in-process gateway may be.
  if (priced.total_amount > 0 && !gateway_.charges_without_blocking()) return std::nullopt;
  return priced;
}

bool Sales::prepare_checkout(core::UserId user, core::HoldId id, const std::string& key,
                             std::function<void(bool)> ready) {
  if (!key_reader_ || !core::validate_idempotency_key(key) || !priced_in_memory(user, id)) return false;
  return key_reader_->read(core::CheckoutKey{user, key},
                           [ready = std::move(ready)](bool read, std::optional<core::CheckoutRecord> found) {
                             ready(read && !found);  // a key used before is continued by checkout()
                           });
}

bool Sales::try_checkout_async(core::UserId user, core::HoldId id, const std::string& key, const std::string& pm,
                               CheckoutDone done) {
  // What checkout() refuses or would read is left to it: this takes only what memory can decide.
  if (!key_reader_ || !core::validate_idempotency_key(key) || pm.size() > 255) return false;
  const std::optional<HoldView> priced = priced_in_memory(user, id);
  if (!priced || (priced->total_amount > 0 && pm.empty())) return false;
  auto checkout = std::make_shared<AsyncCheckout>(AsyncCheckout{{user, key}, {}, std::move(done)});
  {
    std::lock_guard lock(inflight_mu_);
    if (inflight_.contains(checkout->key) || inflight_.size() >= kCheckoutsInflightMax) return false;
    inflight_.emplace(checkout->key, Inflight{id, pm, checkout->outcome.get_future().share()});
  }
  const core::CheckoutStart start{key, priced->total_amount, priced->currency, pm};
  if (!ledger_.try_begin_checkout_async(id, user, start, clock_.now(),
                                        [this, checkout](core::Result<core::CheckoutRecord> record) {
                                          checkout_begun(checkout, std::move(record));
                                        })) {
    // Anyone who joined meanwhile is told to retry: this one goes to checkout() on a worker.
    release_inflight(*checkout, make_error(Code::Unavailable, "retry with the same Idempotency-Key"));
    return false;
  }
  metrics_.count("checkout_paths", "no_worker");
  return true;
}

// On the commit thread, once the PENDING_PAYMENT booking is durable: the charge (the gateway answers in
// process), then the settlement, whose completion answers the buyer.
void Sales::checkout_begun(const std::shared_ptr<AsyncCheckout>& checkout, core::Result<core::CheckoutRecord> record) {
  try {
    if (!record) {
      metrics_.count("checkouts", metric_result(record.error()));
      return finish(*checkout, record.error());
    }
    core::ChargeRequest request{record->amount,     record->currency, record->payment_method, record->gateway_key,
                                record->booking_id, record->hold_id,  record->user_id,        record->event_id};
    core::Result<core::ChargeResult> charged = collect_payment(gateway_, request);
    auto outcome = outcome_of_charge(charged, "", metrics_);
    if (!outcome) return finish(*checkout, outcome.error());
    const bool taken = ledger_.try_settle_payment_async(
        record->booking_id, *outcome, clock_.now(), [this, checkout, charged](core::Result<core::Settlement> settled) {
          if (!settled) return finish(*checkout, settled.error());
          // What would block here is left to the reconciler's pass (see try_checkout_async).
          if (charged && settled->refund_needed) metrics_.count("checkouts", "late_refund_deferred");
          finish(*checkout, answer_of_settlement(*settled, charged, metrics_));
        });
    // Settled meanwhile by someone else (a webhook, the reconciler): the retry reads how.
    if (!taken)
      finish(*checkout, make_error(Code::Unavailable,
                                   "the payment's outcome is not known yet; retry with the same Idempotency-Key"));
  } catch (const std::exception& e) {
    finish(*checkout, make_error(Code::Unavailable, std::string("the checkout could not go on: ") + e.what()));
  }
}

void Sales::release_inflight(AsyncCheckout& checkout, const CheckoutResult& result) {
  checkout.outcome.set_value(result);
  std::lock_guard lock(inflight_mu_);
  inflight_.erase(checkout.key);
}

void Sales::finish(AsyncCheckout& checkout, CheckoutResult result) {
  release_inflight(checkout, result);
  checkout.done(std::move(result));
}

int64_t Sales::unrefunded(const core::Booking& booking) {
  return booking.total_amount - ledger_.seat_refunds_total(booking.id);
}

core::Result<core::Booking> Sales::any_booking(core::BookingId id) {
  auto booking = ledger_.booking_by_id(id);
  if (!booking) return make_error(Code::NotFound, "no such booking");
  return *booking;
}

core::Result<core::Booking> Sales::refund(core::BookingId id) {
  auto booking = ledger_.booking_by_id(id);
  if (!booking) return make_error(Code::NotFound, "no such booking");
  if (booking->status == core::BookingStatus::Cancelled) return *booking;
  if (booking->status != core::BookingStatus::Confirmed)
    return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be refunded");
  auto refund = return_payment(gateway_, booking->payment_ref, unrefunded(*booking),
                               "ticketd-cancel-" + std::to_string(id));
  if (!refund) return refund.error();
  auto cancelled = ledger_.cancel_booking(*booking, *refund, clock_.now());
  metrics_.count("organizer_refunds", cancelled.ok() ? "ok" : "rejected");
  return cancelled;
}

core::Result<core::Booking> Sales::refund_seats(core::BookingId id, const std::vector<core::SeatId>& seats) {
  auto booking = ledger_.booking_by_id(id);
  if (!booking) return make_error(Code::NotFound, "no such booking");
  auto event = catalog_.event(booking->event_id);
  if (!event) return event.error();
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  auto plan = core::plan_seat_refund(*booking, seats, *event, (*venue)->layout, ledger_.seat_refunds_total(id));
  if (!plan) return plan.error();
  if (plan->seats.size() == booking->seats.size()) return refund(id);
  std::string key = "ticketd-refund-" + std::to_string(id);
  for (core::SeatId s : plan->seats) key += "-" + std::to_string(s);
  auto refund = return_payment(gateway_, booking->payment_ref, plan->amount, key);
  if (!refund) return refund.error();
  auto done = ledger_.refund_seats(*booking, *plan, *refund, clock_.now());
  metrics_.count("organizer_refunds", done.ok() ? "seats_ok" : "seats_rejected");
  return done;
}

core::Result<core::Booking> Sales::booking(core::UserId user, core::BookingId id) {
  return ledger_.find_booking(id, user);
}

core::Result<std::string> Sales::payment_action(core::UserId user, core::BookingId id) {
  auto booking = ledger_.find_booking(id, user);
  if (!booking) return booking.error();
  if (booking->status != core::BookingStatus::PendingPayment || booking->payment_ref.empty())
    return make_error(Code::NoPaymentAction, "this booking's payment waits for nothing from you");
  auto charged = gateway_.retrieve(booking->payment_ref);
  if (!charged) return charged.error().code == Code::Unavailable ? charged.error()
                                                                  : make_error(Code::NoPaymentAction, "the payment cannot be found at the gateway");
  if (charged->status != core::ChargeStatus::RequiresAction || charged->action_url.empty())
    return make_error(Code::NoPaymentAction, "the bank needs nothing from you for this payment");
  return std::move(charged->action_url);
}

std::vector<core::Booking> Sales::bookings(core::UserId user, uint32_t limit, core::BookingId before,
                                          bool include_failed) {
  return ledger_.list_bookings(user, limit, before, include_failed);
}

core::Result<core::Booking> Sales::cancel(core::UserId user, core::BookingId id) {
  auto booking = ledger_.find_booking(id, user);
  if (!booking) return booking.error();
  if (booking->status == core::BookingStatus::Cancelled) return booking;
  if (booking->status != core::BookingStatus::Confirmed)
    return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be cancelled");
  auto event = catalog_.event(booking->event_id);
  if (!event) return event.error();
  if (clock_.now() >= event->starts_at) return make_error(Code::EventStarted, "the event has started");
  // A ticket given away is someone else's now: refunding the buyer would take it back from them.
  if (transfers_ && transfers_->booking_has_transfers(id))
    return make_error(Code::BookingTransferred, "a ticket of this booking was sent to someone: it cannot be cancelled");
  auto refund = return_payment(gateway_, booking->payment_ref, unrefunded(*booking),
                               "ticketd-cancel-" + std::to_string(id));
  if (!refund) return refund.error();
  auto cancelled = ledger_.cancel_booking(*booking, *refund, clock_.now());
  metrics_.count("cancellations", cancelled.ok() ? "ok" : "rejected");
  return cancelled;
}

}  // namespace ticketd::app
