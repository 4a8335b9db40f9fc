// Stripe webhooks as the domain's PaymentEvents: verifies the Stripe-Signature (any of the configured
// endpoint secrets may match, so a secret can be rotated without dropping deliveries) and maps
// Stripe's event types to what the payments use case acts on.
// Thread safety: immutable after construction; verify() is safe to call concurrently.
#pragma once

#include <string>
#include <vector>

#include "core/ports/payment_gateway.hpp"

namespace ticketd::payments {

class StripeEventVerifier final : public core::PaymentEventVerifier {
 public:
  // REQUIRES: at least one non-empty secret.
  explicit StripeEventVerifier(std::vector<std::string> secrets);
  core::Result<core::PaymentEvent> verify(std::string_view body, std::string_view signature_header,
                                          TimeMs now) override;

 private:
  std::vector<std::string> secrets_;
};

}  // namespace ticketd::payments
