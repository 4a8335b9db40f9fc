#include "app/resale.hpp"

#include "app/sales.hpp"
#include "core/seat_refund.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Resale::Resale(core::ResaleStore& store, core::Ledger& ledger, Catalog& catalog, core::PaymentGateway& gateway,
               core::TransferStore* transfers, const Clock& clock, Metrics& metrics)
    : store_(store), ledger_(ledger), catalog_(catalog), gateway_(gateway), transfers_(transfers), clock_(clock),
      metrics_(metrics) {}

core::Result<Resale::Owned> Resale::owned(core::UserId user, std::string_view ticket_id) {
  auto ticket = ledger_.find_ticket(std::string(ticket_id));
  if (!ticket || ticket->owner_id != user) return make_error(Code::NotFound, "no such ticket");
  auto booking = ledger_.booking_by_id(ticket->booking_id);
  if (!booking) return make_error(Code::NotFound, "no such ticket");
  auto event = catalog_.event(ticket->event_id);
  if (!event) return event.error();
  return Owned{std::move(*ticket), std::move(*booking), std::move(*event)};
}

core::Result<ListingView> Resale::list(core::UserId user, std::string_view ticket_id) {
  auto o = owned(user, ticket_id);
  if (!o) return o.error();
  if (auto listed = store_.listed(o->event.id, o->ticket.seat); listed && listed->booking_id == o->booking.id)
    return ListingView{*listed, o->ticket.id, o->event.currency};
  const bool transferred = transfers_ && transfers_->booking_has_transfers(o->booking.id);
  if (auto ok = core::may_list(o->ticket, o->booking, o->event, user, transferred, clock_.now()); !ok) return ok.error();
  auto venue = catalog_.venue(o->event.venue_id);
  if (!venue) return venue.error();
  // Face value: what this seat's refund would give back now (its tier's price, never more than the
  // booking has left), which is also what the next buyer pays for it.
  auto price = core::plan_seat_refund(o->booking, {o->ticket.seat}, o->event, (*venue)->layout,
                                      ledger_.seat_refunds_total(o->booking.id));
  if (!price) return make_error(Code::TicketNotListable, price.error().message);
  if (auto st = ledger_.change_listing(o->booking, {o->ticket.seat, true, price->amount}, clock_.now()); !st) {
    metrics_.count("resale_listings", "refused");
    return st.error();
  }
  metrics_.count("resale_listings", "listed");
  auto listed = store_.listed(o->event.id, o->ticket.seat);
  if (!listed) return make_error(Code::Unavailable, "the listing could not be read back");
  return ListingView{*listed, o->ticket.id, o->event.currency};
}

core::Result<ListingView> Resale::withdraw(core::UserId user, std::string_view ticket_id) {
  auto o = owned(user, ticket_id);
  if (!o) return o.error();
  auto listed = store_.listed(o->event.id, o->ticket.seat);
  if (!listed || listed->booking_id != o->booking.id)
    return make_error(Code::NotFound, "this ticket is not listed for resale");
  if (auto st = ledger_.change_listing(o->booking, {o->ticket.seat, false, 0}, clock_.now()); !st) {
    if (st.error().code == Code::InvalidSeat) return make_error(Code::NotFound, "this ticket is not listed for resale");
    return st.error();
  }
  metrics_.count("resale_listings", "withdrawn");
  listed->state = core::ListingState::Withdrawn;
  listed->ended_at = clock_.now();
  return ListingView{*listed, o->ticket.id, o->event.currency};
}

core::Status Resale::end_at_door(const std::string& ticket_id) {
  auto listed = store_.listed_ticket(ticket_id);
  if (!listed) return core::ok_status();
  auto booking = ledger_.booking_by_id(listed->booking_id);
  if (!booking) return core::ok_status();
  auto st = ledger_.change_listing(*booking, {listed->seat, false, 0}, clock_.now());
  if (!st && st.error().code == Code::ResaleInProgress) return st.error();
  metrics_.count("resale_listings", "ended_at_door");
  return core::ok_status();
}

core::Result<std::optional<core::ResaleListing>> Resale::listing_of(core::UserId user, std::string_view ticket_id) {
  auto ticket = ledger_.find_ticket(std::string(ticket_id));
  if (!ticket || ticket->owner_id != user) return make_error(Code::NotFound, "no such ticket");
  auto listed = store_.listed(ticket->event_id, ticket->seat);
  if (listed && listed->booking_id != ticket->booking_id) listed.reset();
  return listed;
}

std::vector<core::ResaleListing> Resale::listings_of(core::UserId user) {
  return store_.listings_of(user, kListingsListedMax);
}

PayoutReport Resale::pay_sellers() {
  PayoutReport report;
  for (const core::ResaleRefundDue& due : store_.refunds_due(kPayoutBatchMax)) {
    // One key per refund: a retry after a crash or a timeout is the same refund at the gateway.
    auto refund = return_payment(gateway_, due.payment_ref, due.amount, "ticketd-resale-" + std::to_string(due.refund_id));
    if (!refund) {
      ++report.failed;
      metrics_.count("resale_payouts", "failed");  // the next reconciler pass tries again
      continue;
    }
    if (auto st = store_.record_refund(due.refund_id, *refund); !st) {
      ++report.failed;
      continue;
    }
    ++report.paid;
    metrics_.count("resale_payouts", "paid");
  }
  return report;
}

}  // namespace ticketd::app
