// Port: face-value resale listings as stored (docs/resale.md). The seat ledger decides and records
// listings (Ledger::change_listing) and sales from them (in the settlement that sells); this port reads
// them, and pays the sellers: a resale's refund is recorded pending with the sale, and its gateway
// reference here once the gateway has paid it.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/resale.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct ResaleListing {
  int64_t id = 0;
  EventId event_id = 0;
  SeatId seat = 0;
  BookingId booking_id = 0;  // the seller's
  UserId seller_id = 0;
  int64_t amount = 0;  // what the seller gets back when it sells (the seat's face value)
  ListingState state = ListingState::Listed;
  TimeMs listed_at{};
  TimeMs ended_at{};              // sold or withdrawn
  BookingId buyer_booking_id = 0;  // sold
  int64_t refund_id = 0;          // sold: the seller's refund (booking_refunds)
  std::string refund_ref;         // sold: the gateway's refund, empty while pending
  std::string ticket_id;          // the seller's ticket for the seat (revoked once sold)
};

struct ResaleStats {
  uint64_t listed = 0;  // on offer now
  uint64_t sold = 0;
  uint64_t withdrawn = 0;
  int64_t sold_amount = 0;      // face value of the seats sold (what their sellers get back)
  uint64_t refunds_pending = 0;  // sold, the seller's refund not yet paid by the gateway
};

// A seller's refund for seats resold, not yet paid.
struct ResaleRefundDue {
  int64_t refund_id = 0;
  BookingId booking_id = 0;  // the seller's
  std::string payment_ref;   // the seller's original charge
  int64_t amount = 0;
};

class ResaleStore {
 public:
  virtual ~ResaleStore() = default;
  // The seat's listing on offer now (Listed), if any.
  virtual std::optional<ResaleListing> listed(EventId event, SeatId seat) = 0;
  // The listing on offer now of a valid ticket's seat by the ticket's booking, if any (one read: the
  // door asks it of every ticket it lets in).
  virtual std::optional<ResaleListing> listed_ticket(const std::string& ticket_id) = 0;
  // The seller's listings, newest first, at most `limit` (every state).
  virtual std::vector<ResaleListing> listings_of(UserId seller, uint32_t limit) = 0;
  virtual ResaleStats stats(EventId event) = 0;
  // Sellers' refunds recorded and not yet paid, oldest first.
  virtual std::vector<ResaleRefundDue> refunds_due(uint32_t limit) = 0;
  // The gateway paid the refund: its reference (once; a second record keeps the first).
  virtual Status record_refund(int64_t refund_id, const std::string& refund_ref) = 0;
};

}  // namespace ticketd::core
