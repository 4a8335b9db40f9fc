// Port: an event's orders as its organizer sees them (docs/console.md, "Orders"): bookings with their
// buyers, found by email, name or booking id, and the confirmed sales a report adds up.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <string>
#include <vector>

#include "core/types.hpp"

namespace ticketd::core {

struct Order {
  Booking booking;  // with its seats (those not refunded)
  std::string email;
  std::string name;
  int64_t refunded_amount = 0;  // given back by refunds of some of its seats
};

class Orders {
 public:
  virtual ~Orders() = default;
  // Bookings of the event with an id above `after`, ascending, at most `limit`, whose buyer's email
  // or name contains `text` (lower-cased; "" = any) or whose id is `booking_id` (0: none).
  virtual std::vector<Order> search(EventId event, const std::string& text, BookingId booking_id, BookingId after,
                                    uint32_t limit) = 0;
  // Every CONFIRMED booking of the event (id, created_at, seats, and as total_amount what it still has
  // paid: the charge less refunds of some of its seats): at most the venue's seats, so bounded by
  // limits::seats_per_venue_max.
  virtual std::vector<Booking> confirmed(EventId event) = 0;
};

}  // namespace ticketd::core
