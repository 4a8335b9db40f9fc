// Identifiers, states and records of the domain. Plain values, no behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "core/waiting_room.hpp"

namespace ticketd::core {

using UserId = int64_t;
using VenueId = int64_t;
using EventId = int64_t;
using HoldId = int64_t;
using BookingId = int64_t;
using PaymentId = int64_t;
using OrganizationId = int64_t;  // 0: none (the platform's own, managed by administrators)
using SeatId = uint32_t;  // 0-based index of the seat in its venue's layout

enum class Role { User, Admin };
enum class SeatStatus : uint8_t { Available, Held, Sold };
// A seat's status as the compact seat map spells it ("AHS").
constexpr char status_char(SeatStatus s) {
  switch (s) {
    case SeatStatus::Available: return 'A';
    case SeatStatus::Held: return 'H';
    case SeatStatus::Sold: return 'S';
  }
  return 'A';
}
// Pinned: a checkout is charging the card; the hold does not expire until the pin's hard cap.
enum class HoldState : uint8_t { Active, Pinned, Released, Expired, Converted };
// PendingPayment: the card is being charged or awaits authentication (3-D Secure); Failed: it was not
// paid (declined, or paid too late and refunded).
enum class BookingStatus : uint8_t { PendingPayment, Confirmed, Failed, Cancelled };

// Valid: admits its holder. CheckedIn: in the venue (an "out" scan makes it Valid again). Revoked:
// its booking was cancelled or refunded, or the ticket was transferred (a new one replaces it).
enum class TicketStatus : uint8_t { Valid, CheckedIn, Revoked };

const char* to_string(SeatStatus s);
const char* to_string(TicketStatus s);
std::optional<TicketStatus> ticket_status_from(const std::string& s);
const char* to_string(HoldState s);  // Pinned reads as ACTIVE to clients
const char* to_string(BookingStatus s);
std::optional<HoldState> hold_state_from(const std::string& s);
std::optional<BookingStatus> booking_status_from(const std::string& s);

struct User {
  UserId id = 0;
  std::string email;  // lower-cased
  std::string name;
  Role role = Role::User;
  bool email_verified = false;  // the owner opened the link mailed to `email`
};

struct Event {
  EventId id = 0;
  std::string name;
  VenueId venue_id = 0;
  std::string venue_name;
  OrganizationId organization_id = 0;  // the venue's: who manages the event
  TimeMs starts_at{};
  TimeMs on_sale_at{};
  std::string currency;                    // ISO 4217, three capitals
  std::map<std::string, int64_t> prices;   // price tier -> minor units
  uint32_t max_tickets_per_user = 8;
  uint32_t seats_total = 0;
  WaitingRoomSettings waiting_room;        // enabled = false: no waiting room
  // At the door: false = only the rotating code of the ticket page gets in (screenshots and printed
  // codes do not); true = the static code is accepted too (docs/tickets.md).
  bool static_codes_accepted = true;
  // The key new tickets are signed with; 1..ticket_key_id all verify (docs/tickets.md, "Keys").
  uint32_t ticket_key_id = 1;
  // Set when the organizer cancelled the event: nothing is sold any more and every booking is refunded.
  TimeMs cancelled_at{};
  std::string cancel_reason;
  std::string description;  // the organizer's words about it (at most 2,000 bytes)
  std::string image_url;    // https://, or empty
  // Unpublished: out of the catalogue and not on sale (its page answers 404 to all but its managers);
  // what was sold stands.
  bool published = true;
  // Set when the organizer moved the event to a new date (starts_at): the date before the latest move.
  TimeMs postponed_from{};
  TimeMs postponed_at{};
  bool cancelled() const { return cancelled_at != TimeMs{}; }
};

struct Hold {
  HoldId id = 0;
  EventId event_id = 0;
  UserId user_id = 0;
  std::vector<SeatId> seats;
  TimeMs created_at{};
  TimeMs expires_at{};
  HoldState state = HoldState::Active;
  BookingId booking_id = 0;  // set when Converted
};

struct Booking {
  BookingId id = 0;
  HoldId hold_id = 0;
  EventId event_id = 0;
  UserId user_id = 0;
  BookingStatus status = BookingStatus::Confirmed;
  std::vector<SeatId> seats;
  int64_t total_amount = 0;
  std::string currency;
  PaymentId payment_id = 0;
  std::string payment_ref;  // the gateway's id of the charge
  TimeMs created_at{};
  TimeMs cancelled_at{};
  std::string decline_code;  // Failed: why
  std::string message;
};

// One admission: a seat of a CONFIRMED booking. Issued in the commit that confirms the booking.
struct Ticket {
  std::string id;  // 32 lower-case hex digits: 16 random bytes, so an id cannot be guessed
  EventId event_id = 0;
  BookingId booking_id = 0;
  UserId owner_id = 0;
  SeatId seat = 0;
  uint32_t key_id = 0;  // the event key that signs its code (docs/tickets.md)
  TicketStatus status = TicketStatus::Valid;
  TimeMs issued_at{};
  TimeMs revoked_at{};  // when Revoked
  std::string revoked_reason;  // when Revoked: "booking_cancelled", ...
};

struct SeatCounts {
  uint32_t available = 0;
  uint32_t held = 0;
  uint32_t sold = 0;
};

}  // namespace ticketd::core
