#include "payments/stripe/event_verifier.hpp"

#include <utility>

#include "base/assert.hpp"

#include "payments/stripe/webhook.hpp"

namespace ticketd::payments {

StripeEventVerifier::StripeEventVerifier(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {
  TICKETD_ASSERT(!secrets_.empty());
  for (const std::string& s : secrets_) TICKETD_ASSERT(!s.empty());
}

core::Result<core::PaymentEvent> StripeEventVerifier::verify(std::string_view body, std::string_view signature_header,
                                                             TimeMs now) {
  auto event = verify_webhook(body, signature_header, secrets_, now);
  if (!event) return event.error();
  core::PaymentEvent out;
  out.id = event->id;
  out.type = event->type;
  out.payment_ref = event->payment_intent.empty() ? event->object_id : event->payment_intent;
  out.booking_id = event->booking_id;
  out.decline_code = event->decline_code;
  out.message = event->message;
  out.amount_refunded = event->amount_refunded;
  out.amount = event->amount;
  out.currency = event->currency;
  if (event->type == "payment_intent.succeeded") out.kind = core::PaymentEventKind::Succeeded;
  else if (event->type == "payment_intent.payment_failed") out.kind = core::PaymentEventKind::Failed;
  else if (event->type == "charge.refunded") out.kind = core::PaymentEventKind::Refunded;
  else out.kind = core::PaymentEventKind::Other;
  return out;
}

}  // namespace ticketd::payments
