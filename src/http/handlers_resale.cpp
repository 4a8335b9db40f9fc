// /v1/tickets/{id}/resale, /v1/resale: a ticket's buyer lists it for resale at face value or withdraws
// it; /v1/events/{id}/resale/stats: its organizer's figures (docs/resale.md, docs/api.md "Resale").
#include "app/resale.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response no_resale() { return error_response(core::Code::NotFound, "no resale on this server"); }

json::object listing_json(const core::ResaleListing& l, const std::string& currency) {
  json::object o{{"id", l.id},
                 {"ticket_id", l.ticket_id},
                 {"event_id", l.event_id},
                 {"seat_id", l.seat},
                 {"booking_id", l.booking_id},
                 {"state", core::to_string(l.state)},
                 {"amount", l.amount},
                 {"listed_at", format_rfc3339(l.listed_at)}};
  if (!currency.empty()) o["currency"] = currency;
  if (l.state != core::ListingState::Listed) o["ended_at"] = format_rfc3339(l.ended_at);
  // Sold: the seller's money goes back through the gateway; `refunded` once it has.
  if (l.state == core::ListingState::Sold) o["refunded"] = !l.refund_ref.empty() || l.amount == 0;
  return o;
}

Response no_store(Response r) {
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response list_ticket(Ctx& c) {
  if (!c.services.resale) return no_resale();
  auto v = c.services.resale->list(c.caller().id, c.tokens[0]);
  if (!v) return error_response(v.error());
  return no_store(json_response(200, json::object{{"listing", listing_json(v->listing, v->currency)}}));
}

Response withdraw_ticket(Ctx& c) {
  if (!c.services.resale) return no_resale();
  auto v = c.services.resale->withdraw(c.caller().id, c.tokens[0]);
  if (!v) return error_response(v.error());
  return no_store(json_response(200, json::object{{"listing", listing_json(v->listing, v->currency)}}));
}

Response ticket_listing(Ctx& c) {
  if (!c.services.resale) return no_resale();
  auto v = c.services.resale->listing_of(c.caller().id, c.tokens[0]);
  if (!v) return error_response(v.error());
  if (!*v) return error_response(core::Code::NotFound, "this ticket is not listed for resale");
  auto event = c.services.catalog.event((*v)->event_id);
  return no_store(json_response(200, json::object{{"listing", listing_json(**v, event ? event->currency : "")}}));
}

Response my_listings(Ctx& c) {
  if (!c.services.resale) return no_resale();
  json::array out;
  for (const core::ResaleListing& l : c.services.resale->listings_of(c.caller().id)) {
    auto event = c.services.catalog.event(l.event_id);  // cached: no store read per row
    out.push_back(listing_json(l, event ? event->currency : ""));
  }
  return no_store(json_response(200, json::object{{"listings", std::move(out)}}));
}

Response stats(Ctx& c) {
  if (!c.services.resale) return no_resale();
  auto event = c.services.catalog.event(c.ids[0]);
  if (!event) return error_response(event.error());
  const core::ResaleStats s = c.services.resale->stats(c.ids[0]);
  return no_store(json_response(200, json::object{{"event_id", event->id},
                                                  {"listed", s.listed},
                                                  {"sold", s.sold},
                                                  {"withdrawn", s.withdrawn},
                                                  {"sold_amount", s.sold_amount},
                                                  {"currency", event->currency},
                                                  {"refunds_pending", s.refunds_pending}}));
}

}  // namespace

void add_resale_routes(Router& router) {
  router.add("PUT", "/v1/tickets/{token}/resale", list_ticket);
  router.add("GET", "/v1/tickets/{token}/resale", ticket_listing);
  router.add("DELETE", "/v1/tickets/{token}/resale", withdraw_ticket);
  router.add("GET", "/v1/resale", my_listings);
  router.add("GET", "/v1/events/{id}/resale/stats", stats, {.who = Caller::event_manager});
}

}  // namespace ticketd::http
