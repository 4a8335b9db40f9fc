#include "store/sqlite/organizations.hpp"

#include <sqlite3.h>

#include "core/limits.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

core::Organization organization_from(Statement& st) {
  return core::Organization{st.int64(0), st.text(1), st.int64(2) != 0, st.int64(3), from_unix_ms(st.int64(4))};
}

}  // namespace

core::Result<core::Organization> SqliteOrganizationStore::create(core::Organization draft, core::UserId first_member,
                                                                 TimeMs now) {
  draft.created_at = now;
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("INSERT INTO organizations(name, require_totp, created_by, created_at) VALUES(?1, ?2, ?3, ?4)")
        .bind(1, draft.name).bind(2, int64_t{draft.require_totp ? 1 : 0}).bind(3, draft.created_by)
        .bind(4, to_unix_ms(now)).step_status();
    draft.id = c.last_insert_rowid();
    if (first_member != 0)
      c.prepare("INSERT INTO organization_members(organization_id, user_id, created_at) VALUES(?1, ?2, ?3)")
          .bind(1, draft.id).bind(2, first_member).bind(3, to_unix_ms(now)).step_status();
    return core::ok_status();
  });
  if (!s) return s.error();
  return draft;
}

std::optional<core::Organization> SqliteOrganizationStore::find(core::OrganizationId id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, name, require_totp, created_by, created_at FROM organizations WHERE id = ?1");
  st.bind(1, id);
  std::optional<core::Organization> out;
  if (st.step()) out = organization_from(st);
  st.reset();
  return out;
}

std::vector<core::Organization> SqliteOrganizationStore::list(core::OrganizationId after_id, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT id, name, require_totp, created_by, created_at FROM organizations WHERE id > ?1 "
                        "ORDER BY id LIMIT ?2");
  st.bind(1, after_id).bind(2, int64_t{limit});
  std::vector<core::Organization> out;
  while (st.step()) out.push_back(organization_from(st));
  st.reset();
  return out;
}

std::vector<core::Organization> SqliteOrganizationStore::of_member(core::UserId user) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT o.id, o.name, o.require_totp, o.created_by, o.created_at FROM organization_members m "
                        "JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = ?1 ORDER BY o.id LIMIT ?2");
  st.bind(1, user).bind(2, int64_t{core::limits::organizations_per_member_max});
  std::vector<core::Organization> out;
  while (st.step()) out.push_back(organization_from(st));
  st.reset();
  return out;
}

uint32_t SqliteOrganizationStore::created_by_count(core::UserId user) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT count(*) FROM organizations WHERE created_by = ?1");
  st.bind(1, user);
  st.step();
  const auto n = static_cast<uint32_t>(st.int64(0));
  st.reset();
  return n;
}

core::Status SqliteOrganizationStore::update(const core::Organization& org) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("UPDATE organizations SET name = ?2, require_totp = ?3 WHERE id = ?1")
        .bind(1, org.id).bind(2, org.name).bind(3, int64_t{org.require_totp ? 1 : 0}).step_status();
    if (c.changes() != 1) return make_error(Code::NotFound, "no such organization");
    return core::ok_status();
  });
}

core::Status SqliteOrganizationStore::add_member(core::OrganizationId org, core::UserId user, TimeMs now) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("INSERT INTO organization_members(organization_id, user_id, created_at) VALUES(?1, ?2, ?3) "
              "ON CONFLICT DO NOTHING")
        .bind(1, org).bind(2, user).bind(3, to_unix_ms(now)).step_status();
    if (c.changes() != 1) return make_error(Code::AlreadyMember, "already a member of this organization");
    return core::ok_status();
  });
}

core::Status SqliteOrganizationStore::remove_member(core::OrganizationId org, core::UserId user) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    // In the writer's commit, so two removals at once cannot leave the organization with no one.
    auto& count = c.prepare("SELECT count(*) FROM organization_members WHERE organization_id = ?1");
    count.bind(1, org);
    count.step();
    const int64_t members = count.int64(0);
    count.reset();
    c.prepare("DELETE FROM organization_members WHERE organization_id = ?1 AND user_id = ?2")
        .bind(1, org).bind(2, user).step_status();
    if (c.changes() != 1) return make_error(Code::NotFound, "not a member of this organization");
    if (members <= 1) return make_error(Code::LastMember, "an organization keeps at least one member");
    return core::ok_status();
  });
}

std::vector<core::OrganizationMember> SqliteOrganizationStore::members(core::OrganizationId org, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT u.id, u.email, u.name, m.created_at FROM organization_members m "
                        "JOIN users u ON u.id = m.user_id WHERE m.organization_id = ?1 ORDER BY m.created_at, u.id "
                        "LIMIT ?2");
  st.bind(1, org).bind(2, int64_t{limit});
  std::vector<core::OrganizationMember> out;
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), from_unix_ms(st.int64(3))});
  st.reset();
  return out;
}

bool SqliteOrganizationStore::is_member(core::OrganizationId org, core::UserId user) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT 1 FROM organization_members WHERE organization_id = ?1 AND user_id = ?2");
  st.bind(1, org).bind(2, user);
  const bool found = st.step();
  st.reset();
  return found;
}

}  // namespace ticketd::store::sqlite
