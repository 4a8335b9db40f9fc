#include "http/router.hpp"

#include <sstream>

#include "base/assert.hpp"
#include "http/json_codec.hpp"

namespace ticketd::http {

namespace {
bool parse_id(const std::string& s, int64_t& out) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}
}  // namespace

core::Result<core::User> Ctx::user() const {
  if (authenticated) return *authenticated;
  const std::string_view auth = request.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || auth.substr(0, kBearer.size()) != kBearer)
    return core::make_error(core::Code::Unauthenticated, "an Authorization: Bearer <token> header is required");
  return services.accounts.authenticate(auth.substr(kBearer.size()));
}

const core::User& Ctx::caller() const {
  TICKETD_ASSERT(authenticated.has_value() && authenticated->ok());  // the route table's check passed
  return **authenticated;
}

const core::Event& Ctx::managed_event() const {
  TICKETD_ASSERT(managed.has_value());  // a Caller::event_manager route's check passed
  return *managed;
}

const char* caller_name(Caller who) {
  switch (who) {
    case Caller::signed_in: return "signed_in";
    case Caller::anyone: return "anyone";
    case Caller::admin: return "admin";
    case Caller::manager: return "manager";
    case Caller::event_manager: return "event_manager";
    case Caller::organization_manager: return "organization_manager";
  }
  return "?";
}

core::Result<core::User> Ctx::admin() const {
  auto u = user();
  if (!u) return u.error();
  if (u->role != core::Role::Admin) return core::make_error(core::Code::Forbidden, "administrators only");
  return u;
}

core::Result<core::Event> Ctx::event_manager(core::EventId event) {
  auto u = user();
  if (!u) return u.error();
  if (!services.organizations) {  // no organizations wired: administrators alone manage
    if (u->role != core::Role::Admin) return core::make_error(core::Code::Forbidden, "administrators only");
    return services.catalog.event(event);
  }
  auto e = services.organizations->manage_event(*u, event);
  if (e) {
    audit_organization = e->organization_id;
    // The audit log's "before" of a change to the event (docs/console.md, "Audit log").
    audit_before = boost::json::serialize(to_json(*e, std::nullopt));
  }
  return e;
}

core::Result<core::User> Ctx::organization_manager(core::OrganizationId organization) {
  auto u = user();
  if (!u) return u.error();
  if (!services.organizations) return admin();
  if (auto s = services.organizations->manage(*u, organization); !s) return s.error();
  audit_organization = organization;
  return u;
}

core::Result<core::User> Ctx::any_manager() {
  auto u = user();
  if (!u) return u.error();
  if (!services.organizations) return admin();
  if (auto s = services.organizations->manage_any(*u); !s) return s.error();
  return u;
}

core::Result<int64_t> Ctx::after_id(const char* what) const {
  auto it = query.find("after");
  if (it == query.end() || it->second.empty()) return int64_t{0};
  const std::string& s = it->second;
  if (s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
    return core::make_error(core::Code::InvalidRequest, std::string("after: ") + what);
  return static_cast<int64_t>(std::stoll(s));
}

std::string describe_api_routes() {
  Router router;
  add_api_routes(router);
  std::string out;
  for (const Route& r : router.routes()) {
    out += r.method + "\t" + r.name + "\t" + caller_name(r.who) + "\t" + std::string(route_class_name(r.limit)) + "\t" +
           std::to_string(r.body_bytes_max) + "\t" + (r.on_io_thread ? "inline" : "worker") + "\n";
  }
  return out;
}

InlineRouteHandler answer_at_once(RouteHandler handler) {
  return [handler = std::move(handler)](Ctx& ctx, const Reply& reply) {
    reply([response = handler(ctx)] { return response; });
    return true;
  };
}

void Router::add(std::string method, const std::string& pattern, RouteHandler handler, RouteOptions options) {
  const RouteClass by_method = method == "GET" ? RouteClass::read : RouteClass::write;
  // The other checks read the store, which the I/O thread must not wait for.
  TICKETD_ASSERT(!options.on_io_thread || options.who == Caller::anyone || options.who == Caller::signed_in ||
                 options.who == Caller::admin);
  const bool ids_first = pattern.find("{id}") != std::string::npos;
  TICKETD_ASSERT(!options.prepare || options.on_io_thread);
  TICKETD_ASSERT(ids_first || (options.who != Caller::event_manager && options.who != Caller::organization_manager));
  std::string label = method + " " + pattern;
  Route r{std::move(method),
          {},
          pattern,
          std::move(label),
          std::move(handler),
          options.who,
          options.limit.value_or(by_method),
          options.audit,
          options.body_bytes_max,
          std::move(options.on_io_thread),
          std::move(options.prepare)};
  std::stringstream in(pattern);
  std::string seg;
  while (std::getline(in, seg, '/'))
    if (!seg.empty()) r.segments.push_back(seg);
  routes_.push_back(std::move(r));
}

Match Router::match(const std::string& method, const std::vector<std::string>& segments) const {
  Match m;
  for (const Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::vector<int64_t> ids;
    std::vector<std::string> tokens;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      if (r.segments[i] == "{token}") {
        ok = !segments[i].empty() && segments[i].size() <= kTokenSegmentBytesMax;
        tokens.push_back(segments[i]);
      } else if (r.segments[i] == "{id}") {
        int64_t id = 0;
        ok = parse_id(segments[i], id);
        ids.push_back(id);
      } else {
        ok = r.segments[i] == segments[i];
      }
    }
    if (!ok) continue;
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.ids = std::move(ids);
      m.tokens = std::move(tokens);
      return m;
    }
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += r.method;
  }
  return m;
}

}  // namespace ticketd::http
