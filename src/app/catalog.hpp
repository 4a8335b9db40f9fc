// Use cases: create and read venues and events, and seat maps.
// Venues never change after creation; of an event only its waiting-room settings change. Both are
// cached here (bounded: a full cache is emptied, never grown). A venue is read from the store only on
// a miss; an event also once its cached copy is older than kEventCacheTtl, so a settings change made
// on another node is seen within that time (on this node, at once).
// Thread safety: all methods are safe to call concurrently; cache_mu_ guards both caches.
#pragma once

#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/event_edit.hpp"
#include "core/ports/catalog_store.hpp"
#include "core/ports/ledger.hpp"

namespace ticketd::app {

struct EventPage {
  std::vector<core::Event> events;
  std::optional<std::pair<TimeMs, core::EventId>> next;  // cursor of the last row, if more may follow
};

class Catalog {
 public:
  static constexpr size_t kVenuesCachedMax = 1024;     // a venue is at most ~1.5 MB (flags per seat)
  static constexpr size_t kEventsCachedMax = 200'000;  // ~300 B each: the seed's 100K events fit
  // One store read per event per 1.5 s at most: nothing on the hold path, and a waiting room switched
  // on elsewhere is enforced here within 2 s. A copy past kEventRefreshAfter is read again by the next
  // blocking call; cached_event() sends one caller to make it (base/refresh_ahead.hpp).
  static constexpr Millis kEventCacheTtl{2'000};
  static constexpr Millis kEventRefreshAfter{1'500};

  Catalog(core::CatalogStore& store, core::Ledger& ledger, const Clock& clock);

  // `organization` 0: the platform's own venue (administrators manage it).
  core::Result<std::shared_ptr<const core::Venue>> create_venue(core::LayoutSpec spec,
                                                                core::OrganizationId organization = 0);
  std::vector<core::VenueSummary> venues_of(core::OrganizationId organization, core::VenueId after, uint32_t limit) {
    return store_.list_venues(organization, after, limit);
  }
  core::Result<std::shared_ptr<const core::Venue>> venue(core::VenueId id);
  core::Result<core::Event> create_event(core::Event draft);
  core::Result<core::Event> event(core::EventId id);
  // What event() and venue() would answer from memory, without asking the store: nullopt / null on a
  // miss or an event copy older than kEventCacheTtl, and for the one caller sent to refresh a copy past
  // kEventRefreshAfter. For callers that must not block; the copy is shared, not copied, since a hold on
  // the I/O thread reads it until the owner answers.
  std::shared_ptr<const core::Event> cached_event(core::EventId id);
  std::shared_ptr<const core::Venue> cached_venue(core::VenueId id);
  // Administrator: switch the waiting room on or off, or change its settings. Validated; durable.
  core::Result<core::Event> set_waiting_room(core::EventId id, const core::WaitingRoomSettings& settings);
  // Signs the event's new tickets with a new key (docs/tickets.md, "Keys"); older keys keep verifying.
  // InvalidRequest once the event has used limits::ticket_key_ids_max keys.
  core::Result<core::Event> rotate_ticket_key(core::EventId id);
  // Applies an organizer's edit once core::check_event_edit accepts it against the live seat map.
  core::Result<core::Event> update_event(core::EventId id, const core::EventPatch& patch);
  // A new event like `source` (venue, prices, limits, waiting room, entry rules, words), unpublished,
  // with these name and dates.
  core::Result<core::Event> duplicate_event(core::EventId source, const std::string& name, TimeMs starts_at,
                                            TimeMs on_sale_at);
  // Moves the event to a new date (core::plan_postponement's rules); every buyer is told, with their
  // tickets (valid until the new date) in the email.
  core::Result<core::Event> postpone_event(core::EventId id, TimeMs starts_at, std::optional<TimeMs> on_sale_at);
  // Marks the event cancelled (once; see app/event_cancellations for the refunds).
  core::Result<core::Event> cancel_event(core::EventId id, const std::string& reason);
  core::Result<EventPage> list_events(core::EventQuery query);
  // The map to show people (core::Ledger::seat_map_shown): it may trail the decisions by the change
  // feed's delay, so no decision reads it.
  core::Result<core::SeatMap> seat_map(core::EventId id);
  // See core::Ledger::seat_map_version and seat_counts_in_memory.
  std::optional<uint64_t> seat_map_version(const core::Event& event);
  std::optional<core::SeatCounts> seat_counts_in_memory(const core::Event& event);

 private:
  core::CatalogStore& store_;
  core::Ledger& ledger_;
  const Clock& clock_;
  std::mutex cache_mu_;
  std::unordered_map<core::VenueId, std::shared_ptr<const core::Venue>> venues_;
  struct CachedEvent {
    std::shared_ptr<const core::Event> event;
    TimeMs loaded_at;
    bool refresh_sent = false;  // cached_event() sent a caller to read it again
  };
  void cache_event(const core::Event& event);  // REQUIRES: cache_mu_ held
  std::unordered_map<core::EventId, CachedEvent> events_;
};

}  // namespace ticketd::app
