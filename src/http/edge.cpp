#include "http/edge.hpp"

#include <algorithm>
#include <charconv>
#include <functional>

#include "base/assert.hpp"
#include "http/errors.hpp"
#include "http/security_headers.hpp"

namespace ticketd::http {

namespace {

constexpr std::string_view kClassNames[] = {"read", "hold", "write", "login", "signup", "admin", "exempt"};
static_assert(std::size(kClassNames) == kLimitedClasses + 1);

size_t index_of(RouteClass c) {
  TICKETD_ASSERT(c != RouteClass::exempt);
  return static_cast<size_t>(c);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool parse_number(std::string_view text, double& out) {
  text = trim(text);
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// One "CLASS.SCOPE=RATE/BURST" item.
std::string apply_item(RateLimitConfig& config, std::string_view item) {
  const std::string shown(item.substr(0, 80));
  const size_t eq = item.find('=');
  const size_t dot = item.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot > eq)
    return "'" + shown + "': expected CLASS.SCOPE=RATE/BURST (e.g. hold.user=5/20)";
  const std::string_view name = trim(item.substr(0, dot));
  const std::string_view scope = trim(item.substr(dot + 1, eq - dot - 1));
  const std::string_view value = trim(item.substr(eq + 1));
  const auto found = std::find(std::begin(kClassNames), std::begin(kClassNames) + kLimitedClasses, name);
  if (found == std::begin(kClassNames) + kLimitedClasses)
    return "'" + shown + "': class must be read, hold, write, login, signup or admin";
  if (scope != "ip" && scope != "user") return "'" + shown + "': scope must be ip or user";
  const size_t c = static_cast<size_t>(found - std::begin(kClassNames));
  core::RateRule rule;
  if (value != "0" && value != "off") {
    const size_t slash = value.find('/');
    if (slash == std::string_view::npos || !parse_number(value.substr(0, slash), rule.per_s) ||
        !parse_number(value.substr(slash + 1), rule.burst) || rule.per_s <= 0 || !core::rate_rule_valid(rule))
      return "'" + shown + "': RATE/BURST needs 0 < RATE <= 1000000 per second and 1 <= BURST <= 10000000";
  }
  (scope == "ip" ? config.per_ip : config.per_user)[c] = rule;
  return "";
}

uint64_t bucket_key(RouteClass c, bool user, std::string_view client) {
  // The class and scope go in as a prefix byte each; std::hash of the whole is well spread, and a
  // collision only makes two clients share one bucket.
  std::string key;
  key.reserve(client.size() + 2);
  key.push_back(static_cast<char>('0' + static_cast<int>(c)));
  key.push_back(user ? 'u' : 'i');
  key.append(client);
  return std::hash<std::string>{}(key);
}

bool origin_listed(std::string_view origin, const EdgePolicy& policy) {
  if (origin.empty()) return false;
  return std::find(policy.cors_origins.begin(), policy.cors_origins.end(), origin) != policy.cors_origins.end();
}

bool has_header(const Response& r, std::string_view lower_name) { return response_has_header(r, lower_name); }

constexpr std::string_view kAllowMethods = "GET, HEAD, POST, PUT, PATCH, DELETE";
constexpr std::string_view kAllowHeaders =
    "authorization, content-type, idempotency-key, x-access-token, last-event-id";
constexpr std::string_view kExposeHeaders = "retry-after, etag, location";
constexpr std::string_view kPreflightMaxAge = "600";  // seconds a browser may cache a preflight answer

}  // namespace

std::string_view route_class_name(RouteClass c) {
  return kClassNames[static_cast<size_t>(c)];
}

RouteClass unrouted_class(std::string_view method) {
  return method == "GET" || method == "HEAD" ? RouteClass::read : RouteClass::write;
}

RateLimitConfig default_rate_limits() {
  RateLimitConfig c;
  auto set = [&c](RouteClass rc, core::RateRule ip, core::RateRule user) {
    c.per_ip[index_of(rc)] = ip;
    c.per_user[index_of(rc)] = user;
  };
  // Per IP: high, because one address may be a NAT or a proxy in front of many buyers; they stop one
  // runaway client from taking the whole node. Per session: what a person (or the web app) needs, with
  // room for a page that fires several requests at once. Holds and writes are stricter than reads; logins
  // and sign-ups (an Argon2id hash each) are strictest, per IP since they carry no session.
  set(RouteClass::read, {2000, 4000}, {100, 200});
  set(RouteClass::hold, {1000, 2000}, {30, 60});
  set(RouteClass::write, {1000, 2000}, {30, 60});
  set(RouteClass::login, {10, 100}, {});
  set(RouteClass::signup, {5, 100}, {});
  set(RouteClass::admin, {1000, 2000}, {});
  return c;
}

std::string apply_rate_limit_spec(RateLimitConfig& config, std::string_view spec) {
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = spec.find(',', start);
    const std::string_view item =
        trim(spec.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (!item.empty()) {
      if (std::string error = apply_item(config, item); !error.empty()) return error;
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return "";
}

struct RateLimiter::Shard {
  std::mutex mu;  // guards table
  std::unique_ptr<core::RateLimitTable> table;
};

RateLimiter::RateLimiter(RateLimitConfig config) : config_(std::move(config)), shards_(new Shard[kShards]) {
  static_assert((kShards & (kShards - 1)) == 0);
  TICKETD_ASSERT(config_.keys_max >= kShards);
  for (size_t i = 0; i < kLimitedClasses; ++i)
    TICKETD_ASSERT(core::rate_rule_valid(config_.per_ip[i]) && core::rate_rule_valid(config_.per_user[i]));
  for (size_t i = 0; i < kShards; ++i)
    shards_[i].table = std::make_unique<core::RateLimitTable>(config_.keys_max / kShards);
}

RateLimiter::~RateLimiter() = default;

double route_cost(std::string_view method, std::string_view route_name, bool compact) {
  if (method == "GET" && route_name == "/v1/events/{id}/seats" && !compact) return kSeatListPageCost;
  return 1;
}

std::optional<Millis> RateLimiter::admit(RouteClass c, std::string_view ip, std::string_view account, TimeMs now,
                                         double cost) {
  if (!config_.enabled || c == RouteClass::exempt) return std::nullopt;
  if (std::find(config_.exempt_ips.begin(), config_.exempt_ips.end(), ip) != config_.exempt_ips.end())
    return std::nullopt;
  const size_t ci = index_of(c);
  struct Check {
    const core::RateRule& rule;
    bool user;
    std::string_view client;
  };
  // The account first: an account over its own limit must not drain the bucket its IP shares with
  // other people behind the same address (a NAT).
  const Check checks[] = {{config_.per_user[ci], true, account}, {config_.per_ip[ci], false, ip}};
  for (const Check& check : checks) {
    if (!check.rule.on() || check.client.empty()) continue;
    const uint64_t key = bucket_key(c, check.user, check.client);
    Shard& shard = shards_[key & (kShards - 1)];
    core::RateDecision decision;
    {
      std::lock_guard lock(shard.mu);
      decision = shard.table->take(key, check.rule, now, cost);
    }
    if (!decision.allowed) {
      refused_[ci * 2 + (check.user ? 1 : 0)]++;
      return decision.retry_after;
    }
  }
  return std::nullopt;
}

void RateLimiter::render_metrics(std::string& out) const {
  out += "# TYPE ticketd_rate_limited_total counter\n";
  for (size_t ci = 0; ci < kLimitedClasses; ++ci) {
    for (int user = 0; user < 2; ++user) {
      out += "ticketd_rate_limited_total{class=\"" + std::string(kClassNames[ci]) + "\",scope=\"" +
             (user ? "user" : "ip") + "\"} " + std::to_string(refused_[ci * 2 + user].load()) + "\n";
    }
  }
  size_t keys = 0;
  uint64_t evictions = 0;
  for (size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    keys += shards_[i].table->size();
    evictions += shards_[i].table->evictions();
  }
  out += "ticketd_rate_limit_keys " + std::to_string(keys) + "\n";
  out += "ticketd_rate_limit_evictions_total " + std::to_string(evictions) + "\n";
}

std::optional<Response> preflight(const Request& request, const EdgePolicy& policy) {
  if (request.method != "OPTIONS") return std::nullopt;
  const std::string_view origin = request.header("origin");
  if (origin.empty() || request.header("access-control-request-method").empty()) return std::nullopt;
  if (!origin_listed(origin, policy)) {
    core::Error denied = core::make_error(core::Code::Forbidden, "this origin may not call the API (see --cors-origin)");
    denied.detail = "cors_origin_denied";
    Response r = error_response(denied);
    r.headers.push_back({"vary", "origin"});
    return r;
  }
  Response r;
  r.status = 204;
  r.content_type.clear();
  r.headers = {{"access-control-allow-origin", std::string(origin)},
               {"access-control-allow-methods", std::string(kAllowMethods)},
               {"access-control-allow-headers", std::string(kAllowHeaders)},
               {"access-control-max-age", std::string(kPreflightMaxAge)},
               {"vary", "origin"}};
  return r;
}

void decorate(Response& response, const Request& request, const EdgePolicy& policy) {
  add_security_headers(response);
  const std::string_view origin = request.header("origin");
  if (origin_listed(origin, policy) && !has_header(response, "access-control-allow-origin")) {
    response.headers.push_back({"access-control-allow-origin", std::string(origin)});
    response.headers.push_back({"access-control-expose-headers", std::string(kExposeHeaders)});
  }
  if (!policy.cors_origins.empty() && !has_header(response, "vary")) response.headers.push_back({"vary", "origin"});
}

}  // namespace ticketd::http
