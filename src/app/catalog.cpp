#include "app/catalog.hpp"

#include "base/refresh_ahead.hpp"
#include "core/limits.hpp"
#include "core/validate.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

Catalog::Catalog(core::CatalogStore& store, core::Ledger& ledger, const Clock& clock)
    : store_(store), ledger_(ledger), clock_(clock) {}

core::Result<std::shared_ptr<const core::Venue>> Catalog::create_venue(core::LayoutSpec spec,
                                                                      core::OrganizationId organization) {
  auto layout = core::Layout::build(std::move(spec));
  if (!layout) return layout.error();
  auto id = store_.create_venue(*layout, organization, clock_.now());
  if (!id) return id.error();
  auto venue = std::make_shared<const core::Venue>(core::Venue{*id, organization, std::move(*layout)});
  std::lock_guard lock(cache_mu_);
  if (venues_.size() >= kVenuesCachedMax) venues_.clear();
  venues_[*id] = venue;
  return venue;
}

core::Result<std::shared_ptr<const core::Venue>> Catalog::venue(core::VenueId id) {
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = venues_.find(id); it != venues_.end()) return it->second;
  }
  auto venue = store_.find_venue(id);  // outside the lock: a read may take a while for big layouts
  if (!venue) return make_error(Code::NotFound, "no such venue");
  std::lock_guard lock(cache_mu_);
  if (venues_.size() >= kVenuesCachedMax) venues_.clear();
  venues_[id] = venue;
  return venue;
}

core::Result<core::Event> Catalog::create_event(core::Event draft) {
  auto venue = this->venue(draft.venue_id);
  if (!venue) return make_error(Code::InvalidRequest, "venue_id: no such venue");
  if (auto s = core::validate_new_event(draft, (*venue)->layout); !s) return s.error();
  draft.venue_name = (*venue)->layout.spec().name;
  draft.seats_total = (*venue)->layout.seats_total();
  draft.organization_id = (*venue)->organization_id;  // an event is managed by its venue's organization
  // Prices of tiers the venue does not have are dropped: they could never apply.
  std::map<std::string, int64_t> used;
  for (const auto& s : (*venue)->layout.spec().sections) used[s.price_tier] = draft.prices.at(s.price_tier);
  draft.prices = std::move(used);
  if (draft.waiting_room.enabled)
    if (auto s = core::validate_waiting_room(draft.waiting_room); !s) return s.error();
  auto event = store_.create_event(std::move(draft), clock_.now());
  if (!event) return event.error();
  std::lock_guard lock(cache_mu_);
  cache_event(*event);
  return event;
}

void Catalog::cache_event(const core::Event& event) {
  if (events_.size() >= kEventsCachedMax) events_.clear();
  events_[event.id] = CachedEvent{std::make_shared<const core::Event>(event), clock_.now()};
}

core::Result<core::Event> Catalog::set_waiting_room(core::EventId id, const core::WaitingRoomSettings& settings) {
  if (auto s = core::validate_waiting_room(settings); !s) return s.error();
  auto current = event(id);
  if (!current) return current.error();
  if (auto s = store_.set_waiting_room(id, settings); !s) return s.error();
  auto updated = store_.find_event(id);
  if (!updated) return make_error(Code::NotFound, "no such event");
  std::lock_guard lock(cache_mu_);
  cache_event(*updated);
  return *updated;
}

core::Result<core::Event> Catalog::rotate_ticket_key(core::EventId id) {
  auto current = store_.find_event(id);  // the store's, not the cache's: the step is from what is stored
  if (!current) return make_error(Code::NotFound, "no such event");
  if (current->ticket_key_id >= core::limits::ticket_key_ids_max)
    return make_error(Code::InvalidRequest, "this event has used all of its " +
                                                std::to_string(core::limits::ticket_key_ids_max) + " ticket keys");
  if (auto s = store_.set_ticket_key(id, current->ticket_key_id + 1); !s) return s.error();
  auto updated = store_.find_event(id);
  if (!updated) return make_error(Code::NotFound, "no such event");
  std::lock_guard lock(cache_mu_);
  cache_event(*updated);
  return *updated;
}

core::Result<core::Event> Catalog::update_event(core::EventId id, const core::EventPatch& patch) {
  auto current = store_.find_event(id);  // the store's: an edit starts from what is stored
  if (!current) return make_error(Code::NotFound, "no such event");
  auto venue = this->venue(current->venue_id);
  if (!venue) return venue.error();
  std::string status;  // the live map matters to prices alone: words and publication need no read of it
  if (!patch.prices.empty()) {
    auto map = ledger_.seat_map(*current, clock_.now());
    if (!map) return map.error();
    status = std::move(map->status);
  }
  if (auto s = core::check_event_edit(*current, (*venue)->layout, status, patch); !s) return s.error();
  if (auto s = store_.update_event(core::apply_event_edit(*current, patch)); !s) return s.error();
  auto updated = store_.find_event(id);
  if (!updated) return make_error(Code::NotFound, "no such event");
  std::lock_guard lock(cache_mu_);
  cache_event(*updated);
  return *updated;
}

core::Result<core::Event> Catalog::duplicate_event(core::EventId source, const std::string& name, TimeMs starts_at,
                                                   TimeMs on_sale_at) {
  auto from = event(source);
  if (!from) return from.error();
  core::Event draft = *from;
  draft.id = 0;
  draft.name = name;
  draft.starts_at = starts_at;
  draft.on_sale_at = on_sale_at;
  draft.published = false;  // a copy is a draft until its organizer publishes it
  draft.cancelled_at = TimeMs{};
  draft.cancel_reason.clear();
  draft.ticket_key_id = 1;
  return create_event(std::move(draft));
}

core::Result<core::Event> Catalog::postpone_event(core::EventId id, TimeMs starts_at, std::optional<TimeMs> on_sale_at) {
  auto current = store_.find_event(id);
  if (!current) return make_error(Code::NotFound, "no such event");
  auto plan = core::plan_postponement(*current, starts_at, on_sale_at, clock_.now());
  if (!plan) return plan.error();
  if (auto s = store_.postpone_event(id, plan->starts_at, plan->on_sale_at, clock_.now()); !s) return s.error();
  auto updated = store_.find_event(id);
  if (!updated) return make_error(Code::NotFound, "no such event");
  ledger_.event_dates_changed(*updated);
  std::lock_guard lock(cache_mu_);
  cache_event(*updated);
  return *updated;
}

core::Result<core::Event> Catalog::cancel_event(core::EventId id, const std::string& reason) {
  if (auto s = store_.cancel_event(id, clock_.now(), reason); !s) return s.error();
  auto updated = store_.find_event(id);
  if (!updated) return make_error(Code::NotFound, "no such event");
  std::lock_guard lock(cache_mu_);
  cache_event(*updated);  // this node stops selling at once; others within kEventCacheTtl
  return *updated;
}

core::Result<core::Event> Catalog::event(core::EventId id) {
  {
    std::lock_guard lock(cache_mu_);
    auto it = events_.find(id);
    if (it != events_.end() && copy_fresh_for_blocking(clock_.now() - it->second.loaded_at, kEventRefreshAfter))
      return *it->second.event;
  }
  auto event = store_.find_event(id);
  if (!event) return make_error(Code::NotFound, "no such event");
  std::lock_guard lock(cache_mu_);
  cache_event(*event);
  return *event;
}

std::shared_ptr<const core::Event> Catalog::cached_event(core::EventId id) {
  std::lock_guard lock(cache_mu_);
  auto it = events_.find(id);
  if (it == events_.end()) return nullptr;
  CachedEvent& kept = it->second;
  const KeptCopy use = kept_copy(clock_.now() - kept.loaded_at, kEventRefreshAfter, kEventCacheTtl, kept.refresh_sent);
  return use == KeptCopy::use ? kept.event : nullptr;
}

std::shared_ptr<const core::Venue> Catalog::cached_venue(core::VenueId id) {
  std::lock_guard lock(cache_mu_);
  auto it = venues_.find(id);
  return it == venues_.end() ? nullptr : it->second;
}

core::Result<EventPage> Catalog::list_events(core::EventQuery query) {
  if (query.limit < 1 || query.limit > core::limits::page_size_max)
    return make_error(Code::InvalidRequest, "limit: 1-100 required");
  if (query.text.size() > core::limits::search_text_bytes_max)
    return make_error(Code::InvalidRequest, "q: at most 200 bytes");
  EventPage page;
  page.events = store_.list_events(query);
  if (page.events.size() == query.limit)
    page.next = std::pair{page.events.back().starts_at, page.events.back().id};
  return page;
}

std::optional<uint64_t> Catalog::seat_map_version(const core::Event& event) {
  return ledger_.seat_map_version(event, clock_.now());
}

std::optional<core::SeatCounts> Catalog::seat_counts_in_memory(const core::Event& event) {
  return ledger_.seat_counts_in_memory(event, clock_.now());
}

core::Result<core::SeatMap> Catalog::seat_map(core::EventId id) {
  auto event = this->event(id);
  if (!event) return event.error();
  return ledger_.seat_map_shown(*event, clock_.now());
}

}  // namespace ticketd::app
