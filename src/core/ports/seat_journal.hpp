// Port: the seat journal — where a seat engine (store/engine/seat_engine.hpp) persists the decisions it
// made in memory, and reads back what it persisted. The engine decides (core::EventInventory under an
// event's mutex); a journal only writes decisions and reads rows: it never decides again.
//
// Order and durability: decisions recorded for one event are made durable in the order they were
// recorded (the engine records them under the event's mutex), and `done` is called once each is
// durable (ok) or will never be (an error). Failure::stop marks a decision memory already acted on:
// if it cannot be made durable, the journal must not let anything decided after it become durable
// either (the embedded journal stops the process; see sqlite/group_commit.hpp).
//
// Thread safety: every method may be called from any thread; `done` runs on the journal's writer
// thread and must be quick.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/inventory.hpp"
#include "core/ports/ledger.hpp"
#include "core/result.hpp"
#include "core/seat_refund.hpp"
#include "core/types.hpp"

namespace ticketd::core {

// What an engine loads the first time it decides for an event.
struct JournalSale {
  BookingId booking = 0;
  UserId user = 0;
  std::vector<SeatId> seats;
};
struct JournalPending {  // a booking awaiting its payment's outcome
  BookingId booking = 0;
  HoldId hold = 0;
  UserId user = 0;
  std::vector<SeatId> seats;
};
struct JournalListing {  // a seat listed for resale, and the booking it is sold to now
  BookingId booking = 0;
  SeatId seat = 0;
};
struct JournalEvent {
  InventoryRules rules;
  std::vector<JournalSale> sales;
  std::vector<JournalListing> listings;
  std::vector<Hold> holds;  // recorded ACTIVE with a deadline after `now`, newest first
  std::vector<JournalPending> pending;
  // The live map's versions of this load start above this (seat_changes.hpp): the owner's journal
  // gives each epoch its own range (epoch << 32), so versions keep rising when the event changes owner
  // and every node's subscribers see a gap, and resynchronise, instead of older numbers.
  uint64_t version_base = 0;
};
// A hold recorded ACTIVE (live, pinned, or lapsed and not yet marked): the cap on holds per user is
// rebuilt from these at start.
struct JournalActiveHold {
  EventId event = 0;
  HoldId hold = 0;
  UserId user = 0;
  TimeMs expires_at{};
};

// The decisions, each with everything its rows need, and the event it was decided for (a journal that
// commits per event, fenced by its ownership, needs it).
struct HoldPlaced {
  Hold hold;
  Millis expiry_notice_lead{0};  // > 0: a hold_expiring notice, due that long before the deadline
  std::vector<SeatId> listed;    // seats taken from resale listings: still their sellers' sales
};
struct HoldReleased {
  EventId event = 0;
  HoldId hold = 0;
};
struct CheckoutBegun {
  CheckoutRecord record;
  std::vector<SeatId> seats;
  std::string idempotency_key;
};
struct PaymentAwaitingAction {
  EventId event = 0;
  BookingId booking = 0;
  PaymentOutcome outcome;
  TimeMs at{};
};
// Paid: the seats sold to the booking with one ticket each (`sold`), or, taken by someone else after
// the hold lapsed, the booking failed and the hold expired (`sold` false: the caller refunds).
struct PaymentSucceeded {
  BookingId booking = 0;
  HoldId hold = 0;
  UserId user = 0;
  EventId event = 0;
  std::vector<SeatId> seats;
  bool sold = false;
  std::vector<std::string> ticket_ids;  // one per seat when sold
  PaymentOutcome outcome;
  TimeMs at{};
  // Seats bought from resale listings: they leave their sellers' bookings (tickets revoked, listing
  // sold, a refund of the listed amount recorded pending) before this booking takes them. A seller's
  // booking left with no seat is over: CANCELLED, its payment REFUNDED (by those refunds).
  std::vector<EventInventory::Resold> resold;
};
// Declined or rejected: the booking failed. The hold is kept (a rejected request charged nothing),
// released, or left expired (its pin ran out before the decline).
struct PaymentFailed {
  enum class HoldEnd { kept, released, expired };
  BookingId booking = 0;
  HoldId hold = 0;
  UserId user = 0;
  EventId event = 0;
  HoldEnd hold_end = HoldEnd::released;
  PaymentOutcome outcome;
  TimeMs at{};
};
// A settlement of a booking settled already: only the gateway event id is noted, and the caller waits
// for the first settlement to be durable (it was recorded before).
struct SettledAlready {
  EventId event = 0;
  PaymentOutcome outcome;
  TimeMs at{};
};
struct BookingCancelled {
  Booking booking;
  std::string refund_ref;
  TimeMs at{};
};
struct SeatsRefunded {
  Booking booking;
  SeatRefund refund;
  std::string refund_ref;
  TimeMs at{};
};
struct ListingChanged {
  Booking seller;
  ResaleChange change;
  TimeMs at{};
};
// Nothing to write: durable once everything recorded before it is (a second cancellation answering
// after the first one's commit).
struct Barrier {
  EventId event = 0;
};
using SeatDecision = std::variant<HoldPlaced, HoldReleased, CheckoutBegun, PaymentAwaitingAction, PaymentSucceeded,
                                  PaymentFailed, SettledAlready, BookingCancelled, SeatsRefunded, ListingChanged, Barrier>;

class SeatJournal {
 public:
  using Done = std::function<void(Status)>;
  enum class Failure { answer, stop };
  virtual ~SeatJournal() = default;

  // NotFound: no such event.
  virtual Result<JournalEvent> load_event(EventId event, TimeMs now) = 0;
  virtual std::vector<JournalActiveHold> active_holds() = 0;
  virtual HoldId next_hold_id() = 0;
  // next_hold_id() when it needs no store read (nullopt: call next_hold_id() where blocking is fine).
  virtual std::optional<HoldId> next_hold_id_if_ready() { return next_hold_id(); }
  virtual BookingId next_booking_id() = 0;
  virtual PaymentId next_payment_id() = 0;
  // The same without a store read, for a checkout begun without blocking (nullopt: not at hand).
  virtual std::optional<BookingId> next_booking_id_if_ready() { return next_booking_id(); }
  virtual std::optional<PaymentId> next_payment_id_if_ready() { return next_payment_id(); }

  virtual void record(SeatDecision decision, Done done, Failure failure = Failure::answer) = 0;

  // What was persisted. A hold or booking as recorded (a hold still ACTIVE may have lapsed since).
  virtual std::optional<Hold> hold(HoldId id) = 0;
  virtual std::optional<Booking> booking(BookingId id) = 0;
  virtual std::optional<CheckoutRecord> checkout(UserId user, const std::string& idempotency_key) = 0;
  // checkout() of each key, in order; in one read where the store can. This default reads one at a time.
  virtual std::vector<std::optional<CheckoutRecord>> checkouts(const std::vector<CheckoutKey>& keys) {
    std::vector<std::optional<CheckoutRecord>> out;
    out.reserve(keys.size());
    for (const CheckoutKey& k : keys) out.push_back(checkout(k.user, k.idempotency_key));
    return out;
  }
  virtual std::optional<BookingId> booking_by_payment_ref(const std::string& payment_ref) = 0;
  virtual std::vector<BookingId> bookings_of(UserId user, uint32_t limit, BookingId before_id, bool include_failed) = 0;
  virtual std::vector<CheckoutRecord> payments_to_reconcile(TimeMs older_than, PaymentId after_payment,
                                                            uint32_t limit) = 0;
  virtual Status record_refund(BookingId booking, const std::string& refund_ref) = 0;
  virtual bool payment_event_seen(const std::string& event_id) = 0;
  virtual Status record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) = 0;
  virtual std::optional<SeatRefundRecord> seat_refund(int64_t id) = 0;
  virtual int64_t seat_refunds_total(BookingId booking) = 0;
  virtual std::vector<Ticket> tickets_of_booking(BookingId booking) = 0;
  virtual std::optional<Ticket> ticket(const std::string& ticket_id) = 0;
  // Marks EXPIRED the holds `expired` (lapsed in memory) and, where the journal is the only writer, any
  // hold still ACTIVE whose deadline is before `unloaded_before` (events not in memory); returns how
  // many rows changed. Writes nothing when
  // there is nothing to mark (an idle server does not sync every second).
  virtual size_t mark_expired(const std::vector<Hold>& expired, TimeMs unloaded_before) = 0;
};

}  // namespace ticketd::core
