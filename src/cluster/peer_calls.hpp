// The owner's side of forwarded seat calls (cluster/owner_router.hpp): decodes one call
// (cluster/ledger_wire.hpp), runs it on this node's own seat engine — never forwarded again, so a call
// travels at most one hop per attempt — and encodes the answer. A node that does not own the event
// loads it (taking the lease when it is free) or refuses Unavailable naming the owner, and the caller
// follows that.
//
// Thread safety: handle() from any thread (a worker: it blocks on the engine's commit);
// try_handle_async() from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/clock.hpp"
#include "cluster/ledger_wire.hpp"
#include "core/ports/catalog_store.hpp"
#include "core/ports/ledger.hpp"
#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::cluster {

struct PeerCallAnswer {
  int status = 200;  // 200: `body` is an answer (a value or the engine's refusal); 400/404: not a call
  std::string body;
};

class PeerCalls {
 public:
  // The event and its venue as this node's catalog has them (the venue's layout prices best-available).
  using EventLookup =
      std::function<core::Result<std::pair<core::Event, std::shared_ptr<const core::Venue>>>(core::EventId)>;
  // The event and its venue when this node has both in memory (nullopt: not there; handle() reads them).
  using CachedLookup =
      std::function<std::optional<std::pair<core::Event, std::shared_ptr<const core::Venue>>>(core::EventId)>;
  // REQUIRES: `engine` is this node's seat engine itself, not a router (or calls would travel on).
  // `clock`: the time every call is decided at (this node's, when it runs the call).
  PeerCalls(core::Ledger& engine, EventLookup lookup, CachedLookup cached, const Clock& clock)
      : engine_(engine), lookup_(std::move(lookup)), cached_(std::move(cached)), clock_(clock) {}

  PeerCallAnswer handle(std::string_view call, std::string_view body);

  // A forwarded hold or release that the engine decides without blocking (Ledger::try_hold_seats_async,
  // try_release_hold_async): `done` hears the answer once, when it is durable. False, with nothing done,
  // for any other call and whenever it would block: then handle() on a worker. May be called on an I/O
  // thread: the holds forwarded to an owner are most of its load when requests reach nodes at random.
  using AnswerDone = std::function<void(PeerCallAnswer)>;
  // A batch (ledger_wire.hpp) is always taken unless malformed: each of its calls the engine decides
  // without blocking is answered when durable, and the rest are answered null for the caller to send
  // again on their own (they reach handle() on a worker then).
  bool try_handle_async(std::string_view call, std::string_view body, const AnswerDone& done);

 private:
  PeerCallAnswer run(Call call, const CallArgs& args);  // any call but batch
  PeerCallAnswer handle_batch(std::string_view body);
  bool try_handle_batch_async(std::string_view body, const AnswerDone& done);

  core::Ledger& engine_;
  const EventLookup lookup_;
  const CachedLookup cached_;
  const Clock& clock_;
};

}  // namespace ticketd::cluster
