// /v1/venues, /v1/events, /v1/events/{id}/seats
#include <cmath>

#include "core/limits.hpp"
#include "http/etag.hpp"
#include "http/json_codec.hpp"
#include "http/compression.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace json = boost::json;
using core::Code;

namespace {

core::Error invalid(const std::string& message) { return core::make_error(Code::InvalidRequest, message); }

core::Result<std::vector<uint32_t>> number_list(const json::object& o, const char* field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::vector<uint32_t>{};
  if (!it->value().is_array()) return invalid(std::string(field) + ": must be an array of seat numbers");
  std::vector<uint32_t> out;
  for (const json::value& v : it->value().as_array()) {
    if (!v.is_int64() || v.as_int64() < 1 || v.as_int64() > core::limits::seats_per_row_max)
      return invalid(std::string(field) + ": seat numbers are integers 1-1000");
    if (out.size() >= core::limits::seats_per_row_max) return invalid(std::string(field) + ": too many entries");
    out.push_back(static_cast<uint32_t>(v.as_int64()));
  }
  return out;
}

core::Result<core::RowSpec> read_row(const json::value& v) {
  if (!v.is_object()) return invalid("rows: each row must be an object");
  const json::object& o = v.as_object();
  auto label = read_string(o, "label", core::limits::row_label_bytes_max);
  if (!label) return label.error();
  auto seats = read_int(o, "seats", 1, core::limits::seats_per_row_max);
  if (!seats) return seats.error();
  if (!*label || !*seats) return invalid("rows: label and seats are required");
  core::RowSpec row{**label, static_cast<uint32_t>(**seats), {}, {}, {}};
  auto acc = number_list(o, "accessible");
  auto comp = number_list(o, "companion");
  auto rv = number_list(o, "restricted_view");
  for (auto* r : {&acc, &comp, &rv})
    if (!*r) return r->error();
  row.accessible = std::move(*acc);
  row.companion = std::move(*comp);
  row.restricted_view = std::move(*rv);
  return row;
}

// A number of the geometry as hundredths (docs/console.md, "Venue geometry"); absent: `fallback`.
// Out-of-range values are left for core::Layout::build to name; only non-numbers and absurd
// magnitudes (which would not fit) are refused here.
core::Result<int32_t> hundredths(const json::object& o, const char* field, int32_t fallback, const std::string& where) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (!it->value().is_number()) return invalid(where + "." + field + ": a number");
  const double v = it->value().to_number<double>();
  if (!(v > -1e7 && v < 1e7)) return invalid(where + "." + field + ": out of range");
  return static_cast<int32_t>(std::lround(v * 100));
}

core::Result<std::optional<core::SectionGeometry>> read_geometry(const json::object& section, const std::string& where) {
  auto it = section.find("geometry");
  if (it == section.end() || it->value().is_null()) return std::optional<core::SectionGeometry>();
  if (!it->value().is_object()) return invalid(where + ".geometry: an object");
  const json::object& o = it->value().as_object();
  for (const auto& kv : o)
    if (kv.key() != "x" && kv.key() != "y" && kv.key() != "rotation_deg" && kv.key() != "curve_deg" &&
        kv.key() != "seat_spacing" && kv.key() != "row_spacing")
      return invalid(where + ".geometry." + std::string(kv.key()) + ": unknown field");
  core::SectionGeometry g;
  int32_t* fields[] = {&g.x_c, &g.y_c, &g.rotation_c, &g.curve_c, &g.seat_spacing_c, &g.row_spacing_c};
  const char* names[] = {"x", "y", "rotation_deg", "curve_deg", "seat_spacing", "row_spacing"};
  for (size_t i = 0; i < 6; ++i) {
    auto v = hundredths(o, names[i], *fields[i], where + ".geometry");
    if (!v) return v.error();
    *fields[i] = *v;
  }
  return std::optional<core::SectionGeometry>(g);
}

core::Result<std::optional<core::StageShape>> read_stage(const json::object& venue) {
  auto it = venue.find("stage");
  if (it == venue.end() || it->value().is_null()) return std::optional<core::StageShape>();
  if (!it->value().is_object()) return invalid("stage: an object {x, y, width, height, label}");
  const json::object& o = it->value().as_object();
  core::StageShape s;
  int32_t* fields[] = {&s.x_c, &s.y_c, &s.width_c, &s.height_c};
  const char* names[] = {"x", "y", "width", "height"};
  for (size_t i = 0; i < 4; ++i) {
    auto v = hundredths(o, names[i], 0, "stage");
    if (!v) return v.error();
    *fields[i] = *v;
  }
  auto label = read_string(o, "label", core::limits::name_bytes_max);
  if (!label) return label.error();
  s.label = label->value_or("");
  return std::optional<core::StageShape>(std::move(s));
}

core::Result<core::SectionSpec> read_section(const json::value& v, size_t index) {
  if (!v.is_object()) return invalid("sections: each section must be an object");
  const json::object& o = v.as_object();
  auto name = read_string(o, "name", core::limits::name_bytes_max);
  if (!name) return name.error();
  auto tier = read_string(o, "price_tier", core::limits::price_tier_bytes_max);
  if (!tier) return tier.error();
  if (!*name || !*tier) return invalid("sections: name and price_tier are required");
  if (auto ga = o.find("general_admission"); ga != o.end() && !ga->value().is_null()) {
    if (!ga->value().is_bool()) return invalid("sections: general_admission must be true or false");
    if (ga->value().as_bool()) {
      // An area: a capacity instead of rows of seats.
      if (o.contains("rows")) return invalid("sections: a general-admission area has a capacity, not rows");
      auto capacity = read_int(o, "capacity", 1, core::limits::seats_per_venue_max);
      if (!capacity) return capacity.error();
      if (!*capacity) return invalid("sections: capacity (1-200000) is required for a general-admission area");
      core::SectionSpec area = core::general_admission_area(**name, **tier, static_cast<uint32_t>(**capacity));
      auto geometry = read_geometry(o, "sections[" + std::to_string(index) + "]");
      if (!geometry) return geometry.error();
      area.geometry = *geometry;
      return area;
    }
  }
  auto rows = o.find("rows");
  if (rows == o.end() || !rows->value().is_array()) return invalid("rows: an array of rows is required");
  const json::array& a = rows->value().as_array();
  if (a.empty() || a.size() > core::limits::rows_per_section_max) return invalid("rows: 1-1000 rows required");
  core::SectionSpec section{**name, **tier, {}, {}};
  auto geometry = read_geometry(o, "sections[" + std::to_string(index) + "]");
  if (!geometry) return geometry.error();
  section.geometry = *geometry;
  for (const json::value& r : a) {
    auto row = read_row(r);
    if (!row) return row.error();
    section.rows.push_back(std::move(*row));
  }
  return section;
}

// The organization a new venue belongs to: the body's organization_id, else the caller's only one
// (administrators without one: the platform's own, 0).
core::Result<core::OrganizationId> venue_owner(Ctx& c, const json::object& body) {
  const core::User& user = c.caller();  // a manager (the route table's check)
  auto id = read_int(body, "organization_id", 1, INT64_MAX);
  if (!id) return id.error();
  if (*id) {
    if (auto m = c.organization_manager(**id); !m) return m.error();
    return **id;
  }
  if (user.role == core::Role::Admin || !c.services.organizations) return core::OrganizationId{0};
  const auto mine = c.services.organizations->of_member(user.id);
  if (mine.size() != 1) return invalid("organization_id: required (you are a member of several organizations)");
  if (auto m = c.organization_manager(mine.front().id); !m) return m.error();
  return mine.front().id;
}

Response create_venue(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto owner = venue_owner(c, *body);
  if (!owner) return error_response(owner.error());
  auto name = read_string(*body, "name", core::limits::name_bytes_max);
  if (!name) return error_response(name.error());
  auto sections = body->find("sections");
  if (!*name || sections == body->end() || !sections->value().is_array())
    return error_response(core::Code::InvalidRequest, "name and sections (an array) are required");
  const json::array& a = sections->value().as_array();
  if (a.empty() || a.size() > core::limits::sections_per_venue_max)
    return error_response(core::Code::InvalidRequest, "sections: 1-1000 sections required");
  core::LayoutSpec spec{**name, {}, {}};
  auto stage = read_stage(*body);
  if (!stage) return error_response(stage.error());
  spec.stage = std::move(*stage);
  for (const json::value& v : a) {
    auto section = read_section(v, spec.sections.size());
    if (!section) return error_response(section.error());
    spec.sections.push_back(std::move(*section));
  }
  auto venue = c.services.catalog.create_venue(std::move(spec), *owner);
  if (!venue) return error_response(venue.error());
  return json_response(201, json::object{{"id", (*venue)->id},
                                         {"name", (*venue)->layout.spec().name},
                                         {"seats_total", (*venue)->layout.seats_total()},
                                         {"organization_id", (*venue)->organization_id}});
}

// The kept bytes of an answer: gzip when the client accepts it and it was worth making.
Response kept_encoding(bool gzip_accepted, const EncodingCache::Encoded& kept) {
  Response r;
  if (kept.gzip && gzip_accepted) {
    r.body = *kept.gzip;
    r.headers.push_back({"content-encoding", "gzip"});
  } else {
    r.body = kept.plain;
  }
  return r;
}

// A layout never changes once created: let browsers and CDNs keep it for a year, and revalidate
// with a strong ETag (of the body, so a new ticketd that renders it differently gets a new tag).
Response kept_layout(const Request& request, const EncodingCache::Encoded& kept) {
  if (etag_matches(request.header("if-none-match"), kept.etag)) {
    Response r;
    r.status = 304;
    r.headers = {{"cache-control", "public, max-age=31536000, immutable"}, {"etag", kept.etag}};
    return r;
  }
  const bool gzip_accepted = accepts_gzip(request.header("accept-encoding"));
  Response r = kept_encoding(gzip_accepted, kept);
  std::string etag = kept.etag;
  if (gzip_accepted && kept.gzip) etag.insert(etag.size() - 1, "-gzip");  // compression.hpp: two representations
  r.headers.push_back({"cache-control", "public, max-age=31536000, immutable"});
  r.headers.push_back({"etag", std::move(etag)});
  return r;
}

Response get_venue(Ctx& c) {
  auto venue = c.services.catalog.venue(c.ids[0]);
  if (!venue) return error_response(venue.error());
  auto encode = [&] { return json::serialize(to_json(**venue)); };
  // Encoded (JSON, hash, gzip) once per venue while it is kept: up to a few MB for a stadium.
  EncodingCache uncached(1);
  EncodingCache& cache = c.services.layouts ? *c.services.layouts : uncached;
  const std::optional<uint64_t> version = c.services.layouts ? std::optional<uint64_t>(0) : std::nullopt;
  return kept_layout(c.request, *cache.get(c.ids[0], version, encode));
}

// On the I/O thread: a layout whose encoding is kept. Encoding one (milliseconds of CPU for a stadium)
// happens on a worker, in get_venue.
bool kept_layout_inline(Ctx& c, const Reply& reply) {
  if (!c.services.layouts) return false;
  std::shared_ptr<const EncodingCache::Encoded> kept = c.services.layouts->find(c.ids[0], 0);
  if (!kept) return false;
  reply([&request = c.request, kept] { return kept_layout(request, *kept); });
  return true;
}

Response create_event(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  core::Event e;
  auto name = read_string(*body, "name", core::limits::name_bytes_max);
  auto currency = read_string(*body, "currency", 8);
  auto venue = read_int(*body, "venue_id", 1, INT64_MAX);
  auto max = read_int(*body, "max_tickets_per_user", 1, core::limits::tickets_per_user_max);
  auto starts = read_time(*body, "starts_at");
  auto on_sale = read_time(*body, "on_sale_at");
  if (!name) return error_response(name.error());
  if (!currency) return error_response(currency.error());
  if (!venue) return error_response(venue.error());
  if (!max) return error_response(max.error());
  if (!starts) return error_response(starts.error());
  if (!on_sale) return error_response(on_sale.error());
  if (!*name || !*currency || !*venue || !*starts || !*on_sale)
    return error_response(core::Code::InvalidRequest, "name, venue_id, starts_at, on_sale_at and currency are required");
  auto prices = body->find("prices");
  if (prices == body->end() || !prices->value().is_object())
    return error_response(core::Code::InvalidRequest, "prices: an object of tier -> minor units is required");
  if (prices->value().as_object().size() > core::limits::sections_per_venue_max)
    return error_response(core::Code::InvalidRequest, "prices: too many tiers");
  for (const auto& kv : prices->value().as_object()) {
    if (!kv.value().is_int64() || kv.value().as_int64() < 0 || kv.value().as_int64() > core::limits::price_minor_max)
      return error_response(core::Code::InvalidRequest, "prices: each price is an integer 0-100000000 (minor units)");
    e.prices[std::string(kv.key())] = kv.value().as_int64();
  }
  // Events are created in venues one manages; another organization's venue reads as none.
  if (c.services.organizations) {
    auto managed = c.services.organizations->manage_venue(c.caller(), **venue);
    if (!managed && managed.error().code == core::Code::NotFound)
      return error_response(core::Code::InvalidRequest, "venue_id: no such venue");
    if (!managed) return error_response(managed.error());
    c.audit_organization = (*managed)->organization_id;
  }
  e.name = **name;
  e.currency = **currency;
  e.venue_id = **venue;
  e.starts_at = **starts;
  e.on_sale_at = **on_sale;
  e.max_tickets_per_user = max->has_value() ? static_cast<uint32_t>(**max) : core::limits::tickets_per_user_default;
  // "waiting_room": {...} turns the room on unless it says "enabled": false; absent fields take defaults.
  core::WaitingRoomSettings room_defaults;
  room_defaults.enabled = true;
  auto room = read_waiting_room(*body, room_defaults);
  if (!room) return error_response(room.error());
  if (*room) e.waiting_room = **room;
  if (auto it = body->find("static_codes_accepted"); it != body->end()) {
    if (!it->value().is_bool())
      return error_response(core::Code::InvalidRequest, "static_codes_accepted: must be true or false");
    e.static_codes_accepted = it->value().as_bool();
  }
  auto description = read_string(*body, "description", core::limits::event_description_bytes_max);
  auto image = read_string(*body, "image_url", core::limits::url_bytes_max);
  if (!description) return error_response(description.error());
  if (!image) return error_response(image.error());
  e.description = description->value_or("");
  e.image_url = image->value_or("");
  if (auto it = body->find("published"); it != body->end()) {
    if (!it->value().is_bool()) return error_response(core::Code::InvalidRequest, "published: must be true or false");
    e.published = it->value().as_bool();
  }
  auto created = c.services.catalog.create_event(std::move(e));
  if (!created) return error_response(created.error());
  return json_response(201, to_json(*created, core::SeatCounts{created->seats_total, 0, 0}));
}

core::Result<std::optional<TimeMs>> query_time(Ctx& c, const char* name) {
  auto it = c.query.find(name);
  if (it == c.query.end() || it->second.empty()) return std::optional<TimeMs>();
  auto t = parse_rfc3339(it->second);
  if (!t) return invalid(std::string(name) + ": must be an RFC 3339 date-time");
  return std::optional<TimeMs>(*t);
}

// The cursor is "<starts_at ms>.<id>": opaque to clients, stable across inserts.
std::string cursor_of(const std::pair<TimeMs, core::EventId>& c) {
  return std::to_string(to_unix_ms(c.first)) + "." + std::to_string(c.second);
}

std::optional<std::pair<TimeMs, core::EventId>> parse_cursor(const std::string& s) {
  const auto dot = s.find('.');
  if (dot == std::string::npos || s.size() > 40) return std::nullopt;
  try {
    size_t used1 = 0, used2 = 0;
    const int64_t ms = std::stoll(s.substr(0, dot), &used1);
    const int64_t id = std::stoll(s.substr(dot + 1), &used2);
    if (used1 != dot || used2 != s.size() - dot - 1) return std::nullopt;
    return std::pair{from_unix_ms(ms), id};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

core::Result<core::EventQuery> event_query(Ctx& c) {
  core::EventQuery q;
  if (auto it = c.query.find("q"); it != c.query.end()) q.text = it->second;
  auto from = query_time(c, "from");
  auto to = query_time(c, "to");
  if (!from) return from.error();
  if (!to) return to.error();
  q.starts_from = *from;
  q.starts_before = *to;
  q.limit = core::limits::page_size_default;
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    const std::string& s = it->second;
    if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos)
      return invalid("limit: 1-100 required");
    q.limit = static_cast<uint32_t>(std::stoul(s));
  }
  if (auto it = c.query.find("after"); it != c.query.end() && !it->second.empty()) {
    q.after = parse_cursor(it->second);
    if (!q.after) return invalid("after: not a cursor from this API");
  }
  return q;
}

// A page of events; with their seat counts for an organization's console.
Response events_page(Ctx& c, core::EventQuery q, bool with_counts) {
  auto page = c.services.catalog.list_events(std::move(q));
  if (!page) return error_response(page.error());
  json::array events;
  for (const core::Event& e : page->events) {
    std::optional<core::SeatCounts> counts;
    if (with_counts)
      if (auto map = c.services.catalog.seat_map(e.id)) counts = map->counts;
    events.push_back(to_json(e, counts));
  }
  json::object out{{"events", std::move(events)}};
  out["next"] = page->next ? json::value(cursor_of(*page->next)) : json::value(nullptr);
  return json_response(200, out);
}

Response list_events(Ctx& c) {
  auto q = event_query(c);
  if (!q) return error_response(q.error());
  return events_page(c, std::move(*q), false);
}

// GET /v1/organizations/{id}/events: the organization's events, cancelled ones too, with counts.
Response organization_events(Ctx& c) {
  auto q = event_query(c);
  if (!q) return error_response(q.error());
  q->organization = c.ids[0];
  q->include_unpublished = true;
  Response r = events_page(c, std::move(*q), true);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

// PATCH /v1/events/{id}: name, description, image_url, published, prices (core/event_edit.hpp says
// what may change when).
Response patch_event(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  core::EventPatch patch;
  for (const auto& kv : *body) {
    const std::string key(kv.key());
    const json::value& v = kv.value();
    if (key == "name" || key == "description" || key == "image_url") {
      if (!v.is_string()) return error_response(core::Code::InvalidRequest, key + ": a string");
      std::string text(v.as_string());
      if (key == "name") patch.name = std::move(text);
      else if (key == "description") patch.description = std::move(text);
      else patch.image_url = std::move(text);
    } else if (key == "published") {
      if (!v.is_bool()) return error_response(core::Code::InvalidRequest, "published: must be true or false");
      patch.published = v.as_bool();
    } else if (key == "prices") {
      if (!v.is_object() || v.as_object().size() > core::limits::sections_per_venue_max)
        return error_response(core::Code::InvalidRequest, "prices: an object of tier -> minor units");
      for (const auto& p : v.as_object()) {
        if (!p.value().is_int64()) return error_response(core::Code::InvalidRequest, "prices: integers (minor units)");
        patch.prices[std::string(p.key())] = p.value().as_int64();
      }
    } else {
      return error_response(core::Code::InvalidRequest,
                            key + ": cannot be edited (name, description, image_url, published, prices; a new date "
                                  "is a postponement)");
    }
  }
  auto updated = c.services.catalog.update_event(c.ids[0], patch);
  if (!updated) return error_response(updated.error());
  auto map = c.services.catalog.seat_map(c.ids[0]);
  return json_response(200, to_json(*updated, map ? std::optional<core::SeatCounts>(map->counts) : std::nullopt));
}

// POST /v1/events/{id}/postpone {starts_at, on_sale_at?}: a new date; every buyer is told.
Response postpone_event(Ctx& c) {
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  for (const auto& kv : *body)
    if (kv.key() != "starts_at" && kv.key() != "on_sale_at")
      return error_response(core::Code::InvalidRequest, std::string(kv.key()) + ": unknown field (starts_at, on_sale_at)");
  auto starts = read_time(*body, "starts_at");
  auto on_sale = read_time(*body, "on_sale_at");
  if (!starts) return error_response(starts.error());
  if (!on_sale) return error_response(on_sale.error());
  if (!*starts) return error_response(core::Code::InvalidRequest, "starts_at is required");
  auto moved = c.services.catalog.postpone_event(c.ids[0], **starts, *on_sale);
  if (!moved) return error_response(moved.error());
  auto map = c.services.catalog.seat_map(c.ids[0]);
  return json_response(200, to_json(*moved, map ? std::optional<core::SeatCounts>(map->counts) : std::nullopt));
}

// POST /v1/events/{id}/duplicate {name?, starts_at, on_sale_at}: a draft (unpublished) copy.
Response duplicate_event(Ctx& c) {
  const core::Event& source = c.managed_event();
  auto body = parse_object(c.request.body);
  if (!body) return error_response(body.error());
  auto name = read_string(*body, "name", core::limits::name_bytes_max);
  auto starts = read_time(*body, "starts_at");
  auto on_sale = read_time(*body, "on_sale_at");
  if (!name) return error_response(name.error());
  if (!starts) return error_response(starts.error());
  if (!on_sale) return error_response(on_sale.error());
  if (!*starts || !*on_sale) return error_response(core::Code::InvalidRequest, "starts_at and on_sale_at are required");
  auto copy = c.services.catalog.duplicate_event(c.ids[0], name->value_or(source.name + " (copy)"), **starts, **on_sale);
  if (!copy) return error_response(copy.error());
  return json_response(201, to_json(*copy, core::SeatCounts{copy->seats_total, 0, 0}));
}

// GET /v1/organizations/{id}/venues: the organization's venues by id, a page at a time (?after=<id>).
Response organization_venues(Ctx& c) {
  auto after = c.after_id("a venue id");
  if (!after) return error_response(after.error());
  const uint32_t limit = core::limits::page_size_max;
  const auto venues = c.services.catalog.venues_of(c.ids[0], *after, limit);
  json::array out;
  for (const core::VenueSummary& v : venues)
    out.push_back(json::object{{"id", v.id}, {"name", v.name}, {"seats_total", v.seats_total}});
  json::object page{{"venues", std::move(out)}};
  page["next"] = venues.size() == limit ? json::value(std::to_string(venues.back().id)) : json::value(nullptr);
  Response r = json_response(200, page);
  r.headers.push_back({"cache-control", "no-store"});
  return r;
}

// An unpublished event is its managers' alone: to anyone else it is not there.
bool hidden_from(Ctx& c, const core::Event& event) {
  if (event.published) return false;
  if (c.request.header("authorization").empty()) return true;
  return !c.event_manager(event.id);
}

Response get_event(Ctx& c) {
  auto event = c.services.catalog.event(c.ids[0]);
  if (!event) return error_response(event.error());
  if (hidden_from(c, *event)) return error_response(core::Code::NotFound, "no such event");
  auto map = c.services.catalog.seat_map(c.ids[0]);
  if (!map) return error_response(map.error());
  return json_response(200, to_json(*event, map->counts));
}

// On the I/O thread: a published event whose copy and seat counts are in memory. An unpublished one
// (only its managers see it: a store read) or one not in memory goes to get_event on a worker.
bool event_from_memory_inline(Ctx& c, const Reply& reply) {
  std::shared_ptr<const core::Event> event = c.services.catalog.cached_event(c.ids[0]);
  if (!event || !event->published) return false;
  std::optional<core::SeatCounts> counts = c.services.catalog.seat_counts_in_memory(*event);
  if (!counts) return false;
  reply([body = to_json(*event, counts)] { return json_response(200, body); });
  return true;
}

// The full seat list's pages (GET /v1/events/{id}/seats): ~200 bytes of JSON a seat, so a page is
// at most ~200 KB; the rate limiter charges it edge.hpp's kSeatListPageCost.
constexpr uint32_t kSeatPageMax = 1000;
constexpr uint32_t kSeatPageDefault = 500;

// On the I/O thread: the compact map of a published event whose encoding at its current version is
// kept, from memory alone. Anything else (another format, a stale event copy, a new version to encode,
// an unpublished event) goes to get_seats on a worker.
bool kept_seat_map_inline(Ctx& c, const Reply& reply) {
  const auto format = c.query.find("format");
  if (format == c.query.end() || format->second != "compact" || !c.services.seat_maps) return false;
  std::shared_ptr<const core::Event> event = c.services.catalog.cached_event(c.ids[0]);
  if (!event || !event->published) return false;
  const std::optional<uint64_t> version = c.services.catalog.seat_map_version(*event);
  if (!version) return false;
  std::shared_ptr<const EncodingCache::Encoded> kept = c.services.seat_maps->find(event->id, *version);
  if (!kept) return false;
  reply([gzip = accepts_gzip(c.request.header("accept-encoding")), kept] { return kept_encoding(gzip, *kept); });
  return true;
}

Response get_seats(Ctx& c) {
  auto event = c.services.catalog.event(c.ids[0]);
  if (!event) return error_response(event.error());
  if (hidden_from(c, *event)) return error_response(core::Code::NotFound, "no such event");
  const auto format = c.query.find("format");
  const bool compact_format = format != c.query.end() && format->second == "compact";
  // Unchanged since the last encoding: the kept bytes, without building the 1-byte-per-seat map.
  if (compact_format && c.services.seat_maps) {
    if (auto version = c.services.catalog.seat_map_version(*event))
      if (auto kept = c.services.seat_maps->find(event->id, *version))
        return kept_encoding(accepts_gzip(c.request.header("accept-encoding")), *kept);
  }
  auto map = c.services.catalog.seat_map(c.ids[0]);
  if (!map) return error_response(map.error());
  if (compact_format) {
    auto compact = [&] {
      return json::object{{"event_id", event->id}, {"seats_total", event->seats_total}, {"status", map->status}};
    };
    if (!c.services.seat_maps) return json_response(200, compact());
    auto encode = [&] { return json::serialize(compact()); };
    // Encoded once per seat-map version; a repeat copies the kept bytes (gzip too, when accepted).
    // A store that tells the version without the map counts its versions from 0 (the event is loaded
    // now); one that cannot reports 0 for "not counted", unless its front counts (above 0).
    const bool counted = map->version > 0 || c.services.catalog.seat_map_version(*event).has_value();
    const std::optional<uint64_t> version = counted ? std::optional(map->version) : std::nullopt;
    return kept_encoding(accepts_gzip(c.request.header("accept-encoding")),
                         *c.services.seat_maps->get(event->id, version, encode));
  }
  auto venue = c.services.catalog.venue(event->venue_id);
  if (!venue) return error_response(venue.error());
  const core::Layout& layout = (*venue)->layout;
  std::optional<uint32_t> only;
  if (auto s = c.query.find("section"); s != c.query.end()) {
    for (uint32_t i = 0; i < layout.spec().sections.size(); ++i)
      if (layout.spec().sections[i].name == s->second) only = i;
    if (!only) return error_response(core::Code::InvalidRequest, "section: no such section in this venue");
  }
  // Paged: a 200,000-seat venue was one 30 MB answer for anyone. A page is at most kSeatPageMax
  // seats in seat-id order after the cursor (`after`: the last id of the previous page).
  uint32_t limit = kSeatPageDefault;
  if (auto it = c.query.find("limit"); it != c.query.end()) {
    const std::string& v = it->second;
    if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) < 1 ||
        std::stoul(v) > kSeatPageMax)
      return error_response(core::Code::InvalidRequest, "limit: 1-" + std::to_string(kSeatPageMax) + " required");
    limit = static_cast<uint32_t>(std::stoul(v));
  }
  int64_t after = -1;
  if (auto it = c.query.find("after"); it != c.query.end() && !it->second.empty()) {
    const std::string& v = it->second;
    if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      return error_response(core::Code::InvalidRequest, "after: a seat id from the previous page's next required");
    after = std::stoll(v);
  }
  json::array seats;
  std::optional<core::SeatId> next;
  core::SeatId last = 0;
  for (const core::RowRef& row : layout.rows()) {
    if (next) break;
    if (only && row.section != *only) continue;
    if (static_cast<int64_t>(row.first_seat) + row.seats - 1 <= after) continue;  // before the cursor
    const core::SectionSpec& sec = layout.spec().sections[row.section];
    const int64_t price = event->prices.at(sec.price_tier);
    for (uint32_t n = 0; n < row.seats; ++n) {
      const core::SeatId id = row.first_seat + n;
      if (static_cast<int64_t>(id) <= after) continue;
      if (seats.size() == limit) {
        next = last;  // more seats follow: the last id on this page is the next page's cursor
        break;
      }
      last = id;
      const uint8_t flags = layout.seat(id).flags;
      const char st = map->status[id];
      seats.push_back(json::object{{"id", id},
                                   {"section", sec.name},
                                   {"row", sec.rows[row.row].label},
                                   {"number", n + 1},
                                   {"price", price},
                                   {"status", st == 'A' ? "AVAILABLE" : st == 'H' ? "HELD" : "SOLD"},
                                   {"accessible", (flags & core::kAccessible) != 0},
                                   {"companion", (flags & core::kCompanion) != 0},
                                   {"restricted_view", (flags & core::kRestrictedView) != 0}});
    }
  }
  json::object page{{"event_id", event->id}, {"seats", std::move(seats)}};
  page["next"] = next ? json::value(std::to_string(*next)) : json::value(nullptr);
  return json_response(200, page);
}

}  // namespace

void add_catalog_routes(Router& router) {
  router.add("POST", "/v1/venues", create_venue, {.who = Caller::manager, .limit = RouteClass::admin, .audit = Audit::request});
  router.add("GET", "/v1/venues/{id}", get_venue, {.who = Caller::anyone, .on_io_thread = kept_layout_inline});
  router.add("POST", "/v1/events", create_event, {.who = Caller::manager, .limit = RouteClass::admin, .audit = Audit::request_and_result});
  router.add("GET", "/v1/events", list_events, {.who = Caller::anyone});
  router.add("GET", "/v1/organizations/{id}/events", organization_events, {.who = Caller::organization_manager});
  router.add("GET", "/v1/organizations/{id}/venues", organization_venues, {.who = Caller::organization_manager});
  router.add("GET", "/v1/events/{id}", get_event, {.who = Caller::anyone, .on_io_thread = event_from_memory_inline});
  router.add("PATCH", "/v1/events/{id}", patch_event, {.who = Caller::event_manager, .audit = Audit::request_and_result});
  router.add("POST", "/v1/events/{id}/duplicate", duplicate_event, {.who = Caller::event_manager, .audit = Audit::request_and_result});
  router.add("POST", "/v1/events/{id}/postpone", postpone_event, {.who = Caller::event_manager, .audit = Audit::request_and_result});
  router.add("GET", "/v1/events/{id}/seats", get_seats, {.who = Caller::anyone, .on_io_thread = kept_seat_map_inline});
}

}  // namespace ticketd::http
