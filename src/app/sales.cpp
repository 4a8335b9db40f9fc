#include "app/sales.hpp"

#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Sales::Sales(core::Ledger& ledger, Catalog& catalog, core::PaymentGateway& gateway, const Clock& clock,
             Millis hold_ttl, Metrics& metrics)
    : ledger_(ledger), catalog_(catalog), gateway_(gateway), clock_(clock), hold_ttl_(hold_ttl), metrics_(metrics) {
  TICKETD_ASSERT(hold_ttl.count() > 0);
}

namespace {
const char* metric_result(const core::Error& e) {
  switch (e.code) {
    case Code::SeatUnavailable: return "seat_unavailable";
    case Code::InsufficientSeats: return "insufficient_seats";
    case Code::TicketLimitExceeded: return "ticket_limit";
    case Code::PaymentFailed: return "declined";
    case Code::HoldExpired: return "hold_expired";
    default: return "rejected";
  }
}
}  // namespace

core::Result<HoldView> Sales::view(const core::Hold& hold) {
  auto event = catalog_.event(hold.event_id);
  if (!event) return event.error();
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  HoldView v{hold, 0, event->currency};
  for (core::SeatId s : hold.seats) v.total_amount += event->prices.at((*venue)->layout.price_tier_of(s));
  return v;
}

core::Result<HoldView> Sales::hold(core::UserId user, const HoldInput& input) {
  auto event = catalog_.event(input.event_id);
  if (!event) return event.error();
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return venue.error();
  const core::Layout& layout = (*venue)->layout;
  core::HoldRequest request{user, input.seats, std::nullopt, hold_ttl_};
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
  auto hold = ledger_.hold_seats(*event, layout, request, clock_.now());
  metrics_.count("holds", hold.ok() ? "ok" : metric_result(hold.error()));
  if (!hold) return hold.error();
  return view(*hold);
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

CheckoutResult Sales::checkout(core::UserId user, core::HoldId id, const std::string& key, const std::string& pm) {
  if (auto s = core::validate_idempotency_key(key); !s) return s.error();
  if (pm.empty() || pm.size() > 255) return make_error(Code::InvalidRequest, "payment_method: 1-255 bytes required");
  std::promise<CheckoutResult> mine;
  {
    std::unique_lock lock(inflight_mu_);
    auto it = inflight_.find({user, key});
    if (it != inflight_.end()) {
      // Another request with this key is charging right now: its answer is ours.
      if (it->second.hold_id != id)
        return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used for another hold");
      auto outcome = it->second.outcome;
      lock.unlock();
      return outcome.get();
    }
    if (inflight_.size() >= kCheckoutsInflightMax) return make_error(Code::Unavailable, "too many checkouts in flight");
    inflight_.emplace(InflightKey{user, key}, Inflight{id, mine.get_future().share()});
  }
  CheckoutResult result = run_checkout(user, id, key, pm);
  mine.set_value(result);
  std::lock_guard lock(inflight_mu_);
  inflight_.erase({user, key});
  return result;
}

CheckoutResult Sales::replay(const core::CheckoutRecord& record, core::UserId user, core::HoldId id) {
  if (record.hold_id != id)
    return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used for another hold");
  if (record.succeeded) return ledger_.find_booking(record.booking_id, user);
  core::Error e = make_error(Code::PaymentFailed, record.message);
  e.detail = record.decline_code;
  return e;
}

CheckoutResult Sales::run_checkout(core::UserId user, core::HoldId id, const std::string& key,
                                   const std::string& pm) {
  if (auto record = ledger_.find_checkout(user, key)) return replay(*record, user, id);
  auto pinned = ledger_.begin_checkout(id, user, clock_.now());
  if (!pinned) {
    metrics_.count("checkouts", metric_result(pinned.error()));
    return pinned.error();
  }
  auto priced = view(*pinned);
  if (!priced) {
    ledger_.abort_checkout(*pinned, clock_.now());
    return priced.error();
  }
  // The gateway's key is derived from the user's key, so a retry after a crash reuses it.
  core::ChargeRequest charge{priced->total_amount, priced->currency, pm,
                             "checkout-" + std::to_string(user) + "-" + key, id, user, pinned->event_id};
  auto charged = gateway_.charge(charge);
  if (!charged) {
    ledger_.abort_checkout(*pinned, clock_.now());
    metrics_.count("checkouts", "gateway_error");
    return charged.error();
  }
  core::CheckoutPayment payment{key, charge.amount, charge.currency, pm, charged->payment_ref,
                                charged->succeeded, charged->decline_code, charged->message};
  if (!charged->succeeded) {
    if (auto s = ledger_.fail_checkout(*pinned, payment, clock_.now()); !s) return s.error();
    metrics_.count("checkouts", "declined");
    core::Error e = make_error(Code::PaymentFailed, charged->message);
    e.detail = charged->decline_code;
    return e;
  }
  auto booking = ledger_.complete_checkout(*pinned, payment, clock_.now());
  if (!booking && booking.error().code == Code::HoldExpired) {
    // The pin lapsed while the card was charged and the seats may be gone: give the money back.
    (void)gateway_.refund(charged->payment_ref, charge.amount, "refund-lapsed-" + charge.idempotency_key);
    metrics_.count("checkouts", "lapsed_refunded");
    return booking.error();
  }
  metrics_.count("checkouts", booking.ok() ? "ok" : "rejected");
  return booking;
}

core::Result<core::Booking> Sales::booking(core::UserId user, core::BookingId id) {
  return ledger_.find_booking(id, user);
}

std::vector<core::Booking> Sales::bookings(core::UserId user, uint32_t limit, core::BookingId before) {
  return ledger_.list_bookings(user, limit, before);
}

core::Result<core::Booking> Sales::cancel(core::UserId user, core::BookingId id) {
  auto booking = ledger_.find_booking(id, user);
  if (!booking) return booking.error();
  if (booking->status == core::BookingStatus::Cancelled) return booking;
  auto event = catalog_.event(booking->event_id);
  if (!event) return event.error();
  if (clock_.now() >= event->starts_at) return make_error(Code::EventStarted, "the event has started");
  auto refund = gateway_.refund(booking->payment_ref, booking->total_amount, "refund-booking-" + std::to_string(id));
  if (!refund) return refund.error();
  auto cancelled = ledger_.cancel_booking(*booking, *refund, clock_.now());
  metrics_.count("cancellations", cancelled.ok() ? "ok" : "rejected");
  return cancelled;
}

}  // namespace ticketd::app
