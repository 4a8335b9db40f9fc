// /v1/organizations: organizations, their members and their audit log (docs/console.md, "Organizations
// and roles"). Who may do what is decided in app/organizations; this file only translates HTTP.
#include "app/organizations.hpp"
#include "core/limits.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response no_organizations() { return error_response(core::Code::NotFound, "organizations are not served here"); }

json::object to_json(const core::Organization& o) {
  return {{"id", o.id}, {"name", o.name}, {"require_totp", o.require_totp}, {"created_at", format_rfc3339(o.created_at)}};
}

Response create_organization(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto name = read_string(*body, "name", core::limits::name_bytes_max);
  if (!name) return error_response(name.error());
  if (!*name) return error_response(core::Code::InvalidRequest, "name is required");
  auto first = read_string(*body, "first_member_email", core::limits::email_bytes_max);
  if (!first) return error_response(first.error());
  bool require_totp = false;
  if (auto it = body->find("require_totp"); it != body->end()) {
    if (!it->value().is_bool()) return error_response(core::Code::InvalidRequest, "require_totp: must be true or false");
    require_totp = it->value().as_bool();
  }
  auto org = c.services.organizations->create(user, **name, require_totp, *first);
  if (!org) return error_response(org.error());
  c.audit_organization = org->id;
  return json_response(201, to_json(*org));
}

Response list_organizations(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  auto after = c.after_id("an organization id");
  if (!after) return error_response(after.error());
  const uint32_t limit = core::limits::page_size_max;
  const auto orgs = c.services.organizations->visible_to(user, *after, limit);
  json::array out;
  for (const core::Organization& o : orgs) out.push_back(to_json(o));
  json::object page{{"organizations", std::move(out)}};
  page["next"] = orgs.size() == limit ? json::value(std::to_string(orgs.back().id)) : json::value(nullptr);
  Response r = json_response(200, page);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response get_organization(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  auto org = c.services.organizations->get(user, c.ids[0]);
  if (!org) return error_response(org.error());
  Response r = json_response(200, to_json(*org));
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response patch_organization(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  if (auto before = c.services.organizations->get(user, c.ids[0])) c.audit_before = json::serialize(to_json(*before));
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  app::OrganizationPatch patch;
  for (const auto& kv : *body) {
    if (kv.key() == "name") {
      if (!kv.value().is_string()) return error_response(core::Code::InvalidRequest, "name: a string");
      patch.name = std::string(kv.value().as_string());
    } else if (kv.key() == "require_totp") {
      if (!kv.value().is_bool()) return error_response(core::Code::InvalidRequest, "require_totp: must be true or false");
      patch.require_totp = kv.value().as_bool();
    } else {
      return error_response(core::Code::InvalidRequest, std::string(kv.key()) + ": unknown field (name, require_totp)");
    }
  }
  auto org = c.services.organizations->update(user, c.ids[0], patch);
  if (!org) return error_response(org.error());
  return json_response(200, to_json(*org));
}

Response list_members(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  auto members = c.services.organizations->members(user, c.ids[0]);
  if (!members) return error_response(members.error());
  json::array out;
  for (const core::OrganizationMember& m : *members)
    out.push_back(json::object{
        {"user_id", m.user_id}, {"email", m.email}, {"name", m.name}, {"added_at", format_rfc3339(m.added_at)}});
  Response r = json_response(200, json::object{{"organization_id", c.ids[0]}, {"members", std::move(out)}});
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response add_member(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto email = read_string(*body, "email", core::limits::email_bytes_max);
  if (!email) return error_response(email.error());
  if (!*email) return error_response(core::Code::InvalidRequest, "email is required");
  auto added = c.services.organizations->add_member(user, c.ids[0], **email);
  if (!added) return error_response(added.error());
  return json_response(201, json::object{{"organization_id", c.ids[0]}, {"user_id", added->id}, {"email", added->email}});
}

Response remove_member(Ctx& c) {
  if (!c.services.organizations) return no_organizations();
  const core::User& user = c.caller();
  if (auto s = c.services.organizations->remove_member(user, c.ids[0], c.ids[1]); !s) return error_response(s.error());
  return no_content();
}

}  // namespace

void add_organization_routes(Router& router) {
  router.add("POST", "/v1/organizations", create_organization, {.audit = Audit::request_and_result});
  router.add("GET", "/v1/organizations", list_organizations);
  router.add("GET", "/v1/organizations/{id}", get_organization);
  router.add("PATCH", "/v1/organizations/{id}", patch_organization, {.who = Caller::organization_manager, .audit = Audit::request_and_result});
  router.add("GET", "/v1/organizations/{id}/members", list_members, {.who = Caller::organization_manager});
  router.add("POST", "/v1/organizations/{id}/members", add_member, {.who = Caller::organization_manager, .audit = Audit::request_and_result});
  router.add("DELETE", "/v1/organizations/{id}/members/{id}", remove_member, {.who = Caller::organization_manager, .audit = Audit::request});
}

}  // namespace ticketd::http
