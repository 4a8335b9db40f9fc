// Assertions for programmer errors. They stay on in release builds (a broken invariant in a
// ticketing system means selling a seat twice: stopping is the safe choice). Never assert on input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace ticketd::base {
[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "ticketd: assertion failed: %s (%s:%d)\n", expr, file, line);
  std::abort();
}
}  // namespace ticketd::base

#define TICKETD_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::ticketd::base::assert_fail(#expr, __FILE__, __LINE__))
