// The distributed OrganizationStore (core/ports/organizations.hpp) on PostgreSQL. Ownership: borrows the
// pool.
#pragma once

#include "core/ports/organizations.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgOrganizationStore final : public core::OrganizationStore {
 public:
  explicit PgOrganizationStore(Pool& pool) : pool_(pool) {}
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
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
