// Renders the scrape-time gauges (see gauges.hpp), line for line as serve() always has: the order,
// the names and the "# TYPE" lines are what scrapers read.
#include "wiring/gauges.hpp"

#include <cstdint>
#include <exception>
#include <utility>

namespace ticketd::wiring {

void render_gauges(const GaugeSources& s, std::string& out) {
  out += "ticketd_seat_map_cache_hits_total " + std::to_string(s.seat_map_cache.hits()) + "\n";
  out += "ticketd_layout_cache_hits_total " + std::to_string(s.layout_cache.hits()) + "\n";
  const app::SessionCacheStats sc = s.session_cache.stats();
  out += "ticketd_session_cache_hits_total " + std::to_string(sc.hits_total) + "\n";
  out += "ticketd_session_cache_misses_total " + std::to_string(sc.misses_total) + "\n";
  out += "ticketd_session_cache_invalidations_total " + std::to_string(sc.invalidations_total) + "\n";
  out += "ticketd_session_cache_entries " + std::to_string(sc.entries) + "\n";
  if (s.sqlite_ledger) {
    const core::SeatCounts c = s.sqlite_ledger->loaded_counts(s.clock.now());
    out += "# TYPE ticketd_seats gauge\n";
    out += "ticketd_seats{state=\"available\"} " + std::to_string(c.available) + "\n";
    out += "ticketd_seats{state=\"held\"} " + std::to_string(c.held) + "\n";
    out += "ticketd_seats{state=\"sold\"} " + std::to_string(c.sold) + "\n";
  }
  try {
    const core::OutboxCounts oc = s.notifications.counts();
    out += "# TYPE ticketd_notifications_outbox gauge\n";
    out += "ticketd_notifications_outbox{status=\"pending\"} " + std::to_string(oc.pending) + "\n";
    out += "ticketd_notifications_outbox{status=\"dead\"} " + std::to_string(oc.dead) + "\n";
  } catch (const std::exception&) {
    // The database is down: /metrics still answers with what this process knows.
  }
  if (s.redis) out += std::string("ticketd_redis_up ") + (s.redis->up() ? "1" : "0") + "\n";
  const app::SeatStreamStats ss = s.seat_stream.stats();
  out += "# TYPE ticketd_seat_stream_subscribers gauge\nticketd_seat_stream_subscribers " +
         std::to_string(ss.subscribers) + "\n";
  out += "ticketd_seat_stream_topics " + std::to_string(ss.topics) + "\n";
  out += "ticketd_seat_stream_changes_total " + std::to_string(ss.changes_total) + "\n";
  out += "ticketd_seat_stream_snapshots_total " + std::to_string(ss.snapshots_total) + "\n";
  out += "ticketd_seat_stream_lagged_total " + std::to_string(ss.lagged_total) + "\n";
  out += "ticketd_seat_stream_refused_total " + std::to_string(ss.refused_total) + "\n";
  out += "ticketd_seat_stream_dropped_total " + std::to_string(ss.dropped_total) + "\n";
  const app::DoorFeedStats df = s.door_feed.stats();
  out += "# TYPE ticketd_door_feed_subscribers gauge\nticketd_door_feed_subscribers " +
         std::to_string(df.subscribers) + "\n";
  out += "ticketd_door_feed_topics " + std::to_string(df.topics) + "\n";
  out += "ticketd_door_feed_changes_total " + std::to_string(df.changes_total) + "\n";
  out += "ticketd_door_feed_lagged_total " + std::to_string(df.lagged_total) + "\n";
  out += "ticketd_door_feed_refused_total " + std::to_string(df.refused_total) + "\n";
  out += "ticketd_door_feed_poll_errors_total " + std::to_string(df.poll_errors_total) + "\n";
  if (!s.server) return;
  const http::ServerStats st = s.server->stats();
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
  s.waiting_room.render_metrics(out);
  s.limiter.render_metrics(out);
}

}  // namespace ticketd::wiring
