// Two-factor login with TOTP (RFC 6238; docs/security.md, "Two-factor login"): an account enrols a
// secret in an authenticator app, confirms it with a code, and from then on logs in with a password
// and a current code. Codes follow what every authenticator app does by default: HMAC-SHA1, 6 digits,
// 30 s steps; one step of clock skew either way is accepted, and each step's code works once.
//
// Thread safety: every method may be called concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "core/ports/totp_store.hpp"
#include "core/types.hpp"

namespace ticketd::app {

inline constexpr int kTotpDigits = 6;
inline constexpr int64_t kTotpStepS = 30;
inline constexpr int kTotpSkewSteps = 1;
inline constexpr size_t kTotpSecretBytes = 20;  // RFC 4226's recommended 160 bits

// RFC 6238 with HMAC-SHA1: the code of time step `step` (Unix seconds / 30).
std::string totp_sha1(std::string_view secret, int64_t step);

struct Enrolment {
  std::string secret_base32;  // for typing in
  std::string otpauth_uri;    // for a QR code: otpauth://totp/ticketd:<email>?secret=...&issuer=ticketd
};

class TwoFactor {
 public:
  TwoFactor(core::TotpStore& store, const Clock& clock);

  bool enabled(core::UserId user);
  // A new secret (replacing one not confirmed yet). Conflict-like InvalidRequest when already on.
  core::Result<Enrolment> enrol(const core::User& user);
  // Turns it on with a current code of the enrolled secret. InvalidRequest: nothing enrolled or a
  // wrong code.
  core::Status confirm(core::UserId user, std::string_view code);
  // Whether `code` is a current code of the user's enabled secret, not used before. Consumes it.
  bool check(core::UserId user, std::string_view code);
  // Turns it off; needs a current code. InvalidRequest otherwise.
  core::Status disable(core::UserId user, std::string_view code);

 private:
  // The step `code` is current for (within the skew), if any, for `secret`.
  std::optional<int64_t> matching_step(const std::string& secret_hex, std::string_view code) const;

  core::TotpStore& store_;
  const Clock& clock_;
};

}  // namespace ticketd::app
