// The door's rule (core/checkin.hpp): every (ticket status, direction) pair.
#include "core/checkin.hpp"

#include <gtest/gtest.h>

namespace ticketd::core {
namespace {

TEST(DecideCheckin, AValidTicketGetsInOnceAndMayLeaveAndComeBack) {
  auto in = decide_checkin(TicketStatus::Valid, ScanDirection::In);
  EXPECT_EQ(in.result, CheckinResult::Ok);
  EXPECT_EQ(in.next, TicketStatus::CheckedIn);
  auto again = decide_checkin(TicketStatus::CheckedIn, ScanDirection::In);
  EXPECT_EQ(again.result, CheckinResult::AlreadyIn);
  EXPECT_FALSE(again.next);
  auto out = decide_checkin(TicketStatus::CheckedIn, ScanDirection::Out);
  EXPECT_EQ(out.result, CheckinResult::Ok);
  EXPECT_EQ(out.next, TicketStatus::Valid);
  auto out_again = decide_checkin(TicketStatus::Valid, ScanDirection::Out);
  EXPECT_EQ(out_again.result, CheckinResult::NotIn);
  EXPECT_FALSE(out_again.next);
}

TEST(DecideCheckin, ARevokedTicketNeverMoves) {
  for (auto d : {ScanDirection::In, ScanDirection::Out}) {
    auto r = decide_checkin(TicketStatus::Revoked, d);
    EXPECT_EQ(r.result, CheckinResult::Revoked);
    EXPECT_FALSE(r.next);
  }
}

TEST(DecideCheckin, ResultsAndDirectionsRoundTripThroughTheirNames) {
  for (auto r : {CheckinResult::Ok, CheckinResult::AlreadyIn, CheckinResult::NotIn, CheckinResult::Revoked,
                 CheckinResult::WrongEvent, CheckinResult::Invalid, CheckinResult::CodeExpired})
    EXPECT_EQ(checkin_result_from(to_string(r)), r);
  EXPECT_FALSE(checkin_result_from("OK"));
  EXPECT_EQ(scan_direction_from("in"), ScanDirection::In);
  EXPECT_EQ(scan_direction_from("out"), ScanDirection::Out);
  EXPECT_FALSE(scan_direction_from("IN"));
}

}  // namespace
}  // namespace ticketd::core
