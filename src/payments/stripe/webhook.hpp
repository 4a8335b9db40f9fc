// Stripe webhooks: signature verification and event parsing. Pure functions, no I/O, no clock (the
// caller passes `now`), so every boundary is testable.
//
// Verification follows https://stripe.com/docs/webhooks#verify-manually:
//   1. Stripe-Signature is "t=<unix seconds>,v1=<hex>[,v1=<hex>...]", items in any order; unknown
//      schemes (v0, future ones) are ignored, as are v1 values that are not 64 hex digits.
//   2. expected = HMAC-SHA256(secret, "<t>.<raw body>"), the secret ("whsec_...") used as-is as the key.
//   3. It is compared in constant time against every v1, for every secret (several during a rotation):
//      any match passes. Every comparison runs, so timing tells nothing about which one matched.
//   4. Then |now - t| <= tolerance, both ways (an old replay, or a clock far ahead).
// Only then is the body parsed. Errors are InvalidRequest; the messages are safe to log.
//
// Thread safety: stateless. Call it with the raw body bytes exactly as received: re-serialised JSON
// does not verify.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::payments {

// Stripe's header is ~150 bytes with one signature; 4 KiB leaves room for rotations and is a hard stop.
inline constexpr size_t kWebhookHeaderBytesMax = 4096;
// Stripe sends one v1 per active secret (two during a rotation); eight bounds the HMAC comparisons.
inline constexpr size_t kWebhookSignaturesMax = 8;
// Stripe's events are a few KiB; the HTTP layer should refuse larger bodies (413) before this.
inline constexpr size_t kWebhookBodyBytesMax = size_t{1} << 20;
// Stripe's libraries default to five minutes.
inline constexpr std::chrono::seconds kWebhookToleranceDefault{300};

struct StripeEvent {
  std::string id;              // evt_...
  std::string type;            // "payment_intent.succeeded", "charge.refunded", ...
  std::string object_id;       // pi_... or ch_...
  std::string payment_intent;  // the intent id (for charge.* events: data.object.payment_intent)
  std::string status;
  int64_t amount = 0;
  std::string currency;  // upper case (Stripe sends "usd"); empty if absent
  int64_t amount_refunded = 0;
  std::string decline_code;        // intents: last_payment_error.decline_code (else .code); charges: failure_code
  std::string message;             // intents: last_payment_error.message; charges: failure_message
  core::BookingId booking_id = 0;  // metadata.booking_id, 0 if absent (or not a positive integer)
};

// REQUIRES: !secrets.empty(), no secret empty, tolerance >= 0.
core::Result<StripeEvent> verify_webhook(std::string_view body, std::string_view signature_header,
                                         const std::vector<std::string>& secrets, TimeMs now,
                                         std::chrono::seconds tolerance = kWebhookToleranceDefault);

// HMAC-SHA256(secret, "<timestamp_s>.<body>") as lower-case hex: what Stripe puts in v1. For tests and
// tools that sign events (the fake Stripe server, load generators).
std::string webhook_signature_hex(std::string_view secret, int64_t timestamp_s, std::string_view body);

}  // namespace ticketd::payments
