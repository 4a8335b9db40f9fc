#include "core/layout.hpp"

#include <algorithm>

#include "core/limits.hpp"

namespace ticketd::core {

const char* to_string(SeatStatus s) {
  switch (s) {
    case SeatStatus::Available: return "AVAILABLE";
    case SeatStatus::Held: return "HELD";
    case SeatStatus::Sold: return "SOLD";
  }
  return "AVAILABLE";
}

const char* to_string(HoldState s) {
  switch (s) {
    case HoldState::Active: return "ACTIVE";
    case HoldState::Pinned: return "ACTIVE";
    case HoldState::Released: return "RELEASED";
    case HoldState::Expired: return "EXPIRED";
    case HoldState::Converted: return "CONVERTED";
  }
  return "ACTIVE";
}

const char* to_string(BookingStatus s) {
  switch (s) {
    case BookingStatus::PendingPayment: return "PENDING_PAYMENT";
    case BookingStatus::Confirmed: return "CONFIRMED";
    case BookingStatus::Failed: return "FAILED";
    case BookingStatus::Cancelled: return "CANCELLED";
  }
  return "FAILED";
}

const char* to_string(TicketStatus s) {
  switch (s) {
    case TicketStatus::Valid: return "VALID";
    case TicketStatus::CheckedIn: return "CHECKED_IN";
    case TicketStatus::Revoked: return "REVOKED";
  }
  return "REVOKED";
}

std::optional<TicketStatus> ticket_status_from(const std::string& s) {
  if (s == "VALID") return TicketStatus::Valid;
  if (s == "CHECKED_IN") return TicketStatus::CheckedIn;
  if (s == "REVOKED") return TicketStatus::Revoked;
  return std::nullopt;
}

std::optional<HoldState> hold_state_from(const std::string& s) {
  if (s == "ACTIVE") return HoldState::Active;
  if (s == "RELEASED") return HoldState::Released;
  if (s == "EXPIRED") return HoldState::Expired;
  if (s == "CONVERTED") return HoldState::Converted;
  return std::nullopt;
}

std::optional<BookingStatus> booking_status_from(const std::string& s) {
  if (s == "PENDING_PAYMENT") return BookingStatus::PendingPayment;
  if (s == "FAILED") return BookingStatus::Failed;
  if (s == "CONFIRMED") return BookingStatus::Confirmed;
  if (s == "CANCELLED") return BookingStatus::Cancelled;
  return std::nullopt;
}

namespace {

Error invalid(std::string field, std::string why) { return make_error(Code::InvalidRequest, field + ": " + why); }

bool text_ok(const std::string& s, size_t max) { return !s.empty() && s.size() <= max; }

Status apply_flags(const std::vector<uint32_t>& numbers, uint32_t row_seats, uint8_t flag, SeatId first,
                   std::vector<uint8_t>& flags, const std::string& field) {
  if (numbers.size() > row_seats) return invalid(field, "more entries than seats in the row");
  for (uint32_t n : numbers) {
    if (n < 1 || n > row_seats) return invalid(field, "seat number out of range");
    flags[first + n - 1] |= flag;
  }
  return ok_status();
}

}  // namespace

namespace {

bool within(int32_t v, int32_t lo, int32_t hi) { return v >= lo && v <= hi; }

Status check_geometry(const SectionGeometry& g, const std::string& where) {
  constexpr int32_t kCoord = limits::geometry_coordinate_max_c;
  if (!within(g.x_c, -kCoord, kCoord) || !within(g.y_c, -kCoord, kCoord))
    return invalid(where + ".geometry", "x and y: -10000..10000");
  if (!within(g.rotation_c, -limits::geometry_rotation_max_c, limits::geometry_rotation_max_c))
    return invalid(where + ".geometry.rotation_deg", "-360..360");
  if (!within(g.curve_c, 0, limits::geometry_curve_max_c)) return invalid(where + ".geometry.curve_deg", "0..180");
  if (!within(g.seat_spacing_c, limits::geometry_spacing_min_c, limits::geometry_spacing_max_c) ||
      !within(g.row_spacing_c, limits::geometry_spacing_min_c, limits::geometry_spacing_max_c))
    return invalid(where + ".geometry", "seat_spacing and row_spacing: 0.5..10");
  return ok_status();
}

Status check_stage(const StageShape& s) {
  constexpr int32_t kCoord = limits::geometry_coordinate_max_c;
  if (!within(s.x_c, -kCoord, kCoord) || !within(s.y_c, -kCoord, kCoord)) return invalid("stage", "x and y: -10000..10000");
  if (!within(s.width_c, limits::stage_size_min_c, limits::stage_size_max_c) ||
      !within(s.height_c, limits::stage_size_min_c, limits::stage_size_max_c))
    return invalid("stage", "width and height: 1..20000");
  if (s.label.size() > limits::name_bytes_max) return invalid("stage.label", "0-200 bytes");
  return ok_status();
}

}  // namespace

Result<Layout> Layout::build(LayoutSpec spec) {
  if (!text_ok(spec.name, limits::name_bytes_max)) return invalid("name", "1-200 bytes required");
  if (spec.sections.empty() || spec.sections.size() > limits::sections_per_venue_max)
    return invalid("sections", "1-1000 sections required");
  Layout layout;
  uint64_t total = 0;
  for (size_t s = 0; s < spec.sections.size(); ++s) {
    const SectionSpec& sec = spec.sections[s];
    const std::string where = "sections[" + std::to_string(s) + "]";
    if (!text_ok(sec.name, limits::name_bytes_max)) return invalid(where + ".name", "1-200 bytes required");
    if (!text_ok(sec.price_tier, limits::price_tier_bytes_max))
      return invalid(where + ".price_tier", "1-32 bytes required");
    if (sec.rows.empty() || sec.rows.size() > limits::rows_per_section_max)
      return invalid(where + ".rows", "1-1000 rows required");
    for (size_t r = 0; r < sec.rows.size(); ++r) {
      const RowSpec& row = sec.rows[r];
      if (!text_ok(row.label, limits::row_label_bytes_max))
        return invalid(where + ".rows[" + std::to_string(r) + "].label", "1-16 bytes required");
      if (row.seats < 1 || row.seats > limits::seats_per_row_max)
        return invalid(where + ".rows[" + std::to_string(r) + "].seats", "1-1000 seats required");
      total += row.seats;
      if (total > limits::seats_per_venue_max) return invalid("sections", "more than 200000 seats");
      layout.rows_.push_back(RowRef{static_cast<uint32_t>(s), static_cast<uint32_t>(r),
                                    static_cast<SeatId>(total - row.seats), row.seats});
    }
  }
  for (size_t s = 0; s < spec.sections.size(); ++s) {
    if (!spec.sections[s].general_admission) continue;
    for (const RowSpec& row : spec.sections[s].rows)
      if (!row.accessible.empty() || !row.companion.empty() || !row.restricted_view.empty())
        return invalid("sections[" + std::to_string(s) + "]", "a general-admission area has no seat flags");
  }
  const bool placed = spec.sections.front().geometry.has_value();
  for (size_t s = 0; s < spec.sections.size(); ++s) {
    const auto& g = spec.sections[s].geometry;
    if (g.has_value() != placed) return invalid("sections", "geometry: every section has one, or none does");
    if (g)
      if (Status st = check_geometry(*g, "sections[" + std::to_string(s) + "]"); !st) return st.error();
  }
  if (spec.stage)
    if (Status st = check_stage(*spec.stage); !st) return st.error();
  for (size_t i = 0; i + 1 < spec.sections.size(); ++i)
    for (size_t j = i + 1; j < spec.sections.size(); ++j)
      if (spec.sections[i].name == spec.sections[j].name) return invalid("sections", "section names must be unique");
  layout.seats_total_ = static_cast<uint32_t>(total);
  layout.flags_.assign(total, 0);
  for (const RowRef& ref : layout.rows_) {
    const RowSpec& row = spec.sections[ref.section].rows[ref.row];
    const std::string where = "sections[" + std::to_string(ref.section) + "].rows[" + std::to_string(ref.row) + "]";
    for (auto [list, flag, name] : {std::tuple{&row.accessible, kAccessible, ".accessible"},
                                    std::tuple{&row.companion, kCompanion, ".companion"},
                                    std::tuple{&row.restricted_view, kRestrictedView, ".restricted_view"}}) {
      Status s = apply_flags(*list, row.seats, flag, ref.first_seat, layout.flags_, where + name);
      if (!s) return s.error();
    }
  }
  layout.spec_ = std::move(spec);
  return layout;
}

std::optional<SeatLabel> Layout::label(SeatId seat) const {
  if (!contains(seat)) return std::nullopt;
  const SeatInfo info = this->seat(seat);
  const SectionSpec& section = spec_.sections.at(info.section);
  if (section.general_admission) return SeatLabel{section.name, "", 0, true};
  return SeatLabel{section.name, section.rows.at(info.row).label, info.number};
}

uint32_t SectionSpec::capacity() const {
  uint32_t n = 0;
  for (const RowSpec& r : rows) n += r.seats;
  return n;
}

SectionSpec general_admission_area(std::string name, std::string price_tier, uint32_t capacity) {
  SectionSpec s{std::move(name), std::move(price_tier), {}, {}, true};
  for (uint32_t left = capacity, i = 1; left > 0 && s.rows.size() < limits::rows_per_section_max; ++i) {
    const uint32_t n = std::min(left, limits::seats_per_row_max);
    s.rows.push_back(RowSpec{std::to_string(i), n, {}, {}, {}});
    left -= n;
  }
  return s;
}

SeatInfo Layout::seat(SeatId seat) const {
  TICKETD_ASSERT(contains(seat));
  auto it = std::upper_bound(rows_.begin(), rows_.end(), seat,
                             [](SeatId s, const RowRef& r) { return s < r.first_seat; });
  TICKETD_ASSERT(it != rows_.begin());
  --it;
  return SeatInfo{it->section, it->row, seat - it->first_seat + 1, flags_[seat]};
}

const std::string& Layout::price_tier_of(SeatId seat) const {
  return spec_.sections[this->seat(seat).section].price_tier;
}

}  // namespace ticketd::core
