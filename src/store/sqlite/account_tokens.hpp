// The embedded AccountTokenStore (core/ports/account_tokens.hpp). Ownership: borrows the Database.
#pragma once

#include "core/ports/account_tokens.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteAccountTokens final : public core::AccountTokenStore {
 public:
  explicit SqliteAccountTokens(Database& db) : db_(db) {}
  core::Result<core::AccountTokenId> issue(const core::AccountToken& token, core::NoticeKind kind, const char* channel,
                                           uint32_t max_recent, TimeMs since) override;
  std::optional<core::AccountToken> find(core::AccountTokenId id) override;
  std::optional<core::AccountToken> latest(core::UserId user, core::TokenPurpose purpose) override;
  core::Status note_attempt(core::AccountTokenId id) override;
  core::Status redeem(const core::AccountToken& token, TimeMs now, const std::string& password_hash) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
