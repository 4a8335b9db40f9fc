#include "core/inventory.hpp"

#include <algorithm>

#include "core/limits.hpp"

namespace ticketd::core {

EventInventory::EventInventory(InventoryRules rules) : rules_(rules), claim_(rules.seats_total, 0) {
  TICKETD_ASSERT(rules.seats_total > 0);
  TICKETD_ASSERT(rules.tickets_per_user_max > 0);
}

bool EventInventory::restore_hold(const Hold& hold) {
  TICKETD_ASSERT(hold.state == HoldState::Active);
  TICKETD_ASSERT(!holds_.contains(hold.id));
  for (SeatId s : hold.seats)
    if (s >= rules_.seats_total || !takeable(s, hold.user_id, /*offer=*/true)) return false;
  for (SeatId s : hold.seats) claim_[s] = hold_claim(hold.id);
  Live& live = holds_[hold.id];
  live.hold = hold;
  held_seats_ += static_cast<uint32_t>(hold.seats.size());
  add_tickets(hold.user_id, static_cast<int64_t>(hold.seats.size()));
  schedule(live);
  return true;
}

void EventInventory::restore_sale(BookingId booking, UserId user, const std::vector<SeatId>& seats) {
  TICKETD_ASSERT(!sales_.contains(booking));
  for (SeatId s : seats) {
    TICKETD_ASSERT(s < rules_.seats_total && claim_[s] == 0);
    claim_[s] = sale_claim(booking);
  }
  sales_[booking] = Sale{user, seats};
  sold_seats_ += static_cast<uint32_t>(seats.size());
  add_tickets(user, static_cast<int64_t>(seats.size()));
}

bool EventInventory::restore_listing(BookingId booking, SeatId seat) {
  auto it = sales_.find(booking);
  if (it == sales_.end() || listed_.contains(seat)) return false;
  const auto& seats = it->second.seats;
  if (std::find(seats.begin(), seats.end(), seat) == seats.end()) return false;
  listed_[seat] = booking;
  return true;
}

bool EventInventory::takeable(SeatId seat, UserId user, bool offer) const {
  const uint64_t c = claim_[seat];
  if (c == 0) return true;
  auto l = listed_.find(seat);
  return l != listed_.end() && c == sale_claim(l->second) && sales_.at(l->second).user != user &&
         (offer || rules_.resale_on_open_sale);
}

bool EventInventory::is_free(SeatId seat) const {
  const uint64_t c = claim_[seat];
  if (c == 0) return true;
  auto l = listed_.find(seat);
  return l != listed_.end() && c == sale_claim(l->second) && rules_.resale_on_open_sale;
}

bool EventInventory::listed_unheld(SeatId seat) const { return claim_[seat] == sale_claim(listed_.at(seat)); }

uint32_t EventInventory::listed_held() const {
  uint32_t n = 0;
  for (const auto& [seat, booking] : listed_) n += !listed_unheld(seat);
  return n;
}

std::vector<SeatId> EventInventory::listed_unheld() const {
  std::vector<SeatId> out;
  for (const auto& [seat, booking] : listed_)
    if (listed_unheld(seat)) out.push_back(seat);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<SeatId> EventInventory::set_resale_on_open_sale(bool on) {
  if (rules_.resale_on_open_sale == on) return {};
  rules_.resale_on_open_sale = on;
  return listed_unheld();
}

void EventInventory::unlist(SeatId seat) {
  auto l = listed_.find(seat);
  if (l == listed_.end()) {
    claim_[seat] = 0;
    return;
  }
  // Held by a buyer: the hold keeps the seat, which is simply free once it ends.
  if (claim_[seat] == sale_claim(l->second)) claim_[seat] = 0;
  listed_.erase(l);
}

TimeMs EventInventory::deadline_of(const Live& live) const {
  return live.hold.state == HoldState::Pinned ? live.pinned_until : live.hold.expires_at;
}

void EventInventory::schedule(const Live& live) {
  deadlines_.emplace(to_unix_ms(deadline_of(live)), live.hold.id);
}

void EventInventory::add_tickets(UserId user, int64_t delta) {
  auto& n = tickets_[user];
  TICKETD_ASSERT(static_cast<int64_t>(n) + delta >= 0);
  n = static_cast<uint32_t>(static_cast<int64_t>(n) + delta);
  if (n == 0) tickets_.erase(user);
}

std::vector<Hold> EventInventory::advance(TimeMs now) {
  if (now < last_now_) now = last_now_;
  last_now_ = now;
  std::vector<Hold> expired;
  while (!deadlines_.empty() && deadlines_.top().first <= to_unix_ms(now)) {
    const auto [deadline_ms, id] = deadlines_.top();
    deadlines_.pop();
    auto it = holds_.find(id);
    if (it == holds_.end()) continue;  // finished earlier; its heap entry is stale
    // A hold re-scheduled (pinned, unpinned) has several entries: act only on the one that is due.
    if (to_unix_ms(deadline_of(it->second)) > to_unix_ms(now)) continue;
    expired.push_back(finish(id, HoldState::Expired));
  }
  return expired;
}

Hold EventInventory::finish(HoldId id, HoldState state) {
  auto it = holds_.find(id);
  TICKETD_ASSERT(it != holds_.end());
  Hold hold = std::move(it->second.hold);
  holds_.erase(it);
  for (SeatId s : hold.seats) {
    TICKETD_ASSERT(claim_[s] == hold_claim(id));
    auto l = listed_.find(s);
    claim_[s] = l == listed_.end() ? 0 : sale_claim(l->second);  // back to its listing
  }
  held_seats_ -= static_cast<uint32_t>(hold.seats.size());
  add_tickets(hold.user_id, -static_cast<int64_t>(hold.seats.size()));
  hold.state = state;
  return hold;
}

Status check_sale_window(TimeMs on_sale_at, TimeMs starts_at, TimeMs now) {
  if (now < on_sale_at || now >= starts_at) return make_error(Code::SaleNotOpen, "this event is not on sale now");
  return ok_status();
}

Status check_hold_request(TimeMs on_sale_at, TimeMs starts_at, uint32_t seats_total, const std::vector<SeatId>& seats,
                          TimeMs now) {
  if (auto s = check_sale_window(on_sale_at, starts_at, now); !s) return s;
  if (seats.empty() || seats.size() > limits::seats_per_hold_max)
    return make_error(Code::InvalidRequest, "seat_ids: 1-100 seats required");
  std::vector<SeatId> sorted = seats;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    return make_error(Code::InvalidRequest, "seat_ids: duplicate seat id");
  if (sorted.back() >= seats_total)
    return make_error(Code::InvalidSeat, "seat " + std::to_string(sorted.back()) + " is not in this venue");
  return ok_status();
}

Status EventInventory::holdable(UserId user, const std::vector<SeatId>& seats, TimeMs now, bool offer) const {
  if (auto s = check_hold_request(rules_.on_sale_at, rules_.starts_at, rules_.seats_total, seats, now); !s) return s;
  std::vector<SeatId> sorted = seats;
  std::sort(sorted.begin(), sorted.end());
  std::vector<SeatId> taken;
  for (SeatId s : sorted)
    if (!takeable(s, user, offer)) taken.push_back(s);
  if (!taken.empty()) {
    Error e = make_error(Code::SeatUnavailable, "some seats are already taken");
    e.seats = std::move(taken);
    return e;
  }
  if (tickets_of(user) + seats.size() > rules_.tickets_per_user_max)
    return make_error(Code::TicketLimitExceeded, "at most " + std::to_string(rules_.tickets_per_user_max) +
                                                     " tickets per user for this event");
  return ok_status();
}

Result<Hold> EventInventory::hold(HoldId id, UserId user, std::vector<SeatId> seats, TimeMs now, Millis ttl,
                                  bool offer) {
  TICKETD_ASSERT(id > 0 && !holds_.contains(id));
  TICKETD_ASSERT(ttl.count() > 0);
  advance(now);
  if (auto s = holdable(user, seats, now, offer); !s) return s.error();
  for (SeatId s : seats) claim_[s] = hold_claim(id);
  Live& live = holds_[id];
  // Stamped at the latest time this event has seen (advance), not the caller's: a caller whose clock
  // read is older than another's lapse of these seats must not date its hold before that lapse (the
  // durable stores refuse such a claim).
  const TimeMs stamped = last_now_;
  live.hold = Hold{id, rules_.event_id, user, std::move(seats), stamped, stamped + ttl, HoldState::Active, 0};
  held_seats_ += static_cast<uint32_t>(live.hold.seats.size());
  add_tickets(user, static_cast<int64_t>(live.hold.seats.size()));
  schedule(live);
  return live.hold;
}

Result<Hold> EventInventory::release(HoldId id, UserId user, TimeMs now) {
  advance(now);
  auto it = holds_.find(id);
  if (it == holds_.end() || it->second.hold.user_id != user) return make_error(Code::NotFound, "no such hold");
  if (it->second.hold.state == HoldState::Pinned)
    return make_error(Code::CheckoutInProgress, "a checkout of this hold is in progress");
  return finish(id, HoldState::Released);
}

Result<Hold> EventInventory::pin(HoldId id, UserId user, TimeMs now, Millis pin_max) {
  advance(now);
  auto it = holds_.find(id);
  if (it == holds_.end() || it->second.hold.user_id != user) return make_error(Code::NotFound, "no such hold");
  Live& live = it->second;
  if (live.hold.state == HoldState::Pinned)
    return make_error(Code::CheckoutInProgress, "a checkout of this hold is in progress");
  live.hold.state = HoldState::Pinned;
  live.pinned_until = std::max(live.hold.expires_at, last_now_) + pin_max;  // last_now_: as in hold()
  schedule(live);
  return live.hold;
}

void EventInventory::unpin(HoldId id, TimeMs now) {
  auto it = holds_.find(id);
  if (it != holds_.end() && it->second.hold.state == HoldState::Pinned) {
    it->second.hold.state = HoldState::Active;
    schedule(it->second);  // its old deadline may have passed: advance() expires it now
  }
  advance(now);
}

Result<Hold> EventInventory::release_pinned(HoldId id, TimeMs now) {
  advance(now);
  auto it = holds_.find(id);
  if (it == holds_.end()) return make_error(Code::HoldExpired, "the hold expired during checkout");
  TICKETD_ASSERT(it->second.hold.state == HoldState::Pinned);
  return finish(id, HoldState::Released);
}

void EventInventory::extend_pin(HoldId id, TimeMs until) {
  auto it = holds_.find(id);
  if (it == holds_.end() || it->second.hold.state != HoldState::Pinned) return;
  if (until <= it->second.pinned_until) return;
  it->second.pinned_until = until;
  schedule(it->second);
}

Status EventInventory::sell_direct(BookingId booking, UserId user, const std::vector<SeatId>& seats, TimeMs now) {
  TICKETD_ASSERT(booking > 0 && !sales_.contains(booking) && !seats.empty());
  advance(now);
  std::vector<SeatId> taken;
  for (SeatId s : seats) {
    TICKETD_ASSERT(s < rules_.seats_total);
    if (claim_[s] != 0) taken.push_back(s);
  }
  if (!taken.empty()) {
    Error e = make_error(Code::SeatUnavailable, "the seats were taken after the hold lapsed");
    e.seats = std::move(taken);
    return e;
  }
  for (SeatId s : seats) claim_[s] = sale_claim(booking);
  sales_[booking] = Sale{user, seats};
  sold_seats_ += static_cast<uint32_t>(seats.size());
  add_tickets(user, static_cast<int64_t>(seats.size()));
  return ok_status();
}

Result<Hold> EventInventory::convert(HoldId id, BookingId booking, TimeMs now, std::vector<Resold>* resold) {
  TICKETD_ASSERT(booking > 0 && !sales_.contains(booking));
  advance(now);
  auto it = holds_.find(id);
  if (it == holds_.end()) return make_error(Code::HoldExpired, "the hold expired during checkout");
  const UserId user = it->second.hold.user_id;
  Hold hold = finish(id, HoldState::Converted);
  hold.booking_id = booking;
  std::vector<SeatId> seats = hold.seats;
  std::sort(seats.begin(), seats.end());
  for (SeatId s : seats) {
    auto l = listed_.find(s);
    if (l == listed_.end()) continue;
    // Bought from a listing: the seat leaves its seller's sale.
    const BookingId seller_booking = l->second;
    Sale& sale = sales_.at(seller_booking);
    const UserId seller = sale.user;
    sale.seats.erase(std::find(sale.seats.begin(), sale.seats.end(), s));
    if (sale.seats.empty()) sales_.erase(seller_booking);
    listed_.erase(l);
    claim_[s] = 0;
    --sold_seats_;
    add_tickets(seller, -1);
    if (resold) {
      auto r = std::find_if(resold->begin(), resold->end(),
                            [&](const Resold& x) { return x.seller_booking == seller_booking; });
      if (r == resold->end()) r = resold->insert(resold->end(), Resold{seller_booking, seller, {}});
      r->seats.push_back(s);
    }
  }
  for (SeatId s : hold.seats) claim_[s] = sale_claim(booking);
  sales_[booking] = Sale{user, hold.seats};
  sold_seats_ += static_cast<uint32_t>(hold.seats.size());
  add_tickets(user, static_cast<int64_t>(hold.seats.size()));
  return hold;
}

Status EventInventory::cancel_sale(BookingId booking) {
  auto it = sales_.find(booking);
  if (it == sales_.end()) return make_error(Code::NotFound, "no such sale");
  for (SeatId s : it->second.seats) {
    TICKETD_ASSERT(claim_[s] == sale_claim(booking) || listed_.contains(s));
    unlist(s);
  }
  sold_seats_ -= static_cast<uint32_t>(it->second.seats.size());
  add_tickets(it->second.user, -static_cast<int64_t>(it->second.seats.size()));
  sales_.erase(it);
  return ok_status();
}

Status EventInventory::cancel_seats(BookingId booking, const std::vector<SeatId>& seats) {
  auto it = sales_.find(booking);
  if (it == sales_.end()) return make_error(Code::NotFound, "no such sale");
  std::vector<SeatId>& sold = it->second.seats;
  if (seats.empty() || seats.size() >= sold.size())
    return make_error(Code::InvalidRequest, "seat_ids: some of the booking's seats, not none or all");
  std::vector<SeatId> distinct = seats;
  std::sort(distinct.begin(), distinct.end());
  if (std::adjacent_find(distinct.begin(), distinct.end()) != distinct.end())
    return make_error(Code::InvalidRequest, "seat_ids: a seat is named twice");
  for (SeatId s : seats)
    if (std::find(sold.begin(), sold.end(), s) == sold.end())
      return make_error(Code::InvalidSeat, "seat_ids: seat " + std::to_string(s) + " is not this booking's");
  for (SeatId s : seats) {
    TICKETD_ASSERT(claim_[s] == sale_claim(booking) || listed_.contains(s));
    unlist(s);
    sold.erase(std::find(sold.begin(), sold.end(), s));
  }
  sold_seats_ -= static_cast<uint32_t>(seats.size());
  add_tickets(it->second.user, -static_cast<int64_t>(seats.size()));
  return ok_status();
}

Status EventInventory::list_seat(BookingId booking, SeatId seat) {
  auto it = sales_.find(booking);
  if (it == sales_.end()) return make_error(Code::NotFound, "no such sale");
  const auto& seats = it->second.seats;
  if (std::find(seats.begin(), seats.end(), seat) == seats.end())
    return make_error(Code::InvalidSeat, "seat " + std::to_string(seat) + " is not this booking's");
  listed_.emplace(seat, booking);  // listed already: stays as it is
  return ok_status();
}

Status EventInventory::withdraw_seat(BookingId booking, SeatId seat) {
  auto l = listed_.find(seat);
  if (l == listed_.end() || l->second != booking)
    return make_error(Code::InvalidSeat, "seat " + std::to_string(seat) + " is not listed by this booking");
  if (claim_[seat] != sale_claim(booking))
    return make_error(Code::ResaleInProgress, "a buyer holds this seat now; the listing ends or sells with that hold");
  listed_.erase(l);
  return ok_status();
}

std::optional<Hold> EventInventory::find_hold(HoldId id) const {
  auto it = holds_.find(id);
  if (it == holds_.end()) return std::nullopt;
  return it->second.hold;
}

std::vector<Hold> EventInventory::live_holds_of(UserId user) const {
  std::vector<Hold> out;
  for (const auto& [id, live] : holds_)
    if (live.hold.user_id == user) out.push_back(live.hold);
  return out;
}

SeatStatus EventInventory::status(SeatId seat) const {
  TICKETD_ASSERT(seat < rules_.seats_total);
  if (is_free(seat)) return SeatStatus::Available;
  return (claim_[seat] & 1) ? SeatStatus::Sold : SeatStatus::Held;
}

SeatCounts EventInventory::counts() const {
  // A listed seat is counted held while a buyer holds it; otherwise it is on sale again (its seller's until
  // bought), or, kept off open sale, still sold.
  const uint32_t held_listed = listed_held();
  const auto shown_free = rules_.resale_on_open_sale ? static_cast<uint32_t>(listed_.size()) : held_listed;
  return SeatCounts{rules_.seats_total - held_seats_ - sold_seats_ + shown_free, held_seats_, sold_seats_ - shown_free};
}

Stock EventInventory::stock(TimeMs expiring_before) const {
  Stock out;
  const uint32_t held_listed = listed_held();
  const auto listed = rules_.resale_on_open_sale ? static_cast<uint32_t>(listed_.size()) : held_listed;
  out.available = rules_.seats_total - held_seats_ - sold_seats_ + listed;
  for (const auto& [id, live] : holds_)
    if (live.hold.state == HoldState::Active && live.hold.expires_at < expiring_before)
      out.expiring += static_cast<uint32_t>(live.hold.seats.size());
  out.basket_seats = uint64_t{held_seats_} + sold_seats_ - listed;
  out.baskets = holds_.size() + sales_.size();
  TICKETD_ASSERT(out.expiring <= held_seats_);
  return out;
}

std::string EventInventory::status_chars() const {
  std::string out(rules_.seats_total, 'A');
  for (size_t s = 0; s < claim_.size(); ++s)
    if (claim_[s] != 0) out[s] = (claim_[s] & 1) ? 'S' : 'H';
  if (rules_.resale_on_open_sale)
    for (const auto& [seat, booking] : listed_)
      if (claim_[seat] == sale_claim(booking)) out[seat] = 'A';
  return out;
}

uint32_t EventInventory::tickets_of(UserId user) const {
  auto it = tickets_.find(user);
  return it == tickets_.end() ? 0 : it->second;
}

void EventInventory::check_invariants() const {
  uint64_t held = 0, sold = 0;
  std::unordered_map<UserId, uint32_t> tickets;
  for (const auto& [id, live] : holds_) {
    TICKETD_ASSERT(live.hold.id == id);
    TICKETD_ASSERT(live.hold.state == HoldState::Active || live.hold.state == HoldState::Pinned);
    TICKETD_ASSERT(to_unix_ms(deadline_of(live)) > to_unix_ms(last_now_) || last_now_ == TimeMs{});
    for (SeatId s : live.hold.seats) TICKETD_ASSERT(claim_[s] == hold_claim(id));
    held += live.hold.seats.size();
    tickets[live.hold.user_id] += static_cast<uint32_t>(live.hold.seats.size());
  }
  uint64_t listed_held = 0;
  for (const auto& [s, booking] : listed_) {
    auto sale = sales_.find(booking);
    TICKETD_ASSERT(sale != sales_.end());
    TICKETD_ASSERT(std::find(sale->second.seats.begin(), sale->second.seats.end(), s) != sale->second.seats.end());
    const uint64_t c = claim_[s];
    TICKETD_ASSERT(c == sale_claim(booking) || (c != 0 && (c & 1) == 0 && holds_.contains(static_cast<HoldId>(c >> 1))));
    listed_held += (c != sale_claim(booking));
  }
  for (const auto& [id, sale] : sales_) {
    TICKETD_ASSERT(!sale.seats.empty());
    for (SeatId s : sale.seats) TICKETD_ASSERT(claim_[s] == sale_claim(id) || listed_.contains(s));
    sold += sale.seats.size();
    tickets[sale.user] += static_cast<uint32_t>(sale.seats.size());
  }
  uint64_t claimed = 0;
  for (uint64_t c : claim_) claimed += (c != 0);
  // With the loops above: no seat has two owners (a listed seat a buyer holds is its seller's too).
  TICKETD_ASSERT(claimed == held + sold - listed_held);
  TICKETD_ASSERT(held == held_seats_ && sold == sold_seats_);
  TICKETD_ASSERT(tickets == tickets_);
  uint32_t free = 0;
  for (SeatId s = 0; s < rules_.seats_total; ++s) free += is_free(s);
  TICKETD_ASSERT(free == counts().available);
}

}  // namespace ticketd::core
