#include "app/organizations.hpp"

#include "app/email_address.hpp"
#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Organizations::Organizations(core::OrganizationStore& store, core::AccountStore& accounts, Catalog& catalog,
                             TwoFactor* two_factor, const Clock& clock)
    : store_(store), accounts_(accounts), catalog_(catalog), two_factor_(two_factor), clock_(clock) {}

namespace {

bool is_admin(const core::User& u) { return u.role == core::Role::Admin; }

// An organization's name is shown like a person's: the same rule.
core::Status check_name(const std::string& name) { return core::validate_person_name(name); }

}  // namespace

core::Result<core::Organization> Organizations::create(const core::User& by, const std::string& name,
                                                       bool require_totp,
                                                       const std::optional<std::string>& first_member_email) {
  if (auto s = check_name(name); !s) return s.error();
  core::UserId first_member = by.id;
  if (first_member_email) {
    if (!is_admin(by)) return make_error(Code::InvalidRequest, "first_member_email: administrators only; you are the first member");
    auto key = normalize_email(*first_member_email);
    if (!key) return key.error();
    auto user = accounts_.find_user_by_email(*key);
    if (!user) return make_error(Code::NotFound, "no user with this email");
    first_member = user->user.id;
  } else if (is_admin(by)) {
    first_member = 0;  // the platform's administrators manage it; members are added by email
  }
  if (!is_admin(by) && store_.created_by_count(by.id) >= core::limits::organizations_started_per_account_max)
    return make_error(Code::LimitReached, "an account starts at most 3 organizations");
  if (first_member != 0 && store_.of_member(first_member).size() >= core::limits::organizations_per_member_max)
    return make_error(Code::LimitReached, "an account is a member of at most 20 organizations");
  core::Organization draft;
  draft.name = name;
  draft.require_totp = require_totp;
  draft.created_by = by.id;
  return store_.create(std::move(draft), first_member, clock_.now());
}

std::vector<core::Organization> Organizations::visible_to(const core::User& user, core::OrganizationId after,
                                                          uint32_t limit) {
  if (is_admin(user)) return store_.list(after, limit);
  std::vector<core::Organization> out;
  for (core::Organization& o : store_.of_member(user.id))
    if (o.id > after && out.size() < limit) out.push_back(std::move(o));
  return out;
}

core::Error Organizations::refusal(const core::User& user, const char* what) {
  if (store_.of_member(user.id).empty()) return make_error(Code::Forbidden, "organizers and administrators only");
  return make_error(Code::NotFound, std::string("no such ") + what);
}

core::Status Organizations::manage_any(const core::User& user) {
  if (is_admin(user) || !store_.of_member(user.id).empty()) return core::ok_status();
  return make_error(Code::Forbidden, "organizers and administrators only");
}

core::Status Organizations::manage(const core::User& user, core::OrganizationId organization) {
  if (is_admin(user)) return core::ok_status();
  if (organization == 0 || !store_.is_member(organization, user.id)) return refusal(user, "organization");
  auto org = store_.find(organization);
  if (!org) return refusal(user, "organization");
  if (org->require_totp && !(two_factor_ && two_factor_->enabled(user.id))) {
    core::Error e = make_error(Code::Forbidden, "this organization requires two-factor login: turn it on first");
    e.detail = "two_factor_required";
    return e;
  }
  return core::ok_status();
}

core::Result<core::Event> Organizations::manage_event(const core::User& user, core::EventId event_id) {
  auto event = catalog_.event(event_id);
  if (!event) {
    if (event.error().code == Code::NotFound && !is_admin(user) && store_.of_member(user.id).empty())
      return make_error(Code::Forbidden, "organizers and administrators only");
    return event.error();
  }
  if (auto s = manage(user, event->organization_id); !s) {
    if (s.error().code == Code::NotFound) return make_error(Code::NotFound, "no such event");
    return s.error();
  }
  return event;
}

core::Result<std::shared_ptr<const core::Venue>> Organizations::manage_venue(const core::User& user,
                                                                             core::VenueId venue_id) {
  auto venue = catalog_.venue(venue_id);
  if (!venue) return venue.error();
  if (auto s = manage(user, (*venue)->organization_id); !s) {
    if (s.error().code == Code::NotFound) return make_error(Code::NotFound, "no such venue");
    return s.error();
  }
  return venue;
}

core::Result<core::Organization> Organizations::get(const core::User& user, core::OrganizationId id) {
  if (auto s = manage(user, id); !s) return s.error();
  auto org = store_.find(id);
  if (!org) return make_error(Code::NotFound, "no such organization");
  return *org;
}

core::Result<core::Organization> Organizations::update(const core::User& user, core::OrganizationId id,
                                                       const OrganizationPatch& patch) {
  auto org = get(user, id);
  if (!org) return org.error();
  if (patch.name) {
    if (auto s = check_name(*patch.name); !s) return s.error();
    org->name = *patch.name;
  }
  if (patch.require_totp) org->require_totp = *patch.require_totp;
  if (auto s = store_.update(*org); !s) return s.error();
  return org;
}

core::Result<core::User> Organizations::add_member(const core::User& by, core::OrganizationId id,
                                                   const std::string& email) {
  if (auto s = manage(by, id); !s) return s.error();
  if (!store_.find(id)) return make_error(Code::NotFound, "no such organization");
  auto key = normalize_email(email);
  if (!key) return key.error();
  auto user = accounts_.find_user_by_email(*key);
  if (!user) return make_error(Code::NotFound, "no user with this email: they sign up first");
  if (store_.members(id, core::limits::organization_members_max).size() >= core::limits::organization_members_max)
    return make_error(Code::LimitReached, "an organization has at most 200 members");
  if (store_.of_member(user->user.id).size() >= core::limits::organizations_per_member_max)
    return make_error(Code::LimitReached, "an account is a member of at most 20 organizations");
  if (auto s = store_.add_member(id, user->user.id, clock_.now()); !s) return s.error();
  return user->user;
}

core::Status Organizations::remove_member(const core::User& by, core::OrganizationId id, core::UserId member) {
  if (auto s = manage(by, id); !s) return s.error();
  return store_.remove_member(id, member);
}

core::Result<std::vector<core::OrganizationMember>> Organizations::members(const core::User& by,
                                                                           core::OrganizationId id) {
  if (auto s = manage(by, id); !s) return s.error();
  return store_.members(id, core::limits::organization_members_max);
}

}  // namespace ticketd::app
