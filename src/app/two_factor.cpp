#include "app/two_factor.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "app/ticket_codes.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

std::string totp_sha1(std::string_view secret, int64_t step) {
  uint8_t counter[8];
  for (int i = 7; i >= 0; --i, step >>= 8) counter[i] = static_cast<uint8_t>(step & 0xff);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), counter, sizeof counter, mac, &mac_len);
  const int offset = mac[mac_len - 1] & 0x0f;
  const uint32_t bin = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) | (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                       (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  std::string digits = std::to_string(bin % 1'000'000);
  return std::string(kTotpDigits - digits.size(), '0') + digits;
}

TwoFactor::TwoFactor(core::TotpStore& store, const Clock& clock) : store_(store), clock_(clock) {}

bool TwoFactor::enabled(core::UserId user) {
  auto r = store_.find(user);
  return r && r->enabled;
}

core::Result<Enrolment> TwoFactor::enrol(const core::User& user) {
  std::string secret(kTotpSecretBytes, '\0');
  randombytes_buf(secret.data(), secret.size());
  if (!store_.begin_enrolment(user.id, hex_encode(reinterpret_cast<const uint8_t*>(secret.data()), secret.size()),
                              clock_.now()))
    return make_error(Code::InvalidRequest, "two-factor login is on already: turn it off first");
  Enrolment e;
  e.secret_base32 = base32_encode(reinterpret_cast<const uint8_t*>(secret.data()), secret.size());
  // The label's email is percent-encoded where it must be (an address holds '@', '+' and such).
  std::string label;
  for (unsigned char ch : "ticketd:" + user.email) {
    if (std::isalnum(ch) || ch == '.' || ch == '-' || ch == '_' || ch == ':') label += static_cast<char>(ch);
    else {
      static const char* hex = "0123456789ABCDEF";
      label += '%';
      label += hex[ch >> 4];
      label += hex[ch & 15];
    }
  }
  e.otpauth_uri = "otpauth://totp/" + label + "?secret=" + e.secret_base32 +
                  "&issuer=ticketd&algorithm=SHA1&digits=6&period=30";
  return e;
}

std::optional<int64_t> TwoFactor::matching_step(const std::string& secret_hex, std::string_view code) const {
  std::string secret(secret_hex.size() / 2, '\0');
  size_t bin_len = 0;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(secret.data()), secret.size(), secret_hex.data(), secret_hex.size(),
                     nullptr, &bin_len, nullptr) != 0 || bin_len != secret.size() || secret.empty())
    return std::nullopt;  // a damaged row admits no one
  if (code.size() != kTotpDigits || !std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int64_t now = to_unix_ms(clock_.now()) / 1000 / kTotpStepS;
  for (int64_t step = now - kTotpSkewSteps; step <= now + kTotpSkewSteps; ++step) {
    const std::string expected = totp_sha1(secret, step);
    if (sodium_memcmp(expected.data(), code.data(), expected.size()) == 0) return step;
  }
  return std::nullopt;
}

core::Status TwoFactor::confirm(core::UserId user, std::string_view code) {
  auto r = store_.find(user);
  if (!r) return make_error(Code::InvalidRequest, "nothing to confirm: enrol first");
  if (r->enabled) return make_error(Code::InvalidRequest, "two-factor login is on already");
  auto step = matching_step(r->secret_hex, code);
  if (!step || !store_.accept_step(user, *step, true))
    return make_error(Code::InvalidRequest, "code: not the current code of your authenticator");
  return core::ok_status();
}

bool TwoFactor::check(core::UserId user, std::string_view code) {
  auto r = store_.find(user);
  if (!r || !r->enabled) return false;
  auto step = matching_step(r->secret_hex, code);
  return step && store_.accept_step(user, *step, false);
}

core::Status TwoFactor::disable(core::UserId user, std::string_view code) {
  if (!enabled(user)) return make_error(Code::InvalidRequest, "two-factor login is off");
  if (!check(user, code)) return make_error(Code::InvalidRequest, "code: not the current code of your authenticator");
  return store_.remove(user);
}

}  // namespace ticketd::app
