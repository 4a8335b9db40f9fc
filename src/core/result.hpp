// Expected failures are values: every use case returns Result<T>, carrying either a T or an
// Error with a domain code. The HTTP layer maps codes to statuses in one table (http/api.cpp).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/assert.hpp"

namespace ticketd::core {

enum class Code {
  InvalidRequest,        // malformed or out-of-range input; message names the field
  InvalidSeat,           // a seat id that is not in the venue
  InvalidPaymentMethod,
  MissingIdempotencyKey,
  Unauthenticated,
  InvalidCredentials,
  Forbidden,
  NotFound,
  SeatUnavailable,       // Error::seats lists the taken seats
  InsufficientSeats,
  TicketLimitExceeded,
  ActiveHoldsLimitExceeded,  // the user already has --holds-per-user-max live holds across all events
  SaleNotOpen,
  EmailTaken,
  HoldNotActive,
  CheckoutInProgress,
  IdempotencyKeyReused,
  EventStarted,
  BookingNotConfirmed,   // cancel of a booking still pending payment, or failed
  PaymentFailed,         // Error::detail carries the decline code
  HoldExpired,
  TooManyRequests,
  Unavailable,           // a dependency (payment gateway, disk) failed; safe to retry
  WaitingRoomOff,        // joining the queue of an event without a waiting room
  QueueNotOpen,          // joining before the waiting room opens
  QueueFull,             // the queue holds limits::queue_entries_max people
  TicketNotTransferable, // sending a ticket that is inside the venue or revoked; accepting one cancelled since
  TransferNotPending,    // accepting or cancelling a transfer already decided
  BookingTransferred,    // cancelling a booking one of whose tickets was sent to someone
  EventCancelled,        // holding, checking out or queueing for an event its organizer cancelled
  TotpRequired,          // a right password of an account with two-factor login, without a code
  InvalidTotp,           // a wrong, stale or replayed two-factor code
  AlreadyMember,         // adding an organization's member twice
  LastMember,            // removing the only member an organization has
  LimitReached,          // a per-account count (organizations started) is used up
  PriceLocked,           // repricing a tier whose seats are held or sold
  InvalidToken,          // an account link or code that is wrong, used, expired or out of tries
  NoPaymentAction,       // asking what the bank wants of a payment that waits for nothing from the buyer
  WaitlistClosed,        // joining a waiting list its organizer closed or turned off
  SeatsAvailable,        // joining the waiting list of an event with seats on open sale
  WaitlistFirst,         // an open-sale hold while the event's waiting list has people waiting
  TicketNotListable,     // listing for resale a ticket that is revoked, checked in, sent, or of an event over
  ResaleInProgress,      // withdrawing a resale listing whose seat a buyer holds or is paying for
};

// Thrown by an adapter whose dependency (the database) cannot be reached, from calls whose signature
// has no room for an error (lookups returning optional). The HTTP layer answers 503 + Retry-After:
// the request may be retried, nothing was decided.
struct UnavailableError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Error {
  Code code;
  std::string message;
  std::vector<uint32_t> seats;  // SeatUnavailable: the seats that are taken
  std::string detail;           // PaymentFailed: decline code; Forbidden: a more precise API code;
                                // TooManyRequests: seconds to wait (digits), "" = unknown
};

inline Error make_error(Code code, std::string message) { return Error{code, std::move(message), {}, {}}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like std::expected
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() {
    TICKETD_ASSERT(ok());
    return std::get<0>(v_);
  }
  const T& value() const {
    TICKETD_ASSERT(ok());
    return std::get<0>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  const Error& error() const {
    TICKETD_ASSERT(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace ticketd::core
