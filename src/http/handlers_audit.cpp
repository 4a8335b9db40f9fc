// GET /v1/admin/audit (administrators: everything) and GET /v1/organizations/{id}/audit (its organizers:
// what was done to the organization's things): the audit log, oldest first, a page at a time
// (docs/console.md, "Audit log").
#include "http/csv.hpp"
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
      return error_response(core::Code::InvalidRequest, "after: a number (the next of the previous page)");
    }
  }
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    char* end = nullptr;
    const long n = std::strtol(it->second.c_str(), &end, 10);
    if (*end || n < 1 || n > kAuditPageMax) return error_response(core::Code::InvalidRequest, "limit: 1-500");
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

// The whole log (or one organization's) as CSV, streamed a page at a time, oldest first.
class AuditCsv final : public EventStream {
 public:
  AuditCsv(core::AuditLog& log, std::optional<core::OrganizationId> organization)
      : log_(log), organization_(organization) {}

  Next next(std::string& out, bool may_block) override {
    if (done_) return Next::end;
    if (!may_block) return Next::needs_worker;
    if (!started_) {
      out += "id,at,actor_id,actor_email,action,target,status,organization_id,before,request,result\r\n";
      started_ = true;
    }
    std::vector<core::AuditEntry> page;
    try {
      page = log_.list(after_, kAuditPageMax, organization_);
    } catch (const std::exception&) {
      done_ = true;  // the download ends short and fails visibly
      return out.empty() ? Next::end : Next::data;
    }
    for (const core::AuditEntry& e : page)
      append_csv_row(out, {std::to_string(e.id), format_rfc3339(e.at), std::to_string(e.actor_id), e.actor_email,
                           e.action, e.target, std::to_string(e.status), std::to_string(e.organization_id), e.before,
                           e.request, e.result});
    if (!page.empty()) after_ = page.back().id;
    if (page.size() < kAuditPageMax) done_ = true;
    return out.empty() ? Next::end : Next::data;
  }

  bool arm(std::function<void()>) override { return false; }

 private:
  core::AuditLog& log_;
  const std::optional<core::OrganizationId> organization_;
  int64_t after_ = 0;
  bool started_ = false;
  bool done_ = false;
};

Response audit_csv(Ctx& c, std::optional<core::OrganizationId> organization) {
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.headers = {{"cache-control", "no-store"}, {"content-disposition", "attachment; filename=\"audit.csv\""}};
  r.stream = std::make_shared<AuditCsv>(*c.services.audit, organization);
  return r;
}

Response list_audit(Ctx& c) {
  if (!c.services.audit) return error_response(core::Code::NotFound, "no audit log on this server");
  return audit_page(c, std::nullopt);
}

Response list_audit_csv(Ctx& c) {
  if (!c.services.audit) return error_response(core::Code::NotFound, "no audit log on this server");
  return audit_csv(c, std::nullopt);
}

Response organization_audit_csv(Ctx& c) {
  if (!c.services.audit) return error_response(core::Code::NotFound, "no audit log on this server");
  return audit_csv(c, c.ids[0]);
}

Response organization_audit(Ctx& c) {
  if (!c.services.audit) return error_response(core::Code::NotFound, "no audit log on this server");
  return audit_page(c, c.ids[0]);
}

}  // namespace

void add_audit_routes(Router& router) {
  router.add("GET", "/v1/admin/audit", list_audit, {.who = Caller::admin});
  router.add("GET", "/v1/organizations/{id}/audit", organization_audit, {.who = Caller::organization_manager});
  router.add("GET", "/v1/admin/audit.csv", list_audit_csv, {.who = Caller::admin});
  router.add("GET", "/v1/organizations/{id}/audit.csv", organization_audit_csv, {.who = Caller::organization_manager});
}

}  // namespace ticketd::http
