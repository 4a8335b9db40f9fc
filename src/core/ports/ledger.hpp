// Port: the seat ledger — holds, sales and bookings of every event. This is where "never sell a
// seat twice" is enforced: each implementation makes holds atomic per event and durable before it
// returns (embedded: per-event in-memory state machine + SQLite group commit; distributed: Redis
// atomic holds + PostgreSQL constraints).
//
// Notifications: a call that confirms, fails or cancels a booking (settle_payment, cancel_booking), and
// a hold with expiry_notice_lead > 0, writes its outbox rows (core/ports/outbox.hpp) in the same
// transaction as the change: both are durable or neither.
//
// Thread safety: implementations are safe to call from any thread; calls for different events
// must not serialise on each other.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/best_available.hpp"
#include "core/limits.hpp"
#include "core/ports/payment_gateway.hpp"
#include "core/result.hpp"
#include "core/seat_refund.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct HoldRequest {
  UserId user_id = 0;
  std::vector<SeatId> seats;                // explicit seats, or
  std::optional<BestAvailableRequest> best; // best available
  Millis ttl{600'000};
  // > 0: the outbox also gets a hold_expiring notice (for users who opted in), due this long before
  // the hold lapses, written in the hold's own transaction.
  Millis expiry_notice_lead{0};
  // At most this many live holds (ACTIVE, or PINNED by a checkout, deadline not passed) of this user
  // across all events, this one included: one more is refused with ActiveHoldsLimitExceeded. Counted
  // and written atomically with the hold (one user's holds are decided one at a time, on every node),
  // and checked after the request itself (core::check_hold_request: sale window, seat list) and before
  // the seats are. REQUIRES: 1..limits::active_holds_per_user_max.
  uint32_t active_holds_max = limits::active_holds_per_user_default;
  // A waiting-list offer (app/waitlist): it may take seats listed for resale that are kept off open sale.
  bool offer = false;
};

// What a checkout's (user, Idempotency-Key) names, as stored: its booking and its payment.
struct CheckoutRecord {
  HoldId hold_id = 0;
  BookingId booking_id = 0;
  EventId event_id = 0;
  UserId user_id = 0;
  BookingStatus status = BookingStatus::PendingPayment;
  PaymentId payment_id = 0;
  std::string payment_status;  // PENDING | REQUIRES_ACTION | SUCCEEDED | DECLINED | REFUNDED
  std::string payment_ref;     // empty until the gateway answered
  std::string gateway_key;     // the idempotency key every gateway call for this payment uses
  std::string payment_method;
  int64_t amount = 0;
  std::string currency;
  std::string decline_code;
  std::string message;
  TimeMs created_at{};
};

// A checkout's name: one key of one user (find_checkouts).
struct CheckoutKey {
  UserId user = 0;
  std::string idempotency_key;
};

struct CheckoutStart {
  std::string idempotency_key;  // the client's
  int64_t amount = 0;
  std::string currency;
  std::string payment_method;
};

// What the gateway said (or a webhook, or reconciliation found out).
struct PaymentOutcome {
  // Rejected: the gateway refused the request itself (an unknown payment method): nothing was
  // charged, the booking fails and the hold goes back to ACTIVE so the buyer can try another card.
  enum class Kind { Succeeded, Declined, AwaitingAction, Rejected };
  Kind kind = Kind::Declined;
  std::string payment_ref;
  std::string decline_code;
  std::string message;
  std::string event_id;  // the webhook event being applied; stored in the same transaction
};

// A FAILED booking's message when its payment succeeded after the hold lapsed and its seats were sold to
// someone else (decline code "seats_taken"): the money goes back.
inline constexpr const char* kPaidTooLateMessage = "paid after the hold lapsed and the seats were taken; refunded";

struct Settlement {
  Booking booking;
  // The money was taken but the seats went to someone else while the payment was pending: the
  // booking is FAILED and the caller must refund (then record_refund).
  bool refund_needed = false;
  // Some seats came from resale listings: their sellers are owed refunds, recorded pending in the same
  // commit (the caller pays them: app/resale).
  bool resold = false;
};

// A seat of a confirmed booking put up for resale (`listed`, refunding the seller `amount` when it
// sells) or taken back (docs/resale.md). The event's inventory decides; the listing's row follows.
struct ResaleChange {
  SeatId seat = 0;
  bool listed = true;
  int64_t amount = 0;  // minor units; listing only
};

// A refund of some seats of a booking, as recorded (core/seat_refund.hpp decided it).
struct SeatRefundRecord {
  int64_t id = 0;
  BookingId booking_id = 0;
  std::vector<SeatId> seats;
  int64_t amount = 0;
  std::string refund_ref;
  TimeMs at{};
};

struct SeatMap {
  std::string status;  // one of "AHS" per seat, in seat-id order
  SeatCounts counts;
  uint64_t version = 0;  // the event's seat-change version this map reflects (see seat_changes.hpp)
  // Seats listed for resale and kept off open sale (shown sold in `status`), free to a waiting-list offer.
  std::vector<SeatId> listed_for_offers;
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  virtual Result<Hold> hold_seats(const Event& event, const Layout& layout, const HoldRequest& request,
                                  TimeMs now) = 0;
  // The same hold, decided without blocking the caller: `done` gets the outcome once, on this thread
  // (a refusal) or on one of the store's own threads (its commit thread after the hold is durable;
  // distributed, also the thread that hears the registry of users' holds), and must be quick. False,
  // with nothing done and `done` never called, when the decision would block (the event's seats are not
  // in memory) or the store cannot decide this way: then call hold_seats() where blocking is fine.
  // `layout` is shared because a best-available hold may be picked on another thread after this returns.
  using HoldDone = std::function<void(Result<Hold>)>;
  // False when try_hold_seats_async never takes a hold here: callers skip preparing one.
  virtual bool holds_without_blocking() const { return false; }
  virtual bool try_hold_seats_async(const Event& event, std::shared_ptr<const Layout> layout,
                                    const HoldRequest& request, TimeMs now, const HoldDone& done) {
    (void)event, (void)layout, (void)request, (void)now, (void)done;
    return false;
  }
  // Several holds on one event, each decided as hold_seats() would decide it, in the order given (a
  // seat two requests want goes to the earlier one), answered together once all are durable. A store
  // that commits in batches makes them durable in one commit, and a node that does not own the event
  // sends them to the owner in one call, rather than one after another. REQUIRES: at most
  // limits::holds_per_call_max requests. This default decides them one at a time.
  virtual std::vector<Result<Hold>> hold_seats_each(const Event& event, const Layout& layout,
                                                    const std::vector<HoldRequest>& requests, TimeMs now) {
    std::vector<Result<Hold>> out;
    out.reserve(requests.size());
    for (const HoldRequest& r : requests) out.push_back(hold_seats(event, layout, r, now));
    return out;
  }
  // NotFound for unknown holds and for other users' holds.
  virtual Result<Hold> find_hold(HoldId id, UserId user, TimeMs now) = 0;
  // The hold as it was taken (its event and seats, which never change), for a caller that prices it
  // and then asks begin_checkout, which decides whether it is still live: its state may be stale. A
  // store that knows no quicker way answers find_hold's.
  virtual Result<Hold> hold_as_taken(HoldId id, UserId user, TimeMs now) { return find_hold(id, user, now); }
  virtual Result<Hold> release_hold(HoldId id, UserId user, TimeMs now) = 0;
  // release_hold of a live hold of the user's whose event is in memory, without blocking the caller:
  // `done` hears the released hold on the store's commit thread once the release is durable. False,
  // with nothing done, for anything else (a hold already ended, another user's, an event not loaded):
  // release_hold() then reads the store and answers it.
  virtual bool try_release_hold_async(HoldId id, UserId user, TimeMs now, const HoldDone& done) {
    (void)id, (void)user, (void)now, (void)done;
    return false;
  }

  virtual std::optional<CheckoutRecord> find_checkout(UserId user, const std::string& idempotency_key) = 0;
  // find_checkout of each key, answered in order, in one store call where the store can (the batched
  // reads of checkouts that run without a worker: app/sales.hpp). This default asks one at a time.
  virtual std::vector<std::optional<CheckoutRecord>> find_checkouts(const std::vector<CheckoutKey>& keys) {
    std::vector<std::optional<CheckoutRecord>> out;
    out.reserve(keys.size());
    for (const CheckoutKey& k : keys) out.push_back(find_checkout(k.user, k.idempotency_key));
    return out;
  }
  // Pins the hold (it cannot expire while the card is charged, up to limits::checkout_pin_max) and
  // durably creates a PENDING_PAYMENT booking and a PENDING payment, before any money moves.
  virtual Result<CheckoutRecord> begin_checkout(HoldId id, UserId user, const CheckoutStart& start, TimeMs now) = 0;
  // Applies a payment outcome to a pending booking, once: Succeeded -> CONFIRMED (seats sold; if the
  // hold lapsed, sold anyway when still free, else FAILED + refund_needed); Declined -> FAILED, seats
  // free at once; AwaitingAction -> stays pending, pin extended. A booking already settled is
  // returned as it is. If outcome.event_id is set it is recorded as processed in the same commit.
  virtual Result<Settlement> settle_payment(BookingId booking, const PaymentOutcome& outcome, TimeMs now) = 0;

  // A checkout without blocking the caller (app/sales.hpp, try_checkout_async), for a store that decides
  // in memory. Each try_ call is the blocking call's decision, answered to `done` once, on this thread
  // (a refusal) or on the store's commit thread once durable; `done` must be quick. False, with nothing
  // done and `done` never called, when the answer would need a read or a node that owns the event
  // elsewhere, or a hold of seats from resale listings (their sellers are paid after the sale, which
  // blocks): the blocking call then decides it. checkouts_without_blocking(): whether any may be taken.
  virtual bool checkouts_without_blocking() const { return false; }
  // hold_as_taken from memory alone: nullopt when it would take a read.
  virtual std::optional<Hold> hold_as_taken_in_memory(HoldId id, UserId user) {
    (void)id, (void)user;
    return std::nullopt;
  }
  using CheckoutDone = std::function<void(Result<CheckoutRecord>)>;
  virtual bool try_begin_checkout_async(HoldId id, UserId user, const CheckoutStart& start, TimeMs now,
                                        const CheckoutDone& done) {
    (void)id, (void)user, (void)start, (void)now, (void)done;
    return false;
  }
  // Also false for a booking settled already (its answer is read from the store).
  using SettleDone = std::function<void(Result<Settlement>)>;
  virtual bool try_settle_payment_async(BookingId booking, const PaymentOutcome& outcome, TimeMs now,
                                        const SettleDone& done) {
    (void)booking, (void)outcome, (void)now, (void)done;
    return false;
  }
  virtual Status record_refund(BookingId booking, const std::string& refund_ref) = 0;
  virtual bool payment_event_seen(const std::string& event_id) = 0;
  virtual Status record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) = 0;
  // Payments to settle by asking the gateway: pending since before `older_than`, and FAILED bookings
  // whose money was taken and not yet refunded. At most `limit`, in payment id order from after
  // `after_payment` (the reconciler's cursor: every pass starts where the last one stopped, so rows
  // that stay pending cannot starve the ones behind them).
  virtual std::vector<CheckoutRecord> payments_to_reconcile(TimeMs older_than, PaymentId after_payment,
                                                            uint32_t limit) = 0;

  virtual Result<Booking> find_booking(BookingId id, UserId user) = 0;
  virtual std::optional<Booking> booking_by_id(BookingId id) = 0;  // any user's: for gateway events
  virtual std::optional<BookingId> booking_by_payment_ref(const std::string& payment_ref) = 0;
  // Newest first; before_id = 0 for the first page. FAILED bookings (unpaid attempts) only on request.
  virtual std::vector<Booking> list_bookings(UserId user, uint32_t limit, BookingId before_id, bool include_failed) = 0;
  virtual Result<Booking> cancel_booking(const Booking& booking, const std::string& refund_ref, TimeMs now) = 0;

  // Tickets (docs/tickets.md). settle_payment issues one per seat in the commit that confirms a
  // booking; cancel_booking revokes them in its commit. Any user's: callers check ownership.
  // The seats of a confirmed booking an organizer refunded (the gateway's refund `refund_ref`), in one
  // commit: those seats free, their tickets revoked, the booking keeping the rest (its total_amount
  // stays what was charged: the gateway's events are checked against it), the refund recorded, the
  // buyer's notice queued. InvalidSeat: a seat no longer the booking's; BookingNotConfirmed. Returns
  // the booking as it is now.
  virtual Result<Booking> refund_seats(const Booking& booking, const SeatRefund& refund, const std::string& refund_ref,
                                       TimeMs now) = 0;
  // Lists or withdraws one seat of a confirmed booking (core::EventInventory::list_seat/withdraw_seat
  // decide). BookingNotConfirmed: the sale is gone; InvalidSeat; ResaleInProgress.
  virtual Status change_listing(const Booking& seller, const ResaleChange& change, TimeMs now) = 0;
  // The organizer's rule for the event's listed seats changed (stored already): on open sale, or kept for
  // waiting-list offers. A ledger that keeps the event in memory follows at once.
  virtual void resale_rule_changed(EventId event, bool on_open_sale) = 0;
  virtual std::optional<SeatRefundRecord> find_seat_refund(int64_t id) = 0;
  // What refunds of some seats of the booking gave back so far (0: none): a later refund of the rest
  // returns total_amount less this.
  virtual int64_t seat_refunds_total(BookingId booking) = 0;
  virtual std::vector<Ticket> tickets_of_booking(BookingId booking) = 0;
  virtual std::optional<Ticket> find_ticket(const std::string& ticket_id) = 0;

  // The map as the deciding store has it now: what a decision reads (the waiting list's offers, an
  // edit of prices).
  virtual Result<SeatMap> seat_map(const Event& event, TimeMs now) = 0;
  // The map to show people (seat-map pages, events' counts, a live map's first snapshot): seat_map(),
  // or a copy that may trail the decisions by the change feed's delay (distributed: a node that does
  // not own the event keeps one, cluster/seat_map_replicas.hpp). Its listed_for_offers is not filled.
  virtual Result<SeatMap> seat_map_shown(const Event& event, TimeMs now) { return seat_map(event, now); }
  // The version seat_map_shown() would report now, when it can be told without building the map (a
  // reader that kept an encoding of that version serves it as it is); nullopt: call seat_map_shown().
  virtual std::optional<uint64_t> seat_map_version(const Event& event, TimeMs now) {
    (void)event;
    (void)now;
    return std::nullopt;
  }
  // The counts seat_map_shown() would report now, when the event's seats are in memory (no store read,
  // no map built: the HTTP layer's I/O thread may ask); nullopt: call seat_map_shown().
  virtual std::optional<SeatCounts> seat_counts_in_memory(const Event& event, TimeMs now) {
    (void)event;
    (void)now;
    return std::nullopt;
  }
  // What is left to sell, for the waiting room's admission budget: available seats, held seats whose
  // (unpinned) hold lapses before `expiring_before`, and the seats and count of live holds and sales.
  virtual Result<Stock> stock(const Event& event, TimeMs now, TimeMs expiring_before) = 0;
  // Marks expired holds EXPIRED in the store (tidiness: correctness never waits for it).
  virtual size_t sweep_expired(TimeMs now) = 0;
  // The event's dates changed (a postponement, already stored): a ledger that keeps them in memory
  // follows at once.
  virtual void event_dates_changed(const Event& event) = 0;
};

}  // namespace ticketd::core
