// The distributed WaitlistStore (core/ports/waitlist.hpp) on PostgreSQL: a join locks its list's row
// (FOR UPDATE), so joins of one event from every node are numbered one after the other; an offer and an
// end change an entry only from the state they were decided on (a conditional UPDATE).
// Ownership: borrows the pool. Thread safety: as the port.
#pragma once

#include "core/ports/waitlist.hpp"
#include "store/postgres/pg.hpp"

namespace ticketd::store::postgres {

class PgWaitlistStore final : public core::WaitlistStore {
 public:
  explicit PgWaitlistStore(Pool& pool) : pool_(pool) {}
  core::WaitlistRecord list(core::EventId event) override;
  core::Status set_settings(core::EventId event, const core::WaitlistSettings& settings) override;
  core::Result<core::JoinedEntry> join(const core::WaitlistJoin& join, const std::string& fresh_seed_hex,
                                       const std::string& fresh_commitment,
                                       const std::function<uint64_t(const std::string&)>& early_score,
                                       TimeMs now) override;
  std::optional<core::WaitlistEntry> entry_of(core::EventId event, core::UserId user) override;
  std::vector<uint64_t> waiting_scores(core::EventId event) override;
  std::vector<core::WaitlistEntry> waiting(core::EventId event, uint64_t after_score, uint32_t limit) override;
  std::vector<core::WaitlistEntry> offered(core::EventId event, core::OfferCursor after, TimeMs offered_before,
                                          uint32_t limit) override;
  std::vector<core::EventId> active_events(core::EventId after, uint32_t limit) override;
  std::pair<uint64_t, uint64_t> offers_since(core::EventId event, TimeMs since) override;
  core::WaitlistCounts counts(core::EventId event, TimeMs now) override;
  bool mark_offered(const core::WaitlistEntry& entry, core::HoldId hold, TimeMs now) override;
  bool end(int64_t entry_id, core::WaitlistState from, core::WaitlistState to, TimeMs now) override;

 private:
  Pool& pool_;
};

}  // namespace ticketd::store::postgres
