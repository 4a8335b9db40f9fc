// EventInventory: the seat state machine of one event. It decides every hold, release, expiry,
// sale and cancellation, and it is the only place that does.
//
// Thread safety: none. The owner serialises all calls for one event (one mutex per event in the
// embedded ledger), so holds of different events never contend.
//
// Time: every mutating call and every query takes `now`; advance(now) first expires the holds whose
// deadline has passed, so a lapsed hold is never reported HELD and its seats can be taken at once,
// whether or not any sweeper has run (lazy expiry).
//
// Invariants (checked by check_invariants(), used by the simulation test after every step):
//  1. claim_[s] names at most one live hold or one sale; a live hold's seats all name it.
//  2. held_seats_ == sum of live holds' seats; sold_seats_ == number of sold claims.
//  3. tickets_[u] == seats of u's live holds + seats of u's sales <= tickets_per_user_max,
//     except where restore_*() loaded more (a limit lowered after the fact is never enforced backwards).
//  4. No live hold has a deadline <= the last `now` seen by advance().
//  5. A listed seat (resale) belongs to its seller's sale; its claim is that sale's, or a buyer's live
//     hold's while one holds it. The sale keeps the seat until that hold is converted.
//  6. counts().available == the number of seats is_free() accepts (best-available trusts it to answer
//     a sold-out event without looking at a seat).
#pragma once

#include <functional>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "core/types.hpp"

namespace ticketd::core {

struct InventoryRules {
  EventId event_id = 0;
  uint32_t seats_total = 0;
  uint32_t tickets_per_user_max = 8;
  TimeMs on_sale_at{};
  TimeMs starts_at{};
  // Whether seats listed for resale are on open sale; off (an organizer's choice, docs/resale.md): only
  // waiting-list offers take them, and until then they show as sold.
  bool resale_on_open_sale = true;
};

// The checks of a hold that need no seat state, in the order every ledger applies them: the sale window,
// then (for explicit seats) the seat list: 1-100 seats, no repeats, each in the venue. A ledger runs them
// before anything else (the per-user cap, the seats), so every ledger refuses a bad request alike;
// EventInventory::hold() runs them too. Errors: SaleNotOpen, InvalidRequest, InvalidSeat.
Status check_sale_window(TimeMs on_sale_at, TimeMs starts_at, TimeMs now);
Status check_hold_request(TimeMs on_sale_at, TimeMs starts_at, uint32_t seats_total, const std::vector<SeatId>& seats,
                          TimeMs now);

class EventInventory {
 public:
  explicit EventInventory(InventoryRules rules);

  // Recovery from durable state. REQUIRES: called before any other mutation, with consistent input.
  // restore_hold() refuses (returns false) a hold any of whose seats is already claimed.
  bool restore_hold(const Hold& hold);
  void restore_sale(BookingId booking, UserId user, const std::vector<SeatId>& seats);
  // After the sales, before the holds. False (nothing restored) unless the seat is the booking's.
  bool restore_listing(BookingId booking, SeatId seat);

  // Expires every live hold whose deadline is <= now and returns them (state Expired).
  // Time never goes backwards: a `now` earlier than the last one is treated as the last one, here and in
  // the times the decisions below stamp (a hold made at an older `now` is dated at the last one).
  std::vector<Hold> advance(TimeMs now);

  // All-or-nothing hold of explicit seats. Errors: SaleNotOpen, InvalidRequest (empty, too many,
  // duplicates), InvalidSeat, SeatUnavailable (with the taken seats), TicketLimitExceeded.
  // `offer`: a waiting-list offer, which may take listed seats kept off open sale.
  Result<Hold> hold(HoldId id, UserId user, std::vector<SeatId> seats, TimeMs now, Millis ttl, bool offer = false);
  // The answer hold() would give these seats now, without holding them: its refusal, or ok. REQUIRES
  // advance(now) under the same lock. Lets a caller refuse before work a hold needs only if it is placed.
  Status holdable(UserId user, const std::vector<SeatId>& seats, TimeMs now, bool offer = false) const;

  // Releases a live hold. Expired or released already: returns it unchanged. NotFound for another
  // user's hold or an unknown one; CheckoutInProgress while pinned.
  Result<Hold> release(HoldId id, UserId user, TimeMs now);

  // Starts a checkout: the hold stops expiring until max(expires_at, now) + pin_max.
  // Errors: NotFound, HoldExpired, CheckoutInProgress.
  Result<Hold> pin(HoldId id, UserId user, TimeMs now, Millis pin_max);
  // The charge could not be made (gateway unreachable): the hold is live again with its old deadline.
  void unpin(HoldId id, TimeMs now);
  // The charge was declined: the seats are free at once.
  Result<Hold> release_pinned(HoldId id, TimeMs now);
  // The payment awaits the buyer (3-D Secure): keep the pin until `until` (never shortens it).
  void extend_pin(HoldId id, TimeMs until);
  // The charge succeeded: the seats are sold to `booking`. HoldExpired if the hold lapsed meanwhile.
  // Seats the hold took from resale listings leave their sellers' sales, and are named in `resold`
  // (one entry per seller's booking, seats ascending).
  struct Resold {
    BookingId seller_booking = 0;
    UserId seller = 0;
    std::vector<SeatId> seats;
  };
  Result<Hold> convert(HoldId id, BookingId booking, TimeMs now, std::vector<Resold>* resold = nullptr);
  // A payment that succeeded after its hold lapsed: sells exactly these seats if all are still free
  // (SeatUnavailable otherwise). The ticket limit was checked when they were held.
  Status sell_direct(BookingId booking, UserId user, const std::vector<SeatId>& seats, TimeMs now);
  // A confirmed booking is cancelled: its seats are free again. NotFound if not sold here.
  Status cancel_sale(BookingId booking);
  // Some seats of a confirmed booking are refunded: those seats are free again, the sale keeps the
  // rest. NotFound if not sold here; InvalidSeat if a seat is not the booking's; InvalidRequest for
  // none or all of them (all is cancel_sale).
  Status cancel_seats(BookingId booking, const std::vector<SeatId>& seats);
  // Face-value resale (docs/resale.md). A listed seat is on offer like a free one: a hold may take it
  // (not its seller's), and while held it is still the seller's; the hold's end gives it back to the
  // listing, its conversion sells it to the buyer. A sale cancelled or refunded ends its listings.
  // list_seat: NotFound (no such sale), InvalidSeat (not the booking's); listing it again is a no-op.
  Status list_seat(BookingId booking, SeatId seat);
  // InvalidSeat: not listed by the booking; ResaleInProgress: a buyer holds it now.
  Status withdraw_seat(BookingId booking, SeatId seat);
  bool is_listed(SeatId seat) const { return listed_.contains(seat); }
  size_t listed_seats() const { return listed_.size(); }
  // Listed seats no hold has now, ascending: while they are kept off open sale, the waiting list's offer
  // pass is told of them here (the map shows them sold).
  std::vector<SeatId> listed_unheld() const;
  // The organizer's rule changed; returns the listed seats whose status (as shown) changed with it.
  std::vector<SeatId> set_resale_on_open_sale(bool on);

  // Queries. REQUIRES: advance(now) was called under the same lock (the ledger does so on every call).
  std::optional<Hold> find_hold(HoldId id) const;
  // Whether an open-sale hold could take the seat now: free, or listed for resale, not held, and on open
  // sale (its seller, whom hold() refuses, aside).
  bool is_free(SeatId seat) const;
  SeatStatus status(SeatId seat) const;
  SeatCounts counts() const;
  // For the waiting room: available seats, seats of unpinned holds lapsing before `expiring_before`,
  // and the seats and number of live holds and sales (the average basket). O(live holds).
  Stock stock(TimeMs expiring_before) const;
  std::string status_chars() const;  // one of "AHS" per seat (a listed seat not held is "A")
  uint32_t tickets_of(UserId user) const;
  const InventoryRules& rules() const { return rules_; }
  // The event moved (a postponement): sales follow the new on-sale and start times from now on.
  void set_dates(TimeMs on_sale_at, TimeMs starts_at) {
    rules_.on_sale_at = on_sale_at;
    rules_.starts_at = starts_at;
  }
  size_t live_holds() const { return holds_.size(); }
  std::vector<Hold> live_holds_of(UserId user) const;

  // Re-derives every counter from scratch and asserts invariants 1-6. O(seats + holds).
  void check_invariants() const;

 private:
  struct Live {
    Hold hold;
    TimeMs pinned_until{};  // meaningful while hold.state == Pinned
  };
  struct Sale {
    UserId user;
    std::vector<SeatId> seats;
  };
  using Deadline = std::pair<int64_t, HoldId>;

  static uint64_t hold_claim(HoldId id) { return static_cast<uint64_t>(id) << 1; }
  static uint64_t sale_claim(BookingId id) { return (static_cast<uint64_t>(id) << 1) | 1; }
  TimeMs deadline_of(const Live& live) const;
  void schedule(const Live& live);
  Hold finish(HoldId id, HoldState state);  // removes a live hold, frees its seats, returns it
  bool takeable(SeatId seat, UserId user, bool offer) const;
  bool listed_unheld(SeatId seat) const;  // REQUIRES: listed
  uint32_t listed_held() const;
  // A seat leaves a sale (cancelled, refunded or resold): its listing ends; a buyer's hold on it stays.
  void unlist(SeatId seat);
  void add_tickets(UserId user, int64_t delta);

  InventoryRules rules_;
  std::vector<uint64_t> claim_;  // per seat: 0 free, hold_claim(id), or sale_claim(id)
  std::unordered_map<HoldId, Live> holds_;  // live holds only (Active or Pinned)
  std::unordered_map<BookingId, Sale> sales_;
  std::unordered_map<SeatId, BookingId> listed_;  // resale: seat -> the seller's booking
  std::unordered_map<UserId, uint32_t> tickets_;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  uint32_t held_seats_ = 0;
  uint32_t sold_seats_ = 0;
  TimeMs last_now_{};
};

}  // namespace ticketd::core
