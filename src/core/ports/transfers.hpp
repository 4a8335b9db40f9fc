// Port: ticket transfers (core/transfer.hpp). Each method re-reads the rows it decides on inside its own
// transaction (the embedded writer; PostgreSQL row locks) and applies the core rule there, so two
// acceptances, or an acceptance and a cancellation, of one transfer cannot both succeed.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/transfer.hpp"

namespace ticketd::core {

class TransferStore {
 public:
  virtual ~TransferStore() = default;
  // may_send on the ticket; then it is revoked ("transferred"), `new_ticket_id` is issued for the same
  // seat with no owner, and the transfer is recorded PENDING.
  virtual Result<Transfer> send(const std::string& ticket_id, UserId from, const std::string& to_email,
                                const std::string& new_ticket_id, TimeMs now) = 0;
  // may_accept; the new ticket becomes the user's.
  virtual Result<Transfer> accept(TransferId id, UserId user, const std::string& email_key, TimeMs now) = 0;
  // may_cancel; the new ticket becomes the sender's.
  virtual Result<Transfer> cancel(TransferId id, UserId user, TimeMs now) = 0;
  virtual std::optional<Transfer> find(TransferId id) = 0;
  // Transfers sent by the user or addressed to the email, newest first, at most `limit`.
  virtual std::vector<Transfer> of_user(UserId user, const std::string& email_key, uint32_t limit) = 0;
  // The user's tickets (bought or received; revoked ones too), newest first, at most `limit`.
  virtual std::vector<Ticket> tickets_of_owner(UserId user, uint32_t limit) = 0;
  // Transfers made since `since` by the sender, and to the address (each one emails the address).
  virtual std::pair<uint32_t, uint32_t> sent_since(UserId from, const std::string& to_email, TimeMs since) = 0;
  // Whether any ticket of the booking was ever sent to someone (its buyer may then not cancel it).
  virtual bool booking_has_transfers(BookingId booking) = 0;
};

}  // namespace ticketd::core
