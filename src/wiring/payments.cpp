// Builds the payment gateway (see payments.hpp). A Stripe configuration out of bounds, or one without
// a webhook secret, is refused here, before the server starts.
#include "wiring/payments.hpp"

#include <spdlog/spdlog.h>

#include "payments/stripe/event_verifier.hpp"
#include "payments/stripe/stripe_gateway.hpp"
#include "payments/test/test_gateway.hpp"

namespace ticketd::wiring {

core::Result<PaymentWiring> wire_payments(const ServeConfig& cfg) {
  PaymentWiring w;
  if (cfg.stripe_secret_key.empty()) {
    spdlog::info("payments provider=test (set TICKETD_STRIPE_SECRET_KEY to use Stripe)");
    w.gateway = std::make_unique<payments::TestGateway>();
    return w;
  }
  payments::StripeConfig stripe;
  stripe.api_base = cfg.stripe_api_base;
  stripe.secret_key = cfg.stripe_secret_key;
  stripe.request_timeout = Millis(cfg.stripe_timeout_ms);
  stripe.attempts_max = cfg.stripe_attempts_max;
  if (auto s = payments::validate_stripe_config(stripe); !s) return s.error();
  const auto secrets = split_commas(cfg.stripe_webhook_secrets);
  if (secrets.empty())
    return core::make_error(core::Code::InvalidRequest, "TICKETD_STRIPE_WEBHOOK_SECRET is required with Stripe");
  auto gateway = std::make_unique<payments::StripeGateway>(stripe);
  w.stripe = gateway.get();
  w.gateway = std::move(gateway);
  w.verifier = std::make_unique<payments::StripeEventVerifier>(secrets);
  spdlog::info("payments provider=stripe api_base={} webhook_secrets={}", cfg.stripe_api_base, secrets.size());
  return w;
}

}  // namespace ticketd::wiring
