// The HTTP API: turns requests into use-case calls and results into JSON responses. Knows nothing of
// sockets (the transport is http/server.hpp) nor of stores (only app/ use cases).
// Thread safety: handle() may be called concurrently from any number of worker threads.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "app/accounts.hpp"
#include "app/catalog.hpp"
#include "app/notifications.hpp"
#include "base/metrics.hpp"
#include "app/payments.hpp"
#include "app/sales.hpp"
#include "app/waiting_room.hpp"
#include "app/seat_stream.hpp"
#include "app/checkins.hpp"
#include "app/door_feed.hpp"
#include "app/tickets.hpp"
#include "app/transfers.hpp"
#include "app/waitlist.hpp"
#include "core/ports/audit_log.hpp"
#include "app/event_cancellations.hpp"
#include "app/organizations.hpp"
#include "app/orders.hpp"
#include "http/edge.hpp"
#include "http/account_streams.hpp"
#include "http/encoding_cache.hpp"
#include "http/message.hpp"

namespace ticketd::http {

class StaticFiles;

struct Services {
  app::Accounts& accounts;
  app::Catalog& catalog;
  app::Sales& sales;
  app::Payments& payments;
  app::Notifications& notifications;
  Metrics& metrics;
  std::function<void(std::string&)> gauges;  // appends scrape-time gauges to /metrics
  app::WaitingRoom* waiting_room = nullptr;  // null: the queue routes answer 404
  app::SeatStream* seat_stream = nullptr;     // null: no live seat maps (404)
  const StaticFiles* web = nullptr;     // null: no web app at "/"
  RateLimiter* limiter = nullptr;       // null: no rate limits
  EdgePolicy edge{};                    // CORS allow-list; security headers always
  // Non-null and true: the store cannot take writes now (the embedded store's disk is nearly full).
  // Requests other than GET/HEAD get 503 `unavailable` with Retry-After; reads go on.
  std::function<bool()> writes_paused;
  app::Tickets* tickets = nullptr;  // null: the ticket routes answer 404
  app::Checkins* checkins = nullptr;  // null: the check-in routes answer 404
  app::DoorFeed* door_feed = nullptr;  // null: no live check-in stream (404)
  app::Transfers* transfers = nullptr;  // null: the transfer routes answer 404
  app::EventCancellations* cancellations = nullptr;  // null: event cancellation answers 404
  app::TwoFactor* two_factor = nullptr;  // null: the two-factor routes answer 404
  core::AuditLog* audit = nullptr;  // null: administrators' actions are not recorded
  // GET /metrics wants `Authorization: Bearer <metrics_token>`; empty: /metrics is not served here
  // (404). Its figures (failed logins, settlements, queues) are the operators' alone.
  std::string metrics_token;
  app::Organizations* organizations = nullptr;  // null: no organizations; administrators manage everything
  app::OrderDesk* orders = nullptr;  // null: the order and sales-report routes answer 404
  app::AccountLinks* account_links = nullptr;  // null: verification and password-reset routes answer 404
  EncodingCache* seat_maps = nullptr;  // null: the compact seat map is encoded for every request
  EncodingCache* layouts = nullptr;    // null: a venue's layout is encoded for every request
  std::shared_ptr<AccountStreams> account_streams;  // null: streams are capped per address only
  // Distributed deployments: the seat calls other nodes forward to the owner of an event
  // (POST /internal/v1/ledger/{call}, cluster/owner_router.hpp), run here and answered as
  // {status, JSON body}. A caller must present `peer_key` (X-Ticketd-Peer-Key); unset: 404.
  std::function<std::pair<int, std::string>(std::string_view call, std::string_view body)> peer_calls;
  std::string peer_key;
  app::Waitlist* waitlist = nullptr;  // null: the waiting-list routes answer 404
  app::Resale* resale = nullptr;      // null: the resale routes answer 404
  // peer_calls decided without blocking (cluster::PeerCalls::try_handle_async), answered through
  // `done`; false: it did nothing, and peer_calls runs on a worker. Empty: always peer_calls.
  std::function<bool(std::string_view call, std::string_view body, std::function<void(int, std::string)> done)>
      peer_calls_async;
};

class Router;
struct Ctx;
enum class Caller : uint8_t;  // http/router.hpp

class Api {
 public:
  explicit Api(Services services);
  ~Api();
  Response handle(const Request& request);
  // For the transport's I/O thread (http/message.hpp, InlineHandler): true when the route has a handler
  // there (RouteOptions::on_io_thread), the caller's session is in the cache and it took the request.
  // A request passed on after its rate limits were charged is marked `admitted`.
  bool handle_inline(Request& request, const Reply& reply);
  // For the transport's I/O thread (http/message.hpp, Preparer), with a request handle_inline passed:
  // true when the caller's session is missing from the cache and the route is answered on the I/O
  // thread; the session is then read without blocking (app/accounts.hpp, authenticate_async) and
  // `ready` hears whether it is in the cache now, so that handle_inline takes the request next.
  // Anything else it passed for (a route with no answer there, a store that cannot answer, the
  // reader's queue full) is handle()'s: false, or `ready(false)`.
  bool prepare_inline(const Request& request, const Ready& ready);

 private:
  enum class Where { worker, io_thread };
  enum class Outcome { answered, passed, passed_admitted };
  // The one request path of both threads: answers through `reply` (which adds the edge headers, gzip
  // and the request metrics); on the I/O thread it may pass instead (never on a worker).
  Outcome dispatch(const Request& request, Where where, const Reply& reply);
  // `reply`, wrapped to finish the answer when it is made.
  // `label`: the metrics label, kept by the route table (or a static one) for as long as the Api lives.
  Reply finishing(const Request& request, std::string_view label, const Reply& reply) const;
  void audit(const struct Route& route, const struct Ctx& ctx, std::string_view path, const Response& response);
  std::optional<core::Result<core::User>> authenticate_once(const Request& request, bool routed, Where where);
  core::Status admit_caller(Caller who, Ctx& ctx);
  // On a worker: the route's inline form, waited for; false when it did nothing.
  bool answered_inline_on_worker(const struct Route& route, struct Ctx& ctx, const Reply& answer);
  Services services_;
  std::unique_ptr<Router> router_;
};

}  // namespace ticketd::http
