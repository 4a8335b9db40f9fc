#include "core/seat_refund.hpp"

#include <algorithm>

#include "core/limits.hpp"

namespace ticketd::core {

Result<SeatRefund> plan_seat_refund(const Booking& booking, std::vector<SeatId> seats, const Event& event,
                                    const Layout& layout, int64_t refunded) {
  if (booking.status != BookingStatus::Confirmed)
    return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be refunded");
  if (seats.empty() || seats.size() > limits::seats_per_hold_max)
    return make_error(Code::InvalidRequest, "seat_ids: 1-100 of the booking's seats");
  std::sort(seats.begin(), seats.end());
  if (std::adjacent_find(seats.begin(), seats.end()) != seats.end())
    return make_error(Code::InvalidRequest, "seat_ids: a seat is named twice");
  SeatRefund out;
  for (SeatId s : seats) {
    if (std::find(booking.seats.begin(), booking.seats.end(), s) == booking.seats.end())
      return make_error(Code::InvalidSeat, "seat_ids: seat " + std::to_string(s) + " is not one of this booking's");
    if (!layout.contains(s)) return make_error(Code::InvalidSeat, "seat_ids: no such seat in this venue");
    auto price = event.prices.find(layout.price_tier_of(s));
    if (price != event.prices.end()) out.amount += price->second;
  }
  out.amount = std::clamp<int64_t>(out.amount, 0, std::max<int64_t>(0, booking.total_amount - refunded));
  out.seats = std::move(seats);
  return out;
}

}  // namespace ticketd::core
