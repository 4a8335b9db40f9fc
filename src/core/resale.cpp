#include "core/resale.hpp"

namespace ticketd::core {

const char* to_string(ListingState s) {
  switch (s) {
    case ListingState::Listed: return "LISTED";
    case ListingState::Sold: return "SOLD";
    case ListingState::Withdrawn: return "WITHDRAWN";
  }
  return "LISTED";
}

std::optional<ListingState> listing_state_from(std::string_view s) {
  if (s == "LISTED") return ListingState::Listed;
  if (s == "SOLD") return ListingState::Sold;
  if (s == "WITHDRAWN") return ListingState::Withdrawn;
  return std::nullopt;
}

Status may_list(const Ticket& ticket, const Booking& booking, const Event& event, UserId user,
                bool booking_transferred, TimeMs now) {
  if (ticket.owner_id != user) return make_error(Code::NotFound, "no such ticket");
  if (ticket.status == TicketStatus::CheckedIn)
    return make_error(Code::TicketNotListable, "this ticket is inside the venue: it cannot be resold");
  if (ticket.status != TicketStatus::Valid) return make_error(Code::TicketNotListable, "this ticket is no longer valid");
  if (booking.user_id != user || booking_transferred)
    return make_error(Code::TicketNotListable, "a ticket of this booking was sent to someone: only its buyer's "
                                               "tickets of a booking never sent can be resold");
  if (booking.status != BookingStatus::Confirmed)
    return make_error(Code::TicketNotListable, "only a ticket of a confirmed booking can be resold");
  if (event.cancelled()) return make_error(Code::EventCancelled, "this event is cancelled: its tickets are refunded");
  if (now >= event.starts_at) return make_error(Code::EventStarted, "the event has started");
  return ok_status();
}

}  // namespace ticketd::core
