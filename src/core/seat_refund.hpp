// An organizer's refund of some seats of a booking (docs/console.md, "Refunds"): which seats, and how
// much goes back. Decided here; the ledger persists it, the gateway pays it.
#pragma once

#include <vector>

#include "core/layout.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct SeatRefund {
  std::vector<SeatId> seats;  // ascending, each one of the booking's
  int64_t amount = 0;         // minor units, at most what the booking still has paid (total less refunds)
};

// A refund of `seats` of a CONFIRMED booking: each seat at its tier's price now (core/event_edit keeps
// a tier's price fixed once any of its seats is sold, so that is what was paid), never more than the
// booking's total. InvalidRequest: no seats, a repeat, or more seats than the booking has;
// InvalidSeat: a seat that is not the booking's (refunded already, or another's); BookingNotConfirmed.
// All of the booking's seats is a whole refund: `seats.size() == booking.seats.size()` tells the caller.
// `refunded`: what earlier seat refunds of the booking gave back; the amount never exceeds the rest.
Result<SeatRefund> plan_seat_refund(const Booking& booking, std::vector<SeatId> seats, const Event& event,
                                    const Layout& layout, int64_t refunded);

}  // namespace ticketd::core
