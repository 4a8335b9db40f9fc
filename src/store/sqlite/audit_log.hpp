// The embedded AuditLog (core/ports/audit_log.hpp). Append-only by triggers in the schema.
#pragma once

#include "core/ports/audit_log.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteAuditLog final : public core::AuditLog {
 public:
  explicit SqliteAuditLog(Database& db) : db_(db) {}
  core::Status append(const core::AuditEntry& entry) override;
  std::vector<core::AuditEntry> list(int64_t after_id, uint32_t limit,
                                     std::optional<core::OrganizationId> organization) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
