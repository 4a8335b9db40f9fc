// Use cases of tickets (docs/tickets.md): a buyer's tickets with their codes, and an event's public
// keys for scanners. Tickets are issued and revoked by the ledger, in the commits that confirm and
// cancel their bookings; this only reads them and signs what it shows.
//
// Thread safety: every method may be called concurrently (the secret is read-only; keys are derived
// per call, a few microseconds of HMAC and one Ed25519 key expansion).
#pragma once

#include <string>
#include <vector>

#include "app/catalog.hpp"
#include "app/ticket_codes.hpp"
#include "core/ports/ledger.hpp"

namespace ticketd::app {

struct TicketView {
  core::Ticket ticket;
  TicketClaims claims;
  std::string static_code;    // empty when the ticket is revoked: it admits no one
  std::string rotating_code;  // the code of the current 15 s step (empty when revoked)
  Key32 rotation_key{};       // the owner's key for the rotating part (docs/tickets.md)
  std::string event_name;
  TimeMs starts_at{};
  std::string section;  // where the seat is, as printed on the ticket
  std::string row;
  uint32_t seat_number = 0;    // 0 in a general-admission area
  bool general_admission = false;
};

struct PublishedKey {
  uint32_t key_id = 0;
  PublicKey public_key{};
  TimeMs valid_until{};  // codes signed with it stop being valid then (the event's end)
};

class Tickets {
 public:
  Tickets(core::Ledger& ledger, Catalog& catalog, TicketSecret secret, const Clock& clock);

  // NotFound unless the booking is the user's.
  core::Result<std::vector<TicketView>> of_booking(core::UserId user, core::BookingId booking);
  // NotFound unless the ticket exists and is the user's (an id that is not one is NotFound too).
  core::Result<TicketView> ticket(core::UserId user, std::string_view ticket_id);
  // Views of tickets already read (a user's list): codes, events and seats filled in. Tickets of an
  // event that cannot be read are left out.
  std::vector<TicketView> describe(const std::vector<core::Ticket>& tickets);
  // The public keys scanners verify this event's codes with. NotFound for an unknown event.
  core::Result<std::vector<PublishedKey>> event_keys(core::EventId event);
  // A code's validity window: from its issue to limits::ticket_valid_after_start past the start.
  static TimeMs valid_until(const core::Event& event);

 private:
  TicketView view(const core::Ticket& ticket, const core::Event& event, const core::Layout* layout, TimeMs now) const;
  const core::Layout* layout_of(const core::Event& event, std::shared_ptr<const core::Venue>& keep);

  core::Ledger& ledger_;
  Catalog& catalog_;
  TicketSecret secret_;
  const Clock& clock_;
};

}  // namespace ticketd::app
