// A ticket as the API shows it to its holder (docs/tickets.md, "The API"): shared by the ticket and the
// transfer routes.
#pragma once

#include <boost/json.hpp>

#include "app/tickets.hpp"

namespace ticketd::http {

boost::json::object ticket_json(const app::TicketView& v);

}  // namespace ticketd::http
