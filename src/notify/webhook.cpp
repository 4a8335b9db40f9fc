#include "notify/webhook.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <memory>

#include "base/curl_init.hpp"
#include "notify/templates.hpp"

namespace ticketd::notify {

namespace json = boost::json;
using core::Code;
using core::make_error;

std::string webhook_body(const core::Notification& n) {
  json::array seats;
  for (const core::SeatLabel& s : n.seats) {
    json::object seat{{"section", s.section}, {"row", s.row}, {"number", s.number}};
    if (s.general_admission) seat["general_admission"] = true;  // an area: no row or number
    seats.push_back(std::move(seat));
  }
  json::object o{
      {"id", n.outbox_id},
      {"idempotency_key", idempotency_key(n.outbox_id)},
      {"kind", core::to_string(n.kind)},
      {"created_at", format_rfc3339(n.created_at)},
      {"to", json::object{{"name", n.user_name}, {"email", n.email}, {"phone", n.phone}}},
      {"event",
       json::object{{"name", n.event_name}, {"venue", n.venue_name}, {"starts_at", format_rfc3339(n.event_starts_at)}}},
      {"seats", std::move(seats)},
      {"amount", n.amount},
      {"currency", n.currency},
      {"text", render_sms(n)}};
  if (n.booking_id) o["booking_id"] = n.booking_id;
  if (n.hold_id) o["hold_id"] = n.hold_id;
  if (n.kind == core::NoticeKind::HoldExpiring || n.kind == core::NoticeKind::WaitlistOffer)
    o["hold_expires_at"] = format_rfc3339(n.hold_expires_at);
  if (!n.reason.empty()) o["reason"] = n.reason;
  if (!n.code.empty()) {  // a phone verification: the receiver sends `text` (or its own wording of `code`)
    o["code"] = n.code;
    o["expires_at"] = format_rfc3339(n.token_expires_at);
  }
  return json::serialize(o);
}

std::string webhook_signature(std::string_view secret, int64_t unix_s, std::string_view body) {
  const std::string t = std::to_string(unix_s);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(t.data()), t.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>("."), 1);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, mac);
  char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
  return "t=" + t + ",v1=" + hex;
}

namespace {
size_t keep_some(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t bytes = size * n;
  if (out->size() < kWebhookResponseBytesMax)
    out->append(data, std::min(bytes, kWebhookResponseBytesMax - out->size()));
  return bytes;
}
}  // namespace

WebhookChannel::WebhookChannel(WebhookConfig config) : config_(std::move(config)) {
  TICKETD_ASSERT(config_.secret.size() >= kWebhookSecretBytesMin);
  curl_init_once();
}

core::Status WebhookChannel::deliver(const core::Notification& n) {
  const std::string body = webhook_body(n);
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(Code::Unavailable, "curl_easy_init failed");
  struct curl_slist* headers = nullptr;
  const std::string lines[] = {"Content-Type: application/json",
                               "Idempotency-Key: " + idempotency_key(n.outbox_id),
                               "X-Ticketd-Delivery: " + std::to_string(n.outbox_id),
                               "X-Ticketd-Signature: " + webhook_signature(config_.secret, now_s, body),
                               "X-Ticketd-Node: " + config_.node,
                               "Expect:"};
  for (const std::string& l : lines) headers = curl_slist_append(headers, l.c_str());
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, curl_slist_free_all);
  std::string answer;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, config_.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is a misconfiguration, not a success
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_some);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  const CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) return make_error(Code::Unavailable, std::string("webhook: ") + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300)
    return make_error(Code::Unavailable, "webhook: HTTP " + std::to_string(status) + ": " + answer.substr(0, 200));
  return core::ok_status();
}

}  // namespace ticketd::notify
