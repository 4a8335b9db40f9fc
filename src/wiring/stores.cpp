// Builds the stores (see stores.hpp): SQLite under --data-dir, or a PostgreSQL pool (migrated here)
// fronted by Redis (the seat front: claims, cached seat maps, seat changes on pub/sub).
#include "wiring/stores.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <string>

#include <unistd.h>

#include "cluster/owner_router.hpp"
#include "wiring/listen.hpp"
#include "wiring/secrets.hpp"

namespace ticketd::wiring {

namespace {
// How long an owner keeps an event without renewing (the sweeper renews every second): a node that
// dies or pauses loses its events this long after its last renewal.
constexpr std::chrono::milliseconds kEventLease{10'000};
}  // namespace

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
  w.accounts = std::make_unique<store::postgres::PgAccountStore>(*w.pg);
  w.catalog = std::make_unique<store::postgres::PgCatalogStore>(*w.pg);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::string address = cfg.peer_address.empty() ? cfg.listen : cfg.peer_address;
  std::string peer_host;
  uint16_t peer_port = 0;
  if (!split_listen(address, peer_host, peer_port) || peer_port == 0)
    return core::make_error(core::Code::InvalidRequest,
                            "--store postgres: other nodes must reach this one at a host and port: "
                            "give --peer-address (" + address + " is not one)");
  // Listening on every interface: the others reach this node by its host name.
  if (peer_host.empty() || peer_host == "0.0.0.0" || peer_host == "::" || peer_host == "[::]")
    address = std::string(host) + ":" + std::to_string(peer_port);
  try {
    // An owner is named by its host and address, which a restart keeps: the restarted node takes its
    // events back at once (a new epoch fences off anything the old process could still write),
    // instead of waiting out its own leases. The host tells apart two machines listening on the same
    // address (0.0.0.0:8080).
    const std::string owner = std::string("ticketd@") + host + "/" + cfg.listen;
    w.owners = std::make_unique<store::postgres::EventOwners>(*w.pg, owner, address, kEventLease);
    w.owner_commit = std::make_unique<store::postgres::OwnerCommit>(
        cfg.postgres_url, owner, [&metrics](size_t jobs, size_t fenced) {
          metrics.observe_commit_batch(jobs);
          for (size_t i = 0; i < fenced; ++i) metrics.count("owner_commits", "fenced");
        });
    auto lease = w.pg->acquire();
    w.peer_key = store::postgres::shared_secret(*lease, "peer-key", random_hex_secret());
  } catch (const store::postgres::PgError& e) {
    return core::make_error(core::Code::Unavailable, std::string("postgres: ") + e.what());
  }
  w.owner_journal = std::make_unique<store::postgres::PgSeatJournal>(*w.pg, *w.owners, *w.owner_commit);
  w.seat_publisher = std::make_unique<store::redis::RedisSeatPublisher>(*w.redis);
  w.user_holds = std::make_unique<store::redis::RedisUserHolds>(*w.redis);
  w.engine = std::make_unique<store::engine::SeatEngine>(*w.owner_journal, *w.ticket_ids, w.seat_publisher.get(),
                                                         w.user_holds.get());
  w.owner_journal->set_on_lost([engine = w.engine.get()](core::EventId event) { engine->forget_event(event); });
  w.peers = std::make_unique<cluster::PeerClient>(cluster::PeerConfig{.key = w.peer_key, .tls = !cfg.tls_cert_file.empty()});
  w.seat_map_replicas = std::make_unique<cluster::SeatMapReplicas>();
  w.ledger = std::make_unique<cluster::OwnerRouter>(*w.engine, *w.owner_journal, *w.owners, *w.peers,
                                                    w.seat_map_replicas.get(), &metrics);
  (void)seat_changes;  // the subscriber hears the publisher, as every node does
  w.outbox = std::make_unique<store::postgres::PgOutbox>(*w.pg);
  spdlog::info("store=postgres ledger=owner postgres_pool={} redis={}:{}/{}", cfg.postgres_pool,
               redis_cfg.host, redis_cfg.port, redis_cfg.db);
  return w;
}

}  // namespace ticketd::wiring
