// Use cases of notifications: the delivery worker that drains the outbox, users' channel choices,
// and the administrator's view of dead letters.
//
// Delivery (deliver_due, one pass): claim up to batch_max due rows under a lease, resolve each into
// a core::Notification (reading the booking, hold, event and user it names), hand it to the channel,
// then mark it SENT, or schedule the retry (exponential backoff with jitter), or DEAD after
// retry.attempts_max tries. A row is marked only after the channel answered, so a crash between the
// two delivers it again: at least once, every delivery carrying the outbox id as idempotency key.
//
// Who is told: a notice goes to an account's address only once it is verified, and by SMS only to a
// verified phone (app/account_links); the messages that do the verifying go to their token's
// destination, and a sent ticket to the address it was sent to. Every message counts against the
// caps of its account and of its destination per hour (config.caps); one over either is skipped.
//
// Thread safety: deliver_due() is called from one thread at a time (the worker); everything else
// from any thread. stop() may be called from any thread and makes a running pass return early.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "app/account_links.hpp"
#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "app/tickets.hpp"
#include "core/notification.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/notifier.hpp"
#include "core/ports/outbox.hpp"
#include "core/ports/transfers.hpp"

namespace ticketd::app {

struct NotifyConfig {
  core::RetryPolicy retry;
  Millis lease{30'000};                // a claimed row is this node's for this long; must outlast one delivery
  uint32_t batch_max = 16;             // rows claimed per pass
  Millis retention{7 * 86'400'000LL};  // SENT and SKIPPED rows are deleted after this
  std::string owner;                   // this node's name in leases (unique per process)
  uint64_t seed = 0;                   // of the retry jitter
  core::MessageCaps caps;              // messages per account and per destination per hour
};
inline constexpr uint32_t kNotifyBatchMax = 1000;       // bound on the configurable batch
inline constexpr uint32_t kPruneRowsPerPassMax = 1000;  // a backlog is deleted in small transactions

struct PrefsPatch {
  std::optional<std::string> phone;
  std::optional<bool> email, sms, hold_expiry;
};

class Notifications {
 public:
  // `channels` are borrowed and must outlive this. This node claims only rows of these channels: rows
  // of a channel no node has stay pending (visible in /metrics) until they expire after `retention`.
  Notifications(core::OutboxStore& outbox, core::Ledger& ledger, Catalog& catalog, core::AccountStore& accounts,
                std::vector<core::NotificationChannel*> channels, const Clock& clock, NotifyConfig config,
                Metrics& metrics, Tickets* tickets = nullptr, core::TransferStore* transfers = nullptr,
                AccountLinks* links = nullptr);

  // One delivery pass. Returns how many rows it finished (sent, skipped, retried or dead-lettered).
  size_t deliver_due();
  void stop() { stopping_ = true; }

  core::NotifyPrefs prefs(core::UserId user);
  // An organizer's "resend the confirmation" of a CONFIRMED booking: its email (with the tickets as
  // they are now) queued again, at most kConfirmationsPerBookingMax times in all (LimitReached), so a
  // console cannot be used to flood a buyer.
  static constexpr uint32_t kConfirmationsPerBookingMax = 5;
  core::Status resend_confirmation(const core::Booking& booking);
  core::Result<core::NotifyPrefs> update_prefs(core::UserId user, const PrefsPatch& patch);

  std::vector<core::OutboxRow> list(core::OutboxStatus status, core::OutboxId after_id, uint32_t limit);
  core::Status retry_dead(core::OutboxId id);
  core::OutboxCounts counts() { return outbox_.counts(); }
  const NotifyConfig& config() const { return config_; }

 private:
  struct Resolved {
    std::optional<core::Notification> notification;
    std::string skip_reason;  // set when there is nothing to deliver
  };
  Resolved resolve(const core::OutboxRow& row, TimeMs now);
  // Verification links and codes, and password resets: to the token's destination, verified or not.
  Resolved resolve_account_message(const core::OutboxRow& row, const core::User& user, TimeMs now);
  void finish(const core::OutboxRow& row, const core::Notification& n, const core::Status& delivered, TimeMs now);

  core::OutboxStore& outbox_;
  core::Ledger& ledger_;
  Catalog& catalog_;
  core::AccountStore& accounts_;
  Tickets* tickets_;  // null: confirmations carry no tickets
  core::TransferStore* transfers_;  // null: ticket_sent rows are skipped
  AccountLinks* links_;             // null: account messages are skipped
  std::map<std::string, core::NotificationChannel*> channels_;  // by name; fixed after construction
  std::vector<std::string> channel_names_;                      // the keys of channels_: what this node claims
  const Clock& clock_;
  NotifyConfig config_;
  Metrics& metrics_;
  std::mt19937_64 rng_;  // used by the worker thread only
  std::atomic<bool> stopping_{false};
  TimeMs last_prune_{};
};

}  // namespace ticketd::app
