// The webhook channel: each notification is POSTed as JSON to one configured URL (an SMS provider's
// bridge or the organiser's systems), signed so the receiver can tell it came from ticketd.
//
// Signature: header `X-Ticketd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
// The receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant
// time, and refuses timestamps too far from its clock (replays). Idempotency: `Idempotency-Key:
// ticketd-notification-<outbox id>` and `X-Ticketd-Delivery: <outbox id>` are the same for every
// delivery of one notification. A 2xx answer is success; anything else (or no answer) is retried.
//
// Thread safety: deliver() may be called from any thread (one curl handle per call).
#pragma once

#include <string>
#include <string_view>

#include "core/ports/notifier.hpp"

namespace ticketd::notify {

struct WebhookConfig {
  std::string url;
  std::string secret;  // at least kWebhookSecretBytesMin bytes
  Millis timeout{10'000};
  std::string node;  // sent as X-Ticketd-Node (which node delivered: for operators and tests)
};
inline constexpr size_t kWebhookSecretBytesMin = 16;
inline constexpr size_t kWebhookResponseBytesMax = 4096;  // kept for the error message, the rest dropped

// The JSON body for a notification.
std::string webhook_body(const core::Notification& n);
// "t=<unix_s>,v1=<hex>".
std::string webhook_signature(std::string_view secret, int64_t unix_s, std::string_view body);

class WebhookChannel final : public core::NotificationChannel {
 public:
  explicit WebhookChannel(WebhookConfig config);
  const char* name() const override { return core::kChannelWebhook; }
  core::Status deliver(const core::Notification& n) override;

 private:
  WebhookConfig config_;
};

}  // namespace ticketd::notify
