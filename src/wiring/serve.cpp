// `ticketd serve`: builds the node from its configuration, runs it until SIGTERM/SIGINT, then shuts
// down in order: stop accepting, finish in-flight requests, stop the background jobs, flush the
// writer, exit 0. The order of the declarations below is the order of construction, and destruction
// runs it backwards: it matters (the seat stream outlives the ledger that reports to it; `server` is
// declared before the gauges that read it; the background jobs stop before the server is reset).
#include "wiring/serve.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/accounts.hpp"
#include "app/catalog.hpp"
#include "app/checkins.hpp"
#include "app/door_feed.hpp"
#include "app/event_cancellations.hpp"
#include "app/lottery.hpp"
#include "app/notifications.hpp"
#include "app/password.hpp"
#include "app/payments.hpp"
#include "app/queue_tokens.hpp"
#include "app/sales.hpp"
#include "app/seat_stream.hpp"
#include "app/session_cache.hpp"
#include "app/ticket_codes.hpp"
#include "app/tickets.hpp"
#include "app/waiting_room.hpp"
#include "base/metrics.hpp"
#include "cluster/peer_calls.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "payments/stripe/stripe_gateway.hpp"
#include "store/postgres/account_tokens.hpp"
#include "store/postgres/audit_log.hpp"
#include "store/postgres/checkins.hpp"
#include "store/postgres/event_refunds.hpp"
#include "store/postgres/orders.hpp"
#include "store/postgres/organizations.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/totp_store.hpp"
#include "store/postgres/transfers.hpp"
#include "store/postgres/resale.hpp"
#include "store/postgres/waitlist.hpp"
#include "store/redis/redis.hpp"
#include "store/redis/session_bus.hpp"
#include "store/redis/waiting_room.hpp"
#include "store/sqlite/account_tokens.hpp"
#include "store/sqlite/audit_log.hpp"
#include "store/sqlite/checkins.hpp"
#include "store/sqlite/event_refunds.hpp"
#include "store/sqlite/orders.hpp"
#include "store/sqlite/organizations.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/totp_store.hpp"
#include "store/sqlite/transfers.hpp"
#include "store/sqlite/resale.hpp"
#include "store/sqlite/waitlist.hpp"
#include "store/sqlite/waiting_room.hpp"
#include "wiring/background.hpp"
#include "wiring/channels.hpp"
#include "wiring/demo.hpp"
#include "wiring/gauges.hpp"
#include "wiring/listen.hpp"
#include "wiring/metrics_listener.hpp"
#include "wiring/payments.hpp"
#include "wiring/secrets.hpp"
#include "wiring/stores.hpp"

namespace ticketd::wiring {

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
  // Distributed: every node's live maps follow the changes on Redis (published by the owners'
  // engines), under one epoch all nodes share.
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
  // Distributed: the changes keep this node's copies of maps owned elsewhere, then feed the live maps.
  std::optional<cluster::SeatChangeTee> seat_feed;
  std::unique_ptr<store::redis::RedisSubscriber> subscriber;
  if (stores->redis) {
    core::SeatChangeSink* sink = &seat_stream;
    if (stores->seat_map_replicas) sink = &seat_feed.emplace(*stores->seat_map_replicas, seat_stream);
    subscriber = std::make_unique<store::redis::RedisSubscriber>(*stores->redis, *sink, &session_cache);
  }
  auto wired = wire_payments(cfg);
  if (!wired) {
    std::cerr << "ticketd: payments: " << wired.error().message << "\n";
    return 2;
  }
  core::PaymentGateway& gateway = *wired->gateway;
  const auto queue_secrets = resolve_queue_secrets(cfg, *stores);
  if (!queue_secrets) {
    std::cerr << "ticketd: " << queue_secrets.error().message << "\n";
    return 2;
  }
  const app::TokenKeys queue_keys(*queue_secrets);
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
  // A buyer's first session read goes to the session reader, in batches, without a worker
  // (app/session_reader.hpp), in both modes: embedded too the flash sale sold out sooner with it (hold
  // p50 3.2-3.6 ms against 4.6-4.8 ms, its p99 within the runs' spread; by hand, three pairs).
  app::Accounts accounts(accounts_store, clock, Millis(cfg.session_ttl_s * 1000), metrics, &two_factor, &account_links,
                         &session_cache, std::make_unique<app::SessionReader>(accounts_store));
  app::Catalog catalog(catalog_store, ledger, clock);
  app::WaitingRoom waiting_room(queue_store, catalog, ledger, queue_keys, clock, metrics, app::make_seed);
  auto transfer_store = adapter_for<core::TransferStore, store::sqlite::SqliteTransferStore, store::postgres::PgTransferStore>(*stores);
  app::Sales sales(ledger, catalog, gateway, clock, Millis(cfg.hold_ttl_s * 1000), metrics, &waiting_room,
                   Millis(cfg.hold_expiry_notice_s * 1000), static_cast<uint32_t>(cfg.holds_per_user_max),
                   transfer_store.get());
  auto waitlist_store = adapter_for<core::WaitlistStore, store::sqlite::SqliteWaitlistStore, store::postgres::PgWaitlistStore>(*stores);
  // Embedded, this process makes every change to the lists, so its copy of the gate is exact.
  app::Waitlist waitlist(*waitlist_store, ledger, catalog, clock, metrics, /*exact_gate=*/stores->sqlite != nullptr);
  sales.set_waitlist(&waitlist);
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
  // Owner mode: the seat calls other nodes forward to this one run on its own engine.
  std::optional<cluster::PeerCalls> peer_calls;
  if (stores->engine)
    peer_calls.emplace(
        *stores->engine,
        [&catalog](core::EventId id) -> core::Result<std::pair<core::Event, std::shared_ptr<const core::Venue>>> {
          auto event = catalog.event(id);
          if (!event) return event.error();
          auto venue = catalog.venue(event->venue_id);
          if (!venue) return venue.error();
          return std::make_pair(std::move(*event), std::move(*venue));
        },
        [&catalog](core::EventId id) -> std::optional<std::pair<core::Event, std::shared_ptr<const core::Venue>>> {
          std::shared_ptr<const core::Event> event = catalog.cached_event(id);
          if (!event) return std::nullopt;
          std::shared_ptr<const core::Venue> venue = catalog.cached_venue(event->venue_id);
          if (!venue) return std::nullopt;
          return std::make_pair(*event, std::move(venue));
        },
        clock);
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
  auto resale_store = adapter_for<core::ResaleStore, store::sqlite::SqliteResaleStore, store::postgres::PgResaleStore>(*stores);
  app::Resale resale(*resale_store, ledger, catalog, gateway, transfer_store.get(), clock, metrics);
  sales.set_payouts(&resale);
  payments.set_payouts(&resale);
  transfers.set_resale(resale_store.get());
  checkins.set_resale(&resale);

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
  const GaugeSources gauge_sources{seat_map_cache, layout_cache, session_cache, stores->sqlite_ledger, clock,
                                   notifications, stores->redis.get(), seat_stream, door_feed, server,
                                   waiting_room, limiter};
  auto gauges = [&gauge_sources](std::string& out) { render_gauges(gauge_sources, out); };
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
                               std::make_shared<http::AccountStreams>(static_cast<uint32_t>(cfg.streams_per_account_max)),
                               peer_calls ? [&peer_calls](std::string_view call, std::string_view body) {
                                 cluster::PeerCallAnswer a = peer_calls->handle(call, body);
                                 return std::make_pair(a.status, std::move(a.body));
                               } : std::function<std::pair<int, std::string>(std::string_view, std::string_view)>(),
                               stores->peer_key, &waitlist, &resale,
                               peer_calls ? [&peer_calls](std::string_view call, std::string_view body,
                                                          std::function<void(int, std::string)> done) {
                                 return peer_calls->try_handle_async(call, body, [done](cluster::PeerCallAnswer a) {
                                   done(a.status, std::move(a.body));
                                 });
                               } : decltype(http::Services::peer_calls_async)()});
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
        [&api](http::Request& r, const http::Reply& reply) { return api.handle_inline(r, reply); },
        [&api](const http::Request& r, const http::Ready& ready) { return api.prepare_inline(r, ready); });
  } catch (const std::exception& e) {
    spdlog::error("listen failed: {}", e.what());
    return 1;
  }
  const std::string public_url =
      !cfg.public_url.empty() ? cfg.public_url : default_public_url(!cfg.tls_cert_file.empty(), host, server->port());
  account_links.set_public_url(public_url);
  // The bank's challenge (3-D Secure) returns the buyer to the web app's page of the booking.
  if (wired->stripe) wired->stripe->set_return_url_prefix(public_url + "/#/bookings/");
  {
    BackgroundJobs jobs(cfg, clock, *stores, waiting_room, payments, cancellations, notifications, waitlist, writes_paused);
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

}  // namespace ticketd::wiring
