// DoorFeed over an in-memory CheckinStore and a manual clock: what scanners are told, once each, in
// order, with the late commits and slow subscribers a real door produces.
#include "app/door_feed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace ticketd::app {
namespace {

using namespace std::chrono_literals;

// Only what the feed reads: ticket changes and people inside per gate.
class MemoryDoor final : public core::CheckinStore {
 public:
  void change(std::string id, core::TicketStatus status, std::string gate, TimeMs at) {
    std::lock_guard lock(mu_);
    std::erase_if(rows_, [&](const core::TicketChange& c) { return c.ticket_id == id; });
    rows_.push_back(core::TicketChange{std::move(id), status, std::move(gate), at});
  }
  std::vector<core::TicketChange> ticket_changes(core::EventId, TimeMs since, uint32_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<core::TicketChange> out;
    for (const auto& c : rows_) if (c.changed_at >= since) out.push_back(c);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.changed_at > b.changed_at; });
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  std::vector<core::GateCount> inside_by_gate(core::EventId, uint32_t) override {
    std::lock_guard lock(mu_);
    std::map<std::string, uint32_t> n;
    for (const auto& c : rows_) if (c.status == core::TicketStatus::CheckedIn) n[c.gate]++;
    std::vector<core::GateCount> out;
    for (auto& [gate, inside] : n) out.push_back(core::GateCount{gate, inside});
    return out;
  }
  core::Result<core::ScanOutcome> record_scan(const core::Scan&, std::optional<core::CheckinResult>) override {
    return core::make_error(core::Code::Unavailable, "not used");
  }
  core::TicketStates ticket_states(core::EventId, uint32_t) override { return {}; }
  std::vector<core::CheckinConflict> conflicts(core::EventId, uint32_t) override { return {}; }
  std::vector<core::Attendee> attendees(core::EventId, const std::string&, uint32_t) override { return {}; }
  core::Status grant_staff(core::EventId, core::UserId, TimeMs) override { return core::ok_status(); }
  core::Status revoke_staff(core::EventId, core::UserId) override { return core::ok_status(); }
  bool is_staff(core::EventId, core::UserId) override { return true; }
  std::vector<core::UserId> staff_of(core::EventId, uint32_t) override { return {}; }

 private:
  std::mutex mu_;
  std::vector<core::TicketChange> rows_;
};

DoorFeedLimits manual_limits() {
  DoorFeedLimits l;
  l.poll_interval = std::chrono::hours(1);  // the test drives poll_once(); the thread never does
  l.overlap = 5s;
  l.replay = 15s;
  l.ring_items_max = 8;
  return l;
}

std::vector<std::shared_ptr<const DoorItem>> drain(DoorSubscription& sub) {
  std::vector<std::shared_ptr<const DoorItem>> out;
  while (sub.poll(out)) {}
  return out;
}

std::vector<std::string> ticket_ids(const std::vector<std::shared_ptr<const DoorItem>>& items) {
  std::vector<std::string> ids;
  for (const auto& i : items) if (i->kind == DoorItem::Kind::ticket) ids.push_back(i->change.ticket_id);
  return ids;
}

const TimeMs kStart = from_unix_ms(1'800'000'000'000);

TEST(DoorFeed, EachChangeOnceEvenWhenReadAgainAndLateCommitsWithinTheOverlapAreFound) {
  ManualClock clock(kStart);
  MemoryDoor door;
  DoorFeed feed(door, clock, manual_limits());
  auto sub = feed.subscribe(7);
  ASSERT_TRUE(sub);
  feed.poll_once();
  auto first = drain(**sub);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]->kind, DoorItem::Kind::gates);

  door.change("a", core::TicketStatus::CheckedIn, "north", clock.now());
  clock.advance(1s);
  feed.poll_once();
  feed.poll_once();  // reads "a" again (overlap): not sent twice
  auto items = drain(**sub);
  EXPECT_EQ(ticket_ids(items), std::vector<std::string>{"a"});
  ASSERT_EQ(items.back()->kind, DoorItem::Kind::gates);
  ASSERT_EQ(items.back()->gates.size(), 1u);
  EXPECT_EQ(items.back()->gates[0].inside, 1u);

  // Another node's commit lands with a time before the newest one seen: found, within the overlap.
  door.change("b", core::TicketStatus::CheckedIn, "south", clock.now());
  clock.advance(1s);
  feed.poll_once();
  door.change("c", core::TicketStatus::Revoked, "", clock.now() - 3s);
  feed.poll_once();
  EXPECT_EQ(ticket_ids(drain(**sub)), (std::vector<std::string>{"b", "c"}));

  // Past the overlap a late row is not looked for any more (the scanner still asks the server).
  door.change("d", core::TicketStatus::CheckedIn, "north", clock.now());
  feed.poll_once();
  door.change("e", core::TicketStatus::Revoked, "", clock.now() - 10s);
  feed.poll_once();
  EXPECT_EQ(ticket_ids(drain(**sub)), std::vector<std::string>{"d"});
}

TEST(DoorFeed, ASubscriberThatFallsBehindTheRingIsToldToResync) {
  ManualClock clock(kStart);
  MemoryDoor door;
  DoorFeed feed(door, clock, manual_limits());
  auto sub = feed.subscribe(7);
  ASSERT_TRUE(sub);
  for (int i = 0; i < 20; ++i) {
    door.change("t" + std::to_string(i), core::TicketStatus::Revoked, "", clock.now());
    clock.advance(100ms);
    feed.poll_once();
  }
  auto items = drain(**sub);
  ASSERT_FALSE(items.empty());
  size_t resyncs = 0;
  for (const auto& i : items) resyncs += i->kind == DoorItem::Kind::resync;
  EXPECT_EQ(resyncs, 1u);
  EXPECT_EQ(ticket_ids(items).back(), "t19");
  EXPECT_EQ(feed.stats().lagged_total, 1u);
}

TEST(DoorFeed, ANewSubscriberGetsTheRecentChangesAndTheCountsThenOnlyNews) {
  ManualClock clock(kStart);
  MemoryDoor door;
  DoorFeed feed(door, clock, manual_limits());
  auto early = feed.subscribe(7);
  ASSERT_TRUE(early);
  door.change("old", core::TicketStatus::CheckedIn, "north", clock.now());
  feed.poll_once();
  clock.advance(20s);  // "old" is now older than the replay window
  door.change("new", core::TicketStatus::CheckedIn, "north", clock.now());
  feed.poll_once();

  auto late = feed.subscribe(7);
  ASSERT_TRUE(late);
  auto items = drain(**late);
  EXPECT_EQ(ticket_ids(items), std::vector<std::string>{"new"});
  size_t gates = 0;
  for (const auto& i : items) gates += i->kind == DoorItem::Kind::gates;
  EXPECT_EQ(gates, 1u);

  int woken = 0;
  EXPECT_TRUE((*late)->arm([&] { ++woken; }));
  feed.poll_once();  // nothing new
  EXPECT_EQ(woken, 0);
  door.change("newer", core::TicketStatus::CheckedIn, "east", clock.now());
  feed.poll_once();
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(ticket_ids(drain(**late)), std::vector<std::string>{"newer"});
}

// A topic nobody listens to is forgotten after idle_topic, and makes room when the table is full. Both
// erase a topic whose last reference the map holds: with its mutex released first (ThreadSanitizer
// once caught a lock_guard unlocking the freed mutex; under ASan or TSan this test catches it again).
TEST(DoorFeed, TopicsNobodyListensToAreForgottenAndMakeRoom) {
  ManualClock clock(kStart);
  MemoryDoor door;
  DoorFeedLimits limits = manual_limits();
  limits.topics_max = 2;
  DoorFeed feed(door, clock, limits);
  {
    auto a = feed.subscribe(1);
    auto b = feed.subscribe(2);
    ASSERT_TRUE(a && b);
    feed.poll_once();
  }  // both unsubscribed: idle from now
  EXPECT_EQ(feed.stats().topics, 2u);
  auto c = feed.subscribe(3);  // full: an unheard topic makes room
  ASSERT_TRUE(c);
  EXPECT_EQ(feed.stats().topics, 2u);
  clock.advance(limits.idle_topic + 1s);
  feed.poll_once();  // the remaining unheard topic lapses; event 3 has a subscriber
  EXPECT_EQ(feed.stats().topics, 1u);
}

TEST(DoorFeed, ChangesFromBeforeTheFirstReadAreNotSentLaterEither) {
  ManualClock clock(kStart);
  MemoryDoor door;
  door.change("ancient", core::TicketStatus::CheckedIn, "north", clock.now());
  clock.advance(std::chrono::minutes(10));
  DoorFeed feed(door, clock, manual_limits());
  auto sub = feed.subscribe(7);
  ASSERT_TRUE(sub);
  feed.poll_once();  // the first read: back `replay` only
  clock.advance(1s);
  feed.poll_once();  // nothing new since: must not go back to the beginning of time
  EXPECT_TRUE(ticket_ids(drain(**sub)).empty());
}

TEST(DoorFeed, SubscribersAreBounded) {
  ManualClock clock(kStart);
  MemoryDoor door;
  DoorFeedLimits limits = manual_limits();
  limits.subscribers_max = 2;
  DoorFeed feed(door, clock, limits);
  auto a = feed.subscribe(1), b = feed.subscribe(2);
  ASSERT_TRUE(a && b);
  auto c = feed.subscribe(3);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, core::Code::Unavailable);
  a->reset();
  EXPECT_TRUE(feed.subscribe(3));
}

}  // namespace
}  // namespace ticketd::app
