// SeatEngine: the seat ledger that decides in memory. Each event's seats live in a core::EventInventory
// guarded by that event's own mutex, so holds on different events never wait for each other. A change
// is decided under the mutex and recorded in the journal (core/ports/seat_journal.hpp) before the
// mutex is released, so the journal sees one event's decisions in the order memory made them; it is
// acknowledged only once durable. An event is loaded from the journal the first time it is used, and
// again after a decision of it could not be made durable (see durable_or_forget).
// The embedded store is this engine over the SQLite journal (store/sqlite/seat_journal.hpp).
//
// Seat changes: every change of a seat's status (hold, release, lapse found by any call or the
// sweeper, sale, decline, cancellation) is reported to `sink` (if any) with the event's next version,
// under the event's mutex, so the sink sees one event's changes in version order. Versions start at 1
// for each event each time the process loads it; seat_map() returns the version it reflects.
// REQUIRES: the sink, the journal and `ticket_ids` outlive the engine.
//
// The cap on live holds per user across events (HoldRequest::active_holds_max): each user's holds are
// listed in user_stripes_ (event and hold id), and a user's holds are decided one at a time under the
// user's stripe mutex, held from the count to the hold's decision in memory (not across the commit).
// Whether a listed hold is still live is asked of its event's inventory, the only place that decides,
// so the count follows lapses and checkout pins without bookkeeping here. A list may name a hold that
// ended (it over-counts, never under-counts), so at the cap each listed hold is asked about before a
// refusal. Lists stay short: a hold released or settled here is forgotten at once, and the sweeper
// drops those past their expiry that are no longer live. Lock order: a user stripe, then one event's
// slot mutex at a time; never a stripe while a slot mutex is held.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "core/inventory.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/seat_changes.hpp"
#include "core/ports/seat_journal.hpp"
#include "core/ports/ticket_ids.hpp"
#include "core/ports/user_holds.hpp"

namespace ticketd::store::engine {

class SeatEngine : public core::Ledger {
 public:
  // Lists every hold the journal has ACTIVE (a live or pinned one among them) under its user, so the
  // cap holds across a restart before any event is loaded.
  // `user_holds` (may be null): the registry of every user's live holds across nodes, when other nodes
  // decide holds too (distributed, event owners); reserved before each hold, told of each end.
  SeatEngine(core::SeatJournal& journal, core::TicketIdSource& ticket_ids, core::SeatChangeSink* sink = nullptr,
             core::UserHolds* user_holds = nullptr);

  core::Result<core::Hold> hold_seats(const core::Event& event, const core::Layout& layout,
                                      const core::HoldRequest& request, TimeMs now) override;
  // Each decided in memory without waiting for the one before it to commit, so that they commit together.
  std::vector<core::Result<core::Hold>> hold_seats_each(const core::Event& event, const core::Layout& layout,
                                                        const std::vector<core::HoldRequest>& requests,
                                                        TimeMs now) override;
  core::Result<core::Hold> find_hold(core::HoldId id, core::UserId user, TimeMs now) override;
  core::Result<core::Hold> release_hold(core::HoldId id, core::UserId user, TimeMs now) override;
  std::optional<core::CheckoutRecord> find_checkout(core::UserId user, const std::string& key) override;
  std::vector<std::optional<core::CheckoutRecord>> find_checkouts(const std::vector<core::CheckoutKey>& keys) override {
    return journal_.checkouts(keys);
  }
  core::Result<core::CheckoutRecord> begin_checkout(core::HoldId id, core::UserId user,
                                                    const core::CheckoutStart& start, TimeMs now) override;
  core::Result<core::Settlement> settle_payment(core::BookingId booking, const core::PaymentOutcome& outcome,
                                                TimeMs now) override;
  core::Status record_refund(core::BookingId booking, const std::string& refund_ref) override;
  // The checkout's two decisions without a parked thread, for a hold listed here whose event is in
  // memory and a booking begun here and still pending (false otherwise: the blocking calls decide).
  bool checkouts_without_blocking() const override { return true; }
  std::optional<core::Hold> hold_as_taken_in_memory(core::HoldId id, core::UserId user) override;
  bool try_begin_checkout_async(core::HoldId id, core::UserId user, const core::CheckoutStart& start, TimeMs now,
                                const CheckoutDone& done) override;
  bool try_settle_payment_async(core::BookingId booking, const core::PaymentOutcome& outcome, TimeMs now,
                                const SettleDone& done) override;
  bool payment_event_seen(const std::string& event_id) override;
  core::Status record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) override;
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                          uint32_t limit) override;
  std::optional<core::Booking> booking_by_id(core::BookingId id) override { return journal_.booking(id); }
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& payment_ref) override;
  core::Result<core::Booking> find_booking(core::BookingId id, core::UserId user) override;
  std::vector<core::Booking> list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                           bool include_failed) override;
  core::Result<core::Booking> cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                             TimeMs now) override;
  core::Result<core::Booking> refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                           const std::string& refund_ref, TimeMs now) override;
  core::Status change_listing(const core::Booking& seller, const core::ResaleChange& change, TimeMs now) override;
  void resale_rule_changed(core::EventId event, bool on_open_sale) override;
  std::optional<core::SeatRefundRecord> find_seat_refund(int64_t id) override;
  void event_dates_changed(const core::Event& event) override;
  int64_t seat_refunds_total(core::BookingId booking) override;
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override;
  std::optional<core::Ticket> find_ticket(const std::string& ticket_id) override;
  bool holds_without_blocking() const override { return true; }
  bool try_hold_seats_async(const core::Event& event, std::shared_ptr<const core::Layout> layout,
                            const core::HoldRequest& request, TimeMs now, const HoldDone& done) override;
  bool try_release_hold_async(core::HoldId id, core::UserId user, TimeMs now, const HoldDone& done) override;
  core::Result<core::SeatMap> seat_map(const core::Event& event, TimeMs now) override;
  // Without building the 1-byte-per-seat status: nullopt for an event not loaded yet.
  std::optional<uint64_t> seat_map_version(const core::Event& event, TimeMs now) override;
  std::optional<core::SeatCounts> seat_counts_in_memory(const core::Event& event, TimeMs now) override;
  core::Result<core::Stock> stock(const core::Event& event, TimeMs now, TimeMs expiring_before) override;
  size_t sweep_expired(TimeMs now) override;

  // Gauges for /metrics: seats by state over the events loaded in memory.
  core::SeatCounts loaded_counts(TimeMs now);
  // Drops the event's state from memory: its next use loads it from the journal. For a decision that
  // did not become durable, and for an event this node no longer owns (distributed mode).
  void forget_event(core::EventId event);
  // The event of a live hold of the user's, from the user's list in memory; 0 if it is not listed.
  core::EventId listed_hold_event(core::UserId user, core::HoldId hold);

 private:
  struct PendingBooking {
    core::HoldId hold_id = 0;
    core::UserId user_id = 0;
    std::vector<core::SeatId> seats;
    // Checkouts begun in this process: the client's key and the record answered, so that the same
    // checkout arriving again before the first one's commit completes (a retry, or a node's forward that
    // timed out) gets the same record instead of "in progress". Empty after a reload: the record is in
    // the journal then, where the caller finds it by its key.
    std::string key;
    std::optional<core::CheckoutRecord> record;
  };
  // One per event: its state machine and the mutex that serialises everything done to it.
  struct Slot {
    std::mutex mu;  // guards everything below
    std::optional<core::EventInventory> inv;
    // Holds this process released or converted, so a request racing with the commit of that change
    // learns the truth from memory rather than from a row not yet updated. Bounded, oldest dropped.
    std::unordered_map<core::HoldId, core::HoldState> finished;
    std::deque<core::HoldId> finished_order;
    // Bookings awaiting payment, so settling one (checkout reply, webhook, reconciler — whichever
    // comes first) happens exactly once, decided under mu.
    std::unordered_map<core::BookingId, PendingBooking> pending;
    // The version of the last seat change reported for this event (see seat_changes.hpp).
    uint64_t version = 0;
    // How many times inv was loaded: a decision that fails to become durable forgets the event only if
    // memory is still the load it was made on (durable_or_forget).
    uint64_t loads = 0;
  };
  static constexpr size_t kFinishedRememberedMax = 4096;
  static void remember(Slot& slot, core::HoldId id, core::HoldState state);
  // The state of a hold that is no longer live in memory. REQUIRES: slot.mu held.
  static core::HoldState settled_state(const Slot& slot, const core::Hold& stored);
  // A hold made by one user (live or not: see the class comment), with when it lapses unless pinned.
  struct UserHold {
    core::EventId event_id = 0;
    core::HoldId hold_id = 0;
    TimeMs expires_at{};
  };
  struct UserStripe {
    std::mutex mu;  // guards holds; held while one of its users' holds is decided
    std::unordered_map<core::UserId, std::vector<UserHold>> holds;  // no entry: no holds listed
    // Holds found live when an event was loaded (another node placed them: ownership moved here), to be
    // listed. A leaf lock: loading holds an event's slot mutex and may not take `mu` (lock order), so it
    // leaves them here; whoever holds `mu` next moves them into `holds` (list_incoming).
    std::mutex incoming_mu;  // guards incoming; nothing else is locked while it is held
    std::vector<std::pair<core::UserId, UserHold>> incoming;
    // Ends this node sent the registry for the stripe's users. The registry counts a reservation from
    // before its decision until its end arrives: when one user's concurrent holds are refused for
    // their seats, a reservation answered at the cap in between may have counted them. Bumped after
    // the end is sent, so a reservation sent after a bump reaches the registry after that end.
    std::atomic<uint64_t> ends_sent{0};
  };
  // Moves the stripe's incoming holds into its lists, each hold listed once. REQUIRES: stripe.mu held.
  static void list_incoming(UserStripe& stripe);
  // Enough stripes that two users rarely share one (64 workers); a shared stripe only serialises two
  // users' hold decisions (microseconds), never a commit.
  static constexpr size_t kUserStripes = 256;
  UserStripe& stripe_of(core::UserId user) { return user_stripes_[static_cast<uint64_t>(user) % kUserStripes]; }
  // True if the hold is live in its event's inventory (loading the event if needed).
  // REQUIRES: no slot mutex held by the caller.
  bool hold_live(const UserHold& h, TimeMs now);
  // Drops the holds that are no longer live from `holds` (only those lapsing by `checked_before` when
  // given: the sweeper's cheap pass). REQUIRES: the user's stripe mutex held.
  void prune_user_holds(std::vector<UserHold>& holds, TimeMs now, std::optional<TimeMs> checked_before);
  // The sweeper's pass over every user's list, so lists stay as long as the live holds.
  void prune_all_user_holds(TimeMs now);
  // A hold decided in memory; `record` is called with its decision under the event's mutex (the journal
  // sees decisions in order). nullopt, nothing done: `only_if_loaded` and the event is not in memory.
  // `loads`: the slot's load count, for durable_or_forget.
  using RecordHold = std::function<void(const core::Hold&, core::SeatDecision, uint64_t loads)>;
  std::optional<core::Result<core::Hold>> place_hold(const core::Event& event, const core::Layout& layout,
                                                     const core::HoldRequest& request, TimeMs now, bool only_if_loaded,
                                                     const RecordHold& record);
  // True if `request`'s user has fewer live holds listed here than its cap (pruning the list of holds
  // that ended first, if `may_prune`: that may load events). REQUIRES: stripe.mu held, no slot mutex.
  bool under_cap(UserStripe& stripe, const core::HoldRequest& request, TimeMs now, bool may_prune);
  // The checks of a hold request that need no seat state.
  static core::Status check_hold_request(const core::Event& event, const core::HoldRequest& request, TimeMs now);
  static core::Error at_cap(const core::HoldRequest& request);
  // What a best-available pick reads besides the seats.
  struct BestPick {
    const core::Layout& layout;
    const std::map<std::string, int64_t>& prices;
  };
  // The hold `id` decided in the event's memory (loading it if `may_load`, else Unavailable when it is not
  // there), recorded by `record`. `best` is required for a best-available request.
  // REQUIRES: the user's stripe mutex held, no slot mutex.
  core::Result<core::Hold> decide_hold(core::EventId event, const BestPick* best, const core::HoldRequest& request,
                                       core::HoldId id, TimeMs now, bool may_load, const RecordHold& record);
  // What a best-available hold decided on the registry's thread picks with: the layout, kept alive, and
  // the event's prices as they were asked with.
  struct KeptPick {
    std::shared_ptr<const core::Layout> layout;
    std::map<std::string, int64_t> prices;
  };
  // try_hold_seats_async with the registry of users' holds: the registry's answer decides on its thread.
  // False as try_hold_seats_async, and also for a user at this node's count of the cap (pruning the list
  // may load events) and a hold id that would be a store read.
  bool try_hold_reserving_async(const core::Event& event, std::shared_ptr<const core::Layout> layout,
                                const core::HoldRequest& request, TimeMs now, const HoldDone& done);
  // Reserves hold `id` in the registry, then decides it on the registry's thread. An answer at the cap
  // is asked again (up to kReserveTriesMax in all) when this node sent an end for a user of the stripe
  // since the question: the count may have held reservations that were refused since. `pick`: null for
  // a hold of named seats.
  void reserve_then_decide(core::EventId event, const core::HoldRequest& request, TimeMs now, core::HoldId id,
                           const HoldDone& done, uint32_t tries, std::shared_ptr<const KeptPick> pick);
  // reserve_then_decide's questions, blocking: the answer once it is not at the cap for holds that ended
  // meanwhile.
  core::UserHolds::Reserve reserve_settled(const core::HoldRequest& request, core::HoldId id, TimeMs now);
  static constexpr uint32_t kReserveTriesMax = 8;
  // True if an answer at the cap, to a question asked after `ends_seen`, should be asked again.
  bool ask_again(const UserStripe& stripe, uint64_t ends_seen, uint32_t tries) const {
    return tries < kReserveTriesMax && stripe.ends_sent.load(std::memory_order_acquire) != ends_seen;
  }
  // Tells the registry that the reservation of `hold` ended. REQUIRES: user_holds_.
  void end_reservation(core::UserId user, core::HoldId hold);
  // The registry's answer `reserved` about hold `id` of `request`: the decision, recorded; `done` hears it.
  void decide_reserved_hold(core::EventId event, const core::HoldRequest& request, TimeMs now, core::HoldId id,
                            core::UserHolds::Reserve reserved, const HoldDone& done, const KeptPick* pick);
  // A RecordHold that journals the decision and tells `done` once it is durable (or failed).
  RecordHold record_then_answer(const HoldDone& done);
  // A hold that ended here (released, sold, declined) leaves its user's list at once.
  // REQUIRES: no slot mutex held by the caller.
  void forget_user_hold(core::UserId user, core::HoldId hold);
  // REQUIRES: slot.mu held, slot loaded. Releases a live hold in memory and reports its seats; the
  // caller records HoldReleased under the same mutex.
  core::Result<core::Hold> release_live(Slot& slot, core::EventId event, core::HoldId id, core::UserId user, TimeMs now);
  std::shared_ptr<Slot> slot(core::EventId event);
  // REQUIRES: slot->mu held. Loads the event's state from the journal on first use.
  core::Status ensure_loaded(Slot& slot, core::EventId event, TimeMs now);
  // REQUIRES: slot.mu held. Gives `seats` the event's next version and tells the sink; nothing when empty.
  void report(Slot& slot, core::EventId event, std::vector<core::SeatId> seats, core::SeatStatus status);
  // REQUIRES: slot.mu held, slot loaded. Lazy expiry (advance) that reports the seats it frees. Every
  // path runs it before the inventory call it makes, so that call's own advance() finds nothing new.
  std::vector<core::Hold> advance(Slot& slot, core::EventId event, TimeMs now);
  // REQUIRES: slot.mu held, slot loaded. The refusal the hold would meet now for its seats (taken, too
  // few free, past the ticket limit), or ok: the inventory's own answer, asked before the hold is placed.
  core::Status refusal_now(Slot& slot, core::EventId event, const core::HoldRequest& request, TimeMs now);
  core::Result<core::Hold> owned_hold(core::HoldId id, core::UserId user);
  // owned_hold() without a read of the journal for a live hold of the user's listed here (a buyer's
  // look at their hold, and the checkout that follows: the common case). REQUIRES: no slot mutex held.
  core::Result<core::Hold> hold_of(core::HoldId id, core::UserId user);
  // A decision that did not become durable leaves memory ahead of the journal for its event. The
  // journal refuses whatever was decided after it (it was recorded with Failure::stop: the embedded
  // journal stops the process, the owner's journal fences the event off), and the engine forgets the
  // event here, to load it again from the journal at its next use. Returns `durable`.
  // REQUIRES: no slot mutex held by the caller.
  // `loads`: the slot's load count when the decision was made; a later load is kept.
  core::Status durable_or_forget(core::Status durable, core::EventId event, uint64_t loads);
  // Drops the event's memory, to be loaded again. REQUIRES: slot.mu held.
  static void forget_loaded(Slot& slot);
  // The event of a booking whose checkout began in this process; 0 if not known here (ask the journal).
  core::EventId booking_event(core::BookingId booking);
  void learn_booking_event(core::BookingId booking, core::EventId event);
  void forget_booking_event(core::BookingId booking);
  // The booking a settlement leaves, as the journal then has it (`status`), from the checkout begun
  // here; nullopt if the checkout began elsewhere (its record is not in memory: the journal is read).
  static std::optional<core::Booking> booking_in_memory(core::BookingId booking, const PendingBooking& p,
                                                        const core::PaymentOutcome& outcome,
                                                        core::BookingStatus status);
  // The same for a payment that came after the hold lapsed and its seats were sold: FAILED, seats_taken.
  static std::optional<core::Booking> paid_too_late_in_memory(core::BookingId booking, const PendingBooking& p,
                                                              const core::PaymentOutcome& outcome);
  // begin_checkout's decision, made under the event's mutex, to be recorded there: a new checkout (its
  // record; the hold pinned until pinned_until) or the same one again (its record once a barrier is durable).
  struct Begin {
    core::CheckoutRecord rec;
    core::SeatDecision decision;
    std::optional<TimeMs> pinned_until;  // for the registry of users' holds, told after the mutex
  };
  // REQUIRES: slot.mu held, slot loaded and advanced to `now`; `stored`: the hold (its id and event).
  // `ids`: the booking's and payment's ids drawn already (none: drawn here, which may read the store).
  core::Result<Begin> decide_begin(Slot& slot, const core::Hold& stored, core::UserId user,
                                   const core::CheckoutStart& start, TimeMs now,
                                   std::optional<std::pair<core::BookingId, core::PaymentId>> ids = std::nullopt);
  // settle_payment's decision, likewise, and what is done about it after the mutex.
  struct Pin {
    core::UserId user = 0;
    core::HoldId hold = 0;
    TimeMs until{};
  };
  struct Settle {
    core::SeatDecision decision;
    std::optional<Pin> pinned_until;  // for the registry, after the mutex
    bool refund_needed = false;
    bool resold = false;
    core::HoldId ended_hold = 0;          // a hold this settlement ended (sold, or its seats freed)
    core::UserId ended_user = 0;          // its user
    bool pending_ended = false;           // the payment's outcome is final: its booking is settled
    std::optional<core::Booking> answer;  // the booking once durable, when memory has all of it
  };
  // REQUIRES: slot.mu held, slot loaded and advanced to `now`.
  Settle decide_settle(Slot& slot, core::EventId event, core::BookingId booking, const core::PaymentOutcome& outcome,
                       TimeMs now);
  // REQUIRES: no slot mutex held (lock order).
  void settled_outside_mutex(const Settle& settle, core::BookingId booking);

  core::SeatJournal& journal_;
  core::TicketIdSource& ticket_ids_;
  core::SeatChangeSink* const sink_;  // may be null
  core::UserHolds* const user_holds_;  // may be null
  std::shared_mutex slots_mu_;  // guards slots_ (the map only; each slot has its own mutex)
  std::unordered_map<core::EventId, std::shared_ptr<Slot>> slots_;
  std::array<UserStripe, kUserStripes> user_stripes_;
  // Settling a payment needs its booking's event: for checkouts begun here, it needs no read of the
  // booking's row. A booking's event never changes, so an entry is never wrong, only missing: bounded,
  // cleared when full, and an entry of a booking whose payment ended another way stays until then.
  static constexpr size_t kBookingEventsMax = 200'000;
  std::mutex booking_events_mu_;  // guards booking_events_; a leaf lock
  std::unordered_map<core::BookingId, core::EventId> booking_events_;
};

}  // namespace ticketd::store::engine
