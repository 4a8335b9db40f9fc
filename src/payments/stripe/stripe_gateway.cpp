#include "payments/stripe/stripe_gateway.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <climits>
#include <exception>
#include <memory>
#include <new>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include "base/assert.hpp"
#include "base/curl_init.hpp"
#include "payments/stripe/stripe_response.hpp"

namespace ticketd::payments {
namespace {

using core::Code;
using core::make_error;
using std::chrono::milliseconds;

// Operator-supplied strings go into headers and URLs: bounded, so a config typo cannot become a huge
// request, and printable, so none can inject a header line.
constexpr size_t kSecretKeyBytesMax = 512;
constexpr size_t kApiBaseBytesMax = 2048;
// Stripe's payment method ids (pm_...) are ~30 bytes; this is a client-supplied string.
constexpr size_t kPaymentMethodBytesMax = 255;
// Hashed keys carry this prefix; keys that already start with it are hashed too, so a client cannot pick
// a key equal to another key's hash.
constexpr std::string_view kHashedKeyPrefix = "sha256-";

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

bool is_printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

// Stripe object ids: letters, digits and '_' (pi_3Nx..., re_...). Anything else cannot name one, and
// checking it keeps a caller's string out of the URL path.
bool is_stripe_id(std::string_view id) {
  if (id.empty() || id.size() > kStripeIdBytesMax) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool is_currency_code(std::string_view code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
}

// The Idempotency-Key as sent: the caller's key when Stripe accepts it as is, else a deterministic hash
// (app derives keys such as "refund-lapsed-" + a client key, which can pass Stripe's 255 bytes).
std::string stripe_safe_key(const std::string& key) {
  TICKETD_ASSERT(!key.empty());
  if (key.size() <= kStripeIdempotencyKeyBytesMax && is_printable_ascii(key) && !key.starts_with(kHashedKeyPrefix))
    return key;
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(kHashedKeyPrefix) + hex;
}

// application/x-www-form-urlencoded. Names are our constants; values are escaped by curl.
class Form {
 public:
  explicit Form(CURL* easy) : easy_(easy) {}
  void add(std::string_view name, std::string_view value) {
    TICKETD_ASSERT(value.size() < INT_MAX);
    char* escaped = curl_easy_escape(easy_, value.data(), static_cast<int>(value.size()));
    if (!escaped) throw std::bad_alloc();
    if (!body_.empty()) body_ += '&';
    body_.append(name).append("=").append(escaped);
    curl_free(escaped);
  }
  void add(std::string_view name, int64_t value) { add(name, std::to_string(value)); }
  std::string take() { return std::move(body_); }

 private:
  CURL* easy_;
  std::string body_;
};

// The answer body, bounded: past kStripeResponseBytesMax the write callback refuses the data, which
// makes curl abort the transfer with CURLE_WRITE_ERROR.
struct BodySink {
  std::string body;
  bool overflowed = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  const size_t bytes = size * count;
  if (sink->body.size() + bytes > kStripeResponseBytesMax) {
    sink->overflowed = true;
    return 0;
  }
  sink->body.append(data, bytes);
  return bytes;
}

// Failures a retry cannot fix: our own configuration or limits. Everything else (refused, reset,
// timed out, closed without an answer, DNS, TLS handshake) may be transient.
bool transport_is_retryable(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_FAILED_INIT:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
      return false;
    default:
      return true;
  }
}

core::Error unknown_outcome(const std::string& why) {
  return make_error(Code::Unavailable, "payment outcome unknown: " + why + "; retrying with the same key is safe");
}

}  // namespace

struct StripeGateway::HttpCall {
  bool post = false;
  std::string path;             // "/v1/..."
  std::string form_body;        // POST only; identical on every attempt
  std::string idempotency_key;  // POST only; already Stripe-safe
};

struct StripeGateway::HttpReply {
  long status = 0;
  std::string body;
};

// Owns everything curl points into during a transfer (headers, body sink, error buffer, URL), so no
// pointer it holds can dangle while the handle lives.
struct StripeGateway::Transfer {
  Transfer() : easy(curl_easy_init()) {
    if (!easy) throw std::bad_alloc();  // curl_easy_init fails only when out of memory
  }

  void add_header(const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (!grown) throw std::bad_alloc();
    (void)headers.release();  // grown is the same list, one node longer
    headers.reset(grown);
  }

  // REQUIRES: `call` outlives every perform() (curl reads the POST body from it).
  void prepare(const StripeConfig& config, const HttpCall& call) {
    add_header("Authorization: Bearer " + config.secret_key);
    add_header(std::string("Stripe-Version: ") + kStripeApiVersion);
    add_header("User-Agent: ticketd-stripe");
    add_header("Expect:");  // small bodies: no 100-continue round trip
    if (call.post) {
      add_header("Content-Type: application/x-www-form-urlencoded");
      add_header("Idempotency-Key: " + call.idempotency_key);
    }
    url = config.api_base + call.path;
    CURL* h = easy.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM: required with threads
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config.request_timeout.count()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kStripeResponseBytesMax));
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, message);
    if (call.post) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.form_body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.form_body.size()));
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
  }

  CURLcode perform() {
    sink.body.clear();
    sink.overflowed = false;
    message[0] = '\0';
    return curl_easy_perform(easy.get());
  }

  long http_status() const {
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    return status;
  }

  std::string describe(CURLcode code) const { return message[0] ? message : curl_easy_strerror(code); }

  // Declared before `easy`, so they outlive it: the handle points into all of them.
  HeaderList headers;
  std::string url;
  BodySink sink;
  char message[CURL_ERROR_SIZE] = {};
  EasyHandle easy;
};

core::Status validate_stripe_config(const StripeConfig& c) {
  auto invalid = [](const char* field, const char* rule) {
    return make_error(Code::InvalidRequest, std::string("stripe.") + field + ": " + rule);
  };
  if (c.secret_key.empty() || c.secret_key.size() > kSecretKeyBytesMax || !is_printable_ascii(c.secret_key))
    return invalid("secret_key", "1-512 printable ASCII characters required");
  const bool scheme_ok = c.api_base.starts_with("https://") || c.api_base.starts_with("http://");
  if (!scheme_ok || c.api_base.size() > kApiBaseBytesMax || !is_printable_ascii(c.api_base) ||
      c.api_base.ends_with("/"))
    return invalid("api_base", "an http(s) URL without a trailing slash required");
  for (milliseconds t : {c.connect_timeout, c.request_timeout})
    if (t <= milliseconds(0) || t > kStripeTimeoutLimit) return invalid("timeout", "1 ms to 60 s required");
  if (c.attempts_max < 1 || c.attempts_max > kStripeAttemptsMaxLimit)
    return invalid("attempts_max", "1 to 10 required");
  if (c.backoff_first <= milliseconds(0) || c.backoff_max < c.backoff_first || c.backoff_max > kStripeTimeoutLimit)
    return invalid("backoff", "0 < backoff_first <= backoff_max <= 60 s required");
  return core::ok_status();
}

StripeGateway::StripeGateway(StripeConfig config) : config_(std::move(config)) {
  TICKETD_ASSERT(validate_stripe_config(config_).ok());
  curl_init_once();
  // sodium_init is idempotent and thread-safe; stripe_safe_key hashes with it.
  static const int sodium_ready = sodium_init();
  TICKETD_ASSERT(sodium_ready >= 0);
}

StripeCounters StripeGateway::counters() const {
  return StripeCounters{attempts_.load(), retries_.load(), exhausted_.load(), responses_too_large_.load()};
}

// Full jitter (uniform in [0, ceiling]) keeps many clients that failed together from retrying together;
// the ceiling doubles from backoff_first up to backoff_max.
milliseconds StripeGateway::backoff_before(int attempt) const {
  TICKETD_ASSERT(attempt >= 2 && attempt <= config_.attempts_max);
  milliseconds ceiling = config_.backoff_first;
  for (int i = 2; i < attempt && ceiling < config_.backoff_max; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, config_.backoff_max);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(0, ceiling.count());
  return milliseconds(jitter(rng));
}

core::Result<StripeGateway::HttpReply> StripeGateway::send(Transfer& transfer, const HttpCall& call) {
  TICKETD_ASSERT(call.path.starts_with("/v1/"));
  TICKETD_ASSERT(call.post == !call.idempotency_key.empty());
  transfer.prepare(config_, call);
  std::string last_failure;
  for (int attempt = 1; attempt <= config_.attempts_max; ++attempt) {
    if (attempt > 1) {
      ++retries_;
      std::this_thread::sleep_for(backoff_before(attempt));
    }
    ++attempts_;
    const CURLcode code = transfer.perform();
    if (code == CURLE_OK) {
      const long status = transfer.http_status();
      if (!stripe_status_is_retryable(status)) return HttpReply{status, std::move(transfer.sink.body)};
      last_failure = "HTTP " + std::to_string(status);
      continue;
    }
    if (transfer.sink.overflowed || code == CURLE_FILESIZE_EXCEEDED) {
      ++responses_too_large_;
      return unknown_outcome("Stripe's answer exceeds 1 MiB");
    }
    last_failure = transfer.describe(code);
    if (!transport_is_retryable(code)) return unknown_outcome("cannot reach Stripe (" + last_failure + ")");
  }
  ++exhausted_;
  return unknown_outcome("no answer from Stripe after " + std::to_string(config_.attempts_max) +
                         " attempts (last: " + last_failure + ")");
}

core::Result<core::ChargeResult> StripeGateway::charge_unguarded(const core::ChargeRequest& request) {
  // These come from stored rows (the reconciler charges again what never got an answer): a value
  // Stripe cannot take is refused here, never asserted. A total of 0 never gets here (collect_payment).
  if (request.amount <= 0) return make_error(Code::InvalidRequest, "Stripe charges a positive amount");
  if (!is_currency_code(request.currency)) return make_error(Code::InvalidRequest, "currency: 3 letters required");
  if (request.idempotency_key.empty()) return make_error(Code::InvalidRequest, "a charge needs an idempotency key");
  if (request.payment_method.empty() || request.payment_method.size() > kPaymentMethodBytesMax)
    return make_error(Code::InvalidPaymentMethod, "payment_method must be 1-255 bytes");
  std::string currency = request.currency;
  std::transform(currency.begin(), currency.end(), currency.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  Transfer transfer;
  Form form(transfer.easy.get());
  form.add("amount", request.amount);
  form.add("currency", currency);
  form.add("payment_method", request.payment_method);
  form.add("confirm", "true");
  // Cards only: it also turns off automatic_payment_methods, which with confirm=true would demand a
  // return_url for redirect-based methods.
  form.add("payment_method_types[]", "card");
  {
    // The same for every retry of this charge (the prefix is set once), as Stripe's idempotency
    // requires of a replayed request.
    std::lock_guard lock(return_url_mu_);
    if (!return_url_prefix_.empty()) form.add("return_url", return_url_prefix_ + std::to_string(request.booking_id));
  }
  form.add("metadata[booking_id]", request.booking_id);
  form.add("metadata[hold_id]", request.hold_id);
  form.add("metadata[user_id]", request.user_id);
  form.add("metadata[event_id]", request.event_id);
  HttpCall call{true, "/v1/payment_intents", form.take(), stripe_safe_key(request.idempotency_key)};
  core::Result<HttpReply> reply = send(transfer, call);
  if (!reply) return reply.error();
  return map_stripe_intent_response(IntentCall::Charge, reply->status, reply->body);
}

void StripeGateway::set_return_url_prefix(std::string prefix) {
  std::lock_guard lock(return_url_mu_);
  return_url_prefix_ = std::move(prefix);
}

core::Result<core::ChargeResult> StripeGateway::retrieve_unguarded(const std::string& payment_ref) {
  if (!is_stripe_id(payment_ref)) return make_error(Code::NotFound, "no such payment");
  Transfer transfer;
  HttpCall call{false, "/v1/payment_intents/" + payment_ref, {}, {}};
  core::Result<HttpReply> reply = send(transfer, call);
  if (!reply) return reply.error();
  return map_stripe_intent_response(IntentCall::Retrieve, reply->status, reply->body);
}

core::Result<core::ChargeResult> StripeGateway::cancel_unguarded(const std::string& payment_ref,
                                                                const std::string& idempotency_key) {
  if (!is_stripe_id(payment_ref)) return make_error(Code::NotFound, "no such payment");
  if (idempotency_key.empty()) return make_error(Code::InvalidRequest, "a cancellation needs an idempotency key");
  Transfer transfer;
  Form form(transfer.easy.get());
  form.add("cancellation_reason", "abandoned");
  HttpCall call{true, "/v1/payment_intents/" + payment_ref + "/cancel", form.take(), stripe_safe_key(idempotency_key)};
  core::Result<HttpReply> reply = send(transfer, call);
  if (!reply) return reply.error();
  // A 400 payment_intent_unexpected_state (it succeeded or failed meanwhile) maps to Unavailable: the
  // caller asks retrieve() what happened.
  return map_stripe_intent_response(IntentCall::Retrieve, reply->status, reply->body);
}

core::Result<std::string> StripeGateway::refund_unguarded(const std::string& payment_ref, int64_t amount,
                                                          const std::string& idempotency_key) {
  if (amount <= 0) return make_error(Code::InvalidRequest, "Stripe refunds a positive amount");
  if (!is_stripe_id(payment_ref)) return make_error(Code::InvalidRequest, "no Stripe payment to refund");
  if (idempotency_key.empty()) return make_error(Code::InvalidRequest, "a refund needs an idempotency key");
  Transfer transfer;
  Form form(transfer.easy.get());
  form.add("payment_intent", payment_ref);
  form.add("amount", amount);
  HttpCall call{true, "/v1/refunds", form.take(), stripe_safe_key(idempotency_key)};
  core::Result<HttpReply> reply = send(transfer, call);
  if (!reply) return reply.error();
  return map_stripe_refund_response(reply->status, reply->body);
}

// The public methods only translate exceptions (bad_alloc, Boost.JSON's) into values: none may cross
// into the application. An exception after the request went out leaves the outcome unknown.
core::Result<core::ChargeResult> StripeGateway::charge(const core::ChargeRequest& request) {
  try {
    return charge_unguarded(request);
  } catch (const std::exception& e) {
    return unknown_outcome(std::string("Stripe adapter failed: ") + e.what());
  }
}

core::Result<core::ChargeResult> StripeGateway::retrieve(const std::string& payment_ref) {
  try {
    return retrieve_unguarded(payment_ref);
  } catch (const std::exception& e) {
    return unknown_outcome(std::string("Stripe adapter failed: ") + e.what());
  }
}

core::Result<core::ChargeResult> StripeGateway::cancel(const std::string& payment_ref,
                                                      const std::string& idempotency_key) {
  try {
    return cancel_unguarded(payment_ref, idempotency_key);
  } catch (const std::exception& e) {
    return unknown_outcome(std::string("Stripe adapter failed: ") + e.what());
  }
}

core::Result<std::string> StripeGateway::refund(const std::string& payment_ref, int64_t amount,
                                                const std::string& idempotency_key) {
  try {
    return refund_unguarded(payment_ref, amount, idempotency_key);
  } catch (const std::exception& e) {
    return unknown_outcome(std::string("Stripe adapter failed: ") + e.what());
  }
}

}  // namespace ticketd::payments
