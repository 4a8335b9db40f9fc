#include "http/encoding_cache.hpp"

#include "http/compression.hpp"
#include "http/etag.hpp"

namespace ticketd::http {

std::shared_ptr<const EncodingCache::Encoded> EncodingCache::get(int64_t id, std::optional<uint64_t> counted,
                                                               const std::function<std::string()>& encode) {
  if (counted) {
    std::lock_guard lock(mu_);
    if (auto it = by_id_.find(id); it != by_id_.end() && it->second.first == *counted) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.second;
    }
  }
  auto made = std::make_shared<Encoded>();
  made->plain = encode();
  made->etag = strong_etag(made->plain);
  if (made->plain.size() >= kGzipBytesMin)
    if (auto packed = gzip(made->plain); packed && packed->size() < made->plain.size()) made->gzip = std::move(*packed);
  if (!counted) return made;
  const uint64_t version = *counted;
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() && by_id_.size() >= entries_max_) by_id_.erase(by_id_.begin());
  // A slower encoder of an older version must not replace a newer one.
  auto& slot = by_id_[id];
  if (!slot.second || slot.first < version) slot = {version, made};
  return made;
}

std::shared_ptr<const EncodingCache::Encoded> EncodingCache::find(int64_t id, uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second.first != version) return nullptr;
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second.second;
}

size_t EncodingCache::entries() {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

}  // namespace ticketd::http
