#include "payments/test/test_gateway.hpp"

#include <array>
#include <string_view>

namespace ticketd::payments {
namespace {

struct TestMethod {
  std::string_view id;
  std::string_view decline_code;  // empty = succeeds
  std::string_view message;
};

// After Stripe's documented test payment methods.
constexpr std::array<TestMethod, 6> kMethods{{
    {"pm_card_visa", "", ""},
    {"pm_card_mastercard", "", ""},
    {"pm_card_amex", "", ""},
    {"pm_card_chargeDeclined", "generic_decline", "Your card was declined."},
    {"pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."},
    {"pm_card_chargeDeclinedExpiredCard", "expired_card", "Your card has expired."},
}};

}  // namespace

core::Result<core::ChargeResult> TestGateway::charge(const core::ChargeRequest& request) {
  const TestMethod* method = nullptr;
  for (const auto& m : kMethods)
    if (m.id == request.payment_method) method = &m;
  if (!method) return core::make_error(core::Code::InvalidPaymentMethod, "unknown payment_method");
  if (request.amount <= 0 || request.idempotency_key.empty())
    return core::make_error(core::Code::InvalidRequest, "a charge needs a positive amount and an idempotency key");
  std::lock_guard lock(mu_);
  if (auto it = charges_by_key_.find(request.idempotency_key); it != charges_by_key_.end()) return it->second;
  if (charges_by_key_.size() >= kKeysRememberedMax) charges_by_key_.clear();
  const bool ok = method->decline_code.empty();
  core::ChargeResult result{ok ? core::ChargeStatus::Succeeded : core::ChargeStatus::Declined,
                            "pi_test_" + std::to_string(next_id_++), std::string(method->decline_code),
                            std::string(method->message), ""};
  if (ok) ++charges_made_;
  charges_by_key_[request.idempotency_key] = result;
  if (charges_by_ref_.size() >= kKeysRememberedMax) charges_by_ref_.clear();
  charges_by_ref_[result.payment_ref] = result;
  return result;
}

core::Result<core::ChargeResult> TestGateway::retrieve(const std::string& payment_ref) {
  std::lock_guard lock(mu_);
  auto it = charges_by_ref_.find(payment_ref);
  if (it == charges_by_ref_.end()) return core::make_error(core::Code::NotFound, "no such payment");
  return it->second;
}

// The test provider settles every payment at once, so none is ever waiting to be canceled: a
// succeeded one stays succeeded (Unavailable, as Stripe's unexpected state), a declined one is.
core::Result<core::ChargeResult> TestGateway::cancel(const std::string& payment_ref, const std::string&) {
  std::lock_guard lock(mu_);
  auto it = charges_by_ref_.find(payment_ref);
  if (it == charges_by_ref_.end()) return core::make_error(core::Code::NotFound, "no such payment");
  if (it->second.status == core::ChargeStatus::Succeeded)
    return core::make_error(core::Code::Unavailable, "a succeeded payment cannot be canceled");
  return it->second;
}

core::Result<std::string> TestGateway::refund(const std::string& payment_ref, int64_t amount,
                                              const std::string& idempotency_key) {
  std::lock_guard lock(mu_);
  if (auto it = refunds_by_key_.find(idempotency_key); it != refunds_by_key_.end()) return it->second;
  if (refunds_by_key_.size() >= kKeysRememberedMax) refunds_by_key_.clear();
  refunded_by_ref_[payment_ref] += amount;
  std::string id = "re_test_" + std::to_string(next_id_++);
  refunds_by_key_[idempotency_key] = id;
  return id;
}

}  // namespace ticketd::payments
