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
    return error_response(400, "invalid_request", "email, password and name are required");
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
  if (!*email || !*password) return error_response(400, "invalid_request", "email and password are required");
  auto session = c.services.accounts.login(**email, **password);
  if (!session) return error_response(session.error());
  return json_response(201, json::object{{"token", session->token},
                                         {"user_id", session->user_id},
                                         {"expires_at", format_rfc3339(session->expires_at)}});
}

Response logout(Ctx& c) {
  auto user = c.user();
  if (!user) return error_response(user.error());
  const std::string_view token = c.request.header("authorization").substr(7);
  if (auto s = c.services.accounts.logout(token); !s) return error_response(s.error());
  return no_content();
}

Response me(Ctx& c) {
  auto user = c.user();
  if (!user) return error_response(user.error());
  return json_response(200, to_json(*user));
}

}  // namespace

void add_account_routes(Router& router) {
  router.add("POST", "/v1/users", register_user);
  router.add("POST", "/v1/sessions", login);
  router.add("DELETE", "/v1/sessions/current", logout);
  router.add("GET", "/v1/me", me);
}

}  // namespace ticketd::http
