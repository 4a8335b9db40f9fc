#include "payments/stripe/stripe_response.hpp"

#include <boost/json.hpp>
#include <optional>
#include <utility>

#include "base/assert.hpp"
#include "payments/stripe/json_fields.hpp"

namespace ticketd::payments {
namespace {

namespace json = boost::json;
using core::ChargeResult;
using core::ChargeStatus;
using core::Code;
using core::make_error;

// Stripe nests a few levels (error.payment_intent.last_payment_error...); 64 is generous and stops a
// hostile body from costing deep recursion.
constexpr size_t kJsonDepthMax = 64;

std::optional<json::object> parse_object(std::string_view body) {
  if (body.size() > kStripeResponseBytesMax) return std::nullopt;
  json::parse_options options;
  options.max_depth = kJsonDepthMax;
  boost::system::error_code ec;
  json::value value = json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

using stripe_json::get_object;
using stripe_json::get_string;

std::string clip(std::string_view text) {
  return std::string(text.substr(0, kStripeMessageBytesMax));
}

// The fields of Stripe's error object we act on (https://stripe.com/docs/api/errors).
struct StripeError {
  std::string_view type, code, decline_code, message, param, payment_intent_id;
};

StripeError error_fields(const json::object& root) {
  StripeError e;
  const json::object* error = get_object(root, "error");
  if (!error) return e;
  e.type = get_string(*error, "type");
  e.code = get_string(*error, "code");
  e.decline_code = get_string(*error, "decline_code");
  e.message = get_string(*error, "message");
  e.param = get_string(*error, "param");
  if (const json::object* pi = get_object(*error, "payment_intent")) e.payment_intent_id = get_string(*pi, "id");
  return e;
}

// Names Stripe's error without echoing anything that could be secret (see the header on 401/403).
core::Error rejected(long http_status, std::string_view body) {
  std::string message = "Stripe rejected the request (HTTP " + std::to_string(http_status);
  if (http_status == 401 || http_status == 403) return make_error(Code::Unavailable, message + ": check the API key)");
  std::optional<json::object> root = parse_object(body);
  if (!root) return make_error(Code::Unavailable, message + ", unreadable body)");
  const StripeError e = error_fields(*root);
  message += ", " + clip(e.type.empty() ? "unknown_error" : e.type);
  if (!e.code.empty()) message += "/" + clip(e.code);
  if (!e.message.empty()) message += ": " + clip(e.message);
  return make_error(Code::Unavailable, message + ")");
}

ChargeResult declined(std::string_view ref, std::string_view code, std::string_view message) {
  ChargeResult result;
  result.status = ChargeStatus::Declined;
  result.payment_ref = std::string(ref);
  result.decline_code = clip(code);
  result.message = clip(message);
  return result;
}

// Where the bank's challenge is, when Stripe names a page to send the buyer to (an intent confirmed
// with a return_url). The buyer's browser is sent there, so only a plain http(s) address of a sane
// length passes; anything else is as if Stripe had named none.
std::string redirect_url(const json::object& intent) {
  const json::object* action = get_object(intent, "next_action");
  if (!action || get_string(*action, "type") != "redirect_to_url") return {};
  const json::object* redirect = get_object(*action, "redirect_to_url");
  if (!redirect) return {};
  const std::string_view url = get_string(*redirect, "url");
  constexpr size_t kUrlBytesMax = 2048;
  if (url.size() > kUrlBytesMax || !(url.starts_with("https://") || url.starts_with("http://"))) return {};
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<' || c == '>' || c == 0x7f) return {};
  return std::string(url);
}

// Stripe's PaymentIntent statuses (https://stripe.com/docs/payments/paymentintents/lifecycle). We always
// confirm with automatic capture, so requires_confirmation / requires_capture mean a misconfigured
// account: they are errors, loudly, rather than a guess.
core::Result<ChargeResult> map_intent(const json::object& intent) {
  const std::string_view id = get_string(intent, "id");
  const std::string_view status = get_string(intent, "status");
  if (id.empty() || status.empty()) return make_error(Code::Unavailable, "Stripe sent a malformed PaymentIntent");
  ChargeResult result;
  result.payment_ref = std::string(id);
  if (status == "succeeded") {
    result.status = ChargeStatus::Succeeded;
  } else if (status == "requires_action") {
    result.status = ChargeStatus::RequiresAction;
    result.client_secret = std::string(get_string(intent, "client_secret"));
    result.action_url = redirect_url(intent);
  } else if (status == "processing") {
    result.status = ChargeStatus::Processing;
  } else if (status == "requires_payment_method") {
    // The last attempt failed (a decline, or failed 3-D Secure); the intent waits for a new method.
    const json::object* last_error = get_object(intent, "last_payment_error");
    if (!last_error) return declined(id, "requires_payment_method", "the payment needs a new payment method");
    const std::string_view code = get_string(*last_error, "decline_code");
    return declined(id, code.empty() ? get_string(*last_error, "code") : code, get_string(*last_error, "message"));
  } else if (status == "canceled") {
    const std::string_view reason = get_string(intent, "cancellation_reason");
    return declined(id, "canceled", reason.empty() ? "the payment was canceled" : reason);
  } else {
    return make_error(Code::Unavailable, "unexpected PaymentIntent status '" + clip(status) + "' for " + clip(id));
  }
  return result;
}

}  // namespace

bool stripe_status_is_retryable(long http_status) {
  return http_status == 409 || http_status == 429 || http_status >= 500;
}

core::Result<ChargeResult> map_stripe_intent_response(IntentCall call, long http_status, std::string_view body) {
  TICKETD_ASSERT(!stripe_status_is_retryable(http_status));
  TICKETD_ASSERT(http_status >= 100);
  if (http_status >= 200 && http_status < 300) {
    std::optional<json::object> root = parse_object(body);
    if (!root) return make_error(Code::Unavailable, "payment outcome unknown: Stripe's answer is not a JSON object");
    return map_intent(*root);
  }
  if (call == IntentCall::Retrieve && http_status == 404) return make_error(Code::NotFound, "no such payment");
  std::optional<json::object> root = parse_object(body);
  if (!root) return rejected(http_status, body);
  const StripeError e = error_fields(*root);
  if (http_status == 402 && e.type == "card_error")
    return declined(e.payment_intent_id, e.decline_code.empty() ? e.code : e.decline_code, e.message);
  if (http_status == 400 && e.code == "resource_missing" && e.param == "payment_method")
    return make_error(Code::InvalidPaymentMethod, e.message.empty() ? "no such payment method" : clip(e.message));
  // Stripe refused the amount or currency itself (amount_too_large, an unsupported currency): no intent
  // was made, and the same request is refused however often it is sent.
  if (call == IntentCall::Charge && http_status == 400 && e.type == "invalid_request_error" &&
      (e.param == "amount" || e.param == "currency"))
    return make_error(Code::InvalidRequest, "Stripe refused the " + std::string(e.param) + ": " +
                                                clip(e.message.empty() ? e.code : e.message));
  return rejected(http_status, body);
}

core::Result<std::string> map_stripe_refund_response(long http_status, std::string_view body) {
  TICKETD_ASSERT(!stripe_status_is_retryable(http_status));
  TICKETD_ASSERT(http_status >= 100);
  std::optional<json::object> root = parse_object(body);
  if (http_status >= 200 && http_status < 300) {
    const std::string_view id = root ? get_string(*root, "id") : std::string_view();
    if (id.empty()) return make_error(Code::Unavailable, "refund outcome unknown: Stripe sent a malformed Refund");
    return std::string(id);
  }
  if (root && error_fields(*root).code == "charge_already_refunded") return std::string("already_refunded");
  return rejected(http_status, body);
}

}  // namespace ticketd::payments
