// /v1/users/me (profile: contact details and notification choices) and /v1/admin/notifications
// (dead letters: list and retry).
#include "core/limits.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;
using core::Code;

namespace {

constexpr size_t kPhoneBytesMax = 16;  // "+" and at most 15 digits (E.164)

json::object profile_json(const core::User& u, const core::NotifyPrefs& p) {
  json::object o = to_json(u);
  o["phone"] = p.phone.empty() ? json::value(nullptr) : json::value(p.phone);
  o["phone_verified"] = p.phone_verified;
  o["notifications"] = json::object{{"email", p.email}, {"sms", p.sms}, {"hold_expiry", p.hold_expiry}};
  return o;
}

json::object row_json(const core::OutboxRow& r) {
  json::object o{{"id", r.id},
                 {"kind", core::to_string(r.kind)},
                 {"channel", r.channel},
                 {"status", core::to_string(r.status)},
                 {"user_id", r.user_id},
                 {"event_id", r.event_id},
                 {"attempts", r.attempts},
                 {"created_at", format_rfc3339(r.created_at)},
                 {"due_at", format_rfc3339(r.due_at)},
                 {"last_error", r.last_error}};
  if (r.booking_id) o["booking_id"] = r.booking_id;
  if (r.hold_id) o["hold_id"] = r.hold_id;
  return o;
}

Response get_profile(Ctx& c) {
  const core::User& user = c.caller();
  return json_response(200, profile_json(user, c.services.notifications.prefs(user.id)));
}

Response patch_profile(Ctx& c) {
  const core::User& user = c.caller();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  for (const auto& kv : *body)
    if (kv.key() != "phone" && kv.key() != "notifications")
      return error_response(core::Code::InvalidRequest, std::string(kv.key()) + ": not a field that can be changed here");
  app::PrefsPatch patch;
  if (auto it = body->find("phone"); it != body->end()) {
    if (it->value().is_null()) {
      patch.phone = "";
    } else {
      auto phone = read_string(*body, "phone", kPhoneBytesMax);
      if (!phone) return error_response(phone.error());
      patch.phone = **phone;
    }
  }
  if (auto it = body->find("notifications"); it != body->end()) {
    if (!it->value().is_object()) return error_response(core::Code::InvalidRequest, "notifications: must be an object");
    const json::object& n = it->value().as_object();
    for (const auto& kv : n)
      if (kv.key() != "email" && kv.key() != "sms" && kv.key() != "hold_expiry")
        return error_response(core::Code::InvalidRequest,
                              "notifications." + std::string(kv.key()) + ": unknown (email, sms, hold_expiry)");
    std::optional<bool>* targets[] = {&patch.email, &patch.sms, &patch.hold_expiry};
    const char* names[] = {"email", "sms", "hold_expiry"};
    for (size_t i = 0; i < 3; ++i) {
      auto v = read_bool(n, names[i]);
      if (!v) return error_response(core::Code::InvalidRequest, "notifications." + v.error().message);
      *targets[i] = *v;
    }
  }
  auto prefs = c.services.notifications.update_prefs(user.id, patch);
  if (!prefs) return error_response(prefs.error());
  return json_response(200, profile_json(user, *prefs));
}

Response list_notifications(Ctx& c) {
  auto digits = [](const std::string& s, size_t max) {
    return !s.empty() && s.size() <= max && s.find_first_not_of("0123456789") == std::string::npos;
  };
  core::OutboxStatus status = core::OutboxStatus::Dead;
  if (auto it = c.query.find("status"); it != c.query.end()) {
    auto s = core::outbox_status_from(it->second);
    if (!s) return error_response(core::Code::InvalidRequest, "status: PENDING, SENT, DEAD or SKIPPED");
    status = *s;
  }
  uint32_t limit = core::limits::page_size_default;
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    if (!digits(it->second, 3) || std::stoul(it->second) < 1 || std::stoul(it->second) > core::limits::page_size_max)
      return error_response(core::Code::InvalidRequest, "limit: 1-100 required");
    limit = static_cast<uint32_t>(std::stoul(it->second));
  }
  int64_t after = 0;
  if (auto it = c.query.find("after"); it != c.query.end() && !it->second.empty()) {
    if (!digits(it->second, 18)) return error_response(core::Code::InvalidRequest, "after: not a cursor from this API");
    after = std::stoll(it->second);
  }
  const auto rows = c.services.notifications.list(status, after, limit);
  json::array out;
  for (const core::OutboxRow& r : rows) out.push_back(row_json(r));
  json::object page{{"notifications", std::move(out)}};
  page["next"] = rows.size() == limit ? json::value(std::to_string(rows.back().id)) : json::value(nullptr);
  return json_response(200, page);
}

Response retry_notification(Ctx& c) {
  if (auto s = c.services.notifications.retry_dead(c.ids[0]); !s) return error_response(s.error());
  return json_response(202, json::object{{"id", c.ids[0]}, {"status", "PENDING"}});
}

}  // namespace

void add_notification_routes(Router& router) {
  router.add("GET", "/v1/users/me", get_profile);
  router.add("PATCH", "/v1/users/me", patch_profile);
  router.add("GET", "/v1/admin/notifications", list_notifications, {.who = Caller::admin});
  router.add("POST", "/v1/admin/notifications/{id}/retry", retry_notification, {.who = Caller::admin, .limit = RouteClass::admin, .audit = Audit::request});
}

}  // namespace ticketd::http
