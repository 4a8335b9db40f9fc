// Target: the JSON body (and, for the listing routes, the query string) of every endpoint that reads
// one, through the real handlers on the embedded store. Input layout:
//   byte 0: which endpoint (modulo the table below)
//   byte 1: flags: bit 0 = act as the administrator (else the buyer); bit 1 = send a valid access
//           token of the queued event (so holds there get past the waiting room)
//   rest:   the body (or the query string)
// Checkout needs a hold of the buyer's own: the harness makes one first and releases it afterwards,
// so the fuzzed body meets a live hold every time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "fuzz/support/api_fixture.hpp"
#include "payments/stripe/webhook.hpp"

namespace {

using ticketd::http::Request;
using ticketd::http::Response;

enum class Input { body, query, signed_webhook, checkout };

struct Endpoint {
  const char* method;
  const char* target;  // "{open}" / "{queued}" are the fixture's events
  Input input;
};

constexpr Endpoint kEndpoints[] = {
    {"POST", "/v1/users", Input::body},
    {"POST", "/v1/sessions", Input::body},
    {"POST", "/v1/admin/users:bulk", Input::body},
    {"POST", "/v1/venues", Input::body},
    {"POST", "/v1/events", Input::body},
    {"PUT", "/v1/events/{queued}/waiting-room", Input::body},
    {"PUT", "/v1/events/{open}/waiting-room", Input::body},
    {"POST", "/v1/events/{open}/holds", Input::body},
    {"POST", "/v1/events/{queued}/holds", Input::body},
    {"POST", "/v1/holds/{hold}/checkout", Input::checkout},
    {"PATCH", "/v1/users/me", Input::body},
    {"POST", "/v1/payments/stripe/webhook", Input::signed_webhook},
    {"POST", "/v1/payments/stripe/webhook", Input::body},
    {"POST", "/v1/events/{queued}/queue", Input::body},
    {"GET", "/v1/events", Input::query},
    {"GET", "/v1/events/{open}/seats", Input::query},
    {"GET", "/v1/bookings", Input::query},
    {"GET", "/v1/admin/notifications", Input::query},
};
constexpr size_t kEndpointsCount = sizeof kEndpoints / sizeof kEndpoints[0];

std::string expand(std::string target, const ticketd::fuzz::ApiFixture& f, int64_t hold) {
  const std::pair<std::string, std::string> names[] = {{"{open}", std::to_string(f.open_event)},
                                                       {"{queued}", std::to_string(f.queued_event)},
                                                       {"{hold}", std::to_string(hold)}};
  for (const auto& [name, value] : names) {
    if (auto at = target.find(name); at != std::string::npos) target.replace(at, name.size(), value);
  }
  return target;
}

Request make_request(const std::string& method, std::string target, const std::string& token) {
  Request r;
  r.method = method;
  r.target = std::move(target);
  r.remote_address = "127.0.0.1";
  r.headers.push_back({"authorization", "Bearer " + token});
  r.headers.push_back({"content-type", "application/json"});
  return r;
}

Response call(const ticketd::fuzz::ApiFixture& f, const Request& r) {
  Response response = f.api->handle(r);
  ticketd::fuzz::check_response(r, response);
  return response;
}

// A one-seat hold of the buyer on the open event; 0 if none could be made (sold out, limit reached).
int64_t make_hold(const ticketd::fuzz::ApiFixture& f) {
  Request r = make_request("POST", expand("/v1/events/{open}/holds", f, 0), f.buyer_token);
  r.body = R"({"quantity":1})";
  const Response response = call(f, r);
  if (response.status != 201) return 0;
  return boost::json::parse(response.body).as_object().at("id").as_int64();
}

// Undoes what a checkout may have done, so the buyer never runs out of seats or allowance.
void undo_hold(const ticketd::fuzz::ApiFixture& f, int64_t hold) {
  Request get = make_request("GET", "/v1/holds/" + std::to_string(hold), f.buyer_token);
  const Response held = call(f, get);
  call(f, make_request("DELETE", "/v1/holds/" + std::to_string(hold), f.buyer_token));
  if (held.status != 200) return;
  const boost::json::value v = boost::json::parse(held.body);
  if (const auto* booking = v.as_object().if_contains("booking_id"); booking && booking->is_int64()) {
    call(f, make_request("POST", "/v1/bookings/" + std::to_string(booking->as_int64()) + "/cancel", f.buyer_token));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const ticketd::fuzz::ApiFixture& f = ticketd::fuzz::api_fixture();
  const Endpoint& e = kEndpoints[data[0] % kEndpointsCount];
  const bool admin = (data[1] & 1) != 0;
  const bool with_access = (data[1] & 2) != 0;
  const std::string_view payload(reinterpret_cast<const char*>(data) + 2, size - 2);

  const int64_t hold = e.input == Input::checkout ? make_hold(f) : 0;
  if (e.input == Input::checkout && hold == 0) return 0;
  std::string target = expand(e.target, f, hold);
  if (e.input == Input::query) target += "?" + std::string(payload);
  Request r = make_request(e.method, std::move(target), admin ? f.admin_token : f.buyer_token);
  if (e.input != Input::query) r.body = std::string(payload);
  if (e.input == Input::checkout) r.headers.push_back({"idempotency-key", "fuzz-" + std::to_string(hold)});
  if (e.input == Input::signed_webhook) {
    const int64_t now_s = ticketd::to_unix_ms(ticketd::SystemClock().now()) / 1000;
    r.headers.push_back({"stripe-signature", "t=" + std::to_string(now_s) + ",v1=" +
                                                 ticketd::payments::webhook_signature_hex(f.webhook_secret, now_s, payload)});
  }
  if (with_access) {
    ticketd::app::TokenClaims claims;
    claims.kind = ticketd::app::TokenKind::Access;
    claims.event = f.queued_event;
    claims.user = f.buyer_id;
    claims.expires_at = ticketd::SystemClock().now() + ticketd::Millis(600'000);
    r.headers.push_back({"x-access-token", f.queue_keys->sign(claims)});
  }
  const Response response = call(f, r);
  if (hold != 0) undo_hold(f, hold);
  // A fuzzed hold that succeeded is released, so holds never use up the seats or the buyer's allowance.
  if (response.status == 201 && r.target.find("/holds") != std::string::npos) {
    const int64_t made = boost::json::parse(response.body).as_object().at("id").as_int64();
    call(f, make_request("DELETE", "/v1/holds/" + std::to_string(made), admin ? f.admin_token : f.buyer_token));
  }
  return 0;
}
