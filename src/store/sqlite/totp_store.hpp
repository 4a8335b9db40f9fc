// The embedded TotpStore (core/ports/totp_store.hpp). Ownership: borrows the Database.
#pragma once

#include "core/ports/totp_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteTotpStore final : public core::TotpStore {
 public:
  explicit SqliteTotpStore(Database& db) : db_(db) {}
  std::optional<core::TotpRecord> find(core::UserId user) override;
  bool begin_enrolment(core::UserId user, const std::string& secret_hex, TimeMs now) override;
  bool accept_step(core::UserId user, int64_t step, bool enable) override;
  core::Status remove(core::UserId user) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
