// The scrape-time gauges of /metrics (Prometheus text): what is read when scraped rather than counted
// as it happens (cache hits, sessions cached, seats by state, the outbox, Redis, the live streams,
// the transport's counters, the waiting rooms, the rate limiter). Both the public /metrics and
// --metrics-listen append them to the lines of Metrics::render. The names are a contract (docs/api.md
// lists them; dashboards and alerts use them): the text changes only on purpose.
#pragma once

#include <memory>
#include <string>

#include "app/door_feed.hpp"
#include "app/notifications.hpp"
#include "app/seat_stream.hpp"
#include "app/session_cache.hpp"
#include "app/waiting_room.hpp"
#include "base/clock.hpp"
#include "http/edge.hpp"
#include "http/encoding_cache.hpp"
#include "http/server.hpp"
#include "store/redis/redis.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::wiring {

// What the gauges read; all of it outlives every scrape (serve() declares it before the listeners).
struct GaugeSources {
  const http::EncodingCache& seat_map_cache;
  const http::EncodingCache& layout_cache;
  const app::SessionCache& session_cache;
  store::sqlite::SqliteLedger* sqlite_ledger;  // null: distributed (no seat counts in this process)
  const Clock& clock;
  app::Notifications& notifications;
  const store::redis::RedisClient* redis;  // null: embedded
  const app::SeatStream& seat_stream;
  const app::DoorFeed& door_feed;
  // Null while there is no listener: the transport's counters are then left out.
  const std::unique_ptr<http::Server>& server;
  app::WaitingRoom& waiting_room;
  const http::RateLimiter& limiter;
};

// Appends the gauges to `out`. A database that is down costs only the outbox lines.
void render_gauges(const GaugeSources& sources, std::string& out);

}  // namespace ticketd::wiring
