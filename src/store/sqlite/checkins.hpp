// The embedded CheckinStore (core/ports/checkins.hpp) over the shared SQLite database.
// Ownership: borrows the Database, which must outlive it. Thread safety: as the port.
#pragma once

#include "core/ports/checkins.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::store::sqlite {

class SqliteCheckinStore final : public core::CheckinStore {
 public:
  explicit SqliteCheckinStore(Database& db) : db_(db) {}
  core::Result<core::ScanOutcome> record_scan(const core::Scan& scan,
                                              std::optional<core::CheckinResult> code_refusal) override;
  core::TicketStates ticket_states(core::EventId event, uint32_t limit) override;
  std::vector<core::TicketChange> ticket_changes(core::EventId event, TimeMs since, uint32_t limit) override;
  std::vector<core::GateCount> inside_by_gate(core::EventId event, uint32_t limit) override;
  std::vector<core::Attendee> attendees(core::EventId event, const std::string& after_id, uint32_t limit) override;
  std::vector<core::CheckinConflict> conflicts(core::EventId event, uint32_t limit) override;
  core::Status grant_staff(core::EventId event, core::UserId user, TimeMs now) override;
  core::Status revoke_staff(core::EventId event, core::UserId user) override;
  bool is_staff(core::EventId event, core::UserId user) override;
  std::vector<core::UserId> staff_of(core::EventId event, uint32_t limit) override;

 private:
  Database& db_;
};

}  // namespace ticketd::store::sqlite
