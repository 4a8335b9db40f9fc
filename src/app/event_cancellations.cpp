#include "app/event_cancellations.hpp"

#include "app/sales.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

EventCancellations::EventCancellations(Catalog& catalog, core::EventRefunds& refunds, core::Ledger& ledger,
                                       core::PaymentGateway& gateway, const Clock& clock, Metrics& metrics)
    : catalog_(catalog), refunds_(refunds), ledger_(ledger), gateway_(gateway), clock_(clock), metrics_(metrics) {}

core::Result<CancellationView> EventCancellations::cancel(core::EventId event, const std::string& reason) {
  if (reason.size() > kCancelReasonBytesMax) return make_error(Code::InvalidRequest, "reason: at most 500 bytes");
  auto cancelled = catalog_.cancel_event(event, reason);
  if (!cancelled) return cancelled.error();
  metrics_.count("event_cancellations", "ok");
  release_holds();  // at once, on this node; the job's passes catch the rest (and other nodes')
  return CancellationView{*cancelled, refunds_.progress(event)};
}

core::Result<CancellationView> EventCancellations::progress(core::EventId event) {
  auto e = catalog_.event(event);
  if (!e) return e.error();
  return CancellationView{*e, refunds_.progress(event)};
}

size_t EventCancellations::release_holds() {
  size_t released = 0;
  const TimeMs now = clock_.now();
  for (const auto& [hold, user] : refunds_.holds_to_release(now, kHoldsReleasedPerPassMax)) {
    // Pinned meanwhile (a checkout: it is refused and releases it), lapsed or released: nothing to do.
    if (ledger_.release_hold(hold, user, now)) {
      ++released;
      metrics_.count("event_cancellation_holds", "released");
    }
  }
  return released;
}

RefundPassReport EventCancellations::refund_due(uint32_t budget) {
  std::lock_guard lock(pass_mu_);
  RefundPassReport report;
  report.holds_released = release_holds();
  std::vector<core::BookingId> ids = refunds_.to_refund(cursor_, budget);
  if (ids.empty() && cursor_ > 0) {  // the end: start over (bookings that failed before)
    cursor_ = 0;
    ids = refunds_.to_refund(cursor_, budget);
  }
  for (core::BookingId id : ids) {
    cursor_ = id;
    auto booking = ledger_.booking_by_id(id);
    if (!booking || booking->status != core::BookingStatus::Confirmed) continue;  // cancelled meanwhile
    auto refund = return_payment(gateway_, booking->payment_ref,
                                 booking->total_amount - ledger_.seat_refunds_total(booking->id),
                                 "ticketd-cancel-" + std::to_string(id));
    if (!refund) {
      ++report.failed;
      metrics_.count("event_refunds", refund.error().code == Code::Unavailable ? "gateway_unavailable" : "refused");
      continue;
    }
    auto done = ledger_.cancel_booking(*booking, *refund, clock_.now());
    if (!done) {
      ++report.failed;
      metrics_.count("event_refunds", "ledger_failed");
      continue;
    }
    ++report.refunded;
    metrics_.count("event_refunds", "ok");
  }
  return report;
}

}  // namespace ticketd::app
