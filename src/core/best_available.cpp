#include "core/best_available.hpp"

#include <algorithm>
#include <tuple>

namespace ticketd::core {
namespace {

struct Run {  // a maximal stretch of free seats in one row
  SeatId first;
  uint32_t length;
};

// Ranks sections best first: higher price, then layout order.
std::vector<uint32_t> sections_by_rank(const Layout& layout, const std::map<std::string, int64_t>& prices) {
  const auto& sections = layout.spec().sections;
  std::vector<uint32_t> order(sections.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto price = [&](uint32_t s) {
    auto it = prices.find(sections[s].price_tier);
    return it == prices.end() ? -1 : it->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return price(a) > price(b); });
  return order;
}

void free_runs(const RowRef& row, const std::function<bool(SeatId)>& is_free, std::vector<Run>& out) {
  uint32_t i = 0;
  while (i < row.seats) {
    if (!is_free(row.first_seat + i)) {
      ++i;
      continue;
    }
    uint32_t j = i;
    while (j < row.seats && is_free(row.first_seat + j)) ++j;
    out.push_back(Run{row.first_seat + i, j - i});
    i = j;
  }
}

// Score of a block inside a run: lower is better. (orphan, tier rank, row, distance from centre x2)
using Score = std::tuple<int, uint32_t, uint32_t, uint32_t>;

struct Candidate {
  Score score;
  SeatId first;
};

// The rows of each section, in seat-id order: [first, end) indexes into layout.rows().
std::vector<std::pair<size_t, size_t>> rows_by_section(const Layout& layout) {
  std::vector<std::pair<size_t, size_t>> out(layout.spec().sections.size(), {0, 0});
  const std::vector<RowRef>& rows = layout.rows();
  for (size_t i = 0; i < rows.size(); ++i) {
    auto& [first, end] = out[rows[i].section];
    if (first == end) first = i;
    end = i + 1;
  }
  return out;
}

}  // namespace

std::optional<std::vector<SeatId>> pick_best_available(const Layout& layout,
                                                       const std::map<std::string, int64_t>& prices,
                                                       const BestAvailableRequest& request,
                                                       const std::function<bool(SeatId)>& is_free,
                                                       std::optional<uint32_t> free_seats) {
  const uint32_t q = request.quantity;
  TICKETD_ASSERT(q > 0);
  if (free_seats && too_few_free(request, *free_seats)) return std::nullopt;  // sold out, or nearly: no seat looked at
  const std::vector<uint32_t> order = sections_by_rank(layout, prices);
  const std::vector<std::pair<size_t, size_t>> section_rows = rows_by_section(layout);

  // Rows are visited best first (section rank, then row), so the first row with a block that leaves
  // no orphan holds the answer: every later row scores worse whatever its seats. Only when no such
  // block exists is every seat looked at. A row's (rank, row) is its own, so equal scores can only
  // come from one row, which is scanned left to right as before: the choice is the full scan's.
  std::optional<Candidate> best;
  std::vector<std::pair<uint32_t, Run>> all_runs;  // (rank, run) for the split fallback
  std::vector<Run> runs;
  uint64_t free_total = 0;
  for (uint32_t rank = 0; rank < order.size(); ++rank) {
    const uint32_t section = order[rank];
    if (request.section && section != *request.section) continue;
    for (size_t i = section_rows[section].first; i < section_rows[section].second; ++i) {
      const RowRef& row = layout.rows()[i];
      runs.clear();
      free_runs(row, is_free, runs);
      for (const Run& run : runs) {
        free_total += run.length;
        all_runs.emplace_back(rank, run);
        if (run.length < q) continue;
        for (uint32_t off = 0; off + q <= run.length; ++off) {
          const uint32_t left = off, right = run.length - q - off;
          const int orphan = (left == 1 || right == 1) ? 1 : 0;
          const uint32_t start_in_row = run.first - row.first_seat + off;
          // Twice the distance between the block's centre and the row's centre, to stay in integers.
          const int64_t d2 = static_cast<int64_t>(2 * start_in_row + q) - static_cast<int64_t>(row.seats);
          const Score score{orphan, rank, row.row, static_cast<uint32_t>(d2 < 0 ? -d2 : d2)};
          if (!best || score < best->score) best = Candidate{score, run.first + off};
        }
      }
      if (best && std::get<0>(best->score) == 0) break;
    }
    if (best && std::get<0>(best->score) == 0) break;
  }
  if (!best && free_total < q) return std::nullopt;
  std::vector<SeatId> seats;
  if (best) {
    for (uint32_t i = 0; i < q; ++i) seats.push_back(best->first + i);
    return seats;
  }
  // Nobody can sit together: fewest blocks, i.e. the longest runs first, better tiers breaking ties.
  std::stable_sort(all_runs.begin(), all_runs.end(), [](const auto& a, const auto& b) {
    if (a.second.length != b.second.length) return a.second.length > b.second.length;
    return a.first < b.first;
  });
  for (const auto& [rank, run] : all_runs) {
    for (uint32_t i = 0; i < run.length && seats.size() < q; ++i) seats.push_back(run.first + i);
    if (seats.size() == q) break;
  }
  TICKETD_ASSERT(seats.size() == q);
  return seats;
}

}  // namespace ticketd::core
