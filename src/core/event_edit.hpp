// What an organizer may change of an event, and when (docs/console.md, "Editing events"). Decided here
// alone; the catalogue applies a patch only after check_event_edit accepts it.
//
// - name, description, image: any time before the event is cancelled;
// - published: any time (an unpublished event leaves the catalogue and sells nothing; its bookings
//   and tickets stand);
// - the price of a tier: only while none of its seats is held or sold, since checkout charges the
//   price current then and sold seats keep what was paid; a new price for a tier the venue lacks, or a
//   tier left without a price, is refused;
// - venue, layout, currency, dates, ticket limit: not by an edit (a venue never changes; a new date is
//   a postponement, which tells the buyers).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/layout.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct EventPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> image_url;
  std::optional<bool> published;
  std::map<std::string, int64_t> prices;  // tiers to reprice; empty: none
};

// `status`: the event's compact seat status now ('A' available, 'H' held, 'S' sold), by seat id.
// PriceLocked naming the tier when a price change touches a tier with seats held or sold.
Status check_event_edit(const Event& event, const Layout& layout, const std::string& status, const EventPatch& patch);
Event apply_event_edit(Event event, const EventPatch& patch);

// A postponement: a new start (and optionally a new on-sale time; the current one otherwise). Not for
// a cancelled event (EventCancelled) or one that has started (EventStarted: cancel it instead); the new
// start is in the future, after the on-sale time, and not the current one (InvalidRequest).
struct Postponement {
  TimeMs starts_at{};
  TimeMs on_sale_at{};
};
Result<Postponement> plan_postponement(const Event& event, TimeMs starts_at, std::optional<TimeMs> on_sale_at,
                                       TimeMs now);
// Description (at most 2,000 bytes of UTF-8) and image (empty, or an https:// URL of at most 500
// printable ASCII bytes): for new events too.
Status validate_event_text(const std::string& description, const std::string& image_url);

}  // namespace ticketd::core
