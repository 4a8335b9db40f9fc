// The distributed TotpStore (core/ports/totp_store.hpp) on PostgreSQL. Ownership: borrows the pool.
#pragma once

#include "core/ports/totp_store.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgTotpStore final : public core::TotpStore {
 public:
  explicit PgTotpStore(Pool& pool) : pool_(pool) {}
  std::optional<core::TotpRecord> find(core::UserId user) override;
  bool begin_enrolment(core::UserId user, const std::string& secret_hex, TimeMs now) override;
  bool accept_step(core::UserId user, int64_t step, bool enable) override;
  core::Status remove(core::UserId user) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
