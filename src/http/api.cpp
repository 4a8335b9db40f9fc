#include "http/api.hpp"

#include <boost/url/parse.hpp>
#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>

#include "base/assert.hpp"
#include "http/compression.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"
#include "http/static_files.hpp"

namespace ticketd::http {

namespace {

std::string_view bearer_of(const Request& request);

// Constant time in the secret's content: a mismatch at the first byte answers no sooner than one at
// the last.
bool same_secret(std::string_view given, std::string_view secret) {
  if (given.size() != secret.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < secret.size(); ++i)
    diff |= static_cast<unsigned char>(given[i]) ^ static_cast<unsigned char>(secret[i]);
  return diff == 0;
}

}  // namespace

void add_api_routes(Router& router) {
  const RouteHandler healthz = [](Ctx&) { return json_response(200, boost::json::object{{"status", "ok"}}); };
  router.add("GET", "/healthz", healthz,
             {.who = Caller::anyone, .limit = RouteClass::exempt, .on_io_thread = answer_at_once(healthz)});
  router.add("GET", "/metrics", [](Ctx& c) {
    if (c.services.metrics_token.empty())
      return error_response(core::Code::NotFound, "metrics are served with --metrics-token, or on --metrics-listen");
    if (!same_secret(bearer_of(c.request), c.services.metrics_token))
      return error_response(core::Code::Unauthenticated, "Authorization: Bearer <the metrics token> required");
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = c.services.metrics.render(c.services.gauges);
    return r;
  }, {.who = Caller::anyone, .limit = RouteClass::exempt});  // its own token, not a session
  add_account_routes(router);
  add_verification_routes(router);
  add_catalog_routes(router);
  add_sales_routes(router);
  add_queue_routes(router);
  add_seat_stream_routes(router);
  add_notification_routes(router);
  add_ticket_routes(router);
  add_checkin_routes(router);
  add_transfer_routes(router);
  add_cancellation_routes(router);
  add_waitlist_routes(router);
  add_resale_routes(router);
  add_totp_routes(router);
  add_audit_routes(router);
  add_organization_routes(router);
  add_order_routes(router);
  add_peer_routes(router);
}

Api::Api(Services services) : services_(std::move(services)), router_(std::make_unique<Router>()) {
  add_api_routes(*router_);
}

Api::~Api() = default;

namespace {

bool is_json(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string_view base = content_type.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  return base.size() == 16 && std::equal(base.begin(), base.end(), "application/json",
                                         [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// A refusal by the rate limiter: 429 with Retry-After in whole seconds, rounded up (at least 1).
Response rate_limited(RouteClass c, Millis retry_after) {
  const int64_t seconds = std::max<int64_t>(1, (retry_after.count() + 999) / 1000);
  Response r = error_response(HttpError::rate_limited, "too many " + std::string(route_class_name(c)) +
                                                       " requests; retry after " + std::to_string(seconds) + " s");
  r.headers.push_back({"retry-after", std::to_string(seconds)});
  return r;
}

std::string_view bearer_of(const Request& request) {
  const std::string_view auth = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  return auth.size() > kBearer.size() && auth.substr(0, kBearer.size()) == kBearer ? auth.substr(kBearer.size())
                                                                                    : std::string_view();
}

}  // namespace

// The bearer token's account, for an API route that has one; nullopt when there is no token, no route,
// or the store cannot answer now (the handler then asks again, and answers 503 if it still cannot).
std::optional<core::Result<core::User>> Api::authenticate_once(const Request& request, bool routed, Where where) {
  const std::string_view bearer = bearer_of(request);
  if (!routed || bearer.empty()) return std::nullopt;
  if (where == Where::io_thread) {
    if (auto cached = services_.accounts.authenticate_cached(bearer)) return core::Result<core::User>(*cached);
    return std::nullopt;  // only the store could tell, and it may block: the account stays unknown
  }
  try {
    return services_.accounts.authenticate(bearer);
  } catch (const core::UnavailableError&) {
    return std::nullopt;
  }
}

namespace {

Match match_route(const Router& router, const Request& request, const boost::urls::url_view& url) {
  std::vector<std::string> segments;
  for (auto seg : url.segments()) segments.push_back(seg);
  return router.match(request.method, segments);
}

// The limiter's clock: monotonic, so a wall-clock jump neither refills nor drains buckets.
TimeMs monotonic_now() {
  return TimeMs(std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch()));
}

}  // namespace

Response Api::handle(const Request& request) {
  std::optional<ResponseMaker> made;
  const Outcome outcome = dispatch(request, Where::worker, [&made](ResponseMaker make) { made = std::move(make); });
  TICKETD_ASSERT(outcome == Outcome::answered && made.has_value());
  return (*made)();
}

bool Api::handle_inline(Request& request, const Reply& reply) {
  const Outcome outcome = dispatch(request, Where::io_thread, reply);
  if (outcome == Outcome::passed_admitted) request.admitted = true;
  return outcome == Outcome::answered;
}

// The caller's session, then whatever the route's inline handler needs read (RouteOptions::prepare).
bool Api::prepare_inline(const Request& request, const Ready& ready) {
  app::Accounts& accounts = services_.accounts;
  const std::string_view bearer = bearer_of(request);
  if (bearer.empty()) return false;
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url || request.method == "OPTIONS") return false;
  const Match m = match_route(*router_, request, *url);
  if (!m.route || !m.route->on_io_thread) return false;
  const Route* route = m.route;  // the table outlives every request
  if (std::optional<core::User> cached = accounts.authenticate_cached(bearer))
    return route->prepare && route->prepare(services_, request, m.ids, *cached, ready);
  if (!accounts.authenticates_async()) return false;
  // The request waits, untouched, until `ready` is called: it may be read from the reader's thread.
  return accounts.authenticate_async(bearer,
                                     [this, &request, route, ids = m.ids, ready](core::Result<core::User> user) {
                                       if (!user) return ready(false);
                                       if (!route->prepare) return ready(true);
                                       if (!route->prepare(services_, request, ids, *user, ready)) ready(false);
                                     });
}

namespace {

// The metrics label of an answer no route made ("GET static", "POST unmatched", ...). A method outside
// the standard ones counts as OTHER: a client inventing methods must not grow the metrics without bound.
std::string_view unrouted_label(std::string_view method, std::string_view what) {
  static const std::map<std::string, std::string, std::less<>> labels = [] {
    std::map<std::string, std::string, std::less<>> out;
    for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"})
      for (const char* w : {"preflight", "unmatched", "static"}) out[std::string(m) + " " + w] = std::string(m) + " " + w;
    return out;
  }();
  std::string key = std::string(method) + " " + std::string(what);
  auto it = labels.find(key);
  if (it == labels.end()) it = labels.find("OTHER " + std::string(what));
  TICKETD_ASSERT(it != labels.end());
  return it->second;
}

}  // namespace

Reply Api::finishing(const Request& request, std::string_view label, const Reply& reply) const {
  const auto started = std::chrono::steady_clock::now();
  return [this, &request, label, started, reply](ResponseMaker make) {
    reply([this, &request, label, started, make = std::move(make)] {
      Response response = make();
      decorate(response, request, services_.edge);
      gzip_if_accepted(request, response);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      services_.metrics.count_request(label, response.status, seconds);
      return response;
    });
  };
}

// What an administrator or organizer did, once it succeeded (docs/console.md, "Audit log"). A failure to
// write the entry is counted and does not undo the action: the action has happened.
void Api::audit(const Route& route, const Ctx& ctx, std::string_view path, const Response& response) {
  if (!services_.audit || response.status < 200 || response.status >= 300) return;
  if (!ctx.authenticated || !*ctx.authenticated) return;
  auto bounded = [](std::string_view text) {
    if (text.size() <= core::kAuditBodyBytesMax) return std::string(text);
    return std::string(text.substr(0, core::kAuditBodyBytesMax)) + "...(cut)";
  };
  core::AuditEntry e;
  e.at = TimeMs(std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch()));
  e.actor_id = (*ctx.authenticated)->id;
  e.actor_email = (*ctx.authenticated)->email;
  e.action = route.method + " " + route.name;
  e.target = bounded(path);
  e.status = response.status;
  e.request = bounded(ctx.request.body);
  e.organization_id = ctx.audit_organization;
  e.before = bounded(ctx.audit_before);
  if (route.audit == Audit::request_and_result && !response.stream) e.result = bounded(response.body);
  try {
    (void)services_.audit->append(e);
  } catch (const std::exception&) {
    services_.metrics.count("audit_log", "write_failed");
  }
}

// The route table's "who may call it", checked once. On success the caller (and, for an event's
// managers, the event) is in ctx for the handler.
core::Status Api::admit_caller(Caller who, Ctx& ctx) {
  core::Result<core::User> caller = core::make_error(core::Code::Unauthenticated, "unreachable");
  switch (who) {
    case Caller::anyone: return core::ok_status();
    case Caller::signed_in: caller = ctx.user(); break;
    case Caller::admin: caller = ctx.admin(); break;
    case Caller::manager: caller = ctx.any_manager(); break;
    case Caller::organization_manager: caller = ctx.organization_manager(ctx.ids[0]); break;
    case Caller::event_manager: {
      auto event = ctx.event_manager(ctx.ids[0]);
      if (!event) return event.error();
      ctx.managed = std::move(*event);
      caller = ctx.user();
      break;
    }
  }
  if (!caller) return caller.error();
  ctx.authenticated = std::move(caller);
  return core::ok_status();
}

namespace {
ResponseMaker at_once(Response response) {
  return [response = std::move(response)] { return response; };
}
}  // namespace

// A request whose route has an inline form reaches a worker without having tried it when the caller's
// session had to be read from the store, which a flash sale's new buyers all need. Read now, the
// inline form still decides the rest: a hold for an event owned elsewhere travels in a batch with
// others (cluster/forward_batches.hpp) rather than as a request of its own. This worker waits for the
// answer, as the blocking handler would have; the answer never needs a worker to come (it comes from
// the commit writer or the peer client). False: the inline form did nothing, and the handler runs.
bool Api::answered_inline_on_worker(const Route& route, Ctx& ctx, const Reply& answer) {
  auto answered = std::make_shared<std::promise<void>>();
  std::future<void> done = answered->get_future();
  const Reply reply = [answer, answered](ResponseMaker make) {
    answer(std::move(make));
    answered->set_value();
  };
  if (!route.on_io_thread(ctx, reply)) return false;
  services_.metrics.count("inline_on_worker", "answered");
  done.wait();
  return true;
}

Api::Outcome Api::dispatch(const Request& request, Where where, const Reply& reply) {
  const bool io_thread = where == Where::io_thread;
  auto url = boost::urls::parse_origin_form(request.target);
  if (io_thread && (!url || request.method == "OPTIONS")) return Outcome::passed;
  if (std::optional<Response> cors = preflight(request, services_.edge)) {
    finishing(request, unrouted_label(request.method, "preflight"), reply)(at_once(std::move(*cors)));
    return Outcome::answered;
  }
  if (!url) {
    finishing(request, unrouted_label(request.method, "unmatched"), reply)(at_once(error_response(HttpError::bad_request, "the request target is not a valid path")));
    return Outcome::answered;
  }
  Match m = match_route(*router_, request, *url);
  if (io_thread && (!m.route || !m.route->on_io_thread)) return Outcome::passed;
  // Once per request: the limiter keys a session's budget by its account (three logins of one
  // account share one budget), and the handler reads the same answer through Ctx::user(). On the I/O
  // thread only the session cache may answer; a session it does not hold goes to a worker.
  std::optional<core::Result<core::User>> authenticated = authenticate_once(request, m.route != nullptr, where);
  if (io_thread && !authenticated && !bearer_of(request).empty()) return Outcome::passed;
  const Reply answer =
      finishing(request, m.route ? std::string_view(m.route->metric_label) : unrouted_label(request.method, "unmatched"), reply);
  const RouteClass rc = m.route ? m.route->limit : unrouted_class(request.method);
  std::string account;
  if (authenticated && *authenticated) account = std::to_string((*authenticated)->id);
  bool compact = false;
  for (auto param : url->params()) compact = compact || (param.key == "format" && param.value == "compact");
  const double cost = route_cost(request.method, m.route ? std::string_view(m.route->name) : "", compact);
  std::optional<Millis> refused;
  if (services_.limiter && !request.admitted)
    refused = services_.limiter->admit(rc, request.remote_address, account, monotonic_now(), cost);
  if (refused) {
    answer(at_once(rate_limited(rc, *refused)));
    return Outcome::answered;
  }
  if (!m.route && !m.allow.empty()) {
    Response response = error_response(HttpError::method_not_allowed, "this path does not accept " + request.method);
    response.headers.push_back({"allow", m.allow});
    answer(at_once(std::move(response)));
    return Outcome::answered;
  }
  if (!m.route) {
    // Not an API route: perhaps a file of the web app.
    std::optional<Response> file;
    if (services_.web) file = services_.web->serve(request, url->encoded_path());
    const Reply served = file ? finishing(request, unrouted_label(request.method, "static"), reply) : answer;
    served(at_once(file ? std::move(*file) : error_response(core::Code::NotFound, "no such route")));
    return Outcome::answered;
  }
  if (m.route->body_bytes_max > 0 && request.body.size() > m.route->body_bytes_max) {
    answer(at_once(error_response(HttpError::body_too_large, "this route takes bodies of at most " +
                                                             std::to_string(m.route->body_bytes_max) + " bytes")));
    return Outcome::answered;
  }
  if (!request.body.empty() && !is_json(request.header("content-type"))) {
    answer(at_once(error_response(HttpError::unsupported_media_type, "request bodies must be application/json")));
    return Outcome::answered;
  }
  if (request.method != "GET" && request.method != "HEAD" && services_.writes_paused && services_.writes_paused()) {
    services_.metrics.count("writes_refused", "disk_low");
    Response response = error_response(core::Code::Unavailable, "the server's disk is nearly full: writes are paused, reads work");
    for (Header& h : response.headers)
      if (h.name == "retry-after") h.value = "5";  // space comes back in seconds, not at once
    answer(at_once(std::move(response)));
    return Outcome::answered;
  }
  Ctx ctx{request, services_, std::move(m.ids), std::move(m.tokens), {}, std::move(authenticated)};
  for (auto param : url->params()) ctx.query[param.key] = param.value;
  try {
    if (auto refused = admit_caller(m.route->who, ctx); !refused) {
      answer(at_once(error_response(refused.error())));
      return Outcome::answered;
    }
    if (io_thread) return m.route->on_io_thread(ctx, answer) ? Outcome::answered : Outcome::passed_admitted;
    if (m.route->on_io_thread && !request.admitted && answered_inline_on_worker(*m.route, ctx, answer))
      return Outcome::answered;
    Response response = m.route->handler(ctx);
    if (m.route->audit != Audit::none) audit(*m.route, ctx, url->path(), response);
    answer(at_once(std::move(response)));
  } catch (const core::UnavailableError& e) {
    answer(at_once(error_response(core::Code::Unavailable, std::string(e.what()) + "; retry shortly")));
  }
  return Outcome::answered;
}

}  // namespace ticketd::http
