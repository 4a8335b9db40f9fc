// Best-available seat selection: a pure function of the layout, the event's prices and which
// seats are free, so it can be tested exhaustively and run under the event's lock.
//
// Preference, most important first:
//  1. all seats adjacent in one row;
//  2. leaving no lone free seat between the block and a taken seat or the row's end (an "orphan"
//     that nobody buying in pairs can use), when another choice exists;
//  3. the best price tier (the most expensive is the best seat);
//  4. rows nearer the stage (lower row index in the section);
//  5. nearer the centre of the row.
// When no row can seat everyone together, the party is split over the fewest blocks, largest free
// runs in the best tiers first.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/layout.hpp"

namespace ticketd::core {

struct BestAvailableRequest {
  uint32_t quantity = 0;
  std::optional<uint32_t> section;  // index into the layout's sections
};

// Whether `free_seats` free seats are too few for any pick of `request`: pick_best_available's first
// answer, which looks at no seat.
inline bool too_few_free(const BestAvailableRequest& request, uint32_t free_seats) {
  return free_seats < request.quantity;
}

// Returns the chosen seats, or nullopt if fewer than `quantity` seats are free (in the section).
// `prices` maps price tier -> minor units; tiers missing from it rank last. `free_seats`, when the
// caller keeps it (EventInventory::counts().available), is how many seats of the whole event is_free
// accepts: fewer than `quantity` is answered without looking at a seat, which is what a sold-out
// event's buyers meet. Cost: the rows up to the first that seats the party with no orphan left, best
// first; every seat when none does.
std::optional<std::vector<SeatId>> pick_best_available(const Layout& layout,
                                                       const std::map<std::string, int64_t>& prices,
                                                       const BestAvailableRequest& request,
                                                       const std::function<bool(SeatId)>& is_free,
                                                       std::optional<uint32_t> free_seats = std::nullopt);

}  // namespace ticketd::core
