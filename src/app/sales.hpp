// Use cases: hold seats, release, check out (idempotently, through the payment gateway), list and
// cancel bookings. Knows nothing of which store or gateway is behind the ports.
//
// Checkout idempotency: one key of one user names one checkout. Concurrent requests with the same
// key wait for the first one's outcome (in-process), and the durable record answers retries after
// it (and after a restart); the ledger's pin stops two different keys from charging one hold.
//
// Checkouts without a worker (try_checkout_async): where the ledger decides in memory and the hold is
// free or the gateway answers in process, a checkout whose key prepare_checkout read as unused runs as
// a chain of completions: its begin is durable (the commit thread), the charge is made there, its
// settlement is durable (the commit thread again), and the buyer is answered; no thread is parked on
// the way. A paid checkout through a gateway that calls out (Stripe) runs on a worker, as before.
//
// Thread safety: all methods are safe to call concurrently; inflight_mu_ guards inflight_.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>

#include "app/catalog.hpp"
#include "app/resale.hpp"
#include "app/waiting_room.hpp"
#include "app/waitlist.hpp"
#include "base/batch_reader.hpp"
#include "base/metrics.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/payment_gateway.hpp"
#include "core/ports/transfers.hpp"

namespace ticketd::app {

struct HoldInput {
  core::EventId event_id = 0;
  std::vector<core::SeatId> seats;
  std::optional<uint32_t> quantity;
  std::optional<std::string> section;  // section name, with quantity
  std::string access_token;            // X-Access-Token: required when the event's waiting room is on
};

struct HoldView {
  core::Hold hold;
  int64_t total_amount = 0;
  std::string currency;
};

// The answer to a checkout: a booking (CONFIRMED, or PENDING_PAYMENT while the buyer authenticates),
// a decline (PaymentFailed), or another error.
using CheckoutResult = core::Result<core::Booking>;

// Applies a gateway's answer to a pending booking and refunds a payment that came too late for its
// seats. Shared by checkout, webhooks and reconciliation.
// `payouts` (may be null) is told when the settlement sold seats from resale listings.
core::Result<core::Booking> apply_charge(core::Ledger& ledger, core::PaymentGateway& gateway,
                                         const core::CheckoutRecord& record,
                                         const core::Result<core::ChargeResult>& charged, const std::string& event_id,
                                         TimeMs now, Metrics& metrics, SellerPayouts* payouts = nullptr);

// apply_charge's two halves, for a caller that settles without blocking between them (Sales::
// try_checkout_async). The outcome to settle for a gateway's answer, or Unavailable when it is unknown
// (nothing is settled: a retry or the reconciler finds out); then the checkout's answer once settled.
core::Result<core::PaymentOutcome> outcome_of_charge(const core::Result<core::ChargeResult>& charged,
                                                     const std::string& event_id, Metrics& metrics);
core::Result<core::Booking> answer_of_settlement(const core::Settlement& settled,
                                                 const core::Result<core::ChargeResult>& charged, Metrics& metrics);

// Moving the money of a booking. A total of 0 (free tickets) moves none: the charge succeeds at once
// without a gateway call (no payment reference) and so does its refund, so a free booking confirms in
// the same one commit as a paid one and never reaches the gateway, whose requests carry a positive
// amount. Every charge and refund of ticketd goes through these two.
core::Result<core::ChargeResult> collect_payment(core::PaymentGateway& gateway, const core::ChargeRequest& request);
core::Result<std::string> return_payment(core::PaymentGateway& gateway, const std::string& payment_ref,
                                         int64_t amount, const std::string& idempotency_key);

class Sales {
 public:
  static constexpr size_t kCheckoutsInflightMax = 10'000;  // beyond: 503, never an unbounded map

  // room: gates the holds of events whose waiting room is on (null: no waiting rooms at all).
  // active_holds_max: live holds one user may have at once across all events (--holds-per-user-max),
  // 1..limits::active_holds_per_user_max; enforced by the ledger (core::HoldRequest::active_holds_max).
  Sales(core::Ledger& ledger, Catalog& catalog, core::PaymentGateway& gateway, const Clock& clock,
        Millis hold_ttl, Metrics& metrics, WaitingRoom* room = nullptr, Millis expiry_notice_lead = Millis(0),
        uint32_t active_holds_max = core::limits::active_holds_per_user_default,
        core::TransferStore* transfers = nullptr);

  // Open-sale holds of an event whose waiting list has people waiting are refused (WaitlistFirst):
  // returned seats are theirs (app/waitlist.hpp). Null: no waiting lists. Set once, before serving.
  void set_waitlist(Waitlist* waitlist) { waitlist_ = waitlist; }
  // Told after a checkout that sold seats from resale listings (app/resale pays their sellers).
  void set_payouts(SellerPayouts* payouts) { payouts_ = payouts; }

  core::Result<HoldView> hold(core::UserId user, const HoldInput& input);
  // The same hold without blocking the caller (for the HTTP layer's I/O thread): `done` gets the
  // answer once, on this thread or on the store's commit thread once the hold is durable; it must be
  // quick. False, with nothing done: something the hold needs is not in memory (the event or venue
  // copy, the event's seats), the event has a waiting room, or the store cannot; call hold() instead.
  using HoldViewDone = std::function<void(core::Result<HoldView>)>;
  bool try_hold_async(core::UserId user, const HoldInput& input, HoldViewDone done);
  // False when try_hold_async never takes a hold (the store decides holds only where it may block):
  // callers then go straight to hold() instead of preparing an input twice.
  bool holds_without_blocking() const { return ledger_.holds_without_blocking(); }
  core::Result<HoldView> get_hold(core::UserId user, core::HoldId id);
  core::Status release(core::UserId user, core::HoldId id);
  // The same release without blocking the caller, for a live hold of the user's whose event is in
  // memory: `done` hears the outcome once the release is durable, on the store's commit thread. False,
  // with nothing done, for anything else: call release() instead.
  using StatusDone = std::function<void(core::Status)>;
  bool try_release_async(core::UserId user, core::HoldId id, StatusDone done);
  // payment_method may be empty when the hold's total is 0 (free tickets); a paid checkout needs one.
  CheckoutResult checkout(core::UserId user, core::HoldId id, const std::string& idempotency_key,
                          const std::string& payment_method);
  // Reads whether `idempotency_key` names a checkout of the user's already, without blocking the caller:
  // `ready(true)` once it is known not to (try_checkout_async may then take the checkout of hold `id`),
  // false when it does (checkout() continues that one) or the store could not say. False, with nothing
  // started: the checkout could not run without a worker anyway (see try_checkout_async), or the key
  // cannot be read this way now; checkout() then runs on a worker.
  bool prepare_checkout(core::UserId user, core::HoldId id, const std::string& idempotency_key,
                        std::function<void(bool)> ready);
  // checkout() without blocking the caller, for a key prepare_checkout found unused: `done` gets the
  // answer once, on this thread or on the store's commit thread. False, with nothing done: the hold costs
  // money and the gateway calls out, something it needs is not in memory here (the hold, the event's
  // seats or copy, the venue), the event is owned by
  // another node, seats from resale listings are in the hold (their sellers are paid after the sale, which
  // blocks), or the same key is being checked out now; call checkout() instead. A payment that came after
  // its hold lapsed is refunded by the reconciler's next pass rather than on this thread (it would block).
  using CheckoutDone = std::function<void(CheckoutResult)>;
  bool try_checkout_async(core::UserId user, core::HoldId id, const std::string& idempotency_key,
                          const std::string& payment_method, CheckoutDone done);
  core::Result<core::Booking> booking(core::UserId user, core::BookingId id);
  // Where the buyer confirms a payment the bank wants to check (3-D Secure): the gateway's page, asked
  // of the gateway now (it is not stored: it lives as long as the payment waits). NotFound (not the
  // user's booking); NoPaymentAction unless the booking waits for its payment and the gateway names a
  // page; Unavailable.
  core::Result<std::string> payment_action(core::UserId user, core::BookingId id);
  std::vector<core::Booking> bookings(core::UserId user, uint32_t limit, core::BookingId before, bool include_failed);
  core::Result<core::Booking> cancel(core::UserId user, core::BookingId id);
  // The organizer's refund of a whole booking, whoever bought it and whenever (no event-start or
  // transfer rule: the organizer decides). The same gateway idempotency key as the buyer's cancel, so
  // the two racing make one refund. NotFound; BookingNotConfirmed unless CONFIRMED (CANCELLED: as is).
  core::Result<core::Booking> refund(core::BookingId id);
  // The organizer's refund of some seats of a booking (core/seat_refund decides the amount); all of
  // them is refund(id). The gateway's idempotency key names the booking and the seats, so a retry
  // after a lost answer or a crash refunds once.
  core::Result<core::Booking> refund_seats(core::BookingId id, const std::vector<core::SeatId>& seats);
  // Any account's booking, for the organizer's console (access is decided by the caller). NotFound.
  core::Result<core::Booking> any_booking(core::BookingId id);
  // What a refund of the whole booking gives back now: the charge less earlier seat refunds.
  int64_t unrefunded(const core::Booking& booking);

 private:
  // The ledger's request for this input: the checks that need the event and its layout, no store.
  core::Result<core::HoldRequest> hold_request(core::UserId user, const HoldInput& input, const core::Event& event,
                                               const core::Layout& layout) const;
  using InflightKey = std::pair<core::UserId, std::string>;
  struct Inflight {
    core::HoldId hold_id;
    std::string payment_method;  // a request with this key and another body is refused, not joined
    std::shared_future<CheckoutResult> outcome;
  };
  CheckoutResult run_checkout(core::UserId user, core::HoldId id, const std::string& key, const std::string& pm);
  // Continues a checkout found by its key: answers what is settled, charges again (same gateway key)
  // what never got an answer.
  CheckoutResult resume(const core::CheckoutRecord& record);
  CheckoutResult charge(const core::CheckoutRecord& record);
  // The hold priced from memory alone, when its checkout may run without a worker (see try_checkout_async).
  std::optional<HoldView> priced_in_memory(core::UserId user, core::HoldId id);
  // A checkout on its way without a worker, from one completion to the next.
  struct AsyncCheckout {
    InflightKey key;
    std::promise<CheckoutResult> outcome;  // for requests with the same key meanwhile (inflight_)
    CheckoutDone done;
  };
  void checkout_begun(const std::shared_ptr<AsyncCheckout>& checkout, core::Result<core::CheckoutRecord> record);
  // Tells the requests waiting on the same key, and lets the key go. finish() also answers the buyer.
  void release_inflight(AsyncCheckout& checkout, const CheckoutResult& result);
  void finish(AsyncCheckout& checkout, CheckoutResult result);
  core::Result<HoldView> view(const core::Hold& hold);

  core::Ledger& ledger_;
  Catalog& catalog_;
  core::PaymentGateway& gateway_;
  const Clock& clock_;
  Millis hold_ttl_;
  Millis expiry_notice_lead_;  // 0: no hold_expiring notices
  uint32_t active_holds_max_;
  Metrics& metrics_;
  WaitingRoom* room_;
  core::TransferStore* transfers_;  // null: no transfers, nothing to guard on cancel
  Waitlist* waitlist_ = nullptr;
  SellerPayouts* payouts_ = nullptr;
  std::mutex inflight_mu_;
  std::map<InflightKey, Inflight> inflight_;
  // Idempotency keys read in batches for prepare_checkout; null when checkouts cannot run without a
  // worker here. Last: destroyed first (its answers use the members above).
  static constexpr size_t kKeyReadsQueuedMax = 4'096;
  static constexpr size_t kKeyReadsBatchMax = 64;
  std::unique_ptr<BatchReader<core::CheckoutKey, core::CheckoutRecord>> key_reader_;
};

}  // namespace ticketd::app
