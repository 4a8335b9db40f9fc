// Use cases of the waiting room: join, poll, gate the hold endpoints, and the releaser.
//
// Timeline of one event with the room on: it opens at on_sale_at - opens_before (join from then
// on); everyone who joins before on_sale_at is in the lottery; at on_sale_at the draw orders them
// (the seed's commitment was public since the room opened; the seed is published from then on) and
// everyone after joins at the end, first come first served. Every release_interval the releaser
// admits the next batch — never more than the stock can serve (core::admission_budget). An admitted
// user gets an access token valid for active_window; one who places no hold in that time loses the
// slot, which goes back into the budget.
//
// Thread safety: all methods are safe to call concurrently. release() is meant for one periodic
// thread (the embedded releaser; in distributed mode the one node holding the releaser lock).
// mu_ guards runtime_ (this node's releaser counters for /metrics); it is never held across store calls.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "app/queue_tokens.hpp"
#include "core/ports/ledger.hpp"
#include "core/ports/waiting_room.hpp"
#include "core/waiting_room.hpp"

namespace ticketd::app {

struct QueueView {
  core::EventId event_id = 0;
  std::string queue_token;
  core::QueueStatus status = core::QueueStatus::Waiting;
  bool early = false;
  bool draw_pending = false;
  uint64_t position = 0;                     // Waiting after the draw: 1 = next
  std::optional<int64_t> estimated_wait_s;   // Waiting: see docs/api.md for the formula
  int64_t retry_after_s = 1;
  std::string access_token;                  // Admitted
  TimeMs access_expires_at{};                // Admitted
};

struct RoomView {
  core::EventId event_id = 0;
  core::WaitingRoomSettings settings;
  TimeMs opens_at{};
  TimeMs draw_at{};
  bool open = false;        // the room record exists (someone joined or the releaser opened it)
  std::string seed_commitment;
  std::string seed;         // only after the draw
  bool drawn = false;
  core::RoomRecord record;
  std::optional<double> release_rate_per_s;
};

class WaitingRoom {
 public:
  using SeedSource = std::function<core::LotterySeed()>;

  WaitingRoom(core::WaitingRoomStore& store, Catalog& catalog, core::Ledger& ledger, const TokenKeys& keys,
              const Clock& clock, Metrics& metrics, SeedSource seeds);

  core::Result<QueueView> join(core::UserId user, core::EventId event);
  // Cheap: a signature check and a read of memory, no disk I/O (except once, to draw, at on_sale_at).
  core::Result<QueueView> status(core::EventId event, std::string_view queue_token);
  // The same poll from memory alone, for the HTTP layer's I/O thread: nullopt when it would block (a
  // store that answers over the network, an event copy not in memory, a draw that is due).
  std::optional<core::Result<QueueView>> status_from_memory(core::EventId event, std::string_view queue_token);
  core::Result<RoomView> info(core::EventId event);

  // For the hold endpoints of an event whose room is on: the access token must be valid for this
  // event and user (403 with a code per problem otherwise). No lookup: the signature decides.
  core::Status authorize_hold(const core::Event& event, core::UserId user, std::string_view access_token);
  // A hold succeeded: the admitted slot is in use (it no longer expires for inactivity).
  void hold_placed(const core::Event& event, core::UserId user);

  // One releaser pass over every room: draws that are due, expiry of idle admitted users, and the
  // next batch of each room whose interval has passed. Returns how many were admitted.
  uint64_t release();

  // Per-event gauges for /metrics (queue length, admitted, expired, release rate), and per-node
  // counters of this process's releaser (ticketd_queue_releases_total, ticketd_queue_node_admitted_total)
  // so an operator or a test can tell which node is releasing.
  void render_metrics(std::string& out);

 private:
  struct Runtime {
    uint64_t admitted_total = 0;  // by this process's releaser (the store has the durable totals)
    uint64_t releases = 0;        // release ticks this process's releaser ran (which node releases)
  };
  core::Result<core::RoomRecord> open(const core::Event& event, TimeMs now);
  // status() when may_block; otherwise nullopt wherever it would block.
  std::optional<core::Result<QueueView>> poll(core::EventId event, std::string_view queue_token, bool may_block);
  core::Status draw_if_due(const core::Event& event, const core::RoomRecord& room, TimeMs now);
  QueueView view_of(const core::Event& event, core::UserId user, const core::RoomRecord& room,
                    const core::Place& place, TimeMs now);
  std::optional<double> rate_per_s(const core::Event& event, const core::RoomRecord& room);
  uint32_t release_one(const core::Event& event, TimeMs now);

  core::WaitingRoomStore& store_;
  Catalog& catalog_;
  core::Ledger& ledger_;
  const TokenKeys& keys_;
  const Clock& clock_;
  Metrics& metrics_;
  SeedSource seeds_;
  std::mutex mu_;
  std::unordered_map<core::EventId, Runtime> runtime_;  // bounded by the number of rooms
};

}  // namespace ticketd::app
