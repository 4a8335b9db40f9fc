// How Stripe's answers map onto the payment port, without a server: every PaymentIntent status and error
// shape, including those the fake server never produces (canceled, charge_already_refunded, 401).
#include "payments/stripe/stripe_response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using ticketd::core::ChargeStatus;
using ticketd::core::Code;
using ticketd::payments::IntentCall;
using ticketd::payments::kStripeMessageBytesMax;
using ticketd::payments::kStripeResponseBytesMax;
using ticketd::payments::map_stripe_intent_response;
using ticketd::payments::map_stripe_refund_response;
using ticketd::payments::stripe_status_is_retryable;

auto charge_answer(long status, const std::string& body) {
  return map_stripe_intent_response(IntentCall::Charge, status, body);
}

TEST(StripeRetryable, RetriesConflictsRateLimitsAndServerErrorsOnly) {
  for (long status : {409L, 429L, 500L, 502L, 503L, 504L}) EXPECT_TRUE(stripe_status_is_retryable(status)) << status;
  for (long status : {200L, 400L, 401L, 402L, 403L, 404L, 499L})
    EXPECT_FALSE(stripe_status_is_retryable(status)) << status;
}

TEST(StripeIntentMapping, SucceededIsSucceeded) {
  auto r = charge_answer(200, R"({"id":"pi_1","object":"payment_intent","status":"succeeded","amount":100})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Succeeded);
  EXPECT_EQ(r->payment_ref, "pi_1");
  EXPECT_EQ(r->client_secret, "");
}

TEST(StripeIntentMapping, RequiresActionCarriesTheClientSecret) {
  auto r = charge_answer(200, R"({"id":"pi_2","status":"requires_action","client_secret":"pi_2_secret_abc"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ChargeStatus::RequiresAction);
  EXPECT_EQ(r->client_secret, "pi_2_secret_abc");
}

TEST(StripeIntentMapping, RequiresActionNamesTheBanksPageWhenStripeDoes) {
  auto r = charge_answer(200, R"({"id":"pi_2","status":"requires_action","next_action":{"type":"redirect_to_url",
      "redirect_to_url":{"url":"https://hooks.stripe.com/3d_secure_2/hosted?x=1","return_url":"https://t.example/#/bookings/7"}}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action_url, "https://hooks.stripe.com/3d_secure_2/hosted?x=1");
  auto sdk = charge_answer(200, R"({"id":"pi_2","status":"requires_action","next_action":{"type":"use_stripe_sdk"}})");
  ASSERT_TRUE(sdk.ok());
  EXPECT_EQ(sdk->action_url, "");
}

TEST(StripeIntentMapping, APageAddressABrowserShouldNotFollowIsIgnored) {
  for (const char* url : {"javascript:alert(1)", "https://a.example/x y", "data:text/html,x", ""}) {
    const std::string body = std::string(R"({"id":"pi_2","status":"requires_action","next_action":{"type":)") +
                             R"("redirect_to_url","redirect_to_url":{"url":")" + url + R"("}}})";
    auto r = charge_answer(200, body);
    ASSERT_TRUE(r.ok()) << url;
    EXPECT_EQ(r->status, ChargeStatus::RequiresAction);
    EXPECT_EQ(r->action_url, "") << url;
  }
}

TEST(StripeIntentMapping, ProcessingIsProcessing) {
  auto r = charge_answer(200, R"({"id":"pi_3","status":"processing"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ChargeStatus::Processing);
}

TEST(StripeIntentMapping, RequiresPaymentMethodAfterAFailureIsDeclinedWithItsCode) {
  auto r = map_stripe_intent_response(IntentCall::Retrieve, 200, R"({"id":"pi_4","status":"requires_payment_method",
    "last_payment_error":{"code":"card_declined","decline_code":"stolen_card","message":"Your card was declined."}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ChargeStatus::Declined);
  EXPECT_EQ(r->payment_ref, "pi_4");
  EXPECT_EQ(r->decline_code, "stolen_card");
  EXPECT_EQ(r->message, "Your card was declined.");
}

TEST(StripeIntentMapping, RequiresPaymentMethodFallsBackToTheErrorCode) {
  auto r = map_stripe_intent_response(IntentCall::Retrieve, 200, R"({"id":"pi_5","status":"requires_payment_method",
    "last_payment_error":{"code":"payment_intent_authentication_failure","message":"3DS failed"}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decline_code, "payment_intent_authentication_failure");
}

TEST(StripeIntentMapping, CanceledIsDeclinedCanceled) {
  auto r = map_stripe_intent_response(IntentCall::Retrieve, 200,
                                      R"({"id":"pi_6","status":"canceled","cancellation_reason":"abandoned"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, ChargeStatus::Declined);
  EXPECT_EQ(r->decline_code, "canceled");
  EXPECT_EQ(r->message, "abandoned");
}

TEST(StripeIntentMapping, UnexpectedStatusesAreErrorsNotGuesses) {
  for (const char* status : {"requires_capture", "requires_confirmation", "brand_new"}) {
    auto r = charge_answer(200, std::string(R"({"id":"pi_7","status":")") + status + "\"}");
    ASSERT_FALSE(r.ok()) << status;
    EXPECT_EQ(r.error().code, Code::Unavailable);
    EXPECT_NE(r.error().message.find(status), std::string::npos);
  }
}

TEST(StripeIntentMapping, CardErrorIsDeclinedWithDeclineCodeAndIntent) {
  auto r = charge_answer(402, R"({"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline",
    "message":"Your card was declined.","payment_intent":{"id":"pi_8","status":"requires_payment_method"}}})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Declined);
  EXPECT_EQ(r->decline_code, "generic_decline");
  EXPECT_EQ(r->message, "Your card was declined.");
  EXPECT_EQ(r->payment_ref, "pi_8");
}

TEST(StripeIntentMapping, CardErrorWithoutDeclineCodeUsesTheErrorCode) {
  auto r = charge_answer(402, R"({"error":{"type":"card_error","code":"expired_card","message":"Expired."}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->decline_code, "expired_card");
  EXPECT_EQ(r->payment_ref, "");
}

TEST(StripeIntentMapping, MissingPaymentMethodIsInvalidPaymentMethod) {
  auto r = charge_answer(400, R"({"error":{"type":"invalid_request_error","code":"resource_missing",
    "param":"payment_method","message":"No such PaymentMethod: 'pm_nope'"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidPaymentMethod);
}

TEST(StripeIntentMapping, AnAmountOrCurrencyStripeRefusesIsAnInvalidRequestNotAnUnknownOutcome) {
  auto too_large = charge_answer(400, R"({"error":{"type":"invalid_request_error","code":"amount_too_large",
    "param":"amount","message":"Amount must be no more than $999,999.99"}})");
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().code, Code::InvalidRequest);
  auto currency = charge_answer(400, R"({"error":{"type":"invalid_request_error","param":"currency",
    "message":"Invalid currency: xyz"}})");
  ASSERT_FALSE(currency.ok());
  EXPECT_EQ(currency.error().code, Code::InvalidRequest);
  // Only for a charge: a retrieve never sends an amount.
  auto retrieved = map_stripe_intent_response(IntentCall::Retrieve, 400,
      R"({"error":{"type":"invalid_request_error","param":"amount"}})");
  ASSERT_FALSE(retrieved.ok());
  EXPECT_EQ(retrieved.error().code, Code::Unavailable);
}

TEST(StripeIntentMapping, OtherClientErrorsAreUnavailableAndNameStripesError) {
  auto r = charge_answer(
      400,
      R"({"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
  EXPECT_NE(r.error().message.find("idempotency_error"), std::string::npos);
  EXPECT_NE(r.error().message.find("same parameters"), std::string::npos);
}

TEST(StripeIntentMapping, NeverEchoesStripesAnswerToABadKey) {
  for (long status : {401L, 403L}) {
    auto r = charge_answer(status, R"({"error":{"type":"invalid_request_error",
      "message":"Invalid API Key provided: sk_live_****************1234"}})");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Code::Unavailable);
    EXPECT_EQ(r.error().message.find("sk_live"), std::string::npos) << r.error().message;
  }
}

TEST(StripeIntentMapping, NotFoundOnlyForRetrieve) {
  const std::string body = R"({"error":{"type":"invalid_request_error","code":"resource_missing","param":"intent"}})";
  auto retrieved = map_stripe_intent_response(IntentCall::Retrieve, 404, body);
  ASSERT_FALSE(retrieved.ok());
  EXPECT_EQ(retrieved.error().code, Code::NotFound);
  auto charged = charge_answer(404, body);
  ASSERT_FALSE(charged.ok());
  EXPECT_EQ(charged.error().code, Code::Unavailable);
}

TEST(StripeIntentMapping, UnreadableAnswersAreUnavailable) {
  for (const char* body : {"", "<html>", "[]", R"({"status":"succeeded"})", R"({"id":"pi_1"})"}) {
    auto r = charge_answer(200, body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, Code::Unavailable);
  }
  auto r = charge_answer(402, "<html>bad gateway</html>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
}

TEST(StripeIntentMapping, RefusesAnswersOverOneMiB) {
  const std::string head = R"({"id":"pi_big","status":"succeeded","pad":")";
  std::string body = head + std::string(kStripeResponseBytesMax - head.size() - 2, 'p') + "\"}";
  ASSERT_EQ(body.size(), kStripeResponseBytesMax);
  EXPECT_TRUE(charge_answer(200, body).ok());
  body.insert(head.size(), "p");
  EXPECT_FALSE(charge_answer(200, body).ok());
}

TEST(StripeIntentMapping, ClipsCopiedMessages) {
  const std::string long_message(10'000, 'm');
  auto r =
      charge_answer(402, R"({"error":{"type":"card_error","code":"card_declined","message":")" + long_message + "\"}}");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message.size(), kStripeMessageBytesMax);
}

TEST(StripeRefundMapping, ReturnsTheRefundId) {
  auto r = map_stripe_refund_response(200, R"({"id":"re_1","object":"refund","status":"succeeded","amount":100})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "re_1");
}

TEST(StripeRefundMapping, AlreadyRefundedCountsAsDone) {
  auto r = map_stripe_refund_response(400, R"({"error":{"type":"invalid_request_error","code":"charge_already_refunded",
    "message":"Charge ch_1 has already been refunded."}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "already_refunded");
}

TEST(StripeRefundMapping, OtherFailuresAreUnavailable) {
  for (const auto& [status, body] : std::initializer_list<std::pair<long, const char*>>{
           {400, R"({"error":{"type":"invalid_request_error","code":"amount_too_large"}})"},
           {404, R"({"error":{"type":"invalid_request_error","code":"resource_missing"}})"},
           {200, R"({"object":"refund"})"},
           {200, "nonsense"}}) {
    auto r = map_stripe_refund_response(status, body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, Code::Unavailable);
  }
}

}  // namespace
