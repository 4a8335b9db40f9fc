// The seat ledger of a node in a distributed deployment (docs/architecture.md, "Event ownership"):
// every seat decision of an event is made by the node that owns the event (store/postgres/
// event_owners.hpp), in its seat engine's memory. This ledger sends each call to that node:
//   - an event this node owns, or one nobody owns live (its engine loads it, taking the lease): here;
//   - an event another node owns: forwarded to it (POST /internal/v1/ledger/{call}, cluster/
//     ledger_wire.hpp, over the bounded keep-alive PeerClient), and its answer returned as it is;
//   - an owner whose address refuses connections (its process is gone): its lease is taken over at
//     once rather than when it lapses; the epoch fence makes that safe even if it was only paused.
// A call is forwarded at most twice (the owner may have changed while it travelled); a node that
// answers on behalf of another never forwards again, so there are no loops. Reads that need no seat
// state (bookings, tickets, checkouts, refunds) are the rows every node reads alike; the maps shown to
// people (seat_map_shown) of events owned elsewhere are copies kept by the change feed.
//
// Who owns what is asked of PostgreSQL once per event and remembered for kOwnerRemembered; an owner
// that moved is found by the forwarded call's refusal (Unavailable with the owner's address) and
// remembered anew.
//
// Holds and releases are also sent without blocking (try_hold_seats_async, try_release_hold_async) when
// the owner is remembered: they travel in batches to each owner (forward_batches.hpp) on the peer
// client's own thread, which hands each answer to the caller's completion, so no worker waits on the
// owner. A call the owner would have had to block for is sent again alone. It follows an owner that
// names another as route() does; what route() would judge by asking PostgreSQL (a refused connection,
// no answer) is answered Unavailable with the owner forgotten, so the buyer's next try takes the
// blocking way, which asks and takes a dead owner's events over.
//
// Thread safety: any method from any thread, as the engine's.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/metrics.hpp"
#include "cluster/forward_batches.hpp"
#include "cluster/ledger_wire.hpp"
#include "cluster/peer_client.hpp"
#include "cluster/seat_map_replicas.hpp"
#include "core/ports/ledger.hpp"
#include "store/engine/seat_engine.hpp"
#include "store/postgres/event_owners.hpp"
#include "store/postgres/seat_journal.hpp"

namespace ticketd::cluster {

class OwnerRouter final : public core::Ledger {
 public:
  static constexpr std::chrono::milliseconds kOwnerRemembered{1'000};
  // From this age on, the owner is asked again by the next call that may block; one forwarded hold or
  // release is sent to make it (base/refresh_ahead.hpp), the others keep going to the remembered owner.
  static constexpr std::chrono::milliseconds kOwnerRefreshAfter{750};
  static constexpr size_t kOwnersRememberedMax = 100'000;
  static constexpr size_t kLearntMax = 200'000;  // holds (~30 MB at most) and bookings (~10 MB)

  // REQUIRES: all of these outlive the router; `replicas` and `metrics` may be null (no replicas: every
  // map of an event owned elsewhere is asked of its owner).
  OwnerRouter(store::engine::SeatEngine& engine, store::postgres::PgSeatJournal& journal,
              store::postgres::EventOwners& owners, PeerClient& peers, SeatMapReplicas* replicas, Metrics* metrics);
  // Stops the peer client's asynchronous calls: their completions call into this router.
  ~OwnerRouter() override;
  OwnerRouter(const OwnerRouter&) = delete;
  OwnerRouter& operator=(const OwnerRouter&) = delete;

  core::Result<core::Hold> hold_seats(const core::Event& event, const core::Layout& layout,
                                      const core::HoldRequest& request, TimeMs now) override;
  bool holds_without_blocking() const override { return true; }
  // Decided by the owner together: one forwarded call when it is another node.
  std::vector<core::Result<core::Hold>> hold_seats_each(const core::Event& event, const core::Layout& layout,
                                                        const std::vector<core::HoldRequest>& requests,
                                                        TimeMs now) override;
  bool try_hold_seats_async(const core::Event& event, std::shared_ptr<const core::Layout> layout,
                            const core::HoldRequest& request, TimeMs now, const HoldDone& done) override;
  core::Result<core::Hold> find_hold(core::HoldId id, core::UserId user, TimeMs now) override;
  // From the answer this node learnt when the hold was taken through it (or looked at), when it has
  // one: a checkout then asks the owner twice (begin, settle), not three times.
  core::Result<core::Hold> hold_as_taken(core::HoldId id, core::UserId user, TimeMs now) override;
  core::Result<core::Hold> release_hold(core::HoldId id, core::UserId user, TimeMs now) override;
  bool try_release_hold_async(core::HoldId id, core::UserId user, TimeMs now, const HoldDone& done) override;
  std::optional<core::CheckoutRecord> find_checkout(core::UserId user, const std::string& key) override {
    return engine_.find_checkout(user, key);
  }
  core::Result<core::CheckoutRecord> begin_checkout(core::HoldId id, core::UserId user,
                                                    const core::CheckoutStart& start, TimeMs now) override;
  core::Result<core::Settlement> settle_payment(core::BookingId booking, const core::PaymentOutcome& outcome,
                                                TimeMs now) override;
  // A checkout's steps without blocking: decided by this node's engine for an event it owns, sent to a
  // remembered owner otherwise (as a forwarded hold is); false when the event or its owner is not known
  // here without a read, and whenever the engine says so.
  bool checkouts_without_blocking() const override { return true; }
  std::optional<core::Hold> hold_as_taken_in_memory(core::HoldId id, core::UserId user) override;
  bool try_begin_checkout_async(core::HoldId id, core::UserId user, const core::CheckoutStart& start, TimeMs now,
                                const CheckoutDone& done) override;
  bool try_settle_payment_async(core::BookingId booking, const core::PaymentOutcome& outcome, TimeMs now,
                                const SettleDone& done) override;
  std::vector<std::optional<core::CheckoutRecord>> find_checkouts(const std::vector<core::CheckoutKey>& keys) override {
    return engine_.find_checkouts(keys);
  }
  core::Status record_refund(core::BookingId booking, const std::string& ref) override {
    return engine_.record_refund(booking, ref);
  }
  bool payment_event_seen(const std::string& id) override { return engine_.payment_event_seen(id); }
  core::Status record_payment_event(const std::string& id, const std::string& type, TimeMs now) override {
    return engine_.record_payment_event(id, type, now);
  }
  std::vector<core::CheckoutRecord> payments_to_reconcile(TimeMs older_than, core::PaymentId after,
                                                          uint32_t limit) override {
    return engine_.payments_to_reconcile(older_than, after, limit);
  }
  core::Result<core::Booking> find_booking(core::BookingId id, core::UserId user) override {
    return engine_.find_booking(id, user);
  }
  std::optional<core::Booking> booking_by_id(core::BookingId id) override { return engine_.booking_by_id(id); }
  std::optional<core::BookingId> booking_by_payment_ref(const std::string& ref) override {
    return engine_.booking_by_payment_ref(ref);
  }
  std::vector<core::Booking> list_bookings(core::UserId user, uint32_t limit, core::BookingId before,
                                           bool include_failed) override {
    return engine_.list_bookings(user, limit, before, include_failed);
  }
  core::Result<core::Booking> cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                             TimeMs now) override;
  core::Status change_listing(const core::Booking& seller, const core::ResaleChange& change, TimeMs now) override;
  void resale_rule_changed(core::EventId event, bool on_open_sale) override;
  core::Result<core::Booking> refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                           const std::string& refund_ref, TimeMs now) override;
  std::optional<core::SeatRefundRecord> find_seat_refund(int64_t id) override { return engine_.find_seat_refund(id); }
  int64_t seat_refunds_total(core::BookingId booking) override { return engine_.seat_refunds_total(booking); }
  std::vector<core::Ticket> tickets_of_booking(core::BookingId booking) override {
    return engine_.tickets_of_booking(booking);
  }
  std::optional<core::Ticket> find_ticket(const std::string& id) override { return engine_.find_ticket(id); }
  core::Result<core::SeatMap> seat_map(const core::Event& event, TimeMs now) override;
  // An event owned elsewhere: the copy `replicas` keeps from the change feed, or the owner's map (kept).
  core::Result<core::SeatMap> seat_map_shown(const core::Event& event, TimeMs now) override;
  std::optional<uint64_t> seat_map_version(const core::Event& event, TimeMs now) override;
  std::optional<core::SeatCounts> seat_counts_in_memory(const core::Event& event, TimeMs now) override;
  core::Result<core::Stock> stock(const core::Event& event, TimeMs now, TimeMs expiring_before) override;
  size_t sweep_expired(TimeMs now) override { return engine_.sweep_expired(now); }
  void event_dates_changed(const core::Event& event) override;

 private:
  // Where an event's calls go: here (nullopt), or the live owner.
  std::optional<store::postgres::Ownership> owner_elsewhere(core::EventId event);
  // The owner remembered for an event, without asking PostgreSQL: nullopt when none is, or no longer.
  // A caller that must not block is also answered nullopt when it is the one sent to ask again.
  enum class Caller { may_block, must_not_block };
  std::optional<store::postgres::Ownership> remembered_owner(core::EventId event, Caller caller);
  // A hold or release (`call`, whose answer is a Hold) on its way to an owner without blocking.
  struct HoldForward {
    core::EventId event = 0;
    Call call = Call::hold;
    std::string body;
    HoldDone done;
  };
  void forward_hold_async(std::shared_ptr<const HoldForward> forward, const store::postgres::Ownership& owner,
                          int forwards);
  // The same call alone, not in a batch: the owner did not decide it in one.
  void forward_alone_async(std::shared_ptr<const HoldForward> forward, const store::postgres::Ownership& owner,
                           int forwards);
  // A call (`call`, `body` its arguments) sent to `owner` without blocking; `done` hears its answer as
  // `decode` reads it, after following an owner that names another, or Unavailable when none came; with
  // the node that answered.
  template <typename T>
  using ForwardDone = std::function<void(core::Result<T>, const store::postgres::Ownership& answered_by)>;
  template <typename T>
  void forward_async(core::EventId event, Call call, std::string body, const store::postgres::Ownership& owner,
                     int forwards, core::Result<T> (*decode)(std::string_view), ForwardDone<T> done);
  // The node a checkout forwarded without blocking began at, for its settlement (taken once).
  void remember_checkout_owner(core::BookingId booking, const store::postgres::Ownership& owner);
  std::optional<store::postgres::Ownership> checkout_owner(core::BookingId booking);
  // What the owner's answer to a forwarded hold or release means: it stands, or names the owner to send
  // it to next. `failed`: the answer that was not one (no answer, or not HTTP 200).
  void forwarded_hold_answered(const std::shared_ptr<const HoldForward>& forward, int forwards,
                               core::Result<core::Hold> hold);
  void forwarded_hold_failed(const HoldForward& forward, const PeerAnswer& failed);
  // owner_elsewhere(), or Unavailable when PostgreSQL cannot say.
  core::Result<std::optional<store::postgres::Ownership>> find_owner(core::EventId event);
  void remember(const store::postgres::Ownership& owner);
  // How long a call forwarded to `owner` may wait: until shortly after its lease would lapse, after
  // which the event can be taken over here; no longer than the peer client's own timeout.
  static std::optional<std::chrono::milliseconds> forward_timeout(const store::postgres::Ownership& owner);
  void forget(core::EventId event);
  // Where a call goes next: the owner a refusal names (another node took the event), or nullopt when the
  // answer stands (not such a refusal, or the call has followed owners kForwardsMax times already).
  std::optional<store::postgres::Ownership> next_owner(core::EventId event, const core::Error* refusal, int forwards);
  // Runs `local` here or `call` at the owner, as the class comment says. `decode` reads the owner's answer.
  template <typename T>
  core::Result<T> route(core::EventId event, Call call, const CallArgs& args, const std::function<core::Result<T>()>& local,
                        core::Result<T> (*decode)(std::string_view));
  void tell_owner(core::EventId event, Call call, const CallArgs& args);
  // The event of a hold: from memory when it is one of the user's live holds here or one this node
  // learnt of, else from its row.
  std::optional<core::EventId> event_of_hold(core::HoldId id, core::UserId user);
  // Which event a hold or a booking belongs to never changes: learnt from the answers (the owner's,
  // when it is another node), so that the calls that follow (the buyer's look at the hold, the
  // checkout, its settlement) find where to go without a read of PostgreSQL. Bounded by kLearntMax each.
  void learn(const core::Result<core::Hold>& hold);
  void learn(const core::Result<core::CheckoutRecord>& checkout);
  std::optional<core::EventId> learnt_booking_event(core::BookingId booking);
  // A hold of `user`'s learnt here, as it was answered; its event alone (0 when none is learnt).
  std::optional<core::Hold> learnt_hold(core::HoldId id, core::UserId user);
  core::EventId learnt_hold_event(core::HoldId id, core::UserId user);
  void count(std::string_view what) {
    if (metrics_) metrics_->count("ledger_calls", what);
  }

  store::engine::SeatEngine& engine_;
  store::postgres::PgSeatJournal& journal_;
  store::postgres::EventOwners& owners_;
  PeerClient& peers_;
  ForwardBatches batches_;
  SeatMapReplicas* const replicas_;
  Metrics* const metrics_;
  struct Remembered {
    store::postgres::Ownership owner;
    std::chrono::steady_clock::time_point remembered_at;
    std::chrono::steady_clock::time_point lease_until;  // when the owner's lease lapses unless renewed
    bool refresh_sent = false;                          // a caller that must not block was sent to ask again
  };
  std::mutex mu_;  // guards remembered_
  std::unordered_map<core::EventId, Remembered> remembered_;
  std::mutex learnt_mu_;  // guards learnt_holds_, learnt_bookings_ and checkout_owners_
  std::unordered_map<core::HoldId, core::Hold> learnt_holds_;
  std::unordered_map<core::BookingId, core::EventId> learnt_bookings_;
  // Bounded by kLearntMax; an entry lives from a forwarded begin's answer to its settlement, moments later.
  std::unordered_map<core::BookingId, store::postgres::Ownership> checkout_owners_;
};

}  // namespace ticketd::cluster
