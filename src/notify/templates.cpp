#include "notify/templates.hpp"

#include "notify/ticket_print.hpp"

#include <array>
#include <ctime>

namespace ticketd::notify {

namespace {

std::string seat_line(const core::SeatLabel& s) {
  if (s.general_admission) return s.section + " (general admission)";
  return "Section " + s.section + ", row " + s.row + ", seat " + std::to_string(s.number);
}

std::string subject_of(const core::Notification& n) {
  switch (n.kind) {
    case core::NoticeKind::BookingConfirmed:
      return "Booking #" + std::to_string(n.booking_id) + " confirmed: " + n.event_name;
    case core::NoticeKind::BookingCancelled:
      return "Booking #" + std::to_string(n.booking_id) + " cancelled: " + n.event_name;
    case core::NoticeKind::PaymentFailed:
      return "Payment failed: " + n.event_name;
    case core::NoticeKind::HoldExpiring:
      return "Your seats for " + n.event_name + " are held until " + format_utc_minutes(n.hold_expires_at);
    case core::NoticeKind::TicketSent:
      return n.sender_name + " sent you a ticket: " + n.event_name;
    case core::NoticeKind::SeatsRefunded:
      return "Booking #" + std::to_string(n.booking_id) + ": seats refunded: " + n.event_name;
    case core::NoticeKind::EventPostponed:
      return "New date: " + n.event_name + " is now " + format_utc_minutes(n.event_starts_at);
    case core::NoticeKind::WaitlistOffer:
      return "Seats for " + n.event_name + " are yours until " + format_utc_minutes(n.hold_expires_at);
    case core::NoticeKind::VerifyEmail:
      return "Confirm your email address";
    case core::NoticeKind::VerifyPhone:
      return "Your phone verification code is " + n.code;
    case core::NoticeKind::PasswordReset:
      return "Set a new password";
  }
  return n.event_name;
}

// The paragraph that says what happened, in plain text.
std::string lead_of(const core::Notification& n) {
  const std::string amount = core::format_amount(n.amount, n.currency);
  switch (n.kind) {
    case core::NoticeKind::BookingConfirmed:
      return "Your booking #" + std::to_string(n.booking_id) + " is confirmed. You paid " + amount + ".";
    case core::NoticeKind::BookingCancelled:
      return "Your booking #" + std::to_string(n.booking_id) + " is cancelled. " + amount +
             " is refunded to your payment method.";
    case core::NoticeKind::PaymentFailed:
      return "The payment of " + amount + " for booking #" + std::to_string(n.booking_id) + " did not go through" +
             (n.reason.empty() ? std::string(".") : ": " + n.reason + ".") + " The seats below are not yours.";
    case core::NoticeKind::HoldExpiring:
      return "The seats below (" + amount + ") are held for you until " + format_utc_minutes(n.hold_expires_at) +
             ". Check out before then to keep them.";
    case core::NoticeKind::TicketSent:
      return n.sender_name + " sent you a ticket. To accept it, log in to ticketd with this email address (or "
             "create an account with it) and open My tickets. Until you accept, " + n.sender_name +
             " can take it back.";
    case core::NoticeKind::SeatsRefunded:
      return "The organizer refunded the seats below of your booking #" + std::to_string(n.booking_id) + ": " +
             amount + " goes back to your payment method. Their tickets no longer admit anyone; the rest of "
             "your booking stands.";
    case core::NoticeKind::EventPostponed:
      return n.event_name + " moved from " + format_utc_minutes(n.event_postponed_from) + " to " +
             format_utc_minutes(n.event_starts_at) + ". Your booking #" + std::to_string(n.booking_id) +
             " stands, and your tickets are good for the new date. If you cannot come, you can cancel the booking "
             "for a refund of " + amount + " in My bookings until the event starts.";
    case core::NoticeKind::WaitlistOffer:
      return "Seats came back for " + n.event_name + ", and you are next on its waiting list. The seats below (" +
             amount + ") are held for you until " + format_utc_minutes(n.hold_expires_at) +
             ". Open the event in ticketd and pay before then to make them yours; after that they go to the next "
             "person in line.";
    case core::NoticeKind::VerifyEmail:
      return "Open this link to confirm that this address is yours. Until you do, ticketd sends it no booking "
             "emails. The link works once, until " + format_utc_minutes(n.token_expires_at) + ".";
    case core::NoticeKind::VerifyPhone:
      return "Enter " + n.code + " in your ticketd account to verify this number. It works until " +
             format_utc_minutes(n.token_expires_at) + ".";
    case core::NoticeKind::PasswordReset:
      return "Someone (we hope you) asked to set a new password for your ticketd account. Open this link to "
             "choose one; it works once, until " + format_utc_minutes(n.token_expires_at) +
             ", and logs out every device. If it was not you, ignore this email: your password stays.";
  }
  return "";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string header_value(std::string_view text) {
  std::string flat;
  bool ascii = true;
  for (char c : text) {
    if (c == '\r' || c == '\n') c = ' ';
    if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    flat += c;
  }
  if (ascii) return flat;
  return "=?UTF-8?B?" + base64(flat) + "?=";
}

std::string rfc5322_date(TimeMs t) {
  const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string idempotency_key(core::OutboxId id) {
  return "ticketd-notification-" + std::to_string(id);
}

std::string bare_address(std::string_view from) {
  const auto open = from.rfind('<');
  const auto close = from.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    return std::string(from.substr(open + 1, close - open - 1));
  return std::string(from);
}

namespace {

// The tickets of a confirmation: each one's QR code inside the HTML, and a PDF to print. An event that
// admits only the live code of the ticket page gets no codes by mail (they would not get anyone in).
void add_tickets(const core::Notification& n, EmailContent& e) {
  if (n.tickets.empty()) return;
  if (!n.static_codes_accepted) {
    const std::string where = "Your tickets are in the ticketd app, under My tickets. This event admits only the "
                              "live code of the ticket page (it changes every 15 seconds): open it at the door.";
    e.text += "\n" + where + "\n";
    e.html += "<p>" + html_escape(where) + "</p>\n";
    return;
  }
  std::vector<PrintedTicket> printed;
  e.text += "\nYour tickets are attached as a PDF: print them, or show them on your phone. The ticketd app's\n"
            "ticket page shows a live code that a screenshot cannot copy.\n";
  e.html += "<h2>Your tickets</h2>\n<p>Show a code at the door, or print the attached PDF.</p>\n";
  for (const core::NotifiedTicket& t : n.tickets) {
    printed.push_back(PrintedTicket{n.event_name, n.venue_name, n.event_starts_at, seat_line(t.seat), n.user_name,
                                    t.id, t.code});
    e.text += "  " + seat_line(t.seat) + ": ticket " + t.id + "\n";
    if (e.related.size() >= kInlineQrMax) continue;
    auto png = qr_png(t.code, 4);
    if (!png) continue;
    const std::string cid = "ticket-" + t.id + "@ticketd";
    e.html += "<p><strong>" + html_escape(seat_line(t.seat)) + "</strong><br><img src=\"cid:" + cid +
              "\" width=\"228\" height=\"228\" alt=\"Entry code, " + html_escape(seat_line(t.seat)) + "\"></p>\n";
    e.related.push_back(MimePart{"image/png", "ticket-" + t.id + ".png", cid, std::move(*png)});
  }
  auto pdf = tickets_pdf(printed);
  if (pdf) e.attached.push_back(MimePart{"application/pdf", "tickets-" + std::to_string(n.booking_id) + ".pdf", "",
                                         std::move(*pdf)});
}

bool account_message(core::NoticeKind k) {
  return k == core::NoticeKind::VerifyEmail || k == core::NoticeKind::VerifyPhone || k == core::NoticeKind::PasswordReset;
}

// An account message: a greeting, what to do, the link. No event, seats or amount.
EmailContent render_account_email(const core::Notification& n) {
  EmailContent e;
  e.subject = subject_of(n);
  const std::string greeting = n.user_name.empty() ? std::string("Hello,") : "Hello " + n.user_name + ",";
  const std::string lead = lead_of(n);
  e.text = greeting + "\n\n" + lead + "\n\n" + n.link + "\n\nReference: " + idempotency_key(n.outbox_id) +
           "\n-- \nticketd\n";
  e.html = "<!DOCTYPE html>\n<html><body>\n<p>" + html_escape(greeting) + "</p>\n<p>" + html_escape(lead) +
           "</p>\n<p><a href=\"" + html_escape(n.link) + "\">" + html_escape(n.link) + "</a></p>\n" +
           "<p style=\"color:#888\">Reference: " + html_escape(idempotency_key(n.outbox_id)) + "</p>\n</body></html>\n";
  return e;
}

}  // namespace

EmailContent render_email(const core::Notification& n) {
  if (account_message(n.kind)) return render_account_email(n);
  EmailContent e;
  e.subject = subject_of(n);
  const std::string greeting = n.user_name.empty() ? std::string("Hello,") : "Hello " + n.user_name + ",";
  const bool priced = n.kind != core::NoticeKind::TicketSent;  // a gift has no amount to show
  const std::string lead = lead_of(n);
  const std::string event_line = n.event_name + " at " + n.venue_name + ", " + format_utc_minutes(n.event_starts_at);
  e.text = greeting + "\n\n" + lead + "\n\n" + event_line + "\n";
  for (const core::SeatLabel& s : n.seats) e.text += "  " + seat_line(s) + "\n";
  if (priced) e.text += "\nTotal: " + core::format_amount(n.amount, n.currency) + "\n";
  e.text += "\nReference: " + idempotency_key(n.outbox_id) + "\n-- \nticketd\n";

  e.html = "<!DOCTYPE html>\n<html><body>\n<p>" + html_escape(greeting) + "</p>\n<p>" + html_escape(lead) +
           "</p>\n<h2>" + html_escape(n.event_name) + "</h2>\n<p>" + html_escape(n.venue_name) + ", " +
           html_escape(format_utc_minutes(n.event_starts_at)) + "</p>\n<table>\n<tr><th>Section</th><th>Row</th><th>Seat</th></tr>\n";
  for (const core::SeatLabel& s : n.seats)
    e.html += "<tr><td>" + html_escape(s.section) + "</td><td>" + html_escape(s.row) + "</td><td>" +
              (s.general_admission ? std::string("general admission") : std::to_string(s.number)) + "</td></tr>\n";
  e.html += "</table>\n";
  if (priced) e.html += "<p>Total: <strong>" + html_escape(core::format_amount(n.amount, n.currency)) + "</strong></p>\n";
  add_tickets(n, e);
  e.html += "<p style=\"color:#888\">Reference: " + html_escape(idempotency_key(n.outbox_id)) + "</p>\n</body></html>\n";
  return e;
}

std::string render_sms(const core::Notification& n) {
  if (account_message(n.kind)) return "ticketd: " + lead_of(n);
  std::string seats;
  for (const core::SeatLabel& s : n.seats) {
    if (!seats.empty()) seats += ", ";
    seats += s.general_admission ? s.section + " GA" : s.section + " " + s.row + "-" + std::to_string(s.number);
  }
  std::string text = "ticketd: " + subject_of(n) + ". " + format_utc_minutes(n.event_starts_at) + ". Seats: " + seats + ". " +
                     core::format_amount(n.amount, n.currency) + ".";
  if (text.size() > kSmsBytesMax) {
    // Cut at a UTF-8 character boundary, leaving room for the ellipsis.
    size_t cut = kSmsBytesMax - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "\xE2\x80\xA6";
  }
  return text;
}

namespace {
void append_base64_lines(std::string& out, std::string_view bytes) {
  const std::string b = base64(bytes);
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
}
}  // namespace

namespace {

void append_part(std::string& m, const std::string& boundary, const MimePart& p, bool inline_part) {
  const std::string name = header_value(p.filename);
  m += "--" + boundary + "\r\nContent-Type: " + p.content_type + "; name=\"" + name + "\"\r\n";
  m += "Content-Transfer-Encoding: base64\r\n";
  if (!p.content_id.empty()) m += "Content-ID: <" + header_value(p.content_id) + ">\r\n";
  m += std::string("Content-Disposition: ") + (inline_part ? "inline" : "attachment") + "; filename=\"" + name + "\"\r\n\r\n";
  append_base64_lines(m, p.bytes);
}

}  // namespace

std::string build_mime(const MimeHeaders& h, const EmailContent& content, core::OutboxId outbox_id) {
  const std::string boundary = "=_ticketd-" + std::to_string(outbox_id) + "-alt";
  const std::string related = "=_ticketd-" + std::to_string(outbox_id) + "-rel";
  const std::string mixed = "=_ticketd-" + std::to_string(outbox_id) + "-mix";
  const bool parts = !content.related.empty() || !content.attached.empty();
  std::string m;
  m += "From: " + header_value(h.from) + "\r\n";
  m += "To: " + header_value(h.to) + "\r\n";
  m += "Subject: " + header_value(content.subject) + "\r\n";
  m += "Date: " + rfc5322_date(h.date) + "\r\n";
  m += "Message-ID: " + header_value(h.message_id) + "\r\n";
  m += "X-Ticketd-Delivery: " + idempotency_key(outbox_id) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  if (parts) {
    m += "Content-Type: multipart/mixed; boundary=\"" + mixed + "\"\r\n\r\n";
    m += "--" + mixed + "\r\nContent-Type: multipart/related; boundary=\"" + related + "\"\r\n\r\n";
    m += "--" + related + "\r\n";
  }
  m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  append_base64_lines(m, content.text);
  m += "--" + boundary + "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  append_base64_lines(m, content.html);
  m += "--" + boundary + "--\r\n";
  if (!parts) return m;
  for (const MimePart& p : content.related) append_part(m, related, p, true);
  m += "--" + related + "--\r\n";
  for (const MimePart& p : content.attached) append_part(m, mixed, p, false);
  m += "--" + mixed + "--\r\n";
  return m;
}

}  // namespace ticketd::notify
