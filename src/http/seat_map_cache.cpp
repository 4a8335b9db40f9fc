#include "http/seat_map_cache.hpp"

#include "http/compression.hpp"

namespace ticketd::http {

std::shared_ptr<const SeatMapCache::Encoded> SeatMapCache::get(core::EventId event, std::optional<uint64_t> counted,
                                                               const std::function<std::string()>& encode) {
  if (counted) {
    std::lock_guard lock(mu_);
    if (auto it = by_event_.find(event); it != by_event_.end() && it->second.first == *counted) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.second;
    }
  }
  auto made = std::make_shared<Encoded>();
  made->plain = encode();
  if (made->plain.size() >= kGzipBytesMin)
    if (auto packed = gzip(made->plain); packed && packed->size() < made->plain.size()) made->gzip = std::move(*packed);
  if (!counted) return made;
  const uint64_t version = *counted;
  std::lock_guard lock(mu_);
  auto it = by_event_.find(event);
  if (it == by_event_.end() && by_event_.size() >= kEventsMax) by_event_.erase(by_event_.begin());
  // A slower encoder of an older version must not replace a newer one.
  auto& slot = by_event_[event];
  if (!slot.second || slot.first < version) slot = {version, made};
  return made;
}

std::shared_ptr<const SeatMapCache::Encoded> SeatMapCache::find(core::EventId event, uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = by_event_.find(event);
  if (it == by_event_.end() || it->second.first != version) return nullptr;
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second.second;
}

size_t SeatMapCache::events() {
  std::lock_guard lock(mu_);
  return by_event_.size();
}

}  // namespace ticketd::http
