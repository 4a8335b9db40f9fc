#include "notify/webhook.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include "notify/templates.hpp"

using namespace ticketd;
using namespace ticketd::notify;

TEST(WebhookSignature, IsHmacSha256OfTimestampDotBody) {
  ASSERT_GE(sodium_init(), 0);
  // The primitive against RFC 4231 test case 2, then the scheme against Python's hmac module.
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  const std::string key = "Jefe", data = "what do ya want for nothing?";
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  crypto_auth_hmacsha256_final(&st, mac);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  EXPECT_STREQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Independently: python3 -c 'import hmac,hashlib; print(hmac.new(b"s3cret-s3cret-s3cret",
  //   b"1700000000.{\"a\":1}", hashlib.sha256).hexdigest())'
  EXPECT_EQ(webhook_signature("s3cret-s3cret-s3cret", 1'700'000'000, "{\"a\":1}"),
            "t=1700000000,v1=79a6c445ff099c53dc2ea6b6df3e4609699187aa67857a2783882ea8fd1e5c11");
}

TEST(WebhookSignature, ChangesWithBodyTimestampAndSecret) {
  ASSERT_GE(sodium_init(), 0);
  const std::string a = webhook_signature("secret-secret-secret", 100, "body");
  EXPECT_EQ(a.rfind("t=100,v1=", 0), 0u);
  EXPECT_EQ(a.size(), std::string("t=100,v1=").size() + 64);
  EXPECT_NE(a, webhook_signature("secret-secret-secret", 100, "bodY"));
  EXPECT_NE(a.substr(9), webhook_signature("secret-secret-secret", 101, "body").substr(9));
  EXPECT_NE(a, webhook_signature("secret-secret-secreT", 100, "body"));
}

TEST(WebhookBody, CarriesIdKindSeatsAmountAndPhone) {
  core::Notification n;
  n.outbox_id = 9;
  n.kind = core::NoticeKind::BookingConfirmed;
  n.user_name = "Ann";
  n.email = "ann@example.com";
  n.phone = "+4915112345678";
  n.event_name = "Demo \"Night\"";
  n.booking_id = 3;
  n.seats = {{"Floor", "B", 12}};
  n.amount = 8500;
  n.currency = "EUR";
  const std::string body = webhook_body(n);
  EXPECT_NE(body.find("\"id\":9"), std::string::npos);
  EXPECT_NE(body.find("\"idempotency_key\":\"ticketd-notification-9\""), std::string::npos);
  EXPECT_NE(body.find("\"kind\":\"booking_confirmed\""), std::string::npos);
  EXPECT_NE(body.find("\"phone\":\"+4915112345678\""), std::string::npos);
  EXPECT_NE(body.find("{\"section\":\"Floor\",\"row\":\"B\",\"number\":12}"), std::string::npos);
  EXPECT_NE(body.find("\"amount\":8500"), std::string::npos);
  EXPECT_NE(body.find("Demo \\\"Night\\\""), std::string::npos);  // escaped, never raw
  EXPECT_NE(body.find("\"booking_id\":3"), std::string::npos);
}
