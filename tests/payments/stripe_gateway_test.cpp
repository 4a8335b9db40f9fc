// StripeGateway against a real HTTP server: tools/fake-stripe, a Stripe-compatible fake with fault
// injection (500s, dropped replies, latency) and a ledger we can read (/_test/stats). The fake is started
// once per suite as a child process on an ephemeral port and reset before every test.
//
// What matters here is the money: however the transport fails, one idempotency key charges at most once
// (stats.charges), and the caller is told Unavailable rather than a guess. No timing assertions: every
// wait is a generous bound that only turns a hang into a failure.
#include "payments/stripe/stripe_gateway.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using ticketd::core::ChargeRequest;
using ticketd::core::ChargeStatus;
using ticketd::core::Code;
using ticketd::payments::StripeConfig;
using ticketd::payments::StripeGateway;

const std::string kApiKey = "sk_test_ticketd";
// Bounds that only exist so a broken fake becomes a failure instead of a hang.
constexpr auto kFakeStartTimeout = 30s;
constexpr auto kFakeStopTimeout = 10s;
constexpr size_t kFakeOutputBytesMax = size_t{64} * 1024;

// ---- The fake server as a child process -----------------------------------------------------------

class FakeStripe {
 public:
  // Spawns `python3 tools/fake-stripe/ticketd-fake-stripe --port 0` and waits for FAKE_STRIPE_PORT=<n>.
  // nullptr (with *error set) when it cannot.
  static std::unique_ptr<FakeStripe> start(std::string* error) {
    const std::string script = std::string(TICKETD_SOURCE_DIR) + "/tools/fake-stripe/ticketd-fake-stripe";
    if (access(script.c_str(), R_OK) != 0) {
      *error = script + " does not exist (yet?)";
      return nullptr;
    }
    int fds[2];
    if (pipe(fds) != 0) {
      *error = "pipe failed";
      return nullptr;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> env_strings = {"PYTHONUNBUFFERED=1"};  // the port line must not sit in a buffer
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    std::vector<char*> envp;
    envp.reserve(env_strings.size() + 1);
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string python = "/usr/bin/python3", port_flag = "--port", port_any = "0", key_flag = "--api-key",
                key = kApiKey, script_arg = script;
    char* argv[] = {python.data(),   script_arg.data(), port_flag.data(), port_any.data(),
                    key_flag.data(), key.data(),        nullptr};
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, python.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      close(fds[0]);
      *error = "posix_spawn failed: " + std::to_string(rc);
      return nullptr;
    }
    auto fake = std::unique_ptr<FakeStripe>(new FakeStripe(pid, fds[0]));
    fake->port_ = fake->read_port(error);
    if (fake->port_ <= 0) return nullptr;  // the destructor stops the child
    // Keep reading stdout so the child can never block on a full pipe.
    fake->drain_ = std::thread([fd = fake->out_fd_] {
      char buf[4096];
      while (read(fd, buf, sizeof buf) > 0) {
      }
    });
    return fake;
  }

  ~FakeStripe() {
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + kFakeStopTimeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    if (drain_.joinable()) drain_.join();  // EOF once the child is gone
    close(out_fd_);
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  FakeStripe(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}

  int read_port(std::string* error) {
    const std::string marker = "FAKE_STRIPE_PORT=";
    const auto deadline = std::chrono::steady_clock::now() + kFakeStartTimeout;
    std::string output;
    while (output.size() < kFakeOutputBytesMax) {
      for (size_t line_start = 0, nl; (nl = output.find('\n', line_start)) != std::string::npos; line_start = nl + 1)
        if (output.compare(line_start, marker.size(), marker) == 0)
          return std::atoi(output.c_str() + line_start + marker.size());
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd pfd{out_fd_, POLLIN, 0};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[1024];
      const ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      output.append(buf, static_cast<size_t>(n));
    }
    *error = "the fake printed no FAKE_STRIPE_PORT line; it said: " + output;
    return -1;
  }

  pid_t pid_;
  int out_fd_;
  int port_ = -1;
  std::thread drain_;
};

// ---- The fake's test-only endpoints, over plain libcurl ------------------------------------------

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// POST with a JSON body when `json_body` is set, else GET. Returns the parsed JSON answer.
boost::json::value test_call(const std::string& url, const std::optional<std::string>& json_body) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy(curl_easy_init(), curl_easy_cleanup);
  std::string answer;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &answer);
  if (json_body) {
    curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, json_body->c_str());
  }
  const CURLcode rc = curl_easy_perform(easy.get());
  curl_slist_free_all(headers);
  EXPECT_EQ(rc, CURLE_OK) << url << ": " << curl_easy_strerror(rc);
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(answer, ec);
  return ec ? boost::json::value() : parsed;
}

int64_t stat_of(const boost::json::value& stats, const char* name) {
  if (!stats.is_object()) return -1;
  const boost::json::value* v = stats.as_object().if_contains(name);
  return v && v->is_int64() ? v->as_int64() : -1;
}

// A port on which nothing listens: bound, then closed (the kernel does not hand it out again at once).
int closed_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

ChargeRequest visa(const std::string& key, int64_t amount = 5000) {
  ChargeRequest r;
  r.amount = amount;
  r.currency = "EUR";
  r.payment_method = "pm_card_visa";
  r.idempotency_key = key;
  r.booking_id = 42;
  r.hold_id = 7;
  r.user_id = 3;
  r.event_id = 9;
  return r;
}

// ---- Fixture ---------------------------------------------------------------------------------------

class StripeGatewayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_global_init(CURL_GLOBAL_DEFAULT);  // before any thread, as the adapter's header asks
    fake_ = FakeStripe::start(&start_error_).release();
  }
  static void TearDownTestSuite() {
    delete fake_;
    fake_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(fake_, nullptr) << "cannot start the fake Stripe server: " << start_error_;
    test_call(fake_->base_url() + "/_test/reset", std::string("{}"));
    set_faults(0, 0, 0);
    // The fake's ledger lives as long as the process (reset clears faults only), so tests compare
    // against where the counters stood when they began.
    at_start_ = stats();
    ASSERT_GE(stat_of(at_start_, "charges"), 0) << "the fake's /_test/stats has no charges counter";
    key_prefix_ = "t" + std::to_string(getpid()) + "-" + std::to_string(++tests_started_) + "-";
  }

  // What the fake did since this test began.
  int64_t stat_delta(const char* name) const { return stat_of(stats(), name) - stat_of(at_start_, name); }
  int64_t charges_made() const { return stat_delta("charges"); }
  int64_t refunds_made() const { return stat_delta("refunds"); }
  // Idempotency keys unique to this test: the fake remembers keys across tests.
  std::string key(const std::string& name) const { return key_prefix_ + name; }

  static StripeConfig config() {
    StripeConfig c;
    c.api_base = fake_->base_url();
    c.secret_key = kApiKey;
    c.connect_timeout = 2000ms;
    c.request_timeout = 10'000ms;
    c.attempts_max = 4;
    c.backoff_first = 5ms;  // small: tests wait for retries, and jitter does not change what they check
    c.backoff_max = 50ms;
    return c;
  }

  static void set_faults(int latency_ms, int fail_next, int drop_next) {
    test_call(fake_->base_url() + "/_test/faults", R"({"latency_ms":)" + std::to_string(latency_ms) +
                                                       R"(,"fail_next":)" + std::to_string(fail_next) +
                                                       R"(,"drop_next":)" + std::to_string(drop_next) + "}");
  }

  static boost::json::value stats() { return test_call(fake_->base_url() + "/_test/stats", std::nullopt); }

  static inline FakeStripe* fake_ = nullptr;
  static inline std::string start_error_;
  static inline int tests_started_ = 0;
  boost::json::value at_start_;
  std::string key_prefix_;
};

// ---- Charges ---------------------------------------------------------------------------------------

TEST_F(StripeGatewayTest, ChargeWithAVisaCardSucceeds) {
  StripeGateway gateway(config());
  auto r = gateway.charge(visa(key("key-success"), 5000));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Succeeded);
  EXPECT_EQ(r->payment_ref.rfind("pi_", 0), 0u) << r->payment_ref;
  EXPECT_EQ(charges_made(), 1);
  EXPECT_EQ(stat_delta("charged_amount_total"), 5000);
  EXPECT_EQ(gateway.counters().attempts, 1u);
}

TEST_F(StripeGatewayTest, DeclinedCardMapsToItsDeclineCode) {
  StripeGateway gateway(config());
  auto request = visa(key("key-decline"));
  request.payment_method = "pm_card_chargeDeclined";
  auto r = gateway.charge(request);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Declined);
  EXPECT_EQ(r->decline_code, "generic_decline");
  EXPECT_FALSE(r->message.empty());
  EXPECT_EQ(charges_made(), 0);
  EXPECT_EQ(gateway.counters().retries, 0u);  // a decline is an answer, not a failure
}

TEST_F(StripeGatewayTest, ThreeDSecureCardRequiresActionWithAClientSecret) {
  StripeGateway gateway(config());
  auto request = visa(key("key-3ds"));
  request.payment_method = "pm_card_authenticationRequired";
  auto r = gateway.charge(request);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::RequiresAction);
  EXPECT_FALSE(r->client_secret.empty());
  EXPECT_FALSE(r->payment_ref.empty());
}

TEST_F(StripeGatewayTest, WithAReturnUrlTheBankChallengeIsAPageThatReturnsToTheBooking) {
  StripeGateway gateway(config());
  gateway.set_return_url_prefix("http://ticketd.test/#/bookings/");
  auto request = visa(key("key-3ds-page"));
  request.payment_method = "pm_card_authenticationRequired";
  auto r = gateway.charge(request);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::RequiresAction);
  EXPECT_TRUE(r->action_url.find("/_3ds/" + r->payment_ref) != std::string::npos) << r->action_url;
  auto again = gateway.retrieve(r->payment_ref);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->action_url, r->action_url);
}

TEST_F(StripeGatewayTest, UnknownPaymentMethodIsInvalidPaymentMethod) {
  StripeGateway gateway(config());
  auto request = visa(key("key-unknown-pm"));
  request.payment_method = "pm_card_doesNotExist";
  auto r = gateway.charge(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidPaymentMethod);
}

TEST_F(StripeGatewayTest, EmptyPaymentMethodIsRefusedWithoutARequest) {
  StripeGateway gateway(config());
  auto request = visa(key("key-empty-pm"));
  request.payment_method = "";
  auto r = gateway.charge(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::InvalidPaymentMethod);
  EXPECT_EQ(gateway.counters().attempts, 0u);
}

TEST_F(StripeGatewayTest, ChargeSurvivesServerErrorsAndChargesOnce) {
  StripeGateway gateway(config());
  set_faults(0, 2, 0);
  auto r = gateway.charge(visa(key("key-500s")));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Succeeded);
  EXPECT_EQ(charges_made(), 1);
  EXPECT_EQ(gateway.counters().retries, 2u);
}

TEST_F(StripeGatewayTest, LostReplyIsRetriedWithTheSameKeyAndChargesOnce) {
  StripeGateway gateway(config());
  set_faults(0, 0, 1);  // the charge happens, then the connection closes without an answer
  auto r = gateway.charge(visa(key("key-dropped")));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Succeeded);
  EXPECT_EQ(charges_made(), 1);
  EXPECT_GE(gateway.counters().retries, 1u);
  // The same key later replays the same intent: the retry above got Stripe's first outcome.
  auto again = gateway.charge(visa(key("key-dropped")));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->payment_ref, r->payment_ref);
  EXPECT_EQ(charges_made(), 1);
}

TEST_F(StripeGatewayTest, ConcurrentChargesWithOneKeyChargeOnce) {
  // With latency the second request arrives while the first runs: Stripe answers 409 (key in use),
  // which is retried until the first has finished and its outcome is replayed.
  StripeConfig c = config();
  c.attempts_max = 10;
  c.backoff_first = 50ms;
  c.backoff_max = 1000ms;
  StripeGateway gateway(c);
  set_faults(300, 0, 0);
  ticketd::core::Result<ticketd::core::ChargeResult> first = ticketd::core::make_error(Code::Unavailable, "not run");
  std::thread other([&] { first = gateway.charge(visa(key("key-concurrent"))); });
  auto second = gateway.charge(visa(key("key-concurrent")));
  other.join();
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->payment_ref, second->payment_ref);
  EXPECT_EQ(charges_made(), 1);
}

TEST_F(StripeGatewayTest, OneKeyWithDifferentParametersIsRefusedNotCharged) {
  StripeGateway gateway(config());
  ASSERT_TRUE(gateway.charge(visa(key("key-reused"), 5000)).ok());
  auto r = gateway.charge(visa(key("key-reused"), 7000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
  EXPECT_NE(r.error().message.find("idempotency_error"), std::string::npos) << r.error().message;
  EXPECT_EQ(charges_made(), 1);
}

TEST_F(StripeGatewayTest, PersistentServerErrorsEndUnavailableAfterAttemptsMax) {
  StripeConfig c = config();
  c.attempts_max = 3;
  StripeGateway gateway(c);
  set_faults(0, 5, 0);
  auto r = gateway.charge(visa(key("key-always-500")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
  EXPECT_NE(r.error().message.find("payment outcome unknown"), std::string::npos);
  EXPECT_EQ(gateway.counters().attempts, 3u);
  EXPECT_EQ(gateway.counters().exhausted, 1u);
  EXPECT_EQ(charges_made(), 0);
}

TEST_F(StripeGatewayTest, WrongApiKeyIsUnavailableWithoutRetryOrEcho) {
  StripeConfig c = config();
  c.secret_key = "sk_test_wrong_key_0123456789";
  StripeGateway gateway(c);
  auto r = gateway.charge(visa(key("key-wrong-api-key")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::Unavailable);
  EXPECT_EQ(r.error().message.find("sk_test"), std::string::npos) << r.error().message;
  EXPECT_EQ(gateway.counters().attempts, 1u);
  EXPECT_EQ(charges_made(), 0);
}

// ---- Retrieve --------------------------------------------------------------------------------------

TEST_F(StripeGatewayTest, RetrieveReturnsTheStateOfEarlierCharges) {
  StripeGateway gateway(config());
  auto paid = gateway.charge(visa(key("key-retrieve-paid")));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  auto request = visa(key("key-retrieve-3ds"));
  request.payment_method = "pm_card_authenticationRequired";
  auto pending = gateway.charge(request);
  ASSERT_TRUE(pending.ok()) << pending.error().message;

  auto r = gateway.retrieve(paid->payment_ref);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Succeeded);
  EXPECT_EQ(r->payment_ref, paid->payment_ref);
  auto r2 = gateway.retrieve(pending->payment_ref);
  ASSERT_TRUE(r2.ok()) << r2.error().message;
  EXPECT_EQ(r2->status, ChargeStatus::RequiresAction);
}

TEST_F(StripeGatewayTest, RetrieveOfAnUnknownPaymentIsNotFound) {
  StripeGateway gateway(config());
  auto r = gateway.retrieve("pi_doesnotexist");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Code::NotFound);
  const auto attempts_before = gateway.counters().attempts;
  for (const char* bad : {"", "../v1/refunds", "pi_1?expand=x", "pi 1"}) {
    auto b = gateway.retrieve(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.error().code, Code::NotFound) << bad;
  }
  EXPECT_EQ(gateway.counters().attempts, attempts_before);  // none of those reached the network
}

TEST_F(StripeGatewayTest, RetrieveSurvivesServerErrors) {
  StripeGateway gateway(config());
  auto paid = gateway.charge(visa(key("key-retrieve-500")));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  set_faults(0, 2, 0);
  auto r = gateway.retrieve(paid->payment_ref);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, ChargeStatus::Succeeded);
}

// ---- Refunds ---------------------------------------------------------------------------------------

TEST_F(StripeGatewayTest, RefundWithOneKeyRefundsOnceWhenCalledTwice) {
  StripeGateway gateway(config());
  auto paid = gateway.charge(visa(key("key-refund-charge"), 5000));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  auto first = gateway.refund(paid->payment_ref, 5000, key("key-refund"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->empty());
  auto second = gateway.refund(paid->payment_ref, 5000, key("key-refund"));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, *first);
  EXPECT_EQ(refunds_made(), 1);
}

TEST_F(StripeGatewayTest, RefundWithALostReplyRefundsOnce) {
  StripeGateway gateway(config());
  auto paid = gateway.charge(visa(key("key-refund-drop-charge"), 5000));
  ASSERT_TRUE(paid.ok()) << paid.error().message;
  set_faults(0, 0, 1);
  auto r = gateway.refund(paid->payment_ref, 5000, key("key-refund-drop"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(refunds_made(), 1);
}

TEST_F(StripeGatewayTest, OverlongIdempotencyKeysStillDeduplicate) {
  // app derives keys like "refund-lapsed-" + a 255-byte client key; Stripe refuses keys over 255 bytes.
  StripeGateway gateway(config());
  const std::string long_key = key("refund-lapsed-") + std::string(255, 'k');
  auto first = gateway.charge(visa(long_key));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = gateway.charge(visa(long_key));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->payment_ref, second->payment_ref);
  EXPECT_EQ(charges_made(), 1);
}

// ---- No server -------------------------------------------------------------------------------------

// Needs no fake: it runs even where tools/fake-stripe is missing.
TEST(StripeGatewayWithoutServer, IsUnavailableAfterAttemptsMax) {
  StripeConfig c;
  c.secret_key = kApiKey;
  c.api_base = "http://127.0.0.1:" + std::to_string(closed_port());
  c.connect_timeout = 200ms;
  c.request_timeout = 500ms;
  c.attempts_max = 3;
  c.backoff_first = 1ms;
  c.backoff_max = 5ms;
  StripeGateway gateway(c);
  auto charged = gateway.charge(visa("key-no-server"));
  ASSERT_FALSE(charged.ok());
  EXPECT_EQ(charged.error().code, Code::Unavailable);
  EXPECT_NE(charged.error().message.find("payment outcome unknown"), std::string::npos) << charged.error().message;
  EXPECT_EQ(charged.error().message.find(kApiKey), std::string::npos);
  EXPECT_EQ(gateway.counters().attempts, 3u);
  EXPECT_EQ(gateway.counters().exhausted, 1u);

  auto retrieved = gateway.retrieve("pi_123");
  ASSERT_FALSE(retrieved.ok());
  EXPECT_EQ(retrieved.error().code, Code::Unavailable);
  auto refunded = gateway.refund("pi_123", 100, "key-no-server-refund");
  ASSERT_FALSE(refunded.ok());
  EXPECT_EQ(refunded.error().code, Code::Unavailable);
  EXPECT_EQ(gateway.counters().attempts, 9u);
}

}  // namespace
