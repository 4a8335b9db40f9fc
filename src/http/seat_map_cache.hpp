// The compact seat map's answer, encoded once per (event, seat-map version). Every visitor of an event
// page asks for it (tens of KB of JSON for a big venue, and its gzip), and between two seat changes
// every answer is the same bytes: a repeat is a copy of a kept buffer, not a JSON build and a deflate.
//
// Only versions above 0 are kept: a version of 0 is a store that does not count its changes (the
// distributed store without its Redis front), where no two reads can be told apart.
//
// Bounded: one entry per event (its latest version), at most kEventsMax; when full, an entry of some
// other event makes room. Thread safety: all methods may be called concurrently (mu_).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/types.hpp"

namespace ticketd::http {

class SeatMapCache {
 public:
  static constexpr size_t kEventsMax = 1024;
  struct Encoded {
    std::string plain;
    std::optional<std::string> gzip;  // nullopt when compressing does not pay (or failed)
  };
  // The encodings of `event` at `version`, made by `encode` on a miss (outside the lock: two misses at
  // once both encode, one is kept). version 0: encoded every time, never kept.
  std::shared_ptr<const Encoded> get(core::EventId event, uint64_t version, const std::function<std::string()>& encode);
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  size_t events();  // how many events have a kept encoding

 private:
  std::mutex mu_;
  std::unordered_map<core::EventId, std::pair<uint64_t, std::shared_ptr<const Encoded>>> by_event_;
  std::atomic<uint64_t> hits_{0};
};

}  // namespace ticketd::http
