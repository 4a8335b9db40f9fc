#include <sqlite3.h>

#include <spdlog/spdlog.h>

#include "core/seat_csv.hpp"
#include "core/validate.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

using core::Code;
using core::make_error;

namespace {

std::string join_numbers(const std::vector<uint32_t>& v) {
  std::string out;
  for (uint32_t n : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(n);
  }
  return out;
}

// A stored list of seat numbers; what is not one is skipped (a damaged cell never throws).
std::vector<uint32_t> split_numbers(const std::string& s) { return core::parse_seat_csv(s); }

void read_prices(Connection& c, core::Event& e) {
  auto& st = c.prepare("SELECT tier, price FROM event_prices WHERE event_id = ?1");
  st.bind(1, e.id);
  while (st.step()) e.prices[st.text(0)] = st.int64(1);
}

core::Event event_from(Statement& st) {
  core::Event e;
  e.id = st.int64(0);
  e.name = st.text(1);
  e.venue_id = st.int64(2);
  e.venue_name = st.text(3);
  e.starts_at = from_unix_ms(st.int64(4));
  e.on_sale_at = from_unix_ms(st.int64(5));
  e.currency = st.text(6);
  e.max_tickets_per_user = static_cast<uint32_t>(st.int64(7));
  e.seats_total = static_cast<uint32_t>(st.int64(8));
  if (!st.is_null(9)) {  // no row: no waiting room
    e.waiting_room.enabled = st.int64(9) != 0;
    e.waiting_room.batch_size = static_cast<uint32_t>(st.int64(10));
    e.waiting_room.release_interval = Millis(st.int64(11));
    e.waiting_room.active_window = Millis(st.int64(12));
    e.waiting_room.opens_before = Millis(st.int64(13));
  }
  e.static_codes_accepted = st.int64(14) != 0;
  e.ticket_key_id = static_cast<uint32_t>(st.int64(15));
  if (st.int64(16) > 0) e.cancelled_at = from_unix_ms(st.int64(16));
  e.cancel_reason = st.text(17);
  e.organization_id = st.int64(18);
  e.description = st.text(19);
  e.image_url = st.text(20);
  e.published = st.int64(21) != 0;
  if (st.int64(22) > 0) e.postponed_from = from_unix_ms(st.int64(22));
  if (st.int64(23) > 0) e.postponed_at = from_unix_ms(st.int64(23));
  return e;
}

// Inside a writer job: the event a settings change is about exists (else NotFound, nothing written).
bool event_exists(Connection& c, core::EventId id) {
  auto& st = c.prepare("SELECT 1 FROM events WHERE id = ?1");
  st.bind(1, id);
  const bool found = st.step();
  st.reset();
  return found;
}

// The columns every event read selects beyond the events row: its waiting room, entry rules,
// organization and details (LEFT JOINs: NULL, or the default, when the event has no row there).
#define TICKETD_WAITING_ROOM_COLUMNS \
  ", w.enabled, w.batch_size, w.release_interval_ms, w.active_window_ms, w.opens_before_ms, " \
  "COALESCE(x.static_codes_accepted, 1), COALESCE(x.ticket_key_id, 1), COALESCE(x.cancelled_at, 0), " \
  "COALESCE(x.cancel_reason, ''), COALESCE(o.organization_id, 0), COALESCE(d.description, ''), " \
  "COALESCE(d.image_url, ''), COALESCE(d.published, 1), COALESCE(d.postponed_from, 0), COALESCE(d.postponed_at, 0)"
#define TICKETD_WAITING_ROOM_JOIN \
  " LEFT JOIN event_waiting_rooms w ON w.event_id = e.id LEFT JOIN event_entry x ON x.event_id = e.id" \
  " LEFT JOIN venue_owners o ON o.venue_id = e.venue_id LEFT JOIN event_details d ON d.event_id = e.id"

void upsert_waiting_room(Connection& c, core::EventId id, const core::WaitingRoomSettings& w) {
  c.prepare("INSERT INTO event_waiting_rooms(event_id, enabled, batch_size, release_interval_ms, active_window_ms, "
            "opens_before_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(event_id) DO UPDATE SET "
            "enabled = excluded.enabled, batch_size = excluded.batch_size, "
            "release_interval_ms = excluded.release_interval_ms, active_window_ms = excluded.active_window_ms, "
            "opens_before_ms = excluded.opens_before_ms")
      .bind(1, id).bind(2, int64_t{w.enabled ? 1 : 0}).bind(3, int64_t{w.batch_size})
      .bind(4, w.release_interval.count()).bind(5, w.active_window.count()).bind(6, w.opens_before.count())
      .step_status();
}

}  // namespace

core::Result<core::VenueId> SqliteCatalogStore::create_venue(const core::Layout& layout, core::OrganizationId organization,
                                                          TimeMs now) {
  core::VenueId id = 0;
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    c.prepare("INSERT INTO venues(name, seats_total, created_at) VALUES(?1, ?2, ?3)")
        .bind(1, layout.spec().name)
        .bind(2, layout.seats_total())
        .bind(3, to_unix_ms(now))
        .step_status();
    id = c.last_insert_rowid();
    if (organization != 0)
      c.prepare("INSERT INTO venue_owners(venue_id, organization_id) VALUES(?1, ?2)")
          .bind(1, id).bind(2, organization).step_status();
    if (const auto& st = layout.spec().stage)
      c.prepare("INSERT INTO venue_stages(venue_id, x_c, y_c, width_c, height_c, label) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
          .bind(1, id).bind(2, int64_t{st->x_c}).bind(3, int64_t{st->y_c}).bind(4, int64_t{st->width_c})
          .bind(5, int64_t{st->height_c}).bind(6, st->label).step_status();
    const auto& sections = layout.spec().sections;
    for (size_t si = 0; si < sections.size(); ++si) {
      c.prepare("INSERT INTO venue_sections(venue_id, idx, name, price_tier) VALUES(?1, ?2, ?3, ?4)")
          .bind(1, id).bind(2, static_cast<int64_t>(si)).bind(3, sections[si].name).bind(4, sections[si].price_tier)
          .step_status();
      if (sections[si].general_admission)
        c.prepare("INSERT INTO venue_areas(venue_id, section_idx) VALUES(?1, ?2)")
            .bind(1, id).bind(2, static_cast<int64_t>(si)).step_status();
      if (const auto& g = sections[si].geometry)
        c.prepare("INSERT INTO venue_section_shapes(venue_id, section_idx, x_c, y_c, rotation_c, curve_c, "
                  "seat_spacing_c, row_spacing_c) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .bind(1, id).bind(2, static_cast<int64_t>(si)).bind(3, int64_t{g->x_c}).bind(4, int64_t{g->y_c})
            .bind(5, int64_t{g->rotation_c}).bind(6, int64_t{g->curve_c}).bind(7, int64_t{g->seat_spacing_c})
            .bind(8, int64_t{g->row_spacing_c}).step_status();
      for (size_t ri = 0; ri < sections[si].rows.size(); ++ri) {
        const core::RowSpec& row = sections[si].rows[ri];
        c.prepare("INSERT INTO venue_rows(venue_id, section_idx, idx, label, seats, accessible, companion, "
                  "restricted_view) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .bind(1, id).bind(2, static_cast<int64_t>(si)).bind(3, static_cast<int64_t>(ri)).bind(4, row.label)
            .bind(5, row.seats).bind(6, join_numbers(row.accessible)).bind(7, join_numbers(row.companion))
            .bind(8, join_numbers(row.restricted_view))
            .step_status();
      }
    }
    return core::ok_status();
  });
  if (!s) return s.error();
  return id;
}

std::shared_ptr<const core::Venue> SqliteCatalogStore::find_venue(core::VenueId id) {
  auto r = db_.readers().acquire();
  core::LayoutSpec spec;
  auto& v = r->prepare("SELECT v.name, COALESCE(o.organization_id, 0) FROM venues v "
                       "LEFT JOIN venue_owners o ON o.venue_id = v.id WHERE v.id = ?1");
  v.bind(1, id);
  if (!v.step()) return nullptr;
  spec.name = v.text(0);
  const core::OrganizationId organization = v.int64(1);
  v.reset();
  auto& secs = r->prepare("SELECT name, price_tier FROM venue_sections WHERE venue_id = ?1 ORDER BY idx");
  secs.bind(1, id);
  while (secs.step()) spec.sections.push_back(core::SectionSpec{secs.text(0), secs.text(1), {}});
  auto& rows = r->prepare("SELECT section_idx, label, seats, accessible, companion, restricted_view FROM venue_rows "
                          "WHERE venue_id = ?1 ORDER BY section_idx, idx");
  rows.bind(1, id);
  while (rows.step()) {
    const auto si = static_cast<size_t>(rows.int64(0));
    if (si >= spec.sections.size()) continue;  // a damaged row: Layout::build below refuses what is left
    spec.sections[si].rows.push_back(core::RowSpec{rows.text(1), static_cast<uint32_t>(rows.int64(2)),
                                                   split_numbers(rows.text(3)), split_numbers(rows.text(4)),
                                                   split_numbers(rows.text(5))});
  }
  auto& shapes = r->prepare("SELECT section_idx, x_c, y_c, rotation_c, curve_c, seat_spacing_c, row_spacing_c "
                            "FROM venue_section_shapes WHERE venue_id = ?1");
  shapes.bind(1, id);
  while (shapes.step()) {
    const auto si = static_cast<size_t>(shapes.int64(0));
    if (si >= spec.sections.size()) continue;  // Layout::build below refuses a partial geometry
    auto i32 = [&](int col) { return static_cast<int32_t>(shapes.int64(col)); };
    spec.sections[si].geometry = core::SectionGeometry{i32(1), i32(2), i32(3), i32(4), i32(5), i32(6)};
  }
  shapes.reset();
  auto& areas = r->prepare("SELECT section_idx FROM venue_areas WHERE venue_id = ?1");
  areas.bind(1, id);
  while (areas.step())
    if (const auto si = static_cast<size_t>(areas.int64(0)); si < spec.sections.size())
      spec.sections[si].general_admission = true;
  areas.reset();
  auto& stage = r->prepare("SELECT x_c, y_c, width_c, height_c, label FROM venue_stages WHERE venue_id = ?1");
  stage.bind(1, id);
  if (stage.step())
    spec.stage = core::StageShape{static_cast<int32_t>(stage.int64(0)), static_cast<int32_t>(stage.int64(1)),
                                  static_cast<int32_t>(stage.int64(2)), static_cast<int32_t>(stage.int64(3)),
                                  stage.text(4)};
  stage.reset();
  auto layout = core::Layout::build(std::move(spec));
  if (!layout) {
    // Valid when stored: the rows were damaged since. The venue (and its events) read as missing,
    // and the log says why; the process stays up.
    spdlog::error("venue {}: the stored layout is damaged and is not served: {}", id, layout.error().message);
    return nullptr;
  }
  return std::make_shared<const core::Venue>(core::Venue{id, organization, std::move(*layout)});
}

std::vector<core::VenueSummary> SqliteCatalogStore::list_venues(core::OrganizationId organization,
                                                                core::VenueId after, uint32_t limit) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT v.id, v.name, v.seats_total FROM venue_owners o JOIN venues v ON v.id = o.venue_id "
                        "WHERE o.organization_id = ?1 AND o.venue_id > ?2 ORDER BY o.venue_id LIMIT ?3");
  st.bind(1, organization).bind(2, after).bind(3, int64_t{limit});
  std::vector<core::VenueSummary> out;
  while (st.step()) out.push_back({st.int64(0), st.text(1), static_cast<uint32_t>(st.int64(2))});
  st.reset();
  return out;
}

core::Result<core::Event> SqliteCatalogStore::create_event(core::Event e, TimeMs now) {
  core::Status s = db_.writer().run([&](Connection& c) -> core::Status {
    auto& st = c.prepare(
        "INSERT INTO events(name, name_lower, venue_id, starts_at, on_sale_at, currency, max_tickets_per_user, "
        "seats_total, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    st.bind(1, e.name).bind(2, core::lower_ascii(e.name)).bind(3, e.venue_id).bind(4, to_unix_ms(e.starts_at))
        .bind(5, to_unix_ms(e.on_sale_at)).bind(6, e.currency).bind(7, e.max_tickets_per_user)
        .bind(8, e.seats_total).bind(9, to_unix_ms(now));
    if (st.step_status() != SQLITE_DONE) return make_error(Code::InvalidRequest, "venue_id: no such venue");
    e.id = c.last_insert_rowid();
    for (const auto& [tier, price] : e.prices)
      c.prepare("INSERT INTO event_prices(event_id, tier, price) VALUES(?1, ?2, ?3)")
          .bind(1, e.id).bind(2, tier).bind(3, price).step_status();
    if (e.waiting_room.enabled) upsert_waiting_room(c, e.id, e.waiting_room);
    if (!e.static_codes_accepted)
      c.prepare("INSERT INTO event_entry(event_id, static_codes_accepted) VALUES(?1, 0)").bind(1, e.id).step_status();
    if (!e.description.empty() || !e.image_url.empty() || !e.published)
      c.prepare("INSERT INTO event_details(event_id, description, image_url, published) VALUES(?1, ?2, ?3, ?4)")
          .bind(1, e.id).bind(2, e.description).bind(3, e.image_url).bind(4, int64_t{e.published ? 1 : 0})
          .step_status();
    return core::ok_status();
  });
  if (!s) return s.error();
  return e;
}

std::optional<core::Event> SqliteCatalogStore::find_event(core::EventId id) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare("SELECT e.id, e.name, e.venue_id, v.name, e.starts_at, e.on_sale_at, e.currency, "
                        "e.max_tickets_per_user, e.seats_total" TICKETD_WAITING_ROOM_COLUMNS
                        " FROM events e JOIN venues v ON v.id = e.venue_id" TICKETD_WAITING_ROOM_JOIN
                        " WHERE e.id = ?1");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  core::Event e = event_from(st);
  st.reset();
  read_prices(*r, e);
  return e;
}

std::vector<core::Event> SqliteCatalogStore::list_events(const core::EventQuery& q) {
  auto r = db_.readers().acquire();
  auto& st = r->prepare(
      "SELECT e.id, e.name, e.venue_id, v.name, e.starts_at, e.on_sale_at, e.currency, e.max_tickets_per_user, "
      "e.seats_total" TICKETD_WAITING_ROOM_COLUMNS " FROM events e JOIN venues v ON v.id = e.venue_id"
      TICKETD_WAITING_ROOM_JOIN " WHERE (?1 = '' OR instr(e.name_lower, ?1) > 0) AND e.starts_at >= ?2 AND e.starts_at < ?3 "
      "AND (e.starts_at > ?4 OR (e.starts_at = ?4 AND e.id > ?5)) AND (?7 < 0 OR COALESCE(o.organization_id, 0) = ?7) AND (?8 OR COALESCE(d.published, 1) = 1) "
      "ORDER BY e.starts_at, e.id LIMIT ?6");
  st.bind(1, core::lower_ascii(q.text))
      .bind(2, q.starts_from ? to_unix_ms(*q.starts_from) : INT64_MIN)
      .bind(3, q.starts_before ? to_unix_ms(*q.starts_before) : INT64_MAX)
      .bind(4, q.after ? to_unix_ms(q.after->first) : INT64_MIN)
      .bind(5, q.after ? q.after->second : 0)
      .bind(6, q.limit)
      .bind(7, q.organization ? *q.organization : int64_t{-1})
      .bind(8, int64_t{q.include_unpublished ? 1 : 0});
  std::vector<core::Event> out;
  while (st.step()) out.push_back(event_from(st));
  st.reset();
  for (core::Event& e : out) read_prices(*r, e);
  return out;
}

core::Status SqliteCatalogStore::update_event(const core::Event& e) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    if (!event_exists(c, e.id)) return make_error(Code::NotFound, "no such event");
    c.prepare("UPDATE events SET name = ?2, name_lower = ?3 WHERE id = ?1")
        .bind(1, e.id).bind(2, e.name).bind(3, core::lower_ascii(e.name)).step_status();
    for (const auto& [tier, price] : e.prices)
      c.prepare("UPDATE event_prices SET price = ?3 WHERE event_id = ?1 AND tier = ?2")
          .bind(1, e.id).bind(2, tier).bind(3, price).step_status();
    c.prepare("INSERT INTO event_details(event_id, description, image_url, published) VALUES(?1, ?2, ?3, ?4) "
              "ON CONFLICT(event_id) DO UPDATE SET description = excluded.description, image_url = excluded.image_url, "
              "published = excluded.published")
        .bind(1, e.id).bind(2, e.description).bind(3, e.image_url).bind(4, int64_t{e.published ? 1 : 0}).step_status();
    return core::ok_status();
  });
}

core::Status SqliteCatalogStore::postpone_event(core::EventId id, TimeMs starts_at, TimeMs on_sale_at, TimeMs now) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    auto& old = c.prepare("SELECT starts_at FROM events WHERE id = ?1");
    old.bind(1, id);
    if (!old.step()) {
      old.reset();
      return make_error(Code::NotFound, "no such event");
    }
    const int64_t from = old.int64(0);
    old.reset();
    c.prepare("UPDATE events SET starts_at = ?2, on_sale_at = ?3 WHERE id = ?1")
        .bind(1, id).bind(2, to_unix_ms(starts_at)).bind(3, to_unix_ms(on_sale_at)).step_status();
    c.prepare("INSERT INTO event_details(event_id, postponed_from, postponed_at) VALUES(?1, ?2, ?3) "
              "ON CONFLICT(event_id) DO UPDATE SET postponed_from = excluded.postponed_from, "
              "postponed_at = excluded.postponed_at")
        .bind(1, id).bind(2, from).bind(3, to_unix_ms(now)).step_status();
    // Every buyer is told, on the channels they chose, in the commit that moves the event.
    c.prepare("INSERT INTO outbox(kind, channel, user_id, event_id, booking_id, hold_id, status, created_at, due_at) "
              "SELECT 'event_postponed', ch.name, b.user_id, b.event_id, b.id, b.hold_id, 'PENDING', ?2, ?2 "
              "FROM bookings b CROSS JOIN (SELECT 'email' AS name UNION ALL SELECT 'webhook') ch "
              "LEFT JOIN user_notify n ON n.user_id = b.user_id "
              "WHERE b.event_id = ?1 AND b.status = 'CONFIRMED' AND ((ch.name = 'email' AND coalesce(n.email_on, 1) = 1) "
              "OR (ch.name = 'webhook' AND coalesce(n.sms_on, 0) = 1 AND coalesce(n.phone, '') <> ''))")
        .bind(1, id).bind(2, to_unix_ms(now)).step_status();
    return core::ok_status();
  });
}

core::Status SqliteCatalogStore::set_ticket_key(core::EventId id, uint32_t key_id) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    if (!event_exists(c, id)) return make_error(Code::NotFound, "no such event");
    c.prepare("INSERT INTO event_entry(event_id, ticket_key_id) VALUES(?1, ?2) ON CONFLICT(event_id) DO UPDATE SET "
              "ticket_key_id = excluded.ticket_key_id WHERE ticket_key_id = excluded.ticket_key_id - 1")
        .bind(1, id).bind(2, int64_t{key_id}).step_status();
    if (c.changes() != 1) return make_error(Code::Unavailable, "the event's key changed meanwhile: try again");
    return core::ok_status();
  });
}

core::Status SqliteCatalogStore::cancel_event(core::EventId id, TimeMs now, const std::string& reason) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    if (!event_exists(c, id)) return make_error(Code::NotFound, "no such event");
    c.prepare("INSERT INTO event_entry(event_id, cancelled_at, cancel_reason) VALUES(?1, ?2, ?3) "
              "ON CONFLICT(event_id) DO UPDATE SET cancelled_at = excluded.cancelled_at, "
              "cancel_reason = excluded.cancel_reason WHERE cancelled_at = 0")
        .bind(1, id).bind(2, to_unix_ms(now)).bind(3, reason).step_status();
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite

namespace ticketd::store::sqlite {

core::Status SqliteCatalogStore::set_waiting_room(core::EventId id, const core::WaitingRoomSettings& settings) {
  return db_.writer().run([&](Connection& c) -> core::Status {
    if (!event_exists(c, id)) return make_error(Code::NotFound, "no such event");
    upsert_waiting_room(c, id, settings);
    return core::ok_status();
  });
}

}  // namespace ticketd::store::sqlite
