// /v1/users/me/totp: two-factor login for one's own account (docs/security.md, "Two-factor login").
#include "app/two_factor.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response no_totp() { return error_response(core::Code::NotFound, "two-factor login is not served here"); }

core::Result<std::string> read_code(const std::string& body) {
  auto o = parse_object(body);
  if (!o) return o.error();
  auto code = read_string(*o, "code", 16);
  if (!code) return code.error();
  if (!*code) return core::make_error(core::Code::InvalidRequest, "code is required");
  return **code;
}

Response status(Ctx& c) {
  if (!c.services.two_factor) return no_totp();
  const core::User& user = c.caller();
  return json_response(200, json::object{{"enabled", c.services.two_factor->enabled(user.id)}});
}

Response enrol(Ctx& c) {
  if (!c.services.two_factor) return no_totp();
  const core::User& user = c.caller();
  auto e = c.services.two_factor->enrol(user);
  if (!e) return error_response(e.error());
  Response r = json_response(201, json::object{{"enabled", false},
                                               {"secret", e->secret_base32},
                                               {"otpauth_uri", e->otpauth_uri},
                                               {"algorithm", "SHA1"},
                                               {"digits", app::kTotpDigits},
                                               {"period_s", app::kTotpStepS}});
  r.headers.push_back({"cache-control", "no-store"});  // a secret
  return r;
}

Response confirm(Ctx& c) {
  if (!c.services.two_factor) return no_totp();
  const core::User& user = c.caller();
  auto code = read_code(c.request.body);
  if (!code) return error_response(code.error());
  if (auto s = c.services.two_factor->confirm(user.id, *code); !s) return error_response(s.error());
  return json_response(200, json::object{{"enabled", true}});
}

Response disable(Ctx& c) {
  if (!c.services.two_factor) return no_totp();
  const core::User& user = c.caller();
  auto code = read_code(c.request.body);
  if (!code) return error_response(code.error());
  if (auto s = c.services.two_factor->disable(user.id, *code); !s) return error_response(s.error());
  return json_response(200, json::object{{"enabled", false}});
}

}  // namespace

void add_totp_routes(Router& router) {
  router.add("GET", "/v1/users/me/totp", status);
  router.add("POST", "/v1/users/me/totp", enrol);
  router.add("POST", "/v1/users/me/totp/confirm", confirm);
  router.add("POST", "/v1/users/me/totp/disable", disable);
}

}  // namespace ticketd::http
