// The distributed store: PostgreSQL as the system of record (AccountStore, CatalogStore, the outbox).
// Many ticketd nodes share one database. Seats are decided by each event's owner (store/engine's
// SeatEngine over PgSeatJournal, cluster/OwnerRouter), not here.
//
// Ownership: the adapters borrow the pool; it must outlive them.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "base/metrics.hpp"
#include "base/read_batches.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/catalog_store.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/outbox.hpp"
#include "core/ports/ticket_ids.hpp"
#include "store/postgres/ledger_rows.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

// Applies the missing migrations under an advisory lock. Returns how many were applied.
int migrate(Connection& c);
int latest_schema_version();
// Runs `work` if this node can take the transaction advisory lock `key` (no other node is running
// it); returns whether it ran. The lock is held for the duration of `work` only.
bool run_exclusively(Pool& pool, int64_t key, const std::function<void()>& work);
inline constexpr int64_t kReleaserLockKey = 0x7469636b65747333;  // "tickets3": the waiting-room releaser
inline constexpr int64_t kWaitlistLockKey = 0x7469636b65747335;  // "tickets5": the waiting lists' offerer

// A secret every node shares, created from `candidate` by the first node that asks.
std::string shared_secret(Connection& c, const std::string& name, const std::string& candidate);

class PgAccountStore final : public core::AccountStore {
 public:
  // Session reads leave in batches (base/read_batches.hpp), one on its way at a time while the next
  // one fills: a read takes well under a millisecond, and in a flash sale one at a time gave lower
  // tails than two (hold p99 47-57 ms against 60-63 ms, docs/bench/analysis.md).
  static constexpr size_t kSessionReadsInFlightMax = 1;
  static constexpr size_t kSessionReadKeysMax = 64;

  explicit PgAccountStore(Pool& pool);
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
  // In one statement, on a pool connection of the caller's.
  std::vector<std::optional<core::SessionRecord>> find_sessions(const std::vector<std::string>& token_hashes) override;

 private:
  Pool& pool_;
  ReadBatches<core::SessionRecord> session_reads_;
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

// Offline SQL audit (`ticketd verify --store postgres`). One line per check; true iff all pass.
bool verify_database(const std::string& postgres_url, TimeMs now, std::string& report);

}  // namespace ticketd::store::postgres
