// /v1/events/{id}/waitlist: a buyer's place on a sold-out event's waiting list; its organizer's
// settings and figures (docs/resale.md, docs/api.md "Waiting lists").
#include "app/waitlist.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response no_waitlist() { return error_response(core::Code::NotFound, "no waiting lists on this server"); }

json::value time_or_null(bool set, TimeMs t) { return set ? json::value(format_rfc3339(t)) : json::value(nullptr); }

json::object list_json(const app::WaitlistView& v) {
  const core::WaitlistRecord& l = v.list;
  return json::object{{"event_id", l.event_id},
                      {"open", l.settings.open},
                      {"enabled", l.settings.enabled},
                      {"offer_ttl_s", l.settings.offer_ttl_s},
                      {"draw_window_s", l.settings.draw_window_s},
                      {"resale_open_sale", l.settings.resale_open_sale},
                      {"waiting", v.counts.waiting},
                      {"offered", v.counts.offered},
                      {"commitment", l.opened ? json::value(l.commitment) : json::value(nullptr)},
                      {"draw_at", time_or_null(l.opened, l.draw_at())},
                      // The seed is published once the draw is done: anyone can then check the order.
                      {"seed", v.drawn ? json::value(l.seed_hex) : json::value(nullptr)}};
}

json::value entry_json(const std::optional<app::WaitlistEntryView>& view) {
  if (!view) return nullptr;
  const core::WaitlistEntry& e = view->entry;
  json::object o{{"id", e.id},
                 {"event_id", e.event_id},
                 {"state", core::to_string(e.state)},
                 {"quantity", e.quantity},
                 {"together", e.together},
                 {"tier", e.tier.empty() ? json::value(nullptr) : json::value(e.tier)},
                 {"joined_at", format_rfc3339(e.joined_at)},
                 {"position", view->position},
                 {"draw_pending", view->draw_pending},
                 {"estimate_s", view->estimate_s ? json::value(*view->estimate_s) : json::value(nullptr)},
                 {"offer", nullptr}};
  if (view->offer) {
    json::array seats;
    for (core::SeatId s : view->offer->seats) seats.push_back(s);
    o["offer"] = json::object{{"hold_id", view->offer->id},
                              {"seats", std::move(seats)},
                              {"expires_at", format_rfc3339(view->offer->expires_at)}};
  }
  if (!core::is_active(e.state) && e.ended_at != TimeMs{}) o["ended_at"] = format_rfc3339(e.ended_at);
  return o;
}

Response view_response(int status, const app::WaitlistView& v) {
  Response r = json_response(status, json::object{{"waitlist", list_json(v)}, {"entry", entry_json(v.entry)}});
  r.headers.push_back({"cache-control", "no-store"});  // a place in line is the caller's alone, and changes
  return r;
}

Response join(Ctx& c) {
  if (!c.services.waitlist) return no_waitlist();
  auto body = parse_object(c.request.body.empty() ? std::string("{}") : c.request.body);
  if (!body) return error_response(body.error());
  core::WaitlistWant want;
  auto quantity = read_int(*body, "quantity", 1, core::limits::tickets_per_user_max);
  if (!quantity) return error_response(quantity.error());
  if (*quantity) want.quantity = static_cast<uint32_t>(**quantity);
  auto together = read_bool(*body, "together");
  if (!together) return error_response(together.error());
  if (*together) want.together = **together;
  auto tier = read_string(*body, "tier", core::limits::name_bytes_max);
  if (!tier) return error_response(tier.error());
  if (*tier) want.tier = **tier;
  auto joined = c.services.waitlist->join(c.caller().id, c.ids[0], want);
  if (!joined) return error_response(joined.error());
  return view_response(joined->second ? 201 : 200, joined->first);
}

Response show(Ctx& c) {
  if (!c.services.waitlist) return no_waitlist();
  auto v = c.services.waitlist->view(c.caller().id, c.ids[0]);
  if (!v) return error_response(v.error());
  return view_response(200, *v);
}

Response leave(Ctx& c) {
  if (!c.services.waitlist) return no_waitlist();
  auto v = c.services.waitlist->leave(c.caller().id, c.ids[0]);
  if (!v) return error_response(v.error());
  return view_response(200, *v);
}

Response stats(Ctx& c) {
  if (!c.services.waitlist) return no_waitlist();
  auto v = c.services.waitlist->stats(c.ids[0]);
  if (!v) return error_response(v.error());
  const core::WaitlistCounts& n = v->counts;
  Response r = json_response(200, json::object{{"waitlist", list_json(*v)},
                                               {"counts", json::object{{"waiting", n.waiting},
                                                                       {"offered", n.offered},
                                                                       {"fulfilled", n.fulfilled},
                                                                       {"lapsed", n.lapsed},
                                                                       {"left", n.left},
                                                                       {"skipped", n.skipped}}},
                                               {"offers_last_hour", n.offers_last_hour},
                                               {"seats_offered_last_hour", n.seats_offered_last_hour}});
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response configure(Ctx& c) {
  if (!c.services.waitlist) return no_waitlist();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  app::WaitlistSettingsPatch patch;
  auto open = read_bool(*body, "open");
  if (!open) return error_response(open.error());
  patch.open = *open;
  auto enabled = read_bool(*body, "enabled");
  if (!enabled) return error_response(enabled.error());
  patch.enabled = *enabled;
  auto resale_open_sale = read_bool(*body, "resale_open_sale");
  if (!resale_open_sale) return error_response(resale_open_sale.error());
  patch.resale_open_sale = *resale_open_sale;
  auto ttl = read_int(*body, "offer_ttl_s", core::kOfferTtlMinS, core::kOfferTtlMaxS);
  if (!ttl) return error_response(ttl.error());
  if (*ttl) patch.offer_ttl_s = static_cast<uint32_t>(**ttl);
  auto window = read_int(*body, "draw_window_s", 0, core::kDrawWindowMaxS);
  if (!window) return error_response(window.error());
  if (*window) patch.draw_window_s = static_cast<uint32_t>(**window);
  auto v = c.services.waitlist->configure(c.ids[0], patch);
  if (!v) return error_response(v.error());
  return json_response(200, json::object{{"waitlist", list_json(*v)}});
}

}  // namespace

void add_waitlist_routes(Router& router) {
  router.add("POST", "/v1/events/{id}/waitlist", join);
  router.add("GET", "/v1/events/{id}/waitlist", show);
  router.add("DELETE", "/v1/events/{id}/waitlist", leave);
  router.add("GET", "/v1/events/{id}/waitlist/stats", stats, {.who = Caller::event_manager});
  router.add("PUT", "/v1/events/{id}/waitlist/settings", configure,
             {.who = Caller::event_manager, .audit = Audit::request_and_result});
}

}  // namespace ticketd::http
