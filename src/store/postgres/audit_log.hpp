// The distributed AuditLog (core/ports/audit_log.hpp). Append-only by a trigger (migration 5).
#pragma once

#include "core/ports/audit_log.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgAuditLog final : public core::AuditLog {
 public:
  explicit PgAuditLog(Pool& pool) : pool_(pool) {}
  core::Status append(const core::AuditEntry& entry) override;
  std::vector<core::AuditEntry> list(int64_t after_id, uint32_t limit,
                                     std::optional<core::OrganizationId> organization) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
