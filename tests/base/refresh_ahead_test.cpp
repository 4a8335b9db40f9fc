// Refresh ahead (base/refresh_ahead.hpp): one reader is sent to refresh a copy past refresh_after, the
// others keep it until max_age, and the blocking reader re-reads from refresh_after on.
#include "base/refresh_ahead.hpp"

#include <gtest/gtest.h>

namespace ticketd {
namespace {

using namespace std::chrono_literals;

TEST(RefreshAhead, OneReaderRefreshesWhileTheOthersKeepTheCopyUntilItLapses) {
  bool sent = false;
  EXPECT_EQ(kept_copy(0ms, 1'500ms, 2'000ms, sent), KeptCopy::use);
  EXPECT_EQ(kept_copy(1'499ms, 1'500ms, 2'000ms, sent), KeptCopy::use);
  EXPECT_FALSE(sent);
  EXPECT_EQ(kept_copy(1'500ms, 1'500ms, 2'000ms, sent), KeptCopy::refresh);
  EXPECT_TRUE(sent);
  EXPECT_EQ(kept_copy(1'600ms, 1'500ms, 2'000ms, sent), KeptCopy::use) << "one refresh is on its way";
  EXPECT_EQ(kept_copy(1'999ms, 1'500ms, 2'000ms, sent), KeptCopy::use);
  EXPECT_EQ(kept_copy(2'000ms, 1'500ms, 2'000ms, sent), KeptCopy::lapsed) << "never older than max_age";
}

TEST(RefreshAhead, ACopyPastItsMaxAgeLapsesForTheFirstReaderToo) {
  bool sent = false;
  EXPECT_EQ(kept_copy(5'000ms, 1'500ms, 2'000ms, sent), KeptCopy::lapsed);
  EXPECT_FALSE(sent) << "nothing to refresh ahead of: everyone reads it again";
}

TEST(RefreshAhead, TheBlockingReaderReadsAgainFromRefreshAfterOn) {
  EXPECT_TRUE(copy_fresh_for_blocking(1'499ms, 1'500ms));
  EXPECT_FALSE(copy_fresh_for_blocking(1'500ms, 1'500ms));
}

}  // namespace
}  // namespace ticketd
