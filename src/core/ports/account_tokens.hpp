// Port: account tokens (core/account_token.hpp) and the effects of redeeming them. Implemented by
// store/sqlite and store/postgres. Whether a token may be redeemed is decided by
// core::check_redeemable; a store only makes "used once" atomic and applies the effect in the same
// commit as the use.
//
// Thread safety: implementations are safe to call from any thread (and from many nodes at once).
#pragma once

#include <optional>
#include <string>

#include "core/account_token.hpp"
#include "core/notification.hpp"
#include "core/result.hpp"

namespace ticketd::core {

class AccountTokenStore {
 public:
  virtual ~AccountTokenStore() = default;
  // Stores a token and, in the same commit, its message: one outbox row of `kind` on `channel` naming
  // the token. LimitReached (nothing stored) if the account was issued `max_recent` tokens of this
  // purpose since `since`. Durable before it returns.
  virtual Result<AccountTokenId> issue(const AccountToken& token, NoticeKind kind, const char* channel,
                                       uint32_t max_recent, TimeMs since) = 0;
  virtual std::optional<AccountToken> find(AccountTokenId id) = 0;
  // The account's most recently issued token of `purpose` (a phone code is typed without its id).
  virtual std::optional<AccountToken> latest(UserId user, TokenPurpose purpose) = 0;
  // A wrong code was tried: attempts + 1.
  virtual Status note_attempt(AccountTokenId id) = 0;
  // Uses the token and applies its effect, in one commit, only if it is still unused (InvalidToken
  // otherwise: another request used it first):
  //   VerifyEmail: the account's email is verified, if it is still the token's destination;
  //   VerifyPhone: the account's phone is verified, if it is still the token's destination;
  //   ResetPassword: the password hash becomes `password_hash`, every session of the account ends,
  //     and its email is verified (the link reached it).
  virtual Status redeem(const AccountToken& token, TimeMs now, const std::string& password_hash) = 0;
};

}  // namespace ticketd::core
