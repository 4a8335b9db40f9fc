// The Stripe payment gateway: PaymentIntents and Refunds over Stripe's REST API, with libcurl.
//
// Contract:
//   1. Every POST carries the caller's Idempotency-Key, and every retry of it re-sends the identical
//      body with the same key, so Stripe runs it at most once and replays its first answer. That is what
//      makes retrying a charge whose reply was lost safe.
//   2. Transport errors (refused, timed out, closed without an answer...), 409, 429 and 5xx are retried
//      with exponential backoff and full jitter, at most attempts_max times in all; then the call fails
//      with Unavailable ("payment outcome unknown"), and retrying later with the same key is still safe.
//      Failures no retry can fix (malformed URL, failed certificate check) fail at once, also Unavailable.
//      One call therefore blocks for at most
//        attempts_max * (connect_timeout + request_timeout) + (attempts_max - 1) * backoff_max.
//   3. Answers over kStripeResponseBytesMax (stripe_response.hpp) are abandoned: Unavailable, not
//      retried (a replay would be as large).
//   4. The secret key goes into the Authorization header and nowhere else: it is never logged, never
//      in an error message (curl's verbose mode stays off).
//
// Thread safety: all methods may be called concurrently; each call uses its own CURL easy handle, and the
// only shared state is the const config and atomic counters. The first constructor call runs
// curl_global_init once (a function-local static: C++ runs it exactly once, even under concurrent
// construction). curl_global_init is not thread-safe against other libraries initialising OpenSSL at the
// same moment, so construct the first StripeGateway during start-up (main), before threads start.
// Calls block on the network: never call them while holding a lock (STYLE rule 10).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/ports/payment_gateway.hpp"
#include "core/result.hpp"

namespace ticketd::payments {

struct StripeConfig {
  // No trailing slash. http:// only for fakes (tools/fake-stripe).
  std::string api_base = "https://api.stripe.com";
  // sk_live_... / sk_test_...: sent in the Authorization header, never logged.
  std::string secret_key;
  // Per attempt.
  std::chrono::milliseconds connect_timeout{2000}, request_timeout{10000};
  // In all, the first attempt included.
  int attempts_max = 4;
  // Full jitter: attempt n (n >= 2) waits uniform(0, min(backoff_max, backoff_first * 2^(n-2))).
  std::chrono::milliseconds backoff_first{100}, backoff_max{2000};
};

// Bounds on the config, each with its reason.
// More attempts than this only delays the "outcome unknown" answer the caller must handle anyway.
inline constexpr int kStripeAttemptsMaxLimit = 10;
// A single attempt that takes longer than this is better abandoned and retried.
inline constexpr std::chrono::milliseconds kStripeTimeoutLimit{60'000};
// Stripe's own limit on Idempotency-Key; longer keys are hashed (see StripeGateway).
inline constexpr size_t kStripeIdempotencyKeyBytesMax = 255;
// Stripe's object ids are ~30 bytes; anything longer is not one of theirs.
inline constexpr size_t kStripeIdBytesMax = 255;
// The Stripe API version we were written against: pinned, so an account upgrade cannot change answers.
inline constexpr const char* kStripeApiVersion = "2024-06-20";

// InvalidRequest naming the field when a config is out of bounds. wire_payments (src/wiring) validates before constructing.
core::Status validate_stripe_config(const StripeConfig& config);

struct StripeCounters {
  uint64_t attempts = 0;             // HTTP requests sent (first tries and retries)
  uint64_t retries = 0;              // attempts after the first
  uint64_t exhausted = 0;            // calls that ran out of attempts: outcome unknown
  uint64_t responses_too_large = 0;  // answers abandoned at kStripeResponseBytesMax
};

class StripeGateway final : public core::PaymentGateway {
 public:
  // REQUIRES: validate_stripe_config(config).ok().
  explicit StripeGateway(StripeConfig config);

  // POST /v1/payment_intents with confirm=true. REQUIRES: amount > 0, a three-letter currency and a
  // non-empty idempotency_key. An empty or over-long payment_method is InvalidPaymentMethod without a
  // request. Keys that Stripe would refuse (over 255 bytes, or not printable ASCII) are sent as
  // "sha256-<hex of the key>": deterministic, so idempotency still holds.
  core::Result<core::ChargeResult> charge(const core::ChargeRequest& request) override;
  // GET /v1/payment_intents/{ref}. A ref that cannot be a Stripe id is NotFound without a request.
  core::Result<core::ChargeResult> retrieve(const std::string& payment_ref) override;
  core::Result<core::ChargeResult> cancel(const std::string& payment_ref, const std::string& idempotency_key) override;
  // POST /v1/refunds. REQUIRES: amount > 0 and a non-empty idempotency_key (hashed as for charge).
  core::Result<std::string> refund(const std::string& payment_ref, int64_t amount,
                                   const std::string& idempotency_key) override;

  StripeCounters counters() const;

  // Where the bank's challenge (3-D Secure) sends the buyer back to: each charge is confirmed with
  // return_url = prefix + its booking id, so Stripe names a page for the buyer (ChargeResult::action_url).
  // Known only once the server listens (its port may be chosen then); until set, no return_url is sent.
  void set_return_url_prefix(std::string prefix);

 private:
  struct Transfer;  // one CURL easy handle: one per call, reused by its retries
  struct HttpCall;
  struct HttpReply;
  core::Result<HttpReply> send(Transfer& transfer, const HttpCall& call);
  core::Result<core::ChargeResult> charge_unguarded(const core::ChargeRequest& request);
  core::Result<core::ChargeResult> retrieve_unguarded(const std::string& payment_ref);
  core::Result<core::ChargeResult> cancel_unguarded(const std::string& payment_ref, const std::string& idempotency_key);
  core::Result<std::string> refund_unguarded(const std::string& payment_ref, int64_t amount,
                                             const std::string& idempotency_key);
  std::chrono::milliseconds backoff_before(int attempt) const;

  const StripeConfig config_;
  mutable std::mutex return_url_mu_;
  std::string return_url_prefix_;  // guarded by return_url_mu_
  std::atomic<uint64_t> attempts_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> exhausted_{0};
  std::atomic<uint64_t> responses_too_large_{0};
};

}  // namespace ticketd::payments
