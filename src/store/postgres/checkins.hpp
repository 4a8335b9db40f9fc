// The distributed CheckinStore (core/ports/checkins.hpp) on PostgreSQL. A scan locks its ticket's row
// (FOR UPDATE) before it looks for its scan id or decides, so scans of one ticket from any node are
// decided one at a time, each seeing the one before.
// Ownership: borrows the pool. Thread safety: as the port.
#pragma once

#include "core/ports/checkins.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgCheckinStore final : public core::CheckinStore {
 public:
  explicit PgCheckinStore(Pool& pool) : pool_(pool) {}
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
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
