// Target: venue layouts in the core. A LayoutSpec built from the bytes goes through Layout::build
// (every limit of core/limits.hpp); a layout that builds must be self-consistent (seat ids dense,
// every seat maps back to its row and flags), and best-available selection over it, with seats
// taken as the bytes say, must return distinct free seats of the asked section, or nothing only
// when too few are free. The JSON form of a venue is fuzzed through the API by api_json_fuzz.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/best_available.hpp"
#include "core/layout.hpp"
#include "core/limits.hpp"

namespace {

namespace core = ticketd::core;

// A little past every limit, so that both sides of each boundary are reachable.
constexpr size_t kSectionsMax = 12;
constexpr size_t kRowsMax = 12;
constexpr uint32_t kSeatsPerRowMax = core::limits::seats_per_row_max + 2;
constexpr size_t kFlagsPerRowMax = 8;

void require(bool condition, const char* what) {
  if (condition) return;
  std::fprintf(stderr, "fuzz: %s\n", what);
  __builtin_trap();
}

std::vector<uint32_t> seat_numbers(FuzzedDataProvider& in) {
  std::vector<uint32_t> out(in.ConsumeIntegralInRange<size_t>(0, kFlagsPerRowMax));
  for (uint32_t& n : out) n = in.ConsumeIntegralInRange<uint32_t>(0, kSeatsPerRowMax);
  return out;
}

core::LayoutSpec make_spec(FuzzedDataProvider& in) {
  core::LayoutSpec spec;
  spec.name = in.ConsumeRandomLengthString(210);
  spec.sections.resize(in.ConsumeIntegralInRange<size_t>(0, kSectionsMax));
  for (core::SectionSpec& section : spec.sections) {
    section.name = in.ConsumeRandomLengthString(210);
    section.price_tier = in.ConsumeRandomLengthString(40);
    section.rows.resize(in.ConsumeIntegralInRange<size_t>(0, kRowsMax));
    for (core::RowSpec& row : section.rows) {
      row.label = in.ConsumeRandomLengthString(20);
      row.seats = in.ConsumeIntegralInRange<uint32_t>(0, kSeatsPerRowMax);
      row.accessible = seat_numbers(in);
      row.companion = seat_numbers(in);
      row.restricted_view = seat_numbers(in);
    }
  }
  return spec;
}

void check_layout(const core::Layout& layout) {
  uint64_t seats = 0;
  for (const core::RowRef& ref : layout.rows()) {
    require(ref.first_seat == seats, "row seat ids are not dense");
    seats += ref.seats;
    const core::RowSpec& row = layout.spec().sections.at(ref.section).rows.at(ref.row);
    require(row.seats == ref.seats, "row size differs from its spec");
    for (uint32_t n = 1; n <= row.seats; n += row.seats > 1 ? row.seats - 1 : 1) {  // first and last seat
      const core::SeatInfo info = layout.seat(ref.first_seat + n - 1);
      require(info.section == ref.section && info.row == ref.row && info.number == n, "seat maps to another place");
      const bool accessible = std::count(row.accessible.begin(), row.accessible.end(), n) > 0;
      require(((info.flags & core::kAccessible) != 0) == accessible, "accessible flag wrong");
    }
  }
  require(seats == layout.seats_total(), "seats_total is not the sum of the rows");
  require(seats <= core::limits::seats_per_venue_max, "a layout over the seat limit was built");
}

void check_best_available(const core::Layout& layout, FuzzedDataProvider& in) {
  std::map<std::string, int64_t> prices;
  for (const core::SectionSpec& s : layout.spec().sections) prices[s.price_tier] = in.ConsumeIntegral<uint16_t>();
  core::BestAvailableRequest request;
  request.quantity = in.ConsumeIntegralInRange<uint32_t>(1, core::limits::seats_per_hold_max);
  if (in.ConsumeBool())
    request.section = in.ConsumeIntegralInRange<uint32_t>(0, static_cast<uint32_t>(layout.spec().sections.size()));
  const uint32_t stride = in.ConsumeIntegralInRange<uint32_t>(1, 7);
  const uint32_t offset = in.ConsumeIntegralInRange<uint32_t>(0, 6);
  auto is_free = [&](core::SeatId seat) { return (seat + offset) % stride != 0; };
  const auto picked = core::pick_best_available(layout, prices, request, is_free);
  if (!picked) return;
  require(picked->size() == request.quantity, "picked another number of seats than asked");
  std::set<core::SeatId> distinct(picked->begin(), picked->end());
  require(distinct.size() == picked->size(), "picked a seat twice");
  for (core::SeatId seat : *picked) {
    require(layout.contains(seat) && is_free(seat), "picked a taken or unknown seat");
    if (request.section) require(layout.seat(seat).section == *request.section, "picked outside the section");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  auto layout = core::Layout::build(make_spec(in));
  if (!layout) {
    require(layout.error().code == core::Code::InvalidRequest, "layout errors are InvalidRequest");
    return 0;
  }
  check_layout(*layout);
  check_best_available(*layout, in);
  return 0;
}
