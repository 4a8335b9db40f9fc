// Port: venues (layouts) and events. Venues are immutable once created; of an event only its
// waiting-room settings change (set_waiting_room), so callers may cache events for a short while
// (app::Catalog re-reads after Catalog::kEventCacheTtl, which bounds how long another node may act on
// old settings).
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/layout.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct Venue {
  VenueId id = 0;
  OrganizationId organization_id = 0;  // fixed at creation; 0: the platform's
  Layout layout;
};

struct VenueSummary {
  VenueId id = 0;
  std::string name;
  uint32_t seats_total = 0;
};

struct EventQuery {
  std::string text;  // case-insensitive substring of the name; empty = any
  std::optional<TimeMs> starts_from;   // inclusive
  std::optional<TimeMs> starts_before; // exclusive
  uint32_t limit = 20;
  std::optional<std::pair<TimeMs, EventId>> after;  // keyset cursor: (starts_at, id) of the last row seen
  std::optional<OrganizationId> organization;  // only this organization's events (its console)
  bool include_unpublished = false;            // the console's listing; the catalogue shows published ones
};

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  virtual Result<VenueId> create_venue(const Layout& layout, OrganizationId organization, TimeMs now) = 0;
  virtual std::shared_ptr<const Venue> find_venue(VenueId id) = 0;
  // An organization's venues by id, after `after` (keyset), at most `limit`.
  virtual std::vector<VenueSummary> list_venues(OrganizationId organization, VenueId after, uint32_t limit) = 0;
  // Assigns event.id; durable before it returns.
  virtual Result<Event> create_event(Event event, TimeMs now) = 0;
  virtual std::optional<Event> find_event(EventId id) = 0;
  virtual std::vector<Event> list_events(const EventQuery& query) = 0;
  // Durable before it returns. NotFound for an unknown event.
  virtual Status set_waiting_room(EventId id, const WaitingRoomSettings& settings) = 0;
  // Makes key `key_id` the one new tickets of the event are signed with, if the current one is
  // key_id - 1 (so two rotations at once make one step). NotFound: no such event; Unavailable: the
  // current key had changed (another rotation won).
  virtual Status set_ticket_key(EventId id, uint32_t key_id) = 0;
  // Name, description, image, published and prices (replaced whole), in one commit. NotFound.
  virtual Status update_event(const Event& event) = 0;
  // Moves the event to new dates and queues an event_postponed notice to every buyer of a confirmed
  // booking, in one commit; remembers the date it moved from. NotFound.
  virtual Status postpone_event(EventId id, TimeMs starts_at, TimeMs on_sale_at, TimeMs now) = 0;
  // Marks the event cancelled, once: a second call keeps the first time and reason. NotFound: no event.
  virtual Status cancel_event(EventId id, TimeMs now, const std::string& reason) = 0;
};

}  // namespace ticketd::core
