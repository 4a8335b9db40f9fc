// Sends each seat call to the owner of its event (owner_router.hpp).
#include "cluster/owner_router.hpp"

#include <spdlog/spdlog.h>

#include <exception>

#include "base/refresh_ahead.hpp"

namespace ticketd::cluster {

using core::Code;
using core::make_error;
using store::postgres::owner_named_by;
using store::postgres::Ownership;

namespace {

constexpr int kForwardsMax = 2;

// A forwarded call waits this long past the owner's lease: a live owner renews it every second, so only
// a paused or partitioned one lets it lapse, and then the event is taken over here instead.
constexpr std::chrono::milliseconds kForwardPastLease{500};

}  // namespace

OwnerRouter::OwnerRouter(store::engine::SeatEngine& engine, store::postgres::PgSeatJournal& journal,
                         store::postgres::EventOwners& owners, PeerClient& peers, SeatMapReplicas* replicas,
                         Metrics* metrics)
    : engine_(engine),
      journal_(journal),
      owners_(owners),
      peers_(peers),
      batches_(peers, metrics),
      replicas_(replicas),
      metrics_(metrics) {}

OwnerRouter::~OwnerRouter() {
  peers_.stop_async();
}

std::optional<Ownership> OwnerRouter::remembered_owner(core::EventId event, Caller caller) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto it = remembered_.find(event);
  if (it == remembered_.end()) return std::nullopt;
  const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.remembered_at);
  if (age >= kOwnerRemembered) {
    remembered_.erase(it);
    return std::nullopt;
  }
  if (caller == Caller::may_block
          ? !copy_fresh_for_blocking(age, kOwnerRefreshAfter)
          : kept_copy(age, kOwnerRefreshAfter, kOwnerRemembered, it->second.refresh_sent) != KeptCopy::use)
    return std::nullopt;
  Ownership o = it->second.owner;
  o.lease_left = std::max(std::chrono::milliseconds(0),
                          std::chrono::duration_cast<std::chrono::milliseconds>(it->second.lease_until - now));
  return o;
}

std::optional<Ownership> OwnerRouter::owner_elsewhere(core::EventId event) {
  if (journal_.owns(event)) return std::nullopt;
  if (std::optional<Ownership> o = remembered_owner(event, Caller::may_block)) return o;
  std::optional<Ownership> o = owners_.owner_of(event);  // throws when PostgreSQL is unreachable
  if (!o || !o->live || o->owner == owners_.node()) return std::nullopt;
  remember(*o);
  return o;
}

core::Result<std::optional<Ownership>> OwnerRouter::find_owner(core::EventId event) {
  try {
    return owner_elsewhere(event);
  } catch (const std::exception& e) {  // PostgreSQL unreachable: nobody can tell, the caller answers 503
    return make_error(Code::Unavailable, std::string("who owns this event is unknown: ") + e.what());
  }
}

void OwnerRouter::remember(const Ownership& owner) {
  std::lock_guard lock(mu_);
  if (remembered_.size() >= kOwnersRememberedMax) remembered_.clear();  // a few reads again, no growth
  const auto now = std::chrono::steady_clock::now();
  remembered_[owner.event_id] = Remembered{owner, now, now + owner.lease_left};
}

void OwnerRouter::forget(core::EventId event) {
  std::lock_guard lock(mu_);
  remembered_.erase(event);
}

template <typename T>
core::Result<T> OwnerRouter::route(core::EventId event, Call call, const CallArgs& args,
                                   const std::function<core::Result<T>()>& local,
                                   core::Result<T> (*decode)(std::string_view)) {
  auto found = find_owner(event);
  if (!found) return found.error();
  std::optional<Ownership> owner = std::move(*found);
  for (int forwards = 0;; ++forwards) {
    if (!owner) {
      core::Result<T> r = local();
      // Another node may have taken the event between the look-up and the load: then it answers.
      owner = next_owner(event, r ? nullptr : &r.error(), forwards);
      if (!owner) {
        count("local");
        return r;
      }
      continue;
    }
    const PeerAnswer answer =
        peers_.post(owner->address, call_path(call), encode_args(call, args), forward_timeout(*owner));
    if (answer.kind == PeerAnswer::Kind::refused && !owner->owner.empty() && forwards < kForwardsMax) {
      // Nothing listens where the owner said it would: its process is gone. Take the event now (the
      // new epoch fences the old owner off, should it be only paused) rather than when its lease lapses.
      forget(event);
      bool taken = false;
      try {
        taken = owners_.take_from(*owner);
      } catch (const std::exception& e) {
        return make_error(Code::Unavailable, std::string("taking over this event failed: ") + e.what());
      }
      spdlog::warn("event {}: owner {} at {} refused the connection; {} it over", event, owner->owner,
                   owner->address, taken ? "taking" : "another node took");
      count("taken_over");
      owner.reset();
      if (!taken) {
        auto now_owner = find_owner(event);
        if (!now_owner) return now_owner.error();
        owner = std::move(*now_owner);
      }
      continue;
    }
    if (answer.kind == PeerAnswer::Kind::failed && owner->lease_left.count() > 0 && forwards < kForwardsMax) {
      // No answer by the end of the owner's lease: it is paused or cut off (a live owner renews every
      // second). Ask PostgreSQL again: a lapsed lease is taken here (its epoch fences the old owner off;
      // what it committed before is loaded, and a retried checkout finds its record by its key).
      forget(event);
      auto now_owner = find_owner(event);
      if (!now_owner) return now_owner.error();
      if (!*now_owner || (*now_owner)->epoch != owner->epoch || (*now_owner)->owner != owner->owner) {
        spdlog::warn("event {}: owner {} at {} did not answer within its lease; asking who owns it now", event,
                     owner->owner, owner->address);
        owner = std::move(*now_owner);
        continue;
      }
    }
    if (answer.kind != PeerAnswer::Kind::answered) {
      forget(event);
      count("forward_failed");
      return make_error(Code::Unavailable, "the node deciding this event's seats did not answer: " + answer.error);
    }
    if (answer.status != 200) {
      count("forward_failed");
      return make_error(Code::Unavailable, "the node deciding this event's seats answered HTTP " +
                                               std::to_string(answer.status));
    }
    core::Result<T> r = decode(answer.body);
    // The node asked may no longer own the event, and name the one that does.
    owner = next_owner(event, r ? nullptr : &r.error(), forwards);
    if (!owner) {
      count("forwarded");
      return r;
    }
  }
}

std::optional<std::chrono::milliseconds> OwnerRouter::forward_timeout(const Ownership& owner) {
  if (owner.lease_left.count() <= 0) return std::nullopt;  // not known (an owner a refusal named)
  return owner.lease_left + kForwardPastLease;
}

std::optional<Ownership> OwnerRouter::next_owner(core::EventId event, const core::Error* refusal, int forwards) {
  std::optional<std::string> address = refusal ? owner_named_by(*refusal) : std::nullopt;
  if (!address || forwards == kForwardsMax) return std::nullopt;
  forget(event);
  return Ownership{event, "", *address, 0};
}

void OwnerRouter::learn(const core::Result<core::Hold>& hold) {
  if (!hold) return;
  std::lock_guard lock(learnt_mu_);
  if (learnt_holds_.size() >= kLearntMax) learnt_holds_.clear();  // a few reads again, no growth
  learnt_holds_.insert_or_assign(hold->id, *hold);
}

void OwnerRouter::learn(const core::Result<core::CheckoutRecord>& checkout) {
  if (!checkout) return;
  std::lock_guard lock(learnt_mu_);
  if (learnt_bookings_.size() >= kLearntMax) learnt_bookings_.clear();
  learnt_bookings_[checkout->booking_id] = checkout->event_id;
}

std::optional<core::EventId> OwnerRouter::learnt_booking_event(core::BookingId booking) {
  std::lock_guard lock(learnt_mu_);
  auto it = learnt_bookings_.find(booking);
  if (it == learnt_bookings_.end()) return std::nullopt;
  return it->second;
}

std::optional<core::Hold> OwnerRouter::learnt_hold(core::HoldId id, core::UserId user) {
  std::lock_guard lock(learnt_mu_);
  auto it = learnt_holds_.find(id);
  if (it == learnt_holds_.end() || it->second.user_id != user) return std::nullopt;
  return it->second;
}

core::EventId OwnerRouter::learnt_hold_event(core::HoldId id, core::UserId user) {
  std::lock_guard lock(learnt_mu_);
  auto it = learnt_holds_.find(id);
  return it != learnt_holds_.end() && it->second.user_id == user ? it->second.event_id : 0;
}

std::optional<core::EventId> OwnerRouter::event_of_hold(core::HoldId id, core::UserId user) {
  if (const core::EventId listed = engine_.listed_hold_event(user, id)) return listed;
  if (const core::EventId learnt = learnt_hold_event(id, user)) return learnt;
  std::optional<core::Hold> stored = journal_.hold(id);
  if (!stored || stored->user_id != user) return std::nullopt;
  return stored->event_id;
}

core::Result<core::Hold> OwnerRouter::hold_seats(const core::Event& event, const core::Layout& layout,
                                                 const core::HoldRequest& request, TimeMs now) {
  CallArgs args;
  args.event_id = event.id;
  args.user_id = request.user_id;
  args.hold = request;
  core::Result<core::Hold> hold = route<core::Hold>(
      event.id, Call::hold, args, [&] { return engine_.hold_seats(event, layout, request, now); }, decode_hold);
  learn(hold);
  return hold;
}

std::vector<core::Result<core::Hold>> OwnerRouter::hold_seats_each(const core::Event& event,
                                                                   const core::Layout& layout,
                                                                   const std::vector<core::HoldRequest>& requests,
                                                                   TimeMs now) {
  CallArgs args;
  args.event_id = event.id;
  args.holds = requests;
  auto answers = route<HoldAnswers>(
      event.id, Call::hold_each, args,
      [&] { return owner_refusal_or(engine_.hold_seats_each(event, layout, requests, now)); }, decode_holds);
  if (!answers) return HoldAnswers(requests.size(), answers.error());
  for (const core::Result<core::Hold>& hold : *answers) learn(hold);
  return std::move(*answers);
}

bool OwnerRouter::try_hold_seats_async(const core::Event& event, std::shared_ptr<const core::Layout> layout,
                                       const core::HoldRequest& request, TimeMs now, const HoldDone& done) {
  // What this node owns and has in memory is decided here; what a remembered owner decides is sent to
  // it; the rest (seats not loaded, an owner to ask PostgreSQL for) goes to a worker.
  if (journal_.owns(event.id)) {
    if (!engine_.try_hold_seats_async(event, std::move(layout), request, now, done)) return false;
    count("local");
    return true;
  }
  std::optional<Ownership> owner = remembered_owner(event.id, Caller::must_not_block);
  if (!owner) return false;
  CallArgs args;
  args.event_id = event.id;
  args.user_id = request.user_id;
  args.hold = request;
  forward_hold_async(
      std::make_shared<const HoldForward>(HoldForward{event.id, Call::hold, encode_args(Call::hold, args), done}),
      *owner, 0);
  return true;
}

// The answers come on the peer client's thread: quick, and never blocking (see the class comment).
void OwnerRouter::forward_hold_async(std::shared_ptr<const HoldForward> forward, const Ownership& owner, int forwards) {
  batches_.send(owner.address, forward_timeout(owner), forward->call, forward->body,
                [this, forward, owner, forwards](ForwardBatches::Answer answer) {
                  switch (answer.kind) {
                    case ForwardBatches::Answer::Kind::decided:
                      return forwarded_hold_answered(forward, forwards, std::move(*answer.hold));
                    case ForwardBatches::Answer::Kind::alone:
                      return forward_alone_async(forward, owner, forwards);
                    case ForwardBatches::Answer::Kind::failed:
                      return forwarded_hold_failed(*forward, answer.batch);
                  }
                });
}

void OwnerRouter::forward_alone_async(std::shared_ptr<const HoldForward> forward, const Ownership& owner,
                                      int forwards) {
  count("forwarded_alone");
  peers_.post_async(owner.address, call_path(forward->call), forward->body, forward_timeout(owner),
                    [this, forward, forwards](PeerAnswer answer) {
                      if (answer.kind != PeerAnswer::Kind::answered || answer.status != 200)
                        return forwarded_hold_failed(*forward, answer);
                      forwarded_hold_answered(forward, forwards, decode_hold(answer.body));
                    });
}

void OwnerRouter::forwarded_hold_answered(const std::shared_ptr<const HoldForward>& forward, int forwards,
                                          core::Result<core::Hold> hold) {
  // The node asked may no longer own the event, and name the one that does.
  if (std::optional<Ownership> next = next_owner(forward->event, hold ? nullptr : &hold.error(), forwards))
    return forward_hold_async(forward, *next, forwards + 1);
  learn(hold);
  count("forwarded");
  forward->done(std::move(hold));
}

void OwnerRouter::forwarded_hold_failed(const HoldForward& forward, const PeerAnswer& failed) {
  count("forward_failed");
  if (failed.kind != PeerAnswer::Kind::answered) {
    forget(forward.event);  // the next call asks PostgreSQL, on a worker, and may take the event over
    return forward.done(
        make_error(Code::Unavailable, "the node deciding this event's seats did not answer: " + failed.error));
  }
  forward.done(make_error(Code::Unavailable,
                          "the node deciding this event's seats answered HTTP " + std::to_string(failed.status)));
}

core::Result<core::Hold> OwnerRouter::find_hold(core::HoldId id, core::UserId user, TimeMs now) {
  const std::optional<core::EventId> event = event_of_hold(id, user);
  if (!event) return make_error(Code::NotFound, "no such hold");
  CallArgs args;
  args.hold_id = id;
  args.user_id = user;
  core::Result<core::Hold> hold = route<core::Hold>(
      *event, Call::find_hold, args, [&] { return engine_.find_hold(id, user, now); }, decode_hold);
  learn(hold);
  return hold;
}

core::Result<core::Hold> OwnerRouter::hold_as_taken(core::HoldId id, core::UserId user, TimeMs now) {
  if (std::optional<core::Hold> learnt = learnt_hold(id, user)) return std::move(*learnt);
  return find_hold(id, user, now);
}

core::Result<core::Hold> OwnerRouter::release_hold(core::HoldId id, core::UserId user, TimeMs now) {
  const std::optional<core::EventId> event = event_of_hold(id, user);
  if (!event) return make_error(Code::NotFound, "no such hold");
  CallArgs args;
  args.hold_id = id;
  args.user_id = user;
  return route<core::Hold>(
      *event, Call::release, args, [&] { return engine_.release_hold(id, user, now); }, decode_hold);
}

bool OwnerRouter::try_release_hold_async(core::HoldId id, core::UserId user, TimeMs now, const HoldDone& done) {
  if (const core::EventId event = engine_.listed_hold_event(user, id); event != 0 && journal_.owns(event)) {
    if (!engine_.try_release_hold_async(id, user, now, done)) return false;
    count("local");
    return true;
  }
  // A hold this node sent to its owner: the release follows it there.
  const core::EventId event = learnt_hold_event(id, user);
  if (event == 0 || journal_.owns(event)) return false;
  std::optional<Ownership> owner = remembered_owner(event, Caller::must_not_block);
  if (!owner) return false;
  CallArgs args;
  args.hold_id = id;
  args.user_id = user;
  forward_hold_async(
      std::make_shared<const HoldForward>(HoldForward{event, Call::release, encode_args(Call::release, args), done}),
      *owner, 0);
  return true;
}

core::Result<core::CheckoutRecord> OwnerRouter::begin_checkout(core::HoldId id, core::UserId user,
                                                               const core::CheckoutStart& start, TimeMs now) {
  const std::optional<core::EventId> event = event_of_hold(id, user);
  if (!event) return make_error(Code::NotFound, "no such hold");
  CallArgs args;
  args.hold_id = id;
  args.user_id = user;
  args.checkout = start;
  core::Result<core::CheckoutRecord> record = route<core::CheckoutRecord>(
      *event, Call::checkout, args, [&] { return engine_.begin_checkout(id, user, start, now); }, decode_checkout);
  learn(record);
  return record;
}

core::Result<core::Settlement> OwnerRouter::settle_payment(core::BookingId booking, const core::PaymentOutcome& outcome,
                                                           TimeMs now) {
  std::optional<core::EventId> event = learnt_booking_event(booking);
  if (!event) {
    std::optional<core::Booking> stored = engine_.booking_by_id(booking);
    if (!stored) return make_error(Code::NotFound, "no such booking");
    event = stored->event_id;
  }
  CallArgs args;
  args.booking_id = booking;
  args.outcome = outcome;
  return route<core::Settlement>(
      *event, Call::settle, args, [&] { return engine_.settle_payment(booking, outcome, now); }, decode_settlement);
}

std::optional<core::Hold> OwnerRouter::hold_as_taken_in_memory(core::HoldId id, core::UserId user) {
  if (std::optional<core::Hold> learnt = learnt_hold(id, user)) return learnt;
  return engine_.hold_as_taken_in_memory(id, user);
}

bool OwnerRouter::try_begin_checkout_async(core::HoldId id, core::UserId user, const core::CheckoutStart& start,
                                           TimeMs now, const CheckoutDone& done) {
  core::EventId event = learnt_hold_event(id, user);
  if (event == 0) event = engine_.listed_hold_event(user, id);
  if (event == 0) return false;
  auto learning = [this, done](core::Result<core::CheckoutRecord> record) {
    learn(record);
    done(std::move(record));
  };
  if (journal_.owns(event)) {
    if (!engine_.try_begin_checkout_async(id, user, start, now, learning)) return false;
    count("local");
    return true;
  }
  std::optional<Ownership> owner = remembered_owner(event, Caller::must_not_block);
  if (!owner) return false;
  CallArgs args;
  args.hold_id = id;
  args.user_id = user;
  args.checkout = start;
  forward_async<core::CheckoutRecord>(
      event, Call::checkout, encode_args(Call::checkout, args), *owner, 0, decode_checkout,
      [this, learning](core::Result<core::CheckoutRecord> record, const Ownership& answered_by) {
        // Its settlement follows at once: to the node that began it, however long ago its owner was asked.
        if (record) remember_checkout_owner(record->booking_id, answered_by);
        learning(std::move(record));
      });
  return true;
}

bool OwnerRouter::try_settle_payment_async(core::BookingId booking, const core::PaymentOutcome& outcome, TimeMs now,
                                           const SettleDone& done) {
  const std::optional<core::EventId> event = learnt_booking_event(booking);
  if (!event) return false;
  if (journal_.owns(*event)) {
    if (!engine_.try_settle_payment_async(booking, outcome, now, done)) return false;
    count("local");
    return true;
  }
  std::optional<Ownership> owner = checkout_owner(booking);
  if (!owner) owner = remembered_owner(*event, Caller::must_not_block);
  if (!owner) return false;
  CallArgs args;
  args.booking_id = booking;
  args.outcome = outcome;
  forward_async<core::Settlement>(
      *event, Call::settle, encode_args(Call::settle, args), *owner, 0, decode_settlement,
      [done](core::Result<core::Settlement> settled, const Ownership&) { done(std::move(settled)); });
  return true;
}

void OwnerRouter::remember_checkout_owner(core::BookingId booking, const Ownership& owner) {
  std::lock_guard lock(learnt_mu_);
  if (checkout_owners_.size() >= kLearntMax) checkout_owners_.clear();
  checkout_owners_.insert_or_assign(booking, owner);
}

std::optional<Ownership> OwnerRouter::checkout_owner(core::BookingId booking) {
  std::lock_guard lock(learnt_mu_);
  auto it = checkout_owners_.find(booking);
  if (it == checkout_owners_.end()) return std::nullopt;
  Ownership o = std::move(it->second);
  checkout_owners_.erase(it);
  return o;
}

// The answers come on the peer client's thread, as a forwarded hold's (see the class comment). A call
// that got no answer may or may not have been decided there: the caller answers Unavailable, and the
// buyer's retry with the same Idempotency-Key finds out which (app/sales.hpp).
template <typename T>
void OwnerRouter::forward_async(core::EventId event, Call call, std::string body, const Ownership& owner, int forwards,
                                core::Result<T> (*decode)(std::string_view), ForwardDone<T> done) {
  const std::string& path = call_path(call);
  const std::optional<std::chrono::milliseconds> timeout = forward_timeout(owner);
  peers_.post_async(
      owner.address, path, body, timeout,
      [this, event, call, body, owner, forwards, decode, done = std::move(done)](PeerAnswer answer) {
        if (answer.kind != PeerAnswer::Kind::answered || answer.status != 200) {
          count("forward_failed");
          if (answer.kind != PeerAnswer::Kind::answered) forget(event);  // asked again next time
          return done(make_error(Code::Unavailable, "the node deciding this event's seats did not answer"), owner);
        }
        core::Result<T> result = decode(answer.body);
        // The node asked may no longer own the event, and name the one that does.
        if (std::optional<Ownership> next = next_owner(event, result ? nullptr : &result.error(), forwards))
          return forward_async<T>(event, call, body, *next, forwards + 1, decode, done);
        count("forwarded");
        done(std::move(result), owner);
      });
}

core::Result<core::Booking> OwnerRouter::cancel_booking(const core::Booking& booking, const std::string& refund_ref,
                                                        TimeMs now) {
  CallArgs args;
  args.booking_id = booking.id;
  args.refund_ref = refund_ref;
  return route<core::Booking>(
      booking.event_id, Call::cancel, args, [&] { return engine_.cancel_booking(booking, refund_ref, now); },
      decode_booking);
}

core::Result<core::Booking> OwnerRouter::refund_seats(const core::Booking& booking, const core::SeatRefund& refund,
                                                      const std::string& refund_ref, TimeMs now) {
  CallArgs args;
  args.booking_id = booking.id;
  args.refund_ref = refund_ref;
  args.refund = refund;
  return route<core::Booking>(
      booking.event_id, Call::refund_seats, args,
      [&] { return engine_.refund_seats(booking, refund, refund_ref, now); }, decode_booking);
}

core::Status OwnerRouter::change_listing(const core::Booking& seller, const core::ResaleChange& change, TimeMs now) {
  CallArgs args;
  args.booking_id = seller.id;
  args.listing = change;
  return route<core::Ok>(
      seller.event_id, Call::listing, args, [&] { return engine_.change_listing(seller, change, now); },
      decode_status);
}

core::Result<core::SeatMap> OwnerRouter::seat_map(const core::Event& event, TimeMs now) {
  CallArgs args;
  args.event_id = event.id;
  return route<core::SeatMap>(
      event.id, Call::seat_map, args, [&] { return engine_.seat_map(event, now); }, decode_seat_map);
}

core::Result<core::SeatMap> OwnerRouter::seat_map_shown(const core::Event& event, TimeMs now) {
  if (!replicas_ || journal_.owns(event.id)) return seat_map(event, now);
  const auto steady_now = std::chrono::steady_clock::now();
  if (std::optional<core::SeatMap> kept = replicas_->find(event.id, steady_now)) {
    count("replica");
    return std::move(*kept);
  }
  replicas_->watch(event.id, steady_now);  // before asking: the changes made meanwhile are kept for the copy
  core::Result<core::SeatMap> map = seat_map(event, now);
  // Answered here (nobody owned the event live, and this node took it): its engine answers from now on.
  if (map && !journal_.owns(event.id)) replicas_->install(event.id, *map, std::chrono::steady_clock::now());
  return map;
}

std::optional<uint64_t> OwnerRouter::seat_map_version(const core::Event& event, TimeMs now) {
  if (journal_.owns(event.id)) return engine_.seat_map_version(event, now);
  if (!replicas_) return std::nullopt;  // seat_map_shown() asks the owner
  return replicas_->version(event.id, std::chrono::steady_clock::now());
}

std::optional<core::SeatCounts> OwnerRouter::seat_counts_in_memory(const core::Event& event, TimeMs now) {
  if (journal_.owns(event.id)) return engine_.seat_counts_in_memory(event, now);
  if (!replicas_) return std::nullopt;
  return replicas_->counts(event.id, std::chrono::steady_clock::now());
}

core::Result<core::Stock> OwnerRouter::stock(const core::Event& event, TimeMs now, TimeMs expiring_before) {
  CallArgs args;
  args.event_id = event.id;
  args.expiring_before = expiring_before;
  return route<core::Stock>(
      event.id, Call::stock, args, [&] { return engine_.stock(event, now, expiring_before); }, decode_stock);
}

void OwnerRouter::event_dates_changed(const core::Event& event) {
  engine_.event_dates_changed(event);  // a copy in memory here follows at once
  CallArgs args;
  args.event_id = event.id;
  args.on_sale_at = event.on_sale_at;
  args.starts_at = event.starts_at;
  tell_owner(event.id, Call::dates, args);
}

void OwnerRouter::resale_rule_changed(core::EventId event, bool on_open_sale) {
  engine_.resale_rule_changed(event, on_open_sale);
  CallArgs args;
  args.event_id = event;
  args.resale_on_open_sale = on_open_sale;
  tell_owner(event, Call::resale_rule, args);
}

// A change already stored, told to the owner so its memory follows; one that does not hear it reads the
// stored one at its next load of the event.
void OwnerRouter::tell_owner(core::EventId event, Call call, const CallArgs& args) {
  auto found = find_owner(event);
  if (!found) {
    spdlog::warn("event {}: {} changed, owner unknown ({}); it reads it at its next load", event, call_name(call),
                 found.error().message);
    return;
  }
  const std::optional<Ownership>& owner = *found;
  if (!owner) return;
  const PeerAnswer answer = peers_.post(owner->address, call_path(call), encode_args(call, args));
  if (answer.kind != PeerAnswer::Kind::answered || answer.status != 200 || !decode_status(answer.body))
    spdlog::warn("event {}: the owner at {} did not take the {} change ({}); it is stale until it reloads the event",
                 event, owner->address, call_name(call), answer.error);
}

}  // namespace ticketd::cluster
