#include "store/sqlite/audit_log.hpp"

namespace ticketd::store::sqlite {

core::Status SqliteAuditLog::append(const core::AuditEntry& e) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("INSERT INTO audit_log(at, actor_id, actor_email, action, target, status, request, result, "
              "organization_id, before) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")
        .bind(1, to_unix_ms(e.at)).bind(2, e.actor_id).bind(3, e.actor_email).bind(4, e.action).bind(5, e.target)
        .bind(6, int64_t{e.status}).bind(7, e.request).bind(8, e.result)
        .bind(9, e.organization_id)
        .bind(10, e.before)
        .step_status();
    return core::ok_status();
  });
}

std::vector<core::AuditEntry> SqliteAuditLog::list(int64_t after_id, uint32_t limit,
                                                   std::optional<core::OrganizationId> organization) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, at, actor_id, actor_email, action, target, status, request, result, organization_id, before "
                        "FROM audit_log WHERE id > ?1 AND (?3 < 0 OR organization_id = ?3) ORDER BY id LIMIT ?2");
  st.bind(1, after_id).bind(2, limit).bind(3, organization ? *organization : int64_t{-1});
  std::vector<core::AuditEntry> out;
  while (st.step())
    out.push_back(core::AuditEntry{st.int64(0), from_unix_ms(st.int64(1)), st.int64(2), st.text(3), st.text(4),
                                   st.text(5), static_cast<int>(st.int64(6)), st.text(7), st.text(8), st.int64(9), st.text(10)});
  st.reset();
  return out;
}

}  // namespace ticketd::store::sqlite
