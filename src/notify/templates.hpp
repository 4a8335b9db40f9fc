// Message templates, one per notification kind: an email (subject, plain text, HTML) and a short
// text for SMS. Pure functions of a core::Notification: unit-tested without any server.
//
// Everything user-supplied (names of events, venues, users) is escaped for HTML and stripped of
// line breaks in headers, so no event name can inject a header or markup.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/notification.hpp"

namespace ticketd::notify {

struct MimePart {
  std::string content_type;  // "image/png", "application/pdf"
  std::string filename;
  std::string content_id;    // related parts: what the HTML refers to as cid:<content_id>
  std::string bytes;
};

struct EmailContent {
  std::string subject;  // UTF-8, one line
  std::string text;     // text/plain
  std::string html;     // text/html
  std::vector<MimePart> related;   // shown inside the HTML (the tickets' QR codes)
  std::vector<MimePart> attached;  // attachments (the tickets as a PDF)
};

// QR images inlined in one email at most; the PDF always has every ticket.
inline constexpr size_t kInlineQrMax = 20;

EmailContent render_email(const core::Notification& n);
// One line for an SMS, at most kSmsBytesMax bytes (longer seat lists are cut with "…").
inline constexpr size_t kSmsBytesMax = 320;  // two concatenated SMS segments
std::string render_sms(const core::Notification& n);

struct MimeHeaders {
  std::string from;  // "ticketd <tickets@example.com>"
  std::string to;    // "ann@example.com"
  std::string message_id;
  TimeMs date{};
};
// A complete RFC 5322 message: multipart/alternative with the text and HTML parts, base64-encoded
// (so no line limit or charset issue reaches the SMTP server), CRLF line endings. With related parts
// or attachments: multipart/mixed of (multipart/related of the alternative and the images) and the
// attachments.
std::string build_mime(const MimeHeaders& h, const EmailContent& content, core::OutboxId outbox_id);

// The idempotency key every channel sends: "ticketd-notification-<outbox id>".
std::string idempotency_key(core::OutboxId id);
// The bare address of a sender such as "ticketd <tickets@example.com>" (for SMTP MAIL FROM).
std::string bare_address(std::string_view from);

// Helpers, public for tests.
std::string base64(std::string_view bytes);
std::string html_escape(std::string_view text);
std::string header_value(std::string_view text);  // CR/LF removed; RFC 2047-encoded if not ASCII
std::string rfc5322_date(TimeMs t);               // "Sat, 28 Nov 2026 04:30:00 +0000"

}  // namespace ticketd::notify
