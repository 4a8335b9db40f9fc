// The `serve` subcommand's configuration: a field for each flag (wiring/cli.cpp declares the flags and
// their env vars; the defaults here are the documented ones), and sweep_interval_ms, which no flag
// sets. Kept apart so that the flags, the wiring and the background jobs all read the same plain
// struct, with no CLI11 in sight.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "core/limits.hpp"

namespace ticketd::wiring {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string store = "embedded";  // embedded (SQLite) | postgres (PostgreSQL + Redis)
  std::string data_dir = "./data";
  std::string postgres_url;
  std::string redis_url;
  int postgres_pool = 32;
  // Distributed: host:port other nodes reach this one at (the seat calls of the events it owns; see
  // docs/architecture.md, "Event ownership"). Empty: --listen.
  std::string peer_address;
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
  int64_t waitlist_interval_ms = 250;  // how often returned seats are offered to waiting lists
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

// The non-empty items of a comma-separated flag value ("a,,b" -> {"a", "b"}).
inline std::vector<std::string> split_commas(const std::string& s) {
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

}  // namespace ticketd::wiring
