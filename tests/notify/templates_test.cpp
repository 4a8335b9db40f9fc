#include "notify/templates.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace ticketd;
using namespace ticketd::core;
using namespace ticketd::notify;

namespace {
Notification confirmed() {
  Notification n;
  n.outbox_id = 42;
  n.kind = NoticeKind::BookingConfirmed;
  n.channel = kChannelEmail;
  n.user_name = "Ann";
  n.email = "ann@example.com";
  n.event_name = "Demo Night";
  n.venue_name = "Demo Arena";
  n.event_starts_at = from_unix_ms(1'800'000'000'000);  // 2027-01-15 08:00 UTC
  n.booking_id = 7;
  n.seats = {{"Floor", "A", 3}, {"Floor", "A", 4}};
  n.amount = 30000;
  n.currency = "USD";
  n.created_at = from_unix_ms(1'790'000'000'000);
  return n;
}

std::string decode_base64(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    const auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) continue;
    buf = (buf << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}
}  // namespace

TEST(EmailTemplate, ConfirmationNamesEventSeatsAndAmount) {
  const EmailContent e = render_email(confirmed());
  EXPECT_EQ(e.subject, "Booking #7 confirmed: Demo Night");
  EXPECT_NE(e.text.find("Hello Ann,"), std::string::npos);
  EXPECT_NE(e.text.find("Section Floor, row A, seat 3"), std::string::npos);
  EXPECT_NE(e.text.find("Section Floor, row A, seat 4"), std::string::npos);
  EXPECT_NE(e.text.find("300.00 USD"), std::string::npos);
  EXPECT_NE(e.text.find("Demo Arena"), std::string::npos);
  EXPECT_NE(e.html.find("<td>Floor</td><td>A</td><td>3</td>"), std::string::npos);
  EXPECT_NE(e.html.find("300.00 USD"), std::string::npos);
}

TEST(EmailTemplate, EachKindHasItsOwnSubject) {
  Notification n = confirmed();
  n.kind = NoticeKind::BookingCancelled;
  EXPECT_EQ(render_email(n).subject, "Booking #7 cancelled: Demo Night");
  EXPECT_NE(render_email(n).text.find("refunded"), std::string::npos);
  n.kind = NoticeKind::PaymentFailed;
  n.reason = "Your card was declined.";
  EXPECT_EQ(render_email(n).subject, "Payment failed: Demo Night");
  EXPECT_NE(render_email(n).text.find("Your card was declined."), std::string::npos);
  n.kind = NoticeKind::HoldExpiring;
  n.hold_expires_at = from_unix_ms(1'790'000'600'000);
  EXPECT_EQ(render_email(n).subject.rfind("Your seats for Demo Night are held until ", 0), 0u);
}

TEST(EmailTemplate, EscapesNamesInHtml) {
  Notification n = confirmed();
  n.event_name = "<script>alert('x')</script> & more";
  const EmailContent e = render_email(n);
  EXPECT_EQ(e.html.find("<script>"), std::string::npos);
  EXPECT_NE(e.html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"), std::string::npos);
}

TEST(Mime, IsMultipartAlternativeWithBothPartsAndTheIdempotencyKey) {
  const Notification n = confirmed();
  const EmailContent e = render_email(n);
  const std::string m = build_mime(
      {"ticketd <tickets@example.com>", n.email, "<ticketd-notification-42@ticketd>", n.created_at}, e, n.outbox_id);
  EXPECT_NE(m.find("From: ticketd <tickets@example.com>\r\n"), std::string::npos);
  EXPECT_NE(m.find("To: ann@example.com\r\n"), std::string::npos);
  EXPECT_NE(m.find("Subject: Booking #7 confirmed: Demo Night\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <ticketd-notification-42@ticketd>\r\n"), std::string::npos);
  EXPECT_NE(m.find("X-Ticketd-Delivery: ticketd-notification-42\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/alternative; boundary=\"=_ticketd-42-alt\""), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/html; charset=UTF-8"), std::string::npos);
  EXPECT_NE(m.find("--=_ticketd-42-alt--\r\n"), std::string::npos);
  // The text part decodes back to the rendered text.
  const auto start = m.find("base64\r\n\r\n") + 10;
  const auto end = m.find("--=_ticketd-42-alt", start);
  EXPECT_EQ(decode_base64(m.substr(start, end - start)), e.text);
  // No line longer than RFC 5322's 998 characters.
  size_t line = 0, longest = 0;
  for (char c : m) {
    line = c == '\n' ? 0 : line + 1;
    longest = std::max(longest, line);
  }
  EXPECT_LE(longest, 998u);
}

TEST(EmailTemplate, AConfirmationWithTicketsInlinesTheirQrCodesAndAttachesAPdf) {
  Notification n = confirmed();
  const std::string code(168, 'A');
  n.tickets = {{"00112233445566778899aabbccddeeff", {"Floor", "A", 3}, code},
               {"ffeeddccbbaa99887766554433221100", {"Floor", "A", 4}, code}};
  const EmailContent e = render_email(n);
  ASSERT_EQ(e.related.size(), 2u);
  EXPECT_EQ(e.related[0].content_type, "image/png");
  EXPECT_EQ(e.related[0].bytes.substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_NE(e.html.find("cid:" + e.related[0].content_id), std::string::npos);
  ASSERT_EQ(e.attached.size(), 1u);
  EXPECT_EQ(e.attached[0].filename, "tickets-7.pdf");
  EXPECT_EQ(e.attached[0].bytes.substr(0, 5), "%PDF-");
  const std::string m = build_mime({"t <t@example.com>", n.email, "<id@ticketd>", n.created_at}, e, n.outbox_id);
  EXPECT_NE(m.find("Content-Type: multipart/mixed; boundary=\"=_ticketd-42-mix\""), std::string::npos);
  EXPECT_NE(m.find("Content-Type: multipart/related; boundary=\"=_ticketd-42-rel\""), std::string::npos);
  EXPECT_NE(m.find("Content-ID: <ticket-00112233445566778899aabbccddeeff@ticketd>"), std::string::npos);
  EXPECT_NE(m.find("Content-Disposition: attachment; filename=\"tickets-7.pdf\""), std::string::npos);
  EXPECT_NE(m.find("--=_ticketd-42-rel--\r\n"), std::string::npos);
  EXPECT_LT(m.find("--=_ticketd-42-rel--"), m.find("--=_ticketd-42-mix--"));

  // The door takes only the ticket page's live code: no codes by mail, a pointer to the app instead.
  n.static_codes_accepted = false;
  const EmailContent strict = render_email(n);
  EXPECT_TRUE(strict.related.empty() && strict.attached.empty());
  EXPECT_NE(strict.text.find("live code of the ticket page"), std::string::npos);
}

TEST(Mime, HeadersCannotBeInjectedAndNonAsciiIsEncoded) {
  EXPECT_EQ(header_value("Demo\r\nBcc: evil@example.com"), "Demo  Bcc: evil@example.com");
  EXPECT_EQ(header_value("Café"), "=?UTF-8?B?" + base64("Café") + "?=");
}

TEST(Base64, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64("foob"), "Zm9vYg==");
  EXPECT_EQ(base64("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
}

TEST(Mime, DateIsRfc5322) {
  EXPECT_EQ(rfc5322_date(from_unix_ms(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(Sms, NamesSeatsAndAmountWithinTheLimit) {
  const std::string s = render_sms(confirmed());
  EXPECT_NE(s.find("Floor A-3, Floor A-4"), std::string::npos);
  EXPECT_NE(s.find("300.00 USD"), std::string::npos);
  Notification many = confirmed();
  for (uint32_t i = 0; i < 100; ++i) many.seats.push_back({"Upper Bowl", "ZZ", i});
  EXPECT_LE(render_sms(many).size(), kSmsBytesMax);
}

TEST(Address, BareAddressOfANamedSender) {
  EXPECT_EQ(bare_address("ticketd <tickets@example.com>"), "tickets@example.com");
  EXPECT_EQ(bare_address("tickets@example.com"), "tickets@example.com");
}
