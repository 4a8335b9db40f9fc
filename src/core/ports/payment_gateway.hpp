// Port: the payment gateway (the built-in test provider now, Stripe later).
// Thread safety: implementations are safe to call from any thread; calls may block on the network.
#pragma once

#include <string>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct ChargeRequest {
  int64_t amount = 0;  // minor units
  std::string currency;
  std::string payment_method;
  // Stable for every retry of one checkout, so the gateway never charges twice.
  std::string idempotency_key;
  HoldId hold_id = 0;
  UserId user_id = 0;
  EventId event_id = 0;
};

struct ChargeResult {
  bool succeeded = false;
  std::string payment_ref;   // the gateway's id of the charge (or failed attempt)
  std::string decline_code;  // when !succeeded
  std::string message;
};

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  // A decline is a successful call with succeeded = false. Errors: InvalidPaymentMethod,
  // Unavailable (nothing is known to have been charged; retrying with the same key is safe).
  virtual Result<ChargeResult> charge(const ChargeRequest& request) = 0;
  // Returns the refund's id. Idempotent per key.
  virtual Result<std::string> refund(const std::string& payment_ref, int64_t amount,
                                     const std::string& idempotency_key) = 0;
};

}  // namespace ticketd::core
