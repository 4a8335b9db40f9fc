// Port: organizations (docs/console.md, "Organizations and roles"). An organization owns venues, and
// through them events; its members are the organizers who manage them. Venue ownership is kept by the
// CatalogStore (a venue's organization is fixed when it is created).
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct Organization {
  OrganizationId id = 0;
  std::string name;
  bool require_totp = false;  // members manage nothing until they turn on two-factor login
  UserId created_by = 0;
  TimeMs created_at{};
};

struct OrganizationMember {
  UserId user_id = 0;
  std::string email;
  std::string name;
  TimeMs added_at{};
};

class OrganizationStore {
 public:
  virtual ~OrganizationStore() = default;
  // Creates it with `first_member` (0: none) as its first member, in one commit; assigns the id.
  virtual Result<Organization> create(Organization draft, UserId first_member, TimeMs now) = 0;
  virtual std::optional<Organization> find(OrganizationId id) = 0;
  // All organizations by id, at most `limit`, after `after_id` (keyset).
  virtual std::vector<Organization> list(OrganizationId after_id, uint32_t limit) = 0;
  // The ones `user` is a member of (bounded by limits::organizations_per_user_max).
  virtual std::vector<Organization> of_member(UserId user) = 0;
  virtual uint32_t created_by_count(UserId user) = 0;
  // Name and require_totp. NotFound: no such organization.
  virtual Status update(const Organization& org) = 0;
  // Conflict when already a member; NotFound: no such organization.
  virtual Status add_member(OrganizationId org, UserId user, TimeMs now) = 0;
  // NotFound: not a member.
  virtual Status remove_member(OrganizationId org, UserId user) = 0;
  virtual std::vector<OrganizationMember> members(OrganizationId org, uint32_t limit) = 0;
  virtual bool is_member(OrganizationId org, UserId user) = 0;
};

}  // namespace ticketd::core
