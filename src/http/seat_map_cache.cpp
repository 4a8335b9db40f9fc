#include "http/seat_map_cache.hpp"

#include "http/compression.hpp"

namespace ticketd::http {

std::shared_ptr<const SeatMapCache::Encoded> SeatMapCache::get(core::EventId event, uint64_t version,
                                                               const std::function<std::string()>& encode) {
  if (version > 0) {
    std::lock_guard lock(mu_);
    if (auto it = by_event_.find(event); it != by_event_.end() && it->second.first == version) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.second;
    }
  }
  auto made = std::make_shared<Encoded>();
  made->plain = encode();
  if (made->plain.size() >= kGzipBytesMin)
    if (auto packed = gzip(made->plain); packed && packed->size() < made->plain.size()) made->gzip = std::move(*packed);
  if (version == 0) return made;
  std::lock_guard lock(mu_);
  auto it = by_event_.find(event);
  if (it == by_event_.end() && by_event_.size() >= kEventsMax) by_event_.erase(by_event_.begin());
  // A slower encoder of an older version must not replace a newer one.
  auto& slot = by_event_[event];
  if (!slot.second || slot.first < version) slot = {version, made};
  return made;
}

size_t SeatMapCache::events() {
  std::lock_guard lock(mu_);
  return by_event_.size();
}

}  // namespace ticketd::http
