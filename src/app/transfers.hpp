// Use cases of ticket transfers (core/transfer.hpp, docs/tickets.md "Transfers"): send a ticket to an
// email address, accept or cancel, list them; and the tickets a user holds, bought or received.
// Thread safety: every method may be called concurrently.
#pragma once

#include <string_view>
#include <vector>

#include "app/tickets.hpp"
#include "core/ports/ticket_ids.hpp"
#include "core/ports/resale.hpp"
#include "core/ports/transfers.hpp"

namespace ticketd::app {

inline constexpr uint32_t kTransfersListedMax = 200;
inline constexpr uint32_t kTicketsListedMax = 500;
// Every transfer emails its address: caps per hour so an account cannot pump mail to anyone by
// sending a ticket and taking it back (docs/tickets.md, "Transfers").
inline constexpr uint32_t kTransfersPerSenderPerHour = 20;
inline constexpr uint32_t kTransfersPerAddressPerHour = 5;

class Transfers {
 public:
  Transfers(core::TransferStore& store, Tickets& tickets, core::TicketIdSource& ticket_ids, const Clock& clock);

  // InvalidRequest: not an email address, or the sender's own. NotFound: not the sender's ticket.
  // TicketNotTransferable: inside the venue, or revoked. TooManyRequests: over an hourly cap.
  core::Result<core::Transfer> send(const core::User& from, std::string_view ticket_id, std::string_view to_email);
  // NotFound unless addressed to this user's email; TransferNotPending once decided.
  core::Result<core::Transfer> accept(const core::User& user, core::TransferId id);
  // NotFound unless sent by this user; TransferNotPending once decided.
  core::Result<core::Transfer> cancel(const core::User& user, core::TransferId id);
  // Sent and received, newest first.
  core::Result<std::vector<core::Transfer>> of(const core::User& user);
  // Every ticket the user holds or held (revoked ones without codes), newest first.
  core::Result<std::vector<TicketView>> tickets_of(const core::User& user);
  // A ticket listed for resale is not sent (TicketNotTransferable): withdraw the listing first.
  void set_resale(core::ResaleStore* resale) { resale_ = resale; }

 private:
  core::TransferStore& store_;
  Tickets& tickets_;
  core::TicketIdSource& ticket_ids_;
  const Clock& clock_;
  core::ResaleStore* resale_ = nullptr;
};

}  // namespace ticketd::app
