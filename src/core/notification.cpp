#include "core/notification.hpp"

#include <algorithm>
#include <cstdio>

#include "base/assert.hpp"

namespace ticketd::core {

namespace {
constexpr std::pair<NoticeKind, const char*> kKinds[] = {
    {NoticeKind::BookingConfirmed, "booking_confirmed"},
    {NoticeKind::BookingCancelled, "booking_cancelled"},
    {NoticeKind::PaymentFailed, "payment_failed"},
    {NoticeKind::HoldExpiring, "hold_expiring"},
};
constexpr std::pair<OutboxStatus, const char*> kStatuses[] = {
    {OutboxStatus::Pending, "PENDING"},
    {OutboxStatus::Sent, "SENT"},
    {OutboxStatus::Dead, "DEAD"},
    {OutboxStatus::Skipped, "SKIPPED"},
};
}  // namespace

const char* to_string(NoticeKind k) {
  for (const auto& [kind, name] : kKinds)
    if (kind == k) return name;
  TICKETD_ASSERT(false);
  return "";
}

std::optional<NoticeKind> notice_kind_from(std::string_view s) {
  for (const auto& [kind, name] : kKinds)
    if (s == name) return kind;
  return std::nullopt;
}

const char* to_string(OutboxStatus s) {
  for (const auto& [status, name] : kStatuses)
    if (status == s) return name;
  TICKETD_ASSERT(false);
  return "";
}

std::optional<OutboxStatus> outbox_status_from(std::string_view s) {
  for (const auto& [status, name] : kStatuses)
    if (s == name) return status;
  return std::nullopt;
}

bool valid_phone(std::string_view phone) {
  if (phone.empty()) return true;
  if (phone.size() < 9 || phone.size() > 16 || phone[0] != '+' || phone[1] == '0') return false;
  return std::all_of(phone.begin() + 1, phone.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Millis retry_delay(const RetryPolicy& policy, int32_t failures, uint64_t jitter) {
  TICKETD_ASSERT(failures >= 1);
  TICKETD_ASSERT(policy.base.count() > 0 && policy.cap >= policy.base);
  // Doubling stops once past the cap, so the shift never overflows however many failures.
  int64_t d = policy.base.count();
  for (int32_t i = 1; i < failures && d < policy.cap.count(); ++i) d *= 2;
  d = std::min(d, policy.cap.count());
  const int64_t half = d / 2;
  const int64_t spread = d - half;  // [half, d]
  const auto offset = static_cast<int64_t>(jitter % static_cast<uint64_t>(spread + 1));
  const int64_t out = half + offset;
  TICKETD_ASSERT(out >= half && out <= d);
  return Millis(out);
}

std::optional<TimeMs> next_try_at(const RetryPolicy& policy, int32_t failures, TimeMs now, uint64_t jitter) {
  TICKETD_ASSERT(policy.attempts_max >= 1);
  if (failures >= policy.attempts_max) return std::nullopt;
  return now + retry_delay(policy, failures, jitter);
}

std::string format_amount(int64_t minor, const std::string& currency) {
  char buf[64];
  const int64_t abs = minor < 0 ? -minor : minor;
  std::snprintf(buf, sizeof buf, "%s%lld.%02lld %s", minor < 0 ? "-" : "", static_cast<long long>(abs / 100),
                static_cast<long long>(abs % 100), currency.c_str());
  return buf;
}

}  // namespace ticketd::core
