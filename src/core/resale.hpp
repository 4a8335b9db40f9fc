// Face-value resale (docs/resale.md): who may put a ticket up for resale, and the listing's states. The
// seat side (a listed seat on offer, held, sold from its seller's booking to its buyer's) is decided by
// core::EventInventory; the price is the seat's face value (core::plan_seat_refund), which is also what
// the seller gets back.
#pragma once

#include <optional>
#include <string_view>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

enum class ListingState { Listed, Sold, Withdrawn };
const char* to_string(ListingState s);
std::optional<ListingState> listing_state_from(std::string_view s);

// A ticket may be listed by its holder when they are its booking's buyer (a ticket received by
// transfer was paid by someone else: the refund would go to them), while it is valid (not inside the
// venue, not revoked), its booking confirmed and never had a ticket sent to anyone, its event neither
// cancelled nor started. NotFound when it is not the user's; TicketNotListable otherwise.
Status may_list(const Ticket& ticket, const Booking& booking, const Event& event, UserId user,
                bool booking_transferred, TimeMs now);

}  // namespace ticketd::core
