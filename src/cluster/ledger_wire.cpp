// The JSON of forwarded seat calls and their answers (ledger_wire.hpp). Times travel as Unix
// milliseconds, enums as their numbers (both ends are ticketd nodes of one deployment).
#include "cluster/ledger_wire.hpp"

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <stdexcept>

#include "store/postgres/seat_journal.hpp"

namespace ticketd::cluster {

namespace json = boost::json;

namespace {

constexpr std::array<const char*, 14> kCallNames{"hold",    "find_hold",    "release",   "checkout", "settle",
                                                 "cancel",  "refund_seats", "dates",     "seat_map", "stock",
                                                 "listing", "resale_rule",  "hold_each", "batch"};
constexpr int kLastCode = static_cast<int>(core::Code::ResaleInProgress);

// A field of the wrong kind, or a number out of range, throws: the decoders turn that into an error.
struct Malformed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const json::value& field(const json::object& o, const char* name) {
  const json::value* v = o.if_contains(name);
  if (!v) throw Malformed(std::string("missing ") + name);
  return *v;
}
int64_t int_of(const json::object& o, const char* name) { return field(o, name).as_int64(); }
uint64_t uint_of(const json::object& o, const char* name) {
  const json::value& v = field(o, name);
  if (v.is_uint64()) return v.get_uint64();
  const int64_t i = v.as_int64();
  if (i < 0) throw Malformed(std::string("negative ") + name);
  return static_cast<uint64_t>(i);
}
uint32_t u32_of(const json::object& o, const char* name) {
  const uint64_t v = uint_of(o, name);
  if (v > UINT32_MAX) throw Malformed(std::string("too large ") + name);
  return static_cast<uint32_t>(v);
}
std::string str_of(const json::object& o, const char* name) { return std::string(field(o, name).as_string()); }
TimeMs time_of(const json::object& o, const char* name) { return from_unix_ms(int_of(o, name)); }
bool bool_of(const json::object& o, const char* name) { return field(o, name).as_bool(); }
template <typename E>
E enum_of(const json::object& o, const char* name, E last) {
  const int64_t v = int_of(o, name);
  if (v < 0 || v > static_cast<int64_t>(last)) throw Malformed(std::string("unknown ") + name);
  return static_cast<E>(v);
}

json::array seats_json(const std::vector<core::SeatId>& seats) {
  json::array a;
  a.reserve(seats.size());
  for (core::SeatId s : seats) a.push_back(s);
  return a;
}
std::vector<core::SeatId> seats_of(const json::object& o, const char* name) {
  const json::array& a = field(o, name).as_array();
  if (a.size() > core::limits::seats_per_venue_max) throw Malformed(std::string("too many ") + name);
  std::vector<core::SeatId> out;
  out.reserve(a.size());
  for (const json::value& v : a) {
    const int64_t s = v.as_int64();
    if (s < 0 || s > UINT32_MAX) throw Malformed(std::string("bad seat in ") + name);
    out.push_back(static_cast<core::SeatId>(s));
  }
  return out;
}

json::object hold_request_json(const core::HoldRequest& r) {
  json::object h{{"user_id", r.user_id},
                 {"seats", seats_json(r.seats)},
                 {"ttl_ms", r.ttl.count()},
                 {"expiry_notice_lead_ms", r.expiry_notice_lead.count()},
                 {"active_holds_max", r.active_holds_max},
                 {"offer", r.offer}};
  if (r.best) {
    json::object best{{"quantity", r.best->quantity}};
    if (r.best->section) best["section"] = *r.best->section;
    h["best"] = std::move(best);
  }
  return h;
}

core::HoldRequest hold_request_of(const json::object& h) {
  core::HoldRequest r;
  r.user_id = int_of(h, "user_id");
  r.seats = seats_of(h, "seats");
  r.ttl = Millis(int_of(h, "ttl_ms"));
  r.expiry_notice_lead = Millis(int_of(h, "expiry_notice_lead_ms"));
  r.active_holds_max = u32_of(h, "active_holds_max");
  r.offer = h.contains("offer") && bool_of(h, "offer");
  if (r.ttl <= Millis(0) || r.ttl > Millis(86'400'000) || r.expiry_notice_lead < Millis(0))
    throw Malformed("hold times out of range");
  if (r.active_holds_max < 1 || r.active_holds_max > core::limits::active_holds_per_user_max)
    throw Malformed("active_holds_max out of range");
  if (const json::value* b = h.if_contains("best")) {
    const json::object& best = b->as_object();
    core::BestAvailableRequest want{u32_of(best, "quantity"), std::nullopt};
    if (best.contains("section")) want.section = u32_of(best, "section");
    r.best = want;
  }
  return r;
}

core::Hold hold_of(const json::object& o) {
  core::Hold h;
  h.id = int_of(o, "id");
  h.event_id = int_of(o, "event_id");
  h.user_id = int_of(o, "user_id");
  h.seats = seats_of(o, "seats");
  h.created_at = time_of(o, "created_at");
  h.expires_at = time_of(o, "expires_at");
  h.state = enum_of(o, "state", core::HoldState::Converted);
  h.booking_id = int_of(o, "booking_id");
  return h;
}

core::Booking booking_of(const json::object& o) {
  core::Booking b;
  b.id = int_of(o, "id");
  b.hold_id = int_of(o, "hold_id");
  b.event_id = int_of(o, "event_id");
  b.user_id = int_of(o, "user_id");
  b.status = enum_of(o, "status", core::BookingStatus::Cancelled);
  b.seats = seats_of(o, "seats");
  b.total_amount = int_of(o, "total_amount");
  b.currency = str_of(o, "currency");
  b.payment_id = int_of(o, "payment_id");
  b.payment_ref = str_of(o, "payment_ref");
  b.created_at = time_of(o, "created_at");
  b.cancelled_at = time_of(o, "cancelled_at");
  b.decline_code = str_of(o, "decline_code");
  b.message = str_of(o, "message");
  return b;
}

core::CheckoutRecord checkout_of(const json::object& o) {
  core::CheckoutRecord r;
  r.hold_id = int_of(o, "hold_id");
  r.booking_id = int_of(o, "booking_id");
  r.event_id = int_of(o, "event_id");
  r.user_id = int_of(o, "user_id");
  r.status = enum_of(o, "status", core::BookingStatus::Cancelled);
  r.payment_id = int_of(o, "payment_id");
  r.payment_status = str_of(o, "payment_status");
  r.payment_ref = str_of(o, "payment_ref");
  r.gateway_key = str_of(o, "gateway_key");
  r.payment_method = str_of(o, "payment_method");
  r.amount = int_of(o, "amount");
  r.currency = str_of(o, "currency");
  r.decline_code = str_of(o, "decline_code");
  r.message = str_of(o, "message");
  r.created_at = time_of(o, "created_at");
  return r;
}

core::Error error_of(const json::object& o) {
  core::Error e = core::make_error(enum_of(o, "code", static_cast<core::Code>(kLastCode)), str_of(o, "message"));
  e.seats = seats_of(o, "seats");
  e.detail = str_of(o, "detail");
  return e;
}

// One hold's answer, {"ok": hold} or {"error": ...}.
core::Result<core::Hold> hold_answer_of(const json::object& o) {
  if (const json::value* e = o.if_contains("error")) return error_of(e->as_object());
  return hold_of(field(o, "ok").as_object());
}

// The answer's "ok" value, or its error; Unavailable if the body is not an answer at all.
template <typename T, typename Read>
core::Result<T> decode(std::string_view body, Read read) {
  try {
    const json::value parsed = json::parse(body);
    const json::object& o = parsed.as_object();
    if (const json::value* e = o.if_contains("error")) return error_of(e->as_object());
    return read(field(o, "ok"));
  } catch (const std::exception& e) {
    return core::make_error(core::Code::Unavailable, std::string("the owner's answer was not understood: ") + e.what());
  }
}

}  // namespace

const char* call_name(Call c) { return kCallNames[static_cast<size_t>(c)]; }

const std::string& call_path(Call c) {
  static const std::array<std::string, kCallNames.size()> paths = [] {
    std::array<std::string, kCallNames.size()> out;
    for (size_t i = 0; i < kCallNames.size(); ++i) out[i] = std::string(kLedgerPathPrefix) + kCallNames[i];
    return out;
  }();
  return paths[static_cast<size_t>(c)];
}

std::optional<Call> call_from(std::string_view name) {
  for (size_t i = 0; i < kCallNames.size(); ++i)
    if (name == kCallNames[i]) return static_cast<Call>(i);
  return std::nullopt;
}

std::string encode_args(Call call, const CallArgs& a) {
  json::object o{{"event_id", a.event_id}, {"hold_id", a.hold_id}, {"booking_id", a.booking_id},
                 {"user_id", a.user_id}};
  switch (call) {
    case Call::hold:
      o["hold"] = hold_request_json(a.hold);
      break;
    case Call::hold_each: {
      json::array holds;
      holds.reserve(a.holds.size());
      for (const core::HoldRequest& r : a.holds) holds.push_back(hold_request_json(r));
      o["holds"] = std::move(holds);
      break;
    }
    case Call::checkout:
      o["checkout"] = json::object{{"idempotency_key", a.checkout.idempotency_key},
                                   {"amount", a.checkout.amount},
                                   {"currency", a.checkout.currency},
                                   {"payment_method", a.checkout.payment_method}};
      break;
    case Call::settle:
      o["outcome"] = json::object{{"kind", static_cast<int>(a.outcome.kind)},
                                  {"payment_ref", a.outcome.payment_ref},
                                  {"decline_code", a.outcome.decline_code},
                                  {"message", a.outcome.message},
                                  {"event_id", a.outcome.event_id}};
      break;
    case Call::cancel:
      o["refund_ref"] = a.refund_ref;
      break;
    case Call::refund_seats:
      o["refund_ref"] = a.refund_ref;
      o["refund"] = json::object{{"seats", seats_json(a.refund.seats)}, {"amount", a.refund.amount}};
      break;
    case Call::listing:
      o["listing"] = json::object{{"seat", a.listing.seat}, {"listed", a.listing.listed}, {"amount", a.listing.amount}};
      break;
    case Call::resale_rule:
      o["resale_on_open_sale"] = a.resale_on_open_sale;
      break;
    case Call::dates:
      o["on_sale_at"] = to_unix_ms(a.on_sale_at);
      o["starts_at"] = to_unix_ms(a.starts_at);
      break;
    case Call::stock:
      o["expiring_before"] = to_unix_ms(a.expiring_before);
      break;
    case Call::find_hold:
    case Call::release:
    case Call::seat_map:
    case Call::batch:  // encode_batch()
      break;
  }
  return json::serialize(o);
}

namespace {

// The arguments of `call` (any but batch) from its JSON; throws when they are malformed.
CallArgs args_of(Call call, const json::object& o) {
  CallArgs a;
  a.event_id = int_of(o, "event_id");
  a.hold_id = int_of(o, "hold_id");
  a.booking_id = int_of(o, "booking_id");
  a.user_id = int_of(o, "user_id");
  switch (call) {
    case Call::hold:
      a.hold = hold_request_of(field(o, "hold").as_object());
      break;
    case Call::hold_each: {
      const json::array& holds = field(o, "holds").as_array();
      if (holds.size() > core::limits::holds_per_call_max) throw Malformed("too many holds");
      a.holds.reserve(holds.size());
      for (const json::value& h : holds) a.holds.push_back(hold_request_of(h.as_object()));
      break;
    }
    case Call::checkout: {
      const json::object& c = field(o, "checkout").as_object();
      a.checkout = core::CheckoutStart{str_of(c, "idempotency_key"), int_of(c, "amount"), str_of(c, "currency"),
                                       str_of(c, "payment_method")};
      break;
    }
    case Call::settle: {
      const json::object& c = field(o, "outcome").as_object();
      a.outcome.kind = enum_of(c, "kind", core::PaymentOutcome::Kind::Rejected);
      a.outcome.payment_ref = str_of(c, "payment_ref");
      a.outcome.decline_code = str_of(c, "decline_code");
      a.outcome.message = str_of(c, "message");
      a.outcome.event_id = str_of(c, "event_id");
      break;
    }
    case Call::cancel:
      a.refund_ref = str_of(o, "refund_ref");
      break;
    case Call::refund_seats: {
      a.refund_ref = str_of(o, "refund_ref");
      const json::object& r = field(o, "refund").as_object();
      a.refund.seats = seats_of(r, "seats");
      a.refund.amount = int_of(r, "amount");
      break;
    }
    case Call::listing: {
      const json::object& l = field(o, "listing").as_object();
      a.listing.seat = u32_of(l, "seat");
      a.listing.listed = bool_of(l, "listed");
      a.listing.amount = int_of(l, "amount");
      break;
    }
    case Call::resale_rule:
      a.resale_on_open_sale = bool_of(o, "resale_on_open_sale");
      break;
    case Call::dates:
      a.on_sale_at = time_of(o, "on_sale_at");
      a.starts_at = time_of(o, "starts_at");
      break;
    case Call::stock:
      a.expiring_before = time_of(o, "expiring_before");
      break;
    case Call::find_hold:
    case Call::release:
    case Call::seat_map:
      break;
    case Call::batch:
      throw Malformed("a batch has no arguments of its own");
  }
  return a;
}

}  // namespace

core::Result<CallArgs> decode_args(Call call, std::string_view body) {
  try {
    const json::value parsed = json::parse(body);
    return args_of(call, parsed.as_object());
  } catch (const std::exception& e) {
    return core::make_error(core::Code::InvalidRequest, std::string("malformed ") + call_name(call) + " call: " + e.what());
  }
}

std::string encode_batch(const std::vector<std::pair<Call, std::string_view>>& calls) {
  // The arguments are already JSON (encode_args): they are copied in, not parsed and written again.
  std::string body = "{\"calls\":[";
  for (size_t i = 0; i < calls.size(); ++i) {
    if (i > 0) body += ',';
    body += "{\"call\":\"";
    body += call_name(calls[i].first);
    body += "\",\"args\":";
    body += calls[i].second;
    body += '}';
  }
  body += "]}";
  return body;
}

core::Result<std::vector<BatchedCall>> decode_batch(std::string_view body) {
  try {
    const json::value parsed = json::parse(body);
    const json::array& calls = field(parsed.as_object(), "calls").as_array();
    if (calls.empty() || calls.size() > kBatchedCallsMax)
      throw Malformed("a batch has 1 to " + std::to_string(kBatchedCallsMax) + " calls");
    std::vector<BatchedCall> out;
    out.reserve(calls.size());
    for (const json::value& v : calls) {
      const json::object& c = v.as_object();
      const std::optional<Call> call = call_from(field(c, "call").as_string());
      if (call != Call::hold && call != Call::release) throw Malformed("a batch carries holds and releases only");
      out.push_back(BatchedCall{*call, args_of(*call, field(c, "args").as_object())});
    }
    return out;
  } catch (const std::exception& e) {
    return core::make_error(core::Code::InvalidRequest, std::string("malformed batch: ") + e.what());
  }
}

std::string encode_batch_answer(const std::vector<std::optional<std::string>>& answers) {
  std::string body = "{\"answers\":[";
  for (size_t i = 0; i < answers.size(); ++i) {
    if (i > 0) body += ',';
    body += answers[i] ? *answers[i] : "null";
  }
  body += "]}";
  return body;
}

json::value to_wire(const core::Hold& h) {
  return json::object{{"id", h.id},
                      {"event_id", h.event_id},
                      {"user_id", h.user_id},
                      {"seats", seats_json(h.seats)},
                      {"created_at", to_unix_ms(h.created_at)},
                      {"expires_at", to_unix_ms(h.expires_at)},
                      {"state", static_cast<int>(h.state)},
                      {"booking_id", h.booking_id}};
}

json::value to_wire(const core::Booking& b) {
  return json::object{{"id", b.id},
                      {"hold_id", b.hold_id},
                      {"event_id", b.event_id},
                      {"user_id", b.user_id},
                      {"status", static_cast<int>(b.status)},
                      {"seats", seats_json(b.seats)},
                      {"total_amount", b.total_amount},
                      {"currency", b.currency},
                      {"payment_id", b.payment_id},
                      {"payment_ref", b.payment_ref},
                      {"created_at", to_unix_ms(b.created_at)},
                      {"cancelled_at", to_unix_ms(b.cancelled_at)},
                      {"decline_code", b.decline_code},
                      {"message", b.message}};
}

json::value to_wire(const core::CheckoutRecord& r) {
  return json::object{{"hold_id", r.hold_id},
                      {"booking_id", r.booking_id},
                      {"event_id", r.event_id},
                      {"user_id", r.user_id},
                      {"status", static_cast<int>(r.status)},
                      {"payment_id", r.payment_id},
                      {"payment_status", r.payment_status},
                      {"payment_ref", r.payment_ref},
                      {"gateway_key", r.gateway_key},
                      {"payment_method", r.payment_method},
                      {"amount", r.amount},
                      {"currency", r.currency},
                      {"decline_code", r.decline_code},
                      {"message", r.message},
                      {"created_at", to_unix_ms(r.created_at)}};
}

json::value to_wire(const core::Settlement& s) {
  return json::object{{"booking", to_wire(s.booking)}, {"refund_needed", s.refund_needed}, {"resold", s.resold}};
}

json::value to_wire(const core::SeatMap& m) {
  return json::object{{"status", m.status},
                      {"available", m.counts.available},
                      {"held", m.counts.held},
                      {"sold", m.counts.sold},
                      {"version", m.version},
                      {"listed_for_offers", seats_json(m.listed_for_offers)}};
}

json::value to_wire(const core::Stock& s) {
  return json::object{{"available", s.available},
                      {"expiring", s.expiring},
                      {"basket_seats", s.basket_seats},
                      {"baskets", s.baskets}};
}

std::string encode_ok(json::value value) { return json::serialize(json::object{{"ok", std::move(value)}}); }

namespace {
json::object error_answer(const core::Error& e) {
  std::vector<core::SeatId> seats(e.seats.begin(), e.seats.end());
  return json::object{{"error", json::object{{"code", static_cast<int>(e.code)},
                                             {"message", e.message},
                                             {"seats", seats_json(seats)},
                                             {"detail", e.detail}}}};
}
}  // namespace

std::string encode_error(const core::Error& e) { return json::serialize(error_answer(e)); }

std::string encode_answer(const core::Status& s) { return s ? encode_ok(json::object{}) : encode_error(s.error()); }

std::string encode_answer(const HoldAnswers& holds) {
  json::array answers;
  answers.reserve(holds.size());
  for (const core::Result<core::Hold>& h : holds)
    answers.push_back(h ? json::value(json::object{{"ok", to_wire(*h)}}) : json::value(error_answer(h.error())));
  return encode_ok(std::move(answers));
}

core::Result<HoldAnswers> owner_refusal_or(HoldAnswers holds) {
  for (const core::Result<core::Hold>& h : holds)
    if (!h && store::postgres::owner_named_by(h.error())) return h.error();
  return holds;
}

core::Result<core::Hold> decode_hold(std::string_view body) {
  return decode<core::Hold>(body, [](const json::value& v) { return hold_of(v.as_object()); });
}

core::Result<core::Booking> decode_booking(std::string_view body) {
  return decode<core::Booking>(body, [](const json::value& v) { return booking_of(v.as_object()); });
}

core::Result<core::CheckoutRecord> decode_checkout(std::string_view body) {
  return decode<core::CheckoutRecord>(body, [](const json::value& v) { return checkout_of(v.as_object()); });
}

core::Result<core::Settlement> decode_settlement(std::string_view body) {
  return decode<core::Settlement>(body, [](const json::value& v) {
    const json::object& o = v.as_object();
    return core::Settlement{booking_of(field(o, "booking").as_object()), bool_of(o, "refund_needed"),
                            o.contains("resold") && bool_of(o, "resold")};
  });
}

core::Result<core::SeatMap> decode_seat_map(std::string_view body) {
  return decode<core::SeatMap>(body, [](const json::value& v) {
    const json::object& o = v.as_object();
    core::SeatMap m;
    m.status = str_of(o, "status");
    m.counts = core::SeatCounts{u32_of(o, "available"), u32_of(o, "held"), u32_of(o, "sold")};
    m.version = uint_of(o, "version");
    if (o.contains("listed_for_offers")) m.listed_for_offers = seats_of(o, "listed_for_offers");
    return m;
  });
}

core::Result<core::Stock> decode_stock(std::string_view body) {
  return decode<core::Stock>(body, [](const json::value& v) {
    const json::object& o = v.as_object();
    return core::Stock{u32_of(o, "available"), u32_of(o, "expiring"), uint_of(o, "basket_seats"), uint_of(o, "baskets")};
  });
}

core::Result<HoldAnswers> decode_holds(std::string_view body) {
  return decode<HoldAnswers>(body, [](const json::value& v) {
    const json::array& answers = v.as_array();
    if (answers.size() > core::limits::holds_per_call_max) throw Malformed("too many answers");
    HoldAnswers out;
    out.reserve(answers.size());
    for (const json::value& a : answers) out.push_back(hold_answer_of(a.as_object()));
    return out;
  });
}

core::Result<BatchAnswers> decode_batch_answer(std::string_view body, size_t calls) {
  try {
    const json::value parsed = json::parse(body);
    const json::array& answers = field(parsed.as_object(), "answers").as_array();
    if (answers.size() != calls) throw Malformed("not one answer per call");
    BatchAnswers out;
    out.reserve(answers.size());
    for (const json::value& a : answers) {
      if (a.is_null())
        out.emplace_back(std::nullopt);
      else
        out.emplace_back(hold_answer_of(a.as_object()));
    }
    return out;
  } catch (const std::exception& e) {
    return core::make_error(core::Code::Unavailable, std::string("the owner's answer was not understood: ") + e.what());
  }
}

core::Status decode_status(std::string_view body) {
  return decode<core::Ok>(body, [](const json::value& v) {
    (void)v.as_object();
    return core::Ok{};
  });
}

}  // namespace ticketd::cluster
