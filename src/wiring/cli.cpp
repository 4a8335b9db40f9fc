// The `serve` flags (see cli.hpp). The defaults live in ServeConfig, the bounds in the checks here.
#include "wiring/cli.hpp"

#include "app/notifications.hpp"
#include "core/account_token.hpp"
#include "core/limits.hpp"
#include "core/notification.hpp"

namespace ticketd::wiring {

void add_serve_options(CLI::App& serve_cmd, ServeConfig& cfg) {
  serve_cmd.add_option("--listen", cfg.listen, "host:port to listen on")->envname("TICKETD_LISTEN");
  serve_cmd.add_option("--store", cfg.store, "embedded (SQLite, one node) or postgres (PostgreSQL + Redis, many nodes)")
      ->envname("TICKETD_STORE")->check(CLI::IsMember({"embedded", "postgres"}));
  serve_cmd.add_option("--data-dir", cfg.data_dir, "where the embedded store keeps its files")
      ->envname("TICKETD_DATA_DIR");
  serve_cmd.add_option("--postgres-url", cfg.postgres_url, "libpq URI of PostgreSQL (--store postgres)")
      ->envname("TICKETD_POSTGRES_URL");
  serve_cmd.add_option("--redis-url", cfg.redis_url, "redis://[:password@]host:port/db (--store postgres)")
      ->envname("TICKETD_REDIS_URL");
  serve_cmd.add_option("--postgres-pool", cfg.postgres_pool, "PostgreSQL connections per node")
      ->envname("TICKETD_POSTGRES_POOL")->check(CLI::Range(1, 1000));
  serve_cmd.add_option("--peer-address", cfg.peer_address,
                       "--store postgres: host:port other nodes reach this one at, for the events it owns (default: --listen)")
      ->envname("TICKETD_PEER_ADDRESS");
  serve_cmd.add_option("--hold-ttl", cfg.hold_ttl_s, "seconds a hold lasts")->envname("TICKETD_HOLD_TTL_S");
  serve_cmd.add_option("--holds-per-user-max", cfg.holds_per_user_max,
                       "live holds one user may have at once across all events (default 10)")
      ->envname("TICKETD_HOLDS_PER_USER_MAX")
      ->check(CLI::Range(int64_t{1}, static_cast<int64_t>(core::limits::active_holds_per_user_max)));
  serve_cmd.add_option("--threads", cfg.io_threads, "I/O threads")->envname("TICKETD_THREADS")->check(CLI::Range(1, 256));
  serve_cmd.add_option("--workers", cfg.worker_threads, "request worker threads")
      ->envname("TICKETD_WORKERS")->check(CLI::Range(1, 1024));
  serve_cmd.add_option("--session-ttl", cfg.session_ttl_s, "seconds a login lasts")
      ->envname("TICKETD_SESSION_TTL_S")->check(CLI::Range(60, 30 * 86'400));
  serve_cmd.add_option("--session-cache-ttl", cfg.session_cache_ttl_s,
                       "seconds a node trusts a session it read without asking the store again (0: no cache)")
      ->envname("TICKETD_SESSION_CACHE_TTL_S")->check(CLI::Range(0, 300));
  serve_cmd.add_option("--session-cache-entries-max", cfg.session_cache_entries_max, "sessions kept in memory")
      ->envname("TICKETD_SESSION_CACHE_ENTRIES_MAX")->check(CLI::Range(int64_t{1'000}, int64_t{10'000'000}));
  serve_cmd.add_option("--reconcile-interval-ms", cfg.reconcile_interval_ms, "how often pending payments are checked")
      ->envname("TICKETD_RECONCILE_INTERVAL_MS")->check(CLI::Range(100, 3'600'000));
  serve_cmd.add_option("--event-refunds-per-s", cfg.event_refunds_per_s,
                       "refunds per second while cancelled events are refunded (stay below the gateway's limit)")
      ->envname("TICKETD_EVENT_REFUNDS_PER_S")->check(CLI::Range(1, 1000));
  serve_cmd.add_option("--payment-action-timeout", cfg.payment_action_timeout_s,
                       "seconds a buyer has to complete 3-D Secure before the payment is canceled")
      ->envname("TICKETD_PAYMENT_ACTION_TIMEOUT_S")
      ->check(CLI::Range(int64_t{1}, core::limits::payment_action_pin_max.count() / 1000));
  serve_cmd.add_option("--payment-reconcile-after", cfg.reconcile_after_s,
                       "seconds a payment may stay pending before the gateway is asked")
      ->envname("TICKETD_PAYMENT_RECONCILE_AFTER_S")->check(CLI::Range(1, 86'400));
  serve_cmd.add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error")->envname("TICKETD_LOG_LEVEL");
  serve_cmd.add_option("--web-root", cfg.web_root, "directory of the web app's files (default: web/ of the checkout)")
      ->envname("TICKETD_WEB_ROOT");
  serve_cmd.add_option("--stream-heartbeat-ms", cfg.stream_heartbeat_ms, "idle live seat map streams get a comment this often")
      ->envname("TICKETD_STREAM_HEARTBEAT_MS")->check(CLI::Range(100, 300'000));
  serve_cmd.add_flag("--demo", cfg.demo, "seed a demo venue and event if there are no events")->envname("TICKETD_DEMO");
  serve_cmd.add_flag("--demo-queue", cfg.demo_queue,
                     "with --demo: the demo event goes on sale in 2 minutes behind a waiting room")
      ->envname("TICKETD_DEMO_QUEUE");
  serve_cmd.add_option("--queue-secret", cfg.queue_secrets,
                       "waiting-room token secret(s), comma-separated: the first signs, all verify "
                       "(default: a random one kept in DATA_DIR/queue-secret)")
      ->envname("TICKETD_QUEUE_SECRET");
  serve_cmd.add_option("--ticket-secret", cfg.ticket_secret,
                       "root of the events' ticket-signing keys, 64 hex digits (default: a random one kept in "
                       "DATA_DIR/ticket-secret, or shared through PostgreSQL)")
      ->envname("TICKETD_TICKET_SECRET");
  serve_cmd.add_option("--metrics-listen", cfg.metrics_listen,
                       "host:port of a second listener serving /metrics and /healthz alone, without a token")
      ->envname("TICKETD_METRICS_LISTEN");
  serve_cmd.add_option("--metrics-token", cfg.metrics_token,
                       "GET /metrics answers only to 'Authorization: Bearer <token>' (unset: /metrics is not served)")
      ->envname("TICKETD_METRICS_TOKEN");
  serve_cmd.add_option("--waitlist-interval-ms", cfg.waitlist_interval_ms,
                       "how often seats that came back are offered to the events' waiting lists")
      ->envname("TICKETD_WAITLIST_INTERVAL_MS")->check(CLI::Range(50, 10'000));
  serve_cmd.add_option("--queue-tick-ms", cfg.queue_tick_ms, "how often the waiting-room releaser runs")
      ->envname("TICKETD_QUEUE_TICK_MS")->check(CLI::Range(50, 10'000));
  serve_cmd.add_option("--stripe-secret-key", cfg.stripe_secret_key, "Stripe secret key (sk_test_... / sk_live_...)")
      ->envname("TICKETD_STRIPE_SECRET_KEY");
  serve_cmd.add_option("--stripe-webhook-secret", cfg.stripe_webhook_secrets,
                       "webhook endpoint secret(s), comma-separated (whsec_...)")
      ->envname("TICKETD_STRIPE_WEBHOOK_SECRET");
  serve_cmd.add_option("--stripe-api-base", cfg.stripe_api_base, "Stripe API base URL")->envname("TICKETD_STRIPE_API_BASE");
  serve_cmd.add_option("--stripe-timeout-ms", cfg.stripe_timeout_ms, "per-attempt timeout of a Stripe call")
      ->envname("TICKETD_STRIPE_TIMEOUT_MS")->check(CLI::Range(100, 60'000));
  serve_cmd.add_option("--stripe-attempts", cfg.stripe_attempts_max, "attempts per Stripe call, retries included")
      ->envname("TICKETD_STRIPE_ATTEMPTS")->check(CLI::Range(1, 10));
  serve_cmd.add_option("--smtp-url", cfg.smtp_url, "SMTP server: smtp://host:port, smtp+starttls://host:587, smtps://host:465")
      ->envname("TICKETD_SMTP_URL");
  serve_cmd.add_option("--smtp-user", cfg.smtp_user, "SMTP user name")->envname("TICKETD_SMTP_USER");
  serve_cmd.add_option("--smtp-password", cfg.smtp_password, "SMTP password (prefer the env var)")
      ->envname("TICKETD_SMTP_PASSWORD");
  serve_cmd.add_option("--smtp-ca-file", cfg.smtp_ca_file, "PEM CA bundle for the SMTP server's certificate")
      ->envname("TICKETD_SMTP_CA_FILE");
  serve_cmd.add_option("--smtp-timeout-ms", cfg.smtp_timeout_ms, "timeout of one SMTP delivery")
      ->envname("TICKETD_SMTP_TIMEOUT_MS")->check(CLI::Range(100, 120'000));
  serve_cmd.add_option("--mail-from", cfg.mail_from, "sender of notification emails: 'Name <addr@domain>'")
      ->envname("TICKETD_MAIL_FROM");
  serve_cmd.add_option("--mail-dir", cfg.mail_dir, "write notification emails as .eml files here instead of SMTP")
      ->envname("TICKETD_MAIL_DIR");
  serve_cmd.add_option("--notify-webhook-url", cfg.webhook_url, "POST SMS notifications (signed JSON) to this URL")
      ->envname("TICKETD_NOTIFY_WEBHOOK_URL");
  serve_cmd.add_option("--notify-webhook-secret", cfg.webhook_secret, "HMAC-SHA256 key of the webhook signature")
      ->envname("TICKETD_NOTIFY_WEBHOOK_SECRET");
  serve_cmd.add_option("--notify-webhook-timeout-ms", cfg.webhook_timeout_ms, "timeout of one webhook delivery")
      ->envname("TICKETD_NOTIFY_WEBHOOK_TIMEOUT_MS")->check(CLI::Range(100, 120'000));
  serve_cmd.add_option("--notify-max-attempts", cfg.notify_attempts_max, "tries before a notification is dead-lettered")
      ->envname("TICKETD_NOTIFY_MAX_ATTEMPTS")->check(CLI::Range(1, core::kNotifyAttemptsMaxLimit));
  serve_cmd.add_option("--notify-backoff-base-ms", cfg.notify_backoff_base_ms, "wait before the first retry")
      ->envname("TICKETD_NOTIFY_BACKOFF_BASE_MS")->check(CLI::Range(10, 3'600'000));
  serve_cmd.add_option("--notify-backoff-cap-ms", cfg.notify_backoff_cap_ms, "longest wait between retries")
      ->envname("TICKETD_NOTIFY_BACKOFF_CAP_MS")->check(CLI::Range(10, 86'400'000));
  serve_cmd.add_option("--notify-lease-ms", cfg.notify_lease_ms, "how long a node owns a claimed notification")
      ->envname("TICKETD_NOTIFY_LEASE_MS")->check(CLI::Range(200, 3'600'000));
  serve_cmd.add_option("--notify-interval-ms", cfg.notify_interval_ms, "how often the outbox is polled")
      ->envname("TICKETD_NOTIFY_INTERVAL_MS")->check(CLI::Range(10, 60'000));
  serve_cmd.add_option("--notify-batch", cfg.notify_batch, "notifications claimed per poll")
      ->envname("TICKETD_NOTIFY_BATCH")->check(CLI::Range(1, static_cast<int>(app::kNotifyBatchMax)));
  serve_cmd.add_option("--public-url", cfg.public_url,
                       "where the web app is reached (https://tickets.example.com): the start of the links mailed "
                       "to verify an address or reset a password (default: http://<listen address>)")
      ->envname("TICKETD_PUBLIC_URL");
  serve_cmd.add_option("--messages-per-account-hour-max", cfg.messages_per_account_hour_max,
                       "messages (email and SMS) sent to one account per hour; more are skipped")
      ->envname("TICKETD_MESSAGES_PER_ACCOUNT_HOUR_MAX")->check(CLI::Range(1, static_cast<int>(core::kMessageCapMax)));
  serve_cmd.add_option("--messages-per-destination-hour-max", cfg.messages_per_destination_hour_max,
                       "messages sent to one email address or phone number per hour; more are skipped")
      ->envname("TICKETD_MESSAGES_PER_DESTINATION_HOUR_MAX")
      ->check(CLI::Range(1, static_cast<int>(core::kMessageCapMax)));
  serve_cmd.add_option("--hold-expiry-notice", cfg.hold_expiry_notice_s,
                       "seconds before a hold lapses to warn users who opted in (0: never)")
      ->envname("TICKETD_HOLD_EXPIRY_NOTICE_S")->check(CLI::Range(0, 86'400));
  serve_cmd.add_option("--rate-limit", cfg.rate_limits,
                       "change rate limits: CLASS.SCOPE=RATE/BURST,... (class read|hold|write|login|signup|admin, scope "
                       "ip|user, RATE per second, 0 = off); see docs/deploy.md")
      ->envname("TICKETD_RATE_LIMIT");
  serve_cmd.add_flag("--no-rate-limits", cfg.rate_limits_off, "turn every rate limit off (capacity benchmarks)")
      ->envname("TICKETD_RATE_LIMITS_OFF");
  serve_cmd.add_option("--rate-limit-exempt", cfg.rate_limit_exempt, "peer IPs never rate limited, comma-separated")
      ->envname("TICKETD_RATE_LIMIT_EXEMPT");
  serve_cmd.add_option("--cors-origin", cfg.cors_origins,
                       "origins allowed to call the API from a browser, comma-separated (default: none)")
      ->envname("TICKETD_CORS_ORIGINS");
  serve_cmd.add_option("--read-timeout-ms", cfg.read_timeout_ms, "a request must arrive completely within this")
      ->envname("TICKETD_READ_TIMEOUT_MS")->check(CLI::Range(100, 600'000));
  serve_cmd.add_option("--idle-timeout-ms", cfg.idle_timeout_ms, "a keep-alive connection may idle this long")
      ->envname("TICKETD_IDLE_TIMEOUT_MS")->check(CLI::Range(100, 3'600'000));
  serve_cmd.add_option("--connections-max", cfg.connections_max, "connections served at once; one more gets 503")
      ->envname("TICKETD_CONNECTIONS_MAX")->check(CLI::Range(1, 1'000'000));
  serve_cmd.add_option("--streams-max", cfg.streams_max,
                       "live seat-map streams served at once (default: half of --connections-max); one more gets 503")
      ->envname("TICKETD_STREAMS_MAX")->check(CLI::Range(1, 1'000'000));
  serve_cmd.add_option("--streams-per-account-max", cfg.streams_per_account_max,
                       "live streams one signed-in account may hold open, from any address (429 beyond)")
      ->envname("TICKETD_STREAMS_PER_ACCOUNT_MAX")->check(CLI::Range(1, 100'000));
  serve_cmd.add_option("--streams-per-ip-max", cfg.streams_per_ip_max,
                       "live streams one client address may hold; one more gets 429 too_many_streams")
      ->envname("TICKETD_STREAMS_PER_IP_MAX")->check(CLI::Range(1, 100'000));
  auto* tls_cert = serve_cmd.add_option("--tls-cert", cfg.tls_cert_file,
                                        "serve HTTPS: PEM certificate chain (leaf first); needs --tls-key")
      ->envname("TICKETD_TLS_CERT")->check(CLI::ExistingFile);
  auto* tls_key = serve_cmd.add_option("--tls-key", cfg.tls_key_file, "the PEM private key of --tls-cert")
      ->envname("TICKETD_TLS_KEY")->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
}

}  // namespace ticketd::wiring
