// Use cases: organizations and who may manage what (docs/console.md, "Organizations and roles").
//
// The one place that decides access to an organization's things. Roles:
//   - administrator (User::role): everything;
//   - organizer: a member of an organization; manages its venues, their events, and those events'
//     bookings, door staff and settings. If the organization requires two-factor login, a member
//     manages nothing until their account has it on;
//   - door staff: named per event (app/checkins); scan that event's tickets, nothing else.
// Refusals: 401 without an account; 403 for an account that organizes nothing (buyers, door staff) or a
// member held back by require_totp (`two_factor_required`); 404 for an organizer of another
// organization, so that no one learns of what they do not manage.
// Thread safety: all methods are safe to call concurrently (the store is; nothing here is mutable).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/catalog.hpp"
#include "app/two_factor.hpp"
#include "base/clock.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/organizations.hpp"

namespace ticketd::app {

struct OrganizationPatch {
  std::optional<std::string> name;
  std::optional<bool> require_totp;
};

class Organizations {
 public:
  Organizations(core::OrganizationStore& store, core::AccountStore& accounts, Catalog& catalog, TwoFactor* two_factor,
                const Clock& clock);

  // Any signed-in account may start an organization and becomes its first member (at most
  // limits::organizations_started_per_account_max each); an administrator may instead name the first
  // member by email (or none). InvalidRequest: a bad name; LimitReached: too many started.
  core::Result<core::Organization> create(const core::User& by, const std::string& name, bool require_totp,
                                          const std::optional<std::string>& first_member_email);
  // Administrators: every organization (a page); others: their own.
  std::vector<core::Organization> visible_to(const core::User& user, core::OrganizationId after, uint32_t limit);
  std::vector<core::Organization> of_member(core::UserId user) { return store_.of_member(user); }
  core::Result<core::Organization> get(const core::User& user, core::OrganizationId id);
  core::Result<core::Organization> update(const core::User& user, core::OrganizationId id, const OrganizationPatch& patch);
  core::Result<core::User> add_member(const core::User& by, core::OrganizationId id, const std::string& email);
  core::Status remove_member(const core::User& by, core::OrganizationId id, core::UserId member);
  core::Result<std::vector<core::OrganizationMember>> members(const core::User& by, core::OrganizationId id);

  // Access decisions (see the top of this file). `organization` 0 is the platform's: administrators only.
  core::Status manage(const core::User& user, core::OrganizationId organization);
  // Administrators and members of any organization; Forbidden for the rest.
  core::Status manage_any(const core::User& user);
  core::Result<core::Event> manage_event(const core::User& user, core::EventId event);
  core::Result<std::shared_ptr<const core::Venue>> manage_venue(const core::User& user, core::VenueId venue);

 private:
  // The refusal for someone who is not a member of `organization` (403 or 404, see the top).
  core::Error refusal(const core::User& user, const char* what);
  core::OrganizationStore& store_;
  core::AccountStore& accounts_;
  Catalog& catalog_;
  TwoFactor* two_factor_;
  const Clock& clock_;
};

}  // namespace ticketd::app
