// --demo: a venue and an event to click through on a fresh install (and --demo-queue: the same event
// behind a waiting room). Nothing is seeded when an event exists already, so restarts add nothing.
#pragma once

#include "app/catalog.hpp"
#include "base/clock.hpp"

namespace ticketd::wiring {

// Logs what it created, or why it could not; never fails the start.
void seed_demo(app::Catalog& catalog, const Clock& clock, bool queued);

}  // namespace ticketd::wiring
