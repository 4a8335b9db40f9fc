// The background jobs of a serving node, each a Periodic on its own thread: the hold sweeper, the
// waiting-room releaser, the payment reconciler, the refunder of cancelled events, the notifier, the
// waiting lists' offerer, and
// (owner mode) the renewal of this node's event leases.
// They run from construction until destruction; serve() destroys them after the server has drained
// and before it is reset. Every pass is guarded: an exception (the database is down) is logged and
// the job tries again next round, and while the embedded data disk is nearly full no pass runs.
#pragma once

#include <atomic>
#include <functional>

#include "app/event_cancellations.hpp"
#include "app/notifications.hpp"
#include "app/payments.hpp"
#include "app/waiting_room.hpp"
#include "app/waitlist.hpp"
#include "base/clock.hpp"
#include "wiring/periodic.hpp"
#include "wiring/serve_config.hpp"
#include "wiring/stores.hpp"

namespace ticketd::wiring {

class BackgroundJobs {
 public:
  // Everything passed must outlive this object. `writes_paused`: null, or true while the store cannot
  // take writes (then every job skips its pass, and the pause and its end are logged once each).
  BackgroundJobs(const ServeConfig& cfg, const SystemClock& clock, const StoreWiring& stores,
                 app::WaitingRoom& waiting_room, app::Payments& payments, app::EventCancellations& cancellations,
                 app::Notifications& notifications, app::Waitlist& waitlist, std::function<bool()> writes_paused);
  BackgroundJobs(const BackgroundJobs&) = delete;
  BackgroundJobs& operator=(const BackgroundJobs&) = delete;
  // Stops the jobs in reverse order (notifier first, sweeper last), each after its pass in progress.
  ~BackgroundJobs() = default;

 private:
  void guarded(const char* name, const std::function<void()>& work);
  void sweep();
  void release();
  void reconcile();
  void refund_cancelled_events();
  void renew_leases();
  void offer_returned_seats();

  const SystemClock& clock_;
  const StoreWiring& stores_;
  app::WaitingRoom& waiting_room_;
  app::Payments& payments_;
  app::EventCancellations& cancellations_;
  app::Notifications& notifications_;
  app::Waitlist& waitlist_;
  const std::function<bool()> writes_paused_;
  const uint32_t event_refunds_per_s_;
  std::atomic<bool> paused_logged_{false};
  Millis wall_step_logged_{0};  // the sweeper's alone
  // Declared last: started after everything they read is initialised, stopped (destroyed) first.
  Periodic sweeper_;
  Periodic releaser_;
  Periodic reconciler_;
  Periodic refunder_;
  Periodic notifier_;
  Periodic offerer_;
  // Its own thread: a slow sweep (thousands of lapsed holds to mark) must never let a lease lapse.
  Periodic lease_renewer_;
};

}  // namespace ticketd::wiring
