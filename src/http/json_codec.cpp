#include "http/json_codec.hpp"

namespace ticketd::http {

namespace json = boost::json;
using core::Code;
using core::make_error;

namespace {
core::Error field_error(const char* field, const std::string& why) {
  return make_error(Code::InvalidRequest, std::string(field) + ": " + why);
}

}  // namespace

core::Result<json::object> parse_object(const std::string& body) {
  json::parse_options opts;
  opts.max_depth = kJsonDepthMax;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) return make_error(Code::InvalidRequest, "malformed_json:" + ec.message());
  if (!v.is_object()) return make_error(Code::InvalidRequest, "body: must be a JSON object");
  return std::move(v.as_object());
}

core::Result<std::optional<std::string>> read_string(const json::object& o, const char* field, size_t bytes_max) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>();
  if (!it->value().is_string()) return field_error(field, "must be a string");
  const json::string& s = it->value().as_string();
  if (s.size() > bytes_max) return field_error(field, "at most " + std::to_string(bytes_max) + " bytes");
  return std::optional<std::string>(std::string(s.data(), s.size()));
}

core::Result<std::optional<bool>> read_bool(const json::object& o, const char* field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>();
  if (!it->value().is_bool())
    return core::make_error(core::Code::InvalidRequest, std::string(field) + ": must be true or false");
  return std::optional<bool>(it->value().as_bool());
}

core::Result<std::optional<int64_t>> read_int(const json::object& o, const char* field, int64_t min, int64_t max) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  const json::value& v = it->value();
  int64_t n;
  if (v.is_int64()) n = v.as_int64();
  else if (v.is_uint64()) return field_error(field, "out of range");
  else return field_error(field, "must be an integer");
  if (n < min || n > max)
    return field_error(field, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return std::optional<int64_t>(n);
}

core::Result<std::optional<std::vector<uint32_t>>> read_uint_list(const json::object& o, const char* field,
                                                                 size_t items_max, int64_t value_max) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::optional<std::vector<uint32_t>>();
  if (!it->value().is_array()) return field_error(field, "must be an array of integers");
  const json::array& a = it->value().as_array();
  if (a.size() > items_max) return field_error(field, "at most " + std::to_string(items_max) + " items");
  std::vector<uint32_t> out;
  out.reserve(a.size());
  for (const json::value& v : a) {
    if (!v.is_int64() && !v.is_uint64()) return field_error(field, "must be an array of integers");
    if (v.is_uint64() || v.as_int64() < 0 || v.as_int64() > value_max)
      return make_error(Code::InvalidSeat, std::string(field) + ": no such seat in this venue");
    out.push_back(static_cast<uint32_t>(v.as_int64()));
  }
  return std::optional<std::vector<uint32_t>>(std::move(out));
}

core::Result<std::optional<TimeMs>> read_time(const json::object& o, const char* field) {
  auto s = read_string(o, field, 64);
  if (!s) return s.error();
  if (!*s) return std::optional<TimeMs>();
  auto t = parse_rfc3339(**s);
  if (!t) return field_error(field, "must be an RFC 3339 date-time such as 2026-12-01T20:00:00Z");
  return std::optional<TimeMs>(*t);
}

core::Result<std::optional<core::WaitingRoomSettings>> read_waiting_room(const json::object& o,
                                                                         const core::WaitingRoomSettings& base) {
  using namespace core::limits;
  auto it = o.find("waiting_room");
  if (it == o.end() || it->value().is_null()) return std::optional<core::WaitingRoomSettings>();
  if (!it->value().is_object()) return field_error("waiting_room", "must be an object");
  const json::object& w = it->value().as_object();
  for (const auto& kv : w) {
    const std::string_view k = kv.key();
    if (k != "enabled" && k != "batch_size" && k != "release_interval_s" && k != "active_window_s" &&
        k != "opens_before_s")
      return make_error(Code::InvalidRequest, "waiting_room." + std::string(k) + ": unknown field");
  }
  core::WaitingRoomSettings s = base;
  if (auto e = w.find("enabled"); e != w.end()) {
    if (!e->value().is_bool()) return field_error("waiting_room.enabled", "must be true or false");
    s.enabled = e->value().as_bool();
  }
  auto batch = read_int(w, "batch_size", 1, queue_batch_size_max);
  auto interval = read_int(w, "release_interval_s", 1, queue_release_interval_s_max);
  auto window = read_int(w, "active_window_s", 1, queue_active_window_s_max);
  auto before = read_int(w, "opens_before_s", 0, queue_opens_before_s_max);
  for (auto* r : {&batch, &interval, &window, &before})
    if (!*r) return make_error(Code::InvalidRequest, "waiting_room." + r->error().message);
  if (*batch) s.batch_size = static_cast<uint32_t>(**batch);
  if (*interval) s.release_interval = Millis(**interval * 1000);
  if (*window) s.active_window = Millis(**window * 1000);
  if (*before) s.opens_before = Millis(**before * 1000);
  return std::optional<core::WaitingRoomSettings>(s);
}

json::object to_json(const core::WaitingRoomSettings& s) {
  return {{"enabled", s.enabled},
          {"batch_size", s.batch_size},
          {"release_interval_s", s.release_interval.count() / 1000},
          {"active_window_s", s.active_window.count() / 1000},
          {"opens_before_s", s.opens_before.count() / 1000}};
}

Response json_response(int status, const json::value& body) {
  Response r;
  r.status = status;
  r.body = json::serialize(body);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

Response no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

json::object to_json(const core::User& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"role", u.role == core::Role::Admin ? "admin" : "user"},
          {"email_verified", u.email_verified}};
}

json::object to_json(const core::Event& e, const std::optional<core::SeatCounts>& counts) {
  json::object prices;
  for (const auto& [tier, p] : e.prices) prices[tier] = p;
  json::object o{{"id", e.id},
                 {"name", e.name},
                 {"venue_id", e.venue_id},
                 {"organization_id", e.organization_id},
                 {"description", e.description},
                 {"image_url", e.image_url},
                 {"published", e.published},
                 {"postponed_from", e.postponed_from == TimeMs{} ? json::value(nullptr)
                                                                 : json::value(format_rfc3339(e.postponed_from))},
                 {"venue_name", e.venue_name},
                 {"starts_at", format_rfc3339(e.starts_at)},
                 {"on_sale_at", format_rfc3339(e.on_sale_at)},
                 {"currency", e.currency},
                 {"prices", std::move(prices)},
                 {"max_tickets_per_user", e.max_tickets_per_user},
                 {"seats_total", e.seats_total},
                 {"waiting_room", to_json(e.waiting_room)},
                 {"static_codes_accepted", e.static_codes_accepted}};
  if (e.cancelled()) {
    o["cancelled_at"] = format_rfc3339(e.cancelled_at);
    o["cancel_reason"] = e.cancel_reason;
  }
  if (counts)
    o["counts"] = json::object{{"available", counts->available}, {"held", counts->held}, {"sold", counts->sold}};
  return o;
}

namespace {
json::array seat_array(const std::vector<core::SeatId>& seats) {
  json::array a;
  a.reserve(seats.size());
  for (core::SeatId s : seats) a.push_back(s);
  return a;
}
}  // namespace

json::object to_json(const app::HoldView& v) {
  const core::Hold& h = v.hold;
  json::object o{{"id", h.id},
                 {"event_id", h.event_id},
                 {"seat_ids", seat_array(h.seats)},
                 {"status", core::to_string(h.state)},
                 {"created_at", format_rfc3339(h.created_at)},
                 {"expires_at", format_rfc3339(h.expires_at)},
                 {"total_amount", v.total_amount},
                 {"currency", v.currency}};
  if (h.booking_id) o["booking_id"] = h.booking_id;
  return o;
}

json::object to_json(const core::Booking& b) {
  json::object o{{"id", b.id},
                 {"hold_id", b.hold_id},
                 {"event_id", b.event_id},
                 {"status", core::to_string(b.status)},
                 {"seat_ids", seat_array(b.seats)},
                 {"total_amount", b.total_amount},
                 {"currency", b.currency},
                 {"payment_id", b.payment_id},
                 {"payment_ref", b.payment_ref},
                 {"created_at", format_rfc3339(b.created_at)}};
  if (b.status == core::BookingStatus::Cancelled) o["cancelled_at"] = format_rfc3339(b.cancelled_at);
  if (b.status == core::BookingStatus::Failed) {
    o["decline_code"] = b.decline_code;
    o["message"] = b.message;
  }
  return o;
}

json::object to_json(const core::Venue& v) {
  const core::LayoutSpec& spec = v.layout.spec();
  json::array sections;
  size_t row_ref = 0;
  for (const core::SectionSpec& s : spec.sections) {
    json::array rows;
    for (const core::RowSpec& r : s.rows) {
      auto list = [](const std::vector<uint32_t>& v) {
        json::array a;
        for (uint32_t n : v) a.push_back(n);
        return a;
      };
      rows.push_back(json::object{{"label", r.label},
                                  {"seats", r.seats},
                                  {"first_seat_id", v.layout.rows()[row_ref++].first_seat},
                                  {"accessible", list(r.accessible)},
                                  {"companion", list(r.companion)},
                                  {"restricted_view", list(r.restricted_view)}});
    }
    json::object section{{"name", s.name}, {"price_tier", s.price_tier}, {"rows", std::move(rows)}};
    if (s.general_admission) {
      section["general_admission"] = true;
      section["capacity"] = s.capacity();
    }
    if (const auto& g = s.geometry)
      section["geometry"] = json::object{{"x", g->x_c / 100.0},
                                         {"y", g->y_c / 100.0},
                                         {"rotation_deg", g->rotation_c / 100.0},
                                         {"curve_deg", g->curve_c / 100.0},
                                         {"seat_spacing", g->seat_spacing_c / 100.0},
                                         {"row_spacing", g->row_spacing_c / 100.0}};
    sections.push_back(std::move(section));
  }
  json::object out{{"id", v.id}, {"name", spec.name}, {"organization_id", v.organization_id},
                   {"seats_total", v.layout.seats_total()}, {"sections", std::move(sections)}};
  if (const auto& st = spec.stage)
    out["stage"] = json::object{{"x", st->x_c / 100.0}, {"y", st->y_c / 100.0}, {"width", st->width_c / 100.0},
                                {"height", st->height_c / 100.0}, {"label", st->label}};
  return out;
}

}  // namespace ticketd::http
