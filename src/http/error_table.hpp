// The one table of error statuses and codes: a domain refusal (core::Code) or what only HTTP can
// refuse (HttpError) maps to its HTTP status and the code a client branches on, here and nowhere else.
// Header-only, so the transport (which writes its own refusals without the API's JSON library) and the
// API (http/errors.hpp) read the same table.
#pragma once

#include <cstdint>

#include "core/result.hpp"

namespace ticketd::http {

enum class HttpError : uint8_t {
  bad_request,             // 400: not HTTP, or a target that is not a path
  malformed_json,          // 400: the body does not parse as JSON
  body_too_large,          // 413
  uri_too_long,            // 414
  headers_too_large,       // 431
  unsupported_media_type,  // 415: a body that is not application/json
  method_not_allowed,      // 405 (the caller adds Allow)
  rate_limited,            // 429 (the caller adds Retry-After)
  too_many_streams,        // 429: live streams per address or account
  overloaded,              // 503: the transport's limits (the caller adds Retry-After)
  internal,                // 500: a handler threw; the details go to the log only
};

struct ErrorStatus {
  int status;
  const char* code;  // what a client branches on: stable, snake_case
};

constexpr ErrorStatus status_of(core::Code code) {
  switch (code) {
    case core::Code::InvalidRequest: return {400, "invalid_request"};
    case core::Code::InvalidSeat: return {400, "invalid_seat"};
    case core::Code::InvalidPaymentMethod: return {400, "invalid_payment_method"};
    case core::Code::MissingIdempotencyKey: return {400, "missing_idempotency_key"};
    case core::Code::Unauthenticated: return {401, "unauthenticated"};
    case core::Code::InvalidCredentials: return {401, "invalid_credentials"};
    case core::Code::PaymentFailed: return {402, "payment_failed"};
    case core::Code::Forbidden: return {403, "forbidden"};
    case core::Code::NotFound: return {404, "not_found"};
    case core::Code::SeatUnavailable: return {409, "seat_unavailable"};
    case core::Code::InsufficientSeats: return {409, "insufficient_seats"};
    case core::Code::TicketLimitExceeded: return {409, "ticket_limit_exceeded"};
    case core::Code::ActiveHoldsLimitExceeded: return {409, "active_holds_limit_exceeded"};
    case core::Code::SaleNotOpen: return {409, "sale_not_open"};
    case core::Code::EmailTaken: return {409, "email_taken"};
    case core::Code::HoldNotActive: return {409, "hold_not_active"};
    case core::Code::CheckoutInProgress: return {409, "checkout_in_progress"};
    case core::Code::IdempotencyKeyReused: return {409, "idempotency_key_reused"};
    case core::Code::EventStarted: return {409, "event_started"};
    case core::Code::BookingNotConfirmed: return {409, "booking_not_confirmed"};
    case core::Code::HoldExpired: return {410, "hold_expired"};
    case core::Code::TooManyRequests: return {429, "too_many_requests"};
    case core::Code::Unavailable: return {503, "unavailable"};
    case core::Code::WaitingRoomOff: return {409, "waiting_room_off"};
    case core::Code::QueueNotOpen: return {409, "queue_not_open"};
    case core::Code::QueueFull: return {503, "queue_full"};
    case core::Code::TicketNotTransferable: return {409, "ticket_not_transferable"};
    case core::Code::TransferNotPending: return {409, "transfer_not_pending"};
    case core::Code::BookingTransferred: return {409, "booking_transferred"};
    case core::Code::EventCancelled: return {409, "event_cancelled"};
    case core::Code::TotpRequired: return {401, "totp_required"};
    case core::Code::InvalidTotp: return {401, "invalid_totp"};
    case core::Code::AlreadyMember: return {409, "already_member"};
    case core::Code::LastMember: return {409, "last_member"};
    case core::Code::LimitReached: return {409, "limit_reached"};
    case core::Code::PriceLocked: return {409, "price_locked"};
    case core::Code::InvalidToken: return {400, "invalid_token"};
    case core::Code::NoPaymentAction: return {409, "no_payment_action"};
    case core::Code::WaitlistClosed: return {409, "waitlist_closed"};
    case core::Code::SeatsAvailable: return {409, "seats_available"};
    case core::Code::WaitlistFirst: return {409, "waitlist_first"};
    case core::Code::TicketNotListable: return {409, "ticket_not_listable"};
    case core::Code::ResaleInProgress: return {409, "resale_in_progress"};
  }
  return {400, "invalid_request"};
}

constexpr ErrorStatus status_of(HttpError error) {
  switch (error) {
    case HttpError::bad_request: return {400, "bad_request"};
    case HttpError::malformed_json: return {400, "malformed_json"};
    case HttpError::body_too_large: return {413, "body_too_large"};
    case HttpError::uri_too_long: return {414, "uri_too_long"};
    case HttpError::headers_too_large: return {431, "headers_too_large"};
    case HttpError::unsupported_media_type: return {415, "unsupported_media_type"};
    case HttpError::method_not_allowed: return {405, "method_not_allowed"};
    case HttpError::rate_limited: return {429, "rate_limited"};
    case HttpError::too_many_streams: return {429, "too_many_streams"};
    case HttpError::overloaded: return {503, "overloaded"};
    case HttpError::internal: return {500, "internal"};
  }
  return {500, "internal"};
}

}  // namespace ticketd::http
