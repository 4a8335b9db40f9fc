// The distributed AccountTokenStore (core/ports/account_tokens.hpp) on PostgreSQL. Ownership:
// borrows the pool.
#pragma once

#include "core/ports/account_tokens.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgAccountTokens final : public core::AccountTokenStore {
 public:
  explicit PgAccountTokens(Pool& pool) : pool_(pool) {}
  core::Result<core::AccountTokenId> issue(const core::AccountToken& token, core::NoticeKind kind, const char* channel,
                                           uint32_t max_recent, TimeMs since) override;
  std::optional<core::AccountToken> find(core::AccountTokenId id) override;
  std::optional<core::AccountToken> latest(core::UserId user, core::TokenPurpose purpose) override;
  core::Status note_attempt(core::AccountTokenId id) override;
  core::Status redeem(const core::AccountToken& token, TimeMs now, const std::string& password_hash) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
