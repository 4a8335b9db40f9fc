// Answers that are the same bytes until their thing changes, encoded once per (id, version): the
// compact seat map of an event (tens of KB of JSON for a big venue, and its gzip) between two seat
// changes, and a venue's layout (up to a few MB; it never changes, so its version is always 0). A
// repeat is a copy of a kept buffer, not a JSON build, a hash and a deflate.
//
// Seat maps: only counted versions are kept. A store that does not count its changes (the distributed
// store without its Redis front reports 0 for every read) gives nullopt, and no two of its reads can
// be told apart. The embedded store counts from 0 (an event unchanged since it was loaded).
//
// Bounded: one entry per id (its latest version), at most entries_max; when full, an entry of some
// other id makes room. Thread safety: all methods may be called concurrently (mu_).
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

class EncodingCache {
 public:
  static constexpr size_t kSeatMapsMax = 1024;  // ~50 KB and its gzip each for a 50,000-seat event
  static constexpr size_t kLayoutsMax = 32;     // up to ~3 MB each: the venues of the events on sale
  struct Encoded {
    std::string plain;
    std::optional<std::string> gzip;  // nullopt when compressing does not pay (or failed)
    std::string etag;                 // strong_etag(plain)
  };
  explicit EncodingCache(size_t entries_max = kSeatMapsMax) : entries_max_(entries_max) {}
  // The encodings of `id` at `version`, made by `encode` on a miss (outside the lock: two misses at
  // once both encode, one is kept). nullopt: encoded every time, never kept.
  std::shared_ptr<const Encoded> get(int64_t id, std::optional<uint64_t> version,
                                     const std::function<std::string()>& encode);
  // The kept encodings of `id` at exactly `version`, or null.
  std::shared_ptr<const Encoded> find(int64_t id, uint64_t version);
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  size_t entries();  // how many ids have a kept encoding

 private:
  const size_t entries_max_;
  std::mutex mu_;
  std::unordered_map<int64_t, std::pair<uint64_t, std::shared_ptr<const Encoded>>> by_id_;
  std::atomic<uint64_t> hits_{0};
};

}  // namespace ticketd::http
