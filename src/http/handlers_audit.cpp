// GET /v1/admin/audit (administrators: everything) and GET /v1/organizations/{id}/audit (its organizers:
// what was done to the organization's things): the audit log, oldest first, a page at a time
// (docs/console.md, "Audit log").
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

constexpr uint32_t kAuditPageMax = 500;

// Bodies were JSON when recorded; shown as JSON again, or as the text when cut short.
json::value body_json(const std::string& text) {
  if (text.empty()) return nullptr;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return json::string(text);
  return v;
}

Response audit_page(Ctx& c, std::optional<core::OrganizationId> organization) {
  int64_t after = 0;
  uint32_t limit = 100;
  if (auto it = c.query.find("after"); it != c.query.end()) {
    try {
      after = std::stoll(it->second);
    } catch (...) {
      return error_response(400, "invalid_request", "after: a number (the next of the previous page)");
    }
  }
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    char* end = nullptr;
    const long n = std::strtol(it->second.c_str(), &end, 10);
    if (*end || n < 1 || n > kAuditPageMax) return error_response(400, "invalid_request", "limit: 1-500");
    limit = static_cast<uint32_t>(n);
  }
  json::array entries;
  const auto rows = c.services.audit->list(after, limit, organization);
  for (const core::AuditEntry& e : rows)
    entries.push_back(json::object{{"id", e.id},
                                   {"at", format_rfc3339(e.at)},
                                   {"actor", json::object{{"id", e.actor_id}, {"email", e.actor_email}}},
                                   {"action", e.action},
                                   {"target", e.target},
                                   {"status", e.status},
                                   {"before", body_json(e.before)},
                                   {"request", body_json(e.request)},
                                   {"result", body_json(e.result)},
                                   {"organization_id", e.organization_id}});
  json::object out{{"entries", std::move(entries)}};
  out["next"] = rows.size() == limit ? json::value(std::to_string(rows.back().id)) : json::value(nullptr);
  Response r = json_response(200, out);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response list_audit(Ctx& c) {
  if (!c.services.audit) return error_response(404, "not_found", "no audit log on this server");
  if (auto a = c.admin(); !a) return error_response(a.error());
  return audit_page(c, std::nullopt);
}

Response organization_audit(Ctx& c) {
  if (!c.services.audit) return error_response(404, "not_found", "no audit log on this server");
  if (auto m = c.organization_manager(c.ids[0]); !m) return error_response(m.error());
  return audit_page(c, c.ids[0]);
}

}  // namespace

void add_audit_routes(Router& router) {
  router.add("GET", "/v1/admin/audit", list_audit);
  router.add("GET", "/v1/organizations/{id}/audit", organization_audit);
}

}  // namespace ticketd::http
