// Ticket codes (app/ticket_codes): the byte layout, base32, signatures, the rotating part and what a
// scanner decides from a code, checked against the test vectors published in docs/tickets.md.
#include "app/ticket_codes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ticketd::app {
namespace {

using namespace std::chrono_literals;

TimeMs at_s(int64_t unix_s) { return TimeMs(std::chrono::duration_cast<Millis>(std::chrono::seconds(unix_s))); }

// docs/tickets.md, "Test vectors".
constexpr std::string_view kSecretHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr std::string_view kTicketIdHex = "00112233445566778899aabbccddeeff";
constexpr std::string_view kPublicKeyHexVector = "c0c3ddb5a19e11cadf6a26219b72b0e2252f2e2eacedeb04562f7e2b6cb742a9";
constexpr std::string_view kStaticCodeVector =
    "AEAAAAABAAAAAAAAAAACUAAAAADQAEJCGNCFKZTXRCM2VO6M3XXP62KVXEAGSVYKQCTH4W7VQB6YKYUBP3C7LVYTNKRCL54PA2IHHKXRTQHFOGQXVHM3"
    "6V4NOOFZB6C7KXG2SNJNK4BMF23PJW4CFES6RWMIHM5NAX2N35AL";
constexpr std::string_view kRotatingDigitsVector = "06839308";  // at 1767229200 (step 117815280)

TicketClaims vector_claims() {
  TicketClaims c;
  c.key_id = 1;
  c.event_id = 42;
  c.seat = 7;
  c.ticket_id = *ticket_id_bytes(kTicketIdHex);
  c.valid_from_s = 1'767'225'600;   // 2026-01-01T00:00:00Z
  c.valid_until_s = 1'767'312'000;  // a day later
  return c;
}

EventKey vector_key() { return TicketSecret::from_hex(kSecretHex)->event_key(42, 1); }

KeyLookup only(const EventKey& key) {
  return [&key](uint32_t id) { return id == key.key_id ? &key : nullptr; };
}

TEST(Totp, MatchesRfc6238AppendixBForSha256) {
  const std::string seed = "12345678901234567890123456789012";
  const auto* key = reinterpret_cast<const uint8_t*>(seed.data());
  const std::pair<int64_t, uint32_t> vectors[] = {{59, 46119246},         {1111111109, 68084774},
                                                  {1111111111, 67062674}, {1234567890, 91819424},
                                                  {2000000000, 90698825}, {20000000000, 77737706}};
  for (const auto& [unix_s, expected] : vectors) EXPECT_EQ(totp(key, seed.size(), unix_s / 30, 8), expected) << unix_s;
}

TEST(Base32, RoundTripsAndRefusesWhatRfc4648DoesNotProduce) {
  const std::string text = "foobar";
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  EXPECT_EQ(base32_encode(bytes, 6), "MZXW6YTBOI");  // RFC 4648 section 10, unpadded
  EXPECT_EQ(base32_encode(bytes, 1), "MY");
  EXPECT_EQ(*base32_decode("MZXW6YTBOI"), text);
  EXPECT_EQ(*base32_decode(""), "");
  EXPECT_FALSE(base32_decode("mzxw6ytboi"));  // lower case
  EXPECT_FALSE(base32_decode("MZ="));         // padding
  EXPECT_FALSE(base32_decode("MZ"));          // non-zero leftover bits: "MY" is the one spelling
  EXPECT_FALSE(base32_decode("M"));           // 5 bits cannot end a byte
}

TEST(TicketId, IsThirtyTwoLowerCaseHexDigitsAndRandom) {
  const std::string a = new_ticket_id(), b = new_ticket_id();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(ticket_id_hex(*ticket_id_bytes(a)), a);
  EXPECT_FALSE(ticket_id_bytes("00112233445566778899AABBCCDDEEFF"));
  EXPECT_FALSE(ticket_id_bytes("0011223344556677"));
  EXPECT_FALSE(ticket_id_bytes("00112233445566778899aabbccddeefg"));
}

TEST(TicketCode, PayloadLayoutIsTheDocumentedOne) {
  const auto p = encode_payload(vector_claims());
  EXPECT_EQ(hex_encode(p.data(), p.size()),
            "0100000001000000000000002a0000000700112233445566778899aabbccddeeff6955b90069570a80");
  const auto back = decode_payload(p.data(), p.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->event_id, 42);
  EXPECT_EQ(back->seat, 7u);
  EXPECT_EQ(back->valid_until_s, 1'767'312'000u);
  auto bad = p;
  bad[0] = 2;  // an unknown version
  EXPECT_FALSE(decode_payload(bad.data(), bad.size()));
  EXPECT_FALSE(decode_payload(p.data(), p.size() - 1));
}

TEST(TicketCode, KeysAndCodesMatchThePublishedVectors) {
  const EventKey key = vector_key();
  EXPECT_EQ(hex_encode(key.public_key.data(), key.public_key.size()), kPublicKeyHexVector);
  EXPECT_EQ(hex_encode(key.rotation_secret.data(), key.rotation_secret.size()),
            "cb43716b42ca939d53720ba9906f4440454c169fda7fa65c66d28e019a0ee2e5");
  EXPECT_EQ(static_code(vector_claims(), key), kStaticCodeVector);
  const Key32 rotation = ticket_rotation_key(key.rotation_secret, vector_claims().ticket_id);
  EXPECT_EQ(hex_encode(rotation.data(), rotation.size()),
            "b1e09a060686f18878e4fc7a2c006feabbc127abc835eed6386a4b77feeceeca");
  EXPECT_EQ(rotating_code(kStaticCodeVector, rotation, at_s(1'767'229'200)), std::string(kStaticCodeVector) + ":" +
                                                                               std::string(kRotatingDigitsVector));
}

TEST(TicketCode, AStaticCodeIsAdmittedWhereStaticCodesAreAccepted) {
  const EventKey key = vector_key();
  const std::string code = static_code(vector_claims(), key);
  const CodeCheck check = check_code(code, 42, only(key), at_s(1'767'229'200), false);
  EXPECT_EQ(check.verdict, CodeVerdict::ok);
  EXPECT_FALSE(check.rotating);
  EXPECT_EQ(check.claims.seat, 7u);
  EXPECT_EQ(check_code(code, 42, only(key), at_s(1'767'229'200), true).verdict, CodeVerdict::code_expired);
}

TEST(TicketCode, AlteredForgedAndForeignCodesAreRefused) {
  const EventKey key = vector_key();
  const TimeMs now = at_s(1'767'229'200);
  std::string code = static_code(vector_claims(), key);
  std::string altered = code;
  altered[40] = altered[40] == 'A' ? 'B' : 'A';  // bits 200-204: inside the ticket id
  EXPECT_EQ(check_code(altered, 42, only(key), now, false).verdict, CodeVerdict::invalid);
  std::string other_event = code;
  other_event[20] = other_event[20] == 'A' ? 'B' : 'A';  // bits 100-104: the event id's low byte
  EXPECT_EQ(check_code(other_event, 42, only(key), now, false).verdict, CodeVerdict::wrong_event);
  const EventKey other = TicketSecret::from_hex(std::string(64, 'f'))->event_key(42, 1);
  EXPECT_EQ(check_code(static_code(vector_claims(), other), 42, only(key), now, false).verdict, CodeVerdict::invalid);
  EXPECT_EQ(check_code(code, 43, only(key), now, false).verdict, CodeVerdict::wrong_event);
  EXPECT_EQ(check_code(code, 42, [](uint32_t) { return static_cast<const EventKey*>(nullptr); }, now, false).verdict,
            CodeVerdict::unknown_key);
  // Strings, not views: a view of `code + "A"` in the list would outlive the string it looks at.
  for (const std::string& junk : std::vector<std::string>{"", "TICKET", code.substr(1), code + "A", code + ":1234567",
                                                          code + ":1234567x", code + "::12345678"})
    EXPECT_EQ(check_code(junk, 42, only(key), now, false).verdict, CodeVerdict::invalid) << junk;
  EXPECT_EQ(check_code(std::string(100'000, 'A'), 42, only(key), now, false).verdict, CodeVerdict::invalid);
}

TEST(TicketCode, OutsideItsWindowACodeIsRefused) {
  const EventKey key = vector_key();
  const std::string code = static_code(vector_claims(), key);
  EXPECT_EQ(check_code(code, 42, only(key), at_s(1'767'225'599), false).verdict, CodeVerdict::not_yet_valid);
  EXPECT_EQ(check_code(code, 42, only(key), at_s(1'767'225'600), false).verdict, CodeVerdict::ok);
  EXPECT_EQ(check_code(code, 42, only(key), at_s(1'767'311'999), false).verdict, CodeVerdict::ok);
  EXPECT_EQ(check_code(code, 42, only(key), at_s(1'767'312'000), false).verdict, CodeVerdict::expired);
}

TEST(TicketCode, ARotatingCodeLivesItsStepAndOneEitherSide) {
  const EventKey key = vector_key();
  const std::string code = static_code(vector_claims(), key);
  const Key32 rotation = ticket_rotation_key(key.rotation_secret, vector_claims().ticket_id);
  const TimeMs shown = at_s(1'767'229'200);  // the first second of a 15 s step (1'767'229'200 % 15 == 0)
  const std::string screen = rotating_code(code, rotation, shown);
  auto verdict = [&](TimeMs at) { return check_code(screen, 42, only(key), at, true).verdict; };
  EXPECT_EQ(verdict(shown - 15s), CodeVerdict::ok);           // a scanner one step behind
  EXPECT_EQ(verdict(shown - 16s), CodeVerdict::code_expired);  // two steps behind
  EXPECT_EQ(verdict(shown + 29s), CodeVerdict::ok);            // the end of the next step
  EXPECT_EQ(verdict(shown + 30s), CodeVerdict::code_expired);  // a screenshot 30 s old
  EXPECT_TRUE(check_code(screen, 42, only(key), shown, true).rotating);
  // Another ticket's rotating key does not make this ticket's digits.
  TicketClaims other = vector_claims();
  other.ticket_id[0] ^= 1;
  const std::string forged = code + screen.substr(code.size(), 1) +
                             rotating_code("", ticket_rotation_key(key.rotation_secret, other.ticket_id), shown).substr(1);
  EXPECT_EQ(check_code(forged, 42, only(key), shown, true).verdict, CodeVerdict::code_expired);
}

}  // namespace
}  // namespace ticketd::app
