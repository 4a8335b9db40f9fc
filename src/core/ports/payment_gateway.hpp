// Port: the payment gateway (Stripe through src/payments/stripe, or the in-process test provider).
// Thread safety: implementations are safe to call from any thread; calls may block on the network.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct ChargeRequest {
  int64_t amount = 0;  // minor units
  std::string currency;  // ISO 4217, upper case (adapters lower-case it for Stripe)
  std::string payment_method;
  // Stable for every retry of one payment, so the gateway never charges twice.
  std::string idempotency_key;
  BookingId booking_id = 0;  // sent as metadata, so webhooks and reconciliation find the booking
  HoldId hold_id = 0;
  UserId user_id = 0;
  EventId event_id = 0;
};

enum class ChargeStatus {
  Succeeded,       // money taken
  Declined,        // the card was refused; nothing taken
  RequiresAction,  // 3-D Secure or similar: the outcome arrives later (webhook / retrieve)
  Processing,      // accepted, outcome pending
};

struct ChargeResult {
  ChargeStatus status = ChargeStatus::Declined;
  std::string payment_ref;   // the gateway's id (Stripe PaymentIntent id)
  std::string decline_code;  // when Declined
  std::string message;
  std::string client_secret;  // when RequiresAction: what a client SDK needs to finish authentication
  std::string action_url;     // when RequiresAction: the bank's page the buyer is sent to, if the gateway has one
};

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  // Creates and confirms a payment. A decline is a successful call with status Declined. Errors:
  // InvalidPaymentMethod; Unavailable (the outcome is unknown: retrying with the same key is safe).
  virtual Result<ChargeResult> charge(const ChargeRequest& request) = 0;
  // True when charge() and refund() answer at once, with no I/O (an in-process gateway): a checkout may
  // then charge on whichever thread its commit completed on (app/sales.hpp, try_checkout_async).
  virtual bool charges_without_blocking() const { return false; }
  // The current state of a payment (reconciliation of missed webhooks). NotFound, Unavailable.
  virtual Result<ChargeResult> retrieve(const std::string& payment_ref) = 0;
  // Cancels a payment still waiting for the buyer (3-D Secure never completed): Declined once it is
  // canceled. Unavailable if it cannot be now (it succeeded meanwhile: retrieve() tells). Idempotent
  // per key.
  virtual Result<ChargeResult> cancel(const std::string& payment_ref, const std::string& idempotency_key) = 0;
  // Returns the refund's id. Idempotent per key. Unavailable on failure.
  virtual Result<std::string> refund(const std::string& payment_ref, int64_t amount,
                                     const std::string& idempotency_key) = 0;
};

enum class PaymentEventKind { Succeeded, Failed, Refunded, Other };

// A gateway's notification (webhook), verified.
struct PaymentEvent {
  std::string id;  // unique per event: processed at most once
  PaymentEventKind kind = PaymentEventKind::Other;
  std::string type;         // the gateway's name for it, for logs
  std::string payment_ref;  // the payment it concerns
  BookingId booking_id = 0; // from the payment's metadata; 0 if absent
  int64_t amount = 0;       // the payment's amount in minor units, and its currency (ISO 4217, upper
  std::string currency;     // case): a booking is settled only by a payment of its own total
  std::string decline_code;
  std::string message;
  int64_t amount_refunded = 0;
};

// Verifies and decodes webhook deliveries. InvalidRequest for a bad signature, a stale timestamp or
// a malformed body: nothing may change then.
class PaymentEventVerifier {
 public:
  virtual ~PaymentEventVerifier() = default;
  virtual Result<PaymentEvent> verify(std::string_view body, std::string_view signature_header, TimeMs now) = 0;
};

}  // namespace ticketd::core
