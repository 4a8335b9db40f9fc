// Runs forwarded seat calls on this node's engine (peer_calls.hpp).
#include "cluster/peer_calls.hpp"

#include <atomic>
#include <exception>
#include <memory>
#include <vector>

#include "cluster/ledger_wire.hpp"

namespace ticketd::cluster {

using core::Code;
using core::make_error;

namespace {

PeerCallAnswer ok(std::string body) { return PeerCallAnswer{200, std::move(body)}; }

// The venue's layout, kept alive by the venue: a best-available hold is picked after the call returns.
std::shared_ptr<const core::Layout> layout_of(const std::shared_ptr<const core::Venue>& venue) {
  return std::shared_ptr<const core::Layout>(venue, &venue->layout);
}

// A call about a booking: the booking as this node reads it.
template <typename T, typename Run>
std::string with_booking(core::Ledger& engine, core::BookingId id, Run run) {
  std::optional<core::Booking> b = engine.booking_by_id(id);
  if (!b) return encode_error(make_error(Code::NotFound, "no such booking"));
  return encode_answer(core::Result<T>(run(*b)));
}

}  // namespace

PeerCallAnswer PeerCalls::handle(std::string_view name, std::string_view body) {
  const std::optional<Call> call = call_from(name);
  if (!call) return PeerCallAnswer{404, encode_error(make_error(Code::NotFound, "no such seat call"))};
  if (*call == Call::batch) return handle_batch(body);
  auto args = decode_args(*call, body);
  if (!args) return PeerCallAnswer{400, encode_error(args.error())};
  return run(*call, *args);
}

PeerCallAnswer PeerCalls::run(Call call, const CallArgs& a) {
  const TimeMs now = clock_.now();
  try {
    switch (call) {
      case Call::hold: {
        auto found = lookup_(a.event_id);
        if (!found) return ok(encode_error(found.error()));
        return ok(encode_answer(engine_.hold_seats(found->first, found->second->layout, a.hold, now)));
      }
      case Call::hold_each: {
        auto found = lookup_(a.event_id);
        if (!found) return ok(encode_error(found.error()));
        auto answers = owner_refusal_or(engine_.hold_seats_each(found->first, found->second->layout, a.holds, now));
        return ok(answers ? encode_answer(*answers) : encode_error(answers.error()));
      }
      case Call::find_hold:
        return ok(encode_answer(engine_.find_hold(a.hold_id, a.user_id, now)));
      case Call::release:
        return ok(encode_answer(engine_.release_hold(a.hold_id, a.user_id, now)));
      case Call::checkout:
        return ok(encode_answer(engine_.begin_checkout(a.hold_id, a.user_id, a.checkout, now)));
      case Call::settle:
        return ok(encode_answer(engine_.settle_payment(a.booking_id, a.outcome, now)));
      case Call::cancel:
        return ok(with_booking<core::Booking>(engine_, a.booking_id, [&](const core::Booking& b) {
          return engine_.cancel_booking(b, a.refund_ref, now);
        }));
      case Call::refund_seats:
        return ok(with_booking<core::Booking>(engine_, a.booking_id, [&](const core::Booking& b) {
          return engine_.refund_seats(b, a.refund, a.refund_ref, now);
        }));
      case Call::resale_rule:
        engine_.resale_rule_changed(a.event_id, a.resale_on_open_sale);
        return ok(encode_answer(core::ok_status()));
      case Call::listing:
        return ok(with_booking<core::Ok>(engine_, a.booking_id, [&](const core::Booking& b) {
          return engine_.change_listing(b, a.listing, now);
        }));
      case Call::dates: {
        auto found = lookup_(a.event_id);
        if (!found) return ok(encode_error(found.error()));
        core::Event event = found->first;
        event.on_sale_at = a.on_sale_at;  // the caller's, newer than a copy this node may have cached
        event.starts_at = a.starts_at;
        engine_.event_dates_changed(event);
        return ok(encode_answer(core::ok_status()));
      }
      case Call::seat_map: {
        auto found = lookup_(a.event_id);
        if (!found) return ok(encode_error(found.error()));
        return ok(encode_answer(engine_.seat_map(found->first, now)));
      }
      case Call::stock: {
        auto found = lookup_(a.event_id);
        if (!found) return ok(encode_error(found.error()));
        return ok(encode_answer(engine_.stock(found->first, now, a.expiring_before)));
      }
      case Call::batch:  // handle_batch()
        break;
    }
  } catch (const std::exception& e) {
    // A store this node could not reach: the caller answers 503, as it would had it asked it itself.
    return ok(encode_error(make_error(Code::Unavailable, e.what())));
  }
  return PeerCallAnswer{404, encode_error(make_error(Code::NotFound, "no such seat call"))};
}

// Only when try_handle_async() did not take the batch: it was malformed, and this answers why.
PeerCallAnswer PeerCalls::handle_batch(std::string_view body) {
  auto calls = decode_batch(body);
  if (!calls) return PeerCallAnswer{400, encode_error(calls.error())};
  std::vector<std::optional<std::string>> answers;
  answers.reserve(calls->size());
  for (const BatchedCall& c : *calls) answers.push_back(run(c.call, c.args).body);
  return ok(encode_batch_answer(answers));
}

namespace {

// A batch's answers as they come (from the engine's threads, in any order), sent when the last has.
struct BatchGather {
  std::vector<std::optional<std::string>> answers;  // each written once, by its own call's completion
  std::atomic<size_t> left;                         // calls unanswered, and one for the dispatch itself
  PeerCalls::AnswerDone done;

  void one_done() {
    if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) done(ok(encode_batch_answer(answers)));
  }
};

}  // namespace

bool PeerCalls::try_handle_batch_async(std::string_view body, const AnswerDone& done) {
  auto calls = decode_batch(body);
  if (!calls) return false;  // handle() answers the refusal
  auto gather = std::make_shared<BatchGather>();
  gather->answers.resize(calls->size());
  gather->left.store(calls->size() + 1, std::memory_order_relaxed);
  gather->done = done;
  std::optional<std::pair<core::Event, std::shared_ptr<const core::Venue>>> found;  // the calls' event, mostly one
  for (size_t i = 0; i < calls->size(); ++i) {
    const CallArgs& a = (*calls)[i].args;
    auto answer = [gather, i](core::Result<core::Hold> hold) {
      gather->answers[i] = encode_answer(hold);
      gather->one_done();
    };
    bool taken = false;
    if ((*calls)[i].call == Call::release) {
      taken = engine_.try_release_hold_async(a.hold_id, a.user_id, clock_.now(), answer);
    } else {
      if (cached_ && (!found || found->first.id != a.event_id)) found = cached_(a.event_id);
      taken = found && found->first.id == a.event_id &&
              engine_.try_hold_seats_async(found->first, layout_of(found->second), a.hold, clock_.now(), answer);
    }
    if (!taken) gather->one_done();  // answered null: the caller sends it again on its own, for handle()
  }
  gather->one_done();
  return true;
}

bool PeerCalls::try_handle_async(std::string_view name, std::string_view body, const AnswerDone& done) {
  const std::optional<Call> call = call_from(name);
  if (call == Call::batch) return try_handle_batch_async(body, done);
  if (call != Call::hold && call != Call::release && call != Call::checkout && call != Call::settle) return false;
  auto args = decode_args(*call, body);
  if (!args) return false;  // handle() answers the refusal
  const CallArgs& a = *args;
  // A checkout's two steps, forwarded by the node its buyer reached: decided in memory, answered durable.
  if (*call == Call::checkout)
    return engine_.try_begin_checkout_async(
        a.hold_id, a.user_id, a.checkout, clock_.now(),
        [done](core::Result<core::CheckoutRecord> r) { done(ok(encode_answer(r))); });
  if (*call == Call::settle)
    return engine_.try_settle_payment_async(a.booking_id, a.outcome, clock_.now(),
                                            [done](core::Result<core::Settlement> r) { done(ok(encode_answer(r))); });
  auto answer = [done](core::Result<core::Hold> hold) { done(ok(encode_answer(hold))); };
  if (*call == Call::release) return engine_.try_release_hold_async(a.hold_id, a.user_id, clock_.now(), answer);
  auto found = cached_ ? cached_(a.event_id) : std::nullopt;
  if (!found) return false;
  return engine_.try_hold_seats_async(found->first, layout_of(found->second), a.hold, clock_.now(), answer);
}

}  // namespace ticketd::cluster
