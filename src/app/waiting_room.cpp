#include "app/waiting_room.hpp"

#include <algorithm>

#include "app/lottery.hpp"
#include "base/assert.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;

namespace {
TimeMs opens_at(const core::Event& e) { return e.on_sale_at - e.waiting_room.opens_before; }
// The user's turn came and its window ended: only joining again can bring another.
bool access_over(const core::Place& place, const core::WaitingRoomSettings& w, TimeMs now) {
  if (place.state == core::PlaceState::Expired) return true;
  const bool had_turn = place.state == core::PlaceState::Admitted || place.state == core::PlaceState::Engaged;
  return had_turn && place.admitted_at + w.active_window <= now;
}
int64_t whole_seconds_until(TimeMs from, TimeMs to) {
  return std::max<int64_t>(0, (to - from).count() + 999) / 1000;
}
}  // namespace

WaitingRoom::WaitingRoom(core::WaitingRoomStore& store, Catalog& catalog, core::Ledger& ledger, const TokenKeys& keys,
                         const Clock& clock, Metrics& metrics, SeedSource seeds)
    : store_(store), catalog_(catalog), ledger_(ledger), keys_(keys), clock_(clock), metrics_(metrics),
      seeds_(std::move(seeds)) {
  TICKETD_ASSERT(seeds_ != nullptr);
}

core::Result<core::RoomRecord> WaitingRoom::open(const core::Event& event, TimeMs now) {
  if (auto room = store_.room(event.id)) return *room;
  const core::LotterySeed seed = seeds_();
  return store_.open_room(event.id, seed, seed_commitment(seed), now);
}

core::Status WaitingRoom::draw_if_due(const core::Event& event, const core::RoomRecord& room, TimeMs now) {
  if (room.drawn || now < event.on_sale_at) return core::ok_status();
  return store_.draw(event.id, now);
}

core::Result<QueueView> WaitingRoom::join(core::UserId user, core::EventId event_id) {
  const TimeMs now = clock_.now();
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  if (!event->waiting_room.enabled) return make_error(Code::WaitingRoomOff, "this event has no waiting room");
  if (event->cancelled()) return make_error(Code::EventCancelled, "this event is cancelled");
  if (!event->published) return make_error(Code::SaleNotOpen, "this event is not published");
  if (now < opens_at(*event))
    return make_error(Code::QueueNotOpen, "the waiting room opens at " + format_rfc3339(opens_at(*event)));
  if (now >= event->starts_at) return make_error(Code::EventStarted, "the event has started");
  auto room = open(*event, now);
  if (!room) return room.error();
  if (auto s = draw_if_due(*event, *room, now); !s) return s.error();
  const bool early = now < event->on_sale_at;
  const uint64_t key = early ? lottery_key(room->seed, event_id, user) : 0;
  auto place = store_.join(event_id, user, early, key, now);
  metrics_.count("queue_joins", place.ok() ? (early ? "early" : "late") : "rejected");
  if (!place) return place.error();
  if (access_over(*place, event->waiting_room, now)) {
    // One place per account, but a turn that ended (unused, or used and over) is not a place: joining
    // again puts the user at the end of the line, behind everyone who waited meanwhile.
    place = store_.rejoin(event_id, user, now - event->waiting_room.active_window, now);
    metrics_.count("queue_joins", place.ok() ? "again" : "rejected");
    if (!place) return place.error();
  }
  auto current = store_.room(event_id);
  if (!current) return core::make_error(core::Code::Unavailable, "the waiting room could not be read back; try again");
  return view_of(*event, user, *current, *place, now);
}

core::Result<QueueView> WaitingRoom::status(core::EventId event_id, std::string_view queue_token) {
  std::optional<core::Result<QueueView>> answered = poll(event_id, queue_token, true);
  TICKETD_ASSERT(answered.has_value());  // allowed to block, a poll always answers
  return std::move(*answered);
}

std::optional<core::Result<QueueView>> WaitingRoom::status_from_memory(core::EventId event_id,
                                                                        std::string_view queue_token) {
  if (!store_.polls_from_memory()) return std::nullopt;
  return poll(event_id, queue_token, false);
}

std::optional<core::Result<QueueView>> WaitingRoom::poll(core::EventId event_id, std::string_view queue_token,
                                                          bool may_block) {
  const TimeMs now = clock_.now();
  TokenClaims claims;
  if (!keys_.decode(queue_token, claims) || claims.kind != TokenKind::Queue || claims.event != event_id) {
    core::Error e = make_error(Code::Forbidden, "the queue token is malformed, forged, or for another event");
    e.detail = "queue_token_invalid";
    return e;
  }
  std::shared_ptr<const core::Event> event;
  if (may_block) {
    auto read = catalog_.event(event_id);
    if (!read) return read.error();
    event = std::make_shared<const core::Event>(std::move(*read));
  } else if (!(event = catalog_.cached_event(event_id))) {
    return std::nullopt;
  }
  auto room = store_.room(event_id);
  if (!room) return make_error(Code::NotFound, "not in this event's queue");
  if (!room->drawn && now >= event->on_sale_at) {
    if (!may_block) return std::nullopt;  // the draw is a durable write
    if (auto s = draw_if_due(*event, *room, now); !s) return s.error();
    room = store_.room(event_id);
  }
  auto place = store_.place(event_id, claims.user);
  if (!place) return place.error();
  return view_of(*event, claims.user, *room, *place, now);
}

QueueView WaitingRoom::view_of(const core::Event& event, core::UserId user, const core::RoomRecord& room,
                               const core::Place& place, TimeMs now) {
  const core::WaitingRoomSettings& w = event.waiting_room;
  QueueView v;
  v.event_id = event.id;
  v.queue_token = keys_.sign(TokenClaims{TokenKind::Queue, 0, event.id, user, event.starts_at});
  v.early = place.early;
  switch (place.state) {
    case core::PlaceState::Waiting:
      v.status = room.sold_out ? core::QueueStatus::SoldOut : core::QueueStatus::Waiting;
      v.draw_pending = !room.drawn;
      v.position = place.position;
      if (room.drawn && !room.sold_out) {
        if (auto rate = rate_per_s(event, room)) v.estimated_wait_s = core::estimate_wait_s(place.position, *rate, Millis(0));
      }
      v.retry_after_s = core::retry_after_s(v.estimated_wait_s, w.release_interval);
      if (v.draw_pending) v.retry_after_s = std::clamp<int64_t>(whole_seconds_until(now, event.on_sale_at), 1, v.retry_after_s);
      break;
    case core::PlaceState::Admitted:
    case core::PlaceState::Engaged:
      v.access_expires_at = place.admitted_at + w.active_window;
      if (v.access_expires_at > now) {
        v.status = core::QueueStatus::Admitted;
        v.access_token = keys_.sign(TokenClaims{TokenKind::Access, 0, event.id, user, v.access_expires_at});
      } else {
        v.status = core::QueueStatus::Expired;
      }
      break;
    case core::PlaceState::Expired:
      v.status = core::QueueStatus::Expired;
      v.access_expires_at = place.admitted_at + w.active_window;
      break;
  }
  return v;
}

std::optional<double> WaitingRoom::rate_per_s(const core::Event& event, const core::RoomRecord& room) {
  const Millis interval = event.waiting_room.release_interval;
  // Measured by the store, so every node (and a restarted one) reads the same rate.
  if (room.history.ticks() > 0) return room.history.rate_per_s(interval);
  // No release measured yet: the configured rate, batch_size per interval.
  return static_cast<double>(event.waiting_room.batch_size) * 1000.0 / static_cast<double>(interval.count());
}

core::Result<RoomView> WaitingRoom::info(core::EventId event_id) {
  const TimeMs now = clock_.now();
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  RoomView v;
  v.event_id = event_id;
  v.settings = event->waiting_room;
  v.opens_at = opens_at(*event);
  v.draw_at = event->on_sale_at;
  auto room = store_.room(event_id);
  // The commitment is published as soon as the room opens, before anyone can join.
  if (!room && event->waiting_room.enabled && now >= v.opens_at && now < event->starts_at) {
    auto opened = open(*event, now);
    if (!opened) return opened.error();
    room = *opened;
  }
  if (!room) return v;
  v.open = true;
  v.seed_commitment = room->commitment;
  v.drawn = room->drawn;
  if (room->drawn) v.seed = seed_hex(room->seed);
  v.record = *room;
  v.release_rate_per_s = rate_per_s(*event, *room);
  return v;
}

core::Status WaitingRoom::authorize_hold(const core::Event& event, core::UserId user, std::string_view access_token) {
  if (!event.waiting_room.enabled) return core::ok_status();
  TokenProblem problem{};
  auto claims = keys_.verify_access(access_token, event.id, user, clock_.now(), problem);
  if (!claims) {
    metrics_.count("queue_token_rejections", claims.error().detail);
    return claims.error();
  }
  return core::ok_status();
}

void WaitingRoom::hold_placed(const core::Event& event, core::UserId user) {
  if (!event.waiting_room.enabled) return;
  // The slot is in use from the first hold on: its seats are counted as held, not as a slot waiting
  // for a hold. A memory read first, so later holds do not write.
  auto place = store_.place(event.id, user);
  if (place && place->state == core::PlaceState::Admitted) (void)store_.engage(event.id, user);
}

uint64_t WaitingRoom::release() {
  uint64_t admitted = 0;
  for (core::EventId id : store_.rooms()) {
    auto event = catalog_.event(id);
    if (!event || !event->waiting_room.enabled) continue;
    admitted += release_one(*event, clock_.now());
  }
  return admitted;
}

uint32_t WaitingRoom::release_one(const core::Event& event, TimeMs now) {
  const core::WaitingRoomSettings& w = event.waiting_room;
  auto room = store_.room(event.id);
  if (!room || now >= event.starts_at) return 0;
  if (auto s = draw_if_due(event, *room, now); !s || now < event.on_sale_at) return 0;
  if (auto expired = store_.expire_admitted(event.id, now - w.active_window); !expired) return 0;
  room = store_.room(event.id);
  // Every pass (not only when a batch is due) re-reads the stock, so waiting users learn SOLD_OUT
  // within one releaser tick of the last seat going, and learn it is over as soon as seats return.
  auto stock = ledger_.stock(event, now, now + w.release_interval);
  if (!stock) return 0;
  const core::Admission budget = core::admission_budget(
      core::AdmissionInput{*stock, event.max_tickets_per_user, room->admitted_outstanding, w.batch_size});
  if (budget.sold_out != room->sold_out) store_.set_sold_out(event.id, budget.sold_out);
  if (room->last_release_at && now - *room->last_release_at < w.release_interval) return 0;
  auto admitted = store_.admit(event.id, budget.admit, now);
  if (!admitted) return 0;
  std::lock_guard lock(mu_);
  Runtime& rt = runtime_[event.id];
  rt.admitted_total += *admitted;
  ++rt.releases;
  return *admitted;
}

void WaitingRoom::render_metrics(std::string& out) {
  std::vector<core::EventId> ids;
  try {
    ids = store_.rooms();
  } catch (const core::UnavailableError&) {
    // The queues' store (Redis) is unreachable: the rest of /metrics still answers, when the operator
    // needs it most. A room that becomes unreachable half-way is listed as far as it was read.
    out += "# ticketd_queue_*: the waiting room is unavailable\n";
    return;
  }
  std::string waiting, admitted, outstanding, expired, rate, sold_out, releases, node_admitted_lines;
  for (core::EventId id : ids) {
    std::optional<core::RoomRecord> room;
    try {
      room = store_.room(id);
    } catch (const core::UnavailableError&) {
      break;
    }
    if (!room) continue;
    const std::string label = "{event=\"" + std::to_string(id) + "\"} ";
    waiting += "ticketd_queue_waiting" + label + std::to_string(room->waiting) + "\n";
    admitted += "ticketd_queue_admitted_total" + label + std::to_string(room->admitted_total) + "\n";
    outstanding += "ticketd_queue_admitted_outstanding" + label + std::to_string(room->admitted_outstanding) + "\n";
    expired += "ticketd_queue_expired_total" + label + std::to_string(room->expired_total) + "\n";
    sold_out += "ticketd_queue_sold_out" + label + (room->sold_out ? "1\n" : "0\n");
    auto event = catalog_.event(id);
    std::optional<double> r;
    if (event && event->waiting_room.enabled) r = room->history.rate_per_s(event->waiting_room.release_interval);
    uint64_t node_releases = 0, node_admitted = 0;
    {
      std::lock_guard lock(mu_);
      auto it = runtime_.find(id);
      if (it != runtime_.end()) {
        node_releases = it->second.releases;
        node_admitted = it->second.admitted_total;
      }
    }
    releases += "ticketd_queue_releases_total" + label + std::to_string(node_releases) + "\n";
    node_admitted_lines += "ticketd_queue_node_admitted_total" + label + std::to_string(node_admitted) + "\n";
    rate += "ticketd_queue_release_rate_per_second" + label + std::to_string(r.value_or(0.0)) + "\n";
  }
  out += "# TYPE ticketd_queue_waiting gauge\n" + waiting;
  out += "# TYPE ticketd_queue_admitted_total counter\n" + admitted;
  out += "# TYPE ticketd_queue_admitted_outstanding gauge\n" + outstanding;
  out += "# TYPE ticketd_queue_expired_total counter\n" + expired;
  out += "# TYPE ticketd_queue_release_rate_per_second gauge\n" + rate;
  out += "# TYPE ticketd_queue_sold_out gauge\n" + sold_out;
  // Per node: only the node that ran the releaser counts up (distributed: the advisory-lock holder).
  out += "# TYPE ticketd_queue_releases_total counter\n" + releases;
  out += "# TYPE ticketd_queue_node_admitted_total counter\n" + node_admitted_lines;
}

}  // namespace ticketd::app
