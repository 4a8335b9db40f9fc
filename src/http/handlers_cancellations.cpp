// POST /v1/events/{id}/cancel and GET /v1/events/{id}/cancellation (administrators): docs/console.md,
// "Event cancellation".
#include "app/event_cancellations.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

json::object view_json(const app::CancellationView& v) {
  json::object o{{"event_id", v.event.id},
                 {"cancelled", v.event.cancelled()},
                 {"bookings_to_refund", v.progress.confirmed},
                 {"bookings_cancelled", v.progress.cancelled}};
  if (v.event.cancelled()) {
    o["cancelled_at"] = format_rfc3339(v.event.cancelled_at);
    o["reason"] = v.event.cancel_reason;
    o["status"] = v.progress.confirmed == 0 ? "REFUNDED" : "REFUNDING";
  }
  return o;
}

Response cancel_event(Ctx& c) {
  if (!c.services.cancellations) return error_response(core::Code::NotFound, "event cancellation is not served here");
  auto body = parse_object(c.request.body.empty() ? std::string("{}") : c.request.body);
  if (!body) return error_response(body.error());
  auto reason = read_string(*body, "reason", app::kCancelReasonBytesMax);
  if (!reason) return error_response(reason.error());
  auto v = c.services.cancellations->cancel(c.ids[0], reason->value_or(""));
  if (!v) return error_response(v.error());
  // 202: the refunds run in the background; this answer's figures are the progress so far.
  return json_response(202, view_json(*v));
}

Response cancellation(Ctx& c) {
  if (!c.services.cancellations) return error_response(core::Code::NotFound, "event cancellation is not served here");
  auto v = c.services.cancellations->progress(c.ids[0]);
  if (!v) return error_response(v.error());
  Response r = json_response(200, view_json(*v));
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

}  // namespace

void add_cancellation_routes(Router& router) {
  router.add("POST", "/v1/events/{id}/cancel", cancel_event, {.who = Caller::event_manager, .audit = Audit::request_and_result});
  router.add("GET", "/v1/events/{id}/cancellation", cancellation, {.who = Caller::event_manager});
}

}  // namespace ticketd::http
