// Refresh ahead: a copy read by a path that must not block (an I/O thread) and re-read from its source
// by a path that may (a worker). Without it every request that arrives between the copy's lapse and its
// re-read finds no copy, takes the blocking path and reads the source itself: in a sale, a burst of
// requests parked on workers and as many identical reads, once per lapse. With it, from `refresh_after`
// on the first reader that must not block is sent to refresh (it takes the blocking path, which reads
// the source again because the copy is past `refresh_after`); the others keep using the copy until
// `max_age`, when it lapses for everyone, as before. The copy is never older than `max_age`.
#pragma once

#include <chrono>

#include "base/assert.hpp"

namespace ticketd {

enum class KeptCopy {
  use,      // fresh enough: answer from it
  refresh,  // this caller alone is sent to read the source (it takes the blocking path)
  lapsed,   // too old for anyone
};

// For the reader that must not block. `refresh_sent`: the copy's own flag, false when it was stored.
inline KeptCopy kept_copy(std::chrono::milliseconds age, std::chrono::milliseconds refresh_after,
                          std::chrono::milliseconds max_age, bool& refresh_sent) {
  TICKETD_ASSERT(refresh_after <= max_age);
  if (age >= max_age) return KeptCopy::lapsed;
  if (age < refresh_after || refresh_sent) return KeptCopy::use;
  refresh_sent = true;
  return KeptCopy::refresh;
}

// For the reader that may block: whether it answers from the copy rather than read the source.
inline bool copy_fresh_for_blocking(std::chrono::milliseconds age, std::chrono::milliseconds refresh_after) {
  return age < refresh_after;
}

}  // namespace ticketd
