// Use cases of the payment gateway's side: webhook events (applied once each, in any order, possibly
// before the checkout call that started the payment has returned) and reconciliation of payments
// whose outcome never arrived (missed webhooks, timeouts, a crash between charge and commit).
// Thread safety: all methods are safe to call concurrently; the ledger serialises per booking.
#pragma once

#include <mutex>

#include "app/resale.hpp"
#include "base/metrics.hpp"
#include "core/limits.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/payment_gateway.hpp"

namespace ticketd::app {

// What one reconciliation pass did. `failed`: rows the gateway refused outright (a stored amount,
// currency or key it cannot take): their bookings are failed, never retried; their holds lapse.
struct ReconcileReport {
  size_t examined = 0;
  size_t settled = 0;
  size_t failed = 0;
  size_t abandoned = 0;  // payments canceled because the buyer never completed authentication
};

class Payments {
 public:
  // Per pass: the budget of gateway calls. Passes walk the pending payments round-robin (a cursor
  // by payment id), so any number of payments that stay pending (3-D Secure never completed) cannot
  // keep the reconciler from the ones behind them.
  static constexpr uint32_t kReconcileBatchMax = 100;

  // verifier may be null: the gateway has no webhooks (the in-process test provider).
  // reconcile_after: how long a payment may stay pending before the gateway is asked (missed webhooks).
  // action_timeout: how long a buyer has to complete the bank's authentication (3-D Secure); past it
  // the reconciler cancels the payment at the gateway and fails the booking, freeing its seats.
  // REQUIRES: 0 < action_timeout <= limits::payment_action_pin_max (the seats are not kept longer).
  Payments(core::Ledger& ledger, core::PaymentGateway& gateway, core::PaymentEventVerifier* verifier,
           const Clock& clock, Millis reconcile_after, Metrics& metrics,
           Millis action_timeout = core::limits::payment_action_pin_max);

  // InvalidRequest (400) for a bad signature or body: nothing changes then. Unknown bookings and
  // event types are acknowledged and ignored (the gateway would otherwise retry them for days).
  core::Status handle_webhook(std::string_view body, std::string_view signature_header);
  // Settles what is pending since before now - reconcile_after, up to kReconcileBatchMax payments
  // from where the last pass stopped. One pass at a time (reconcile_mu_).
  ReconcileReport reconcile();
  // Told after a settlement that sold seats from resale listings, and at the end of every reconcile
  // pass (refunds a crash or the gateway left unpaid).
  void set_payouts(SellerPayouts* payouts) { payouts_ = payouts; }

 private:
  core::Status apply(const core::PaymentEvent& event);

  core::Ledger& ledger_;
  core::PaymentGateway& gateway_;
  core::PaymentEventVerifier* verifier_;
  const Clock& clock_;
  Millis reconcile_after_;
  Metrics& metrics_;
  Millis action_timeout_;
  std::mutex reconcile_mu_;
  core::PaymentId reconcile_cursor_ = 0;  // guarded by reconcile_mu_: the last payment id examined
  SellerPayouts* payouts_ = nullptr;
};

}  // namespace ticketd::app
