// Tickets on paper and in mail: a ticket's static code as a QR image (PNG) and a PDF with one page per
// ticket, drawn with libqrencode and cairo. Pure functions of their input (no files, no network).
//
// The QR code holds the code exactly as docs/tickets.md spells it (168 characters of A-Z 2-7, all in
// the QR alphanumeric set), at error correction level M, with the standard 4-module quiet zone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/result.hpp"

namespace ticketd::notify {

// Bounds: a booking has at most limits::tickets_per_user_max seats; codes are 168 characters.
inline constexpr size_t kPrintedTicketsMax = 100;
inline constexpr size_t kQrTextBytesMax = 512;

struct PrintedTicket {
  std::string event_name;
  std::string venue_name;
  TimeMs starts_at{};
  std::string seat;       // "Section Floor, row A, seat 5"
  std::string holder;     // the buyer's name
  std::string ticket_id;  // printed small, for the organizer's help desk
  std::string code;       // the static code the QR holds
};

// A PNG of the QR code of `text`, `module_px` pixels per module (1-32). InvalidRequest past the bounds.
core::Result<std::string> qr_png(std::string_view text, int module_px);
// A PDF, A6 portrait, one page per ticket: event, venue, date, seat, holder, the QR code, the ticket id.
core::Result<std::string> tickets_pdf(const std::vector<PrintedTicket>& tickets);

}  // namespace ticketd::notify
