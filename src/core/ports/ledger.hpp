// Port: the seat ledger — holds, sales and bookings of every event. This is where "never sell a
// seat twice" is enforced: each implementation makes holds atomic per event and durable before it
// returns (embedded: per-event in-memory state machine + SQLite group commit; distributed: Redis
// atomic holds + PostgreSQL constraints).
//
// Thread safety: implementations are safe to call from any thread; calls for different events
// must not serialise on each other.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/best_available.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct HoldRequest {
  UserId user_id = 0;
  std::vector<SeatId> seats;                // explicit seats, or
  std::optional<BestAvailableRequest> best; // best available
  Millis ttl{600'000};
};

// The durable outcome of one checkout attempt, found again by (user, idempotency key).
struct CheckoutRecord {
  HoldId hold_id = 0;
  bool succeeded = false;
  BookingId booking_id = 0;
  std::string decline_code;
  std::string message;
};

struct CheckoutPayment {
  std::string idempotency_key;  // the client's key
  int64_t amount = 0;
  std::string currency;
  std::string payment_method;
  std::string payment_ref;
  bool succeeded = false;
  std::string decline_code;
  std::string message;
};

struct SeatMap {
  std::string status;  // one of "AHS" per seat, in seat-id order
  SeatCounts counts;
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  virtual Result<Hold> hold_seats(const Event& event, const Layout& layout, const HoldRequest& request,
                                  TimeMs now) = 0;
  // NotFound for unknown holds and for other users' holds.
  virtual Result<Hold> find_hold(HoldId id, UserId user, TimeMs now) = 0;
  virtual Result<Hold> release_hold(HoldId id, UserId user, TimeMs now) = 0;

  virtual std::optional<CheckoutRecord> find_checkout(UserId user, const std::string& idempotency_key) = 0;
  // Pins the hold so it cannot expire while the card is charged (see limits::checkout_pin_max).
  virtual Result<Hold> begin_checkout(HoldId id, UserId user, TimeMs now) = 0;
  virtual void abort_checkout(const Hold& hold, TimeMs now) = 0;
  // Charge succeeded: one durable transaction creates the booking, the payment and the sale.
  // HoldExpired if the pin lapsed (the caller refunds).
  virtual Result<Booking> complete_checkout(const Hold& hold, const CheckoutPayment& payment, TimeMs now) = 0;
  // Charge declined: releases the seats and records the attempt durably.
  virtual Status fail_checkout(const Hold& hold, const CheckoutPayment& payment, TimeMs now) = 0;

  virtual Result<Booking> find_booking(BookingId id, UserId user) = 0;
  // Newest first; before_id = 0 for the first page.
  virtual std::vector<Booking> list_bookings(UserId user, uint32_t limit, BookingId before_id) = 0;
  virtual Result<Booking> cancel_booking(const Booking& booking, const std::string& refund_ref, TimeMs now) = 0;

  virtual Result<SeatMap> seat_map(const Event& event, TimeMs now) = 0;
  // Marks expired holds EXPIRED in the store (tidiness: correctness never waits for it).
  virtual size_t sweep_expired(TimeMs now) = 0;
};

}  // namespace ticketd::core
