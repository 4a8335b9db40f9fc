// Seat ids as stores keep a list of them in one text column ("3,4,17": booking refunds) or read one
// from an aggregate (group_concat / string_agg). Parsing skips what is not a seat id rather than
// trusting a stored row: a damaged cell yields fewer seats, never an exception or an assertion.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"

namespace ticketd::core {

inline std::string seat_csv(const std::vector<SeatId>& seats) {
  std::string out;
  for (SeatId s : seats) {
    if (!out.empty()) out += ',';
    out += std::to_string(s);
  }
  return out;
}

inline std::vector<SeatId> parse_seat_csv(std::string_view text) {
  std::vector<SeatId> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    SeatId v = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec == std::errc() && end == part.data() + part.size() && !part.empty()) out.push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace ticketd::core
