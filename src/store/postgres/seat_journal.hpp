// The owner's seat journal (core/ports/seat_journal.hpp) in distributed mode: the seat engine
// (store/engine) decides an event's seats in memory on the node that owns the event, and this journal
// makes its decisions durable in PostgreSQL through the owner's fenced group commit (owner_commit.hpp),
// tagged with the epoch the event was loaded under (event_owners.hpp).
//
// Loading an event takes its ownership with a new epoch (EventOwners::take): nothing decided before the
// load can commit after it. An event another node owns is refused Unavailable (naming the owner; the
// error's detail is kOwnerDetailPrefix and the owner's address, for the router to forward to), and
// so is every decision of an event this node lost: the engine then forgets the event.
//
// The database keeps its constraints as the last line of defence, not as the decision maker:
// seat_claims (one claim per seat: a hold's claim is written only over a free or lapsed one, a sale's
// only over a hold's), sold_seats' key (one sale per seat), tickets' partial unique index (one live
// ticket per seat). A decision that breaks one fails its batch: nobody in it is acknowledged, and its
// events are loaded again from what PostgreSQL holds.
//
// Leases: renew_leases() extends this node's leases (call it every lease/3); the destructor releases
// them, so a clean restart hands the events over at once. Thread safety: any method from any thread.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/ports/seat_journal.hpp"
#include "store/postgres/event_owners.hpp"
#include "store/postgres/ledger_rows.hpp"
#include "store/postgres/owner_commit.hpp"
#include "store/postgres/staged_writes.hpp"

namespace ticketd::store::postgres {

inline constexpr const char* kOwnerDetailPrefix = "owner:";

// The owner's address a refusal names (load_event), or nullopt.
inline std::optional<std::string> owner_named_by(const core::Error& e) {
  const std::string_view prefix = kOwnerDetailPrefix;
  if (e.code != core::Code::Unavailable || !e.detail.starts_with(prefix)) return std::nullopt;
  return e.detail.substr(prefix.size());
}

class PgSeatJournal final : public core::SeatJournal {
 public:
  PgSeatJournal(Pool& pool, EventOwners& owners, OwnerCommit& commit);
  ~PgSeatJournal() override;

  core::Result<core::JournalEvent> load_event(core::EventId event, TimeMs now) override;
  std::vector<core::JournalActiveHold> active_holds() override;
  core::HoldId next_hold_id() override;
  std::optional<core::HoldId> next_hold_id_if_ready() override;
  core::BookingId next_booking_id() override;
  core::PaymentId next_payment_id() override;
  std::optional<core::BookingId> next_booking_id_if_ready() override { return next_id_if_ready(bookings_); }
  std::optional<core::PaymentId> next_payment_id_if_ready() override { return next_id_if_ready(payments_); }
  // `failure` is not needed here: any failed job fences its events off (owner_commit.hpp).
  void record(core::SeatDecision decision, Done done, Failure failure) override;

  std::optional<core::Hold> hold(core::HoldId id) override;
  std::optional<core::Booking> booking(core::BookingId id) override { return rows_.booking(id); }
  std::optional<core::CheckoutRecord> checkout(core::UserId user, const std::string& key) override {
    return rows_.checkout(user, key);
  }
  std::vector<std::optional<core::CheckoutRecord>> checkouts(const std::vector<core::CheckoutKey>& keys) override {
    return rows_.checkouts(keys);
  }
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& ref) override {
    return rows_.booking_by_payment_ref(ref);
  }
  std::vector<core::BookingId> bookings_of(core::UserId user, uint32_t limit, core::BookingId before_id,
                                           bool include_failed) override {
    return rows_.bookings_of(user, limit, before_id, include_failed);
  }
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                          uint32_t limit) override {
    return rows_.payments_to_reconcile(older_than, after_payment, limit);
  }
  core::Status record_refund(core::BookingId booking, const std::string& ref) override {
    return rows_.record_refund(booking, ref);
  }
  bool payment_event_seen(const std::string& id) override { return rows_.payment_event_seen(id); }
  core::Status record_payment_event(const std::string& id, const std::string& type, TimeMs now) override {
    return rows_.record_payment_event(id, type, now);
  }
  std::optional<core::SeatRefundRecord> seat_refund(int64_t id) override { return rows_.seat_refund(id); }
  int64_t seat_refunds_total(core::BookingId booking) override { return rows_.seat_refunds_total(booking); }
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override {
    return rows_.tickets_of_booking(booking);
  }
  std::optional<core::Ticket> ticket(const std::string& id) override { return rows_.ticket(id); }
  // Marks only holds of events this node owns (through the fence); `unloaded_before` is not used: an
  // event not in this node's memory may be in its owner's, and only the owner writes its rows.
  size_t mark_expired(const std::vector<core::Hold>& expired, TimeMs unloaded_before) override;

  // Extends the leases of the events this node holds; forgets those it lost (their next decisions are
  // refused, and the engine loads them again, or learns who owns them now) and tells `on_lost`.
  void renew_leases();
  // Called (from renew_leases) with each event this node lost: the engine drops its copy, so that a
  // request routed here later loads the event afresh rather than deciding on what it last knew.
  // REQUIRES: set before the sweeper runs.
  void set_on_lost(std::function<void(core::EventId)> on_lost) { on_lost_ = std::move(on_lost); }
  // True while this node holds the event's lease (loaded here, not lost): its requests are decided here.
  bool owns(core::EventId event);

 private:
  // Ids drawn ahead, as runs of consecutive ids, the lowest run last: a round trip to PostgreSQL costs
  // far more than the ids it brings.
  struct IdRuns {
    std::vector<std::pair<int64_t, int64_t>> runs;  // [next, end)
    bool empty() const { return runs.empty(); }
    int64_t take();
  };
  int64_t next_id(IdRuns& ids, const char* sequence_sql);
  // Draws a round of ids into `ids` when none is left, releasing `lock` (on ids_mu_) meanwhile.
  void draw_if_empty(std::unique_lock<std::mutex>& lock, IdRuns& ids, const char* sequence_sql);
  // An id drawn already, or nullopt (none left, or another thread is drawing: never waits for it).
  std::optional<int64_t> next_id_if_ready(IdRuns& ids);
  std::optional<Ownership> held(core::EventId event);

  Pool& pool_;
  EventOwners& owners_;
  OwnerCommit& commit_;
  LedgerRows rows_;
  struct Held {
    Ownership ownership;
    bool lost = false;  // a renewal found it taken over or lapsed: no longer renewed
  };
  std::mutex mu_;  // guards held_
  std::unordered_map<core::EventId, Held> held_;  // every event loaded here, latest epoch
  // Guards the id blocks; never held across the round trip that refills one (draw_if_empty), so a take
  // waits for nothing longer than another take.
  std::mutex ids_mu_;
  IdRuns holds_, bookings_, payments_;
  StagedWrites staged_;  // the writer thread's alone (staged_writes.hpp)
  std::function<void(core::EventId)> on_lost_;
};

}  // namespace ticketd::store::postgres
