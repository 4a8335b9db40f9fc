// ticket-bench's recorder: how replies are classified and counted, and its bounds. No I/O.
#include "stats.hpp"

#include <gtest/gtest.h>

using namespace ticketd::bench;
using std::chrono::milliseconds;

namespace {
const SteadyTime t0{};
}

TEST(OutcomeOf, NamesTheStatusAndTheErrorCode) {
  EXPECT_EQ(outcome_of(201, R"({"id":1})"), "201");
  EXPECT_EQ(outcome_of(409, R"({"error":{"code":"seat_unavailable","message":"x"}})"), "409 seat_unavailable");
  EXPECT_EQ(outcome_of(503, R"({"error":{"code":"overloaded","message":"x"}})"), "503 overloaded");
  EXPECT_EQ(outcome_of(0, ""), "transport");
}

TEST(OutcomeOf, FallsBackToTheStatusWhenTheBodyIsNotAnErrorObject) {
  EXPECT_EQ(outcome_of(500, "Internal Server Error"), "500");
  EXPECT_EQ(outcome_of(400, R"({"error":"flat"})"), "400");
  EXPECT_EQ(outcome_of(400, R"({"error":{"code":7}})"), "400");
  EXPECT_EQ(outcome_of(400, std::string(5000, ' ')), "400");  // long bodies are not parsed
}

TEST(Recorder, ClassifiesOkExpectedRefusalsAndFailures) {
  Recorder r(t0);
  r.record(Op::Hold, t0, t0 + milliseconds(2), 201, "201", false);
  r.record(Op::Hold, t0, t0 + milliseconds(3), 409, "409 seat_unavailable", true);
  r.record(Op::Hold, t0, t0 + milliseconds(4), 409, "409 ticket_limit_exceeded", false);
  r.record(Op::Hold, t0, t0 + milliseconds(5), 503, "503 overloaded", true);  // a 5xx is never "expected"
  r.record(Op::Hold, t0, t0 + milliseconds(6), 0, "transport", false);
  const OpStats& s = r.op(Op::Hold);
  EXPECT_EQ(s.ok, 1u);
  EXPECT_EQ(s.refused, 1u);
  EXPECT_EQ(s.failed, 3u);
  EXPECT_EQ(r.server_errors(), 1u);
  EXPECT_EQ(r.transport_errors(), 1u);
  EXPECT_EQ(s.latency_us.count(), 5u);
  EXPECT_EQ(s.latency_us.max(), 6000u);
  EXPECT_EQ(s.outcomes.at("409 seat_unavailable"), 1u);
}

TEST(Recorder, DistinctOutcomesAreBoundedAndTheRestCountAsOther) {
  Recorder r(t0);
  for (size_t i = 0; i < kCodesMax + 10; ++i)
    r.record(Op::Checkout, t0, t0, 400, "400 code" + std::to_string(i), false);
  const OpStats& s = r.op(Op::Checkout);
  EXPECT_EQ(s.outcomes.size(), kCodesMax + 1);  // kCodesMax keys + "other"
  EXPECT_EQ(s.outcomes.at("other"), 10u);
}

TEST(Recorder, TimelineBucketsBySecondAndFoldsThePastTheCap) {
  Recorder r(t0);
  r.record(Op::SeatMap, t0, t0 + milliseconds(500), 200, "200", false);
  r.record(Op::SeatMap, t0, t0 + milliseconds(2'100), 200, "200", false);
  r.record(Op::SeatMap, t0, t0 + std::chrono::seconds(kTimelineSecondsMax + 50), 200, "200", false);
  ASSERT_EQ(r.timeline().size(), kTimelineSecondsMax);
  const size_t seatmap = static_cast<size_t>(Op::SeatMap);
  EXPECT_EQ(r.timeline()[0].completed[seatmap], 1u);
  EXPECT_EQ(r.timeline()[2].completed[seatmap], 1u);
  EXPECT_EQ(r.timeline()[kTimelineSecondsMax - 1].completed[seatmap], 1u);
}

TEST(Recorder, MergeAddsEverything) {
  Recorder a(t0), b(t0);
  a.record(Op::Hold, t0, t0 + milliseconds(1), 201, "201", false);
  b.record(Op::Hold, t0, t0 + milliseconds(1'500), 500, "500", false);
  a.merge(b);
  EXPECT_EQ(a.op(Op::Hold).latency_us.count(), 2u);
  EXPECT_EQ(a.op(Op::Hold).ok, 1u);
  EXPECT_EQ(a.op(Op::Hold).failed, 1u);
  EXPECT_EQ(a.server_errors(), 1u);
  ASSERT_EQ(a.timeline().size(), 2u);
  EXPECT_EQ(a.timeline()[1].completed[static_cast<size_t>(Op::Hold)], 1u);
}
