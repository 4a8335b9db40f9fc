#include "core/waitlist.hpp"

#include <algorithm>

namespace ticketd::core {

const char* to_string(WaitlistState s) {
  switch (s) {
    case WaitlistState::Waiting: return "WAITING";
    case WaitlistState::Offered: return "OFFERED";
    case WaitlistState::Fulfilled: return "FULFILLED";
    case WaitlistState::Lapsed: return "LAPSED";
    case WaitlistState::Left: return "LEFT";
    case WaitlistState::Skipped: return "SKIPPED";
  }
  return "LEFT";
}

std::optional<WaitlistState> waitlist_state_from(std::string_view s) {
  for (auto st : {WaitlistState::Waiting, WaitlistState::Offered, WaitlistState::Fulfilled, WaitlistState::Lapsed,
                  WaitlistState::Left, WaitlistState::Skipped})
    if (s == to_string(st)) return st;
  return std::nullopt;
}

void WaitlistCounts::add(WaitlistState s, uint64_t n) {
  switch (s) {
    case WaitlistState::Waiting: waiting += n; break;
    case WaitlistState::Offered: offered += n; break;
    case WaitlistState::Fulfilled: fulfilled += n; break;
    case WaitlistState::Lapsed: lapsed += n; break;
    case WaitlistState::Left: left += n; break;
    case WaitlistState::Skipped: skipped += n; break;
  }
}

Status validate(const WaitlistSettings& s) {
  if (s.offer_ttl_s < kOfferTtlMinS || s.offer_ttl_s > kOfferTtlMaxS)
    return make_error(Code::InvalidRequest, "offer_ttl_s must be 10..86400");
  if (s.draw_window_s > kDrawWindowMaxS) return make_error(Code::InvalidRequest, "draw_window_s must be 0..3600");
  return ok_status();
}

Status validate(const WaitlistWant& want, const Event& event) {
  if (want.quantity < 1 || want.quantity > event.max_tickets_per_user)
    return make_error(Code::InvalidRequest,
                      "quantity must be 1.." + std::to_string(event.max_tickets_per_user) + " for this event");
  if (!want.tier.empty() && !event.prices.contains(want.tier))
    return make_error(Code::InvalidRequest, "tier: this event has no price tier named that");
  return ok_status();
}

namespace {

struct Run {
  size_t first = 0;  // index into the filtered free seats
  uint32_t length = 0;
};

// Maximal runs of adjacent free seats in one row, in layout order.
std::vector<Run> runs_of(const Layout& layout, const std::vector<SeatId>& seats) {
  std::vector<Run> runs;
  for (size_t i = 0; i < seats.size(); ++i) {
    const bool extends = i > 0 && seats[i] == seats[i - 1] + 1 &&
                         layout.seat(seats[i]).row == layout.seat(seats[i - 1]).row &&
                         layout.seat(seats[i]).section == layout.seat(seats[i - 1]).section;
    if (extends) ++runs.back().length;
    else runs.push_back(Run{i, 1});
  }
  return runs;
}

}  // namespace

std::optional<std::vector<SeatId>> seats_for(const Layout& layout, const WaitlistWant& want,
                                             const std::vector<SeatId>& free_seats) {
  std::vector<SeatId> seats;
  seats.reserve(free_seats.size());
  for (SeatId s : free_seats)
    if (layout.contains(s) && (want.tier.empty() || layout.price_tier_of(s) == want.tier)) seats.push_back(s);
  if (want.quantity == 0 || seats.size() < want.quantity) return std::nullopt;
  const std::vector<Run> runs = runs_of(layout, seats);
  // An adjacent block first, in layout order (the sections and rows a venue lists first).
  for (const Run& r : runs)
    if (r.length >= want.quantity)
      return std::vector<SeatId>(seats.begin() + static_cast<ptrdiff_t>(r.first),
                                 seats.begin() + static_cast<ptrdiff_t>(r.first + want.quantity));
  if (want.together) return std::nullopt;
  // Split: the fewest blocks, longest runs first.
  std::vector<Run> longest = runs;
  std::stable_sort(longest.begin(), longest.end(), [](const Run& a, const Run& b) { return a.length > b.length; });
  std::vector<SeatId> out;
  for (const Run& r : longest) {
    for (uint32_t i = 0; i < r.length && out.size() < want.quantity; ++i) out.push_back(seats[r.first + i]);
    if (out.size() == want.quantity) break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<int64_t> waitlist_estimate_s(uint64_t position, uint64_t offers_last_hour) {
  if (offers_last_hour == 0 || position == 0) return std::nullopt;
  // position entries must be served at the last hour's pace: position / (offers / 3600 s).
  return static_cast<int64_t>((position * 3600 + offers_last_hour - 1) / offers_last_hour);
}

}  // namespace ticketd::core
