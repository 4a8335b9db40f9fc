// The payment gateway and its webhook verifier, chosen by configuration: Stripe when a secret key is
// set, else the in-process test provider. The wiring is the only place that knows which.
#pragma once

#include <memory>

#include "core/ports/payment_gateway.hpp"
#include "core/result.hpp"
#include "wiring/serve_config.hpp"

namespace ticketd::payments {
class StripeGateway;
}

namespace ticketd::wiring {

struct PaymentWiring {
  std::unique_ptr<core::PaymentGateway> gateway;
  payments::StripeGateway* stripe = nullptr;  // the gateway when it is Stripe: told the public URL later
  std::unique_ptr<core::PaymentEventVerifier> verifier;  // null: no webhooks
};

core::Result<PaymentWiring> wire_payments(const ServeConfig& cfg);

}  // namespace ticketd::wiring
