// The wire format of forwarded seat calls (src/cluster/ledger_wire.hpp): what one node encodes, the
// owner decodes to the same call, and back; and nothing malformed gets past the decoders.
#include "cluster/ledger_wire.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/limits.hpp"
#include "store/postgres/seat_journal.hpp"

namespace ticketd::cluster {
namespace {

TEST(LedgerWire, EveryCallNameRoundTrips) {
  for (Call c :
       {Call::hold, Call::find_hold, Call::release, Call::checkout, Call::settle, Call::cancel, Call::refund_seats,
        Call::dates, Call::seat_map, Call::stock, Call::listing, Call::resale_rule, Call::hold_each, Call::batch}) {
    ASSERT_TRUE(call_from(call_name(c)).has_value());
    EXPECT_EQ(*call_from(call_name(c)), c);
  }
  EXPECT_FALSE(call_from("drop_tables").has_value());
  EXPECT_FALSE(call_from("").has_value());
}

TEST(LedgerWire, AHoldCallKeepsEveryField) {
  CallArgs a;
  a.event_id = 7;
  a.user_id = 42;
  a.hold.user_id = 42;
  a.hold.seats = {3, 1, 200'000};
  a.hold.ttl = Millis(600'000);
  a.hold.expiry_notice_lead = Millis(120'000);
  a.hold.active_holds_max = 5;
  a.hold.best = core::BestAvailableRequest{4, 2};
  auto d = decode_args(Call::hold, encode_args(Call::hold, a));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->event_id, 7);
  EXPECT_EQ(d->hold.user_id, 42);
  EXPECT_EQ(d->hold.seats, a.hold.seats);
  EXPECT_EQ(d->hold.ttl, a.hold.ttl);
  EXPECT_EQ(d->hold.expiry_notice_lead, a.hold.expiry_notice_lead);
  EXPECT_EQ(d->hold.active_holds_max, 5u);
  ASSERT_TRUE(d->hold.best.has_value());
  EXPECT_EQ(d->hold.best->quantity, 4u);
  EXPECT_EQ(d->hold.best->section, std::optional<uint32_t>(2));
}

TEST(LedgerWire, HoldsDecidedTogetherTravelInOrderAndAreBounded) {
  CallArgs a;
  a.event_id = 7;
  for (core::UserId u = 1; u <= 3; ++u) {
    core::HoldRequest r;
    r.user_id = u;
    r.seats = {static_cast<core::SeatId>(u * 10)};
    r.ttl = Millis(3'600'000);
    r.active_holds_max = core::limits::active_holds_per_user_max;
    r.offer = true;
    a.holds.push_back(r);
  }
  auto d = decode_args(Call::hold_each, encode_args(Call::hold_each, a));
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->holds.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(d->holds[i].user_id, a.holds[i].user_id);
    EXPECT_EQ(d->holds[i].seats, a.holds[i].seats);
    EXPECT_EQ(d->holds[i].ttl, a.holds[i].ttl);
    EXPECT_TRUE(d->holds[i].offer);
  }
  a.holds.resize(core::limits::holds_per_call_max + 1, a.holds[0]);
  EXPECT_EQ(decode_args(Call::hold_each, encode_args(Call::hold_each, a)).error().code, core::Code::InvalidRequest);

  core::Hold h;
  h.id = 11;
  h.event_id = 7;
  h.user_id = 2;
  h.seats = {20};
  h.created_at = from_unix_ms(5'000);
  h.expires_at = from_unix_ms(3'605'000);
  HoldAnswers answers{h, core::Error{core::Code::SeatUnavailable, "taken", {10}, {}}};
  auto back = decode_holds(encode_answer(answers));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  ASSERT_TRUE((*back)[0].ok());
  EXPECT_EQ((*back)[0]->id, 11);
  EXPECT_EQ((*back)[0]->seats, h.seats);
  EXPECT_EQ((*back)[0]->expires_at, h.expires_at);
  ASSERT_FALSE((*back)[1].ok());
  EXPECT_EQ((*back)[1].error().code, core::Code::SeatUnavailable);
  EXPECT_EQ((*back)[1].error().seats, std::vector<core::SeatId>{10});
  // A refusal naming the owner stands for the whole call, so the caller takes it all there.
  core::Error elsewhere = core::make_error(core::Code::Unavailable, "owned elsewhere");
  elsewhere.detail = std::string(store::postgres::kOwnerDetailPrefix) + "10.0.0.2:8080";
  EXPECT_TRUE(owner_refusal_or(answers).ok());
  auto lifted = owner_refusal_or(HoldAnswers{h, elsewhere});
  ASSERT_FALSE(lifted.ok());
  EXPECT_EQ(lifted.error().detail, elsewhere.detail);
  EXPECT_EQ(decode_holds(R"({"ok":[{"neither":1}]})").error().code, core::Code::Unavailable);
}

TEST(LedgerWire, SettlementRefundAndDatesKeepTheirFields) {
  CallArgs a;
  a.booking_id = 9;
  a.outcome.kind = core::PaymentOutcome::Kind::AwaitingAction;
  a.outcome.payment_ref = "pi_1";
  a.outcome.decline_code = "x";
  a.outcome.message = "m \"quoted\"";
  a.outcome.event_id = "evt_1";
  auto s = decode_args(Call::settle, encode_args(Call::settle, a));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->booking_id, 9);
  EXPECT_EQ(s->outcome.kind, core::PaymentOutcome::Kind::AwaitingAction);
  EXPECT_EQ(s->outcome.message, a.outcome.message);
  EXPECT_EQ(s->outcome.event_id, "evt_1");
  a.refund_ref = "re_1";
  a.refund = core::SeatRefund{{1, 2}, 1500};
  auto r = decode_args(Call::refund_seats, encode_args(Call::refund_seats, a));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->refund.seats, (std::vector<core::SeatId>{1, 2}));
  EXPECT_EQ(r->refund.amount, 1500);
  EXPECT_EQ(r->refund_ref, "re_1");
  a.on_sale_at = from_unix_ms(1000);
  a.starts_at = from_unix_ms(2000);
  auto d = decode_args(Call::dates, encode_args(Call::dates, a));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->on_sale_at, a.on_sale_at);
  EXPECT_EQ(d->starts_at, a.starts_at);
}

TEST(LedgerWire, AnswersRoundTripValuesAndRefusals) {
  core::Booking b;
  b.id = 3;
  b.hold_id = 4;
  b.event_id = 5;
  b.user_id = 6;
  b.status = core::BookingStatus::Failed;
  b.seats = {8, 9};
  b.total_amount = 5000;
  b.currency = "EUR";
  b.payment_ref = "pi_x";
  b.created_at = from_unix_ms(77);
  b.decline_code = "card_declined";
  auto settled = decode_settlement(encode_answer(core::Result<core::Settlement>(core::Settlement{b, true})));
  ASSERT_TRUE(settled.ok());
  EXPECT_TRUE(settled->refund_needed);
  EXPECT_EQ(settled->booking.status, core::BookingStatus::Failed);
  EXPECT_EQ(settled->booking.seats, b.seats);
  EXPECT_EQ(settled->booking.decline_code, "card_declined");
  EXPECT_EQ(settled->booking.created_at, b.created_at);

  core::Error taken = core::make_error(core::Code::SeatUnavailable, "seats taken");
  taken.seats = {1, 4};
  taken.detail = "d";
  auto refused = decode_hold(encode_error(taken));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Code::SeatUnavailable);
  EXPECT_EQ(refused.error().seats, (std::vector<uint32_t>{1, 4}));
  EXPECT_EQ(refused.error().detail, "d");

  core::SeatMap m{"AHS", core::SeatCounts{1, 1, 1}, (uint64_t{3} << 32) + 9};
  auto map = decode_seat_map(encode_answer(core::Result<core::SeatMap>(m)));
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->status, "AHS");
  EXPECT_EQ(map->version, m.version);
  EXPECT_TRUE(decode_status(encode_answer(core::ok_status())).ok());
}

TEST(LedgerWire, MalformedCallsAreInvalidRequestsAndForeignAnswersUnavailable) {
  for (const char* body : {"", "[]", "{}", "not json", R"({"event_id":"1","hold_id":0,"booking_id":0,"user_id":0})",
                           R"({"event_id":1,"hold_id":0,"booking_id":0,"user_id":0})",
                           R"({"event_id":1,"hold_id":0,"booking_id":0,"user_id":0,"hold":{"user_id":1,"seats":[-1],"ttl_ms":1,"expiry_notice_lead_ms":0,"active_holds_max":1}})",
                           R"({"event_id":1,"hold_id":0,"booking_id":0,"user_id":0,"hold":{"user_id":1,"seats":[],"ttl_ms":0,"expiry_notice_lead_ms":0,"active_holds_max":1}})",
                           R"({"event_id":1,"hold_id":0,"booking_id":0,"user_id":0,"hold":{"user_id":1,"seats":[],"ttl_ms":5,"expiry_notice_lead_ms":0,"active_holds_max":0}})"}) {
    auto d = decode_args(Call::hold, body);
    ASSERT_FALSE(d.ok()) << body;
    EXPECT_EQ(d.error().code, core::Code::InvalidRequest) << body;
  }
  auto bad_code = decode_hold(R"({"error":{"code":9999,"message":"","seats":[],"detail":""}})");
  ASSERT_FALSE(bad_code.ok());
  EXPECT_EQ(bad_code.error().code, core::Code::Unavailable);
  for (const char* body : {"<html>502</html>", "{}", R"({"ok":{"id":1}})"}) {
    auto h = decode_hold(body);
    ASSERT_FALSE(h.ok()) << body;
    EXPECT_EQ(h.error().code, core::Code::Unavailable) << body;
  }
}

TEST(LedgerWire, ABatchCarriesHoldsAndReleasesAndTheirAnswersInOrder) {
  CallArgs hold;
  hold.event_id = 7;
  hold.user_id = 42;
  hold.hold.user_id = 42;
  hold.hold.seats = {5};
  CallArgs release;
  release.hold_id = 99;
  release.user_id = 43;
  const std::string hold_body = encode_args(Call::hold, hold), release_body = encode_args(Call::release, release);
  auto batch = decode_batch(encode_batch({{Call::hold, hold_body}, {Call::release, release_body}}));
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].call, Call::hold);
  EXPECT_EQ((*batch)[0].args.event_id, 7);
  EXPECT_EQ((*batch)[0].args.hold.seats, hold.hold.seats);
  EXPECT_EQ((*batch)[1].call, Call::release);
  EXPECT_EQ((*batch)[1].args.hold_id, 99);
  EXPECT_EQ((*batch)[1].args.user_id, 43);
  EXPECT_EQ(call_path(Call::batch), "/internal/v1/ledger/batch");

  core::Hold h;
  h.id = 11;
  h.event_id = 7;
  h.user_id = 42;
  core::Error taken = core::make_error(core::Code::SeatUnavailable, "taken");
  auto answers = decode_batch_answer(encode_batch_answer({encode_answer(core::Result<core::Hold>(h)), std::nullopt,
                                                          encode_answer(core::Result<core::Hold>(taken))}),
                                     3);
  ASSERT_TRUE(answers.ok()) << answers.error().message;
  ASSERT_EQ(answers->size(), 3u);
  ASSERT_TRUE((*answers)[0].has_value() && (*answers)[0]->ok());
  EXPECT_EQ((*(*answers)[0])->id, 11);
  EXPECT_FALSE((*answers)[1].has_value());  // to be sent alone
  ASSERT_TRUE((*answers)[2].has_value());
  EXPECT_EQ((*answers)[2]->error().code, core::Code::SeatUnavailable);
}

TEST(LedgerWire, MalformedBatchesAreInvalidRequestsAndForeignBatchAnswersUnavailable) {
  CallArgs a;
  a.user_id = 1;
  const std::string release = encode_args(Call::release, a);
  std::vector<std::pair<Call, std::string_view>> too_many(kBatchedCallsMax + 1, {Call::release, release});
  const std::string checkout = encode_args(Call::checkout, a);
  for (const std::string& body :
       {std::string(""), std::string("{}"), std::string(R"({"calls":[]})"), std::string(R"({"calls":{}})"),
        std::string(R"({"calls":[{"call":"release"}]})"), std::string(R"({"calls":[{"call":"drop","args":{}}]})"),
        encode_batch(too_many), encode_batch({{Call::checkout, checkout}}), encode_batch({{Call::batch, "{}"}}),
        encode_batch({{Call::hold, release}})}) {
    auto d = decode_batch(body);
    ASSERT_FALSE(d.ok()) << body.substr(0, 200);
    EXPECT_EQ(d.error().code, core::Code::InvalidRequest) << body.substr(0, 200);
  }
  EXPECT_TRUE(decode_batch(encode_batch(std::vector<std::pair<Call, std::string_view>>(kBatchedCallsMax,
                                                                                       {Call::release, release})))
                  .ok());
  EXPECT_FALSE(decode_args(Call::batch, "{}").ok());
  for (const char* body : {"<html>502</html>", "{}", R"({"answers":[null]})", R"({"answers":[null,null,null]})",
                           R"({"answers":[1,null]})", R"({"answers":[{"ok":{"id":1}},null]})"}) {
    auto d = decode_batch_answer(body, 2);
    if (d.ok()) {  // well formed as a batch answer: the bad one is that call's own answer
      for (const auto& one : *d) EXPECT_TRUE(!one || !one->ok()) << body;
      continue;
    }
    EXPECT_EQ(d.error().code, core::Code::Unavailable) << body;
  }
}

}  // namespace
}  // namespace ticketd::cluster
