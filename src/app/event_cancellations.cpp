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
  return CancellationView{*cancelled, refunds_.progress(event)};
}

core::Result<CancellationView> EventCancellations::progress(core::EventId event) {
  auto e = catalog_.event(event);
  if (!e) return e.error();
  return CancellationView{*e, refunds_.progress(event)};
}

RefundPassReport EventCancellations::refund_due(uint32_t budget) {
  std::lock_guard lock(pass_mu_);
  RefundPassReport report;
  std::vector<core::BookingId> ids = refunds_.to_refund(cursor_, budget);
  if (ids.empty() && cursor_ > 0) {  // the end: start over (bookings that failed before)
    cursor_ = 0;
    ids = refunds_.to_refund(cursor_, budget);
  }
  for (core::BookingId id : ids) {
    cursor_ = id;
    auto booking = ledger_.booking_by_id(id);
    if (!booking || booking->status != core::BookingStatus::Confirmed) continue;  // cancelled meanwhile
    auto refund = return_payment(gateway_, booking->payment_ref, booking->total_amount,
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
