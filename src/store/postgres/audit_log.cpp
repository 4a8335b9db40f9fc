#include "store/postgres/audit_log.hpp"

namespace ticketd::store::postgres {

core::Status PgAuditLog::append(const core::AuditEntry& e) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.query("INSERT INTO audit_log(at, actor_id, actor_email, action, target, status, request, result, "
            "organization_id, before) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            {p(to_unix_ms(e.at)), p(e.actor_id), p(e.actor_email), p(e.action), p(e.target),
             p(static_cast<int64_t>(e.status)), p(e.request), p(e.result), p(e.organization_id), p(e.before)});
    return core::ok_status();
  }, /*idempotent=*/false);
}

std::vector<core::AuditEntry> PgAuditLog::list(int64_t after_id, uint32_t limit,
                                               std::optional<core::OrganizationId> organization) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT id, at, actor_id, actor_email, action, target, status, request, result, organization_id, before "
                     "FROM audit_log WHERE id > $1 AND ($3 < 0 OR organization_id = $3) ORDER BY id LIMIT $2",
                     {p(after_id), p(static_cast<int64_t>(limit)), p(organization ? *organization : int64_t{-1})});
    std::vector<core::AuditEntry> out;
    for (int i = 0; i < r.size(); ++i)
      out.push_back(core::AuditEntry{r.int64(i, 0), from_unix_ms(r.int64(i, 1)), r.int64(i, 2), r.text(i, 3),
                                     r.text(i, 4), r.text(i, 5), static_cast<int>(r.int64(i, 6)), r.text(i, 7),
                                     r.text(i, 8), r.int64(i, 9), r.text(i, 10)});
    return out;
  });
}

}  // namespace ticketd::store::postgres
