// A checkout retried with its Idempotency-Key while the first attempt was still committing (chaos
// owners, 2026-12-06: the retry reached another node as the owner was killed): the retry's lookup of
// the key found nothing yet, the ledger then refused to begin a second checkout of the pinned hold, and
// the buyer heard 409 checkout_in_progress for a payment that went on. Sales now looks the key up again
// after that refusal and continues the checkout it finds.
#include <gtest/gtest.h>

#include <string>

#include "app/catalog.hpp"
#include "app/sales.hpp"
#include "app/ticket_codes.hpp"
#include "base/metrics.hpp"
#include "payments/test/test_gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/forwarding_ledger.hpp"
#include "support/temp_dir.hpp"

using namespace ticketd;

namespace {

// The SQLite ledger, except that the next find_checkout answers nothing: as a lookup that ran just
// before another node's begin_checkout of the same key committed.
class LateRecordLedger final : public test_support::ForwardingLedger {
 public:
  using ForwardingLedger::ForwardingLedger;
  bool hide_next_lookup = false;

  std::optional<core::CheckoutRecord> find_checkout(core::UserId user, const std::string& key) override {
    if (hide_next_lookup) {
      hide_next_lookup = false;
      return std::nullopt;
    }
    return ForwardingLedger::find_checkout(user, key);
  }
};

// The test gateway, with the first charge unanswered (the outcome unknown: the checkout stays pending).
class FirstChargeLost final : public core::PaymentGateway {
 public:
  core::Result<core::ChargeResult> charge(const core::ChargeRequest& r) override {
    if (!answered_once_) {
      answered_once_ = true;
      return core::make_error(core::Code::Unavailable, "the gateway did not answer");
    }
    return inner_.charge(r);
  }
  core::Result<core::ChargeResult> retrieve(const std::string& ref) override { return inner_.retrieve(ref); }
  core::Result<core::ChargeResult> cancel(const std::string& ref, const std::string& key) override {
    return inner_.cancel(ref, key);
  }
  core::Result<std::string> refund(const std::string& ref, int64_t amount, const std::string& key) override {
    return inner_.refund(ref, amount, key);
  }
  int charges_made() const { return inner_.charges_made(); }

 private:
  bool answered_once_ = false;
  payments::TestGateway inner_;
};

// One process's stores and use case over the data directory; a new Node is a restart (or the event's
// new owner), which knows the pending checkout from the database only, not by its key.
struct Node {
  Node(store::sqlite::Database& db, core::PaymentGateway& gateway, const Clock& clock)
      : catalog_store(db), sqlite_ledger(db, ids), ledger(sqlite_ledger), accounts(db),
        catalog(catalog_store, ledger, clock), sales(ledger, catalog, gateway, clock, Millis(600'000), metrics) {}
  Metrics metrics;
  store::sqlite::SqliteCatalogStore catalog_store;
  app::RandomTicketIds ids;
  store::sqlite::SqliteLedger sqlite_ledger;
  LateRecordLedger ledger;
  store::sqlite::SqliteAccountStore accounts;
  app::Catalog catalog;
  app::Sales sales;
};

TEST(CheckoutRetry, ARetryThatFindsItsCheckoutOnlyAfterBeingRefusedContinuesIt) {
  test_support::TempDir dir;
  SystemClock clock;
  store::sqlite::Database db(dir.path.string(), nullptr);
  FirstChargeLost gateway;
  core::UserId buyer = 0;
  core::HoldId hold_id = 0;
  {
    Node node(db, gateway, clock);
    core::LayoutSpec spec{"Hall", {{"Floor", "A", {{"A", 4, {}, {}, {}}}}}};
    auto venue = node.catalog.create_venue(spec);
    ASSERT_TRUE(venue.ok());
    core::Event e;
    e.name = "Retried";
    e.venue_id = (*venue)->id;
    e.currency = "EUR";
    e.prices = {{"A", 1000}};
    e.on_sale_at = clock.now() - Millis(60'000);
    e.starts_at = clock.now() + Millis(30LL * 86'400'000);
    e.max_tickets_per_user = 4;
    auto event = node.catalog.create_event(e);
    ASSERT_TRUE(event.ok());
    auto user = node.accounts.create_user("buyer@test", "Buyer", "x", core::Role::User, clock.now());
    ASSERT_TRUE(user.ok());
    buyer = user->id;
    app::HoldInput in;
    in.event_id = event->id;
    in.seats = {0, 1};
    auto hold = node.sales.hold(buyer, in);
    ASSERT_TRUE(hold.ok()) << hold.error().message;
    hold_id = hold->hold.id;
    auto first = node.sales.checkout(buyer, hold_id, "key-1", "pm_card_visa");
    ASSERT_FALSE(first.ok());
    EXPECT_EQ(first.error().code, core::Code::Unavailable) << "the first attempt's outcome is unknown";
  }
  Node node(db, gateway, clock);
  node.ledger.hide_next_lookup = true;  // the retry's first lookup ran before the first attempt was visible
  auto retry = node.sales.checkout(buyer, hold_id, "key-1", "pm_card_visa");
  ASSERT_TRUE(retry.ok()) << retry.error().message;
  EXPECT_EQ(retry->status, core::BookingStatus::Confirmed);
  EXPECT_EQ(gateway.charges_made(), 1u);

  // Another key for the same hold is still refused: only the same checkout continues.
  auto other = node.sales.checkout(buyer, hold_id, "key-2", "pm_card_visa");
  ASSERT_FALSE(other.ok());
}

}  // namespace
