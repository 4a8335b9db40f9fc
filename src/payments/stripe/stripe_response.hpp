// How Stripe's answers map onto the payment port: pure functions of (HTTP status, body), no I/O, so every
// status and error shape Stripe documents is unit-tested without a server (tests/payments/
// stripe_response_test.cpp). StripeGateway does the transport and retries, then calls these with the
// final answer.
//
// Messages copied from Stripe are clipped to kStripeMessageBytesMax. Answers to 401/403 are never
// copied: Stripe's "Invalid API Key provided: sk_live_****1234" echoes part of the key.
//
// Thread safety: stateless.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/ports/payment_gateway.hpp"
#include "core/result.hpp"

namespace ticketd::payments {

// Stripe's largest objects (a PaymentIntent with expanded charges) are tens of KiB; 1 MiB means a
// broken or hostile peer, and the body buffer must not grow without bound.
inline constexpr size_t kStripeResponseBytesMax = size_t{1} << 20;
// Error messages we pass on; Stripe's are one sentence.
inline constexpr size_t kStripeMessageBytesMax = 300;

enum class IntentCall {
  Charge,    // POST /v1/payment_intents
  Retrieve,  // GET /v1/payment_intents/{id}: 404 means NotFound
};

// Answers the retry loop retries: 409 (idempotency_key_in_use: the first request with this key is still
// running), 429 (rate limited) and 5xx (Stripe failed; with the same Idempotency-Key a retry is safe).
bool stripe_status_is_retryable(long http_status);

// REQUIRES: !stripe_status_is_retryable(http_status) — the retry loop is done with it.
// A PaymentIntent (or a 402 card_error) becomes a ChargeResult; see the .cpp for the table.
core::Result<core::ChargeResult> map_stripe_intent_response(IntentCall call, long http_status, std::string_view body);

// REQUIRES: !stripe_status_is_retryable(http_status).
// The refund's id; "already_refunded" for Stripe's charge_already_refunded (our refunds are intents:
// the money is back either way); Unavailable otherwise.
core::Result<std::string> map_stripe_refund_response(long http_status, std::string_view body);

}  // namespace ticketd::payments
