#include "app/waitlist.hpp"

#include <algorithm>
#include <tuple>
#include <unordered_set>

#include "app/lottery.hpp"
#include "base/refresh_ahead.hpp"
#include "core/limits.hpp"

namespace ticketd::app {

using core::Code;
using core::make_error;
using core::WaitlistState;

namespace {

constexpr uint32_t kPageSize = 256;
constexpr uint32_t kEventsPerPage = 256;

core::Status may_join(const core::Event& event, const core::WaitlistSettings& settings, TimeMs now) {
  if (event.cancelled()) return make_error(Code::EventCancelled, "this event was cancelled");
  if (now >= event.starts_at) return make_error(Code::EventStarted, "this event has started");
  if (now < event.on_sale_at) return make_error(Code::SaleNotOpen, "this event is not on sale yet");
  if (!settings.enabled) return make_error(Code::WaitlistClosed, "this event has no waiting list");
  if (!settings.open) return make_error(Code::WaitlistClosed, "this event's waiting list is closed");
  return core::ok_status();
}

std::vector<core::SeatId> free_seats(const std::string& status) {
  std::vector<core::SeatId> out;
  for (size_t i = 0; i < status.size(); ++i)
    if (status[i] == 'A') out.push_back(static_cast<core::SeatId>(i));
  return out;
}

core::WaitlistWant want_of(const core::WaitlistEntry& entry) {
  return core::WaitlistWant{entry.quantity, entry.together, entry.tier};
}

// An offer is an ordinary hold of the buyer's, lasting the list's deadline; it may take seats listed for
// resale that are kept off open sale.
core::HoldRequest offer_request(const core::WaitlistEntry& entry, std::vector<core::SeatId> seats,
                                const core::WaitlistSettings& settings) {
  return core::HoldRequest{entry.user_id, std::move(seats), std::nullopt, std::chrono::seconds(settings.offer_ttl_s),
                           Millis(0), core::limits::active_holds_per_user_max, /*offer=*/true};
}

void remove_seats(std::vector<core::SeatId>& free, std::vector<core::SeatId> taken) {
  std::sort(taken.begin(), taken.end());
  std::erase_if(free, [&](core::SeatId s) { return std::binary_search(taken.begin(), taken.end(), s); });
}

}  // namespace

Waitlist::Waitlist(core::WaitlistStore& store, core::Ledger& ledger, Catalog& catalog, const Clock& clock,
                   Metrics& metrics, bool exact_gate)
    : store_(store), ledger_(ledger), catalog_(catalog), clock_(clock), metrics_(metrics), exact_gate_(exact_gate) {}

core::Result<std::pair<WaitlistView, bool>> Waitlist::join(core::UserId user, core::EventId event_id,
                                                           const core::WaitlistWant& want) {
  const TimeMs now = clock_.now();
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  if (!event->published) return make_error(Code::NotFound, "no such event");
  const core::WaitlistRecord list = store_.list(event_id);
  if (auto s = may_join(*event, list.settings, now); !s) return s.error();
  if (auto s = core::validate(want, *event); !s) return s.error();
  if (auto mine = store_.entry_of(event_id, user); mine && core::is_active(mine->state)) {
    auto v = view_of(event_id, resolve(*mine, now), now);
    if (!v) return v.error();
    return std::pair{std::move(*v), false};
  }
  // Nobody waits yet: the list opens only once the seats (of the tier) are gone. Held seats count as
  // gone; when they come back they go to the list.
  if (list.waiting == 0) {
    auto venue = catalog_.venue(event->venue_id);
    if (!venue) return venue.error();
    auto map = ledger_.seat_map(*event, now);
    if (!map) return map.error();
    const core::Layout& layout = (*venue)->layout;
    for (core::SeatId s : free_seats(map->status))
      if (want.tier.empty() || layout.price_tier_of(s) == want.tier)
        return make_error(Code::SeatsAvailable, "seats are on sale: hold them instead of waiting");
  }
  const core::LotterySeed seed = make_seed();
  auto joined = store_.join(core::WaitlistJoin{event_id, user, want}, seed_hex(seed), seed_commitment(seed),
                            [&](const std::string& stored_hex) {
                              const auto stored = seed_from_hex(stored_hex);
                              TICKETD_ASSERT(stored.has_value());  // the store keeps what seed_hex wrote
                              return lottery_key(*stored, event_id, user);
                            },
                            now);
  if (!joined) return joined.error();
  if (joined->created) {
    note_waiting(event_id, joined->entry.score, true);
    metrics_.count("waitlist", "joined");
    dirty_ = true;
  }
  refresh_gate(event_id, now);
  auto v = view_of(event_id, joined->entry, now);
  if (!v) return v.error();
  return std::pair{std::move(*v), joined->created};
}

core::Result<WaitlistView> Waitlist::view(core::UserId user, core::EventId event_id) {
  const TimeMs now = clock_.now();
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  if (!event->published) return make_error(Code::NotFound, "no such event");
  auto mine = store_.entry_of(event_id, user);
  if (mine) mine = resolve(*mine, now);
  return view_of(event_id, mine, now);
}

core::Result<WaitlistView> Waitlist::leave(core::UserId user, core::EventId event_id) {
  const TimeMs now = clock_.now();
  auto mine = store_.entry_of(event_id, user);
  if (mine) mine = resolve(*mine, now);
  if (!mine || !core::is_active(mine->state)) return make_error(Code::NotFound, "you are not on this waiting list");
  if (mine->state == WaitlistState::Offered) {
    // Declining: the seats go back, and the next pass offers them to the next entry.
    auto released = ledger_.release_hold(mine->hold_id, user, now);
    if (!released) {
      if (released.error().code == Code::CheckoutInProgress) return released.error();
      // Paid (or ended) since it was read: the entry follows its hold and stays what that makes it.
      mine = resolve(*mine, now);
      if (mine->state != WaitlistState::Offered) return view_of(event_id, mine, now);
      return released.error();
    }
  }
  if (!store_.end(mine->id, mine->state, WaitlistState::Left, now)) {
    const bool declined = mine->state == WaitlistState::Offered;
    const int64_t entry = mine->id;
    mine = store_.entry_of(event_id, user);  // changed meanwhile (paid, or the pass moved it): answer what it is
    // A pass that followed the offer between the release above and this found its hold released and
    // marked it LAPSED; it was this decline that ended it.
    if (declined && mine && mine->id == entry && mine->state == WaitlistState::Lapsed &&
        store_.end(entry, WaitlistState::Lapsed, WaitlistState::Left, now)) {
      mine->state = WaitlistState::Left;
      mine->ended_at = now;
    }
  } else {
    if (mine->state == WaitlistState::Waiting) note_waiting(event_id, mine->score, false);
    metrics_.count("waitlist", mine->state == WaitlistState::Offered ? "declined" : "left");
    mine->state = WaitlistState::Left;
    mine->ended_at = now;
  }
  refresh_gate(event_id, now);
  return view_of(event_id, mine, now);
}

core::Result<WaitlistView> Waitlist::stats(core::EventId event_id) {
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  const TimeMs now = clock_.now();
  auto v = view_of(event_id, std::nullopt, now);
  if (v) v->counts = store_.counts(event_id, now);  // every state: a count over the entries, for the organizer
  return v;
}

core::Result<WaitlistView> Waitlist::configure(core::EventId event_id, const WaitlistSettingsPatch& patch) {
  auto event = catalog_.event(event_id);
  if (!event) return event.error();
  core::WaitlistSettings s = store_.list(event_id).settings;
  if (patch.open) s.open = *patch.open;
  if (patch.enabled) s.enabled = *patch.enabled;
  if (patch.offer_ttl_s) s.offer_ttl_s = *patch.offer_ttl_s;
  if (patch.draw_window_s) s.draw_window_s = *patch.draw_window_s;
  const bool rule_changed = patch.resale_open_sale && *patch.resale_open_sale != s.resale_open_sale;
  if (patch.resale_open_sale) s.resale_open_sale = *patch.resale_open_sale;
  if (auto v = core::validate(s); !v) return v.error();
  if (auto v = store_.set_settings(event_id, s); !v) return v.error();
  if (rule_changed) ledger_.resale_rule_changed(event_id, s.resale_open_sale);
  const TimeMs now = clock_.now();
  refresh_gate(event_id, now);
  dirty_ = true;
  return view_of(event_id, std::nullopt, now);
}

core::Error Waitlist::open_sale_refused() {
  return make_error(Code::WaitlistFirst,
                    "this event is sold out and people are waiting for returned seats: join the waiting list");
}

core::Status Waitlist::admit_open_sale(core::EventId event) {
  const TimeMs now = clock_.now();
  std::optional<bool> cached;
  {
    std::lock_guard lock(gate_mu_);
    auto it = gates_.find(event);
    if (it != gates_.end() && (exact_gate_ || copy_fresh_for_blocking(now - it->second.checked_at, kGateRefreshAfter)))
      cached = it->second.gated;
  }
  const bool gated = cached ? *cached : refresh_gate(event, now);
  if (gated) return open_sale_refused();
  return core::ok_status();
}

std::optional<bool> Waitlist::gated_in_memory(core::EventId event) {
  const TimeMs now = clock_.now();
  std::lock_guard lock(gate_mu_);
  auto it = gates_.find(event);
  if (it == gates_.end()) return std::nullopt;
  if (exact_gate_) return it->second.gated;
  Gate& gate = it->second;
  const KeptCopy use = kept_copy(now - gate.checked_at, kGateRefreshAfter, kGateStaleMax, gate.refresh_sent);
  if (use != KeptCopy::use) return std::nullopt;
  return gate.gated;
}

bool Waitlist::refresh_gate(core::EventId event, TimeMs now) {
  const core::WaitlistRecord list = store_.list(event);
  const bool gated = list.settings.enabled && list.waiting > 0;
  std::lock_guard lock(gate_mu_);
  if (gates_.size() >= kGatesCachedMax && !gates_.contains(event)) gates_.clear();  // a bound, not an LRU
  gates_[event] = Gate{gated, now};
  return gated;
}

uint64_t Waitlist::position_of(const core::WaitlistEntry& entry, TimeMs now) {
  uint64_t changes_before = 0;
  {
    std::lock_guard lock(ranks_mu_);
    // Made before the read, so a change during it is counted and the read's result not kept.
    Ranks& r = ranks_[entry.event_id];
    if (r.loaded && (exact_gate_ || now - r.read_at <= kRanksStaleMax))
      return static_cast<uint64_t>(std::lower_bound(r.scores.begin(), r.scores.end(), entry.score) - r.scores.begin()) + 1;
    changes_before = r.changes;
  }
  // Read outside the lock: two readers of one event may both read; each answer is right.
  std::vector<uint64_t> scores = store_.waiting_scores(entry.event_id);
  // The entries ahead: those scored below this one (it may have joined after the read: then all of them).
  const uint64_t position =
      static_cast<uint64_t>(std::lower_bound(scores.begin(), scores.end(), entry.score) - scores.begin()) + 1;
  std::lock_guard lock(ranks_mu_);
  Ranks& r = ranks_[entry.event_id];
  if (r.changes != changes_before) return position;  // a local change raced the read: keep nothing
  if (ranked_scores_ - r.scores.size() + scores.size() > kRankedScoresMax) {  // a bound, not an LRU
    ranks_.clear();
    ranked_scores_ = 0;
    return position;
  }
  ranked_scores_ = ranked_scores_ - r.scores.size() + scores.size();
  r.scores = std::move(scores);
  r.read_at = now;
  r.loaded = true;
  return position;
}

std::pair<uint64_t, uint64_t> Waitlist::pace(core::EventId event, TimeMs now) {
  {
    std::lock_guard lock(ranks_mu_);
    auto it = paces_.find(event);
    if (it != paces_.end() && now - it->second.read_at <= kRanksStaleMax) return it->second.offers;
  }
  const auto offers = store_.offers_since(event, now - std::chrono::hours(1));
  std::lock_guard lock(ranks_mu_);
  if (paces_.size() >= kGatesCachedMax) paces_.clear();  // a bound, not an LRU
  paces_[event] = Pace{offers, now};
  return offers;
}

void Waitlist::note_waiting(core::EventId event, uint64_t score, bool came) {
  std::lock_guard lock(ranks_mu_);
  auto it = ranks_.find(event);
  if (it == ranks_.end()) return;  // nobody looked: nothing kept to follow
  Ranks& r = it->second;
  ++r.changes;
  if (!r.loaded) return;  // a read is under way: it will not be kept
  auto at = std::lower_bound(r.scores.begin(), r.scores.end(), score);
  if (came && (at == r.scores.end() || *at != score)) {
    r.scores.insert(at, score);  // a late join lands at the end: O(1)
    ++ranked_scores_;
  } else if (!came && at != r.scores.end() && *at == score) {
    r.scores.erase(at);
    --ranked_scores_;
  }
}

core::WaitlistEntry Waitlist::resolve(core::WaitlistEntry entry, TimeMs now) {
  if (entry.state != WaitlistState::Offered) return entry;
  auto hold = ledger_.find_hold(entry.hold_id, entry.user_id, now);
  WaitlistState next = WaitlistState::Offered;
  if (!hold) next = WaitlistState::Lapsed;
  else if (hold->state == core::HoldState::Converted) next = WaitlistState::Fulfilled;
  else if (hold->state == core::HoldState::Released || hold->state == core::HoldState::Expired) next = WaitlistState::Lapsed;
  if (next == WaitlistState::Offered) return entry;
  if (store_.end(entry.id, WaitlistState::Offered, next, now)) {
    metrics_.count("waitlist", next == WaitlistState::Fulfilled ? "fulfilled" : "lapsed");
    entry.state = next;
    entry.ended_at = now;
    return entry;
  }
  return store_.entry_of(entry.event_id, entry.user_id).value_or(entry);
}

core::Result<WaitlistView> Waitlist::view_of(core::EventId event, std::optional<core::WaitlistEntry> entry,
                                             TimeMs now) {
  WaitlistView v;
  v.list = store_.list(event);
  v.drawn = v.list.drawn(now);
  v.counts.waiting = v.list.waiting;
  v.counts.offered = v.list.offered;
  if (!entry) return v;
  WaitlistEntryView e;
  e.entry = *entry;
  if (entry->state == WaitlistState::Waiting) {
    e.draw_pending = entry->early() && !v.drawn;
    if (!e.draw_pending) {
      e.position = position_of(*entry, now);
      std::tie(v.counts.offers_last_hour, v.counts.seats_offered_last_hour) = pace(event, now);
      e.estimate_s = core::waitlist_estimate_s(e.position, v.counts.offers_last_hour);
    }
  } else if (entry->state == WaitlistState::Offered) {
    if (auto hold = ledger_.find_hold(entry->hold_id, entry->user_id, now)) e.offer = *hold;
  }
  v.entry = std::move(e);
  return v;
}

OfferPassReport Waitlist::offer_pass() {
  OfferPassReport report;
  const TimeMs now = clock_.now();
  const bool everything = dirty_.exchange(false);
  std::lock_guard lock(pass_mu_);
  std::unordered_set<core::EventId> seen;
  for (core::EventId after = 0;;) {
    const std::vector<core::EventId> events = store_.active_events(after, kEventsPerPage);
    for (core::EventId e : events) {
      seen.insert(e);
      PassMemory& memory = pass_[e];
      if (everything) memory.full_at = TimeMs{};
      pass_event(e, now, report);
    }
    if (events.size() < kEventsPerPage) break;
    after = events.back();
  }
  // Forget the events whose lists went quiet (the memory is a bound on work, not state).
  std::erase_if(pass_, [&](const auto& kv) { return !seen.contains(kv.first); });
  return report;
}

void Waitlist::pass_event(core::EventId event_id, TimeMs now, OfferPassReport& report) {
  ++report.events;
  auto event = catalog_.event(event_id);
  if (!event || event->cancelled() || now >= event->starts_at) return;
  auto venue = catalog_.venue(event->venue_id);
  if (!venue) return;
  const core::WaitlistRecord list = store_.list(event_id);
  // The seat map first: reading it ends the holds that lapsed, offers among them.
  auto map = ledger_.seat_map(*event, now);
  if (!map) return;
  PassMemory& memory = pass_[event_id];
  // Nothing moved on the event's seats and nothing joined: the last round's answer stands.
  if (map->version == memory.seat_version && now - memory.full_at < kFullPassEvery) return;
  memory.seat_version = map->version;
  memory.full_at = now;
  if (list.settings.enabled && !(list.opened && now < list.draw_at())) {  // before the draw, the order is not known
    std::vector<core::SeatId> free = free_seats(map->status);
    // Listed seats kept off open sale are the list's too (the map shows them sold).
    free.insert(free.end(), map->listed_for_offers.begin(), map->listed_for_offers.end());
    std::sort(free.begin(), free.end());
    if (!free.empty()) offer(*event, (*venue)->layout, list, free, now, report);
  }
  follow_offers(event_id, list, memory, now, report);
  refresh_gate(event_id, now);
}

// The entries follow their holds, after the round's offers and for a bounded time. Each check is a
// ledger read (distributed, often a call to the event's owner), and the seats need none of it (the
// seat map is the truth; the gate counts waiting entries only): it keeps the figures current, and must
// not hold back the next round's offers, even after a mass lapse. First the offers whose deadline
// passed (their holds lapsed or were paid), oldest first, then a few others in turn (paid or declined
// ones). Each part checks at least one offer a round, so both move on; what the time leaves is
// checked next round. A buyer's own look resolves their entry at once.
void Waitlist::follow_offers(core::EventId event_id, const core::WaitlistRecord& list, PassMemory& memory, TimeMs now,
                             OfferPassReport& report) {
  const TimeMs until = clock_.now() + kOfferChecksTimeMax;
  const TimeMs deadline_passed_before = now - std::chrono::seconds(list.settings.offer_ttl_s);
  const std::vector<core::WaitlistEntry> passed =
      store_.offered(event_id, {}, deadline_passed_before, core::limits::waitlist_offers_resolved_max);
  for (size_t i = 0; i < passed.size() && (i == 0 || clock_.now() < until); ++i)
    if (resolve(passed[i], now).state != WaitlistState::Offered) ++report.resolved;
  check_offers_in_turn(event_id, memory, now, until, report);
}

void Waitlist::check_offers_in_turn(core::EventId event_id, PassMemory& memory, TimeMs now, TimeMs until,
                                    OfferPassReport& report) {
  const std::vector<core::WaitlistEntry> turn =
      store_.offered(event_id, memory.offers_checked, now, core::limits::waitlist_offers_checked_per_pass);
  size_t checked = 0;
  while (checked < turn.size() && (checked == 0 || clock_.now() < until))
    if (resolve(turn[checked++], now).state != WaitlistState::Offered) ++report.resolved;
  memory.offers_checked = checked == turn.size() && turn.size() < core::limits::waitlist_offers_checked_per_pass
                              ? core::OfferCursor{}
                              : core::OfferCursor{turn[checked - 1].offered_at, turn[checked - 1].id};
}

void Waitlist::offer(const core::Event& event, const core::Layout& layout, const core::WaitlistRecord& list,
                     std::vector<core::SeatId>& free, TimeMs now, OfferPassReport& report) {
  uint64_t after = 0;
  for (uint32_t scanned = 0; !free.empty() && scanned < core::limits::waitlist_scan_max;) {
    const std::vector<core::WaitlistEntry> page = store_.waiting(event.id, after, kPageSize);
    if (page.empty()) break;
    offer_page(event, layout, list, page, free, now, report);
    scanned += static_cast<uint32_t>(page.size());
    after = page.back().score;
    if (page.size() < kPageSize) break;
  }
}

// A page of the list, in its order. Each entry's seats are chosen first, then the page's holds are
// placed in one call (one commit; distributed, one call to the owner) rather than one after another,
// and the offers recorded in the list's order. A hold refused because a seat was taken since the map
// was read (or is the buyer's own listing) ends that: the holds placed for the entries after it are
// released, and from that entry on the page is offered one entry at a time, so nobody is passed over.
void Waitlist::offer_page(const core::Event& event, const core::Layout& layout, const core::WaitlistRecord& list,
                          const std::vector<core::WaitlistEntry>& page, std::vector<core::SeatId>& free, TimeMs now,
                          OfferPassReport& report) {
  static_assert(kPageSize <= core::limits::holds_per_call_max);
  std::vector<size_t> planned;  // indexes into page
  std::vector<core::HoldRequest> requests;
  std::vector<core::SeatId> left = free;
  for (size_t i = 0; i < page.size() && !left.empty(); ++i) {
    auto seats = core::seats_for(layout, want_of(page[i]), left);
    if (!seats) continue;  // not enough for this entry: it keeps its place for a later round
    remove_seats(left, *seats);
    planned.push_back(i);
    requests.push_back(offer_request(page[i], *seats, list.settings));
  }
  if (requests.empty()) return;
  const std::vector<core::Result<core::Hold>> holds = ledger_.hold_seats_each(event, layout, requests, now);
  for (size_t k = 0; k < planned.size(); ++k) {
    const core::Result<core::Hold>& hold = holds[k];
    if (hold || hold.error().code != Code::SeatUnavailable || hold.error().seats.empty()) {
      settle_offer(event.id, page[planned[k]], hold, free, now, report);
      continue;
    }
    for (size_t later = k + 1; later < planned.size(); ++later)
      if (holds[later]) (void)ledger_.release_hold(holds[later]->id, holds[later]->user_id, now);
    for (size_t i = planned[k]; i < page.size() && !free.empty(); ++i)
      offer_one(event, layout, list, page[i], free, now, report);
    return;
  }
}

void Waitlist::offer_one(const core::Event& event, const core::Layout& layout, const core::WaitlistRecord& list,
                         const core::WaitlistEntry& entry, std::vector<core::SeatId>& free, TimeMs now,
                         OfferPassReport& report) {
  auto seats = core::seats_for(layout, want_of(entry), free);
  if (!seats) return;
  core::HoldRequest request = offer_request(entry, *seats, list.settings);
  auto hold = ledger_.hold_seats(event, layout, request, now);
  if (!hold && hold.error().code == Code::SeatUnavailable && !hold.error().seats.empty()) {
    // Taken since the map was read, or listed for resale by this very buyer (a seat is never offered
    // to its own seller): once more, without them. The others may still be offered these seats.
    std::vector<core::SeatId> others = free;
    remove_seats(others, hold.error().seats);
    seats = core::seats_for(layout, want_of(entry), others);
    if (!seats) return;
    request.seats = *seats;
    hold = ledger_.hold_seats(event, layout, request, now);
  }
  settle_offer(event.id, entry, hold, free, now, report);
}

void Waitlist::settle_offer(core::EventId event, const core::WaitlistEntry& entry, const core::Result<core::Hold>& hold,
                            std::vector<core::SeatId>& free, TimeMs now, OfferPassReport& report) {
  if (!hold) {
    if (hold.error().code == Code::TicketLimitExceeded) {
      // Their allowance is used up (they bought meanwhile): an offer could never be paid.
      if (store_.end(entry.id, WaitlistState::Waiting, WaitlistState::Skipped, now)) {
        note_waiting(event, entry.score, false);
        metrics_.count("waitlist", "skipped");
      }
    }
    return;  // anything else: the entry keeps its place for a later round
  }
  if (!store_.mark_offered(entry, hold->id, now)) {
    (void)ledger_.release_hold(hold->id, entry.user_id, now);  // they left meanwhile
    return;
  }
  note_waiting(event, entry.score, false);
  {
    std::lock_guard lock(ranks_mu_);
    paces_.erase(event);  // the pace changed: this node's estimates follow at once
  }
  remove_seats(free, hold->seats);
  ++report.offers;
  metrics_.count("waitlist", "offered");
}

}  // namespace ticketd::app
