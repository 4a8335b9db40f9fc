// The embedded store: one SQLite database (WAL) under the data directory, implementing the
// AccountStore, CatalogStore and Ledger ports.
//
// Writes go through one GroupCommit writer; reads through a pool of read-only connections.
// Ownership: SqliteStore owns the database; the three adapters borrow it and must be destroyed first.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/metrics.hpp"
#include "core/inventory.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/catalog_store.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/seat_changes.hpp"
#include "core/ports/ticket_ids.hpp"
#include "core/ports/outbox.hpp"
#include "store/sqlite/db.hpp"
#include "store/sqlite/group_commit.hpp"

namespace ticketd::store::sqlite {

inline constexpr size_t kReadConnections = 16;
inline constexpr const char* kDatabaseFile = "ticketd.db";
// Below this much free space on the data dir's file system, writes are refused (503) and background
// writers pause, before SQLite itself runs out: a commit that fails fail-stops the process (see
// group_commit.hpp), so the refusal must come first. 16 MiB is far more than one group commit writes
// to the WAL (a full batch of 2,048 jobs is a few MiB) and nothing on a real data disk.
inline constexpr uint64_t kDiskFreeBytesMin = uint64_t{16} << 20;

// Creates the tables if missing (idempotent). Versioned through PRAGMA user_version.
void apply_schema(Connection& conn);

// Adds the outbox rows of one notice (one per channel the user chose). REQUIRES: called inside a
// writer job, so the rows commit with the change they announce or not at all.
void enqueue_notice(Connection& c, core::NoticeKind kind, core::UserId user, core::EventId event,
                    core::BookingId booking, core::HoldId hold, TimeMs now, TimeMs due, int64_t refund_id = 0);

// A ticket from a row whose columns are: id, event_id, booking_id, owner_id, seat, key_id, status,
// issued_at, revoked_at, revoked_reason (every ticket read selects them in this order).
core::Ticket ticket_from_row(const Statement& st);

class Database {
 public:
  Database(const std::string& data_dir, Metrics* metrics);
  GroupCommit& writer() { return writer_; }
  ReadPool& readers() { return readers_; }
  // Ids of holds, bookings and payments are chosen before their rows are written (the in-memory
  // ledger needs them at once); they continue from the largest id on disk.
  int64_t next_hold_id() { return ++hold_id_; }
  int64_t next_booking_id() { return ++booking_id_; }
  int64_t next_payment_id() { return ++payment_id_; }
  // True while the data dir's file system has less than kDiskFreeBytesMin free (one statvfs call, no
  // lock: callable from any thread, on every write request). False if it cannot be measured.
  bool disk_low() const;

 private:
  static std::string prepare(const std::string& data_dir);
  std::string dir_;
  std::string path_;
  GroupCommit writer_;
  ReadPool readers_;
  std::atomic<int64_t> hold_id_{0}, booking_id_{0}, payment_id_{0};
};

class SqliteAccountStore final : public core::AccountStore {
 public:
  explicit SqliteAccountStore(Database& db) : db_(db) {}
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
  Database& db_;
};

class SqliteOutbox final : public core::OutboxStore {
 public:
  static constexpr size_t kErrorBytesMax = 500;  // last_error keeps the gist, not a whole SMTP transcript
  explicit SqliteOutbox(Database& db) : db_(db) {}
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
  Database& db_;
};

class SqliteCatalogStore final : public core::CatalogStore {
 public:
  explicit SqliteCatalogStore(Database& db) : db_(db) {}
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
  Database& db_;
};

// Seat changes: every change of a seat's status (hold, release, lapse found by any call or the
// sweeper, sale, decline, cancellation) is reported to `sink` (if any) with the event's next version,
// under the event's mutex, so the sink sees one event's changes in version order. Versions start at 1
// for each event each time the process loads it; seat_map() returns the version it reflects.
// REQUIRES: the sink outlives the ledger.
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
class SqliteLedger final : public core::Ledger {
 public:
  // Lists every hold ACTIVE on disk (a live or pinned one among them) under its user, so the cap holds
  // across a restart before any event is loaded.
  // `ticket_ids`: where the ids of the tickets it issues come from; must outlive the ledger.
  SqliteLedger(Database& db, core::TicketIdSource& ticket_ids, core::SeatChangeSink* sink = nullptr);

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
  std::optional<core::Booking> booking_by_id(core::BookingId id) override { return read_booking(id); }
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& payment_ref) override;
  core::Result<core::Booking> find_booking(core::BookingId id, core::UserId user) override;
  std::vector<core::Booking> list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                          bool include_failed) override;
  core::Result<core::Booking> cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                             TimeMs now) override;
  core::Result<core::Booking> refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                          const std::string& refund_ref, TimeMs now) override;
  std::optional<core::SeatRefundRecord> find_seat_refund(int64_t id) override;
  void event_dates_changed(const core::Event& event) override;
  int64_t seat_refunds_total(core::BookingId booking) override;
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override;
  std::optional<core::Ticket> find_ticket(const std::string& ticket_id) override;
  bool holds_without_blocking() const override { return true; }
  bool try_hold_seats_async(const core::Event& event, const core::Layout& layout, const core::HoldRequest& request,
                            TimeMs now, const HoldDone& done) override;
  bool try_release_hold_async(core::HoldId id, core::UserId user, TimeMs now, const HoldDone& done) override;
  core::Result<core::SeatMap> seat_map(const core::Event& event, TimeMs now) override;
  // Without building the 1-byte-per-seat status: nullopt for an event not loaded yet.
  std::optional<uint64_t> seat_map_version(const core::Event& event, TimeMs now) override;
  std::optional<core::SeatCounts> seat_counts_in_memory(const core::Event& event, TimeMs now) override;
  core::Result<core::Stock> stock(const core::Event& event, TimeMs now, TimeMs expiring_before) override;
  size_t sweep_expired(TimeMs now) override;

  // Gauges for /metrics: seats by state over the events loaded in memory.
  core::SeatCounts loaded_counts(TimeMs now);

 private:
  struct PendingBooking {
    core::HoldId hold_id = 0;
    core::UserId user_id = 0;
    std::vector<core::SeatId> seats;
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
  };
  static constexpr size_t kFinishedRememberedMax = 4096;
  static constexpr int64_t kSweepRowsPerPassMax = 10'000;
  static void remember(Slot& slot, core::HoldId id, core::HoldState state);
  // The state of a hold that is no longer live in memory. REQUIRES: slot.mu held.
  static core::HoldState settled_state(const Slot& slot, const core::Hold& stored);
  struct HoldRow {
    core::Hold hold;
    bool found = false;
  };
  // A hold made by one user (live or not: see the class comment), with when it lapses unless pinned.
  struct UserHold {
    core::EventId event_id = 0;
    core::HoldId hold_id = 0;
    TimeMs expires_at{};
  };
  struct UserStripe {
    std::mutex mu;  // guards holds; held while one of its users' holds is decided
    std::unordered_map<core::UserId, std::vector<UserHold>> holds;  // no entry: no holds listed
  };
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
  // A hold decided in memory; `submit` queues its job under the event's mutex (commits follow decisions
  // in order). nullopt, nothing done: `only_if_loaded` and the event's seats are not in memory.
  using SubmitHold = std::function<void(const core::Hold&, GroupCommit::Job)>;
  std::optional<core::Result<core::Hold>> place_hold(const core::Event& event, const core::Layout& layout,
                                                     const core::HoldRequest& request, TimeMs now, bool only_if_loaded,
                                                     const SubmitHold& submit);
  // A hold that ended here (released, sold, declined) leaves its user's list at once.
  // REQUIRES: no slot mutex held by the caller.
  void forget_user_hold(core::UserId user, core::HoldId hold);
  // The event of a live hold of the user's, from the user's list in memory; 0 if it is not listed.
  core::EventId listed_hold_event(core::UserId user, core::HoldId hold);
  // REQUIRES: slot.mu held, slot loaded. Releases a live hold in memory and reports its seats; the
  // caller queues release_job(id) under the same mutex (commits follow decisions in order).
  core::Result<core::Hold> release_live(Slot& slot, core::EventId event, core::HoldId id, core::UserId user, TimeMs now);
  static GroupCommit::Job release_job(core::HoldId id);
  std::shared_ptr<Slot> slot(core::EventId event);
  // REQUIRES: slot->mu held. Loads the event's state from disk on first use.
  core::Status ensure_loaded(Slot& slot, core::EventId event, TimeMs now);
  // REQUIRES: slot.mu held. Gives `seats` the event's next version and tells the sink; nothing when empty.
  void report(Slot& slot, core::EventId event, std::vector<core::SeatId> seats, core::SeatStatus status);
  // REQUIRES: slot.mu held, slot loaded. Lazy expiry (advance) that reports the seats it frees. Every
  // path runs it before the inventory call it makes, so that call's own advance() finds nothing new.
  std::vector<core::Hold> advance(Slot& slot, core::EventId event, TimeMs now);
  HoldRow read_hold(core::HoldId id);
  core::Result<core::Hold> owned_hold(core::HoldId id, core::UserId user);
  std::optional<core::Booking> read_booking(core::BookingId id);

  Database& db_;
  core::TicketIdSource& ticket_ids_;
  core::SeatChangeSink* const sink_;  // may be null
  std::shared_mutex slots_mu_;  // guards slots_ (the map only; each slot has its own mutex)
  std::unordered_map<core::EventId, std::shared_ptr<Slot>> slots_;
  std::array<UserStripe, kUserStripes> user_stripes_;
};

// Offline audit of a data directory (`ticketd verify`). Prints one line per check; true iff all pass.
bool verify_data_dir(const std::string& data_dir, TimeMs now, std::string& report);

}  // namespace ticketd::store::sqlite
