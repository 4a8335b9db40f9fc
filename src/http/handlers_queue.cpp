// /v1/events/{id}/queue, /v1/events/{id}/queue/{token}, /v1/events/{id}/waiting-room
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

json::object queue_json(const app::QueueView& v) {
  json::object o{{"event_id", v.event_id},
                 {"queue_token", v.queue_token},
                 {"status", core::to_string(v.status)},
                 {"early", v.early},
                 {"draw_pending", v.draw_pending}};
  // Sold out keeps the place: the buyer is told where they stand for when seats come back.
  const bool in_line = v.status == core::QueueStatus::Waiting || v.status == core::QueueStatus::SoldOut;
  o["position"] = in_line && !v.draw_pending ? json::value(v.position) : json::value(nullptr);
  o["estimated_wait_s"] = v.estimated_wait_s ? json::value(*v.estimated_wait_s) : json::value(nullptr);
  if (v.status == core::QueueStatus::Admitted) o["access_token"] = v.access_token;
  // When the turn ends, or ended: a page can say "your turn ended at 14:05".
  if (v.status == core::QueueStatus::Admitted || v.status == core::QueueStatus::Expired)
    o["access_expires_at"] = format_rfc3339(v.access_expires_at);
  return o;
}

// The pace of polling, for everyone still in line (waiting, or sold out for now).
Response queue_response(int status, const app::QueueView& v) {
  Response r = json_response(status, queue_json(v));
  if (v.status == core::QueueStatus::Waiting || v.status == core::QueueStatus::SoldOut)
    r.headers.push_back({"retry-after", std::to_string(v.retry_after_s)});
  return r;
}

Response no_room() { return error_response(core::Code::NotFound, "waiting rooms are not served here"); }

Response join_queue(Ctx& c) {
  if (!c.services.waiting_room) return no_room();
  const core::User& user = c.caller();
  auto view = c.services.waiting_room->join(user.id, c.ids[0]);
  if (!view) return error_response(view.error());
  return queue_response(201, *view);
}

Response queue_status(Ctx& c) {
  if (!c.services.waiting_room) return no_room();
  auto view = c.services.waiting_room->status(c.ids[0], c.tokens[0]);
  if (!view) return error_response(view.error());
  return queue_response(200, *view);
}

// On the I/O thread: a poll the room answers from memory (the embedded store, an event copy in
// memory, no draw due); anything else goes to queue_status on a worker.
bool queue_status_inline(Ctx& c, const Reply& reply) {
  if (!c.services.waiting_room) return false;
  auto view = c.services.waiting_room->status_from_memory(c.ids[0], c.tokens[0]);
  if (!view) return false;
  reply([view = std::move(*view)] { return view ? queue_response(200, *view) : error_response(view.error()); });
  return true;
}

Response room_info(Ctx& c) {
  if (!c.services.waiting_room) return no_room();
  auto info = c.services.waiting_room->info(c.ids[0]);
  if (!info) return error_response(info.error());
  const core::RoomRecord& r = info->record;
  json::object o{{"event_id", info->event_id},
                 {"waiting_room", to_json(info->settings)},
                 {"opens_at", format_rfc3339(info->opens_at)},
                 {"draw_at", format_rfc3339(info->draw_at)},
                 {"open", info->open},
                 {"drawn", info->drawn},
                 {"length", r.waiting},
                 {"early_joiners", r.early},
                 {"admitted", r.admitted_total},
                 {"admitted_active", r.admitted_outstanding},
                 {"engaged", r.engaged_total},
                 {"expired", r.expired_total},
                 {"sold_out", r.sold_out}};
  o["seed_commitment"] = info->open ? json::value(info->seed_commitment) : json::value(nullptr);
  o["seed"] = info->drawn ? json::value(info->seed) : json::value(nullptr);
  o["release_rate_per_s"] = info->release_rate_per_s ? json::value(*info->release_rate_per_s) : json::value(nullptr);
  return json_response(200, o);
}

Response set_waiting_room(Ctx& c) {
  const core::Event& event = c.managed_event();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  // The body is the waiting_room object itself; fields absent keep their current value.
  json::object wrapped{{"waiting_room", std::move(*body)}};
  auto settings = read_waiting_room(wrapped, event.waiting_room);
  if (!settings) return error_response(settings.error());
  auto updated = c.services.catalog.set_waiting_room(c.ids[0], **settings);
  if (!updated) return error_response(updated.error());
  return json_response(200, to_json(updated->waiting_room));
}

}  // namespace

void add_queue_routes(Router& router) {
  router.add("POST", "/v1/events/{id}/queue", join_queue, {.limit = RouteClass::hold});
  router.add("GET", "/v1/events/{id}/queue", room_info, {.who = Caller::anyone});
  router.add("GET", "/v1/events/{id}/queue/{token}", queue_status, {.who = Caller::anyone, .on_io_thread = queue_status_inline});
  router.add("PUT", "/v1/events/{id}/waiting-room", set_waiting_room, {.who = Caller::event_manager, .limit = RouteClass::admin, .audit = Audit::request_and_result});
}

}  // namespace ticketd::http
