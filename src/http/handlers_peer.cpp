// POST /internal/v1/ledger/{call}: the seat calls other nodes of a distributed deployment forward to
// the owner of an event (cluster/owner_router.hpp). Only for nodes: a caller without the deployment's
// peer key sees 404, as on a node that serves no such route (docs/deploy.md: the load balancer refuses
// /internal/ from outside as well).
#include "http/errors.hpp"
#include "http/router.hpp"

namespace ticketd::http {

namespace {

// The peer key's check does not tell, by its timing, how much of a guess was right.
bool same_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool from_a_peer(Ctx& c) {
  return !c.services.peer_key.empty() && same_key(c.request.header("x-ticketd-peer-key"), c.services.peer_key);
}

Response answer(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response ledger_call(Ctx& c) {
  if (!c.services.peer_calls || !from_a_peer(c)) return error_response(core::Code::NotFound, "no such route");
  auto [status, body] = c.services.peer_calls(c.tokens[0], c.request.body);
  return answer(status, std::move(body));
}

// On the I/O thread: a forwarded hold or release of an event this node has in memory, answered once it
// is durable, as the buyers' own holds are (handlers_sales.cpp). Anything else goes to ledger_call.
bool ledger_call_inline(Ctx& c, const Reply& reply) {
  if (!c.services.peer_calls_async || !from_a_peer(c)) return false;
  return c.services.peer_calls_async(c.tokens[0], c.request.body, [reply](int status, std::string body) {
    reply([status, body = std::move(body)] { return answer(status, body); });
  });
}

}  // namespace

void add_peer_routes(Router& router) {
  // Exempt from the per-address limits: the caller is a node speaking for many buyers, each limited
  // where their request arrived.
  router.add("POST", "/internal/v1/ledger/{token}", ledger_call,
             {.who = Caller::anyone, .limit = RouteClass::exempt, .body_bytes_max = 256 * 1024,
              .on_io_thread = ledger_call_inline});
}

}  // namespace ticketd::http
