// The rows of the seat ledger in PostgreSQL, read (and the few writes that decide nothing: a refund's
// reference, a gateway event noted), for the journal of the seat engine (PgSeatJournal).
//
// Thread safety: every method may be called from any thread (each takes a pooled connection).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ports/ledger.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

// A hold as stored: its state as written, and when its seats lapse (expires_at, or later while pinned).
struct StoredHold {
  core::Hold hold;
  std::string state;
  int64_t deadline_ms = 0;
};

class LedgerRows {
 public:
  explicit LedgerRows(Pool& pool) : pool_(pool) {}

  std::optional<StoredHold> hold(core::HoldId id);
  std::optional<core::Booking> booking(core::BookingId id);
  std::optional<core::CheckoutRecord> checkout(core::UserId user, const std::string& idempotency_key);
  // checkout() of each key, in order, in one statement.
  std::vector<std::optional<core::CheckoutRecord>> checkouts(const std::vector<core::CheckoutKey>& keys);
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& payment_ref);
  // Newest first; before_id = 0 for the first page.
  std::vector<core::BookingId> bookings_of(core::UserId user, uint32_t limit, core::BookingId before_id,
                                           bool include_failed);
  // Leases each row it returns to this node for 5 s (see the .cpp), so nodes do not all ask the gateway.
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                          uint32_t limit);
  core::Status record_refund(core::BookingId booking, const std::string& refund_ref);
  bool payment_event_seen(const std::string& event_id);
  core::Status record_payment_event(const std::string& event_id, const std::string& type, TimeMs now);
  std::optional<core::SeatRefundRecord> seat_refund(int64_t id);
  int64_t seat_refunds_total(core::BookingId booking);
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking);
  std::optional<core::Ticket> ticket(const std::string& ticket_id);

 private:
  Pool& pool_;
};

// Seat ids from a PostgreSQL integer array.
std::vector<core::SeatId> seats_of(const std::vector<int64_t>& v);

}  // namespace ticketd::store::postgres
