// The API's edge policy without a server: route classes, the rate-limit setting's syntax, the limiter's
// scopes, CORS preflights and the security headers.
#include "http/edge.hpp"

#include "http/compression.hpp"
#include "http/etag.hpp"
#include "http/router.hpp"

#include <gtest/gtest.h>

using namespace ticketd;
using namespace ticketd::http;

namespace {
const TimeMs t0 = from_unix_ms(5'000'000);

std::string header(const Response& r, std::string_view name) {
  for (const Header& h : r.headers)
    if (h.name == name) return h.value;
  return "";
}

Request request(std::string method, std::vector<Header> headers = {}) {
  Request r;
  r.method = std::move(method);
  r.target = "/v1/events";
  r.headers = std::move(headers);
  r.remote_address = "10.0.0.1";
  return r;
}
}  // namespace

// The route table as the Api builds it: what each route declares.
const Route& route_of(const std::string& method, const std::string& path) {
  static Router router = [] {
    Router r;
    add_api_routes(r);
    return r;
  }();
  std::vector<std::string> segments;
  for (size_t start = 1; start <= path.size();) {
    const size_t slash = std::min(path.find('/', start), path.size());
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  const Match m = router.match(method, segments);
  if (!m.route) throw std::runtime_error("no route " + method + " " + path);
  return *m.route;
}

RouteClass class_of(const std::string& method, const std::string& path) { return route_of(method, path).limit; }

TEST(RouteClass, HoldsLoginsAndSignUpsHaveTheirOwnClasses) {
  EXPECT_EQ(class_of("POST", "/v1/events/7/holds"), RouteClass::hold);
  EXPECT_EQ(class_of("POST", "/v1/events/7/queue"), RouteClass::hold);
  EXPECT_EQ(class_of("POST", "/v1/sessions"), RouteClass::login);
  EXPECT_EQ(class_of("POST", "/v1/users/me/password"), RouteClass::login);
  EXPECT_EQ(class_of("POST", "/v1/password-resets/confirm"), RouteClass::login);
  EXPECT_EQ(class_of("POST", "/v1/users"), RouteClass::signup);
  EXPECT_EQ(class_of("POST", "/v1/password-resets"), RouteClass::signup);
  EXPECT_EQ(class_of("POST", "/v1/holds/3/checkout"), RouteClass::write);
  EXPECT_EQ(class_of("DELETE", "/v1/holds/3"), RouteClass::write);
  EXPECT_EQ(class_of("GET", "/v1/events/7/seats"), RouteClass::read);
  EXPECT_EQ(unrouted_class("HEAD"), RouteClass::read);
  EXPECT_EQ(unrouted_class("GET"), RouteClass::read);
  EXPECT_EQ(unrouted_class("POST"), RouteClass::write);
  EXPECT_EQ(class_of("PATCH", "/v1/users/me"), RouteClass::write);
  EXPECT_EQ(class_of("POST", "/v1/venues"), RouteClass::admin);
  EXPECT_EQ(class_of("POST", "/v1/events"), RouteClass::admin);
  EXPECT_EQ(class_of("PUT", "/v1/events/7/waiting-room"), RouteClass::admin);
  EXPECT_EQ(class_of("POST", "/v1/admin/users:bulk"), RouteClass::admin);
  EXPECT_EQ(class_of("GET", "/v1/admin/notifications"), RouteClass::read);
}

TEST(RouteClass, OperatorRoutesAndTheSignedWebhookAreExempt) {
  EXPECT_EQ(class_of("GET", "/healthz"), RouteClass::exempt);
  EXPECT_EQ(class_of("GET", "/metrics"), RouteClass::exempt);
  EXPECT_EQ(class_of("POST", "/v1/payments/stripe/webhook"), RouteClass::exempt);
}

TEST(RouteTable, AccountFormsTakeSmallBodiesAndAdministratorsChangesAreAudited) {
  EXPECT_EQ(route_of("POST", "/v1/sessions").body_bytes_max, kFormBodyBytesMax);
  EXPECT_EQ(route_of("POST", "/v1/users").body_bytes_max, kFormBodyBytesMax);
  EXPECT_EQ(route_of("POST", "/v1/venues").body_bytes_max, 0u) << "venues are large: the transport's limit";
  EXPECT_EQ(route_of("POST", "/v1/events").audit, Audit::request_and_result);
  EXPECT_EQ(route_of("POST", "/v1/admin/users:bulk").audit, Audit::request) << "its answer holds tokens";
  EXPECT_EQ(route_of("POST", "/v1/events/7/holds").audit, Audit::none);
}

TEST(RateLimitSpec, DefaultsMakeHoldsAndLoginsStricterThanReads) {
  const RateLimitConfig c = default_rate_limits();
  const auto i = [](RouteClass rc) { return static_cast<size_t>(rc); };
  EXPECT_LT(c.per_user[i(RouteClass::hold)].per_s, c.per_user[i(RouteClass::read)].per_s);
  EXPECT_LT(c.per_ip[i(RouteClass::hold)].per_s, c.per_ip[i(RouteClass::read)].per_s);
  EXPECT_LT(c.per_ip[i(RouteClass::login)].per_s, c.per_ip[i(RouteClass::hold)].per_s);
  EXPECT_LT(c.per_ip[i(RouteClass::signup)].per_s, c.per_ip[i(RouteClass::hold)].per_s);
  for (size_t k = 0; k < kLimitedClasses; ++k) {
    EXPECT_TRUE(core::rate_rule_valid(c.per_ip[k]));
    EXPECT_TRUE(core::rate_rule_valid(c.per_user[k]));
  }
}

TEST(RateLimitSpec, ItemsChangeOneLimitEach) {
  RateLimitConfig c = default_rate_limits();
  EXPECT_EQ(apply_rate_limit_spec(c, " hold.user=0.5/3 , login.ip=off,read.ip=0"), "");
  EXPECT_DOUBLE_EQ(c.per_user[static_cast<size_t>(RouteClass::hold)].per_s, 0.5);
  EXPECT_DOUBLE_EQ(c.per_user[static_cast<size_t>(RouteClass::hold)].burst, 3);
  EXPECT_FALSE(c.per_ip[static_cast<size_t>(RouteClass::login)].on());
  EXPECT_FALSE(c.per_ip[static_cast<size_t>(RouteClass::read)].on());
  EXPECT_TRUE(c.per_ip[static_cast<size_t>(RouteClass::hold)].on());  // untouched
  EXPECT_EQ(apply_rate_limit_spec(c, ""), "");
}

TEST(RateLimitSpec, BadItemsAreNamed) {
  RateLimitConfig c;
  for (const char* bad : {"hold", "hold.user", "hold.user=", "hold.user=5", "hold.user=x/5", "hold.user=5/0",
                          "hold.user=-1/5", "hold.user=5/5x", "hold.nobody=5/5", "exempt.ip=5/5", "bogus.ip=1/1",
                          "hold.user=2000000/5", "hold.user=1/20000000"}) {
    const std::string error = apply_rate_limit_spec(c, bad);
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(RateLimiter, PerIpAndPerSessionBucketsAreSeparate) {
  RateLimitConfig c = default_rate_limits();
  ASSERT_EQ(apply_rate_limit_spec(c, "hold.ip=1/3,hold.user=1/2"), "");
  RateLimiter limiter(c);
  EXPECT_FALSE(limiter.admit(RouteClass::hold, "10.0.0.1", "tok-a", t0));
  EXPECT_FALSE(limiter.admit(RouteClass::hold, "10.0.0.1", "tok-a", t0));
  const auto refused = limiter.admit(RouteClass::hold, "10.0.0.1", "tok-a", t0);  // session empty
  ASSERT_TRUE(refused);
  EXPECT_EQ(*refused, Millis(1000));
  EXPECT_FALSE(limiter.admit(RouteClass::hold, "10.0.0.1", "tok-b", t0));  // the IP's third token
  EXPECT_TRUE(limiter.admit(RouteClass::hold, "10.0.0.1", "tok-c", t0));   // the IP is empty now
  EXPECT_FALSE(limiter.admit(RouteClass::hold, "10.0.0.2", "tok-c", t0));  // another IP
  EXPECT_FALSE(limiter.admit(RouteClass::read, "10.0.0.1", "tok-a", t0));  // another class
  EXPECT_FALSE(limiter.admit(RouteClass::exempt, "10.0.0.1", "tok-a", t0));
  EXPECT_FALSE(limiter.admit(RouteClass::hold, "10.0.0.1", "tok-a", t0 + Millis(1000)));  // refilled
  std::string metrics;
  limiter.render_metrics(metrics);
  EXPECT_NE(metrics.find("ticketd_rate_limited_total{class=\"hold\",scope=\"user\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("ticketd_rate_limited_total{class=\"hold\",scope=\"ip\"} 1"), std::string::npos);
}

TEST(RateLimiter, ExemptAddressesAndTheOffSwitchAdmitEverything) {
  RateLimitConfig c = default_rate_limits();
  ASSERT_EQ(apply_rate_limit_spec(c, "read.ip=1/1"), "");
  c.exempt_ips = {"10.9.9.9"};
  RateLimiter limiter(c);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(limiter.admit(RouteClass::read, "10.9.9.9", "", t0));
  c.enabled = false;
  RateLimiter off(c);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(off.admit(RouteClass::read, "10.0.0.1", "", t0));
}

TEST(Cors, NoOriginIsAllowedByDefault) {
  const EdgePolicy policy;
  const auto answer = preflight(
      request("OPTIONS", {{"origin", "https://a.example"}, {"access-control-request-method", "POST"}}), policy);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 403);
  EXPECT_EQ(header(*answer, "access-control-allow-origin"), "");
  EXPECT_FALSE(preflight(request("OPTIONS"), policy));  // not a preflight
  EXPECT_FALSE(preflight(request("GET", {{"origin", "https://a.example"}}), policy));
  Response r;
  decorate(r, request("GET", {{"origin", "https://a.example"}}), policy);
  EXPECT_EQ(header(r, "access-control-allow-origin"), "");
}

TEST(Cors, AListedOriginGetsExactlyItsOwnOriginBack) {
  const EdgePolicy policy{{"https://shop.example"}};
  const auto answer = preflight(
      request("OPTIONS", {{"origin", "https://shop.example"}, {"access-control-request-method", "DELETE"}}), policy);
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 204);
  EXPECT_EQ(header(*answer, "access-control-allow-origin"), "https://shop.example");
  EXPECT_NE(header(*answer, "access-control-allow-methods").find("DELETE"), std::string::npos);
  Response r;
  decorate(r, request("GET", {{"origin", "https://shop.example"}}), policy);
  EXPECT_EQ(header(r, "access-control-allow-origin"), "https://shop.example");
  EXPECT_EQ(header(r, "vary"), "origin");
  Response other;
  decorate(other, request("GET", {{"origin", "https://shop.example.evil"}}), policy);
  EXPECT_EQ(header(other, "access-control-allow-origin"), "");
}

TEST(SecurityHeaders, EveryResponseGetsThemAndAPageKeepsItsOwnPolicy) {
  Response api;
  decorate(api, request("GET"), EdgePolicy{});
  EXPECT_EQ(header(api, "x-content-type-options"), "nosniff");
  EXPECT_EQ(header(api, "x-frame-options"), "DENY");
  EXPECT_EQ(header(api, "referrer-policy"), "no-referrer");
  EXPECT_EQ(header(api, "content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
  Response page;
  page.headers = {{"content-security-policy", "default-src 'self'"}, {"x-content-type-options", "nosniff"}};
  decorate(page, request("GET"), EdgePolicy{});
  int csp = 0;
  int nosniff = 0;
  for (const Header& h : page.headers) {
    csp += h.name == "content-security-policy";
    nosniff += h.name == "x-content-type-options";
  }
  EXPECT_EQ(csp, 1);
  EXPECT_EQ(nosniff, 1);
  EXPECT_EQ(header(page, "content-security-policy"), "default-src 'self'");
}

// ---- gzip (http/compression) -------------------------------------------------------------------

namespace ticketd::http {
namespace {

Request with_accept_encoding(std::string_view value) {
  Request r;
  r.method = "GET";
  r.target = "/";
  if (!value.empty()) r.headers.push_back({"accept-encoding", std::string(value)});
  return r;
}

TEST(Gzip, AcceptEncodingIsReadWithItsQValues) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("br, deflate"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip; q=0.000"));
  EXPECT_FALSE(accepts_gzip("xgzip"));
}

TEST(Gzip, LargeJsonIsCompressedWithVaryAndAGzipEtag) {
  Response r;
  r.body = "[" + std::string(5000, ' ') + "]";
  r.headers.push_back({"etag", "\"0123456789abcdef\""});
  gzip_if_accepted(with_accept_encoding("gzip"), r);
  EXPECT_LT(r.body.size(), 200u);
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);  // the gzip magic
  EXPECT_EQ(static_cast<unsigned char>(r.body[1]), 0x8b);
  auto header = [&](std::string_view name) {
    for (const Header& h : r.headers)
      if (h.name == name) return h.value;
    return std::string();
  };
  EXPECT_EQ(header("content-encoding"), "gzip");
  EXPECT_EQ(header("vary"), "accept-encoding");
  EXPECT_EQ(header("etag"), "\"0123456789abcdef-gzip\"");
  EXPECT_TRUE(etag_matches("\"0123456789abcdef-gzip\"", "\"0123456789abcdef\""));
  EXPECT_FALSE(etag_matches("\"0123456789abcdee-gzip\"", "\"0123456789abcdef\""));
}

TEST(Gzip, SmallBodiesOtherTypesAndRefusingClientsAreLeftAsTheyAre) {
  Response small;
  small.body = "{}";
  gzip_if_accepted(with_accept_encoding("gzip"), small);
  EXPECT_EQ(small.body, "{}");
  ASSERT_EQ(small.headers.size(), 1u);  // but caches are told it could vary
  EXPECT_EQ(small.headers[0].value, "accept-encoding");
  Response png;
  png.content_type = "image/png";
  png.body = std::string(5000, 'x');
  gzip_if_accepted(with_accept_encoding("gzip"), png);
  EXPECT_EQ(png.body.size(), 5000u);
  EXPECT_TRUE(png.headers.empty());
  Response json;
  json.body = std::string(5000, ' ');
  json.headers.push_back({"vary", "origin"});
  gzip_if_accepted(with_accept_encoding("identity"), json);
  EXPECT_EQ(json.body.size(), 5000u);
  EXPECT_EQ(json.headers[0].value, "origin, accept-encoding");
}

}  // namespace
}  // namespace ticketd::http
