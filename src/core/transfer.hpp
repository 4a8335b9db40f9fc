// Ticket transfers (docs/tickets.md, "Transfers"): a ticket's owner sends it to someone by email. The
// old code dies at once (its ticket is revoked, which the door feed tells scanners); a new ticket for
// the same seat, with new codes, waits without an owner until the receiver accepts it (it becomes
// theirs) or the sender cancels (it becomes the sender's again). The booking and its payment do not
// change. These are the rules; the stores apply them atomically with the rows they change.
#pragma once

#include <optional>
#include <string>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

using TransferId = int64_t;

enum class TransferStatus : uint8_t { Pending, Accepted, Cancelled };
const char* to_string(TransferStatus s);
std::optional<TransferStatus> transfer_status_from(const std::string& s);

struct Transfer {
  TransferId id = 0;
  EventId event_id = 0;
  std::string from_ticket_id;  // the sender's ticket, revoked ("transferred") when the transfer was made
  std::string ticket_id;       // the new ticket: no owner while pending
  UserId from_user = 0;
  std::string to_email;        // the receiver's account key (normalised email address)
  UserId to_user = 0;          // once accepted
  TransferStatus status = TransferStatus::Pending;
  TimeMs created_at{};
  TimeMs decided_at{};         // accepted or cancelled
};

// The ticket's owner may send it while it is VALID: not inside the venue (it is in use), not revoked.
// NotFound when it is not the user's (as for a ticket that does not exist).
Status may_send(const Ticket& ticket, UserId user);
// The receiver (the account with the address it was sent to) accepts a pending transfer whose new
// ticket is still valid (the booking was not cancelled meanwhile). Anyone else: NotFound.
Status may_accept(const Transfer& transfer, const Ticket& pending, UserId user, const std::string& email_key);
// The sender cancels a pending transfer. Anyone else: NotFound.
Status may_cancel(const Transfer& transfer, UserId user);

}  // namespace ticketd::core
