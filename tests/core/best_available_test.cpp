#include "core/best_available.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <tuple>

using namespace ticketd::core;

namespace {
Layout two_sections() {
  LayoutSpec spec{"Hall", {}};
  spec.sections.push_back({"Balcony", "cheap", {{"A", 10, {}, {}, {}}, {"B", 10, {}, {}, {}}}});
  spec.sections.push_back({"Stalls", "dear", {{"A", 6, {}, {}, {}}, {"B", 6, {}, {}, {}}}});
  return *Layout::build(spec);
}
const std::map<std::string, int64_t> kPrices{{"cheap", 1000}, {"dear", 5000}};
}  // namespace

TEST(BestAvailable, PrefersTheBestTierFrontRowCentre) {
  Layout l = two_sections();
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, [](SeatId) { return true; });
  ASSERT_TRUE(seats);
  // Stalls row A is seats 20..25; the centre pair is 22, 23.
  EXPECT_EQ(*seats, (std::vector<SeatId>{22, 23}));
}

TEST(BestAvailable, NeverLeavesAnOrphanWhenAnotherChoiceExists) {
  Layout l = two_sections();
  // Stalls row A (20..25): 20 taken. Free run 21..25 (5 seats). A pair at 22-23 would leave 21 alone.
  std::set<SeatId> taken{20};
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, [&](SeatId s) { return !taken.contains(s); });
  ASSERT_TRUE(seats);
  const SeatId first = (*seats)[0];
  const uint32_t left = first - 21, right = 25 - (first + 1);
  EXPECT_NE(left, 1u);
  EXPECT_NE(right, 1u);
  EXPECT_GE(first, 20u);
  EXPECT_LE(first, 24u);
}

TEST(BestAvailable, KeepsThePartyTogetherInALowerTierIfNeeded) {
  Layout l = two_sections();
  // Stalls: only alternating seats free, so no pair fits there.
  auto free = [](SeatId s) { return s < 20 || s % 2 == 0; };
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, free);
  ASSERT_TRUE(seats);
  EXPECT_LT((*seats)[0], 20u);
  EXPECT_EQ((*seats)[1], (*seats)[0] + 1);
}

TEST(BestAvailable, SplitsOverFewestBlocksWhenNoRowFits) {
  Layout l = two_sections();
  auto seats = pick_best_available(l, kPrices, {12, std::nullopt}, [](SeatId s) { return s >= 20; });
  ASSERT_TRUE(seats);
  EXPECT_EQ(seats->size(), 12u);
}

TEST(BestAvailable, NotEnoughSeatsIsNullopt) {
  Layout l = two_sections();
  EXPECT_FALSE(pick_best_available(l, kPrices, {3, 1u}, [](SeatId s) { return s == 20 || s == 21; }));
}

TEST(BestAvailable, RespectsTheSection) {
  Layout l = two_sections();
  auto seats = pick_best_available(l, kPrices, {4, 0u}, [](SeatId) { return true; });
  ASSERT_TRUE(seats);
  for (SeatId s : *seats) EXPECT_LT(s, 20u);
}

// The choice as the full scan of every row in seat-id order made it, before rows were visited best
// first and the scan stopped at the first row that seats the party with no orphan: the reference the
// faster search must agree with, seat for seat.
namespace {
std::optional<std::vector<SeatId>> full_scan_pick(const Layout& layout, const std::map<std::string, int64_t>& prices,
                                                  const BestAvailableRequest& request,
                                                  const std::function<bool(SeatId)>& is_free) {
  const uint32_t q = request.quantity;
  const auto& sections = layout.spec().sections;
  std::vector<uint32_t> order(sections.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto price = [&](uint32_t s) {
    auto it = prices.find(sections[s].price_tier);
    return it == prices.end() ? -1 : it->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return price(a) > price(b); });
  std::vector<uint32_t> rank_of(order.size());
  for (uint32_t r = 0; r < order.size(); ++r) rank_of[order[r]] = r;
  using Score = std::tuple<int, uint32_t, uint32_t, uint32_t>;
  std::optional<std::pair<Score, SeatId>> best;
  std::vector<std::tuple<uint32_t, SeatId, uint32_t>> all_runs;  // (rank, first, length)
  uint64_t free_total = 0;
  for (const RowRef& row : layout.rows()) {
    if (request.section && row.section != *request.section) continue;
    for (uint32_t i = 0; i < row.seats;) {
      if (!is_free(row.first_seat + i)) {
        ++i;
        continue;
      }
      uint32_t j = i;
      while (j < row.seats && is_free(row.first_seat + j)) ++j;
      const uint32_t length = j - i;
      free_total += length;
      all_runs.emplace_back(rank_of[row.section], row.first_seat + i, length);
      for (uint32_t off = 0; length >= q && off + q <= length; ++off) {
        const int orphan = (off == 1 || length - q - off == 1) ? 1 : 0;
        const int64_t d2 = static_cast<int64_t>(2 * (i + off) + q) - static_cast<int64_t>(row.seats);
        const Score score{orphan, rank_of[row.section], row.row, static_cast<uint32_t>(d2 < 0 ? -d2 : d2)};
        if (!best || score < best->first) best = {score, row.first_seat + i + off};
      }
      i = j;
    }
  }
  if (free_total < q) return std::nullopt;
  std::vector<SeatId> seats;
  if (best) {
    for (uint32_t i = 0; i < q; ++i) seats.push_back(best->second + i);
    return seats;
  }
  std::stable_sort(all_runs.begin(), all_runs.end(), [](const auto& a, const auto& b) {
    if (std::get<2>(a) != std::get<2>(b)) return std::get<2>(a) > std::get<2>(b);
    return std::get<0>(a) < std::get<0>(b);
  });
  for (const auto& [rank, first, length] : all_runs)
    for (uint32_t i = 0; i < length && seats.size() < q; ++i) seats.push_back(first + i);
  return seats;
}
}  // namespace

TEST(BestAvailable, ChoosesAsTheFullScanOfEveryRowDid) {
  std::mt19937 rng(20261207);
  auto below = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  const std::vector<std::string> tiers{"cheap", "mid", "dear", "unpriced"};
  const std::map<std::string, int64_t> prices{{"cheap", 1000}, {"mid", 3000}, {"dear", 5000}};
  int picked = 0, split = 0, refused = 0;
  for (int round = 0; round < 3000; ++round) {
    LayoutSpec spec{"Hall", {}};
    const uint32_t sections = 1 + below(4);
    for (uint32_t s = 0; s < sections; ++s) {
      SectionSpec section{"S" + std::to_string(s), tiers[below(tiers.size())], {}};
      const uint32_t rows = 1 + below(5);
      for (uint32_t r = 0; r < rows; ++r) section.rows.push_back({"R" + std::to_string(r), 1 + below(12), {}, {}, {}});
      spec.sections.push_back(std::move(section));
    }
    auto layout = Layout::build(spec);
    ASSERT_TRUE(layout) << layout.error().message;
    // From nearly empty to nearly sold out, so that every branch (a block, a split, too few) is met.
    const uint32_t taken_pct = below(101);
    std::vector<bool> free(layout->seats_total());
    uint32_t free_seats = 0;
    for (size_t s = 0; s < free.size(); ++s) free_seats += (free[s] = below(100) >= taken_pct);
    const auto is_free = [&](SeatId s) { return static_cast<bool>(free[s]); };
    BestAvailableRequest request{1 + below(6), std::nullopt};
    if (below(3) == 0) request.section = below(sections);
    const auto expected = full_scan_pick(*layout, prices, request, is_free);
    EXPECT_EQ(pick_best_available(*layout, prices, request, is_free), expected) << "round " << round;
    EXPECT_EQ(pick_best_available(*layout, prices, request, is_free, free_seats), expected) << "round " << round;
    if (!expected) ++refused;
    else if (expected->back() - expected->front() + 1 != expected->size()) ++split;
    else ++picked;
  }
  // The rounds reached every outcome.
  EXPECT_GT(picked, 100);
  EXPECT_GT(split, 10);
  EXPECT_GT(refused, 100);
}

TEST(BestAvailable, FewerFreeSeatsThanThePartyLooksAtNoSeat) {
  Layout l = two_sections();
  int looked = 0;
  auto free = [&](SeatId) {
    ++looked;
    return true;
  };
  EXPECT_FALSE(pick_best_available(l, kPrices, {3, std::nullopt}, free, 2u));
  EXPECT_EQ(looked, 0);
  EXPECT_TRUE(pick_best_available(l, kPrices, {3, std::nullopt}, free, 3u));
  EXPECT_GT(looked, 0);
}

TEST(BestAvailable, StopsAtTheFirstRowThatSeatsThePartyWithoutAnOrphan) {
  Layout l = two_sections();
  std::set<SeatId> looked;
  auto seats = pick_best_available(l, kPrices, {2, std::nullopt}, [&](SeatId s) {
    looked.insert(s);
    return true;
  });
  ASSERT_TRUE(seats);
  // Stalls row A (20..25) is the best row and seats a pair with none left alone: nothing else is read.
  EXPECT_EQ(looked, (std::set<SeatId>{20, 21, 22, 23, 24, 25}));
}
