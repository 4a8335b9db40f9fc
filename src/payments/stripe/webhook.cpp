#include "payments/stripe/webhook.hpp"

#include <sodium.h>

#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <exception>
#include <optional>

#include "base/assert.hpp"
#include "payments/stripe/json_fields.hpp"

namespace ticketd::payments {
namespace {

namespace json = boost::json;
using core::Code;
using core::make_error;

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

// 15 digits keep t * 1000 far from int64 overflow and cover any real date (year 33658 needs 12).
constexpr size_t kTimestampDigitsMax = 15;
// Events nest a few levels (data.object.last_payment_error...); deeper is not Stripe.
constexpr size_t kJsonDepthMax = 64;
// Copied messages are one sentence at Stripe; a signed event is trusted, but our records stay bounded.
constexpr size_t kMessageBytesMax = 300;

core::Error invalid(const char* message) {
  return make_error(Code::InvalidRequest, message);
}

struct SignatureHeader {
  int64_t timestamp_s = -1;
  std::array<Mac, kWebhookSignaturesMax> v1{};
  size_t v1_count = 0;  // decoded (valid hex) v1 values in v1
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<int64_t> parse_timestamp(std::string_view text) {
  if (text.empty() || text.size() > kTimestampDigitsMax) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

std::optional<Mac> parse_mac_hex(std::string_view text) {
  Mac mac{};
  if (text.size() != mac.size() * 2) return std::nullopt;
  size_t decoded_bytes = 0;
  const char* hex_end = nullptr;
  const int rc = sodium_hex2bin(mac.data(), mac.size(), text.data(), text.size(), nullptr, &decoded_bytes, &hex_end);
  if (rc != 0 || decoded_bytes != mac.size() || hex_end != text.data() + text.size()) return std::nullopt;
  return mac;
}

// "t=..,v1=..,v1=..,v0=..": see the header for the rules. nullopt = malformed.
std::optional<SignatureHeader> parse_signature_header(std::string_view header) {
  if (header.empty() || header.size() > kWebhookHeaderBytesMax) return std::nullopt;
  SignatureHeader parsed;
  size_t v1_seen = 0;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    const std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view scheme = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (scheme == "t") {
      const std::optional<int64_t> t = parse_timestamp(value);
      if (!t || parsed.timestamp_s >= 0) return std::nullopt;  // unreadable, or a second t
      parsed.timestamp_s = *t;
    } else if (scheme == "v1") {
      if (++v1_seen > kWebhookSignaturesMax) return std::nullopt;
      if (std::optional<Mac> mac = parse_mac_hex(value)) parsed.v1[parsed.v1_count++] = *mac;
    }  // other schemes (v0 is Stripe's test-mode scheme) carry nothing we verify
  }
  if (parsed.timestamp_s < 0 || parsed.v1_count == 0) return std::nullopt;
  return parsed;
}

Mac compute_mac(std::string_view secret, int64_t timestamp_s, std::string_view body) {
  // Stripe's libraries sign the timestamp as re-printed from its integer value, not the header's text.
  const std::string prefix = std::to_string(timestamp_s) + ".";
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(body.data()), body.size());
  Mac mac{};
  crypto_auth_hmacsha256_final(&state, mac.data());
  return mac;
}

// Every (secret, signature) pair is compared, with no early exit.
bool any_signature_matches(const SignatureHeader& header, std::string_view body,
                           const std::vector<std::string>& secrets) {
  bool matched = false;
  for (const std::string& secret : secrets) {
    TICKETD_ASSERT(!secret.empty());
    const Mac expected = compute_mac(secret, header.timestamp_s, body);
    for (size_t i = 0; i < header.v1_count; ++i)
      matched |= sodium_memcmp(expected.data(), header.v1[i].data(), expected.size()) == 0;
  }
  return matched;
}

using stripe_json::get_object;
using stripe_json::get_string;

int64_t get_int(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (!value) return 0;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64() && value->get_uint64() <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(value->get_uint64());
  return 0;
}

std::string clip(std::string_view text) {
  return std::string(text.substr(0, kMessageBytesMax));
}

// Stripe metadata values are strings; we wrote booking_id as decimal digits.
core::BookingId booking_id_of(const json::object& object) {
  const json::object* metadata = get_object(object, "metadata");
  if (!metadata) return 0;
  const std::string_view text = get_string(*metadata, "booking_id");
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) return 0;
  return id;
}

// The fields we read from data.object, by its kind ("payment_intent", "charge", or anything else).
void read_object(const json::object& object, StripeEvent& event) {
  const std::string_view kind = get_string(object, "object");
  event.object_id = std::string(get_string(object, "id"));
  event.status = std::string(get_string(object, "status"));
  event.amount = get_int(object, "amount");
  const std::string_view currency = get_string(object, "currency");
  if (currency.size() == 3)
    for (char c : currency) event.currency += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  event.amount_refunded = get_int(object, "amount_refunded");
  event.booking_id = booking_id_of(object);
  if (kind == "payment_intent") {
    event.payment_intent = event.object_id;
    if (const json::object* last_error = get_object(object, "last_payment_error")) {
      const std::string_view code = get_string(*last_error, "decline_code");
      event.decline_code = clip(code.empty() ? get_string(*last_error, "code") : code);
      event.message = clip(get_string(*last_error, "message"));
    }
    return;
  }
  // Charges, refunds, disputes: payment_intent is an id, or the intent itself when expanded.
  if (const json::object* intent = get_object(object, "payment_intent"))
    event.payment_intent = std::string(get_string(*intent, "id"));
  else
    event.payment_intent = std::string(get_string(object, "payment_intent"));
  event.decline_code = clip(get_string(object, "failure_code"));
  event.message = clip(get_string(object, "failure_message"));
}

core::Result<StripeEvent> parse_event(std::string_view body) {
  json::parse_options options;
  options.max_depth = kJsonDepthMax;
  boost::system::error_code ec;
  const json::value root = json::parse(body, ec, {}, options);
  if (ec || !root.is_object()) return invalid("malformed event");
  const json::object* data = get_object(root.get_object(), "data");
  const json::object* object = data ? get_object(*data, "object") : nullptr;
  StripeEvent event;
  event.id = std::string(get_string(root.get_object(), "id"));
  event.type = std::string(get_string(root.get_object(), "type"));
  if (event.id.empty() || event.type.empty() || !object) return invalid("malformed event");
  read_object(*object, event);
  if (event.object_id.empty()) return invalid("malformed event");
  return event;
}

core::Result<StripeEvent> verify_unguarded(std::string_view body, std::string_view signature_header,
                                           const std::vector<std::string>& secrets, TimeMs now,
                                           std::chrono::seconds tolerance) {
  TICKETD_ASSERT(!secrets.empty());
  TICKETD_ASSERT(tolerance >= std::chrono::seconds(0));
  if (body.size() > kWebhookBodyBytesMax) return invalid("webhook body too large");
  const std::optional<SignatureHeader> header = parse_signature_header(signature_header);
  if (!header) return invalid("malformed Stripe-Signature header");
  if (!any_signature_matches(*header, body, secrets)) return invalid("webhook signature mismatch");
  const int64_t skew_ms = to_unix_ms(now) - header->timestamp_s * 1000;
  const int64_t tolerance_ms = std::chrono::duration_cast<Millis>(tolerance).count();
  if (skew_ms > tolerance_ms || skew_ms < -tolerance_ms) return invalid("webhook timestamp outside tolerance");
  return parse_event(body);
}

}  // namespace

core::Result<StripeEvent> verify_webhook(std::string_view body, std::string_view signature_header,
                                         const std::vector<std::string>& secrets, TimeMs now,
                                         std::chrono::seconds tolerance) {
  // sodium_init is idempotent and thread-safe; once per process is enough.
  static const int sodium_ready = sodium_init();
  TICKETD_ASSERT(sodium_ready >= 0);
  try {
    return verify_unguarded(body, signature_header, secrets, now, tolerance);
  } catch (const std::exception&) {  // bad_alloc from the parser: no exception leaves the adapter
    return make_error(Code::Unavailable, "webhook could not be processed");
  }
}

std::string webhook_signature_hex(std::string_view secret, int64_t timestamp_s, std::string_view body) {
  TICKETD_ASSERT(!secret.empty());
  TICKETD_ASSERT(timestamp_s >= 0);
  const Mac mac = compute_mac(secret, timestamp_s, body);
  char hex[crypto_auth_hmacsha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, mac.data(), mac.size());
  return hex;
}

}  // namespace ticketd::payments
