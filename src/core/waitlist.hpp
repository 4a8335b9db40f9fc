// The waiting list of a sold-out event (docs/resale.md): who is next, and which returned seats an
// entry takes. Plain values and pure functions: no I/O, no clock, so the order and the matching are
// tested exactly and driven by the seeded simulation (tests/core/waitlist_sim_test.cpp).
//
// Order: an entry's score is its place. Joins within the draw window after the list's first join are
// early: their score is the lottery key of the list's seed (app/lottery.hpp, as in the waiting room),
// so their order is fixed by a seed committed to at the first join and published at the end of the
// window. Later joins score core::kLateScoreBase + an arrival sequence: after every early entry, first
// come first served.
//
// Offers: a seat that comes back while entries wait goes to the first WAITING entry (by score) that it
// satisfies, as a hold of that buyer's (the offer). An entry that the free seats cannot satisfy (too
// few, not together, not its tier) is passed over for this round only: it keeps its place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hpp"
#include "core/layout.hpp"
#include "core/ports/waiting_room.hpp"  // kLateScoreBase, LotterySeed: the draw is the waiting room's
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

// WAITING: in line. OFFERED: seats are held for the buyer until the offer's deadline. FULFILLED: the
// offer was paid. LAPSED: the offer was declined or its deadline passed. LEFT: the buyer left the list.
// SKIPPED: an offer could not be made to this buyer (their ticket limit is used up).
enum class WaitlistState : uint8_t { Waiting, Offered, Fulfilled, Lapsed, Left, Skipped };
const char* to_string(WaitlistState s);
std::optional<WaitlistState> waitlist_state_from(std::string_view s);
inline bool is_active(WaitlistState s) { return s == WaitlistState::Waiting || s == WaitlistState::Offered; }

// The organizer's settings; no row stored means these defaults.
struct WaitlistSettings {
  bool open = true;     // new entries are taken (closed: those in line are still served)
  bool enabled = true;  // off: no offers, and returned seats go on open sale; entries wait dormant
  uint32_t offer_ttl_s = 1800;
  uint32_t draw_window_s = 300;
  // Seats listed for resale go on open sale when nobody waits; off: they are kept for this list's
  // offers (docs/resale.md). The seat ledger applies it (core::InventoryRules::resale_on_open_sale).
  bool resale_open_sale = true;
};
inline constexpr uint32_t kOfferTtlMinS = 10;  // a flash sale may want quick turns; tests want short waits
inline constexpr uint32_t kOfferTtlMaxS = 86'400;
inline constexpr uint32_t kDrawWindowMaxS = 3'600;
Status validate(const WaitlistSettings& s);

struct WaitlistEntry {
  int64_t id = 0;
  EventId event_id = 0;
  UserId user_id = 0;
  uint32_t quantity = 1;
  bool together = true;
  std::string tier;  // empty: any tier
  uint64_t score = 0;
  TimeMs joined_at{};
  WaitlistState state = WaitlistState::Waiting;
  HoldId hold_id = 0;  // OFFERED and after: the offer's hold
  TimeMs offered_at{};
  TimeMs ended_at{};
  bool early() const { return score < kLateScoreBase; }  // joined within the draw window
};

// What a list is, as stored: settings, and once opened (its first join) the seed of its draw.
struct WaitlistRecord {
  EventId event_id = 0;
  WaitlistSettings settings;
  bool opened = false;
  TimeMs opened_at{};
  std::string seed_hex;           // the draw's seed (64 hex digits), secret until draw_at()
  std::string commitment;         // hex SHA-256 of the seed, published from the first join
  uint64_t waiting = 0;           // entries WAITING now (kept with every change: no count over the entries)
  uint64_t offered = 0;           // entries OFFERED now
  TimeMs draw_at() const { return opened_at + std::chrono::seconds(settings.draw_window_s); }
  bool drawn(TimeMs now) const { return opened && now >= draw_at(); }
};

struct WaitlistCounts {
  uint64_t waiting = 0, offered = 0, fulfilled = 0, lapsed = 0, left = 0, skipped = 0;
  uint64_t offers_last_hour = 0;        // entries that got an offer in the hour before `now`
  uint64_t seats_offered_last_hour = 0;
  void add(WaitlistState s, uint64_t n);  // n more entries in state s
};

// Where a scan of OFFERED entries is, in (offered_at, id) order.
struct OfferCursor {
  TimeMs offered_at{};
  int64_t id = 0;
};

// The request of a join, validated against the event: quantity 1..max_tickets_per_user, a tier the
// event prices (or empty). InvalidRequest names the field.
struct WaitlistWant {
  uint32_t quantity = 1;
  bool together = true;
  std::string tier;
};
Status validate(const WaitlistWant& want, const Event& event);

// Seats for one entry among the free ones, or nullopt. `free_seats` ascending (layout order, so a row's
// seats are consecutive ids). together: `quantity` adjacent seats in one row; otherwise any seats, an
// adjacent block when one exists, else the longest free runs first. Only seats of `tier` when set.
// O(free seats).
std::optional<std::vector<SeatId>> seats_for(const Layout& layout, const WaitlistWant& want,
                                             const std::vector<SeatId>& free_seats);

// How long until an entry at `position` (1 = next) gets an offer, from the offers of the last hour;
// nullopt when there were none (no honest estimate).
std::optional<int64_t> waitlist_estimate_s(uint64_t position, uint64_t offers_last_hour);

}  // namespace ticketd::core
