// The built-in test payment provider: follows Stripe's test payment methods (pm_card_visa succeeds,
// pm_card_chargeDeclined is declined, ...) and Stripe's idempotency rule (one key, one outcome), in
// process, with no network. It lets ticketd run and be tested end to end before a real gateway is
// configured. Its ledger lives in memory: a restart forgets earlier keys (the real gateway does not).
//
// Thread safety: all methods are safe to call concurrently; mu_ guards the maps.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "core/ports/payment_gateway.hpp"

namespace ticketd::payments {

class TestGateway final : public core::PaymentGateway {
 public:
  static constexpr size_t kKeysRememberedMax = 1'000'000;  // Stripe keeps keys 24 h; we keep a bounded number

  core::Result<core::ChargeResult> charge(const core::ChargeRequest& request) override;
  bool charges_without_blocking() const override { return true; }  // a map under a mutex
  core::Result<core::ChargeResult> retrieve(const std::string& payment_ref) override;
  core::Result<core::ChargeResult> cancel(const std::string& payment_ref, const std::string& idempotency_key) override;
  core::Result<std::string> refund(const std::string& payment_ref, int64_t amount,
                                   const std::string& idempotency_key) override;

  uint64_t charges_made() const { return charges_made_.load(); }

 private:
  std::mutex mu_;
  std::map<std::string, core::ChargeResult> charges_by_key_;
  std::map<std::string, core::ChargeResult> charges_by_ref_;
  std::map<std::string, std::string> refunds_by_key_;
  std::map<std::string, int64_t> refunded_by_ref_;
  std::atomic<uint64_t> charges_made_{0};
  uint64_t next_id_ = 1;
};

}  // namespace ticketd::payments
