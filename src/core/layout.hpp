// A venue's seat layout: sections -> rows -> numbered seats, stored once per venue and shared by
// every event there. Seat ids are 0-based indexes in layout order (section by section, row by
// row, seat 1..n), so an event's per-seat state is a dense array indexed by SeatId.
//
// Immutable after build(); safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

enum SeatFlag : uint8_t { kAccessible = 1, kCompanion = 2, kRestrictedView = 4 };

struct RowSpec {
  std::string label;
  uint32_t seats = 0;
  std::vector<uint32_t> accessible;       // seat numbers (1-based) in this row
  std::vector<uint32_t> companion;
  std::vector<uint32_t> restricted_view;
};

// Where a section stands on the venue's plane (docs/console.md, "Venue geometry"), in hundredths of a
// unit (a unit is a seat pitch when seat_spacing is 1) and hundredths of a degree: integers, so that
// every store keeps exactly what was validated and every node serves the same bytes (and ETag).
// The section's front row is centred on (x, y); rows run away from the stage, each seat_spacing apart
// along the row and row_spacing apart between rows; the whole turns by `rotation` clockwise. With a
// `curve`, rows are concentric arcs whose centre is in front of the section, the front row spanning
// `curve` degrees (180: a half circle).
struct SectionGeometry {
  int32_t x_c = 0;
  int32_t y_c = 0;
  int32_t rotation_c = 0;      // -36000..36000
  int32_t curve_c = 0;         // 0 (straight)..18000
  int32_t seat_spacing_c = 100;
  int32_t row_spacing_c = 100;
  bool operator==(const SectionGeometry&) const = default;
};

// The stage (or field): a labelled rectangle, centred on (x, y).
struct StageShape {
  int32_t x_c = 0;
  int32_t y_c = 0;
  int32_t width_c = 0;
  int32_t height_c = 0;
  std::string label;
};

struct SectionSpec {
  std::string name;
  std::string price_tier;
  std::vector<RowSpec> rows;
  std::optional<SectionGeometry> geometry;  // all sections have one, or none (an automatic layout)
  // A general-admission area (a standing floor, a lawn): `rows` are its places, unnumbered to buyers
  // (general_admission_area() makes them); holds take a quantity of them, tickets name the area.
  bool general_admission = false;
  uint32_t capacity() const;
};

// A general-admission area of `capacity` places (1..limits::seats_per_venue_max), kept as rows of at
// most limits::seats_per_row_max places so every rule of numbered seats holds for it unchanged.
SectionSpec general_admission_area(std::string name, std::string price_tier, uint32_t capacity);

struct LayoutSpec {
  std::string name;
  std::vector<SectionSpec> sections;
  std::optional<StageShape> stage;
};

// A seat as people read it: "Section Floor, row A, seat 6".
struct SeatLabel {
  std::string section;
  std::string row;      // empty in a general-admission area
  uint32_t number = 0;  // 0 in a general-admission area
  bool general_admission = false;
};

struct SeatInfo {
  uint32_t section = 0;  // index into spec().sections
  uint32_t row = 0;      // index into the section's rows
  uint32_t number = 0;   // 1-based seat number in the row
  uint8_t flags = 0;
};

struct RowRef {
  uint32_t section = 0;
  uint32_t row = 0;  // index within the section
  SeatId first_seat = 0;
  uint32_t seats = 0;
};

class Layout {
 public:
  // Validates every limit of core/limits.hpp; returns InvalidRequest naming the bad field.
  static Result<Layout> build(LayoutSpec spec);

  const LayoutSpec& spec() const { return spec_; }
  uint32_t seats_total() const { return seats_total_; }
  const std::vector<RowRef>& rows() const { return rows_; }
  bool contains(SeatId seat) const { return seat < seats_total_; }
  // REQUIRES: contains(seat).
  SeatInfo seat(SeatId seat) const;
  // Where a seat is, as printed on tickets and in mail; nullopt for a seat not in this layout.
  std::optional<SeatLabel> label(SeatId seat) const;
  const std::string& price_tier_of(SeatId seat) const;

 private:
  LayoutSpec spec_;
  std::vector<RowRef> rows_;     // all rows in seat-id order
  std::vector<uint8_t> flags_;   // per seat
  uint32_t seats_total_ = 0;
};

}  // namespace ticketd::core
