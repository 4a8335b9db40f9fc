// /v1/events/{id}/holds, /v1/holds/{id}, /v1/holds/{id}/checkout, /v1/bookings
#include "core/limits.hpp"
#include "http/json_codec.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;

namespace {

// The body and headers of POST /v1/events/{id}/holds as the use case takes them.
core::Result<app::HoldInput> hold_input(const Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return body.error();
  app::HoldInput input;
  input.event_id = c.ids[0];
  auto seats = read_uint_list(*body, "seat_ids", core::limits::seats_per_hold_max, core::limits::seats_per_venue_max);
  auto quantity = read_int(*body, "quantity", 1, core::limits::seats_per_hold_max);
  auto section = read_string(*body, "section", core::limits::name_bytes_max);
  if (!seats) return seats.error();
  if (!quantity) return quantity.error();
  if (!section) return section.error();
  const auto invalid = [](const char* message) { return core::make_error(core::Code::InvalidRequest, message); };
  if (seats->has_value() == quantity->has_value()) return invalid("give either seat_ids or quantity");
  if (seats->has_value() && (*seats)->empty()) return invalid("seat_ids: at least one seat");
  if (section->has_value() && !quantity->has_value()) return invalid("section: only with quantity");
  if (seats->has_value()) input.seats = std::move(**seats);
  if (quantity->has_value()) input.quantity = static_cast<uint32_t>(**quantity);
  input.section = *section;
  input.access_token = std::string(c.request.header("x-access-token").substr(0, app::TokenKeys::kTokenBytesMax + 1));
  return input;
}

Response hold_response(const core::Result<app::HoldView>& hold) {
  return hold ? json_response(201, to_json(*hold)) : error_response(hold.error());
}

Response create_hold(Ctx& c) {
  const core::User& user = c.caller();
  auto input = hold_input(c);
  if (!input) return error_response(input.error());
  return hold_response(c.services.sales.hold(user.id, *input));
}

// On the I/O thread: decided in memory, answered when the commit writer has made it durable (no
// thread waits meanwhile). What is not in memory (the event's seats on first use, a stale event copy,
// a waiting room) goes to create_hold on a worker.
bool create_hold_inline(Ctx& c, const Reply& reply) {
  if (!c.services.sales.holds_without_blocking()) return false;  // nothing parsed twice
  auto input = hold_input(c);
  if (!input) {
    reply([error = input.error()] { return error_response(error); });
    return true;
  }
  return c.services.sales.try_hold_async(c.caller().id, *input, [reply](core::Result<app::HoldView> hold) {
    reply([hold = std::move(hold)] { return hold_response(hold); });
  });
}

Response get_hold(Ctx& c) {
  const core::User& user = c.caller();
  auto hold = c.services.sales.get_hold(user.id, c.ids[0]);
  if (!hold) return error_response(hold.error());
  return json_response(200, to_json(*hold));
}

Response release_hold(Ctx& c) {
  const core::User& user = c.caller();
  if (auto s = c.services.sales.release(user.id, c.ids[0]); !s) return error_response(s.error());
  return no_content();
}

// On the I/O thread: a live hold of the caller's whose event is in memory is released there and
// answered once the release is durable; anything else (an ended hold, someone else's, an unknown
// one) goes to release_hold on a worker, which reads the store for the right answer.
bool release_hold_inline(Ctx& c, const Reply& reply) {
  return c.services.sales.try_release_async(c.caller().id, c.ids[0], [reply](core::Status released) {
    reply([released = std::move(released)] { return released ? no_content() : error_response(released.error()); });
  });
}

// The payment method of a checkout's body. Optional: a free hold (total 0) needs no card; Sales refuses
// a paid checkout without one.
core::Result<std::string> checkout_payment_method(const Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return body.error();
  auto pm = read_string(*body, "payment_method", 255);
  if (!pm) return pm.error();
  return pm->value_or("");
}

Response checkout_response(const app::CheckoutResult& booking) {
  if (!booking) return error_response(booking.error());
  // 202: the payment awaits the buyer's authentication (3-D Secure); the outcome arrives by webhook.
  return json_response(booking->status == core::BookingStatus::PendingPayment ? 202 : 201, to_json(*booking));
}

Response checkout(Ctx& c) {
  auto pm = checkout_payment_method(c);
  if (!pm) return error_response(pm.error());
  const std::string key(c.request.header("idempotency-key"));
  return checkout_response(c.services.sales.checkout(c.caller().id, c.ids[0], key, *pm));
}

// Before the I/O thread may take a checkout, its Idempotency-Key is read (in batches, without a worker):
// one used before continues its checkout on a worker.
bool prepare_checkout(Services& services, const Request& request, const std::vector<int64_t>& ids,
                      const core::User& caller, const Ready& ready) {
  return services.sales.prepare_checkout(caller.id, ids.at(0), std::string(request.header("idempotency-key")), ready);
}

// On the I/O thread, once the key is known unused: decided in memory, charged and settled on the commit
// thread, answered once the sale is durable (app/sales.hpp, try_checkout_async). Anything else, and any
// request whose body is not right, goes to checkout on a worker.
bool checkout_inline(Ctx& c, const Reply& reply) {
  if (!c.request.prepared) return false;
  auto pm = checkout_payment_method(c);
  if (!pm) return false;
  const std::string key(c.request.header("idempotency-key"));
  return c.services.sales.try_checkout_async(c.caller().id, c.ids[0], key, *pm, [reply](app::CheckoutResult booking) {
    reply([booking = std::move(booking)] { return checkout_response(booking); });
  });
}

// Where the buyer's browser goes to confirm the payment with the bank (3-D Secure); the gateway's
// page sends it back to the booking's page in the web app.
Response payment_action(Ctx& c) {
  auto url = c.services.sales.payment_action(c.caller().id, c.ids[0]);
  if (!url) return error_response(url.error());
  return json_response(200, json::object{{"type", "redirect_to_url"}, {"url", std::move(*url)}});
}

Response list_bookings(Ctx& c) {
  const core::User& user = c.caller();
  uint32_t limit = core::limits::page_size_default;
  int64_t before = 0;
  auto digits = [](const std::string& s, size_t max) {
    return !s.empty() && s.size() <= max && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    if (!digits(it->second, 3) || std::stoul(it->second) < 1 || std::stoul(it->second) > core::limits::page_size_max)
      return error_response(core::Code::InvalidRequest, "limit: 1-100 required");
    limit = static_cast<uint32_t>(std::stoul(it->second));
  }
  if (auto it = c.query.find("after"); it != c.query.end() && !it->second.empty()) {
    if (!digits(it->second, 18)) return error_response(core::Code::InvalidRequest, "after: not a cursor from this API");
    before = std::stoll(it->second);
  }
  bool include_failed = false;
  if (auto it = c.query.find("include_failed"); it != c.query.end()) {
    if (it->second != "true" && it->second != "false")
      return error_response(core::Code::InvalidRequest, "include_failed: true or false");
    include_failed = it->second == "true";
  }
  auto bookings = c.services.sales.bookings(user.id, limit, before, include_failed);
  json::array out;
  for (const core::Booking& b : bookings) out.push_back(to_json(b));
  json::object page{{"bookings", std::move(out)}};
  page["next"] = bookings.size() == limit ? json::value(std::to_string(bookings.back().id)) : json::value(nullptr);
  return json_response(200, page);
}

Response get_booking(Ctx& c) {
  const core::User& user = c.caller();
  auto booking = c.services.sales.booking(user.id, c.ids[0]);
  if (!booking) return error_response(booking.error());
  return json_response(200, to_json(*booking));
}

Response cancel_booking(Ctx& c) {
  const core::User& user = c.caller();
  auto booking = c.services.sales.cancel(user.id, c.ids[0]);
  if (!booking) return error_response(booking.error());
  return json_response(200, to_json(*booking));
}

// Administrators and the event's organizers: refund a buyer's whole booking (docs/console.md, "Refunds").
Response refund_booking(Ctx& c) {
  // Its event decides who may refund it; a booking one does not manage reads as none (404).
  auto found = c.services.sales.any_booking(c.ids[0]);
  if (!found) return error_response(found.error());
  if (auto m = c.event_manager(found->event_id); !m) return error_response(m.error());
  c.audit_before = json::serialize(to_json(*found));  // the booking as it was
  // {"seat_ids": [...]}: those seats only (a partial amount); no body or no seat_ids: the whole booking.
  auto body = parse_object(c.request.body.empty() ? std::string("{}") : c.request.body);
  if (!body) return error_response(body.error());
  auto seats = read_uint_list(*body, "seat_ids", core::limits::seats_per_hold_max, core::limits::seats_per_venue_max);
  if (!seats) return error_response(seats.error());
  auto booking = *seats ? c.services.sales.refund_seats(c.ids[0], std::vector<core::SeatId>((*seats)->begin(), (*seats)->end()))
                        : c.services.sales.refund(c.ids[0]);
  if (!booking) return error_response(booking.error());
  return json_response(200, to_json(*booking));
}

// Administrators and the event's organizers: the buyer's confirmation email again (docs/console.md).
Response resend_confirmation(Ctx& c) {
  auto found = c.services.sales.any_booking(c.ids[0]);
  if (!found) return error_response(found.error());
  if (auto m = c.event_manager(found->event_id); !m) return error_response(m.error());
  if (auto s = c.services.notifications.resend_confirmation(*found); !s) return error_response(s.error());
  return json_response(202, json::object{{"booking_id", found->id}, {"queued", true}});
}

Response stripe_webhook(Ctx& c) {
  auto handled = c.services.payments.handle_webhook(c.request.body, c.request.header("stripe-signature"));
  if (!handled) return error_response(handled.error());
  return json_response(200, json::object{{"received", true}});
}

}  // namespace

void add_sales_routes(Router& router) {
  router.add("POST", "/v1/payments/stripe/webhook", stripe_webhook, {.who = Caller::anyone, .limit = RouteClass::exempt});
  router.add("POST", "/v1/events/{id}/holds", create_hold, {.limit = RouteClass::hold, .on_io_thread = create_hold_inline});
  router.add("GET", "/v1/holds/{id}", get_hold);
  router.add("DELETE", "/v1/holds/{id}", release_hold, {.on_io_thread = release_hold_inline});
  router.add("POST", "/v1/holds/{id}/checkout", checkout,
             {.on_io_thread = checkout_inline, .prepare = prepare_checkout});
  router.add("GET", "/v1/bookings", list_bookings);
  router.add("GET", "/v1/bookings/{id}", get_booking);
  router.add("GET", "/v1/bookings/{id}/payment-action", payment_action);
  router.add("POST", "/v1/bookings/{id}/cancel", cancel_booking);
  router.add("POST", "/v1/bookings/{id}/resend-confirmation", resend_confirmation, {.who = Caller::manager, .audit = Audit::request});
  router.add("POST", "/v1/bookings/{id}/refund", refund_booking, {.who = Caller::manager, .audit = Audit::request_and_result});
}

}  // namespace ticketd::http
