// Stripe webhook verification and parsing: pure functions, no I/O. Signatures are made with
// webhook_signature_hex, which is itself pinned to an independent HMAC-SHA256 (Python's hmac module).
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "payments/stripe/webhook.hpp"

namespace {

using namespace std::chrono_literals;
using ticketd::from_unix_ms;
using ticketd::TimeMs;
using ticketd::core::Code;
using ticketd::payments::kWebhookBodyBytesMax;
using ticketd::payments::kWebhookHeaderBytesMax;
using ticketd::payments::kWebhookSignaturesMax;
using ticketd::payments::StripeEvent;
using ticketd::payments::verify_webhook;
using ticketd::payments::webhook_signature_hex;

constexpr int64_t kT = 1'700'000'000;  // the header's timestamp, seconds
const std::string kSecret = "whsec_test_secret";
const std::string kOtherSecret = "whsec_other_secret";
const std::string kBody =
    R"({"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent","status":"succeeded","amount":5000,"metadata":{"booking_id":"42"}}}})";

TimeMs at_s(int64_t unix_s) {
  return from_unix_ms(unix_s * 1000);
}

std::string header_for(const std::string& body, const std::string& secret = kSecret, int64_t t = kT) {
  return "t=" + std::to_string(t) + ",v1=" + webhook_signature_hex(secret, t, body);
}

ticketd::core::Result<StripeEvent> verify(const std::string& body, const std::string& header, TimeMs now = at_s(kT),
                                          const std::vector<std::string>& secrets = {kSecret}) {
  return verify_webhook(body, header, secrets, now);
}

void expect_rejected(const ticketd::core::Result<StripeEvent>& result, const std::string& message) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Code::InvalidRequest);
  EXPECT_EQ(result.error().message, message);
}

// ---- Signatures ------------------------------------------------------------------------------------

TEST(WebhookSignature, MatchesAnIndependentHmacSha256) {
  // python3: hmac.new(b'whsec_test_secret', b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
  EXPECT_EQ(webhook_signature_hex(kSecret, kT, R"({"id":"evt_1"})"),
            "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a");
}

TEST(VerifyWebhook, AcceptsAValidSignature) {
  auto event = verify(kBody, header_for(kBody));
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->id, "evt_1");
}

TEST(VerifyWebhook, AcceptsUpperCaseHexAndSpacesAroundItems) {
  std::string sig = webhook_signature_hex(kSecret, kT, kBody);
  for (char& c : sig) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify(kBody, "t=" + std::to_string(kT) + ", v1=" + sig).ok());
}

TEST(VerifyWebhook, RejectsATamperedBody) {
  std::string tampered = kBody;
  tampered.replace(tampered.find("5000"), 4, "9000");
  expect_rejected(verify(tampered, header_for(kBody)), "webhook signature mismatch");
}

TEST(VerifyWebhook, RejectsAWrongSecret) {
  expect_rejected(verify(kBody, header_for(kBody, kOtherSecret)), "webhook signature mismatch");
}

TEST(VerifyWebhook, RejectsASignatureOverAnotherTimestamp) {
  // The v1 of t=kT, presented with t=kT+1: the timestamp is signed too.
  const std::string header = "t=" + std::to_string(kT + 1) + ",v1=" + webhook_signature_hex(kSecret, kT, kBody);
  expect_rejected(verify(kBody, header, at_s(kT + 1)), "webhook signature mismatch");
}

TEST(VerifyWebhook, AcceptsTimestampsUpToToleranceInThePast) {
  EXPECT_TRUE(verify(kBody, header_for(kBody), at_s(kT + 299)).ok());
  EXPECT_TRUE(verify(kBody, header_for(kBody), at_s(kT + 300)).ok());
  EXPECT_TRUE(verify(kBody, header_for(kBody), from_unix_ms(kT * 1000 + 300'000)).ok());
}

TEST(VerifyWebhook, RejectsTimestampsPastTolerance) {
  expect_rejected(verify(kBody, header_for(kBody), from_unix_ms(kT * 1000 + 300'001)),
                  "webhook timestamp outside tolerance");
  expect_rejected(verify(kBody, header_for(kBody), at_s(kT + 301)), "webhook timestamp outside tolerance");
  expect_rejected(verify(kBody, header_for(kBody), at_s(kT + 86'400)), "webhook timestamp outside tolerance");
}

TEST(VerifyWebhook, AppliesToleranceToFutureTimestampsToo) {
  EXPECT_TRUE(verify(kBody, header_for(kBody), at_s(kT - 300)).ok());
  expect_rejected(verify(kBody, header_for(kBody), at_s(kT - 301)), "webhook timestamp outside tolerance");
}

TEST(VerifyWebhook, HonoursACustomTolerance) {
  EXPECT_TRUE(verify_webhook(kBody, header_for(kBody), {kSecret}, at_s(kT + 10), 10s).ok());
  EXPECT_FALSE(verify_webhook(kBody, header_for(kBody), {kSecret}, at_s(kT + 11), 10s).ok());
}

TEST(VerifyWebhook, RejectsAHeaderWithoutTimestamp) {
  expect_rejected(verify(kBody, "v1=" + webhook_signature_hex(kSecret, kT, kBody)),
                  "malformed Stripe-Signature header");
}

TEST(VerifyWebhook, RejectsAHeaderWithoutV1) {
  const std::string t = "t=" + std::to_string(kT);
  expect_rejected(verify(kBody, t), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, t + ",v0=" + webhook_signature_hex(kSecret, kT, kBody)),
                  "malformed Stripe-Signature header");
}

TEST(VerifyWebhook, RejectsNonHexAndWrongLengthSignatures) {
  const std::string t = "t=" + std::to_string(kT);
  const std::string good = webhook_signature_hex(kSecret, kT, kBody);
  expect_rejected(verify(kBody, t + ",v1=" + std::string(64, 'z')), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, t + ",v1=" + good.substr(0, 63)), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, t + ",v1=" + good + "0"), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, t + ",v1="), "malformed Stripe-Signature header");
}

TEST(VerifyWebhook, RejectsEmptyAndGarbledHeaders) {
  const std::string v1 = ",v1=" + webhook_signature_hex(kSecret, kT, kBody);
  expect_rejected(verify(kBody, ""), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, ","), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, "garbage"), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, "t=" + std::to_string(kT) + ",," + v1.substr(1)), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, "t=abc" + v1), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, "t=-5" + v1), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, "t=" + std::string(16, '9') + v1), "malformed Stripe-Signature header");
  expect_rejected(verify(kBody, "t=" + std::to_string(kT) + ",t=" + std::to_string(kT) + v1),
                  "malformed Stripe-Signature header");
}

TEST(VerifyWebhook, AcceptsItemsInAnyOrderAndIgnoresUnknownSchemes) {
  const std::string v1 = "v1=" + webhook_signature_hex(kSecret, kT, kBody);
  EXPECT_TRUE(verify(kBody, v1 + ",v0=deadbeef,scheme9=x,t=" + std::to_string(kT)).ok());
}

TEST(VerifyWebhook, AcceptsWhenTheSecondOfSeveralV1Matches) {
  const std::string header = "t=" + std::to_string(kT) + ",v1=" + webhook_signature_hex(kOtherSecret, kT, kBody) +
                             ",v1=" + webhook_signature_hex(kSecret, kT, kBody);
  EXPECT_TRUE(verify(kBody, header).ok());
}

TEST(VerifyWebhook, SkipsAnUnreadableV1WhenAnotherMatches) {
  const std::string header = "t=" + std::to_string(kT) + ",v1=nothex,v1=" + webhook_signature_hex(kSecret, kT, kBody);
  EXPECT_TRUE(verify(kBody, header).ok());
}

TEST(VerifyWebhook, AcceptsEightV1ButNotNine) {
  std::string header = "t=" + std::to_string(kT);
  for (size_t i = 0; i + 1 < kWebhookSignaturesMax; ++i) header += ",v1=" + std::string(64, 'a');
  header += ",v1=" + webhook_signature_hex(kSecret, kT, kBody);
  EXPECT_TRUE(verify(kBody, header).ok());
  expect_rejected(verify(kBody, header + ",v1=" + std::string(64, 'b')), "malformed Stripe-Signature header");
}

TEST(VerifyWebhook, RejectsAHeaderOverFourKiB) {
  std::string header = header_for(kBody) + ",x=";
  const std::string padded = header + std::string(kWebhookHeaderBytesMax - header.size(), 'p');
  ASSERT_EQ(padded.size(), kWebhookHeaderBytesMax);
  EXPECT_TRUE(verify(kBody, padded).ok());
  expect_rejected(verify(kBody, padded + "p"), "malformed Stripe-Signature header");
}

TEST(VerifyWebhook, AcceptsEitherSecretDuringRotation) {
  const std::vector<std::string> both = {kOtherSecret, kSecret};
  EXPECT_TRUE(verify(kBody, header_for(kBody, kSecret), at_s(kT), both).ok());
  EXPECT_TRUE(verify(kBody, header_for(kBody, kOtherSecret), at_s(kT), both).ok());
  expect_rejected(verify(kBody, header_for(kBody, "whsec_third"), at_s(kT), both), "webhook signature mismatch");
}

TEST(VerifyWebhook, AcceptsABodyOfExactlyOneMiBButNotMore) {
  const std::string head = R"({"id":"evt_big","type":"x.y","data":{"object":{"id":"pi_big"}},"pad":")";
  std::string body = head + std::string(kWebhookBodyBytesMax - head.size() - 2, 'p') + "\"}";
  ASSERT_EQ(body.size(), kWebhookBodyBytesMax);
  auto event = verify(body, header_for(body));
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event->object_id, "pi_big");
  body.insert(head.size(), "p");
  expect_rejected(verify(body, header_for(body)), "webhook body too large");
}

// ---- Parsing ---------------------------------------------------------------------------------------

StripeEvent parse_signed(const std::string& body) {
  auto event = verify(body, header_for(body));
  EXPECT_TRUE(event.ok()) << event.error().message;
  return event.ok() ? *event : StripeEvent{};
}

TEST(ParseWebhook, ReadsPaymentIntentSucceeded) {
  const StripeEvent e = parse_signed(R"({
    "id": "evt_3PaI", "object": "event", "api_version": "2024-06-20", "type": "payment_intent.succeeded",
    "data": {"object": {"id": "pi_3PaI", "object": "payment_intent", "amount": 12000, "currency": "eur",
      "status": "succeeded", "client_secret": "pi_3PaI_secret_x", "last_payment_error": null,
      "metadata": {"booking_id": "981", "hold_id": "77", "user_id": "5", "event_id": "3"}}},
    "livemode": false, "pending_webhooks": 1})");
  EXPECT_EQ(e.id, "evt_3PaI");
  EXPECT_EQ(e.type, "payment_intent.succeeded");
  EXPECT_EQ(e.object_id, "pi_3PaI");
  EXPECT_EQ(e.payment_intent, "pi_3PaI");
  EXPECT_EQ(e.status, "succeeded");
  EXPECT_EQ(e.amount, 12000);
  EXPECT_EQ(e.currency, "EUR");
  EXPECT_EQ(e.amount_refunded, 0);
  EXPECT_EQ(e.decline_code, "");
  EXPECT_EQ(e.booking_id, 981);
}

TEST(ParseWebhook, ReadsPaymentIntentPaymentFailedWithItsDeclineCode) {
  const StripeEvent e = parse_signed(R"({
    "id": "evt_fail", "type": "payment_intent.payment_failed",
    "data": {"object": {"id": "pi_fail", "object": "payment_intent", "amount": 5000,
      "status": "requires_payment_method",
      "last_payment_error": {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
                             "message": "Your card has insufficient funds."},
      "metadata": {"booking_id": "12"}}}})");
  EXPECT_EQ(e.type, "payment_intent.payment_failed");
  EXPECT_EQ(e.payment_intent, "pi_fail");
  EXPECT_EQ(e.status, "requires_payment_method");
  EXPECT_EQ(e.decline_code, "insufficient_funds");
  EXPECT_EQ(e.message, "Your card has insufficient funds.");
  EXPECT_EQ(e.booking_id, 12);
}

TEST(ParseWebhook, FallsBackToTheErrorCodeWithoutADeclineCode) {
  const StripeEvent e = parse_signed(R"({"id": "evt_3ds", "type": "payment_intent.payment_failed",
    "data": {"object": {"id": "pi_3ds", "object": "payment_intent", "status": "requires_payment_method",
      "last_payment_error": {"code": "payment_intent_authentication_failure", "message": "3DS failed"}}}})");
  EXPECT_EQ(e.decline_code, "payment_intent_authentication_failure");
  EXPECT_EQ(e.booking_id, 0);
}

TEST(ParseWebhook, ReadsChargeRefundedWithItsIntentAndRefundedAmount) {
  const StripeEvent e = parse_signed(R"({
    "id": "evt_ref", "type": "charge.refunded",
    "data": {"object": {"id": "ch_3PaI", "object": "charge", "amount": 12000, "amount_refunded": 4000,
      "payment_intent": "pi_3PaI", "status": "succeeded", "refunded": false, "failure_code": null,
      "metadata": {"booking_id": "981"}}, "previous_attributes": {"amount_refunded": 0}}})");
  EXPECT_EQ(e.type, "charge.refunded");
  EXPECT_EQ(e.object_id, "ch_3PaI");
  EXPECT_EQ(e.payment_intent, "pi_3PaI");
  EXPECT_EQ(e.amount, 12000);
  EXPECT_EQ(e.amount_refunded, 4000);
  EXPECT_EQ(e.booking_id, 981);
}

TEST(ParseWebhook, ReadsAnExpandedPaymentIntentOnACharge) {
  const StripeEvent e = parse_signed(R"({"id": "evt_x", "type": "charge.failed",
    "data": {"object": {"id": "ch_x", "object": "charge", "payment_intent": {"id": "pi_x", "object": "payment_intent"},
      "failure_code": "card_declined", "failure_message": "Your card was declined."}}})");
  EXPECT_EQ(e.payment_intent, "pi_x");
  EXPECT_EQ(e.decline_code, "card_declined");
  EXPECT_EQ(e.message, "Your card was declined.");
}

TEST(ParseWebhook, GivesBookingIdZeroWhenAbsentOrNotAPositiveInteger) {
  for (const char* metadata :
       {R"({})", R"({"booking_id": ""})", R"({"booking_id": "12abc"})", R"({"booking_id": "-4"})",
        R"({"booking_id": "99999999999999999999"})", R"({"booking_id": 17})"}) {
    const std::string body = std::string(R"({"id": "evt_m", "type": "payment_intent.created", "data": {"object": )") +
                             R"({"id": "pi_m", "object": "payment_intent", "metadata": )" + metadata + "}}}";
    EXPECT_EQ(parse_signed(body).booking_id, 0) << metadata;
  }
}

TEST(ParseWebhook, RejectsSignedBodiesThatAreNotEvents) {
  for (const std::string& body : {std::string("not json"), std::string("[]"), std::string(R"({"id":"evt_1"})"),
                                  std::string(R"({"id":"evt_1","type":"x","data":{}})"),
                                  std::string(R"({"id":"evt_1","type":"x","data":{"object":{"object":"charge"}}})"),
                                  std::string(R"({"id":1,"type":"x","data":{"object":{"id":"ch_1"}}})")}) {
    expect_rejected(verify(body, header_for(body)), "malformed event");
  }
}

TEST(ParseWebhook, RejectsDeeplyNestedJson) {
  const std::string body = R"({"id":"evt_1","type":"x","data":{"object":{"id":"pi_1","n":)" + std::string(100, '[') +
                           std::string(100, ']') + "}}}";
  expect_rejected(verify(body, header_for(body)), "malformed event");
}

}  // namespace
