// The background jobs (see background.hpp): what each pass does and logs. Distributed, the releaser
// and the refunder run on one node at a time (a PostgreSQL advisory lock per pass).
#include "wiring/background.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <utility>

#include "store/postgres/event_refunds.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::wiring {

BackgroundJobs::BackgroundJobs(const ServeConfig& cfg, const SystemClock& clock, const StoreWiring& stores,
                               app::WaitingRoom& waiting_room, app::Payments& payments,
                               app::EventCancellations& cancellations, app::Notifications& notifications,
                               app::Waitlist& waitlist, std::function<bool()> writes_paused)
    : clock_(clock),
      stores_(stores),
      waiting_room_(waiting_room),
      payments_(payments),
      cancellations_(cancellations),
      notifications_(notifications),
      waitlist_(waitlist),
      writes_paused_(std::move(writes_paused)),
      event_refunds_per_s_(static_cast<uint32_t>(cfg.event_refunds_per_s)),
      sweeper_("sweeper", Millis(cfg.sweep_interval_ms), [this] { sweep(); }),
      releaser_("queue-releaser", Millis(cfg.queue_tick_ms), [this] { release(); }),
      reconciler_("reconciler", Millis(cfg.reconcile_interval_ms), [this] { reconcile(); }),
      refunder_("refunder", Millis(1000), [this] { refund_cancelled_events(); }),
      notifier_("notifier", Millis(cfg.notify_interval_ms),
                [this] { guarded("notifier", [&] { notifications_.deliver_due(); }); }),
      offerer_("waitlist-offers", Millis(cfg.waitlist_interval_ms), [this] { offer_returned_seats(); }),
      lease_renewer_("lease-renewer", Millis(1000), [this] { renew_leases(); }) {}

// Background work must survive a database outage: log, and try again next round.
void BackgroundJobs::guarded(const char* name, const std::function<void()>& work) {
  if (writes_paused_ && writes_paused_()) {
    if (!paused_logged_.exchange(true)) spdlog::warn("data disk nearly full: writes paused until space returns");
    return;
  }
  if (paused_logged_.exchange(false)) spdlog::warn("data disk has space again: writes resumed");
  try {
    work();
  } catch (const std::exception& e) {
    spdlog::warn("{} failed: {}", name, e.what());
  }
}

void BackgroundJobs::sweep() {
  // Deadlines follow the monotonic clock (SystemClock); say so once per step of the system clock.
  if (const Millis step = clock_.wall_step(); std::chrono::abs(step - wall_step_logged_) > Millis(1'000)) {
    spdlog::warn("system clock stepped: it is {} ms away from ticketd's clock; hold deadlines keep real time, "
                 "times written from now on are off by that much until restart", step.count());
    wall_step_logged_ = step;
  }
  guarded("sweeper", [&] {
    if (const size_t n = stores_.ledger->sweep_expired(clock_.now())) spdlog::debug("sweeper expired_seats={}", n);
  });
}

// Distributed: this node's event leases, every second; a lease outlasts ten renewals, so one that fails
// (PostgreSQL slow or briefly unreachable) loses nothing. Not skipped while the embedded disk is full:
// there are no leases there.
void BackgroundJobs::renew_leases() {
  if (!stores_.owner_journal) return;
  try {
    stores_.owner_journal->renew_leases();
  } catch (const std::exception& e) {
    spdlog::warn("lease renewal failed: {}", e.what());
  }
}

// One releaser at a time: embedded, this process; distributed, whichever node holds the
// releaser's advisory lock for the pass (a node that dies drops it with its connection).
void BackgroundJobs::release() {
  guarded("releaser", [&] {
    auto pass = [&] {
      if (const uint64_t n = waiting_room_.release()) spdlog::debug("releaser admitted={}", n);
    };
    if (stores_.pg) store::postgres::run_exclusively(*stores_.pg, store::postgres::kReleaserLockKey, pass);
    else pass();
  });
}

// Seats that came back go to the waiting lists; one node at a time (advisory lock), so two nodes never
// race to offer one entry two sets of seats.
void BackgroundJobs::offer_returned_seats() {
  guarded("waitlist offers", [&] {
    auto pass = [&] {
      const app::OfferPassReport r = waitlist_.offer_pass();
      if (r.offers || r.resolved) spdlog::debug("waitlist offers={} resolved={}", r.offers, r.resolved);
    };
    if (stores_.pg) store::postgres::run_exclusively(*stores_.pg, store::postgres::kWaitlistLockKey, pass);
    else pass();
  });
}

void BackgroundJobs::reconcile() {
  guarded("reconciler", [&] {
    const app::ReconcileReport r = payments_.reconcile();
    if (r.settled) spdlog::info("reconciler examined={} settled_payments={}", r.examined, r.settled);
    if (r.abandoned) spdlog::info("reconciler canceled_payments={}: authentication never completed", r.abandoned);
    if (r.failed)
      spdlog::warn("reconciler failed_bookings={}: stored payments the gateway refuses (amount, currency or "
                   "key); their holds lapse as usual", r.failed);
  });
}

// Refunds of cancelled events, paced at --event-refunds-per-s; one node at a time (advisory lock).
void BackgroundJobs::refund_cancelled_events() {
  guarded("event refunds", [&] {
    auto pass = [&] {
      const app::RefundPassReport r = cancellations_.refund_due(event_refunds_per_s_);
      if (r.refunded) spdlog::info("event refunds refunded_bookings={}", r.refunded);
      if (r.failed) spdlog::warn("event refunds failed_bookings={}: retried by a later pass", r.failed);
    };
    if (stores_.pg) store::postgres::run_exclusively(*stores_.pg, store::postgres::kEventRefundsLockKey, pass);
    else pass();
  });
}

}  // namespace ticketd::wiring
