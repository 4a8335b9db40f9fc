#include "core/notification.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>

#include "base/assert.hpp"

namespace ticketd::core {

namespace {
constexpr std::pair<NoticeKind, const char*> kKinds[] = {
    {NoticeKind::BookingConfirmed, "booking_confirmed"},
    {NoticeKind::BookingCancelled, "booking_cancelled"},
    {NoticeKind::PaymentFailed, "payment_failed"},
    {NoticeKind::HoldExpiring, "hold_expiring"},
    {NoticeKind::TicketSent, "ticket_sent"},
    {NoticeKind::SeatsRefunded, "seats_refunded"},
    {NoticeKind::EventPostponed, "event_postponed"},
    {NoticeKind::WaitlistOffer, "waitlist_offer"},
    {NoticeKind::VerifyEmail, "verify_email"},
    {NoticeKind::VerifyPhone, "verify_phone"},
    {NoticeKind::PasswordReset, "password_reset"},
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

int currency_minor_digits(std::string_view currency) {
  // ISO 4217's list (amendment 179) of the currencies whose minor unit is not 1/100.
  static constexpr std::array<std::string_view, 17> kZero = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                                               "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                                               "VND", "VUV", "XAF", "XOF", "XPF"};
  static constexpr std::array<std::string_view, 7> kThree = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
  static constexpr std::array<std::string_view, 2> kFour = {"CLF", "UYW"};
  auto in = [&](const auto& list) { return std::find(list.begin(), list.end(), currency) != list.end(); };
  if (in(kZero)) return 0;
  if (in(kThree)) return 3;
  if (in(kFour)) return 4;
  return 2;
}

std::string format_amount(int64_t minor, const std::string& currency) {
  const int digits = currency_minor_digits(currency);
  // Magnitude as unsigned, so INT64_MIN (from a corrupt row) cannot overflow on negation.
  const uint64_t magnitude = minor < 0 ? 0 - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  char buf[96];
  if (digits == 0) {
    std::snprintf(buf, sizeof buf, "%s%llu %s", minor < 0 ? "-" : "", static_cast<unsigned long long>(magnitude),
                  currency.c_str());
  } else {
    std::snprintf(buf, sizeof buf, "%s%llu.%0*llu %s", minor < 0 ? "-" : "",
                  static_cast<unsigned long long>(magnitude / scale), digits,
                  static_cast<unsigned long long>(magnitude % scale), currency.c_str());
  }
  return buf;
}

}  // namespace ticketd::core
