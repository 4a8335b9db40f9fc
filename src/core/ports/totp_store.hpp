// Port: TOTP two-factor secrets of accounts (app/two_factor). One row per user: a secret being enrolled
// (not enabled yet) or in use, and the last time step a code was accepted for (a code works once).
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct TotpRecord {
  std::string secret_hex;  // 40 lower-case hex digits (20 bytes)
  bool enabled = false;
  int64_t last_step = 0;  // the newest time step a code was accepted for; codes of it or before fail
};

class TotpStore {
 public:
  virtual ~TotpStore() = default;
  virtual std::optional<TotpRecord> find(UserId user) = 0;
  // A new secret to enrol, replacing one not enabled yet. Conflict-free: refused (false) when enabled.
  virtual bool begin_enrolment(UserId user, const std::string& secret_hex, TimeMs now) = 0;
  // Accepts `step` for the user if it is newer than the last one accepted (atomically: of two logins
  // with one code, one wins), and enables the secret when `enable`. False: replayed, or no secret.
  virtual bool accept_step(UserId user, int64_t step, bool enable) = 0;
  virtual Status remove(UserId user) = 0;
};

}  // namespace ticketd::core
