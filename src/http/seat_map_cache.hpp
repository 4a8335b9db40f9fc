// The compact seat map's answer, encoded once per (event, seat-map version). Every visitor of an event
// page asks for it (tens of KB of JSON for a big venue, and its gzip), and between two seat changes
// every answer is the same bytes: a repeat is a copy of a kept buffer, not a JSON build and a deflate.
//
// Only counted versions are kept: a store that does not count its changes (the distributed store
// without its Redis front reports 0 for every read) gives nullopt, and no two of its reads can be told
// apart. The embedded store counts from 0 (an event unchanged since it was loaded).
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
  // once both encode, one is kept). nullopt: encoded every time, never kept.
  std::shared_ptr<const Encoded> get(core::EventId event, std::optional<uint64_t> version,
                                     const std::function<std::string()>& encode);
  // The kept encodings of `event` at exactly `version`, or null.
  std::shared_ptr<const Encoded> find(core::EventId event, uint64_t version);
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  size_t events();  // how many events have a kept encoding

 private:
  std::mutex mu_;
  std::unordered_map<core::EventId, std::pair<uint64_t, std::shared_ptr<const Encoded>>> by_event_;
  std::atomic<uint64_t> hits_{0};
};

}  // namespace ticketd::http
