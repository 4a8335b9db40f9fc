// The API's edge policy, applied by Api::handle to every request before a handler runs and to every
// response after: per-route-class rate limits (per client IP and per session), the CORS policy and the
// security headers. Plain functions and one thread-safe class; no sockets, no stores.
//
// Route classes: each route belongs to one, declared in the route table (http/router.hpp, RouteOptions),
// so limits follow the cost and the abuse value of a request:
//   read    GET/HEAD of the API and the web app's files (and unmatched paths: scanners pay too)
//   hold    POST /v1/events/{id}/holds and POST /v1/events/{id}/queue (what scalping bots hammer)
//   write   every other POST/PUT/PATCH/DELETE (checkout, cancel, release, profile)
//   admin   writes only administrators may make (venues, events, waiting rooms, /v1/admin/...): no
//           per-session limit by default (setup scripts are trusted), per IP like writes
//   login   POST /v1/sessions (an Argon2id hash each: CPU)
//   signup  POST /v1/users (Argon2id, and fake accounts are how bots get more places in line)
//   exempt  /healthz, /metrics (operators) and the Stripe webhook (authenticated by its signature, and
//           Stripe's retries must not be refused)
// Per-IP buckets are keyed by the peer address the transport saw; per-user buckets by the account the
// bearer token authenticates (so every session of one account shares one budget; an unknown token has
// none of its own and only its IP's). Limits are per node (see docs/deploy.md).
//
// Thread safety: RateLimiter::admit may be called concurrently; the table is split into shards, each
// behind its own mutex. Everything else here is a pure function.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/rate_limit.hpp"
#include "http/message.hpp"

namespace ticketd::http {

enum class RouteClass : uint8_t { read, hold, write, login, signup, admin, exempt };
inline constexpr size_t kLimitedClasses = 6;  // all but exempt
std::string_view route_class_name(RouteClass c);
// The class of a request no route matched (a file of the web app, or nothing): read for GET and HEAD,
// write otherwise, so scanners pay too.
RouteClass unrouted_class(std::string_view method);

struct RateLimitConfig {
  bool enabled = true;
  std::array<core::RateRule, kLimitedClasses> per_ip{};    // indexed by RouteClass
  std::array<core::RateRule, kLimitedClasses> per_user{};  // login and signup carry no session: off
  std::vector<std::string> exempt_ips;                     // exact peer addresses never limited
  size_t keys_max = 262'144;                               // buckets kept, all classes and scopes together
};

// The defaults; docs/deploy.md explains each value.
RateLimitConfig default_rate_limits();
// Applies "CLASS.SCOPE=RATE/BURST" items, comma-separated (scope ip or user; RATE per second, may be
// fractional; "0" or "off" turns one limit off). Returns "" or a message naming the bad item.
std::string apply_rate_limit_spec(RateLimitConfig& config, std::string_view spec);

class RateLimiter {
 public:
  // REQUIRES: every rule valid (core::rate_rule_valid), keys_max >= kShards.
  explicit RateLimiter(RateLimitConfig config);
  ~RateLimiter();
  // Takes a token from the account's bucket (`account`: the authenticated user's id as text, "" for
  // an anonymous request), then from its IP bucket. nullopt: go ahead. Otherwise the wait before a
  // retry can succeed (> 0).
  // `cost`: tokens this request takes from each bucket (route_cost()).
  std::optional<Millis> admit(RouteClass c, std::string_view ip, std::string_view account, TimeMs now,
                              double cost = 1.0);
  // Prometheus lines: refusals by class and scope, keys held, evictions.
  void render_metrics(std::string& out) const;
  const RateLimitConfig& config() const { return config_; }

  static constexpr size_t kShards = 16;  // a power of two; enough that 2-8 cores rarely contend

 private:
  struct Shard;
  RateLimitConfig config_;
  std::unique_ptr<Shard[]> shards_;
  std::array<std::atomic<uint64_t>, kLimitedClasses * 2> refused_{};  // [class * 2 + (user ? 1 : 0)]
};

// What a request costs in rate-limit tokens: 1, or more for a read whose answer is large (a page of
// the full seat list is ~100 KB against ~100 bytes for most reads).
double route_cost(std::string_view method, std::string_view route_name, bool compact);
inline constexpr double kSeatListPageCost = 10;

// CORS and security headers.
struct EdgePolicy {
  std::vector<std::string> cors_origins;  // exact origins ("https://shop.example") allowed to call the API
};

// OPTIONS with Origin and Access-Control-Request-Method: the preflight answer (204 with the Allow-*
// headers for a listed origin, 403 cors_origin_denied otherwise). nullopt for any other request.
std::optional<Response> preflight(const Request& request, const EdgePolicy& policy);
// Adds the security headers (nosniff, frame denial, referrer policy, a CSP unless the response has
// its own) and, for a listed Origin, Access-Control-Allow-Origin.
void decorate(Response& response, const Request& request, const EdgePolicy& policy);

}  // namespace ticketd::http
