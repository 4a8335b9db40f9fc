// The demo seed (see demo.hpp): "Demo Arena", three sections of 300, 600 and 1,000 seats, and one
// event on sale now (or, queued, in 2 minutes behind a waiting room).
#include "wiring/demo.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <vector>

namespace ticketd::wiring {

void seed_demo(app::Catalog& catalog, const Clock& clock, bool queued) {
  if (!catalog.list_events(core::EventQuery{})->events.empty()) return;
  core::LayoutSpec spec{"Demo Arena", {}};
  auto rows = [](int count, uint32_t seats) {
    std::vector<core::RowSpec> out;
    for (int i = 0; i < count; ++i)
      out.push_back(core::RowSpec{std::string(1, static_cast<char>('A' + i)), seats, {}, {}, {}});
    out[0].accessible = {1, 2};
    out[0].companion = {3};
    return out;
  };
  spec.sections.push_back({"Floor", "premium", rows(10, 30)});
  spec.sections.push_back({"Lower Bowl", "standard", rows(15, 40)});
  spec.sections.push_back({"Upper Bowl", "value", rows(20, 50)});
  auto venue = catalog.create_venue(spec);
  if (!venue) return spdlog::error("demo venue: {}", venue.error().message);
  core::Event e;
  e.name = "Demo Night: The Seat Savers";
  e.venue_id = (*venue)->id;
  e.on_sale_at = clock.now() - Millis(60'000);
  e.starts_at = clock.now() + std::chrono::days(30);
  e.currency = "USD";
  e.prices = {{"premium", 15000}, {"standard", 8500}, {"value", 4500}};
  e.max_tickets_per_user = 8;
  if (queued) {
    // A flash sale: on sale in 2 minutes, the room open now; 5 people every 10 s, 2 minutes each to hold.
    e.on_sale_at = clock.now() + Millis(120'000);
    e.waiting_room = core::WaitingRoomSettings{true, 5, Millis(10'000), Millis(120'000), Millis(3'600'000)};
  }
  auto event = catalog.create_event(e);
  if (!event) return spdlog::error("demo event: {}", event.error().message);
  spdlog::info("demo venue_id={} event_id={} seats={} on_sale_at={} waiting_room={}", (*venue)->id, event->id,
               event->seats_total, format_rfc3339(event->on_sale_at), queued ? "on" : "off");
}

}  // namespace ticketd::wiring
