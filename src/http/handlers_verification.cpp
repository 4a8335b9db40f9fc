// Verification of an account's email address and phone number, and password reset by email
// (app/account_links; docs/security.md, "Accounts: verification and password reset").
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

constexpr size_t kTokenBytesMax = 128;  // a link token is ~55 bytes; longer is refused unread

Response unavailable() { return error_response(core::Code::NotFound, "account verification is not configured"); }

// POST /v1/users/me/email/verification: mail the link (again). 202: queued (or verified already).
Response send_email_link(Ctx& c) {
  const core::User& user = c.caller();
  if (!c.services.account_links) return unavailable();
  if (auto s = c.services.account_links->send_email_link(user); !s) return error_response(s.error());
  return json_response(202, json::object{{"email_verified", user.email_verified}});
}

// POST /v1/email-verifications {token}: the link was opened. No session needed: a link mailed to an
// address proves the address, whoever's browser opens it.
Response verify_email(Ctx& c) {
  if (!c.services.account_links) return unavailable();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto token = read_string(*body, "token", kTokenBytesMax);
  if (!token) return error_response(token.error());
  if (!*token) return error_response(core::Code::InvalidRequest, "token is required");
  if (auto s = c.services.account_links->verify_email(**token); !s) return error_response(s.error());
  return no_content();
}

// POST /v1/users/me/phone/verification: send a code to the account's phone (SMS webhook).
Response send_phone_code(Ctx& c) {
  const core::User& user = c.caller();
  if (!c.services.account_links) return unavailable();
  if (auto s = c.services.account_links->send_phone_code(user.id); !s) return error_response(s.error());
  return json_response(202, json::object{{"sent_to", c.services.notifications.prefs(user.id).phone}});
}

// POST /v1/users/me/phone/verification/confirm {code}
Response verify_phone(Ctx& c) {
  const core::User& user = c.caller();
  if (!c.services.account_links) return unavailable();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto code = read_string(*body, "code", 16);
  if (!code) return error_response(code.error());
  if (!*code) return error_response(core::Code::InvalidRequest, "code is required");
  if (auto s = c.services.account_links->verify_phone(user.id, **code); !s) return error_response(s.error());
  return no_content();
}

// POST /v1/password-resets {email}: 202 whether or not an account has the address.
Response request_reset(Ctx& c) {
  if (!c.services.account_links) return unavailable();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto email = read_string(*body, "email", 1024);
  if (!email) return error_response(email.error());
  if (!*email) return error_response(core::Code::InvalidRequest, "email is required");
  if (auto s = c.services.account_links->request_password_reset(**email); !s) return error_response(s.error());
  return json_response(202, json::object{{"status", "if an account has this address, a link is on its way"}});
}

// POST /v1/password-resets/confirm {token, new_password}: every session of the account ends.
Response reset_password(Ctx& c) {
  if (!c.services.account_links) return unavailable();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto token = read_string(*body, "token", kTokenBytesMax);
  auto password = read_string(*body, "new_password", 1024);
  if (!token) return error_response(token.error());
  if (!password) return error_response(password.error());
  if (!*token || !*password) return error_response(core::Code::InvalidRequest, "token and new_password are required");
  if (auto s = c.services.account_links->reset_password(**token, **password); !s) return error_response(s.error());
  return no_content();
}

}  // namespace

void add_verification_routes(Router& router) {
  router.add("POST", "/v1/users/me/email/verification", send_email_link, {.limit = RouteClass::signup, .body_bytes_max = kFormBodyBytesMax});
  router.add("POST", "/v1/email-verifications", verify_email, {.who = Caller::anyone, .limit = RouteClass::login, .body_bytes_max = kFormBodyBytesMax});
  router.add("POST", "/v1/users/me/phone/verification", send_phone_code, {.limit = RouteClass::signup, .body_bytes_max = kFormBodyBytesMax});
  router.add("POST", "/v1/users/me/phone/verification/confirm", verify_phone, {.limit = RouteClass::login, .body_bytes_max = kFormBodyBytesMax});
  router.add("POST", "/v1/password-resets", request_reset, {.who = Caller::anyone, .limit = RouteClass::signup, .body_bytes_max = kFormBodyBytesMax});
  router.add("POST", "/v1/password-resets/confirm", reset_password, {.who = Caller::anyone, .limit = RouteClass::login, .body_bytes_max = kFormBodyBytesMax});
}

}  // namespace ticketd::http
