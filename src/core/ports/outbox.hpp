// Port: the transactional outbox. Rows are written by the Ledger in the transaction of the change
// they announce (see core/notification.hpp); this port is how the delivery worker drains them.
//
// Claiming leases rows to one owner until `now + lease`: while the lease runs no other claimer
// (thread or node) gets the row; when it lapses (the owner stalled or died) the row is claimable
// again, which is the only way a row is delivered by two owners.
//
// Thread safety: implementations are safe to call from any thread and from many nodes at once.
#pragma once

#include <string>
#include <vector>

#include "core/account_token.hpp"
#include "core/notification.hpp"
#include "core/result.hpp"

namespace ticketd::core {

struct OutboxCounts {
  uint64_t pending = 0;
  uint64_t dead = 0;
};

class OutboxStore {
 public:
  virtual ~OutboxStore() = default;
  // Leases up to `limit` PENDING rows of `channels` due by `now` whose lease has lapsed, oldest due
  // first. A node claims only what it can deliver: a channel configured on no node keeps its rows
  // pending (until expire_undelivered gives up on them).
  virtual std::vector<OutboxRow> claim(const std::string& owner, const std::vector<std::string>& channels, TimeMs now,
                                       Millis lease, uint32_t limit) = 0;
  // Delivered to `destination` (the address or number; what message caps count): SENT (attempts + 1).
  // A row no longer PENDING is left alone.
  virtual Status mark_sent(OutboxId id, TimeMs now, const std::string& destination) = 0;
  // Messages SENT since `since` to `user`'s account and to `destination` (core::MessageCaps).
  virtual RecentMessages sent_since(UserId user, const std::string& destination, TimeMs since) = 0;
  // Failed: attempts + 1; retried at next_due, or DEAD when next_due is nullopt. Only by the lease's
  // owner: a lapsed lease another owner took is theirs to judge.
  virtual Status mark_failed(OutboxId id, const std::string& owner, const std::string& error,
                             std::optional<TimeMs> next_due) = 0;
  // Nothing to deliver any more (the hold it warned about is gone, or the channel is not configured).
  virtual Status mark_skipped(OutboxId id, const std::string& why) = 0;
  // Rows in `status`, by id ascending after `after_id`; at most `limit`.
  virtual std::vector<OutboxRow> list(OutboxStatus status, OutboxId after_id, uint32_t limit) = 0;
  // A DEAD row back to PENDING, due now, attempts reset. NotFound if there is no such DEAD row.
  virtual Status retry_dead(OutboxId id, TimeMs now) = 0;
  virtual OutboxCounts counts() = 0;
  // Deletes SENT and SKIPPED rows created before `before`, and marks PENDING rows created before it
  // SKIPPED ("expired": a notice that old helps nobody), at most `limit` of each; returns how many.
  virtual size_t prune(TimeMs before, uint32_t limit) = 0;
  // Queues a notice about a booking again (an organizer's "resend"), on the channels its user chose,
  // unless the booking already has `max_notices` of that kind on its email channel (LimitReached).
  virtual Status enqueue_again(NoticeKind kind, UserId user, EventId event, BookingId booking, HoldId hold,
                               uint32_t max_notices, TimeMs now) = 0;
};

}  // namespace ticketd::core
