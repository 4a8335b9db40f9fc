// CSV for the organizer's exports (attendees, audit log, sales report): RFC 4180 quoting, and a cell
// that a spreadsheet would run as a formula (a leading = + - @) is quoted with a ' in front, so a
// buyer's name shows as text and never runs (docs/console.md).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace ticketd::http {

inline void append_csv_cell(std::string& out, std::string_view cell) {
  const bool formula = !cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@');
  const bool quote = formula || cell.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    out += cell;
    return;
  }
  out += '"';
  if (formula) out += '\'';
  for (char ch : cell) {
    if (ch == '"') out += '"';
    out += ch;
  }
  out += '"';
}

// One record, CRLF-terminated.
inline void append_csv_row(std::string& out, std::initializer_list<std::string_view> cells) {
  bool first = true;
  for (std::string_view cell : cells) {
    if (!first) out += ',';
    first = false;
    append_csv_cell(out, cell);
  }
  out += "\r\n";
}

}  // namespace ticketd::http
