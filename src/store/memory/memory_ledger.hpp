// MemoryLedger: the reference ledger. Everything the durable ledgers (SQLite, PostgreSQL) keep — holds,
// checkouts, payments, bookings, tickets, refunds — kept in plain maps, with every seat decision made
// by the same core::EventInventory the embedded store runs. It is what tests/store's conformance suite
// and the ledger simulation hold the durable ledgers to: same calls, same answers.
//
// Not modelled: durability (a restart is the object's lifetime), the outbox rows a durable ledger
// writes with a change (notices are checked by the outbox's own tests), and non-blocking holds (it
// answers every call at once, so the ports' async variants keep their defaults).
//
// Thread safety: every method may be called from any thread; one mutex serialises them all (it is a
// reference, not a fast path). The sink, if any, hears seat changes under that mutex, in version order
// per event. REQUIRES: the sink and `ticket_ids` outlive the ledger.
//
// Event rules (seats, ticket limit, sale window, ticket key) are taken from the Event passed to
// hold_seats, seat_map and stock, the first time an event is seen; event_dates_changed follows a move.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/inventory.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/seat_changes.hpp"
#include "core/ports/ticket_ids.hpp"

namespace ticketd::store::memory {

class MemoryLedger final : public core::Ledger {
 public:
  explicit MemoryLedger(core::TicketIdSource& ticket_ids, core::SeatChangeSink* sink = nullptr)
      : ticket_ids_(ticket_ids), sink_(sink) {}

  core::Result<core::Hold> hold_seats(const core::Event& event, const core::Layout& layout,
                                      const core::HoldRequest& request, TimeMs now) override;
  core::Result<core::Hold> find_hold(core::HoldId id, core::UserId user, TimeMs now) override;
  core::Result<core::Hold> release_hold(core::HoldId id, core::UserId user, TimeMs now) override;
  std::optional<core::CheckoutRecord> find_checkout(core::UserId user, const std::string& key) override;
  core::Result<core::CheckoutRecord> begin_checkout(core::HoldId id, core::UserId user,
                                                    const core::CheckoutStart& start, TimeMs now) override;
  core::Result<core::Settlement> settle_payment(core::BookingId booking, const core::PaymentOutcome& outcome,
                                                TimeMs now) override;
  core::Status record_refund(core::BookingId booking, const std::string& refund_ref) override;
  bool payment_event_seen(const std::string& event_id) override;
  core::Status record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) override;
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                          uint32_t limit) override;
  core::Result<core::Booking> find_booking(core::BookingId id, core::UserId user) override;
  std::optional<core::Booking> booking_by_id(core::BookingId id) override;
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& payment_ref) override;
  std::vector<core::Booking> list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                           bool include_failed) override;
  core::Result<core::Booking> cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                             TimeMs now) override;
  core::Result<core::Booking> refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                           const std::string& refund_ref, TimeMs now) override;
  core::Status change_listing(const core::Booking& seller, const core::ResaleChange& change, TimeMs now) override;
  void resale_rule_changed(core::EventId event, bool on_open_sale) override;
  std::optional<core::SeatRefundRecord> find_seat_refund(int64_t id) override;
  int64_t seat_refunds_total(core::BookingId booking) override;
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override;
  std::optional<core::Ticket> find_ticket(const std::string& ticket_id) override;
  core::Result<core::SeatMap> seat_map(const core::Event& event, TimeMs now) override;
  std::optional<uint64_t> seat_map_version(const core::Event& event, TimeMs now) override;
  std::optional<core::SeatCounts> seat_counts_in_memory(const core::Event& event, TimeMs now) override;
  core::Result<core::Stock> stock(const core::Event& event, TimeMs now, TimeMs expiring_before) override;
  size_t sweep_expired(TimeMs now) override;
  void event_dates_changed(const core::Event& event) override;

 private:
  // A checkout's booking awaiting its payment's outcome: settled exactly once.
  struct Pending {
    core::HoldId hold_id = 0;
    core::UserId user_id = 0;
    std::vector<core::SeatId> seats;
  };
  struct EventState {
    explicit EventState(const core::Event& e);
    core::EventInventory inv;
    uint32_t ticket_key_id = 1;
    uint64_t version = 0;  // of the last seat change reported (seat_changes.hpp)
    std::map<core::BookingId, Pending> pending;
  };
  // A payment as a durable ledger stores it: the checkout record plus what only the store needs.
  struct Payment {
    core::CheckoutRecord record;
    std::string idempotency_key;
    std::string refund_ref;
  };

  // All REQUIRE mu_ held.
  EventState& state_of(const core::Event& event);
  EventState* find_state(core::EventId id);
  // Lazy expiry of one event, reporting the seats it frees and marking the lapsed holds; returns how many.
  size_t advance(EventState& st, TimeMs now);
  void report(EventState& st, std::vector<core::SeatId> seats, core::SeatStatus status);
  void set_hold_state(core::HoldId id, core::HoldState state, core::BookingId booking = 0);
  // The hold as recorded, or as live in its inventory when it is live.
  core::Result<core::Hold> owned_hold(core::HoldId id, core::UserId user);
  uint32_t live_holds_of(core::UserId user, TimeMs now);
  core::Booking booking_view(const core::Booking& b) const;  // with its payment's ref
  void revoke_tickets(core::BookingId booking, const std::vector<core::SeatId>* seats, const char* reason, TimeMs now);
  // Seats bought from resale listings leave their seller's booking: tickets revoked, refund recorded.
  void sell_listed(const core::EventInventory::Resold& r, core::EventId event, TimeMs now);
  core::Result<core::Settlement> settle_locked(core::BookingId booking_id, const core::PaymentOutcome& outcome,
                                               TimeMs now);

  core::TicketIdSource& ticket_ids_;
  core::SeatChangeSink* const sink_;  // may be null

  std::mutex mu_;  // guards everything below
  std::unordered_map<core::EventId, EventState> events_;
  std::map<core::HoldId, core::Hold> holds_;  // every hold made, with its recorded state
  std::map<core::UserId, std::set<core::HoldId>> user_holds_;  // holds that may still be live
  std::map<core::BookingId, core::Booking> bookings_;
  std::map<core::BookingId, Payment> payments_;  // by booking: one payment per booking
  std::map<std::pair<core::UserId, std::string>, core::BookingId> checkouts_;  // (user, Idempotency-Key)
  std::set<std::string> payment_events_;
  std::map<std::string, core::Ticket> tickets_;
  std::map<core::BookingId, std::vector<std::string>> tickets_by_booking_;
  std::map<int64_t, core::SeatRefundRecord> seat_refunds_;
  std::map<std::pair<core::EventId, core::SeatId>, int64_t> listed_amounts_;  // resale listings on offer
  std::map<core::EventId, bool> resale_rules_;  // listed seats on open sale (absent: yes)
  core::HoldId next_hold_id_ = 1;
  core::BookingId next_booking_id_ = 1;
  core::PaymentId next_payment_id_ = 1;
  int64_t next_refund_id_ = 1;
};

}  // namespace ticketd::store::memory
