// /v1/bookings/{id}/tickets, /v1/tickets/{token}, /v1/events/{id}/ticket-keys (docs/tickets.md).
#include "app/tickets.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"
#include "http/ticket_json.hpp"

namespace ticketd::http {

namespace json = boost::json;

json::object ticket_json(const app::TicketView& v) {
  const core::Ticket& t = v.ticket;
  json::object o{{"id", t.id},
                 {"event_id", t.event_id},
                 {"event_name", v.event_name},
                 {"starts_at", format_rfc3339(v.starts_at)},
                 {"booking_id", t.booking_id},
                 {"seat_id", t.seat},
                 {"section", v.section},
                 {"row", v.row},
                 {"seat_number", v.seat_number},
                 {"general_admission", v.general_admission},
                 {"status", core::to_string(t.status)},
                 {"issued_at", format_rfc3339(t.issued_at)},
                 {"valid_from", format_rfc3339(TimeMs(std::chrono::seconds(v.claims.valid_from_s)))},
                 {"valid_until", format_rfc3339(TimeMs(std::chrono::seconds(v.claims.valid_until_s)))}};
  if (t.status == core::TicketStatus::Revoked) {
    o["revoked_at"] = format_rfc3339(t.revoked_at);
    o["revoked_reason"] = t.revoked_reason;
    return o;  // no code: a revoked ticket admits no one
  }
  o["key_id"] = t.key_id;
  o["code"] = v.static_code;
  o["rotating_code"] = v.rotating_code;
  // What the ticket page needs to draw the rotating code itself, offline (docs/tickets.md).
  o["rotation"] = json::object{{"algorithm", "TOTP-HMAC-SHA256"},
                               {"key", app::hex_encode(v.rotation_key.data(), v.rotation_key.size())},
                               {"step_s", core::limits::ticket_rotation_step.count()},
                               {"digits", app::kRotatingDigits}};
  return o;
}

namespace {

Response no_tickets() { return error_response(core::Code::NotFound, "no tickets on this server"); }

Response booking_tickets(Ctx& c) {
  if (!c.services.tickets) return no_tickets();
  const core::User& user = c.caller();
  auto tickets = c.services.tickets->of_booking(user.id, c.ids[0]);
  if (!tickets) return error_response(tickets.error());
  json::array list;
  for (const auto& v : *tickets) list.push_back(ticket_json(v));
  Response r = json_response(200, json::object{{"booking_id", c.ids[0]}, {"tickets", std::move(list)}});
  r.headers.push_back({"cache-control", "no-store"});  // codes are credentials
  return r;
}

Response get_ticket(Ctx& c) {
  if (!c.services.tickets) return no_tickets();
  const core::User& user = c.caller();
  auto ticket = c.services.tickets->ticket(user.id, c.tokens[0]);
  if (!ticket) return error_response(ticket.error());
  Response r = json_response(200, ticket_json(*ticket));
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response keys_response(Ctx& c, int status) {
  auto keys = c.services.tickets->event_keys(c.ids[0]);
  if (!keys) return error_response(keys.error());
  json::array list;
  for (const auto& k : *keys)
    list.push_back(json::object{{"key_id", k.key_id},
                                {"algorithm", "Ed25519"},
                                {"public_key", app::hex_encode(k.public_key.data(), k.public_key.size())},
                                {"valid_until", format_rfc3339(k.valid_until)}});
  return json_response(status, json::object{{"event_id", c.ids[0]},
                                            {"code_version", app::kTicketCodeVersion},
                                            {"signing_key_id", keys->empty() ? 0 : keys->back().key_id},
                                            {"keys", std::move(list)}});
}

Response ticket_keys(Ctx& c) {
  if (!c.services.tickets) return no_tickets();
  return keys_response(c, 200);
}

// Administrators and the event's organizers: new tickets of the event are signed with a new key from now on.
Response rotate_ticket_key(Ctx& c) {
  if (!c.services.tickets) return no_tickets();
  if (auto e = c.services.catalog.rotate_ticket_key(c.ids[0]); !e) return error_response(e.error());
  return keys_response(c, 201);
}

}  // namespace

void add_ticket_routes(Router& router) {
  router.add("GET", "/v1/bookings/{id}/tickets", booking_tickets);
  router.add("GET", "/v1/tickets/{token}", get_ticket);
  router.add("GET", "/v1/events/{id}/ticket-keys", ticket_keys, {.who = Caller::anyone});
  router.add("POST", "/v1/events/{id}/ticket-keys", rotate_ticket_key, {.who = Caller::event_manager, .audit = Audit::request_and_result});
}

}  // namespace ticketd::http
