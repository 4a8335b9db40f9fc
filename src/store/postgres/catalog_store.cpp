#include <spdlog/spdlog.h>

#include "core/seat_csv.hpp"
#include "core/validate.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

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

constexpr const char* kEventColumns =
    "SELECT e.id, e.name, e.venue_id, v.name, e.starts_at, e.on_sale_at, e.currency, e.max_tickets_per_user, "
    "e.seats_total, (SELECT string_agg(encode(convert_to(tier, 'UTF8'), 'hex') || '=' || price, ',') FROM event_prices "
    "WHERE event_id = e.id), w.enabled, w.batch_size, w.release_interval_ms, w.active_window_ms, w.opens_before_ms, "
    "COALESCE(x.static_codes_accepted, true), COALESCE(x.ticket_key_id, 1), COALESCE(x.cancelled_at, 0), "
    "COALESCE(x.cancel_reason, ''), COALESCE(o.organization_id, 0), COALESCE(d.description, ''), "
    "COALESCE(d.image_url, ''), COALESCE(d.published, true), COALESCE(d.postponed_from, 0), "
    "COALESCE(d.postponed_at, 0) "
    "FROM events e JOIN venues v ON v.id = e.venue_id LEFT JOIN event_waiting_rooms w ON w.event_id = e.id "
    "LEFT JOIN event_entry x ON x.event_id = e.id LEFT JOIN venue_owners o ON o.venue_id = e.venue_id "
    "LEFT JOIN event_details d ON d.event_id = e.id ";

bool event_exists(Connection& c, core::EventId id) {
  return !c.query("SELECT 1 FROM events WHERE id = $1", {p(id)}).empty();
}

core::Event event_from(const Rows& r, int i) {
  core::Event e;
  e.id = r.int64(i, 0);
  e.name = r.text(i, 1);
  e.venue_id = r.int64(i, 2);
  e.venue_name = r.text(i, 3);
  e.starts_at = from_unix_ms(r.int64(i, 4));
  e.on_sale_at = from_unix_ms(r.int64(i, 5));
  e.currency = r.text(i, 6);
  e.max_tickets_per_user = static_cast<uint32_t>(r.int64(i, 7));
  e.seats_total = static_cast<uint32_t>(r.int64(i, 8));
  // "hex(tier)=price,...": hex, because a tier name may hold any character.
  std::stringstream in(r.text(i, 9));
  std::string pair;
  while (std::getline(in, pair, ',')) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq % 2 != 0) continue;
    std::string tier;
    for (size_t k = 0; k < eq; k += 2) tier += static_cast<char>(std::stoi(pair.substr(k, 2), nullptr, 16));
    e.prices[tier] = std::stoll(pair.substr(eq + 1));
  }
  if (!r.is_null(i, 10)) {  // no row: no waiting room
    e.waiting_room.enabled = r.boolean(i, 10);
    e.waiting_room.batch_size = static_cast<uint32_t>(r.int64(i, 11));
    e.waiting_room.release_interval = Millis(r.int64(i, 12));
    e.waiting_room.active_window = Millis(r.int64(i, 13));
    e.waiting_room.opens_before = Millis(r.int64(i, 14));
  }
  e.static_codes_accepted = r.boolean(i, 15);
  e.ticket_key_id = static_cast<uint32_t>(r.int64(i, 16));
  if (r.int64(i, 17) > 0) e.cancelled_at = from_unix_ms(r.int64(i, 17));
  e.cancel_reason = r.text(i, 18);
  e.organization_id = r.int64(i, 19);
  e.description = r.text(i, 20);
  e.image_url = r.text(i, 21);
  e.published = r.boolean(i, 22);
  if (r.int64(i, 23) > 0) e.postponed_from = from_unix_ms(r.int64(i, 23));
  if (r.int64(i, 24) > 0) e.postponed_at = from_unix_ms(r.int64(i, 24));
  return e;
}

void upsert_waiting_room(Connection& c, core::EventId id, const core::WaitingRoomSettings& w) {
  c.query("INSERT INTO event_waiting_rooms(event_id, enabled, batch_size, release_interval_ms, active_window_ms, "
          "opens_before_ms) VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO UPDATE SET "
          "enabled = EXCLUDED.enabled, batch_size = EXCLUDED.batch_size, "
          "release_interval_ms = EXCLUDED.release_interval_ms, active_window_ms = EXCLUDED.active_window_ms, "
          "opens_before_ms = EXCLUDED.opens_before_ms",
          {p(id), p(w.enabled ? "true" : "false"), p(static_cast<int64_t>(w.batch_size)), p(w.release_interval.count()),
           p(w.active_window.count()), p(w.opens_before.count())});
}

}  // namespace

core::Result<core::VenueId> PgCatalogStore::create_venue(const core::Layout& layout, core::OrganizationId organization,
                                                         TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::VenueId> {
    c.exec("BEGIN");
    try {
      Rows r = c.query("INSERT INTO venues(name, seats_total, created_at) VALUES($1, $2, $3) RETURNING id",
                       {p(layout.spec().name), p(static_cast<int64_t>(layout.seats_total())), p(to_unix_ms(now))});
      const core::VenueId id = r.int64(0, 0);
      if (organization != 0)
        c.query("INSERT INTO venue_owners(venue_id, organization_id) VALUES($1, $2)", {p(id), p(organization)});
      if (const auto& st = layout.spec().stage)
        c.query("INSERT INTO venue_stages(venue_id, x_c, y_c, width_c, height_c, label) VALUES($1, $2, $3, $4, $5, $6)",
                {p(id), p(int64_t{st->x_c}), p(int64_t{st->y_c}), p(int64_t{st->width_c}), p(int64_t{st->height_c}),
                 p(st->label)});
      const auto& sections = layout.spec().sections;
      for (size_t si = 0; si < sections.size(); ++si) {
        c.query("INSERT INTO venue_sections(venue_id, idx, name, price_tier) VALUES($1, $2, $3, $4)",
                {p(id), p(static_cast<int64_t>(si)), p(sections[si].name), p(sections[si].price_tier)});
        if (sections[si].general_admission)
          c.query("INSERT INTO venue_areas(venue_id, section_idx) VALUES($1, $2)", {p(id), p(static_cast<int64_t>(si))});
        if (const auto& g = sections[si].geometry)
          c.query("INSERT INTO venue_section_shapes(venue_id, section_idx, x_c, y_c, rotation_c, curve_c, "
                  "seat_spacing_c, row_spacing_c) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                  {p(id), p(static_cast<int64_t>(si)), p(int64_t{g->x_c}), p(int64_t{g->y_c}), p(int64_t{g->rotation_c}),
                   p(int64_t{g->curve_c}), p(int64_t{g->seat_spacing_c}), p(int64_t{g->row_spacing_c})});
        for (size_t ri = 0; ri < sections[si].rows.size(); ++ri) {
          const core::RowSpec& row = sections[si].rows[ri];
          c.query("INSERT INTO venue_rows(venue_id, section_idx, idx, label, seats, accessible, companion, "
                  "restricted_view) VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
                  {p(id), p(static_cast<int64_t>(si)), p(static_cast<int64_t>(ri)), p(row.label),
                   p(static_cast<int64_t>(row.seats)), p(join_numbers(row.accessible)), p(join_numbers(row.companion)),
                   p(join_numbers(row.restricted_view))});
        }
      }
      c.exec("COMMIT");
      return id;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

std::shared_ptr<const core::Venue> PgCatalogStore::find_venue(core::VenueId id) {
  return with_connection(pool_, [&](Connection& c) -> std::shared_ptr<const core::Venue> {
    Rows v = c.query("SELECT v.name, COALESCE(o.organization_id, 0) FROM venues v "
                     "LEFT JOIN venue_owners o ON o.venue_id = v.id WHERE v.id = $1", {p(id)});
    if (v.empty()) return nullptr;
    core::LayoutSpec spec;
    spec.name = v.text(0, 0);
    const core::OrganizationId organization = v.int64(0, 1);
    Rows secs = c.query("SELECT name, price_tier FROM venue_sections WHERE venue_id = $1 ORDER BY idx", {p(id)});
    for (int i = 0; i < secs.size(); ++i) spec.sections.push_back(core::SectionSpec{secs.text(i, 0), secs.text(i, 1), {}});
    Rows rows = c.query("SELECT section_idx, label, seats, accessible, companion, restricted_view FROM venue_rows "
                        "WHERE venue_id = $1 ORDER BY section_idx, idx",
                        {p(id)});
    for (int i = 0; i < rows.size(); ++i) {
      const auto si = static_cast<size_t>(rows.int64(i, 0));
      if (si >= spec.sections.size()) continue;  // a damaged row: Layout::build below refuses what is left
      spec.sections[si].rows.push_back(core::RowSpec{rows.text(i, 1), static_cast<uint32_t>(rows.int64(i, 2)),
                                                     split_numbers(rows.text(i, 3)), split_numbers(rows.text(i, 4)),
                                                     split_numbers(rows.text(i, 5))});
    }
    Rows shapes = c.query("SELECT section_idx, x_c, y_c, rotation_c, curve_c, seat_spacing_c, row_spacing_c "
                          "FROM venue_section_shapes WHERE venue_id = $1", {p(id)});
    for (int i = 0; i < shapes.size(); ++i) {
      const auto si = static_cast<size_t>(shapes.int64(i, 0));
      if (si >= spec.sections.size()) continue;  // Layout::build below refuses a partial geometry
      auto i32 = [&](int col) { return static_cast<int32_t>(shapes.int64(i, col)); };
      spec.sections[si].geometry = core::SectionGeometry{i32(1), i32(2), i32(3), i32(4), i32(5), i32(6)};
    }
    Rows areas = c.query("SELECT section_idx FROM venue_areas WHERE venue_id = $1", {p(id)});
    for (int i = 0; i < areas.size(); ++i)
      if (const auto si = static_cast<size_t>(areas.int64(i, 0)); si < spec.sections.size())
        spec.sections[si].general_admission = true;
    Rows stage = c.query("SELECT x_c, y_c, width_c, height_c, label FROM venue_stages WHERE venue_id = $1", {p(id)});
    if (!stage.empty())
      spec.stage = core::StageShape{static_cast<int32_t>(stage.int64(0, 0)), static_cast<int32_t>(stage.int64(0, 1)),
                                    static_cast<int32_t>(stage.int64(0, 2)), static_cast<int32_t>(stage.int64(0, 3)),
                                    stage.text(0, 4)};
    auto layout = core::Layout::build(std::move(spec));
    if (!layout) {
      // Valid when stored: the rows were damaged since. The venue (and its events) read as missing,
      // and the log says why; the process stays up.
      spdlog::error("venue {}: the stored layout is damaged and is not served: {}", id, layout.error().message);
      return nullptr;
    }
    return std::make_shared<const core::Venue>(core::Venue{id, organization, std::move(*layout)});
  });
}

std::vector<core::VenueSummary> PgCatalogStore::list_venues(core::OrganizationId organization, core::VenueId after,
                                                            uint32_t limit) {
  return with_connection(pool_, [&](Connection& c) {
    Rows r = c.query("SELECT v.id, v.name, v.seats_total FROM venue_owners o JOIN venues v ON v.id = o.venue_id "
                     "WHERE o.organization_id = $1 AND o.venue_id > $2 ORDER BY o.venue_id LIMIT $3",
                     {p(organization), p(after), p(static_cast<int64_t>(limit))});
    std::vector<core::VenueSummary> out;
    for (int i = 0; i < r.size(); ++i)
      out.push_back({r.int64(i, 0), r.text(i, 1), static_cast<uint32_t>(r.int64(i, 2))});
    return out;
  });
}

core::Result<core::Event> PgCatalogStore::create_event(core::Event e, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Result<core::Event> {
    c.exec("BEGIN");
    try {
      Rows v = c.query("SELECT 1 FROM venues WHERE id = $1", {p(e.venue_id)});
      if (v.empty()) {
        c.exec("ROLLBACK");
        return make_error(Code::InvalidRequest, "venue_id: no such venue");
      }
      Rows r = c.query(
          "INSERT INTO events(name, name_lower, venue_id, starts_at, on_sale_at, currency, max_tickets_per_user, "
          "seats_total, created_at) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
          {p(e.name), p(core::lower_ascii(e.name)), p(e.venue_id), p(to_unix_ms(e.starts_at)), p(to_unix_ms(e.on_sale_at)),
           p(e.currency), p(static_cast<int64_t>(e.max_tickets_per_user)), p(static_cast<int64_t>(e.seats_total)),
           p(to_unix_ms(now))});
      e.id = r.int64(0, 0);
      for (const auto& [tier, price] : e.prices)
        c.query("INSERT INTO event_prices(event_id, tier, price) VALUES($1, $2, $3)", {p(e.id), p(tier), p(price)});
      if (e.waiting_room.enabled) upsert_waiting_room(c, e.id, e.waiting_room);
      if (!e.static_codes_accepted)
        c.query("INSERT INTO event_entry(event_id, static_codes_accepted) VALUES($1, false)", {p(e.id)});
      if (!e.description.empty() || !e.image_url.empty() || !e.published)
        c.query("INSERT INTO event_details(event_id, description, image_url, published) VALUES($1, $2, $3, $4)",
                {p(e.id), p(e.description), p(e.image_url), p(e.published ? "true" : "false")});
      c.exec("COMMIT");
      return e;
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

std::optional<core::Event> PgCatalogStore::find_event(core::EventId id) {
  return with_connection(pool_, [&](Connection& c) -> std::optional<core::Event> {
    static const std::string sql = std::string(kEventColumns) + "WHERE e.id = $1";
    Rows r = c.query(sql.c_str(), {p(id)});
    if (r.empty()) return std::nullopt;
    return event_from(r, 0);
  });
}

std::vector<core::Event> PgCatalogStore::list_events(const core::EventQuery& q) {
  return with_connection(pool_, [&](Connection& c) {
    static const std::string sql =
        std::string(kEventColumns) +
        "WHERE ($1 = '' OR strpos(e.name_lower, $1) > 0) AND e.starts_at >= $2 AND e.starts_at < $3 "
        "AND (e.starts_at > $4 OR (e.starts_at = $4 AND e.id > $5)) "
        "AND ($7 < 0 OR COALESCE(o.organization_id, 0) = $7) AND ($8 OR COALESCE(d.published, true)) "
        "ORDER BY e.starts_at, e.id LIMIT $6";
    Rows r = c.query(sql.c_str(), {p(core::lower_ascii(q.text)), p(q.starts_from ? to_unix_ms(*q.starts_from) : INT64_MIN),
                                   p(q.starts_before ? to_unix_ms(*q.starts_before) : INT64_MAX),
                                   p(q.after ? to_unix_ms(q.after->first) : INT64_MIN), p(q.after ? q.after->second : 0),
                                   p(static_cast<int64_t>(q.limit)),
                                   p(q.organization ? *q.organization : int64_t{-1}),
                                   p(q.include_unpublished ? "true" : "false")});
    std::vector<core::Event> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(event_from(r, i));
    return out;
  });
}

core::Status PgCatalogStore::update_event(const core::Event& e) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.exec("BEGIN");
    try {
      if (c.query("UPDATE events SET name = $2, name_lower = $3 WHERE id = $1 RETURNING id",
                  {p(e.id), p(e.name), p(core::lower_ascii(e.name))}).empty()) {
        c.exec("ROLLBACK");
        return make_error(Code::NotFound, "no such event");
      }
      for (const auto& [tier, price] : e.prices)
        c.query("UPDATE event_prices SET price = $3 WHERE event_id = $1 AND tier = $2", {p(e.id), p(tier), p(price)});
      c.query("INSERT INTO event_details(event_id, description, image_url, published) VALUES($1, $2, $3, $4) "
              "ON CONFLICT (event_id) DO UPDATE SET description = EXCLUDED.description, image_url = EXCLUDED.image_url, "
              "published = EXCLUDED.published",
              {p(e.id), p(e.description), p(e.image_url), p(e.published ? "true" : "false")});
      c.exec("COMMIT");
      return core::ok_status();
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/true);
}

core::Status PgCatalogStore::postpone_event(core::EventId id, TimeMs starts_at, TimeMs on_sale_at, TimeMs now) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    c.exec("BEGIN");
    try {
      Rows old = c.query("SELECT starts_at FROM events WHERE id = $1 FOR UPDATE", {p(id)});
      if (old.empty()) {
        c.exec("ROLLBACK");
        return make_error(Code::NotFound, "no such event");
      }
      c.query("UPDATE events SET starts_at = $2, on_sale_at = $3 WHERE id = $1",
              {p(id), p(to_unix_ms(starts_at)), p(to_unix_ms(on_sale_at))});
      c.query("INSERT INTO event_details(event_id, postponed_from, postponed_at) VALUES($1, $2, $3) "
              "ON CONFLICT (event_id) DO UPDATE SET postponed_from = EXCLUDED.postponed_from, "
              "postponed_at = EXCLUDED.postponed_at",
              {p(id), p(old.int64(0, 0)), p(to_unix_ms(now))});
      // Every buyer is told, on the channels they chose, in the commit that moves the event.
      c.query("INSERT INTO outbox(kind, channel, user_id, event_id, booking_id, hold_id, status, created_at, due_at) "
              "SELECT 'event_postponed', ch.name, b.user_id, b.event_id, b.id, b.hold_id, 'PENDING', $2, $2 "
              "FROM bookings b CROSS JOIN (VALUES ('email'), ('webhook')) ch(name) "
              "LEFT JOIN user_notify n ON n.user_id = b.user_id "
              "WHERE b.event_id = $1 AND b.status = 'CONFIRMED' AND ((ch.name = 'email' AND coalesce(n.email_on, true)) "
              "OR (ch.name = 'webhook' AND coalesce(n.sms_on, false) AND coalesce(n.phone, '') <> ''))",
              {p(id), p(to_unix_ms(now))});
      c.exec("COMMIT");
      return core::ok_status();
    } catch (...) {
      if (c.healthy()) c.exec("ROLLBACK");
      throw;
    }
  }, /*idempotent=*/false);
}

core::Status PgCatalogStore::set_waiting_room(core::EventId id, const core::WaitingRoomSettings& settings) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    if (!event_exists(c, id)) return make_error(Code::NotFound, "no such event");
    upsert_waiting_room(c, id, settings);  // an upsert: safe to repeat
    return core::ok_status();
  });
}

core::Status PgCatalogStore::set_ticket_key(core::EventId id, uint32_t key_id) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    if (!event_exists(c, id)) return make_error(Code::NotFound, "no such event");
    Rows r = c.query("INSERT INTO event_entry(event_id, ticket_key_id) VALUES($1, $2) ON CONFLICT(event_id) DO UPDATE SET "
                     "ticket_key_id = excluded.ticket_key_id WHERE event_entry.ticket_key_id = excluded.ticket_key_id - 1 "
                     "RETURNING ticket_key_id",
                     {p(id), p(static_cast<int64_t>(key_id))});
    if (r.empty()) return make_error(Code::Unavailable, "the event's key changed meanwhile: try again");
    return core::ok_status();
  }, /*idempotent=*/false);
}

core::Status PgCatalogStore::cancel_event(core::EventId id, TimeMs now, const std::string& reason) {
  return with_connection(pool_, [&](Connection& c) -> core::Status {
    if (!event_exists(c, id)) return make_error(Code::NotFound, "no such event");
    c.query("INSERT INTO event_entry(event_id, cancelled_at, cancel_reason) VALUES($1, $2, $3) "
            "ON CONFLICT(event_id) DO UPDATE SET cancelled_at = excluded.cancelled_at, "
            "cancel_reason = excluded.cancel_reason WHERE event_entry.cancelled_at = 0",
            {p(id), p(to_unix_ms(now)), p(reason)});
    return core::ok_status();
  });
}

}  // namespace ticketd::store::postgres
