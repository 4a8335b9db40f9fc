// Target: Stripe webhooks. The Stripe-Signature header and the payload go through verify_webhook
// (header parsing, HMAC, tolerance) and, once signed, through the event parser and the
// PaymentEventVerifier adapter. Input layout:
//   byte 0 even: the rest is "<header>\n<body>", checked as received against a fixed clock (seeds may
//                carry headers signed for that clock);
//   byte 0 odd:  the rest is the body, signed here with the right secret, so every input reaches the
//                payload parser.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "payments/stripe/event_verifier.hpp"
#include "payments/stripe/webhook.hpp"

namespace {

constexpr int64_t kNowS = 1'800'000'000;  // the clock of unsigned inputs (2027-01-15)
const std::string kSecret = "whsec_fuzzing_fixture_secret";

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz: %s\n", what);
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::vector<std::string> secrets{kSecret, "whsec_rotated_out_secret"};
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const ticketd::TimeMs now = ticketd::from_unix_ms(kNowS * 1000);
  std::string header;
  std::string_view body = rest;
  if (data[0] % 2 == 0) {
    const size_t newline = rest.find('\n');
    header = std::string(rest.substr(0, newline));
    body = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  } else {
    header = "t=" + std::to_string(kNowS) + ",v1=" + ticketd::payments::webhook_signature_hex(kSecret, kNowS, body);
  }
  auto event = ticketd::payments::verify_webhook(body, header, secrets, now);
  if (!event) {
    require(event.error().code == ticketd::core::Code::InvalidRequest, "webhook errors are InvalidRequest");
  } else {
    require(event->booking_id >= 0, "booking ids are never negative");
  }
  // The adapter the payments use case calls must agree with the function it wraps.
  ticketd::payments::StripeEventVerifier verifier(secrets);
  auto mapped = verifier.verify(body, header, now);
  require(static_cast<bool>(mapped) == static_cast<bool>(event), "verifier and verify_webhook disagree");
  // A signature made for another moment fails outside the tolerance, both ways.
  if (data[0] % 2 == 1) {
    const int64_t late_s = kNowS + 301;
    const std::string stale = "t=" + std::to_string(kNowS) + ",v1=" +
                              ticketd::payments::webhook_signature_hex(kSecret, kNowS, body);
    require(!ticketd::payments::verify_webhook(body, stale, secrets, ticketd::from_unix_ms(late_s * 1000)),
            "a signature older than the tolerance passed");
  }
  return 0;
}
