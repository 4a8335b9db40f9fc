#include "store/postgres/organizations.hpp"

#include "core/limits.hpp"

namespace ticketd::store::postgres {

using core::Code;
using core::make_error;

namespace {

std::vector<core::Organization> organizations_from(const Rows& r) {
  std::vector<core::Organization> out;
  for (int i = 0; i < r.size(); ++i)
    out.push_back(core::Organization{r.int64(i, 0), r.text(i, 1), r.boolean(i, 2), r.int64(i, 3),
                                     from_unix_ms(r.int64(i, 4))});
  return out;
}

}  // namespace

core::Result<core::Organization> PgOrganizationStore::create(core::Organization draft, core::UserId first_member,
                                                             TimeMs now) {
  draft.created_at = now;
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::Organization> {
    // One statement: the organization and its first member commit together.
    Rows r = c.query("WITH o AS (INSERT INTO organizations(name, require_totp, created_by, created_at) "
                     "VALUES($1, $2, $3, $4) RETURNING id), "
                     "m AS (INSERT INTO organization_members(organization_id, user_id, created_at) "
                     "SELECT id, $5::bigint, $4::bigint FROM o WHERE $5::bigint <> 0) SELECT id FROM o",
                     {p(draft.name), p(draft.require_totp ? "true" : "false"), p(draft.created_by), p(to_unix_ms(now)),
                      p(first_member)});
    draft.id = r.int64(0, 0);
    return draft;
  }, /*idempotent=*/false);
}

std::optional<core::Organization> PgOrganizationStore::find(core::OrganizationId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::Organization> {
    auto out = organizations_from(
        c.query("SELECT id, name, require_totp, created_by, created_at FROM organizations WHERE id = $1", {p(id)}));
    if (out.empty()) return std::nullopt;
    return out.front();
  });
}

std::vector<core::Organization> PgOrganizationStore::list(core::OrganizationId after_id, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    return organizations_from(c.query("SELECT id, name, require_totp, created_by, created_at FROM organizations "
                                      "WHERE id > $1 ORDER BY id LIMIT $2",
                                      {p(after_id), p(static_cast<int64_t>(limit))}));
  });
}

std::vector<core::Organization> PgOrganizationStore::of_member(core::UserId user) {
  return with_connection(pool_, [&](Connection& c) {
    return organizations_from(
        c.query("SELECT o.id, o.name, o.require_totp, o.created_by, o.created_at FROM organization_members m "
                "JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 ORDER BY o.id LIMIT $2",
                {p(user), p(static_cast<int64_t>(core::limits::organizations_per_member_max))}));
  });
}

uint32_t PgOrganizationStore::created_by_count(core::UserId user) {
  return with_connection(pool_, [&](Connection& c) {
    return static_cast<uint32_t>(
        c.query("SELECT count(*) FROM organizations WHERE created_by = $1", {p(user)}).int64(0, 0));
  });
}

core::Status PgOrganizationStore::update(const core::Organization& org) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    if (c.query("UPDATE organizations SET name = $2, require_totp = $3 WHERE id = $1 RETURNING id",
                {p(org.id), p(org.name), p(org.require_totp ? "true" : "false")})
            .empty())
      return make_error(Code::NotFound, "no such organization");
    return core::ok_status();
  });
}

core::Status PgOrganizationStore::add_member(core::OrganizationId org, core::UserId user, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    if (c.query("INSERT INTO organization_members(organization_id, user_id, created_at) VALUES($1, $2, $3) "
                "ON CONFLICT DO NOTHING RETURNING user_id",
                {p(org), p(user), p(to_unix_ms(now))})
            .empty())
      return make_error(Code::AlreadyMember, "already a member of this organization");
    return core::ok_status();
  }, /*idempotent=*/false);
}

core::Status PgOrganizationStore::remove_member(core::OrganizationId org, core::UserId user) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    // The organization's row is locked first, so two removals at once cannot leave it with no one.
    c.exec("BEGIN");
    try {
      c.query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", {p(org)});
      Rows gone = c.query("DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2 "
                          "RETURNING (SELECT count(*) FROM organization_members WHERE organization_id = $1)",
                          {p(org), p(user)});
      if (gone.empty()) {
        c.exec("ROLLBACK");
        return make_error(Code::NotFound, "not a member of this organization");
      }
      if (gone.int64(0, 0) <= 1) {
        c.exec("ROLLBACK");
        return make_error(Code::LastMember, "an organization keeps at least one member");
      }
      c.exec("COMMIT");
      return core::ok_status();
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

std::vector<core::OrganizationMember> PgOrganizationStore::members(core::OrganizationId org, uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT u.id, u.email, u.name, m.created_at FROM organization_members m "
                     "JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 ORDER BY m.created_at, u.id LIMIT $2",
                     {p(org), p(static_cast<int64_t>(limit))});
    std::vector<core::OrganizationMember> out;
    for (int i = 0; i < r.size(); ++i)
      out.push_back({r.int64(i, 0), r.text(i, 1), r.text(i, 2), from_unix_ms(r.int64(i, 3))});
    return out;
  });
}

bool PgOrganizationStore::is_member(core::OrganizationId org, core::UserId user) {
  return with_connection(pool_, [&](Connection& c) {
    return !c.query("SELECT 1 FROM organization_members WHERE organization_id = $1 AND user_id = $2", {p(org), p(user)})
                .empty();
  });
}

}  // namespace ticketd::store::postgres
