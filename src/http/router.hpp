// Routing: (method, path pattern) -> handler. Patterns are literal segments, `{id}` segments
// (a positive integer; anything else does not match, so the answer is 404) and `{token}` segments
// (any text of 1..kTokenSegmentBytesMax bytes, handed over as it is). A path that matches
// a pattern under another method answers 405 with an Allow header.
// Thread safety: routes are added before serving; match() is const and safe concurrently.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"
#include "http/api.hpp"
#include "http/message.hpp"

namespace ticketd::http {

// Who may call a route, declared in the route table and checked by Api::dispatch once, before the
// handler runs: a handler neither authenticates nor can forget to. The default is the safe one.
enum class Caller : uint8_t {
  signed_in,             // a valid session (401 otherwise)
  anyone,                // no session needed (one sent is still read: the limiter keys on it)
  admin,                 // an administrator (401, 403)
  manager,               // an administrator or an organizer of any organization: the first check of
                         // a route whose organization is known only after a lookup (401, 403)
  event_manager,         // manages the event of the first {id} (401, 403, 404)
  organization_manager,  // manages the organization of the first {id} (401, 403, 404)
};
const char* caller_name(Caller who);

struct Ctx {
  const Request& request;
  Services& services;
  std::vector<int64_t> ids;                    // the {id} segments, in order
  std::vector<std::string> tokens;             // the {token} segments, in order
  std::map<std::string, std::string> query;    // decoded query parameters (last one wins)
  // What Api::route found the bearer token to be, when it looked (it does once per request, before
  // the rate limiter); unset: not looked up yet.
  std::optional<core::Result<core::User>> authenticated;
  // The event a Caller::event_manager route was admitted for (the route table's check found it).
  std::optional<core::Event> managed;
  // Authenticates the bearer token (401 if missing or bad); answers from `authenticated` when set.
  // For a route open to anyone that treats a signed-in caller differently.
  core::Result<core::User> user() const;
  // The caller the route table's check admitted. REQUIRES: a route for a Caller other than anyone.
  const core::User& caller() const;
  // The event of the first {id}. REQUIRES: a Caller::event_manager route.
  const core::Event& managed_event() const;
  // The caller, if an administrator: Unauthenticated (401) or Forbidden (403) otherwise.
  core::Result<core::User> admin() const;
  // The caller, if they manage the event / organization (app/organizations: administrators and the
  // organization's organizers); 401, 403 or 404 otherwise. Sets audit_organization.
  core::Result<core::Event> event_manager(core::EventId event);
  core::Result<core::User> organization_manager(core::OrganizationId organization);
  // The caller, if an administrator or an organizer of any organization (401 or 403 otherwise): the
  // first check of a route about something whose organization is found only after a lookup.
  core::Result<core::User> any_manager();
  // The keyset cursor `?after=<id>` of a listing: 0 when absent; InvalidRequest ("after: <what>")
  // when it is not a non-negative integer.
  core::Result<int64_t> after_id(const char* what) const;
  core::OrganizationId audit_organization = 0;  // whose thing an audited call was about
  std::string audit_before;  // the state before an audited change (JSON), where the handler knows it
};

using RouteHandler = std::function<Response(Ctx&)>;

// Which calls of a route the audit log keeps (docs/console.md, "Audit log"): every 2xx answer to an
// administrator, with the request body, and the answer's body unless it holds secrets (tokens).
enum class Audit { none, request, request_and_result };

// A body this size holds any account form (an email, a name, two passwords, a code) many times over.
inline constexpr size_t kFormBodyBytesMax = 8 * 1024;

// A route's handler for the connection's I/O thread (http/message.hpp, InlineHandler): it may use
// nothing that can block (no store, no gateway, no file; Ctx::user() is the session cache's answer),
// and answers through `reply`, at once or when a commit completes (then it keeps nothing of Ctx).
// False: it did nothing, and the route's handler runs on a worker instead.
using InlineRouteHandler = std::function<bool(Ctx& ctx, const Reply& reply)>;
// What a route's inline handler needs read before it can run, for the signed-in `caller` (asked by the
// transport's Preparer, http/message.hpp, after the inline handler passed): true when it started the
// read and calls `ready` once, from any thread (true: the inline handler is asked again, and finds
// Request::prepared set); false when nothing was started and the worker's handler answers.
// `ids`: the route's {id} segments, in order.
using RoutePreparer = std::function<bool(Services& services, const Request& request, const std::vector<int64_t>& ids,
                                         const core::User& caller, const Ready& ready)>;
// The inline form of a handler that blocks on nothing: it answers at once.
InlineRouteHandler answer_at_once(RouteHandler handler);

// What the route table says of a route besides its method, pattern and handler. Api::route applies
// it before the handler runs, so no handler and no second table decides it again.
struct RouteOptions {
  Caller who = Caller::signed_in;
  // The rate-limit class (http/edge.hpp). Unset: read for GET, write for the other methods.
  std::optional<RouteClass> limit;
  Audit audit = Audit::none;
  // Larger bodies are answered 413 body_too_large. 0: the transport's limit (ServerConfig).
  size_t body_bytes_max = 0;
  // Empty: the route runs on the worker pool only. Only for callers decided from memory (anyone,
  // signed_in, admin): the other checks read the store.
  InlineRouteHandler on_io_thread;
  // Empty: the inline handler needs nothing read but the caller's session. Only with on_io_thread.
  RoutePreparer prepare;
};

struct Route {
  std::string method;
  std::vector<std::string> segments;  // "{id}" marks a parameter
  std::string name;                   // the pattern
  std::string metric_label;           // "<method> <pattern>", the metrics label, made once
  RouteHandler handler;
  Caller who = Caller::signed_in;
  RouteClass limit = RouteClass::read;
  Audit audit = Audit::none;
  size_t body_bytes_max = 0;
  InlineRouteHandler on_io_thread;
  RoutePreparer prepare;
};

inline constexpr size_t kTokenSegmentBytesMax = 512;

struct Match {
  const Route* route = nullptr;
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
  std::string allow;  // when the path matched under other methods only
};

class Router {
 public:
  void add(std::string method, const std::string& pattern, RouteHandler handler, RouteOptions options = {});
  Match match(const std::string& method, const std::vector<std::string>& segments) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

void add_account_routes(Router& router);
void add_verification_routes(Router& router);
void add_catalog_routes(Router& router);
void add_sales_routes(Router& router);
void add_queue_routes(Router& router);
void add_seat_stream_routes(Router& router);
void add_notification_routes(Router& router);
void add_ticket_routes(Router& router);
void add_checkin_routes(Router& router);
void add_transfer_routes(Router& router);
void add_cancellation_routes(Router& router);
void add_waitlist_routes(Router& router);
void add_resale_routes(Router& router);
void add_totp_routes(Router& router);
void add_audit_routes(Router& router);
void add_organization_routes(Router& router);
void add_order_routes(Router& router);
void add_peer_routes(Router& router);
// Every route of the API, the two operator routes included: the whole table, in one place.
void add_api_routes(Router& router);
// The table as text, a line per route: method, pattern, who may call it, rate-limit class, body limit
// in bytes (0: the transport's), "inline" or "worker" (`ticketd routes`; tests probe every route with it).
std::string describe_api_routes();

}  // namespace ticketd::http
