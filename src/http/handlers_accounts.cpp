// /v1/users, /v1/sessions, /v1/me
#include "core/limits.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response register_user(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto email = read_string(*body, "email", 1024);
  auto password = read_string(*body, "password", 1024);
  auto name = read_string(*body, "name", 1024);
  for (auto* r : {&email, &password, &name})
    if (!*r) return error_response(r->error());
  if (!*email || !*password || !*name)
    return error_response(core::Code::InvalidRequest, "email, password and name are required");
  auto user = c.services.accounts.register_user(**email, **password, **name);
  if (!user) return error_response(user.error());
  return json_response(201, to_json(*user));
}

Response login(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto email = read_string(*body, "email", 1024);
  auto password = read_string(*body, "password", 1024);
  if (!email) return error_response(email.error());
  if (!password) return error_response(password.error());
  if (!*email || !*password) return error_response(core::Code::InvalidRequest, "email and password are required");
  auto totp = read_string(*body, "totp_code", 16);
  if (!totp) return error_response(totp.error());
  auto session = c.services.accounts.login(**email, **password, c.request.remote_address, totp->value_or(""));
  if (!session) return error_response(session.error());
  return json_response(201, json::object{{"token", session->token},
                                         {"user_id", session->user_id},
                                         {"expires_at", format_rfc3339(session->expires_at)}});
}

Response logout(Ctx& c) {
  const std::string_view token = c.request.header("authorization").substr(7);
  if (auto s = c.services.accounts.logout(token); !s) return error_response(s.error());
  return no_content();
}

// DELETE /v1/sessions: log out everywhere (every session of the caller's account, this one too).
Response logout_everywhere(Ctx& c) {
  const core::User& user = c.caller();
  if (auto s = c.services.accounts.logout_everywhere(user.id); !s) return error_response(s.error());
  return no_content();
}

// POST /v1/users/me/password {current_password, new_password}: every other session ends.
Response change_password(Ctx& c) {
  const core::User& user = c.caller();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto current = read_string(*body, "current_password", 1024);
  auto next = read_string(*body, "new_password", 1024);
  if (!current) return error_response(current.error());
  if (!next) return error_response(next.error());
  if (!*current || !*next)
    return error_response(core::Code::InvalidRequest, "current_password and new_password are required");
  const std::string_view token = c.request.header("authorization").substr(7);
  if (auto s = c.services.accounts.change_password(user, token, **current, **next, c.request.remote_address); !s)
    return error_response(s.error());
  return no_content();
}

// The account, and the organizations it organizes for (the web app offers the console to those).
Response me(Ctx& c) {
  const core::User& user = c.caller();
  json::object out = to_json(user);
  json::array orgs;
  if (c.services.organizations)
    for (const core::Organization& o : c.services.organizations->of_member(user.id))
      orgs.push_back(json::object{{"id", o.id}, {"name", o.name}, {"require_totp", o.require_totp}});
  out["organizations"] = std::move(orgs);
  Response r = json_response(200, out);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

// POST /v1/admin/users:bulk: administrators provision many users with a session each (load tests).
Response provision_users(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto count = read_int(*body, "count", 1, core::limits::provisioned_users_per_request_max);
  auto first = read_int(*body, "first", 0, core::limits::provision_first_index_max);
  auto prefix = read_string(*body, "email_prefix", core::limits::provision_email_prefix_bytes_max);
  auto domain = read_string(*body, "email_domain", core::limits::provision_email_domain_bytes_max);
  auto name = read_string(*body, "name", core::limits::name_bytes_max);
  if (!count) return error_response(count.error());
  if (!first) return error_response(first.error());
  for (auto* r : {&prefix, &domain, &name})
    if (!*r) return error_response(r->error());
  if (!*count || !*prefix) return error_response(core::Code::InvalidRequest, "count and email_prefix are required");
  app::ProvisionRequest request{**prefix, domain->value_or("bulk.ticketd.invalid"), first->value_or(0),
                                static_cast<uint32_t>(**count), name->value_or("Provisioned User")};
  auto provisioned = c.services.accounts.provision_users(request);
  if (!provisioned) return error_response(provisioned.error());
  json::array users;
  users.reserve(provisioned->users.size());
  for (const auto& u : provisioned->users)
    users.push_back(json::object{{"id", u.user.id}, {"email", u.user.email}, {"token", u.token}});
  return json_response(
      201, json::object{{"users", std::move(users)}, {"expires_at", format_rfc3339(provisioned->expires_at)}});
}

}  // namespace

void add_account_routes(Router& router) {
  router.add("POST", "/v1/users", register_user, {.who = Caller::anyone, .limit = RouteClass::signup, .body_bytes_max = kFormBodyBytesMax});
  router.add("POST", "/v1/sessions", login, {.who = Caller::anyone, .limit = RouteClass::login, .body_bytes_max = kFormBodyBytesMax});
  router.add("DELETE", "/v1/sessions/current", logout);
  router.add("DELETE", "/v1/sessions", logout_everywhere);
  router.add("POST", "/v1/users/me/password", change_password, {.limit = RouteClass::login, .body_bytes_max = kFormBodyBytesMax});
  router.add("GET", "/v1/me", me);
  router.add("POST", "/v1/admin/users:bulk", provision_users, {.who = Caller::admin, .limit = RouteClass::admin, .audit = Audit::request});  // the answer holds session tokens
}

}  // namespace ticketd::http
