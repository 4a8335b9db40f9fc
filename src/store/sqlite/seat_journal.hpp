// The embedded seat journal (core/ports/seat_journal.hpp): each decision becomes one job of the group
// commit writer (group_commit.hpp), so decisions recorded in order commit in order, many to one fsync;
// reads go through the read pool. Failure::stop maps to the writer's fail-stop: memory ahead of disk
// stops the process, and a restart recovers exactly what was acknowledged.
//
// The SQLite schema keeps its own last line of defence under the engine's decisions: sold_seats'
// PRIMARY KEY (event_id, seat) refuses a second sale, and a partial unique index a second live ticket
// for a seat (a job refused by either is a bug: the decision it wrote was already acknowledged or acted on).
#pragma once

#include "core/ports/seat_journal.hpp"

namespace ticketd::store::sqlite {

class Database;

class SqliteSeatJournal final : public core::SeatJournal {
 public:
  explicit SqliteSeatJournal(Database& db) : db_(db) {}

  core::Result<core::JournalEvent> load_event(core::EventId event, TimeMs now) override;
  std::vector<core::JournalActiveHold> active_holds() override;
  core::HoldId next_hold_id() override;
  core::BookingId next_booking_id() override;
  core::PaymentId next_payment_id() override;
  void record(core::SeatDecision decision, Done done, Failure failure) override;

  std::optional<core::Hold> hold(core::HoldId id) override;
  std::optional<core::Booking> booking(core::BookingId id) override;
  std::optional<core::CheckoutRecord> checkout(core::UserId user, const std::string& idempotency_key) override;
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& payment_ref) override;
  std::vector<core::BookingId> bookings_of(core::UserId user, uint32_t limit, core::BookingId before_id,
                                           bool include_failed) override;
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                          uint32_t limit) override;
  core::Status record_refund(core::BookingId booking, const std::string& refund_ref) override;
  bool payment_event_seen(const std::string& event_id) override;
  core::Status record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) override;
  std::optional<core::SeatRefundRecord> seat_refund(int64_t id) override;
  int64_t seat_refunds_total(core::BookingId booking) override;
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override;
  std::optional<core::Ticket> ticket(const std::string& ticket_id) override;
  size_t mark_expired(const std::vector<core::Hold>& expired, TimeMs unloaded_before) override;

 private:
  static constexpr int64_t kSweepRowsPerPassMax = 10'000;
  Database& db_;
};

}  // namespace ticketd::store::sqlite
