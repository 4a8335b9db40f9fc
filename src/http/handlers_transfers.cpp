// /v1/tickets (mine), /v1/tickets/{id}/transfers, /v1/transfers (docs/tickets.md, "Transfers").
#include "app/transfers.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"
#include "http/ticket_json.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

Response no_transfers() { return error_response(core::Code::NotFound, "no ticket transfers on this server"); }

json::object transfer_json(Ctx& c, const core::Transfer& t, core::UserId viewer) {
  auto event = c.services.catalog.event(t.event_id);  // cached: a list costs no store reads per row
  json::object o{{"id", t.id},
                 {"event_id", t.event_id},
                 {"event_name", event ? event->name : std::string()},
                 {"direction", t.from_user == viewer ? "sent" : "received"},
                 {"to_email", t.to_email},
                 {"status", core::to_string(t.status)},
                 {"created_at", format_rfc3339(t.created_at)}};
  if (t.from_user == viewer) o["from_ticket_id"] = t.from_ticket_id;
  // The new ticket's id is its holder's: the receiver's once accepted, the sender's once cancelled.
  const bool holder = (t.status == core::TransferStatus::Accepted && t.to_user == viewer) ||
                      (t.status == core::TransferStatus::Cancelled && t.from_user == viewer);
  if (holder) o["ticket_id"] = t.ticket_id;
  if (t.status != core::TransferStatus::Pending) o["decided_at"] = format_rfc3339(t.decided_at);
  return o;
}

Response no_store(Response r) {
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response send_ticket(Ctx& c) {
  if (!c.services.transfers) return no_transfers();
  const core::User& user = c.caller();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto email = read_string(*body, "email", core::limits::email_bytes_max);
  if (!email) return error_response(email.error());
  if (!*email) return error_response(core::Code::InvalidRequest, "email is required");
  auto t = c.services.transfers->send(user, c.tokens[0], **email);
  if (!t) return error_response(t.error());
  return json_response(201, transfer_json(c, *t, user.id));
}

Response decide(Ctx& c, bool accept) {
  if (!c.services.transfers) return no_transfers();
  const core::User& user = c.caller();
  auto t = accept ? c.services.transfers->accept(user, c.ids[0]) : c.services.transfers->cancel(user, c.ids[0]);
  if (!t) return error_response(t.error());
  return json_response(200, transfer_json(c, *t, user.id));
}

Response accept_transfer(Ctx& c) { return decide(c, true); }
Response cancel_transfer(Ctx& c) { return decide(c, false); }

Response list_transfers(Ctx& c) {
  if (!c.services.transfers) return no_transfers();
  const core::User& user = c.caller();
  auto list = c.services.transfers->of(user);
  if (!list) return error_response(list.error());
  json::array out;
  for (const auto& t : *list) out.push_back(transfer_json(c, t, user.id));
  return no_store(json_response(200, json::object{{"transfers", std::move(out)}}));
}

Response my_tickets(Ctx& c) {
  if (!c.services.transfers) return no_transfers();
  const core::User& user = c.caller();
  auto list = c.services.transfers->tickets_of(user);
  if (!list) return error_response(list.error());
  json::array out;
  for (const auto& v : *list) out.push_back(ticket_json(v));
  return no_store(json_response(200, json::object{{"tickets", std::move(out)}}));  // codes are credentials
}

}  // namespace

void add_transfer_routes(Router& router) {
  router.add("GET", "/v1/tickets", my_tickets);
  router.add("POST", "/v1/tickets/{token}/transfers", send_ticket);
  router.add("GET", "/v1/transfers", list_transfers);
  router.add("POST", "/v1/transfers/{id}/accept", accept_transfer);
  router.add("POST", "/v1/transfers/{id}/cancel", cancel_transfer);
}

}  // namespace ticketd::http
