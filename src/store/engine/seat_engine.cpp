// The seat engine (seat_engine.hpp): decisions in memory under each event's mutex, recorded in the
// journal before the mutex is released, acknowledged once durable.
#include "store/engine/seat_engine.hpp"

#include <algorithm>
#include <condition_variable>

#include "base/assert.hpp"
#include "core/best_available.hpp"
#include "core/limits.hpp"

namespace ticketd::store::engine {

using core::Code;
using core::make_error;

namespace {

core::Error insufficient_seats() {
  return make_error(Code::InsufficientSeats, "not enough seats are available");
}

// A recorded decision's outcome, for a caller that waits for it after releasing the slot mutex.
class Durable {
 public:
  // Records `decision` in `journal` and returns what to wait on.
  // `loads`: the slot's load count when the decision was made (SeatEngine::durable_or_forget).
  static std::shared_ptr<Durable> record(core::SeatJournal& journal, core::SeatDecision decision, uint64_t loads) {
    auto d = std::make_shared<Durable>();
    d->loads_ = loads;
    journal.record(
        std::move(decision),
        [d](core::Status s) {
          {
            std::lock_guard lock(d->mu_);
            d->status_ = std::move(s);
          }
          d->cv_.notify_one();
        },
        core::SeatJournal::Failure::stop);
    return d;
  }
  core::Status wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return status_.has_value(); });
    return *status_;
  }
  uint64_t loads() const { return loads_; }

 private:
  uint64_t loads_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<core::Status> status_;
};

}  // namespace

SeatEngine::SeatEngine(core::SeatJournal& journal, core::TicketIdSource& ticket_ids, core::SeatChangeSink* sink,
                       core::UserHolds* user_holds)
    : journal_(journal), ticket_ids_(ticket_ids), sink_(sink), user_holds_(user_holds) {
  // ACTIVE rows include every live hold and every pinned one (a pin lives in memory only); rows that
  // lapsed and are not marked yet are listed too and dropped once found dead (the sweeper keeps them
  // few: it marks lapsed rows EXPIRED every second).
  for (const core::JournalActiveHold& h : journal_.active_holds())
    stripe_of(h.user).holds[h.user].push_back(UserHold{h.event, h.hold, h.expires_at});
}

bool SeatEngine::hold_live(const UserHold& h, TimeMs now) {
  auto s = slot(h.event_id);
  std::lock_guard lock(s->mu);
  if (!ensure_loaded(*s, h.event_id, now)) return false;  // no such event: nothing of it is live
  advance(*s, h.event_id, now);
  return s->inv->find_hold(h.hold_id).has_value();
}

void SeatEngine::prune_user_holds(std::vector<UserHold>& holds, TimeMs now, std::optional<TimeMs> checked_before) {
  std::erase_if(holds, [&](const UserHold& h) {
    if (checked_before && h.expires_at > *checked_before) return false;
    return !hold_live(h, now);
  });
}

void SeatEngine::list_incoming(UserStripe& stripe) {
  std::vector<std::pair<core::UserId, UserHold>> incoming;
  {
    std::lock_guard lock(stripe.incoming_mu);
    incoming.swap(stripe.incoming);
  }
  for (const auto& entry : incoming) {  // (a lambda may not capture a structured binding in clang 14)
    std::vector<UserHold>& listed = stripe.holds[entry.first];
    const core::HoldId id = entry.second.hold_id;
    if (std::none_of(listed.begin(), listed.end(), [id](const UserHold& h) { return h.hold_id == id; }))
      listed.push_back(entry.second);
  }
}

void SeatEngine::prune_all_user_holds(TimeMs now) {
  for (UserStripe& stripe : user_stripes_) {
    std::lock_guard lock(stripe.mu);
    list_incoming(stripe);
    // Only holds past their expiry are asked about (lapsed, or pinned by a checkout): the others are
    // live unless released or sold, and those are forgotten when that happens.
    for (auto it = stripe.holds.begin(); it != stripe.holds.end();) {
      prune_user_holds(it->second, now, now);
      it = it->second.empty() ? stripe.holds.erase(it) : std::next(it);
    }
  }
}

void SeatEngine::end_reservation(core::UserId user, core::HoldId hold) {
  user_holds_->end(user, hold);
  stripe_of(user).ends_sent.fetch_add(1, std::memory_order_release);
}

core::UserHolds::Reserve SeatEngine::reserve_settled(const core::HoldRequest& request, core::HoldId id, TimeMs now) {
  const UserStripe& stripe = stripe_of(request.user_id);
  for (uint32_t tries = 1;; ++tries) {
    const uint64_t ends_seen = stripe.ends_sent.load(std::memory_order_acquire);
    const auto r = user_holds_->reserve(request.user_id, id, now + request.ttl, request.active_holds_max, now);
    if (r != core::UserHolds::Reserve::at_cap || !ask_again(stripe, ends_seen, tries)) return r;
  }
}

void SeatEngine::forget_user_hold(core::UserId user, core::HoldId hold) {
  if (user_holds_) end_reservation(user, hold);
  UserStripe& stripe = stripe_of(user);
  std::lock_guard lock(stripe.mu);
  auto it = stripe.holds.find(user);
  if (it == stripe.holds.end()) return;
  std::erase_if(it->second, [&](const UserHold& h) { return h.hold_id == hold; });
  if (it->second.empty()) stripe.holds.erase(it);
}

void SeatEngine::remember(Slot& slot, core::HoldId id, core::HoldState state) {
  if (slot.finished_order.size() >= kFinishedRememberedMax) {
    slot.finished.erase(slot.finished_order.front());
    slot.finished_order.pop_front();
  }
  slot.finished[id] = state;
  slot.finished_order.push_back(id);
}

core::HoldState SeatEngine::settled_state(const Slot& slot, const core::Hold& stored) {
  if (auto it = slot.finished.find(stored.id); it != slot.finished.end()) return it->second;
  // An ACTIVE row whose hold is gone from memory has lapsed (the sweeper has not marked it yet).
  return stored.state == core::HoldState::Active ? core::HoldState::Expired : stored.state;
}

void SeatEngine::report(Slot& slot, core::EventId event, std::vector<core::SeatId> seats, core::SeatStatus status) {
  if (seats.empty()) return;
  ++slot.version;
  if (sink_) sink_->seats_changed(core::SeatChange{event, std::move(seats), status, slot.version});
}

std::vector<core::Hold> SeatEngine::advance(Slot& slot, core::EventId event, TimeMs now) {
  TICKETD_ASSERT(slot.inv.has_value());
  std::vector<core::Hold> expired = slot.inv->advance(now);
  // All the seats one pass frees are one change: one version, one message to subscribers.
  std::vector<core::SeatId> freed;
  for (const core::Hold& h : expired) freed.insert(freed.end(), h.seats.begin(), h.seats.end());
  report(slot, event, std::move(freed), core::SeatStatus::Available);
  return expired;
}

core::Status SeatEngine::refusal_now(Slot& slot, core::EventId event, const core::HoldRequest& request, TimeMs now) {
  advance(slot, event, now);
  if (!request.best) return slot.inv->holdable(request.user_id, request.seats, now, request.offer);
  if (core::too_few_free(*request.best, slot.inv->counts().available)) return insufficient_seats();
  return core::ok_status();  // whether a block is free is the pick's to say
}

std::shared_ptr<SeatEngine::Slot> SeatEngine::slot(core::EventId event) {
  {
    std::shared_lock lock(slots_mu_);
    if (auto it = slots_.find(event); it != slots_.end()) return it->second;
  }
  std::unique_lock lock(slots_mu_);
  auto& s = slots_[event];
  if (!s) s = std::make_shared<Slot>();
  return s;
}

core::Status SeatEngine::ensure_loaded(Slot& slot, core::EventId event, TimeMs now) {
  if (slot.inv) return core::ok_status();
  auto loaded = journal_.load_event(event, now);
  if (!loaded) return loaded.error();
  core::EventInventory inv(loaded->rules);
  // Sales first, then holds: a hold that lapsed and whose seat was later sold is not live anyway.
  for (const core::JournalSale& sale : loaded->sales) inv.restore_sale(sale.booking, sale.user, sale.seats);
  // Listings before holds: a buyer's live hold may be on a listed seat.
  for (const core::JournalListing& l : loaded->listings) (void)inv.restore_listing(l.booking, l.seat);
  // Newest first: should a clock step backwards make a lapsed hold look live, the newer claim on a
  // seat (made after the old one lapsed) wins and the older hold is dropped. Each live one counts toward
  // its user's cap here from now on: another node may have placed it (see UserStripe::incoming).
  for (const core::Hold& h : loaded->holds) {
    if (!inv.restore_hold(h)) continue;
    UserStripe& stripe = stripe_of(h.user_id);
    std::lock_guard lock(stripe.incoming_mu);
    stripe.incoming.emplace_back(h.user_id, UserHold{event, h.id, h.expires_at});
  }
  // Bookings still awaiting payment: their holds stay pinned (a payment may be in flight), and a
  // late success finds them in `pending`. A pin outlives its hold's own expiry, which the journal's
  // live holds stop at: a pending booking's hold that lapsed is restored from the booking (its seats
  // were pinned, so nobody could have taken them since), then pinned again for pin_max from now.
  slot.pending.clear();
  for (const core::JournalPending& p : loaded->pending) {
    slot.pending[p.booking] = PendingBooking{p.hold, p.user, p.seats};
    if (!inv.find_hold(p.hold))
      (void)inv.restore_hold(core::Hold{p.hold, event, p.user, p.seats, now, now + Millis(1), core::HoldState::Active, 0});
    (void)inv.pin(p.hold, p.user, now, core::limits::payment_action_pin_max);
  }
  slot.inv.emplace(std::move(inv));
  ++slot.loads;
  slot.version = std::max(slot.version, loaded->version_base);
  return core::ok_status();
}

core::Status SeatEngine::check_hold_request(const core::Event& event, const core::HoldRequest& request, TimeMs now) {
  TICKETD_ASSERT(request.active_holds_max >= 1 && request.active_holds_max <= core::limits::active_holds_per_user_max);
  // What needs no seat state first, as every ledger does (core/inventory.hpp), then the cap, then the seats.
  return request.best ? core::check_sale_window(event.on_sale_at, event.starts_at, now)
                      : core::check_hold_request(event.on_sale_at, event.starts_at, event.seats_total, request.seats,
                                                 now);
}

core::Error SeatEngine::at_cap(const core::HoldRequest& request) {
  return make_error(Code::ActiveHoldsLimitExceeded,
                    "at most " + std::to_string(request.active_holds_max) +
                        " active holds per user across all events: release a hold or buy its seats first");
}

core::Result<core::Hold> SeatEngine::decide_hold(core::EventId event, const BestPick* best,
                                                 const core::HoldRequest& request, core::HoldId id, TimeMs now,
                                                 bool may_load, const RecordHold& record) {
  TICKETD_ASSERT(best || !request.best);
  auto s = slot(event);
  std::lock_guard lock(s->mu);
  if (!may_load && !s->inv)  // forgotten (its lease lost) since the caller saw it loaded
    return make_error(Code::Unavailable, "this event's seats are being loaded again; retry");
  if (auto st = ensure_loaded(*s, event, now); !st) return st.error();
  core::EventInventory& inv = *s->inv;
  advance(*s, event, now);
  std::vector<core::SeatId> seats = request.seats;
  if (request.best) {
    auto picked = core::pick_best_available(best->layout, best->prices, *request.best,
                                            [&](core::SeatId seat) { return inv.is_free(seat); },
                                            inv.counts().available);
    if (!picked) return insufficient_seats();
    seats = std::move(*picked);
  }
  auto held = inv.hold(id, request.user_id, std::move(seats), now, request.ttl, request.offer);
  if (!held) return held.error();
  report(*s, event, held->seats, core::SeatStatus::Held);
  std::vector<core::SeatId> listed;
  for (core::SeatId seat : held->seats)
    if (inv.is_listed(seat)) listed.push_back(seat);
  record(*held, core::HoldPlaced{*held, request.expiry_notice_lead, std::move(listed)}, s->loads);
  return held;
}

std::optional<core::Result<core::Hold>> SeatEngine::place_hold(const core::Event& event, const core::Layout& layout,
                                                              const core::HoldRequest& request, TimeMs now,
                                                              bool only_if_loaded, const RecordHold& record) {
  if (auto st = check_hold_request(event, request, now); !st) return st.error();
  if (only_if_loaded) {
    auto s = slot(event.id);
    std::lock_guard lock(s->mu);
    if (!s->inv) return std::nullopt;
  }
  // Holds other nodes decided (distributed: each event's owner decides its own) are counted by the
  // registry; when it does not answer, this node's own count decides. No lock is held while the
  // registry answers: its thread decides the holds of try_hold_reserving_async, which lock stripes.
  UserStripe& stripe = stripe_of(request.user_id);
  {
    std::lock_guard user_lock(stripe.mu);
    if (!under_cap(stripe, request, now, /*may_prune=*/true)) return at_cap(request);
  }
  const core::HoldId id = journal_.next_hold_id();
  bool reserved = false;
  if (user_holds_) {
    const auto r = reserve_settled(request, id, now);
    if (r == core::UserHolds::Reserve::at_cap) return at_cap(request);
    reserved = r == core::UserHolds::Reserve::reserved;
  }
  // This user's holds are decided one at a time, from the count to the decision in memory, so two
  // concurrent holds (on any events) cannot both pass the cap. Released before the commit.
  core::Result<core::Hold> decided = [&]() -> core::Result<core::Hold> {
    std::lock_guard user_lock(stripe.mu);
    if (!under_cap(stripe, request, now, /*may_prune=*/true)) return at_cap(request);
    const BestPick best{layout, event.prices};
    auto held = decide_hold(event.id, &best, request, id, now, /*may_load=*/true, record);
    if (held) stripe.holds[request.user_id].push_back(UserHold{event.id, held->id, held->expires_at});
    return held;
  }();
  if (!decided && reserved) end_reservation(request.user_id, id);
  return decided;
}

bool SeatEngine::under_cap(UserStripe& stripe, const core::HoldRequest& request, TimeMs now, bool may_prune) {
  list_incoming(stripe);
  auto it = stripe.holds.find(request.user_id);
  if (it == stripe.holds.end() || it->second.size() < request.active_holds_max) return true;
  if (!may_prune) return false;
  prune_user_holds(it->second, now, std::nullopt);  // the list may name holds that ended: ask
  return it->second.size() < request.active_holds_max;
}

core::Status SeatEngine::durable_or_forget(core::Status durable, core::EventId event, uint64_t loads) {
  if (durable) return durable;
  auto s = slot(event);
  std::lock_guard lock(s->mu);
  // Loaded again since this decision: what is in memory now was read after the failure and is not ahead
  // of the journal. Forgetting it would fail the decisions made on it since, and so on while a sale runs.
  if (s->loads == loads) forget_loaded(*s);
  return durable;
}

void SeatEngine::forget_event(core::EventId event) {
  auto s = slot(event);
  std::lock_guard lock(s->mu);
  forget_loaded(*s);
}

void SeatEngine::forget_loaded(Slot& s) {
  s.inv.reset();
  s.pending.clear();
  s.finished.clear();
  s.finished_order.clear();
  // Seats may change without a report when the event is loaded again: a skipped version is a gap, and
  // the live map's subscribers resynchronise from a fresh snapshot at the next change.
  ++s.version;
}

core::Result<core::Hold> SeatEngine::hold_seats(const core::Event& event, const core::Layout& layout,
                                                const core::HoldRequest& request, TimeMs now) {
  std::shared_ptr<Durable> durable;
  auto placed = place_hold(event, layout, request, now, false,
                           [&](const core::Hold&, core::SeatDecision d, uint64_t loads) {
                             durable = Durable::record(journal_, std::move(d), loads);
                           });
  TICKETD_ASSERT(placed.has_value());  // loading was allowed
  if (!*placed) return *placed;
  if (auto st = durable_or_forget(durable->wait(), event.id, durable->loads()); !st) return st.error();
  return *placed;
}

// A request that cannot be decided without blocking (the event not loaded yet, a user at this node's
// count of the cap) is decided by hold_seats() once every one before it is answered: with the
// registry of users' holds, an earlier one is decided only when the registry answers, and the order given
// is the order decided.
std::vector<core::Result<core::Hold>> SeatEngine::hold_seats_each(const core::Event& event, const core::Layout& layout,
                                                                  const std::vector<core::HoldRequest>& requests,
                                                                  TimeMs now) {
  TICKETD_ASSERT(requests.size() <= core::limits::holds_per_call_max);
  struct Answers {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    std::vector<std::optional<core::Result<core::Hold>>> out;
  };
  auto answers = std::make_shared<Answers>();
  answers->out.resize(requests.size());
  auto wait_for_all = [&answers] {
    std::unique_lock lock(answers->mu);
    answers->cv.wait(lock, [&] { return answers->pending == 0; });
  };
  // Not owned: every answer, and so every pick that reads the layout, comes before this returns.
  const std::shared_ptr<const core::Layout> borrowed(std::shared_ptr<const core::Layout>(), &layout);
  for (size_t i = 0; i < requests.size(); ++i) {
    {
      std::lock_guard lock(answers->mu);
      ++answers->pending;
    }
    const bool placed =
        try_hold_seats_async(event, borrowed, requests[i], now, [answers, i](core::Result<core::Hold> r) {
          std::lock_guard lock(answers->mu);
          answers->out[i] = std::move(r);
          if (--answers->pending == 0) answers->cv.notify_all();
        });
    if (placed) continue;
    {
      std::lock_guard lock(answers->mu);
      --answers->pending;
    }
    wait_for_all();
    core::Result<core::Hold> r = hold_seats(event, layout, requests[i], now);
    std::lock_guard lock(answers->mu);
    answers->out[i] = std::move(r);
  }
  wait_for_all();
  std::vector<core::Result<core::Hold>> out;
  out.reserve(requests.size());
  for (std::optional<core::Result<core::Hold>>& a : answers->out) out.push_back(std::move(*a));
  return out;
}

SeatEngine::RecordHold SeatEngine::record_then_answer(const HoldDone& done) {
  return [this, done](const core::Hold& hold, core::SeatDecision d, uint64_t loads) {
    journal_.record(
        std::move(d),
        [this, done, hold, loads](core::Status s) {
          done(durable_or_forget(s, hold.event_id, loads) ? core::Result<core::Hold>(hold)
                                                          : core::Result<core::Hold>(s.error()));
        },
        core::SeatJournal::Failure::stop);
  };
}

bool SeatEngine::try_hold_seats_async(const core::Event& event, std::shared_ptr<const core::Layout> layout,
                                      const core::HoldRequest& request, TimeMs now, const HoldDone& done) {
  TICKETD_ASSERT(layout);
  if (user_holds_) return try_hold_reserving_async(event, std::move(layout), request, now, done);
  auto placed = place_hold(event, *layout, request, now, true, record_then_answer(done));
  if (!placed) return false;
  if (!*placed) done(placed->error());
  return true;
}

bool SeatEngine::try_hold_reserving_async(const core::Event& event, std::shared_ptr<const core::Layout> layout,
                                          const core::HoldRequest& request, TimeMs now, const HoldDone& done) {
  if (auto st = check_hold_request(event, request, now); !st) {
    done(st.error());
    return true;
  }
  // A hold its seats refuse now (most of a sold-out sale's) is answered here: no round trip to the
  // registry, no reservation to take back.
  core::Status refused = core::ok_status();
  {
    auto s = slot(event.id);
    std::lock_guard lock(s->mu);
    if (!s->inv) return false;
    refused = refusal_now(*s, event.id, request, now);
  }
  if (!refused) {
    done(refused.error());
    return true;
  }
  core::HoldId id = 0;
  {
    UserStripe& stripe = stripe_of(request.user_id);
    std::lock_guard user_lock(stripe.mu);
    if (!under_cap(stripe, request, now, /*may_prune=*/false)) return false;
    const std::optional<core::HoldId> ready = journal_.next_hold_id_if_ready();
    if (!ready) return false;
    id = *ready;
  }
  // The registry answers a batch of reservations in one round trip, on its own thread, which then
  // decides: no thread waits for Redis, nor for the commit after it.
  // A best-available hold is picked when the registry answers, on its thread: the layout and prices go
  // with it (the layout shared, not copied).
  std::shared_ptr<const KeptPick> pick;
  if (request.best) pick = std::make_shared<const KeptPick>(KeptPick{std::move(layout), event.prices});
  reserve_then_decide(event.id, request, now, id, done, 1, std::move(pick));
  return true;
}

void SeatEngine::reserve_then_decide(core::EventId event, const core::HoldRequest& request, TimeMs now, core::HoldId id,
                                     const HoldDone& done, uint32_t tries, std::shared_ptr<const KeptPick> pick) {
  const uint64_t ends_seen = stripe_of(request.user_id).ends_sent.load(std::memory_order_acquire);
  user_holds_->reserve_async(
      request.user_id, id, now + request.ttl, request.active_holds_max, now,
      [this, event, request, now, id, done, tries, ends_seen, pick](core::UserHolds::Reserve r) {
        if (r == core::UserHolds::Reserve::at_cap && ask_again(stripe_of(request.user_id), ends_seen, tries))
          return reserve_then_decide(event, request, now, id, done, tries + 1, pick);
        decide_reserved_hold(event, request, now, id, r, done, pick.get());
      });
}

void SeatEngine::decide_reserved_hold(core::EventId event, const core::HoldRequest& request, TimeMs now,
                                      core::HoldId id, core::UserHolds::Reserve reserved, const HoldDone& done,
                                      const KeptPick* pick) {
  if (reserved == core::UserHolds::Reserve::at_cap) return done(at_cap(request));
  core::Result<core::Hold> decided = [&]() -> core::Result<core::Hold> {
    UserStripe& stripe = stripe_of(request.user_id);
    std::lock_guard user_lock(stripe.mu);
    // Holds of this user decided here since the count before the reservation. Not pruned here (that may
    // load events): at the cap by this node's list, a hold that lapsed within the sweeper's second still
    // counts.
    if (!under_cap(stripe, request, now, /*may_prune=*/false)) return at_cap(request);
    std::optional<BestPick> best;
    if (pick) best.emplace(BestPick{*pick->layout, pick->prices});
    auto held =
        decide_hold(event, best ? &*best : nullptr, request, id, now, /*may_load=*/false, record_then_answer(done));
    if (held) stripe.holds[request.user_id].push_back(UserHold{event, held->id, held->expires_at});
    return held;
  }();
  if (decided) return;  // `done` hears it once it is durable
  if (reserved == core::UserHolds::Reserve::reserved) end_reservation(request.user_id, id);
  done(decided.error());
}

core::Result<core::Hold> SeatEngine::owned_hold(core::HoldId id, core::UserId user) {
  std::optional<core::Hold> stored = journal_.hold(id);
  if (!stored || stored->user_id != user) return make_error(Code::NotFound, "no such hold");
  return *stored;
}

core::Result<core::Hold> SeatEngine::hold_of(core::HoldId id, core::UserId user) {
  if (std::optional<core::Hold> live = hold_as_taken_in_memory(id, user)) return *live;
  return owned_hold(id, user);
}

std::optional<core::Hold> SeatEngine::hold_as_taken_in_memory(core::HoldId id, core::UserId user) {
  const core::EventId event = listed_hold_event(user, id);
  if (event == 0) return std::nullopt;
  auto s = slot(event);
  std::lock_guard lock(s->mu);
  if (!s->inv) return std::nullopt;
  auto live = s->inv->find_hold(id);
  if (!live || live->user_id != user) return std::nullopt;
  return live;
}

core::Result<core::Hold> SeatEngine::find_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = hold_of(id, user);
  if (!stored) return stored;
  auto s = slot(stored->event_id);
  std::lock_guard lock(s->mu);
  if (auto st = ensure_loaded(*s, stored->event_id, now); !st) return st.error();
  advance(*s, stored->event_id, now);
  if (auto live = s->inv->find_hold(id)) return *live;
  stored->state = settled_state(*s, *stored);
  return stored;
}

core::Result<core::Hold> SeatEngine::release_live(Slot& s, core::EventId event, core::HoldId id, core::UserId user,
                                                  TimeMs now) {
  advance(s, event, now);
  auto released = s.inv->release(id, user, now);
  if (!released) return released;
  report(s, event, released->seats, core::SeatStatus::Available);
  remember(s, id, core::HoldState::Released);
  return released;
}

core::Result<core::Hold> SeatEngine::release_hold(core::HoldId id, core::UserId user, TimeMs now) {
  auto stored = owned_hold(id, user);
  if (!stored) return stored;
  auto s = slot(stored->event_id);
  std::shared_ptr<Durable> durable;
  core::Hold released;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, stored->event_id, now); !st) return st.error();
    auto r = release_live(*s, stored->event_id, id, user, now);
    if (!r) {
      if (r.error().code != Code::NotFound) return r.error();
      stored->state = settled_state(*s, *stored);
      if (stored->state == core::HoldState::Converted)
        return make_error(Code::HoldNotActive, "this hold has been checked out");
      return stored;  // released or expired already: nothing to do
    }
    released = *r;
    durable = Durable::record(journal_, core::HoldReleased{stored->event_id, id}, s->loads);
  }
  forget_user_hold(user, id);  // after the slot mutex: lock order (see seat_engine.hpp)
  if (auto st = durable_or_forget(durable->wait(), stored->event_id, durable->loads()); !st) return st.error();
  return released;
}

core::EventId SeatEngine::listed_hold_event(core::UserId user, core::HoldId hold) {
  UserStripe& stripe = stripe_of(user);
  std::lock_guard lock(stripe.mu);
  auto it = stripe.holds.find(user);
  if (it == stripe.holds.end()) return 0;
  for (const UserHold& h : it->second)
    if (h.hold_id == hold) return h.event_id;
  return 0;
}

bool SeatEngine::try_release_hold_async(core::HoldId id, core::UserId user, TimeMs now, const HoldDone& done) {
  // A user's list names only their own holds, so a hold found there is theirs; one not listed (ended,
  // someone else's, unknown) needs the journal to tell which answer it gets.
  const core::EventId event = listed_hold_event(user, id);
  if (event == 0) return false;
  auto s = slot(event);
  {
    std::lock_guard lock(s->mu);
    if (!s->inv) return false;
    auto released = release_live(*s, event, id, user, now);
    if (!released) return false;  // it ended meanwhile (expired, checked out): the journal tells how
    journal_.record(
        core::HoldReleased{event, id},
        [this, done, hold = *released, loads = s->loads](core::Status st) {
          done(durable_or_forget(st, hold.event_id, loads) ? core::Result<core::Hold>(hold)
                                                    : core::Result<core::Hold>(st.error()));
        },
        core::SeatJournal::Failure::stop);
  }
  forget_user_hold(user, id);  // after the slot mutex: lock order (see seat_engine.hpp)
  return true;
}

std::optional<core::CheckoutRecord> SeatEngine::find_checkout(core::UserId user, const std::string& key) {
  return journal_.checkout(user, key);
}

core::Result<SeatEngine::Begin> SeatEngine::decide_begin(
    Slot& s, const core::Hold& stored, core::UserId user, const core::CheckoutStart& start, TimeMs now,
    std::optional<std::pair<core::BookingId, core::PaymentId>> ids) {
  const core::HoldId id = stored.id;
  auto pinned = s.inv->pin(id, user, now, core::limits::checkout_pin_max);
  if (!pinned && pinned.error().code == Code::CheckoutInProgress) {
    // The same checkout again while the first one may still be committing: its record, once durable.
    for (const auto& [booking, p] : s.pending) {
      if (p.hold_id != id || p.user_id != user || !p.record || p.key != start.idempotency_key) continue;
      if (p.record->payment_method != start.payment_method)
        return make_error(Code::IdempotencyKeyReused, "this Idempotency-Key was used with another payment_method");
      return Begin{*p.record, core::Barrier{stored.event_id}, std::nullopt};
    }
    return pinned.error();
  }
  if (!pinned) {
    if (pinned.error().code != Code::NotFound) return pinned.error();
    switch (settled_state(s, stored)) {
      case core::HoldState::Converted:
        return make_error(Code::HoldNotActive, "this hold has been checked out");
      case core::HoldState::Released:
        return make_error(Code::HoldNotActive, "this hold was released");
      default:
        return make_error(Code::HoldExpired, "this hold has expired");
    }
  }
  for (const auto& [booking, p] : s.pending)
    if (p.hold_id == id) return make_error(Code::CheckoutInProgress, "a payment for this hold is pending");
  const core::BookingId booking_id = ids ? ids->first : journal_.next_booking_id();
  const core::PaymentId payment_id = ids ? ids->second : journal_.next_payment_id();
  core::CheckoutRecord rec{id,
                           booking_id,
                           stored.event_id,
                           user,
                           core::BookingStatus::PendingPayment,
                           payment_id,
                           "PENDING",
                           "",
                           "ticketd-booking-" + std::to_string(booking_id),
                           start.payment_method,
                           start.amount,
                           start.currency,
                           "",
                           "",
                           now};
  s.pending[booking_id] = PendingBooking{id, user, pinned->seats, start.idempotency_key, rec};
  learn_booking_event(booking_id, stored.event_id);
  // A pinned hold outlives its expiry: it keeps counting toward its user's cap on the other nodes.
  const TimeMs pinned_until = std::max(pinned->expires_at, now) + core::limits::checkout_pin_max;
  return Begin{rec, core::CheckoutBegun{rec, pinned->seats, start.idempotency_key}, pinned_until};
}

core::Result<core::CheckoutRecord> SeatEngine::begin_checkout(core::HoldId id, core::UserId user,
                                                              const core::CheckoutStart& start, TimeMs now) {
  auto stored = hold_of(id, user);
  if (!stored) return stored.error();
  auto s = slot(stored->event_id);
  std::optional<Begin> begun;
  std::shared_ptr<Durable> durable;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, stored->event_id, now); !st) return st.error();
    advance(*s, stored->event_id, now);
    auto decided = decide_begin(*s, *stored, user, start, now);
    if (!decided) return decided.error();
    begun = std::move(*decided);
    durable = Durable::record(journal_, std::move(begun->decision), s->loads);
  }
  if (user_holds_ && begun->pinned_until) user_holds_->extend(user, id, *begun->pinned_until);
  if (auto st = durable_or_forget(durable->wait(), stored->event_id, durable->loads()); !st) return st.error();
  return begun->rec;
}

bool SeatEngine::try_begin_checkout_async(core::HoldId id, core::UserId user, const core::CheckoutStart& start,
                                          TimeMs now, const CheckoutDone& done) {
  const core::EventId event = listed_hold_event(user, id);
  if (event == 0) return false;
  // Drawn before the decision, so that none is drawn from the store on this thread (an id not used is a
  // gap in its sequence, as a rolled-back one is).
  const std::optional<core::BookingId> booking_id = journal_.next_booking_id_if_ready();
  const std::optional<core::PaymentId> payment_id = booking_id ? journal_.next_payment_id_if_ready() : std::nullopt;
  if (!booking_id || !payment_id) return false;
  auto s = slot(event);
  std::optional<core::Error> refused;
  std::optional<TimeMs> pinned_until;
  {
    std::lock_guard lock(s->mu);
    if (!s->inv) return false;
    advance(*s, event, now);
    // A hold no longer live here (ended, checked out) is answered from the journal's rows.
    std::optional<core::Hold> live = s->inv->find_hold(id);
    if (!live || live->user_id != user) return false;
    // Seats bought from resale listings: their sellers are paid after the sale, which may block.
    for (core::SeatId seat : live->seats)
      if (s->inv->is_listed(seat)) return false;
    auto decided = decide_begin(*s, *live, user, start, now, std::pair{*booking_id, *payment_id});
    if (!decided) {
      refused = decided.error();
    } else {
      pinned_until = decided->pinned_until;
      journal_.record(
          std::move(decided->decision),
          [this, done, rec = decided->rec, event, loads = s->loads](core::Status st) {
            if (!durable_or_forget(st, event, loads)) return done(st.error());
            done(rec);
          },
          core::SeatJournal::Failure::stop);
    }
  }
  if (refused) {
    done(std::move(*refused));
    return true;
  }
  if (user_holds_ && pinned_until) user_holds_->extend(user, id, *pinned_until);
  return true;
}

SeatEngine::Settle SeatEngine::decide_settle(Slot& s, core::EventId event_id, core::BookingId booking_id,
                                             const core::PaymentOutcome& outcome, TimeMs now) {
  Settle out;
  auto it = s.pending.find(booking_id);
  if (it == s.pending.end()) {
    // Settled already (by the checkout reply, a webhook or the reconciler): nothing changes. Recorded
    // after that settlement, so the booking read once this is durable is the settled one.
    out.decision = core::SettledAlready{event_id, outcome, now};
    return out;
  }
  const PendingBooking p = it->second;
  using Kind = core::PaymentOutcome::Kind;
  if (outcome.kind == Kind::AwaitingAction) {
    s.inv->extend_pin(p.hold_id, now + core::limits::payment_action_pin_max);
    out.pinned_until = Pin{p.user_id, p.hold_id, now + core::limits::payment_action_pin_max};
    out.answer = booking_in_memory(booking_id, p, outcome, core::BookingStatus::PendingPayment);
    out.decision = core::PaymentAwaitingAction{event_id, booking_id, outcome, now};
    return out;
  }
  out.pending_ended = true;
  if (outcome.kind == Kind::Succeeded) {
    std::vector<core::EventInventory::Resold> from_listings;
    bool sold = s.inv->convert(p.hold_id, booking_id, now, &from_listings).ok();
    out.resold = !from_listings.empty();
    if (!sold) sold = s.inv->sell_direct(booking_id, p.user_id, p.seats, now).ok();
    if (sold) report(s, event_id, p.seats, core::SeatStatus::Sold);
    out.refund_needed = !sold;
    out.ended_hold = p.hold_id;
    out.ended_user = p.user_id;
    out.answer = sold ? booking_in_memory(booking_id, p, outcome, core::BookingStatus::Confirmed)
                      : paid_too_late_in_memory(booking_id, p, outcome);
    s.pending.erase(it);
    remember(s, p.hold_id, sold ? core::HoldState::Converted : core::HoldState::Expired);
    std::vector<std::string> ticket_ids;  // drawn here: the journal only writes
    if (sold)
      for (size_t i = 0; i < p.seats.size(); ++i) ticket_ids.push_back(ticket_ids_.next());
    out.decision = core::PaymentSucceeded{booking_id,
                                          p.hold_id,
                                          p.user_id,
                                          event_id,
                                          p.seats,
                                          sold,
                                          std::move(ticket_ids),
                                          outcome,
                                          now,
                                          std::move(from_listings)};
    return out;
  }
  using HoldEnd = core::PaymentFailed::HoldEnd;
  HoldEnd end = HoldEnd::expired;  // a hold whose pin ran out before the decline stays expired
  if (outcome.kind == Kind::Rejected) {
    end = HoldEnd::kept;
    s.inv->unpin(p.hold_id, now);
    // Unpinned past its old deadline, the hold lapses at once (inside unpin's advance).
    if (!s.inv->find_hold(p.hold_id)) report(s, event_id, p.seats, core::SeatStatus::Available);
  } else if (auto live = s.inv->find_hold(p.hold_id)) {
    auto freed = live->state == core::HoldState::Pinned ? s.inv->release_pinned(p.hold_id, now)
                                                        : s.inv->release(p.hold_id, p.user_id, now);
    if (freed) report(s, event_id, freed->seats, core::SeatStatus::Available);
    end = HoldEnd::released;
  }
  out.answer = booking_in_memory(booking_id, p, outcome, core::BookingStatus::Failed);
  s.pending.erase(it);
  if (end != HoldEnd::kept) {
    remember(s, p.hold_id, end == HoldEnd::released ? core::HoldState::Released : core::HoldState::Expired);
    out.ended_hold = p.hold_id;
    out.ended_user = p.user_id;
  }
  out.decision = core::PaymentFailed{booking_id, p.hold_id, p.user_id, event_id, end, outcome, now};
  return out;
}

void SeatEngine::settled_outside_mutex(const Settle& settle, core::BookingId booking) {
  if (settle.ended_hold != 0) forget_user_hold(settle.ended_user, settle.ended_hold);
  if (settle.pending_ended) forget_booking_event(booking);
  if (user_holds_ && settle.pinned_until)
    user_holds_->extend(settle.pinned_until->user, settle.pinned_until->hold, settle.pinned_until->until);
}

core::Result<core::Settlement> SeatEngine::settle_payment(core::BookingId booking_id,
                                                          const core::PaymentOutcome& outcome, TimeMs now) {
  core::EventId event_id = booking_event(booking_id);
  if (!event_id) {
    auto stored = journal_.booking(booking_id);
    if (!stored) return make_error(Code::NotFound, "no such booking");
    event_id = stored->event_id;
  }
  auto s = slot(event_id);
  std::shared_ptr<Durable> durable;
  Settle settle;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, event_id, now); !st) return st.error();
    advance(*s, event_id, now);
    settle = decide_settle(*s, event_id, booking_id, outcome, now);
    durable = Durable::record(journal_, std::move(settle.decision), s->loads);
  }
  settled_outside_mutex(settle, booking_id);  // after the slot mutex: lock order
  if (auto st = durable_or_forget(durable->wait(), event_id, durable->loads()); !st) return st.error();
  // A sale is answered from memory; anything else as the journal now has it.
  if (settle.answer && settle.answer->status == core::BookingStatus::Confirmed)
    return core::Settlement{std::move(*settle.answer), settle.refund_needed, settle.resold};
  auto settled = journal_.booking(booking_id);
  if (!settled) return make_error(Code::Unavailable, "the settled booking could not be read back");
  return core::Settlement{*settled, settle.refund_needed, settle.resold};
}

bool SeatEngine::try_settle_payment_async(core::BookingId booking_id, const core::PaymentOutcome& outcome, TimeMs now,
                                          const SettleDone& done) {
  const core::EventId event_id = booking_event(booking_id);
  if (!event_id) return false;
  auto s = slot(event_id);
  Settle settle;
  {
    std::lock_guard lock(s->mu);
    if (!s->inv) return false;
    advance(*s, event_id, now);
    if (!s->pending.contains(booking_id)) return false;  // settled already: the journal has the answer
    settle = decide_settle(*s, event_id, booking_id, outcome, now);
    TICKETD_ASSERT(settle.answer.has_value());  // every pending booking's settlement is known in memory
    journal_.record(
        std::move(settle.decision),
        [this, done, event_id, loads = s->loads,
         answer = core::Settlement{*settle.answer, settle.refund_needed, settle.resold}](core::Status st) {
          if (!durable_or_forget(st, event_id, loads)) return done(st.error());
          done(answer);
        },
        core::SeatJournal::Failure::stop);
  }
  settled_outside_mutex(settle, booking_id);  // after the slot mutex: lock order
  return true;
}

std::optional<core::Booking> SeatEngine::booking_in_memory(core::BookingId booking, const PendingBooking& p,
                                                           const core::PaymentOutcome& outcome,
                                                           core::BookingStatus status) {
  if (!p.record) return std::nullopt;
  const core::CheckoutRecord& r = *p.record;
  std::vector<core::SeatId> seats = p.seats;
  std::sort(seats.begin(), seats.end());  // as the journal lists a booking's seats
  // As the journal writes them: a failed booking keeps the gateway's decline code and message.
  const bool failed = status == core::BookingStatus::Failed;
  return core::Booking{booking,
                       p.hold_id,
                       r.event_id,
                       p.user_id,
                       status,
                       std::move(seats),
                       r.amount,
                       r.currency,
                       r.payment_id,
                       outcome.payment_ref,
                       r.created_at,
                       TimeMs{},
                       failed ? outcome.decline_code : "",
                       failed ? outcome.message : ""};
}

std::optional<core::Booking> SeatEngine::paid_too_late_in_memory(core::BookingId booking, const PendingBooking& p,
                                                                 const core::PaymentOutcome& outcome) {
  auto b = booking_in_memory(booking, p, outcome, core::BookingStatus::Failed);
  if (!b) return b;
  b->decline_code = "seats_taken";
  b->message = std::string(core::kPaidTooLateMessage);
  return b;
}

core::EventId SeatEngine::booking_event(core::BookingId booking) {
  std::lock_guard lock(booking_events_mu_);
  auto it = booking_events_.find(booking);
  return it == booking_events_.end() ? 0 : it->second;
}

void SeatEngine::learn_booking_event(core::BookingId booking, core::EventId event) {
  std::lock_guard lock(booking_events_mu_);
  if (booking_events_.size() >= kBookingEventsMax) booking_events_.clear();
  booking_events_[booking] = event;
}

void SeatEngine::forget_booking_event(core::BookingId booking) {
  std::lock_guard lock(booking_events_mu_);
  booking_events_.erase(booking);
}

core::Status SeatEngine::record_refund(core::BookingId booking, const std::string& refund_ref) {
  return journal_.record_refund(booking, refund_ref);
}

std::optional<core::BookingId> SeatEngine::booking_by_payment_ref(const std::string& payment_ref) {
  if (payment_ref.empty()) return std::nullopt;
  return journal_.booking_by_payment_ref(payment_ref);
}

bool SeatEngine::payment_event_seen(const std::string& event_id) { return journal_.payment_event_seen(event_id); }

core::Status SeatEngine::record_payment_event(const std::string& event_id, const std::string& type, TimeMs now) {
  return journal_.record_payment_event(event_id, type, now);
}

std::vector<core::CheckoutRecord> SeatEngine::payments_to_reconcile(TimeMs older_than, core::PaymentId after_payment,
                                                                   uint32_t limit) {
  return journal_.payments_to_reconcile(older_than, after_payment, limit);
}

core::Result<core::Booking> SeatEngine::find_booking(core::BookingId id, core::UserId user) {
  auto b = journal_.booking(id);
  if (!b || b->user_id != user) return make_error(Code::NotFound, "no such booking");
  return *b;
}

std::vector<core::Booking> SeatEngine::list_bookings(core::UserId user, uint32_t limit, core::BookingId before_id,
                                                     bool include_failed) {
  std::vector<core::Booking> out;
  for (core::BookingId id : journal_.bookings_of(user, limit, before_id, include_failed))
    if (auto b = journal_.booking(id)) out.push_back(std::move(*b));
  return out;
}

core::Result<core::Booking> SeatEngine::cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                                       TimeMs now) {
  auto s = slot(booking.event_id);
  std::shared_ptr<Durable> durable;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, booking.event_id, now); !st) return st.error();
    advance(*s, booking.event_id, now);
    if (!s->inv->cancel_sale(booking.id)) {
      // A confirmed booking whose sale is not in memory was cancelled by a concurrent request (whose
      // commit may still be in flight). A barrier recorded behind that commit answers only once the
      // cancellation is durable: the journal keeps one event's decisions in order.
      durable = Durable::record(journal_, core::Barrier{booking.event_id}, s->loads);
    } else {
      report(*s, booking.event_id, booking.seats, core::SeatStatus::Available);
      durable = Durable::record(journal_, core::BookingCancelled{booking, refund_ref, now}, s->loads);
    }
  }
  if (auto st = durable_or_forget(durable->wait(), booking.event_id, durable->loads()); !st) return st.error();
  core::Booking b = booking;
  b.status = core::BookingStatus::Cancelled;
  b.cancelled_at = now;
  return b;
}

core::Result<core::Booking> SeatEngine::refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                                     const std::string& refund_ref, TimeMs now) {
  auto s = slot(booking.event_id);
  std::shared_ptr<Durable> durable;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, booking.event_id, now); !st) return st.error();
    advance(*s, booking.event_id, now);
    if (auto st = s->inv->cancel_seats(booking.id, refund.seats); !st) {
      if (st.error().code == Code::NotFound)  // the sale is gone: the booking was cancelled meanwhile
        return make_error(Code::BookingNotConfirmed, "only a confirmed booking can be refunded");
      return st.error();
    }
    report(*s, booking.event_id, refund.seats, core::SeatStatus::Available);
    durable = Durable::record(journal_, core::SeatsRefunded{booking, refund, refund_ref, now}, s->loads);
  }
  if (auto st = durable_or_forget(durable->wait(), booking.event_id, durable->loads()); !st) return st.error();
  core::Booking b = booking;
  std::erase_if(b.seats, [&](core::SeatId seat) {
    return std::find(refund.seats.begin(), refund.seats.end(), seat) != refund.seats.end();
  });
  return b;
}

core::Status SeatEngine::change_listing(const core::Booking& seller, const core::ResaleChange& change, TimeMs now) {
  auto s = slot(seller.event_id);
  std::shared_ptr<Durable> durable;
  {
    std::lock_guard lock(s->mu);
    if (auto st = ensure_loaded(*s, seller.event_id, now); !st) return st.error();
    advance(*s, seller.event_id, now);
    auto st = change.listed ? s->inv->list_seat(seller.id, change.seat) : s->inv->withdraw_seat(seller.id, change.seat);
    if (!st) {
      if (st.error().code == Code::NotFound)  // the sale is gone: cancelled, refunded or resold meanwhile
        return make_error(Code::BookingNotConfirmed, "this ticket's booking no longer holds the seat");
      return st.error();
    }
    report(*s, seller.event_id, {change.seat}, change.listed ? core::SeatStatus::Available : core::SeatStatus::Sold);
    durable = Durable::record(journal_, core::ListingChanged{seller, change, now}, s->loads);
  }
  return durable_or_forget(durable->wait(), seller.event_id, durable->loads());
}

void SeatEngine::resale_rule_changed(core::EventId event, bool on_open_sale) {
  auto s = slot(event);
  std::lock_guard lock(s->mu);
  if (!s->inv) return;  // not loaded: it loads the stored rule
  std::vector<core::SeatId> changed = s->inv->set_resale_on_open_sale(on_open_sale);
  if (!changed.empty())
    report(*s, event, std::move(changed), on_open_sale ? core::SeatStatus::Available : core::SeatStatus::Sold);
}

void SeatEngine::event_dates_changed(const core::Event& event) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (s->inv) s->inv->set_dates(event.on_sale_at, event.starts_at);  // not loaded: it loads the new ones
}

int64_t SeatEngine::seat_refunds_total(core::BookingId booking) { return journal_.seat_refunds_total(booking); }

std::optional<core::SeatRefundRecord> SeatEngine::find_seat_refund(int64_t id) { return journal_.seat_refund(id); }

std::vector<core::Ticket> SeatEngine::tickets_of_booking(core::BookingId booking) {
  return journal_.tickets_of_booking(booking);
}

std::optional<core::Ticket> SeatEngine::find_ticket(const std::string& ticket_id) { return journal_.ticket(ticket_id); }

core::Result<core::SeatMap> SeatEngine::seat_map(const core::Event& event, TimeMs now) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (auto st = ensure_loaded(*s, event.id, now); !st) return st.error();
  advance(*s, event.id, now);
  core::SeatMap map{s->inv->status_chars(), s->inv->counts(), s->version, {}};
  if (!s->inv->rules().resale_on_open_sale) map.listed_for_offers = s->inv->listed_unheld();
  return map;
}

std::optional<uint64_t> SeatEngine::seat_map_version(const core::Event& event, TimeMs now) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (!s->inv) return std::nullopt;
  advance(*s, event.id, now);  // lapsed holds change the map, and its version, as seat_map() would see
  return s->version;
}

std::optional<core::SeatCounts> SeatEngine::seat_counts_in_memory(const core::Event& event, TimeMs now) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (!s->inv) return std::nullopt;
  advance(*s, event.id, now);  // lapsed holds are available again, as seat_map() would count them
  return s->inv->counts();
}

core::Result<core::Stock> SeatEngine::stock(const core::Event& event, TimeMs now, TimeMs expiring_before) {
  auto s = slot(event.id);
  std::lock_guard lock(s->mu);
  if (auto st = ensure_loaded(*s, event.id, now); !st) return st.error();
  s->inv->advance(now);
  return s->inv->stock(expiring_before);
}

size_t SeatEngine::sweep_expired(TimeMs now) {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::shared_lock lock(slots_mu_);
    for (auto& [id, s] : slots_) all.push_back(s);
  }
  std::vector<core::Hold> expired;
  for (auto& s : all) {
    std::lock_guard lock(s->mu);
    if (!s->inv) continue;
    for (core::Hold& h : advance(*s, s->inv->rules().event_id, now)) expired.push_back(std::move(h));
  }
  prune_all_user_holds(now);  // no slot mutex held here: lock order
  // Holds of events not in memory lapse in the journal; the margin keeps pinned holds (in memory) untouched.
  return journal_.mark_expired(expired, now - core::limits::checkout_pin_max);
}

core::SeatCounts SeatEngine::loaded_counts(TimeMs now) {
  std::vector<std::shared_ptr<Slot>> all;
  {
    std::shared_lock lock(slots_mu_);
    for (auto& [id, s] : slots_) all.push_back(s);
  }
  core::SeatCounts total;
  for (auto& s : all) {
    std::lock_guard lock(s->mu);
    if (!s->inv) continue;
    advance(*s, s->inv->rules().event_id, now);
    const core::SeatCounts c = s->inv->counts();
    total.available += c.available;
    total.held += c.held;
    total.sold += c.sold;
  }
  return total;
}

}  // namespace ticketd::store::engine
