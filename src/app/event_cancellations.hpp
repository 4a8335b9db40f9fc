// Cancelling an event (docs/console.md, "Event cancellation"): sales stop at once, and every booking is
// refunded through the payment gateway and cancelled (its tickets revoked, its buyer notified through
// the outbox, in the ledger's one commit per booking).
//
// The refunding is a durable job whose only state is the bookings: a CONFIRMED booking of a cancelled
// event is still to refund. A pass takes the next `budget` of them (round robin by booking id), refunds
// each with the same gateway idempotency key a buyer's own cancellation uses ("ticketd-cancel-<id>"), so
// a refund repeated after a crash, a timeout, or a buyer cancelling at the same moment is one refund at
// the gateway, then cancels it in the ledger. Passes are paced by the caller (budget per second, below
// the gateway's rate limit); a gateway outage leaves the rest for the next pass.
//
// Thread safety: cancel() and progress() may be called concurrently with a pass; refund_due() one at a
// time (a mutex serialises it in this process; distributed, a PostgreSQL advisory lock across nodes).
#pragma once

#include <mutex>
#include <string>

#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "core/ports/event_refunds.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/payment_gateway.hpp"

namespace ticketd::app {

inline constexpr size_t kCancelReasonBytesMax = 500;

struct CancellationView {
  core::Event event;
  core::RefundProgress progress;
};

struct RefundPassReport {
  size_t holds_released = 0;  // live holds of cancelled events let go (their seats back at once)
  size_t refunded = 0;
  size_t failed = 0;  // the gateway refused or was unreachable: retried by a later pass
};

class EventCancellations {
 public:
  EventCancellations(Catalog& catalog, core::EventRefunds& refunds, core::Ledger& ledger,
                     core::PaymentGateway& gateway, const Clock& clock, Metrics& metrics);

  // Idempotent: a second call changes nothing (the first time and reason stay). NotFound: no event.
  // InvalidRequest: reason over 500 bytes.
  core::Result<CancellationView> cancel(core::EventId event, const std::string& reason);
  core::Result<CancellationView> progress(core::EventId event);
  // One pass of at most `budget` refunds.
  RefundPassReport refund_due(uint32_t budget);
  // Releases live holds of cancelled events (bounded per call); the number released.
  size_t release_holds();
  static constexpr uint32_t kHoldsReleasedPerPassMax = 1000;

 private:
  Catalog& catalog_;
  core::EventRefunds& refunds_;
  core::Ledger& ledger_;
  core::PaymentGateway& gateway_;
  const Clock& clock_;
  Metrics& metrics_;
  std::mutex pass_mu_;
  core::BookingId cursor_ = 0;  // guarded by pass_mu_
};

}  // namespace ticketd::app
