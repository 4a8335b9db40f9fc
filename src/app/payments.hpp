// Use cases of the payment gateway's side: webhook events (applied once each, in any order, possibly
// before the checkout call that started the payment has returned) and reconciliation of payments
// whose outcome never arrived (missed webhooks, timeouts, a crash between charge and commit).
// Thread safety: all methods are safe to call concurrently; the ledger serialises per booking.
#pragma once

#include "app/metrics.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/payment_gateway.hpp"

namespace ticketd::app {

class Payments {
 public:
  static constexpr uint32_t kReconcileBatchMax = 100;  // per pass; the next pass takes the rest

  // verifier may be null: the gateway has no webhooks (the in-process test provider).
  // reconcile_after: how long a payment may stay pending before the gateway is asked (missed webhooks).
  Payments(core::Ledger& ledger, core::PaymentGateway& gateway, core::PaymentEventVerifier* verifier,
           const Clock& clock, Millis reconcile_after, Metrics& metrics);

  // InvalidRequest (400) for a bad signature or body: nothing changes then. Unknown bookings and
  // event types are acknowledged and ignored (the gateway would otherwise retry them for days).
  core::Status handle_webhook(std::string_view body, std::string_view signature_header);
  // Settles what is pending since before now - reconcile_after; returns how many.
  size_t reconcile();

 private:
  core::Status apply(const core::PaymentEvent& event);

  core::Ledger& ledger_;
  core::PaymentGateway& gateway_;
  core::PaymentEventVerifier* verifier_;
  const Clock& clock_;
  Millis reconcile_after_;
  Metrics& metrics_;
};

}  // namespace ticketd::app
