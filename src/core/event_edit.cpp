#include "core/event_edit.hpp"

#include <set>

#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::core {

namespace {

Error invalid(const std::string& field, const std::string& why) {
  return make_error(Code::InvalidRequest, field + ": " + why);
}

}  // namespace

Status validate_event_text(const std::string& description, const std::string& image_url) {
  if (description.size() > limits::event_description_bytes_max || !valid_utf8(description))
    return invalid("description", "at most 2000 bytes of UTF-8");
  if (!image_url.empty()) {
    if (image_url.size() > limits::url_bytes_max || image_url.rfind("https://", 0) != 0)
      return invalid("image_url", "an https:// address of at most 500 bytes");
    for (unsigned char c : image_url)
      if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\')
        return invalid("image_url", "an https:// address of printable characters");
  }
  return ok_status();
}

Status check_event_edit(const Event& event, const Layout& layout, const std::string& status, const EventPatch& patch) {
  const bool only_publishing = !patch.name && !patch.description && !patch.image_url && patch.prices.empty();
  if (event.cancelled() && !only_publishing) return make_error(Code::EventCancelled, "this event is cancelled");
  if (patch.name && (patch.name->empty() || patch.name->size() > limits::name_bytes_max || !valid_utf8(*patch.name)))
    return invalid("name", "1-200 bytes of UTF-8 required");
  if (Status s = validate_event_text(patch.description.value_or(""), patch.image_url.value_or("")); !s) return s;
  if (patch.prices.empty()) return ok_status();
  std::set<std::string> busy;  // tiers with a seat held or sold
  for (SeatId seat = 0; seat < layout.seats_total() && seat < status.size(); ++seat)
    if (status[seat] != 'A') busy.insert(layout.price_tier_of(seat));
  for (const auto& [tier, price] : patch.prices) {
    if (!event.prices.contains(tier)) return invalid("prices." + tier, "the venue has no such tier");
    if (price < 0 || price > limits::price_minor_max) return invalid("prices." + tier, "0-100000000 required");
    if (price != event.prices.at(tier) && busy.contains(tier))
      return make_error(Code::PriceLocked, "prices." + tier + ": seats of this tier are held or sold; its price stays");
  }
  return ok_status();
}

Result<Postponement> plan_postponement(const Event& event, TimeMs starts_at, std::optional<TimeMs> on_sale_at,
                                       TimeMs now) {
  if (event.cancelled()) return make_error(Code::EventCancelled, "this event is cancelled");
  if (now >= event.starts_at) return make_error(Code::EventStarted, "the event has started: cancel it instead");
  if (starts_at <= now) return invalid("starts_at", "the new date must be in the future");
  if (starts_at == event.starts_at) return invalid("starts_at", "that is the current date");
  Postponement p{starts_at, on_sale_at.value_or(event.on_sale_at)};
  if (p.on_sale_at >= p.starts_at) return invalid("on_sale_at", "must be before starts_at");
  return p;
}

Event apply_event_edit(Event event, const EventPatch& patch) {
  if (patch.name) event.name = *patch.name;
  if (patch.description) event.description = *patch.description;
  if (patch.image_url) event.image_url = *patch.image_url;
  if (patch.published) event.published = *patch.published;
  for (const auto& [tier, price] : patch.prices) event.prices[tier] = price;
  return event;
}

}  // namespace ticketd::core
