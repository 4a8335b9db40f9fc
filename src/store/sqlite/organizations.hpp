// The embedded OrganizationStore (core/ports/organizations.hpp). Ownership: borrows the Database.
#pragma once

#include "core/ports/organizations.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteOrganizationStore final : public core::OrganizationStore {
 public:
  explicit SqliteOrganizationStore(Database& db) : db_(db) {}
  core::Result<core::Organization> create(core::Organization draft, core::UserId first_member, TimeMs now) override;
  std::optional<core::Organization> find(core::OrganizationId id) override;
  std::vector<core::Organization> list(core::OrganizationId after_id, uint32_t limit) override;
  std::vector<core::Organization> of_member(core::UserId user) override;
  uint32_t created_by_count(core::UserId user) override;
  core::Status update(const core::Organization& org) override;
  core::Status add_member(core::OrganizationId org, core::UserId user, TimeMs now) override;
  core::Status remove_member(core::OrganizationId org, core::UserId user) override;
  std::vector<core::OrganizationMember> members(core::OrganizationId org, uint32_t limit) override;
  bool is_member(core::OrganizationId org, core::UserId user) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
