// The embedded outbox against a real SQLite file: every change that must be announced writes its
// rows in its own commit (one per channel the user chose), and claims lease rows to one owner.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "app/ticket_codes.hpp"
#include "support/temp_dir.hpp"
#include "app/catalog.hpp"
#include "store/sqlite/sqlite_store.hpp"

using namespace ticketd;
using namespace ticketd::core;
using namespace ticketd::store::sqlite;

namespace {

using test_support::TempDir;  // each fixture's data dir

struct Fixture {
  Database db;
  SqliteAccountStore accounts{db};
  SqliteCatalogStore catalog_store{db};
  app::RandomTicketIds ticket_ids;
  SqliteLedger ledger{db, ticket_ids};
  SqliteOutbox outbox{db};
  SystemClock clock;
  app::Catalog catalog{catalog_store, ledger, clock};
  Event event;
  std::shared_ptr<const Venue> venue;
  explicit Fixture(const std::string& dir) : db(dir, nullptr) {
    LayoutSpec spec{"Hall", {{"Main", "std", {{"A", 20, {}, {}, {}}}}}};
    venue = *catalog.create_venue(spec);
    Event e;
    e.name = "Show";
    e.venue_id = venue->id;
    e.on_sale_at = clock.now() - Millis(1000);
    e.starts_at = clock.now() + std::chrono::days(1);
    e.currency = "EUR";
    e.prices = {{"std", 1000}};
    e.max_tickets_per_user = 100;
    event = *catalog.create_event(e);
  }
  UserId user(const std::string& email) {
    return accounts.create_user(email, "U", "hash", Role::User, clock.now())->id;
  }
  Hold hold(UserId u, std::vector<SeatId> seats, Millis lead = Millis(0)) {
    return *ledger.hold_seats(event, venue->layout,
                              HoldRequest{u, std::move(seats), std::nullopt, Millis(600'000), lead}, clock.now());
  }
  Settlement pay(UserId u, const Hold& h, PaymentOutcome::Kind kind) {
    auto rec =
        ledger.begin_checkout(h.id, u, CheckoutStart{"k" + std::to_string(h.id), 1000, "EUR", "pm"}, clock.now());
    EXPECT_TRUE(rec.ok());
    return *ledger.settle_payment(rec->booking_id, PaymentOutcome{kind, "pi", "generic_decline", "declined", ""},
                                  clock.now());
  }
  std::vector<OutboxRow> pending() { return outbox.list(OutboxStatus::Pending, 0, 100); }
};

}  // namespace

TEST(SqliteOutbox, EachSettlementAndCancellationWritesItsNotice) {
  TempDir dir;
  Fixture f(dir.path.string());
  const UserId u = f.user("a@example.test");
  const Settlement sold = f.pay(u, f.hold(u, {0, 1}), PaymentOutcome::Kind::Succeeded);
  auto rows = f.pending();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kind, NoticeKind::BookingConfirmed);
  EXPECT_EQ(rows[0].channel, kChannelEmail);
  EXPECT_EQ(rows[0].booking_id, sold.booking.id);
  EXPECT_EQ(rows[0].user_id, u);
  EXPECT_EQ(rows[0].event_id, f.event.id);

  ASSERT_TRUE(f.ledger.cancel_booking(sold.booking, "re_1", f.clock.now()).ok());
  rows = f.pending();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].kind, NoticeKind::BookingCancelled);

  const Settlement declined = f.pay(u, f.hold(u, {5}), PaymentOutcome::Kind::Declined);
  rows = f.pending();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].kind, NoticeKind::PaymentFailed);
  EXPECT_EQ(rows[2].booking_id, declined.booking.id);

  // A refused request (nothing charged, the hold still the buyer's) is answered at once: no notice.
  f.pay(u, f.hold(u, {6}), PaymentOutcome::Kind::Rejected);
  // Neither is a hold of a user who did not opt in to expiry warnings, nor one with no lead.
  f.hold(u, {7}, Millis(60'000));
  f.hold(u, {8});
  EXPECT_EQ(f.pending().size(), 3u);
}

TEST(SqliteOutbox, OneRowPerChannelTheUserChose) {
  TempDir dir;
  Fixture f(dir.path.string());
  const UserId both = f.user("both@example.test");
  const UserId none = f.user("none@example.test");
  ASSERT_TRUE(f.accounts.set_notify_prefs(both, NotifyPrefs{"+4915112345678", true, true, true}).ok());
  ASSERT_TRUE(f.accounts.set_notify_prefs(none, NotifyPrefs{"", false, false, false}).ok());
  f.pay(both, f.hold(both, {0}), PaymentOutcome::Kind::Succeeded);
  f.pay(none, f.hold(none, {1}), PaymentOutcome::Kind::Succeeded);
  auto rows = f.pending();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].channel, kChannelEmail);
  EXPECT_EQ(rows[1].channel, kChannelWebhook);
  EXPECT_EQ(rows[0].user_id, both);
  EXPECT_EQ(rows[1].user_id, both);
}

TEST(SqliteOutbox, HoldExpiryNoticeIsDueTheLeadBeforeTheHoldLapses) {
  TempDir dir;
  Fixture f(dir.path.string());
  const UserId u = f.user("warn@example.test");
  ASSERT_TRUE(f.accounts.set_notify_prefs(u, NotifyPrefs{"", true, false, true}).ok());
  const Hold h = f.hold(u, {3}, Millis(120'000));
  auto rows = f.pending();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].kind, NoticeKind::HoldExpiring);
  EXPECT_EQ(rows[0].hold_id, h.id);
  EXPECT_EQ(rows[0].due_at, h.expires_at - Millis(120'000));
  // Not due yet: nobody can claim it.
  EXPECT_TRUE(f.outbox.claim("n1", {kChannelEmail}, f.clock.now(), Millis(10'000), 10).empty());
  EXPECT_EQ(f.outbox.claim("n1", {kChannelEmail}, rows[0].due_at, Millis(10'000), 10).size(), 1u);
}

TEST(SqliteOutbox, ClaimLeasesRowsToOneOwnerUntilTheLeaseLapses) {
  TempDir dir;
  Fixture f(dir.path.string());
  const UserId u = f.user("lease@example.test");
  f.pay(u, f.hold(u, {0}), PaymentOutcome::Kind::Succeeded);
  const TimeMs now = f.clock.now();
  EXPECT_TRUE(f.outbox.claim("a", {kChannelWebhook}, now, Millis(5'000), 10).empty()) << "only channels asked for";
  auto a = f.outbox.claim("a", {kChannelEmail}, now, Millis(5'000), 10);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_TRUE(f.outbox.claim("b", {kChannelEmail}, now + Millis(4'999), Millis(5'000), 10).empty());
  // A failure reported by someone who does not hold the lease changes nothing.
  ASSERT_TRUE(f.outbox.mark_failed(a[0].id, "b", "not mine", std::nullopt).ok());
  EXPECT_EQ(f.outbox.counts().dead, 0u);
  // The lease lapses: b claims it (a stalled, say).
  auto b = f.outbox.claim("b", {kChannelEmail}, now + Millis(5'000), Millis(5'000), 10);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].id, a[0].id);
  // b fails for good: dead letter; an admin retry makes it due again with its tries reset.
  ASSERT_TRUE(f.outbox.mark_failed(b[0].id, "b", "smtp: 550", std::nullopt).ok());
  EXPECT_EQ(f.outbox.counts().dead, 1u);
  EXPECT_EQ(f.outbox.counts().pending, 0u);
  auto dead = f.outbox.list(OutboxStatus::Dead, 0, 10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 1);
  EXPECT_EQ(dead[0].last_error, "smtp: 550");
  ASSERT_TRUE(f.outbox.retry_dead(b[0].id, now).ok());
  EXPECT_EQ(f.outbox.retry_dead(b[0].id, now).error().code, Code::NotFound);
  auto again = f.outbox.claim("c", {kChannelEmail}, now, Millis(5'000), 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 0);
  EXPECT_EQ(f.outbox.sent_since(again[0].user_id, "ann@example.test", now - Millis(1)).by_account, 0u);
  ASSERT_TRUE(f.outbox.mark_sent(again[0].id, now, "ann@example.test").ok());
  EXPECT_EQ(f.outbox.list(OutboxStatus::Sent, 0, 10).size(), 1u);
  EXPECT_EQ(f.outbox.counts().pending, 0u);
  // What message caps count: this message, by its account and by where it went, inside the window only.
  const RecentMessages recent = f.outbox.sent_since(again[0].user_id, "ann@example.test", now - Millis(1));
  EXPECT_EQ(recent.by_account, 1u);
  EXPECT_EQ(recent.to_destination, 1u);
  EXPECT_EQ(f.outbox.sent_since(again[0].user_id + 1, "bob@example.test", now - Millis(1)).to_destination, 0u);
  EXPECT_EQ(f.outbox.sent_since(again[0].user_id, "ann@example.test", now).by_account, 0u);
}

TEST(SqliteOutbox, LeasesOfAKilledProcessAreVoidAfterReopen) {
  TempDir dir;
  OutboxId id = 0;
  {
    Fixture f(dir.path.string());
    const UserId u = f.user("crash@example.test");
    f.pay(u, f.hold(u, {0}), PaymentOutcome::Kind::Succeeded);
    auto claimed = f.outbox.claim("dead-node", {kChannelEmail}, f.clock.now(), Millis(3'600'000), 10);
    ASSERT_EQ(claimed.size(), 1u);
    id = claimed[0].id;
  }
  Database db(dir.path.string(), nullptr);
  SqliteOutbox outbox(db);
  auto claimed = outbox.claim("new-node", {kChannelEmail}, SystemClock().now(), Millis(10'000), 10);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, id);
}
