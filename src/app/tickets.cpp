#include "app/tickets.hpp"

#include "core/limits.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

namespace {

uint32_t unix_s(TimeMs t) {
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  // The payload carries u32 seconds (until 2106): a time outside that range is clamped.
  return s <= 0 ? 0 : s >= INT64_C(0xffffffff) ? 0xffffffffu : static_cast<uint32_t>(s);
}

}  // namespace

Tickets::Tickets(core::Ledger& ledger, Catalog& catalog, TicketSecret secret, const Clock& clock)
    : ledger_(ledger), catalog_(catalog), secret_(secret), clock_(clock) {}

TimeMs Tickets::valid_until(const core::Event& event) {
  return event.starts_at + std::chrono::duration_cast<Millis>(core::limits::ticket_valid_after_start);
}

const core::Layout* Tickets::layout_of(const core::Event& event, std::shared_ptr<const core::Venue>& keep) {
  auto venue = catalog_.venue(event.venue_id);
  if (!venue) return nullptr;  // the seat's label is left out, the ticket is still shown
  keep = *venue;
  return &keep->layout;
}

TicketView Tickets::view(const core::Ticket& ticket, const core::Event& event, const core::Layout* layout,
                         TimeMs now) const {
  TicketView v;
  v.ticket = ticket;
  v.event_name = event.name;
  v.starts_at = event.starts_at;
  if (auto label = layout ? layout->label(ticket.seat) : std::nullopt) {
    v.section = label->section;
    v.row = label->row;
    v.seat_number = label->number;
    v.general_admission = label->general_admission;
  }
  v.claims.key_id = ticket.key_id;
  v.claims.event_id = ticket.event_id;
  v.claims.seat = ticket.seat;
  v.claims.ticket_id = ticket_id_bytes(ticket.id).value_or(TicketIdBytes{});
  v.claims.valid_from_s = unix_s(ticket.issued_at);
  v.claims.valid_until_s = unix_s(valid_until(event));
  if (ticket.status == core::TicketStatus::Revoked) return v;
  const EventKey key = secret_.event_key(ticket.event_id, ticket.key_id);
  v.static_code = static_code(v.claims, key);
  v.rotation_key = ticket_rotation_key(key.rotation_secret, v.claims.ticket_id);
  v.rotating_code = rotating_code(v.static_code, v.rotation_key, now);
  return v;
}

core::Result<std::vector<TicketView>> Tickets::of_booking(core::UserId user, core::BookingId booking) {
  auto b = ledger_.find_booking(booking, user);
  if (!b) return b.error();
  auto event = catalog_.event(b->event_id);
  if (!event) return event.error();
  const TimeMs now = clock_.now();
  std::shared_ptr<const core::Venue> venue;
  const core::Layout* layout = layout_of(*event, venue);
  std::vector<TicketView> out;
  for (const core::Ticket& t : ledger_.tickets_of_booking(booking))
    if (t.owner_id == user) out.push_back(view(t, *event, layout, now));
  return out;
}

core::Result<TicketView> Tickets::ticket(core::UserId user, std::string_view ticket_id) {
  // Not an id (wrong length, upper case, not hex): the same answer as another user's ticket.
  if (!ticket_id_bytes(ticket_id)) return make_error(Code::NotFound, "no such ticket");
  auto t = ledger_.find_ticket(std::string(ticket_id));
  if (!t || t->owner_id != user) return make_error(Code::NotFound, "no such ticket");
  auto event = catalog_.event(t->event_id);
  if (!event) return event.error();
  std::shared_ptr<const core::Venue> venue;
  return view(*t, *event, layout_of(*event, venue), clock_.now());
}

std::vector<TicketView> Tickets::describe(const std::vector<core::Ticket>& tickets) {
  const TimeMs now = clock_.now();
  std::vector<TicketView> out;
  std::optional<core::Event> event;  // tickets of one event come together: read each event once per run
  std::shared_ptr<const core::Venue> venue;
  const core::Layout* layout = nullptr;
  for (const core::Ticket& t : tickets) {
    if (!event || event->id != t.event_id) {
      auto e = catalog_.event(t.event_id);
      if (!e) continue;
      event = *e;
      layout = layout_of(*event, venue);
    }
    out.push_back(view(t, *event, layout, now));
  }
  return out;
}

core::Result<std::vector<PublishedKey>> Tickets::event_keys(core::EventId event_id) {
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  // Every key id up to the current one keeps verifying until the event ends (key rotation only adds).
  std::vector<PublishedKey> out;
  for (uint32_t id = 1; id <= event->ticket_key_id; ++id)
    out.push_back({id, secret_.event_key(event_id, id).public_key, valid_until(*event)});
  return out;
}

}  // namespace ticketd::app
