// The seat calls a node forwards to the owner of an event (cluster/owner_router.hpp), as the JSON
// bodies of POST /internal/v1/ledger/{call} between nodes, and their answers. Only what the owner
// cannot read itself travels: ids and the request's own fields. The owner reads events and bookings
// from its own store, and decides at its own clock's time: a call that waited (an owner paused, a slow
// link) gets a hold lasting its full TTL from when it was decided, not from when it was sent.
//
// An answer is {"ok": <value>} or {"error": {"code", "message", "seats", "detail"}}: a refusal keeps
// its code, so the first node answers the buyer exactly as the owner decided. Decoding never trusts
// its input: anything malformed is InvalidRequest, never an assertion.
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ports/ledger.hpp"
#include "core/result.hpp"
#include "core/seat_refund.hpp"
#include "core/types.hpp"
#include "core/waiting_room.hpp"

namespace ticketd::cluster {

// batch: holds and releases travelling to one owner together, each decided on its own (cluster/
// forward_batches.hpp).
enum class Call {
  hold, find_hold, release, checkout, settle, cancel, refund_seats, dates, seat_map, stock, listing, resale_rule,
  hold_each, batch
};
const char* call_name(Call c);
// Where a call is sent: kLedgerPathPrefix and its name (built once).
inline constexpr const char* kLedgerPathPrefix = "/internal/v1/ledger/";
const std::string& call_path(Call c);
std::optional<Call> call_from(std::string_view name);

// One forwarded call: which one, and every argument any call takes (each call reads its own).
struct CallArgs {
  core::EventId event_id = 0;
  core::HoldId hold_id = 0;
  core::BookingId booking_id = 0;
  core::UserId user_id = 0;
  core::HoldRequest hold;              // hold
  std::vector<core::HoldRequest> holds;  // hold_each: at most limits::holds_per_call_max
  core::CheckoutStart checkout;        // checkout
  core::PaymentOutcome outcome;        // settle
  std::string refund_ref;              // cancel, refund_seats
  core::SeatRefund refund;             // refund_seats
  core::ResaleChange listing;          // listing
  bool resale_on_open_sale = true;     // resale_rule
  TimeMs on_sale_at{}, starts_at{};    // dates
  TimeMs expiring_before{};            // stock
};

std::string encode_args(Call call, const CallArgs& args);
core::Result<CallArgs> decode_args(Call call, std::string_view body);

// A batch: {"calls": [{"call": "hold" | "release", "args": <encode_args>}, ...]}, at most
// kBatchedCallsMax calls. Its answer: {"answers": [...]}, one per call in order, each the call's own
// answer, or null for a call the owner would have had to block for (its event not in memory, say),
// which the caller sends again on its own.
inline constexpr size_t kBatchedCallsMax = 256;
struct BatchedCall {
  Call call = Call::hold;
  CallArgs args;
};
// `calls`: each call with its arguments as encode_args() wrote them.
std::string encode_batch(const std::vector<std::pair<Call, std::string_view>>& calls);
core::Result<std::vector<BatchedCall>> decode_batch(std::string_view body);
// `answers`: each call's as encode_answer() wrote it, or nullopt.
std::string encode_batch_answer(const std::vector<std::optional<std::string>>& answers);
using BatchAnswers = std::vector<std::optional<core::Result<core::Hold>>>;
// Unavailable unless the body holds exactly `calls` answers.
core::Result<BatchAnswers> decode_batch_answer(std::string_view body, size_t calls);

// Answers. encode_* of a value or of an error; decode_* gives back what was encoded.
boost::json::value to_wire(const core::Hold& h);
boost::json::value to_wire(const core::Booking& b);
boost::json::value to_wire(const core::CheckoutRecord& r);
boost::json::value to_wire(const core::Settlement& s);
boost::json::value to_wire(const core::SeatMap& m);
boost::json::value to_wire(const core::Stock& s);
std::string encode_ok(boost::json::value value);
std::string encode_error(const core::Error& error);

template <typename T>
std::string encode_answer(const core::Result<T>& r) {
  return r ? encode_ok(to_wire(*r)) : encode_error(r.error());
}
std::string encode_answer(const core::Status& s);
// hold_each's answer: one answer per request, in order.
using HoldAnswers = std::vector<core::Result<core::Hold>>;
std::string encode_answer(const HoldAnswers& holds);
// hold_each's answers as one: a refusal naming the event's owner (PgSeatJournal::load_event) stands for
// the whole call, so that the caller takes all of it to that owner.
core::Result<HoldAnswers> owner_refusal_or(HoldAnswers holds);

// The answer's value (Unavailable when the body is not an answer of this protocol: a node of another
// version, or a proxy's page).
core::Result<core::Hold> decode_hold(std::string_view body);
core::Result<core::Booking> decode_booking(std::string_view body);
core::Result<core::CheckoutRecord> decode_checkout(std::string_view body);
core::Result<core::Settlement> decode_settlement(std::string_view body);
core::Result<core::SeatMap> decode_seat_map(std::string_view body);
core::Result<core::Stock> decode_stock(std::string_view body);
core::Status decode_status(std::string_view body);
core::Result<HoldAnswers> decode_holds(std::string_view body);

}  // namespace ticketd::cluster
