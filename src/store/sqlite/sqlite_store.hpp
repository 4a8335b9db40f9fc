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
#include "store/engine/seat_engine.hpp"
#include "store/sqlite/group_commit.hpp"
#include "store/sqlite/seat_journal.hpp"

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

namespace detail {
// Constructed before the engine that borrows it (a base initialised before the next base).
struct SqliteJournalOwner {
  explicit SqliteJournalOwner(Database& db) : journal(db) {}
  SqliteSeatJournal journal;
};
}  // namespace detail

// The embedded ledger: the seat engine (store/engine/seat_engine.hpp: decisions in memory, one mutex per
// event, the cap on holds per user) over the SQLite journal (seat_journal.hpp: each decision one
// group-commit job). See the engine's header for seat changes, versions and the lock order.
class SqliteLedger final : private detail::SqliteJournalOwner, public engine::SeatEngine {
 public:
  // `ticket_ids`: where the ids of the tickets it issues come from; must outlive the ledger.
  SqliteLedger(Database& db, core::TicketIdSource& ticket_ids, core::SeatChangeSink* sink = nullptr)
      : SqliteJournalOwner(db), SeatEngine(journal, ticket_ids, sink) {}
};

// Offline audit of a data directory (`ticketd verify`). Prints one line per check; true iff all pass.
bool verify_data_dir(const std::string& data_dir, TimeMs now, std::string& report);

}  // namespace ticketd::store::sqlite
