// The distributed store: PostgreSQL as the system of record (AccountStore, CatalogStore, Ledger),
// with a SeatFront (Redis) in front of the ledger for fast refusals, the seat-map cache and seat
// changes on pub/sub. Many ticketd nodes share one database; nothing that decides a seat's fate
// lives in one node's memory.
//
// Ownership: the adapters borrow the pool and the front; both must outlive them.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "base/metrics.hpp"
#include "store/postgres/ledger_rows.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/catalog_store.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/ticket_ids.hpp"
#include "core/ports/outbox.hpp"
#include "core/ports/seat_front.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

// Applies the missing migrations under an advisory lock. Returns how many were applied.
int migrate(Connection& c);
int latest_schema_version();
// Runs `work` if this node can take the transaction advisory lock `key` (no other node is running
// it); returns whether it ran. The lock is held for the duration of `work` only.
bool run_exclusively(Pool& pool, int64_t key, const std::function<void()>& work);
inline constexpr int64_t kReleaserLockKey = 0x7469636b65747333;  // "tickets3": the waiting-room releaser

// A secret every node shares, created from `candidate` by the first node that asks.
std::string shared_secret(Connection& c, const std::string& name, const std::string& candidate);

class PgAccountStore final : public core::AccountStore {
 public:
  explicit PgAccountStore(Pool& pool) : pool_(pool) {}
  core::Result<core::User> create_user(const std::string& email, const std::string& name,
                                       const std::string& password_hash, core::Role role, TimeMs now) override;
  core::Result<std::vector<core::UserId>> create_users_bulk(const std::vector<core::ProvisionedUser>& users,
                                                            const std::string& name, const std::string& password_hash,
                                                            TimeMs now, TimeMs session_expires_at) override;
  std::optional<core::StoredUser> find_user_by_email(const std::string& email) override;
  std::optional<core::User> find_user(core::UserId id) override;
  core::Status create_session(const std::string& token_hash, core::UserId user, TimeMs expires_at) override;
  std::optional<core::SessionRecord> find_session(const std::string& token_hash) override;
  core::Status delete_session(const std::string& token_hash) override;
  core::Status delete_sessions_of(core::UserId user, const std::string& keep_token_hash) override;
  core::Status set_password_hash(core::UserId user, const std::string& password_hash,
                                 const std::string& keep_token_hash) override;
  core::NotifyPrefs notify_prefs(core::UserId user) override;
  core::Status set_notify_prefs(core::UserId user, const core::NotifyPrefs& prefs) override;

 private:
  Pool& pool_;
};

// The distributed outbox: any number of nodes claim from it at once. A claim is one statement,
// `FOR UPDATE SKIP LOCKED` over due rows whose lease lapsed (database clock), so two nodes never
// claim the same row while its lease runs and never wait for each other.
class PgOutbox final : public core::OutboxStore {
 public:
  static constexpr size_t kErrorBytesMax = 500;
  explicit PgOutbox(Pool& pool) : pool_(pool) {}
  std::vector<core::OutboxRow> claim(const std::string& owner, const std::vector<std::string>& channels, TimeMs now,
                                     Millis lease, uint32_t limit) override;
  core::Status mark_sent(core::OutboxId id, TimeMs now, const std::string& destination) override;
  core::RecentMessages sent_since(core::UserId user, const std::string& destination, TimeMs since) override;
  core::Status mark_failed(core::OutboxId id, const std::string& owner, const std::string& error,
                           std::optional<TimeMs> next_due) override;
  core::Status mark_skipped(core::OutboxId id, const std::string& why) override;
  std::vector<core::OutboxRow> list(core::OutboxStatus status, core::OutboxId after_id, uint32_t limit) override;
  core::Status retry_dead(core::OutboxId id, TimeMs now) override;
  core::OutboxCounts counts() override;
  size_t prune(TimeMs before, uint32_t limit) override;
  core::Status enqueue_again(core::NoticeKind kind, core::UserId user, core::EventId event, core::BookingId booking,
                             core::HoldId hold, uint32_t max_notices, TimeMs now) override;

 private:
  Pool& pool_;
};

class PgCatalogStore final : public core::CatalogStore {
 public:
  explicit PgCatalogStore(Pool& pool) : pool_(pool) {}
  core::Result<core::VenueId> create_venue(const core::Layout& layout, core::OrganizationId organization,
                                           TimeMs now) override;
  std::shared_ptr<const core::Venue> find_venue(core::VenueId id) override;
  std::vector<core::VenueSummary> list_venues(core::OrganizationId organization, core::VenueId after,
                                              uint32_t limit) override;
  core::Result<core::Event> create_event(core::Event event, TimeMs now) override;
  std::optional<core::Event> find_event(core::EventId id) override;
  core::Status update_event(const core::Event& event) override;
  core::Status postpone_event(core::EventId id, TimeMs starts_at, TimeMs on_sale_at, TimeMs now) override;
  std::vector<core::Event> list_events(const core::EventQuery& query) override;
  core::Status set_waiting_room(core::EventId id, const core::WaitingRoomSettings& settings) override;
  core::Status set_ticket_key(core::EventId id, uint32_t key_id) override;
  core::Status cancel_event(core::EventId id, TimeMs now, const std::string& reason) override;

 private:
  Pool& pool_;
};

// A ticket from row `row` of a result whose columns are: id, event_id, booking_id, owner_id, seat,
// key_id, status, issued_at, revoked_at, revoked_reason (every ticket read selects them in this order).
core::Ticket ticket_from_row(const Rows& r, int row);

class PgLedger final : public core::Ledger {
 public:
  // `front` may be null (PostgreSQL alone). `ticket_ids`: where the ids of the tickets it issues come
  // from; must outlive the ledger.
  PgLedger(Pool& pool, core::TicketIdSource& ticket_ids, core::SeatFront* front, Metrics* metrics)
      : pool_(pool), ticket_ids_(ticket_ids), front_(front), metrics_(metrics) {}

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
  std::optional<core::Booking> booking_by_id(core::BookingId id) override;
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& payment_ref) override;
  core::Result<core::Booking> find_booking(core::BookingId id, core::UserId user) override;
  std::vector<core::Booking> list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                          bool include_failed) override;
  core::Result<core::Booking> cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                             TimeMs now) override;
  core::Result<core::Booking> refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                          const std::string& refund_ref, TimeMs now) override;
  std::optional<core::SeatRefundRecord> find_seat_refund(int64_t id) override;
  // The stored functions read the event's dates from its row on every call: nothing to follow.
  void event_dates_changed(const core::Event&) override {}
  int64_t seat_refunds_total(core::BookingId booking) override;
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override;
  std::optional<core::Ticket> find_ticket(const std::string& ticket_id) override;
  core::Result<core::SeatMap> seat_map(const core::Event& event, TimeMs now) override;
  core::Result<core::Stock> stock(const core::Event& event, TimeMs now, TimeMs expiring_before) override;
  // Runs on whichever node holds the sweeper's advisory lock at the time; others return 0.
  size_t sweep_expired(TimeMs now) override;

 private:
  static constexpr int64_t kHoldIdBlock = 64;  // keep in step with the hold_id_blocks sequence
  static constexpr int kSweepRowsPerPassMax = 10'000;
  static constexpr int kBestAvailableAttemptsMax = 4;
  static constexpr Millis kSoldSeatsInFrontFor{3'600'000};
  // A best-available hold that the last seat map this node read (this recently) cannot serve is
  // refused without reading the map again: after a sell-out, every request for seats would otherwise
  // fetch and scan the whole map. Seats freed in this window are offered a moment later, as the
  // (cached) map may lag anyway; a positive pick always reads the map afresh.
  static constexpr Millis kShortOfSeatsFor{100};
  static constexpr size_t kShortOfSeatsEventsMax = 10'000;  // events remembered; cleared past it
  core::HoldId next_hold_id();
  // A hold of these seats for request's user (request.seats and request.best are not read).
  core::Result<core::Hold> hold_explicit(const core::Event& event, std::vector<core::SeatId> seats,
                                         const core::HoldRequest& request, TimeMs now);
  // Seats the database says are held (live) or sold, among `seats`.
  std::vector<core::SeatId> taken_in_db(core::EventId event, const std::vector<core::SeatId>& seats, TimeMs now);
  core::Result<core::SeatMap> map_from_db(const core::Event& event, TimeMs now, uint64_t version);
  // The seat map's status and version (cached in Redis when possible), without the counts.
  core::Result<core::SeatMap> seat_status(const core::Event& event, TimeMs now);
  // True if the seat map read for `event` within kShortOfSeatsFor of `now` had fewer than `quantity`
  // seats available.
  bool recently_short_of(core::EventId event, uint32_t quantity, TimeMs now);
  void remember_available(core::EventId event, uint32_t available, TimeMs now);
  std::optional<StoredHold> read_hold(core::HoldId id);
  // The hold if it is `user`'s (NotFound otherwise), with its state as of `now`.
  core::Result<StoredHold> owned_hold(core::HoldId id, core::UserId user, TimeMs now);
  std::optional<TimeMs> event_starts_at(core::EventId event);

  Pool& pool_;
  LedgerRows rows_{pool_};
  core::TicketIdSource& ticket_ids_;
  core::SeatFront* front_;
  Metrics* metrics_;
  std::mutex id_mu_;  // guards the block below
  int64_t id_next_ = 0, id_end_ = 0;
  struct AvailableSeen {
    uint32_t available = 0;
    TimeMs at{};
  };
  std::mutex seen_mu_;  // guards available_seen_
  std::unordered_map<core::EventId, AvailableSeen> available_seen_;
};

// Offline SQL audit (`ticketd verify --store postgres`). One line per check; true iff all pass.
bool verify_database(const std::string& postgres_url, TimeMs now, std::string& report);

}  // namespace ticketd::store::postgres
