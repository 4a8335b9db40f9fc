// The stores, chosen by configuration: embedded (SQLite under --data-dir) or distributed
// (PostgreSQL + Redis). The wiring is the only place that knows which; everything past it sees the
// core ports. `adapter_for` picks the matching adapter of any other port.
#pragma once

#include <memory>

#include "app/ticket_codes.hpp"
#include "base/metrics.hpp"
#include "core/ports/account_store.hpp"
#include "core/ports/catalog_store.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/outbox.hpp"
#include "core/ports/seat_changes.hpp"
#include "core/ports/ticket_ids.hpp"
#include "core/result.hpp"
#include "store/postgres/event_owners.hpp"
#include "store/postgres/owner_commit.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/seat_journal.hpp"
#include "store/redis/redis.hpp"
#include "store/redis/seat_publisher.hpp"
#include "store/redis/user_holds.hpp"
#include "store/engine/seat_engine.hpp"
#include "cluster/peer_client.hpp"
#include "cluster/seat_map_replicas.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "wiring/serve_config.hpp"

namespace ticketd::wiring {

struct StoreWiring {
  // Embedded.
  std::unique_ptr<store::sqlite::Database> sqlite;
  store::sqlite::SqliteLedger* sqlite_ledger = nullptr;
  // Distributed.
  std::unique_ptr<store::postgres::Pool> pg;
  std::unique_ptr<store::redis::RedisClient> redis;
  // Distributed: the event leases, the fenced group commit and the journal
  // the seat engine (the ledger below) records into. Declared before the ledger, which borrows them.
  std::unique_ptr<store::postgres::EventOwners> owners;
  std::unique_ptr<store::postgres::OwnerCommit> owner_commit;
  std::unique_ptr<store::postgres::PgSeatJournal> owner_journal;
  // The owner's seat changes, on Redis for every node's live maps; the engine that decides this node's
  // events (the target of the seat calls other nodes forward here); the client those calls go out by.
  std::unique_ptr<store::redis::RedisSeatPublisher> seat_publisher;
  // Every user's live holds across the owners, for the cap on live holds per user.
  std::unique_ptr<store::redis::RedisUserHolds> user_holds;
  std::unique_ptr<store::engine::SeatEngine> engine;
  std::unique_ptr<cluster::PeerClient> peers;
  std::string peer_key;
  // The maps of events owned elsewhere, kept from the change feed (the subscriber feeds them, with the
  // live maps: serve()). Declared before the ledger, which reads them.
  std::unique_ptr<cluster::SeatMapReplicas> seat_map_replicas;
  // Ports. ticket_ids is declared first: the ledger borrows it.
  std::unique_ptr<core::TicketIdSource> ticket_ids = std::make_unique<app::RandomTicketIds>();
  std::unique_ptr<core::AccountStore> accounts;
  std::unique_ptr<core::CatalogStore> catalog;
  std::unique_ptr<core::Ledger> ledger;  // distributed: the router over `engine`
  std::unique_ptr<core::OutboxStore> outbox;
};

// `seat_changes` hears of every seat change: the embedded ledger calls it; distributed, the Redis
// subscriber does (wired in serve()), fed by the owners' publishers.
// Distributed, the PostgreSQL migrations run here.
core::Result<StoreWiring> wire_stores(const ServeConfig& cfg, Metrics& metrics, core::SeatChangeSink* seat_changes);

// The adapter of a port for the store in use: the embedded one over SQLite, the distributed one over
// PostgreSQL. Both are constructed from their store alone.
template <class Port, class Embedded, class Distributed>
std::unique_ptr<Port> adapter_for(const StoreWiring& stores) {
  if (stores.sqlite) return std::make_unique<Embedded>(*stores.sqlite);
  return std::make_unique<Distributed>(*stores.pg);
}

}  // namespace ticketd::wiring
