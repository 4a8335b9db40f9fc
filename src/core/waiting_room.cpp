#include "core/waiting_room.hpp"

#include <algorithm>
#include <cmath>

namespace ticketd::core {

Status validate_waiting_room(const WaitingRoomSettings& s) {
  using namespace limits;
  if (s.batch_size < 1 || s.batch_size > queue_batch_size_max)
    return make_error(Code::InvalidRequest, "waiting_room.batch_size: must be between 1 and 100000");
  if (s.release_interval < Millis(1000) || s.release_interval > Millis(queue_release_interval_s_max * 1000))
    return make_error(Code::InvalidRequest, "waiting_room.release_interval_s: must be between 1 and 3600");
  if (s.active_window < Millis(1000) || s.active_window > Millis(queue_active_window_s_max * 1000))
    return make_error(Code::InvalidRequest, "waiting_room.active_window_s: must be between 1 and 86400");
  if (s.opens_before < Millis(0) || s.opens_before > Millis(queue_opens_before_s_max * 1000))
    return make_error(Code::InvalidRequest, "waiting_room.opens_before_s: must be between 0 and 604800");
  return ok_status();
}

const char* to_string(QueueStatus s) {
  switch (s) {
    case QueueStatus::Waiting: return "WAITING";
    case QueueStatus::Admitted: return "ADMITTED";
    case QueueStatus::Expired: return "EXPIRED";
    case QueueStatus::SoldOut: return "SOLD_OUT";
  }
  return "WAITING";
}

Admission admission_budget(const AdmissionInput& in) {
  Admission out;
  const uint64_t supply = uint64_t{in.stock.available} + in.stock.expiring;
  out.basket = in.stock.baskets > 0 ? static_cast<double>(in.stock.basket_seats) / static_cast<double>(in.stock.baskets)
                                    : static_cast<double>(std::max<uint32_t>(1, in.tickets_per_user_max));
  out.basket = std::max(1.0, out.basket);
  out.sold_out = supply == 0;
  const auto servable = static_cast<uint64_t>(std::ceil(static_cast<double>(supply) / out.basket));
  if (servable > in.admitted_outstanding)
    out.admit = static_cast<uint32_t>(std::min<uint64_t>(servable - in.admitted_outstanding, in.batch_size));
  TICKETD_ASSERT(out.admit <= in.batch_size);
  TICKETD_ASSERT(!out.sold_out || out.admit == 0);
  return out;
}

void ReleaseHistory::record(TimeMs, uint32_t admitted) {
  admitted_[next_] = admitted;
  next_ = (next_ + 1) % admitted_.size();
  size_ = std::min(size_ + 1, admitted_.size());
}

std::optional<double> ReleaseHistory::rate_per_s(Millis interval) const {
  if (size_ == 0) return std::nullopt;
  TICKETD_ASSERT(interval.count() > 0);
  uint64_t sum = 0;
  for (size_t i = 0; i < size_; ++i) sum += admitted_[i];
  return static_cast<double>(sum) / (static_cast<double>(size_) * static_cast<double>(interval.count()) / 1000.0);
}

std::optional<int64_t> estimate_wait_s(uint64_t position, double rate_per_s, Millis until_first_release) {
  if (!(rate_per_s > 0)) return std::nullopt;
  const double lead_s = static_cast<double>(std::max<int64_t>(0, until_first_release.count())) / 1000.0;
  // Position p is admitted once p people went before it (itself included): p / rate seconds of releases.
  return static_cast<int64_t>(std::ceil(lead_s + static_cast<double>(position) / rate_per_s));
}

int64_t retry_after_s(std::optional<int64_t> wait_s, Millis interval) {
  const int64_t interval_s = std::max<int64_t>(1, interval.count() / 1000);
  int64_t s = wait_s ? *wait_s / 10 : interval_s;
  s = std::min(s, interval_s);
  return std::clamp(s, limits::queue_retry_after_s_min, limits::queue_retry_after_s_max);
}

}  // namespace ticketd::core
