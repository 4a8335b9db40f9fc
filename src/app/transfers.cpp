#include "app/transfers.hpp"

#include "app/email_address.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Transfers::Transfers(core::TransferStore& store, Tickets& tickets, core::TicketIdSource& ticket_ids, const Clock& clock)
    : store_(store), tickets_(tickets), ticket_ids_(ticket_ids), clock_(clock) {}

core::Result<core::Transfer> Transfers::send(const core::User& from, std::string_view ticket_id,
                                             std::string_view to_email) {
  if (!ticket_id_bytes(ticket_id)) return make_error(Code::NotFound, "no such ticket");
  auto to = normalize_email(to_email);
  if (!to) return to.error();
  auto own = normalize_email(from.email);
  if (own && *own == *to) return make_error(Code::InvalidRequest, "email: this ticket is already yours");
  const TimeMs now = clock_.now();
  const auto [by_sender, to_address] = store_.sent_since(from.id, *to, now - std::chrono::hours(1));
  if (by_sender >= kTransfersPerSenderPerHour || to_address >= kTransfersPerAddressPerHour) {
    core::Error e = make_error(Code::TooManyRequests, by_sender >= kTransfersPerSenderPerHour
                                                          ? "too many tickets sent in the last hour; try again later"
                                                          : "too many tickets sent to this address in the last hour");
    e.detail = "3600";  // an upper bound: the oldest of them leaves the window within the hour
    return e;
  }
  if (resale_) {
    // Sent while listed, the seat could still sell from under its new holder.
    auto view = tickets_.ticket(from.id, ticket_id);
    if (view) {
      auto listed = resale_->listed(view->ticket.event_id, view->ticket.seat);
      if (listed && listed->booking_id == view->ticket.booking_id)
        return make_error(Code::TicketNotTransferable, "this ticket is listed for resale: withdraw the listing first");
    }
  }
  return store_.send(std::string(ticket_id), from.id, *to, ticket_ids_.next(), clock_.now());
}

core::Result<core::Transfer> Transfers::accept(const core::User& user, core::TransferId id) {
  auto key = normalize_email(user.email);
  if (!key) return make_error(Code::NotFound, "no such transfer");
  return store_.accept(id, user.id, *key, clock_.now());
}

core::Result<core::Transfer> Transfers::cancel(const core::User& user, core::TransferId id) {
  return store_.cancel(id, user.id, clock_.now());
}

core::Result<std::vector<core::Transfer>> Transfers::of(const core::User& user) {
  auto key = normalize_email(user.email);
  return store_.of_user(user.id, key ? *key : std::string(), kTransfersListedMax);
}

core::Result<std::vector<TicketView>> Transfers::tickets_of(const core::User& user) {
  return tickets_.describe(store_.tickets_of_owner(user.id, kTicketsListedMax));
}

}  // namespace ticketd::app
