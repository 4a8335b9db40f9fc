#include "core/transfer.hpp"

namespace ticketd::core {

const char* to_string(TransferStatus s) {
  switch (s) {
    case TransferStatus::Pending: return "PENDING";
    case TransferStatus::Accepted: return "ACCEPTED";
    case TransferStatus::Cancelled: return "CANCELLED";
  }
  return "CANCELLED";
}

std::optional<TransferStatus> transfer_status_from(const std::string& s) {
  if (s == "PENDING") return TransferStatus::Pending;
  if (s == "ACCEPTED") return TransferStatus::Accepted;
  if (s == "CANCELLED") return TransferStatus::Cancelled;
  return std::nullopt;
}

Status may_send(const Ticket& ticket, UserId user) {
  if (ticket.owner_id != user) return make_error(Code::NotFound, "no such ticket");
  if (ticket.status == TicketStatus::CheckedIn)
    return make_error(Code::TicketNotTransferable, "this ticket is inside the venue: it cannot be sent now");
  if (ticket.status != TicketStatus::Valid)
    return make_error(Code::TicketNotTransferable, "this ticket is no longer valid");
  return ok_status();
}

Status may_accept(const Transfer& transfer, const Ticket& pending, UserId user, const std::string& email_key) {
  if (transfer.to_email != email_key || transfer.from_user == user) return make_error(Code::NotFound, "no such transfer");
  if (transfer.status != TransferStatus::Pending)
    return make_error(Code::TransferNotPending, std::string("this transfer is ") + to_string(transfer.status));
  if (pending.status != TicketStatus::Valid)
    return make_error(Code::TicketNotTransferable, "the ticket was cancelled before it was accepted");
  return ok_status();
}

Status may_cancel(const Transfer& transfer, UserId user) {
  if (transfer.from_user != user) return make_error(Code::NotFound, "no such transfer");
  if (transfer.status != TransferStatus::Pending)
    return make_error(Code::TransferNotPending, std::string("this transfer is ") + to_string(transfer.status));
  return ok_status();
}

}  // namespace ticketd::core
