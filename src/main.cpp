// ticketd: the only place that names concrete adapters. Reads configuration (flags, then env vars),
// wires stores, gateway, use cases and HTTP, runs until SIGTERM/SIGINT, then shuts down in order:
// stop accepting, finish in-flight requests, stop the sweeper, flush the writer, exit 0.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <sodium.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <thread>

#include <unistd.h>

#include "app/accounts.hpp"
#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "app/notifications.hpp"
#include "app/password.hpp"
#include "app/payments.hpp"
#include "app/lottery.hpp"
#include "app/queue_tokens.hpp"
#include "app/sales.hpp"
#include "app/waiting_room.hpp"
#include "app/seat_stream.hpp"
#include "app/session_cache.hpp"
#include "app/checkins.hpp"
#include "app/door_feed.hpp"
#include "app/event_cancellations.hpp"
#include "app/ticket_codes.hpp"
#include "app/tickets.hpp"
#include "core/limits.hpp"
#include "http/api.hpp"
#include "http/router.hpp"
#include "http/security_headers.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "notify/email.hpp"
#include "notify/webhook.hpp"
#include "payments/stripe/event_verifier.hpp"
#include "payments/stripe/stripe_gateway.hpp"
#include "payments/test/test_gateway.hpp"
#include "store/postgres/checkins.hpp"
#include "store/postgres/transfers.hpp"
#include "store/postgres/event_refunds.hpp"
#include "store/postgres/totp_store.hpp"
#include "store/postgres/account_tokens.hpp"
#include "store/postgres/organizations.hpp"
#include "store/postgres/orders.hpp"
#include "store/postgres/audit_log.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/redis/redis.hpp"
#include "store/redis/waiting_room.hpp"
#include "store/redis/session_bus.hpp"
#include "store/sqlite/checkins.hpp"
#include "store/sqlite/transfers.hpp"
#include "store/sqlite/event_refunds.hpp"
#include "store/sqlite/totp_store.hpp"
#include "store/sqlite/account_tokens.hpp"
#include "store/sqlite/organizations.hpp"
#include "store/sqlite/orders.hpp"
#include "store/sqlite/audit_log.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/waiting_room.hpp"

using namespace ticketd;

namespace {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string store = "embedded";  // embedded (SQLite) | postgres (PostgreSQL + Redis)
  std::string data_dir = "./data";
  std::string postgres_url;
  std::string redis_url;
  int postgres_pool = 32;
  int64_t hold_ttl_s = 600;
  // Live holds one user may have at once across all events (anti-hoarding; core/limits.hpp).
  int64_t holds_per_user_max = core::limits::active_holds_per_user_default;
  int io_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int worker_threads = 64;
  int64_t session_ttl_s = 86'400;
  // Sessions kept in memory (app/session_cache.hpp): how long an entry is trusted without asking the
  // store (the bound on a lost cross-node invalidation), and how many are kept.
  int64_t session_cache_ttl_s = 10;
  int64_t session_cache_entries_max = 100'000;
  int64_t sweep_interval_ms = 1'000;
  int64_t reconcile_interval_ms = 30'000;
  int64_t event_refunds_per_s = 20;  // refunds of cancelled events per second (gateway rate limits)
  int64_t reconcile_after_s = core::limits::payment_reconcile_after_default.count() / 1000;
  // A buyer's time to complete 3-D Secure; past it the payment is canceled and the seats freed.
  int64_t payment_action_timeout_s = core::limits::payment_action_pin_max.count() / 1000;
  std::string log_level = "info";
  std::string web_root;  // empty: <binary's dir>/../web, else ./web (see resolve_web_root)
  int64_t stream_heartbeat_ms = 15'000;
  bool demo = false;
  bool demo_queue = false;  // the demo event goes on sale in 2 minutes behind a waiting room
  // Waiting-room tokens: comma-separated secrets, the first signs, all verify. Unset: a random one,
  // kept in DATA_DIR/queue-secret so tokens survive a restart (embedded mode only).
  std::string queue_secrets;
  // Tickets: the root of every event's signing key and rotation secret (64 hex digits). Unset: a random
  // one kept in DATA_DIR/ticket-secret (embedded) or shared through PostgreSQL (distributed).
  std::string ticket_secret;
  std::string metrics_token;  // empty: GET /metrics answers 404 on the public listener
  std::string metrics_listen;  // host:port of a listener serving /metrics and /healthz alone, no token
  int64_t queue_tick_ms = 250;  // how often the releaser looks at the rooms (each has its own interval)
  // Stripe: used when a secret key is set; otherwise the in-process test provider.
  std::string stripe_secret_key;
  std::string stripe_webhook_secrets;  // comma-separated: more than one during a rotation
  std::string stripe_api_base = "https://api.stripe.com";
  int64_t stripe_timeout_ms = 10'000;
  int stripe_attempts_max = 4;
  // Notifications. Email: SMTP when --smtp-url is set, else a mail directory when --mail-dir is set,
  // else none (this node leaves email rows to nodes that have it; unclaimed, they expire after the
  // retention period). Webhook (SMS): when --notify-webhook-url is set.
  std::string smtp_url;
  std::string smtp_user;
  std::string smtp_password;
  std::string mail_from = "ticketd <tickets@ticketd.local>";
  std::string mail_dir;
  std::string smtp_ca_file;
  int64_t smtp_timeout_ms = 15'000;
  std::string webhook_url;
  std::string webhook_secret;
  int64_t webhook_timeout_ms = 10'000;
  int notify_attempts_max = 8;
  int64_t notify_backoff_base_ms = 1'000;
  int64_t notify_backoff_cap_ms = 300'000;
  int64_t notify_lease_ms = 60'000;
  int64_t notify_interval_ms = 500;
  int notify_batch = 16;
  // Account messages (email verification, password reset) link to the web app here. Unset: the
  // listen address over http (fine on one machine; a real deployment sets its public https URL).
  std::string public_url;
  int messages_per_account_hour_max = 30;
  int messages_per_destination_hour_max = 20;
  int64_t hold_expiry_notice_s = 120;
  // Abuse limits (docs/deploy.md). Rate limits: the defaults of http::default_rate_limits(), changed
  // by "CLASS.SCOPE=RATE/BURST" items; off altogether for capacity benchmarks.
  std::string rate_limits;
  bool rate_limits_off = false;
  std::string rate_limit_exempt;  // comma-separated peer IPs never rate limited (a trusted proxy, a monitor)
  std::string cors_origins;       // comma-separated origins allowed to call the API from a browser
  int64_t read_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 60'000;
  int64_t connections_max = 10'000;
  int64_t streams_max = 0;  // 0: half of connections_max (streams get their own share of the slots)
  int64_t streams_per_ip_max = 16;
  int64_t streams_per_account_max = 16;  // across all addresses (http/account_streams.hpp)
  std::string tls_cert_file;  // TLS on the listener: PEM certificate chain and key, both or neither
  std::string tls_key_file;
};

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The gateway and its webhook verifier, chosen by configuration. main() is the only place that knows.
struct PaymentWiring {
  std::unique_ptr<core::PaymentGateway> gateway;
  std::unique_ptr<core::PaymentEventVerifier> verifier;  // null: no webhooks
};

core::Result<PaymentWiring> wire_payments(const ServeConfig& cfg) {
  PaymentWiring w;
  if (cfg.stripe_secret_key.empty()) {
    spdlog::info("payments provider=test (set TICKETD_STRIPE_SECRET_KEY to use Stripe)");
    w.gateway = std::make_unique<payments::TestGateway>();
    return w;
  }
  payments::StripeConfig stripe;
  stripe.api_base = cfg.stripe_api_base;
  stripe.secret_key = cfg.stripe_secret_key;
  stripe.request_timeout = Millis(cfg.stripe_timeout_ms);
  stripe.attempts_max = cfg.stripe_attempts_max;
  if (auto s = payments::validate_stripe_config(stripe); !s) return s.error();
  const auto secrets = split_commas(cfg.stripe_webhook_secrets);
  if (secrets.empty())
    return core::make_error(core::Code::InvalidRequest, "TICKETD_STRIPE_WEBHOOK_SECRET is required with Stripe");
  w.gateway = std::make_unique<payments::StripeGateway>(stripe);
  w.verifier = std::make_unique<payments::StripeEventVerifier>(secrets);
  spdlog::info("payments provider=stripe api_base={} webhook_secrets={}", cfg.stripe_api_base, secrets.size());
  return w;
}

// Runs `work` every `interval` on its own thread until destroyed. Used for the hold sweeper (lapsed
// holds marked on disk; correctness never waits for it) and the payment reconciler.
class Periodic {
 public:
  Periodic(Millis interval, std::function<void()> work)
      : thread_([this, interval, work = std::move(work)] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, interval, [&] { return stop_; })) {
            lock.unlock();
            work();
            lock.lock();
          }
        }) {}
  ~Periodic() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The secret of DATA_DIR/queue-secret, created (32 random bytes, hex, mode 0600) if missing.
std::string random_hex_secret() {
  uint8_t bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

std::optional<std::string> data_dir_secret(const std::string& data_dir, const char* name,
                                           const std::string& candidate) {
  const auto path = std::filesystem::path(data_dir) / name;
  std::string secret;
  if (std::ifstream in(path); in && std::getline(in, secret) && !secret.empty()) return secret;
  const std::string& hex = candidate;
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return std::nullopt;
    ::chmod(tmp.c_str(), 0600);
    out << hex << "\n";
    if (!out.flush()) return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return std::nullopt;
  return hex;
}

void seed_demo(app::Catalog& catalog, const Clock& clock, bool queued) {
  if (!catalog.list_events(core::EventQuery{})->events.empty()) return;
  core::LayoutSpec spec{"Demo Arena", {}};
  auto rows = [](int count, uint32_t seats) {
    std::vector<core::RowSpec> out;
    for (int i = 0; i < count; ++i)
      out.push_back(core::RowSpec{std::string(1, static_cast<char>('A' + i)), seats, {}, {}, {}});
    out[0].accessible = {1, 2};
    out[0].companion = {3};
    return out;
  };
  spec.sections.push_back({"Floor", "premium", rows(10, 30)});
  spec.sections.push_back({"Lower Bowl", "standard", rows(15, 40)});
  spec.sections.push_back({"Upper Bowl", "value", rows(20, 50)});
  auto venue = catalog.create_venue(spec);
  if (!venue) return spdlog::error("demo venue: {}", venue.error().message);
  core::Event e;
  e.name = "Demo Night: The Seat Savers";
  e.venue_id = (*venue)->id;
  e.on_sale_at = clock.now() - Millis(60'000);
  e.starts_at = clock.now() + std::chrono::days(30);
  e.currency = "USD";
  e.prices = {{"premium", 15000}, {"standard", 8500}, {"value", 4500}};
  e.max_tickets_per_user = 8;
  if (queued) {
    // A flash sale: on sale in 2 minutes, the room open now; 5 people every 10 s, 2 minutes each to hold.
    e.on_sale_at = clock.now() + Millis(120'000);
    e.waiting_room = core::WaitingRoomSettings{true, 5, Millis(10'000), Millis(120'000), Millis(3'600'000)};
  }
  auto event = catalog.create_event(e);
  if (!event) return spdlog::error("demo event: {}", event.error().message);
  spdlog::info("demo venue_id={} event_id={} seats={} on_sale_at={} waiting_room={}", (*venue)->id, event->id,
               event->seats_total, format_rfc3339(event->on_sale_at), queued ? "on" : "off");
}

// The stores, chosen by configuration: embedded (SQLite under --data-dir) or distributed
// (PostgreSQL + Redis). main() is the only place that knows which.
struct StoreWiring {
  // Embedded.
  std::unique_ptr<store::sqlite::Database> sqlite;
  store::sqlite::SqliteLedger* sqlite_ledger = nullptr;
  // Distributed.
  std::unique_ptr<store::postgres::Pool> pg;
  std::unique_ptr<store::redis::RedisClient> redis;
  std::unique_ptr<core::SeatFront> front;
  // Ports. ticket_ids is declared first: the ledger borrows it.
  std::unique_ptr<core::TicketIdSource> ticket_ids = std::make_unique<app::RandomTicketIds>();
  std::unique_ptr<core::AccountStore> accounts;
  std::unique_ptr<core::CatalogStore> catalog;
  std::unique_ptr<core::Ledger> ledger;
  std::unique_ptr<core::OutboxStore> outbox;
};

// `seat_changes` hears of every seat change: the embedded ledger calls it; in distributed mode the
// Redis subscriber does (wired in serve()).
// The adapter of a port for the store in use: the embedded one over SQLite, the distributed one over
// PostgreSQL. Both are constructed from their store alone.
template <class Port, class Embedded, class Distributed>
std::unique_ptr<Port> adapter_for(const StoreWiring& stores) {
  if (stores.sqlite) return std::make_unique<Embedded>(*stores.sqlite);
  return std::make_unique<Distributed>(*stores.pg);
}

core::Result<StoreWiring> wire_stores(const ServeConfig& cfg, Metrics& metrics, core::SeatChangeSink* seat_changes) {
  StoreWiring w;
  if (cfg.store == "embedded") {
    w.sqlite = std::make_unique<store::sqlite::Database>(cfg.data_dir, &metrics);
    w.accounts = std::make_unique<store::sqlite::SqliteAccountStore>(*w.sqlite);
    w.catalog = std::make_unique<store::sqlite::SqliteCatalogStore>(*w.sqlite);
    auto ledger = std::make_unique<store::sqlite::SqliteLedger>(*w.sqlite, *w.ticket_ids, seat_changes);
    w.sqlite_ledger = ledger.get();
    w.ledger = std::move(ledger);
    w.outbox = std::make_unique<store::sqlite::SqliteOutbox>(*w.sqlite);
    spdlog::info("store=embedded data_dir={}", cfg.data_dir);
    return w;
  }
  if (cfg.store != "postgres") return core::make_error(core::Code::InvalidRequest, "--store must be embedded or postgres");
  if (cfg.postgres_url.empty()) return core::make_error(core::Code::InvalidRequest, "--store postgres needs --postgres-url");
  if (cfg.redis_url.empty()) return core::make_error(core::Code::InvalidRequest, "--store postgres needs --redis-url");
  store::redis::RedisConfig redis_cfg;
  std::string error;
  if (!store::redis::parse_redis_url(cfg.redis_url, redis_cfg, error)) return core::make_error(core::Code::InvalidRequest, error);
  w.pg = std::make_unique<store::postgres::Pool>(cfg.postgres_url, static_cast<size_t>(cfg.postgres_pool));
  try {
    auto lease = w.pg->acquire();
    store::postgres::migrate(*lease);
  } catch (const store::postgres::PgError& e) {
    return core::make_error(core::Code::Unavailable, std::string("postgres: ") + e.what());
  }
  w.redis = std::make_unique<store::redis::RedisClient>(redis_cfg);
  w.front = std::make_unique<store::redis::RedisSeatFront>(*w.redis);
  w.accounts = std::make_unique<store::postgres::PgAccountStore>(*w.pg);
  w.catalog = std::make_unique<store::postgres::PgCatalogStore>(*w.pg);
  w.ledger = std::make_unique<store::postgres::PgLedger>(*w.pg, *w.ticket_ids, w.front.get(), &metrics);
  w.outbox = std::make_unique<store::postgres::PgOutbox>(*w.pg);
  spdlog::info("store=postgres postgres_pool={} redis={}:{}/{}", cfg.postgres_pool, redis_cfg.host, redis_cfg.port,
               redis_cfg.db);
  return w;
}

// The web app's files: --web-root if given; otherwise web/ next to the build directory the binary
// runs from (build/ticketd -> web/), then ./web. Empty when none exists (no web app; the API works).
std::filesystem::path resolve_web_root(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!configured.empty()) return fs::is_directory(configured, ec) ? fs::path(configured) : fs::path();
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::is_regular_file(exe.parent_path().parent_path() / "web" / "index.html", ec))
    return exe.parent_path().parent_path() / "web";
  if (fs::is_regular_file("web/index.html", ec)) return fs::path("web");
  return {};
}

// The notification channels, chosen by configuration. main() is the only place that knows.
// --ticket-secret, else the one every node shares through PostgreSQL, else DATA_DIR/ticket-secret
// (created on first start). Changing it changes every event's keys: codes already issued stop
// verifying (docs/tickets.md).
std::optional<app::TicketSecret> resolve_ticket_secret(const ServeConfig& cfg, const StoreWiring& stores) {
  std::string hex = cfg.ticket_secret;
  try {
    if (hex.empty() && stores.pg) {
      auto lease = stores.pg->acquire();
      hex = store::postgres::shared_secret(*lease, "ticket-secret", app::TicketSecret::random_hex());
    } else if (hex.empty()) {
      hex = data_dir_secret(cfg.data_dir, "ticket-secret", app::TicketSecret::random_hex()).value_or("");
    }
  } catch (const std::exception& e) {
    std::cerr << "ticketd: ticket secret: " << e.what() << "\n";
    return std::nullopt;
  }
  auto secret = app::TicketSecret::from_hex(hex);
  if (!secret) std::cerr << "ticketd: --ticket-secret: 64 hex digits (32 bytes) required\n";
  return secret;
}

struct ChannelWiring {
  std::vector<std::unique_ptr<core::NotificationChannel>> owned;
  std::vector<core::NotificationChannel*> channels;
};

core::Result<ChannelWiring> wire_channels(const ServeConfig& cfg, const std::string& node) {
  ChannelWiring w;
  if (!cfg.smtp_url.empty() && !cfg.mail_dir.empty())
    return core::make_error(core::Code::InvalidRequest, "--smtp-url and --mail-dir are exclusive: choose one");
  if (!cfg.smtp_url.empty()) {
    notify::SmtpConfig smtp{cfg.smtp_url, cfg.smtp_user, cfg.smtp_password, cfg.mail_from, Millis(cfg.smtp_timeout_ms),
                            cfg.smtp_ca_file};
    if (auto s = notify::validate_smtp_config(smtp); !s) return s.error();
    w.owned.push_back(std::make_unique<notify::SmtpChannel>(smtp));
    // The URL may carry credentials; only its scheme and host part are worth a log line.
    spdlog::info("notify email=smtp url_scheme={} auth={}", cfg.smtp_url.substr(0, cfg.smtp_url.find("://")),
                 cfg.smtp_user.empty() ? "none" : "user");
  } else if (!cfg.mail_dir.empty()) {
    w.owned.push_back(std::make_unique<notify::MailDirChannel>(cfg.mail_dir, cfg.mail_from));
    spdlog::info("notify email=mail-dir dir={}", cfg.mail_dir);
  }
  if (!cfg.webhook_url.empty()) {
    if (cfg.webhook_secret.size() < notify::kWebhookSecretBytesMin)
      return core::make_error(core::Code::InvalidRequest, "--notify-webhook-secret: at least 16 bytes required");
    if (!cfg.webhook_url.starts_with("http://") && !cfg.webhook_url.starts_with("https://"))
      return core::make_error(core::Code::InvalidRequest, "--notify-webhook-url must be http:// or https://");
    w.owned.push_back(std::make_unique<notify::WebhookChannel>(
        notify::WebhookConfig{cfg.webhook_url, cfg.webhook_secret, Millis(cfg.webhook_timeout_ms), node}));
    spdlog::info("notify webhook=on");
  }
  for (auto& c : w.owned) w.channels.push_back(c.get());
  return w;
}

// This process's name in outbox leases: unique across nodes and restarts.
std::string node_name() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device rd;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, "%d-%08x", static_cast<int>(getpid()), rd());
  return std::string(host) + "-" + suffix;
}


bool split_listen(const std::string& listen, std::string& host, uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    const int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

// --metrics-listen: /metrics and /healthz alone, without a token, on an address the operator keeps
// private (a management interface, loopback for a local agent). One I/O thread, a few connections:
// it serves a scraper, not the public.
class MetricsListener {
 public:
  MetricsListener(const std::string& host, uint16_t port, Metrics& metrics,
                  std::function<void(std::string&)> gauges) {
    http::ServerConfig c;
    c.host = host;
    c.port = port;
    c.io_threads = 1;
    c.worker_threads = 1;
    c.connections_max = 16;
    c.handle_signals = false;  // the public listener owns SIGINT/SIGTERM; serve() stops this one
    server_ = std::make_unique<http::Server>(c, [&metrics, gauges](const http::Request& r) {
      http::Response out;
      const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
      if (r.method == "GET" && path == "/metrics") {
        out.content_type = "text/plain; version=0.0.4";
        out.body = metrics.render(gauges);
      } else if (r.method == "GET" && path == "/healthz") {
        out.body = R"({"status":"ok"})";
      } else {
        out.status = 404;
        out.body = R"({"error":{"code":"not_found","message":"this listener serves /metrics and /healthz"}})";
      }
      http::add_security_headers(out);
      return out;
    });
    thread_ = std::thread([this] { server_->run(); });
  }
  ~MetricsListener() {
    server_->stop();
    thread_.join();
  }
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

// Where links in mail point without --public-url: this listener, as a browser on this machine reaches it.
std::string default_public_url(bool tls, const std::string& host, uint16_t port) {
  const std::string name = host == "0.0.0.0" || host == "::" || host.empty() ? std::string("localhost")
                           : host.find(':') != std::string::npos           ? "[" + host + "]"
                                                                           : host;
  return std::string(tls ? "https" : "http") + "://" + name + ":" + std::to_string(port);
}

int serve(const ServeConfig& cfg) {
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  std::string host;
  uint16_t port = 0;
  if (!split_listen(cfg.listen, host, port)) {
    std::cerr << "ticketd: --listen must be host:port\n";
    return 2;
  }
  if (cfg.hold_ttl_s < 1 || cfg.hold_ttl_s > 86'400) {
    std::cerr << "ticketd: --hold-ttl must be 1-86400 seconds\n";
    return 2;
  }
  const std::filesystem::path web_root = resolve_web_root(cfg.web_root);
  if (web_root.empty() && !cfg.web_root.empty()) {
    std::cerr << "ticketd: --web-root " << cfg.web_root << " is not a directory\n";
    return 2;
  }
  app::crypto_init();
  SystemClock clock;
  Metrics metrics;
  // The live seat map hub outlives the ledger that reports to it. Its snapshots come from the
  // catalog, made below; the epoch tells a reconnecting client's ids from another era's (embedded:
  // this process's start; distributed: one value all nodes share, as they share the versions).
  app::Catalog* catalog_for_stream = nullptr;
  uint64_t stream_epoch = static_cast<uint64_t>(to_unix_ms(clock.now()));
  std::unique_ptr<app::SeatStream> seat_stream_owned;
  auto make_stream = [&](uint64_t epoch) {
    seat_stream_owned = std::make_unique<app::SeatStream>(
        [&catalog_for_stream](core::EventId id) { return catalog_for_stream->seat_map(id); }, epoch);
  };
  make_stream(stream_epoch);
  auto stores = wire_stores(cfg, metrics, seat_stream_owned.get());
  if (!stores) {
    std::cerr << "ticketd: store: " << stores.error().message << "\n";
    return 2;
  }
  if (stores->pg) {
    try {
      auto lease = stores->pg->acquire();
      stream_epoch = std::stoull(store::postgres::shared_secret(*lease, "seat-stream-epoch", std::to_string(stream_epoch)));
    } catch (const std::exception& e) {
      std::cerr << "ticketd: seat stream epoch: " << e.what() << "\n";
      return 2;
    }
    make_stream(stream_epoch);  // nothing reports to it yet: the subscriber below is its only source
  }
  app::SeatStream& seat_stream = *seat_stream_owned;
  core::AccountStore& accounts_store = *stores->accounts;
  core::CatalogStore& catalog_store = *stores->catalog;
  core::Ledger& ledger = *stores->ledger;
  std::unique_ptr<store::redis::RedisSessionBus> session_bus;
  if (stores->redis) session_bus = std::make_unique<store::redis::RedisSessionBus>(*stores->redis);
  app::SessionCache session_cache(
      clock,
      app::SessionCacheConfig{static_cast<size_t>(cfg.session_cache_entries_max), Millis(cfg.session_cache_ttl_s * 1000)},
      session_bus.get());
  std::unique_ptr<store::redis::RedisSubscriber> subscriber;
  if (stores->redis)
    subscriber = std::make_unique<store::redis::RedisSubscriber>(*stores->redis, seat_stream, &session_cache);
  auto wired = wire_payments(cfg);
  if (!wired) {
    std::cerr << "ticketd: payments: " << wired.error().message << "\n";
    return 2;
  }
  core::PaymentGateway& gateway = *wired->gateway;
  std::vector<std::string> queue_secrets = split_commas(cfg.queue_secrets);
  if (queue_secrets.empty() && stores->pg) {
    // Every node must verify every other node's tokens: without a configured secret they share one
    // kept in PostgreSQL, created by the first node that starts.
    try {
      auto lease = stores->pg->acquire();
      queue_secrets.push_back(store::postgres::shared_secret(*lease, "queue-secret", random_hex_secret()));
    } catch (const std::exception& e) {
      std::cerr << "ticketd: queue secret: " << e.what() << "\n";
      return 2;
    }
  } else if (queue_secrets.empty()) {
    auto generated = data_dir_secret(cfg.data_dir, "queue-secret", random_hex_secret());
    if (!generated) {
      std::cerr << "ticketd: cannot write " << cfg.data_dir << "/queue-secret\n";
      return 2;
    }
    queue_secrets.push_back(*generated);
  }
  if (auto s = app::TokenKeys::validate(queue_secrets); !s) {
    std::cerr << "ticketd: --queue-secret: " << s.error().message << "\n";
    return 2;
  }
  const app::TokenKeys queue_keys(queue_secrets);
  const std::optional<app::TicketSecret> ticket_secret = resolve_ticket_secret(cfg, *stores);
  if (!ticket_secret) return 2;
  if (!cfg.public_url.empty() && (cfg.public_url.size() > 200 || cfg.public_url.find_first_of(" \r\n\"<>") != std::string::npos ||
                                 !(cfg.public_url.starts_with("https://") || cfg.public_url.starts_with("http://")))) {
    std::cerr << "ticketd: --public-url: an http:// or https:// URL of at most 200 bytes\n";
    return 2;
  }
  if (!cfg.metrics_token.empty() && cfg.metrics_token.size() < 16) {
    std::cerr << "ticketd: --metrics-token: at least 16 bytes (it guards the operators' figures)\n";
    return 2;
  }
  std::unique_ptr<core::WaitingRoomStore> queue_store_owned;
  if (stores->sqlite) queue_store_owned = std::make_unique<store::sqlite::SqliteWaitingRoomStore>(*stores->sqlite);
  else queue_store_owned = std::make_unique<store::redis::RedisWaitingRoomStore>(*stores->redis);
  core::WaitingRoomStore& queue_store = *queue_store_owned;
  auto totp_store = adapter_for<core::TotpStore, store::sqlite::SqliteTotpStore, store::postgres::PgTotpStore>(*stores);
  app::TwoFactor two_factor(*totp_store, clock);
  auto audit_log = adapter_for<core::AuditLog, store::sqlite::SqliteAuditLog, store::postgres::PgAuditLog>(*stores);
  auto account_token_store =
      adapter_for<core::AccountTokenStore, store::sqlite::SqliteAccountTokens, store::postgres::PgAccountTokens>(*stores);
  // Its public URL is set once the listener is bound (--listen may name port 0).
  app::AccountLinks account_links(*account_token_store, accounts_store, ticket_secret->account_key(), clock, metrics,
                                  &session_cache);
  app::Accounts accounts(accounts_store, clock, Millis(cfg.session_ttl_s * 1000), metrics, &two_factor,
                         &account_links, &session_cache);
  app::Catalog catalog(catalog_store, ledger, clock);
  app::WaitingRoom waiting_room(queue_store, catalog, ledger, queue_keys, clock, metrics, app::make_seed);
  auto transfer_store = adapter_for<core::TransferStore, store::sqlite::SqliteTransferStore, store::postgres::PgTransferStore>(*stores);
  app::Sales sales(ledger, catalog, gateway, clock, Millis(cfg.hold_ttl_s * 1000), metrics, &waiting_room,
                   Millis(cfg.hold_expiry_notice_s * 1000), static_cast<uint32_t>(cfg.holds_per_user_max),
                   transfer_store.get());
  app::Tickets tickets(ledger, catalog, *ticket_secret, clock);
  app::Transfers transfers(*transfer_store, tickets, *stores->ticket_ids, clock);
  auto event_refunds = adapter_for<core::EventRefunds, store::sqlite::SqliteEventRefunds, store::postgres::PgEventRefunds>(*stores);
  auto checkin_store = adapter_for<core::CheckinStore, store::sqlite::SqliteCheckinStore, store::postgres::PgCheckinStore>(*stores);
  auto organization_store =
      adapter_for<core::OrganizationStore, store::sqlite::SqliteOrganizationStore, store::postgres::PgOrganizationStore>(*stores);
  app::Organizations organizations(*organization_store, accounts_store, catalog, &two_factor, clock);
  app::Checkins checkins(*checkin_store, accounts_store, catalog, *ticket_secret, clock, &organizations);
  auto order_store = adapter_for<core::Orders, store::sqlite::SqliteOrders, store::postgres::PgOrders>(*stores);
  app::OrderDesk orders(*order_store, catalog, clock);
  app::DoorFeed door_feed(*checkin_store, clock);
  catalog_for_stream = &catalog;
  const std::string node = node_name();
  auto channels = wire_channels(cfg, node);
  if (!channels) {
    std::cerr << "ticketd: notifications: " << channels.error().message << "\n";
    return 2;
  }
  if (cfg.notify_backoff_cap_ms < cfg.notify_backoff_base_ms) {
    std::cerr << "ticketd: --notify-backoff-cap-ms must be at least --notify-backoff-base-ms\n";
    return 2;
  }
  const int64_t delivery_timeout_ms = std::max(cfg.smtp_url.empty() ? 0 : cfg.smtp_timeout_ms,
                                               cfg.webhook_url.empty() ? 0 : cfg.webhook_timeout_ms);
  if (cfg.notify_lease_ms < delivery_timeout_ms * 2) {
    // A lease shorter than a delivery could lapse mid-delivery and let a second node deliver too.
    std::cerr << "ticketd: --notify-lease-ms must be at least twice the timeout of each configured channel\n";
    return 2;
  }
  app::NotifyConfig notify_cfg;
  notify_cfg.retry = core::RetryPolicy{Millis(cfg.notify_backoff_base_ms), Millis(cfg.notify_backoff_cap_ms),
                                       cfg.notify_attempts_max};
  notify_cfg.lease = Millis(cfg.notify_lease_ms);
  notify_cfg.batch_max = static_cast<uint32_t>(cfg.notify_batch);
  notify_cfg.owner = node;
  notify_cfg.seed = std::random_device{}();
  notify_cfg.caps = core::MessageCaps{static_cast<uint32_t>(cfg.messages_per_account_hour_max),
                                      static_cast<uint32_t>(cfg.messages_per_destination_hour_max)};
  app::Notifications notifications(*stores->outbox, ledger, catalog, accounts_store, channels->channels, clock,
                                   notify_cfg, metrics, &tickets, transfer_store.get(), &account_links);
  app::EventCancellations cancellations(catalog, *event_refunds, ledger, gateway, clock, metrics);
  app::Payments payments(ledger, gateway, wired->verifier.get(), clock, Millis(cfg.reconcile_after_s * 1000), metrics,
                         Millis(cfg.payment_action_timeout_s * 1000));

  const char* admin_email = std::getenv("TICKETD_ADMIN_EMAIL");
  const char* admin_password = std::getenv("TICKETD_ADMIN_PASSWORD");
  if (admin_email && admin_password) {
    if (auto s = accounts.ensure_admin(admin_email, admin_password); !s)
      spdlog::error("admin bootstrap failed: {}", s.error().message);
  }
  if (cfg.demo) seed_demo(catalog, clock, cfg.demo_queue);

  http::RateLimitConfig limits = http::default_rate_limits();
  limits.enabled = !cfg.rate_limits_off;
  limits.exempt_ips = split_commas(cfg.rate_limit_exempt);
  if (std::string error = http::apply_rate_limit_spec(limits, cfg.rate_limits); !error.empty()) {
    std::cerr << "ticketd: --rate-limit: " << error << "\n";
    return 2;
  }
  http::RateLimiter limiter(limits);
  for (const std::string& origin : split_commas(cfg.cors_origins)) {
    if (!origin.starts_with("http://") && !origin.starts_with("https://")) {
      std::cerr << "ticketd: --cors-origin: '" << origin << "' is not an origin like https://shop.example\n";
      return 2;
    }
  }
  spdlog::info("rate_limits={} exempt_ips={} cors_origins={}", limits.enabled ? "on" : "off",
               limits.exempt_ips.size(), split_commas(cfg.cors_origins).size());

  std::unique_ptr<http::Server> server;  // declared first: the /metrics gauges read its counters
  http::EncodingCache seat_map_cache;
  http::EncodingCache layout_cache(http::EncodingCache::kLayoutsMax);
  auto gauges = [&](std::string& out) {
    out += "ticketd_seat_map_cache_hits_total " + std::to_string(seat_map_cache.hits()) + "\n";
    out += "ticketd_layout_cache_hits_total " + std::to_string(layout_cache.hits()) + "\n";
    const app::SessionCacheStats sc = session_cache.stats();
    out += "ticketd_session_cache_hits_total " + std::to_string(sc.hits_total) + "\n";
    out += "ticketd_session_cache_misses_total " + std::to_string(sc.misses_total) + "\n";
    out += "ticketd_session_cache_invalidations_total " + std::to_string(sc.invalidations_total) + "\n";
    out += "ticketd_session_cache_entries " + std::to_string(sc.entries) + "\n";
    if (stores->sqlite_ledger) {
      const core::SeatCounts c = stores->sqlite_ledger->loaded_counts(clock.now());
      out += "# TYPE ticketd_seats gauge\n";
      out += "ticketd_seats{state=\"available\"} " + std::to_string(c.available) + "\n";
      out += "ticketd_seats{state=\"held\"} " + std::to_string(c.held) + "\n";
      out += "ticketd_seats{state=\"sold\"} " + std::to_string(c.sold) + "\n";
    }
    try {
      const core::OutboxCounts oc = notifications.counts();
      out += "# TYPE ticketd_notifications_outbox gauge\n";
      out += "ticketd_notifications_outbox{status=\"pending\"} " + std::to_string(oc.pending) + "\n";
      out += "ticketd_notifications_outbox{status=\"dead\"} " + std::to_string(oc.dead) + "\n";
    } catch (const std::exception&) {
      // The database is down: /metrics still answers with what this process knows.
    }
    if (stores->redis) out += std::string("ticketd_redis_up ") + (stores->redis->up() ? "1" : "0") + "\n";
    const app::SeatStreamStats ss = seat_stream.stats();
    out += "# TYPE ticketd_seat_stream_subscribers gauge\nticketd_seat_stream_subscribers " +
           std::to_string(ss.subscribers) + "\n";
    out += "ticketd_seat_stream_topics " + std::to_string(ss.topics) + "\n";
    out += "ticketd_seat_stream_changes_total " + std::to_string(ss.changes_total) + "\n";
    out += "ticketd_seat_stream_snapshots_total " + std::to_string(ss.snapshots_total) + "\n";
    out += "ticketd_seat_stream_lagged_total " + std::to_string(ss.lagged_total) + "\n";
    out += "ticketd_seat_stream_refused_total " + std::to_string(ss.refused_total) + "\n";
    out += "ticketd_seat_stream_dropped_total " + std::to_string(ss.dropped_total) + "\n";
    const app::DoorFeedStats df = door_feed.stats();
    out += "# TYPE ticketd_door_feed_subscribers gauge\nticketd_door_feed_subscribers " +
           std::to_string(df.subscribers) + "\n";
    out += "ticketd_door_feed_topics " + std::to_string(df.topics) + "\n";
    out += "ticketd_door_feed_changes_total " + std::to_string(df.changes_total) + "\n";
    out += "ticketd_door_feed_lagged_total " + std::to_string(df.lagged_total) + "\n";
    out += "ticketd_door_feed_refused_total " + std::to_string(df.refused_total) + "\n";
    out += "ticketd_door_feed_poll_errors_total " + std::to_string(df.poll_errors_total) + "\n";
    if (!server) return;
    const http::ServerStats st = server->stats();
    const std::pair<const char*, uint64_t> counters[] = {
        {"ticketd_connections_open", st.connections_open},
        {"ticketd_connections_accepted_total", st.connections_accepted_total},
        {"ticketd_connections_refused_total", st.connections_refused_total},
        {"ticketd_requests_overloaded_total", st.requests_overloaded_total},
        {"ticketd_requests_malformed_total", st.requests_malformed_total},
        {"ticketd_requests_body_too_large_total", st.requests_body_too_large_total},
        {"ticketd_requests_headers_too_large_total", st.requests_headers_too_large_total},
        {"ticketd_requests_uri_too_long_total", st.requests_uri_too_long_total},
        {"ticketd_handler_exceptions_total", st.handler_exceptions_total},
        {"ticketd_read_timeouts_total", st.read_timeouts_total},
        {"ticketd_write_timeouts_total", st.write_timeouts_total},
        {"ticketd_streams_open", st.streams_open},
        {"ticketd_http_requests_inline_total", st.requests_inline_total},
        {"ticketd_streams_total", st.streams_total},
        {"ticketd_streams_refused_total", st.streams_refused_total},
        {"ticketd_streams_peer_gone_total", st.streams_peer_gone_total},
        {"ticketd_tls_handshake_failures_total", st.tls_handshake_failures_total},
    };
    for (const auto& [name, value] : counters) out += std::string(name) + " " + std::to_string(value) + "\n";
    waiting_room.render_metrics(out);
    limiter.render_metrics(out);
  };
  std::optional<http::StaticFiles> web;
  if (!web_root.empty()) web.emplace(web_root);
  // Embedded: a nearly full data disk pauses every write (503) and the background writers below, so that
  // SQLite never reaches a commit it cannot write (which would fail-stop the process). Space coming back
  // resumes them: no restart.
  std::function<bool()> writes_paused;
  if (stores->sqlite) writes_paused = [db = stores->sqlite.get()] { return db->disk_low(); };
  http::Api api(http::Services{accounts, catalog, sales, payments, notifications, metrics, gauges, &waiting_room, &seat_stream,
                               web ? &*web : nullptr, &limiter, http::EdgePolicy{split_commas(cfg.cors_origins)},
                               writes_paused, &tickets, &checkins, &door_feed, &transfers, &cancellations,
                               &two_factor, audit_log.get(), cfg.metrics_token, &organizations, &orders,
                               &account_links, &seat_map_cache, &layout_cache,
                               std::make_shared<http::AccountStreams>(static_cast<uint32_t>(cfg.streams_per_account_max))});
  http::ServerConfig server_cfg;
  server_cfg.host = host;
  server_cfg.port = port;
  server_cfg.io_threads = cfg.io_threads;
  server_cfg.worker_threads = cfg.worker_threads;
  server_cfg.stream_heartbeat = Millis(cfg.stream_heartbeat_ms);
  server_cfg.read_timeout = Millis(cfg.read_timeout_ms);
  server_cfg.idle_timeout = Millis(cfg.idle_timeout_ms);
  server_cfg.connections_max = static_cast<size_t>(cfg.connections_max);
  server_cfg.streams_max = static_cast<size_t>(cfg.streams_max);  // 0: the transport takes half of the connections
  server_cfg.streams_per_ip_max = static_cast<size_t>(cfg.streams_per_ip_max);
  server_cfg.tls_cert_file = cfg.tls_cert_file;
  server_cfg.tls_key_file = cfg.tls_key_file;
  try {
    server = std::make_unique<http::Server>(
        server_cfg, [&api](const http::Request& r) { return api.handle(r); },
        [&api](http::Request& r, const http::Reply& reply) { return api.handle_inline(r, reply); });
  } catch (const std::exception& e) {
    spdlog::error("listen failed: {}", e.what());
    return 1;
  }
  account_links.set_public_url(!cfg.public_url.empty() ? cfg.public_url
                                                        : default_public_url(!cfg.tls_cert_file.empty(), host, server->port()));
  {
    // Background work must survive a database outage: log, and try again next round.
    std::atomic<bool> paused_logged{false};
    auto guarded = [&](const char* name, const std::function<void()>& work) {
      if (writes_paused && writes_paused()) {
        if (!paused_logged.exchange(true)) spdlog::warn("data disk nearly full: writes paused until space returns");
        return;
      }
      if (paused_logged.exchange(false)) spdlog::warn("data disk has space again: writes resumed");
      try {
        work();
      } catch (const std::exception& e) {
        spdlog::warn("{} failed: {}", name, e.what());
      }
    };
    Millis wall_step_logged{0};
    Periodic sweeper(Millis(cfg.sweep_interval_ms), [&] {
      // Deadlines follow the monotonic clock (SystemClock); say so once per step of the system clock.
      if (const Millis step = clock.wall_step(); std::chrono::abs(step - wall_step_logged) > Millis(1'000)) {
        spdlog::warn("system clock stepped: it is {} ms away from ticketd's clock; hold deadlines keep real time, "
                     "times written from now on are off by that much until restart", step.count());
        wall_step_logged = step;
      }
      guarded("sweeper", [&] {
        if (const size_t n = ledger.sweep_expired(clock.now())) spdlog::debug("sweeper expired_seats={}", n);
        if (stores->front) stores->front->repair();  // after a Redis outage: stale maps go, streams resync
      });
    });
    // One releaser at a time: embedded, this process; distributed, whichever node holds the
    // releaser's advisory lock for the pass (a node that dies drops it with its connection).
    Periodic releaser(Millis(cfg.queue_tick_ms), [&] {
      guarded("releaser", [&] {
        auto pass = [&] {
          if (const uint64_t n = waiting_room.release()) spdlog::debug("releaser admitted={}", n);
        };
        if (stores->pg) store::postgres::run_exclusively(*stores->pg, store::postgres::kReleaserLockKey, pass);
        else pass();
      });
    });
    Periodic reconciler(Millis(cfg.reconcile_interval_ms), [&] {
      guarded("reconciler", [&] {
        const app::ReconcileReport r = payments.reconcile();
        if (r.settled) spdlog::info("reconciler examined={} settled_payments={}", r.examined, r.settled);
        if (r.abandoned) spdlog::info("reconciler canceled_payments={}: authentication never completed", r.abandoned);
        if (r.failed)
          spdlog::warn("reconciler failed_bookings={}: stored payments the gateway refuses (amount, currency or "
                       "key); their holds lapse as usual", r.failed);
      });
    });
    // Refunds of cancelled events, paced at --event-refunds-per-s; one node at a time (advisory lock).
    Periodic refunder(Millis(1000), [&] {
      guarded("event refunds", [&] {
        auto pass = [&] {
          const app::RefundPassReport r = cancellations.refund_due(static_cast<uint32_t>(cfg.event_refunds_per_s));
          if (r.refunded) spdlog::info("event refunds refunded_bookings={}", r.refunded);
          if (r.failed) spdlog::warn("event refunds failed_bookings={}: retried by a later pass", r.failed);
        };
        if (stores->pg) store::postgres::run_exclusively(*stores->pg, store::postgres::kEventRefundsLockKey, pass);
        else pass();
      });
    });
    Periodic notifier(Millis(cfg.notify_interval_ms), [&] {
      guarded("notifier", [&] { notifications.deliver_due(); });
    });
    std::unique_ptr<MetricsListener> metrics_listener;
    if (!cfg.metrics_listen.empty()) {
      std::string metrics_host;
      uint16_t metrics_port = 0;
      try {
        if (!split_listen(cfg.metrics_listen, metrics_host, metrics_port))
          throw std::runtime_error("host:port required");
        metrics_listener = std::make_unique<MetricsListener>(metrics_host, metrics_port, metrics, gauges);
      } catch (const std::exception& e) {
        spdlog::error("--metrics-listen {}: {}", cfg.metrics_listen, e.what());
        return 1;
      }
      spdlog::info("metrics listening url=http://{}:{}/metrics", metrics_host, metrics_listener->port());
    }
    spdlog::info("listening url={}://{}:{} store={} hold_ttl_s={} holds_per_user_max={} io_threads={} workers={} "
                 "web_root={}",
                 cfg.tls_cert_file.empty() ? "http" : "https", host, server->port(), cfg.store, cfg.hold_ttl_s,
                 cfg.holds_per_user_max, cfg.io_threads, cfg.worker_threads,
                 web ? web->root().string() : std::string("(none)"));
    server->run();
    notifications.stop();  // a pass in progress returns after its current delivery
    spdlog::info("shutting down: requests drained");
  }
  server.reset();
  spdlog::info("stopped");
  return 0;
}

int verify(const std::string& store, const std::string& data_dir, const std::string& postgres_url) {
  std::string report;
  bool ok = false;
  try {
    if (store == "postgres") ok = store::postgres::verify_database(postgres_url, SystemClock().now(), report);
    else ok = store::sqlite::verify_data_dir(data_dir, SystemClock().now(), report);
  } catch (const std::exception& e) {
    report += std::string("error: ") + e.what() + "\n";
  }
  std::cout << report << (ok ? "verify: OK\n" : "verify: FAILED\n");
  return ok ? 0 : 1;
}

int migrate(const std::string& postgres_url) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  try {
    store::postgres::Connection conn(postgres_url);
    const int applied = store::postgres::migrate(conn);
    std::cout << "migrate: " << applied << " applied, schema version " << store::postgres::latest_schema_version()
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "migrate: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"ticketd: a ticketing server that never sells a seat twice"};
  cli.require_subcommand(1);
  ServeConfig cfg;
  auto* serve_cmd = cli.add_subcommand("serve", "run the HTTP server");
  serve_cmd->add_option("--listen", cfg.listen, "host:port to listen on")->envname("TICKETD_LISTEN");
  serve_cmd->add_option("--store", cfg.store, "embedded (SQLite, one node) or postgres (PostgreSQL + Redis, many nodes)")
      ->envname("TICKETD_STORE")->check(CLI::IsMember({"embedded", "postgres"}));
  serve_cmd->add_option("--data-dir", cfg.data_dir, "where the embedded store keeps its files")
      ->envname("TICKETD_DATA_DIR");
  serve_cmd->add_option("--postgres-url", cfg.postgres_url, "libpq URI of PostgreSQL (--store postgres)")
      ->envname("TICKETD_POSTGRES_URL");
  serve_cmd->add_option("--redis-url", cfg.redis_url, "redis://[:password@]host:port/db (--store postgres)")
      ->envname("TICKETD_REDIS_URL");
  serve_cmd->add_option("--postgres-pool", cfg.postgres_pool, "PostgreSQL connections per node")
      ->envname("TICKETD_POSTGRES_POOL")->check(CLI::Range(1, 1000));
  serve_cmd->add_option("--hold-ttl", cfg.hold_ttl_s, "seconds a hold lasts")->envname("TICKETD_HOLD_TTL_S");
  serve_cmd->add_option("--holds-per-user-max", cfg.holds_per_user_max,
                        "live holds one user may have at once across all events (default 10)")
      ->envname("TICKETD_HOLDS_PER_USER_MAX")
      ->check(CLI::Range(int64_t{1}, static_cast<int64_t>(core::limits::active_holds_per_user_max)));
  serve_cmd->add_option("--threads", cfg.io_threads, "I/O threads")->envname("TICKETD_THREADS")->check(CLI::Range(1, 256));
  serve_cmd->add_option("--workers", cfg.worker_threads, "request worker threads")
      ->envname("TICKETD_WORKERS")->check(CLI::Range(1, 1024));
  serve_cmd->add_option("--session-ttl", cfg.session_ttl_s, "seconds a login lasts")
      ->envname("TICKETD_SESSION_TTL_S")->check(CLI::Range(60, 30 * 86'400));
  serve_cmd->add_option("--session-cache-ttl", cfg.session_cache_ttl_s,
                        "seconds a node trusts a session it read without asking the store again (0: no cache)")
      ->envname("TICKETD_SESSION_CACHE_TTL_S")->check(CLI::Range(0, 300));
  serve_cmd->add_option("--session-cache-entries-max", cfg.session_cache_entries_max, "sessions kept in memory")
      ->envname("TICKETD_SESSION_CACHE_ENTRIES_MAX")->check(CLI::Range(int64_t{1'000}, int64_t{10'000'000}));
  serve_cmd->add_option("--reconcile-interval-ms", cfg.reconcile_interval_ms, "how often pending payments are checked")
      ->envname("TICKETD_RECONCILE_INTERVAL_MS")->check(CLI::Range(100, 3'600'000));
  serve_cmd->add_option("--event-refunds-per-s", cfg.event_refunds_per_s,
                        "refunds per second while cancelled events are refunded (stay below the gateway's limit)")
      ->envname("TICKETD_EVENT_REFUNDS_PER_S")->check(CLI::Range(1, 1000));
  serve_cmd->add_option("--payment-action-timeout", cfg.payment_action_timeout_s,
                        "seconds a buyer has to complete 3-D Secure before the payment is canceled")
      ->envname("TICKETD_PAYMENT_ACTION_TIMEOUT_S")
      ->check(CLI::Range(int64_t{1}, core::limits::payment_action_pin_max.count() / 1000));
  serve_cmd->add_option("--payment-reconcile-after", cfg.reconcile_after_s,
                        "seconds a payment may stay pending before the gateway is asked")
      ->envname("TICKETD_PAYMENT_RECONCILE_AFTER_S")->check(CLI::Range(1, 86'400));
  serve_cmd->add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error")->envname("TICKETD_LOG_LEVEL");
  serve_cmd->add_option("--web-root", cfg.web_root, "directory of the web app's files (default: web/ of the checkout)")
      ->envname("TICKETD_WEB_ROOT");
  serve_cmd->add_option("--stream-heartbeat-ms", cfg.stream_heartbeat_ms, "idle live seat map streams get a comment this often")
      ->envname("TICKETD_STREAM_HEARTBEAT_MS")->check(CLI::Range(100, 300'000));
  serve_cmd->add_flag("--demo", cfg.demo, "seed a demo venue and event if there are no events")->envname("TICKETD_DEMO");
  serve_cmd->add_flag("--demo-queue", cfg.demo_queue,
                      "with --demo: the demo event goes on sale in 2 minutes behind a waiting room")
      ->envname("TICKETD_DEMO_QUEUE");
  serve_cmd->add_option("--queue-secret", cfg.queue_secrets,
                        "waiting-room token secret(s), comma-separated: the first signs, all verify "
                        "(default: a random one kept in DATA_DIR/queue-secret)")
      ->envname("TICKETD_QUEUE_SECRET");
  serve_cmd->add_option("--ticket-secret", cfg.ticket_secret,
                        "root of the events' ticket-signing keys, 64 hex digits (default: a random one kept in "
                        "DATA_DIR/ticket-secret, or shared through PostgreSQL)")
      ->envname("TICKETD_TICKET_SECRET");
  serve_cmd->add_option("--metrics-listen", cfg.metrics_listen,
                        "host:port of a second listener serving /metrics and /healthz alone, without a token")
      ->envname("TICKETD_METRICS_LISTEN");
  serve_cmd->add_option("--metrics-token", cfg.metrics_token,
                        "GET /metrics answers only to 'Authorization: Bearer <token>' (unset: /metrics is not served)")
      ->envname("TICKETD_METRICS_TOKEN");
  serve_cmd->add_option("--queue-tick-ms", cfg.queue_tick_ms, "how often the waiting-room releaser runs")
      ->envname("TICKETD_QUEUE_TICK_MS")->check(CLI::Range(50, 10'000));
  serve_cmd->add_option("--stripe-secret-key", cfg.stripe_secret_key, "Stripe secret key (sk_test_... / sk_live_...)")
      ->envname("TICKETD_STRIPE_SECRET_KEY");
  serve_cmd->add_option("--stripe-webhook-secret", cfg.stripe_webhook_secrets,
                        "webhook endpoint secret(s), comma-separated (whsec_...)")
      ->envname("TICKETD_STRIPE_WEBHOOK_SECRET");
  serve_cmd->add_option("--stripe-api-base", cfg.stripe_api_base, "Stripe API base URL")->envname("TICKETD_STRIPE_API_BASE");
  serve_cmd->add_option("--stripe-timeout-ms", cfg.stripe_timeout_ms, "per-attempt timeout of a Stripe call")
      ->envname("TICKETD_STRIPE_TIMEOUT_MS")->check(CLI::Range(100, 60'000));
  serve_cmd->add_option("--stripe-attempts", cfg.stripe_attempts_max, "attempts per Stripe call, retries included")
      ->envname("TICKETD_STRIPE_ATTEMPTS")->check(CLI::Range(1, 10));
  serve_cmd->add_option("--smtp-url", cfg.smtp_url, "SMTP server: smtp://host:port, smtp+starttls://host:587, smtps://host:465")
      ->envname("TICKETD_SMTP_URL");
  serve_cmd->add_option("--smtp-user", cfg.smtp_user, "SMTP user name")->envname("TICKETD_SMTP_USER");
  serve_cmd->add_option("--smtp-password", cfg.smtp_password, "SMTP password (prefer the env var)")
      ->envname("TICKETD_SMTP_PASSWORD");
  serve_cmd->add_option("--smtp-ca-file", cfg.smtp_ca_file, "PEM CA bundle for the SMTP server's certificate")
      ->envname("TICKETD_SMTP_CA_FILE");
  serve_cmd->add_option("--smtp-timeout-ms", cfg.smtp_timeout_ms, "timeout of one SMTP delivery")
      ->envname("TICKETD_SMTP_TIMEOUT_MS")->check(CLI::Range(100, 120'000));
  serve_cmd->add_option("--mail-from", cfg.mail_from, "sender of notification emails: 'Name <addr@domain>'")
      ->envname("TICKETD_MAIL_FROM");
  serve_cmd->add_option("--mail-dir", cfg.mail_dir, "write notification emails as .eml files here instead of SMTP")
      ->envname("TICKETD_MAIL_DIR");
  serve_cmd->add_option("--notify-webhook-url", cfg.webhook_url, "POST SMS notifications (signed JSON) to this URL")
      ->envname("TICKETD_NOTIFY_WEBHOOK_URL");
  serve_cmd->add_option("--notify-webhook-secret", cfg.webhook_secret, "HMAC-SHA256 key of the webhook signature")
      ->envname("TICKETD_NOTIFY_WEBHOOK_SECRET");
  serve_cmd->add_option("--notify-webhook-timeout-ms", cfg.webhook_timeout_ms, "timeout of one webhook delivery")
      ->envname("TICKETD_NOTIFY_WEBHOOK_TIMEOUT_MS")->check(CLI::Range(100, 120'000));
  serve_cmd->add_option("--notify-max-attempts", cfg.notify_attempts_max, "tries before a notification is dead-lettered")
      ->envname("TICKETD_NOTIFY_MAX_ATTEMPTS")->check(CLI::Range(1, core::kNotifyAttemptsMaxLimit));
  serve_cmd->add_option("--notify-backoff-base-ms", cfg.notify_backoff_base_ms, "wait before the first retry")
      ->envname("TICKETD_NOTIFY_BACKOFF_BASE_MS")->check(CLI::Range(10, 3'600'000));
  serve_cmd->add_option("--notify-backoff-cap-ms", cfg.notify_backoff_cap_ms, "longest wait between retries")
      ->envname("TICKETD_NOTIFY_BACKOFF_CAP_MS")->check(CLI::Range(10, 86'400'000));
  serve_cmd->add_option("--notify-lease-ms", cfg.notify_lease_ms, "how long a node owns a claimed notification")
      ->envname("TICKETD_NOTIFY_LEASE_MS")->check(CLI::Range(200, 3'600'000));
  serve_cmd->add_option("--notify-interval-ms", cfg.notify_interval_ms, "how often the outbox is polled")
      ->envname("TICKETD_NOTIFY_INTERVAL_MS")->check(CLI::Range(10, 60'000));
  serve_cmd->add_option("--notify-batch", cfg.notify_batch, "notifications claimed per poll")
      ->envname("TICKETD_NOTIFY_BATCH")->check(CLI::Range(1, static_cast<int>(app::kNotifyBatchMax)));
  serve_cmd->add_option("--public-url", cfg.public_url,
                        "where the web app is reached (https://tickets.example.com): the start of the links mailed "
                        "to verify an address or reset a password (default: http://<listen address>)")
      ->envname("TICKETD_PUBLIC_URL");
  serve_cmd->add_option("--messages-per-account-hour-max", cfg.messages_per_account_hour_max,
                        "messages (email and SMS) sent to one account per hour; more are skipped")
      ->envname("TICKETD_MESSAGES_PER_ACCOUNT_HOUR_MAX")->check(CLI::Range(1, static_cast<int>(core::kMessageCapMax)));
  serve_cmd->add_option("--messages-per-destination-hour-max", cfg.messages_per_destination_hour_max,
                        "messages sent to one email address or phone number per hour; more are skipped")
      ->envname("TICKETD_MESSAGES_PER_DESTINATION_HOUR_MAX")
      ->check(CLI::Range(1, static_cast<int>(core::kMessageCapMax)));
  serve_cmd->add_option("--hold-expiry-notice", cfg.hold_expiry_notice_s,
                        "seconds before a hold lapses to warn users who opted in (0: never)")
      ->envname("TICKETD_HOLD_EXPIRY_NOTICE_S")->check(CLI::Range(0, 86'400));
  serve_cmd->add_option("--rate-limit", cfg.rate_limits,
                        "change rate limits: CLASS.SCOPE=RATE/BURST,... (class read|hold|write|login|signup|admin, scope "
                        "ip|user, RATE per second, 0 = off); see docs/deploy.md")
      ->envname("TICKETD_RATE_LIMIT");
  serve_cmd->add_flag("--no-rate-limits", cfg.rate_limits_off, "turn every rate limit off (capacity benchmarks)")
      ->envname("TICKETD_RATE_LIMITS_OFF");
  serve_cmd->add_option("--rate-limit-exempt", cfg.rate_limit_exempt, "peer IPs never rate limited, comma-separated")
      ->envname("TICKETD_RATE_LIMIT_EXEMPT");
  serve_cmd->add_option("--cors-origin", cfg.cors_origins,
                        "origins allowed to call the API from a browser, comma-separated (default: none)")
      ->envname("TICKETD_CORS_ORIGINS");
  serve_cmd->add_option("--read-timeout-ms", cfg.read_timeout_ms, "a request must arrive completely within this")
      ->envname("TICKETD_READ_TIMEOUT_MS")->check(CLI::Range(100, 600'000));
  serve_cmd->add_option("--idle-timeout-ms", cfg.idle_timeout_ms, "a keep-alive connection may idle this long")
      ->envname("TICKETD_IDLE_TIMEOUT_MS")->check(CLI::Range(100, 3'600'000));
  serve_cmd->add_option("--connections-max", cfg.connections_max, "connections served at once; one more gets 503")
      ->envname("TICKETD_CONNECTIONS_MAX")->check(CLI::Range(1, 1'000'000));
  serve_cmd->add_option("--streams-max", cfg.streams_max,
                        "live seat-map streams served at once (default: half of --connections-max); one more gets 503")
      ->envname("TICKETD_STREAMS_MAX")->check(CLI::Range(1, 1'000'000));
  serve_cmd->add_option("--streams-per-account-max", cfg.streams_per_account_max,
                        "live streams one signed-in account may hold open, from any address (429 beyond)")
      ->envname("TICKETD_STREAMS_PER_ACCOUNT_MAX")->check(CLI::Range(1, 100'000));
  serve_cmd->add_option("--streams-per-ip-max", cfg.streams_per_ip_max,
                        "live streams one client address may hold; one more gets 429 too_many_streams")
      ->envname("TICKETD_STREAMS_PER_IP_MAX")->check(CLI::Range(1, 100'000));
  auto* tls_cert = serve_cmd->add_option("--tls-cert", cfg.tls_cert_file,
                                         "serve HTTPS: PEM certificate chain (leaf first); needs --tls-key")
      ->envname("TICKETD_TLS_CERT")->check(CLI::ExistingFile);
  auto* tls_key = serve_cmd->add_option("--tls-key", cfg.tls_key_file, "the PEM private key of --tls-cert")
      ->envname("TICKETD_TLS_KEY")->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  std::string verify_dir = "./data";
  std::string verify_store = "embedded";
  std::string verify_pg;
  auto* verify_cmd = cli.add_subcommand("verify", "audit a data directory or database; exit 0 iff consistent");
  verify_cmd->add_option("--store", verify_store, "embedded or postgres")->envname("TICKETD_STORE")
      ->check(CLI::IsMember({"embedded", "postgres"}));
  verify_cmd->add_option("--data-dir", verify_dir, "the data directory")->envname("TICKETD_DATA_DIR");
  verify_cmd->add_option("--postgres-url", verify_pg, "libpq URI of PostgreSQL")->envname("TICKETD_POSTGRES_URL");
  // Accepted so that verify takes the same store flags as serve; the audit reads PostgreSQL only
  // (Redis holds nothing that is not in PostgreSQL).
  std::string verify_redis_unused;
  verify_cmd->add_option("--redis-url", verify_redis_unused, "ignored: the audit reads PostgreSQL only");
  std::string migrate_pg;
  auto* migrate_cmd = cli.add_subcommand("migrate", "apply the PostgreSQL schema migrations (serve does it too)");
  migrate_cmd->add_option("--postgres-url", migrate_pg, "libpq URI of PostgreSQL")->envname("TICKETD_POSTGRES_URL")
      ->required();
  auto* routes_cmd = cli.add_subcommand("routes", "print the API's route table: method, pattern, who may call "
                                                  "it, rate-limit class, body limit, thread");
  CLI11_PARSE(cli, argc, argv);
  if (*serve_cmd) return serve(cfg);
  if (*routes_cmd) {
    std::cout << http::describe_api_routes();
    return 0;
  }
  if (*migrate_cmd) return migrate(migrate_pg);
  return verify(verify_store, verify_dir, verify_pg);
}
