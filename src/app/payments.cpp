#include "app/payments.hpp"

#include "app/sales.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Payments::Payments(core::Ledger& ledger, core::PaymentGateway& gateway, core::PaymentEventVerifier* verifier,
                   const Clock& clock, Millis reconcile_after, Metrics& metrics, Millis action_timeout)
    : ledger_(ledger), gateway_(gateway), verifier_(verifier), clock_(clock), reconcile_after_(reconcile_after),
      metrics_(metrics), action_timeout_(action_timeout) {
  TICKETD_ASSERT(action_timeout.count() > 0 && action_timeout <= core::limits::payment_action_pin_max);
}

core::Status Payments::handle_webhook(std::string_view body, std::string_view signature_header) {
  if (!verifier_) return make_error(Code::NotFound, "this payment gateway sends no webhooks");
  auto event = verifier_->verify(body, signature_header, clock_.now());
  if (!event) {
    metrics_.count("payment_events", "rejected");
    return event.error();
  }
  if (ledger_.payment_event_seen(event->id)) {
    metrics_.count("payment_events", "duplicate");
    return core::ok_status();
  }
  return apply(*event);
}

namespace {

// Why a verified event may not settle `booking`, or nullopt when it may. The booking an event names
// (its metadata) is only a claim: the payment it carries must be this booking's own, and for its
// total, or one booking could be confirmed (and later refunded) with another's money.
// REQUIRES: event.kind != Other.
std::optional<std::string> payment_mismatch(const core::PaymentEvent& event, const core::Booking& booking,
                                            std::optional<core::BookingId> owner_of_ref) {
  if (event.payment_ref.empty()) return "the event names no payment";
  if (!booking.payment_ref.empty() && booking.payment_ref != event.payment_ref)
    return "booking " + std::to_string(booking.id) + " was paid by another payment";
  if (owner_of_ref && *owner_of_ref != booking.id)
    return "the payment belongs to booking " + std::to_string(*owner_of_ref);
  if (event.kind == core::PaymentEventKind::Refunded) {
    // A refund's event is a charge: it must concern the payment the booking already has.
    if (booking.payment_ref.empty()) return "booking " + std::to_string(booking.id) + " has no payment to refund";
    return std::nullopt;
  }
  if (event.amount != booking.total_amount || event.currency != booking.currency)
    return "the payment is " + std::to_string(event.amount) + " " + event.currency + ", booking " +
           std::to_string(booking.id) + " costs " + std::to_string(booking.total_amount) + " " + booking.currency;
  return std::nullopt;
}

}  // namespace

core::Status Payments::apply(const core::PaymentEvent& event) {
  const TimeMs now = clock_.now();
  std::optional<core::Booking> booking;
  core::BookingId booking_id = event.booking_id;
  if (booking_id == 0) booking_id = ledger_.booking_by_payment_ref(event.payment_ref).value_or(0);
  if (booking_id > 0) booking = ledger_.booking_by_id(booking_id);
  if (!booking || event.kind == core::PaymentEventKind::Other) {
    metrics_.count("payment_events", "ignored");
    return ledger_.record_payment_event(event.id, event.type, now);
  }
  const std::optional<core::BookingId> owner = ledger_.booking_by_payment_ref(event.payment_ref);
  if (auto why = payment_mismatch(event, *booking, owner)) {
    // Refused, not acknowledged: the sender sees the 400 (Stripe's dashboard lists it) and nothing
    // changes. Signed events never disagree with ticketd's own charges unless something is wrong.
    metrics_.count("payment_events", "mismatched");
    return make_error(Code::InvalidRequest, "payment event refused: " + *why);
  }
  if (event.kind == core::PaymentEventKind::Refunded) {
    // A refund made outside ticketd (the gateway's dashboard): the booking is cancelled and its seats
    // return. Refunds ticketd made itself find the booking cancelled already.
    if (booking->status == core::BookingStatus::Confirmed && event.amount_refunded >= booking->total_amount) {
      auto cancelled = ledger_.cancel_booking(*booking, "gateway:" + event.payment_ref, now);
      if (!cancelled) return cancelled.error();
    }
    metrics_.count("payment_events", "refunded");
    return ledger_.record_payment_event(event.id, event.type, now);
  }
  core::CheckoutRecord rec;  // what apply_charge needs, from the booking the event names
  rec.booking_id = booking->id;
  rec.hold_id = booking->hold_id;
  rec.user_id = booking->user_id;
  rec.event_id = booking->event_id;
  rec.amount = booking->total_amount;
  rec.currency = booking->currency;
  rec.gateway_key = "ticketd-booking-" + std::to_string(booking->id);
  core::ChargeResult charge{event.kind == core::PaymentEventKind::Succeeded ? core::ChargeStatus::Succeeded
                                                                             : core::ChargeStatus::Declined,
                            event.payment_ref, event.decline_code, event.message, ""};
  auto applied = apply_charge(ledger_, gateway_, rec, charge, event.id, now, metrics_, payouts_);
  metrics_.count("payment_events", event.kind == core::PaymentEventKind::Succeeded ? "succeeded" : "failed");
  // A decline or a late payment is an answer to the webhook, not an error of it.
  if (!applied && applied.error().code == Code::Unavailable) return applied.error();
  return core::ok_status();
}

ReconcileReport Payments::reconcile() {
  std::lock_guard lock(reconcile_mu_);
  const TimeMs now = clock_.now();
  const auto stale = ledger_.payments_to_reconcile(now - reconcile_after_, reconcile_cursor_, kReconcileBatchMax);
  // A short batch reached the end: the next pass starts again from the oldest.
  reconcile_cursor_ = stale.size() < kReconcileBatchMax ? 0 : stale.back().payment_id;
  ReconcileReport report;
  report.examined = stale.size();
  for (const core::CheckoutRecord& rec : stale) {
    if (rec.status == core::BookingStatus::Failed) {  // paid, seats gone, refund not yet made
      auto refund = return_payment(gateway_, rec.payment_ref, rec.amount, rec.gateway_key + "-refund");
      if (refund && ledger_.record_refund(rec.booking_id, *refund)) ++report.settled;
      continue;
    }
    core::Result<core::ChargeResult> charged = make_error(Code::Unavailable, "unknown");
    if (rec.payment_ref.empty()) {
      // The charge never got an answer: repeating it with the same key returns what happened.
      charged = collect_payment(gateway_, {rec.amount, rec.currency, rec.payment_method, rec.gateway_key,
                                           rec.booking_id, rec.hold_id, rec.user_id, rec.event_id});
    } else {
      charged = gateway_.retrieve(rec.payment_ref);
    }
    if (charged && charged->status == core::ChargeStatus::RequiresAction && now - rec.created_at >= action_timeout_) {
      // The buyer never finished the bank's check: cancel at the gateway (if it succeeded meanwhile,
      // the cancel fails and the next pass finds the success), then fail the booking like a decline.
      auto canceled = gateway_.cancel(rec.payment_ref, rec.gateway_key + "-cancel");
      if (!canceled || canceled->status != core::ChargeStatus::Declined) continue;
      charged = core::ChargeResult{core::ChargeStatus::Declined, rec.payment_ref, "authentication_abandoned",
                                   "the bank's authentication was not completed in time", ""};
      ++report.abandoned;
    }
    if (charged && (charged->status == core::ChargeStatus::RequiresAction ||
                    charged->status == core::ChargeStatus::Processing))
      continue;  // still with the buyer or the bank
    if (!charged && charged.error().code == Code::InvalidRequest) ++report.failed;
    auto applied = apply_charge(ledger_, gateway_, rec, charged, "", now, metrics_, payouts_);
    if (applied || applied.error().code != Code::Unavailable) ++report.settled;
  }
  if (report.settled) metrics_.count("reconciled", "settled");
  if (report.failed) metrics_.count("reconciled", "refused_by_gateway");
  if (report.abandoned) metrics_.count("reconciled", "authentication_abandoned");
  if (payouts_) payouts_->pay_due();  // sellers of resold seats a crash or the gateway left unpaid
  return report;
}

}  // namespace ticketd::app
