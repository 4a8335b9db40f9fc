// Use cases of face-value resale (docs/resale.md): a ticket's buyer lists it (at its face value, which
// is what they get back), or withdraws it until it sells; the organizer sees the figures; and the
// sellers of seats sold are paid back through the gateway.
//
// A listed seat is on offer like a returned one: the waiting list's offer pass offers it first, open
// sale takes it when nobody waits, and a buyer pays it by the normal checkout. The seat ledger sells it
// in the settlement's commit (the buyer's booking and new ticket, the seller's ticket revoked, the
// seller's refund recorded due); pay_sellers() then refunds the seller's original charge for those
// seats, under a key per refund, so a crash or a gateway outage is retried without paying twice.
// Thread safety: every method may be called concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "app/catalog.hpp"
#include "base/clock.hpp"
#include "base/metrics.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/payment_gateway.hpp"
#include "core/ports/resale.hpp"
#include "core/ports/transfers.hpp"

namespace ticketd::app {

// What a settlement that sold listed seats calls: the sellers are owed refunds (app/sales, payments).
class SellerPayouts {
 public:
  virtual ~SellerPayouts() = default;
  virtual void pay_due() = 0;
};

inline constexpr uint32_t kListingsListedMax = 200;

struct ListingView {
  core::ResaleListing listing;
  std::string ticket_id;  // the seller's ticket (revoked once sold)
  std::string currency;
};

struct PayoutReport {
  uint32_t paid = 0;
  uint32_t failed = 0;  // the gateway did not answer: a later pass retries
};

class Resale final : public SellerPayouts {
 public:
  static constexpr uint32_t kPayoutBatchMax = 100;
  Resale(core::ResaleStore& store, core::Ledger& ledger, Catalog& catalog, core::PaymentGateway& gateway,
         core::TransferStore* transfers, const Clock& clock, Metrics& metrics);

  // NotFound: not the user's ticket. TicketNotListable, EventCancelled, EventStarted: see core/resale.
  // Listing a listed ticket answers its listing.
  core::Result<ListingView> list(core::UserId user, std::string_view ticket_id);
  // NotFound: not the user's ticket, or not listed. ResaleInProgress: a buyer holds the seat now.
  core::Result<ListingView> withdraw(core::UserId user, std::string_view ticket_id);
  // The ticket's listing on offer now, if any (NotFound when it is not the user's ticket).
  core::Result<std::optional<core::ResaleListing>> listing_of(core::UserId user, std::string_view ticket_id);
  std::vector<core::ResaleListing> listings_of(core::UserId user);
  core::ResaleStats stats(core::EventId event) { return store_.stats(event); }
  // A ticket let in at the door: its listing, if any, is withdrawn. ResaleInProgress while a buyer holds
  // the seat; ok when it was not listed.
  core::Status end_at_door(const std::string& ticket_id);

  // Refunds the sellers of seats sold, up to kPayoutBatchMax per call.
  PayoutReport pay_sellers();
  void pay_due() override { (void)pay_sellers(); }

 private:
  struct Owned {
    core::Ticket ticket;
    core::Booking booking;
    core::Event event;
  };
  core::Result<Owned> owned(core::UserId user, std::string_view ticket_id);

  core::ResaleStore& store_;
  core::Ledger& ledger_;
  Catalog& catalog_;
  core::PaymentGateway& gateway_;
  core::TransferStore* transfers_;  // may be null: no booking has transfers
  const Clock& clock_;
  Metrics& metrics_;
};

}  // namespace ticketd::app
