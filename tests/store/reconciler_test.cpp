// The reconciler's fairness over the real SQLite store (issue "Security and account safety", finding 5):
// it took the oldest kReconcileBatchMax pending payments every pass, so that many payments it could
// not settle kept it from ever reaching a newer one whose reply and webhook were lost.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "app/payments.hpp"
#include "app/sales.hpp"
#include "app/ticket_codes.hpp"
#include "payments/test/test_gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

using namespace ticketd;

namespace {

// The test gateway behind a switch: a charge it is told to drop gets no answer (as from a gateway
// that cannot be reached), the rest are the test gateway's.
class SwitchedGateway final : public core::PaymentGateway {
 public:
  std::function<bool(const core::ChargeRequest&)> answers = [](const core::ChargeRequest&) { return false; };
  core::Result<core::ChargeResult> charge(const core::ChargeRequest& r) override {
    if (!answers(r)) return core::make_error(core::Code::Unavailable, "the gateway did not answer");
    return inner_.charge(r);
  }
  core::Result<core::ChargeResult> retrieve(const std::string& ref) override { return inner_.retrieve(ref); }
  core::Result<core::ChargeResult> cancel(const std::string& ref, const std::string& key) override {
    return inner_.cancel(ref, key);
  }
  core::Result<std::string> refund(const std::string& ref, int64_t amount, const std::string& key) override {
    return inner_.refund(ref, amount, key);
  }

 private:
  payments::TestGateway inner_;
};

TEST(Reconciler, PaymentsItCannotSettleDoNotKeepItFromANewerOne) {
  test_support::TempDir dir;
  SystemClock clock;
  Metrics metrics;
  store::sqlite::Database db(dir.path.string(), nullptr);
  store::sqlite::SqliteCatalogStore catalog_store(db);
  app::RandomTicketIds ids;
  store::sqlite::SqliteLedger ledger(db, ids);
  store::sqlite::SqliteAccountStore accounts(db);
  app::Catalog catalog(catalog_store, ledger, clock);
  SwitchedGateway gateway;
  app::Sales sales(ledger, catalog, gateway, clock, Millis(600'000), metrics);
  const uint32_t stuck = app::Payments::kReconcileBatchMax + 20;

  core::LayoutSpec spec{"Hall", {{"Floor", "A", {{"A", stuck + 1, {}, {}, {}}}}}};
  auto venue = catalog.create_venue(spec);
  ASSERT_TRUE(venue.ok());
  core::Event e;
  e.name = "Reconciled";
  e.venue_id = (*venue)->id;
  e.currency = "EUR";
  e.prices = {{"A", 1000}};
  e.on_sale_at = clock.now() - Millis(60'000);
  e.starts_at = clock.now() + Millis(30LL * 86'400'000);
  e.max_tickets_per_user = 1;
  auto event = catalog.create_event(e);
  ASSERT_TRUE(event.ok());
  // stuck + 1 checkouts the gateway never answered, one buyer each (a pending checkout keeps its hold).
  core::UserId late_buyer = 0;
  for (uint32_t i = 0; i <= stuck; ++i) {
    auto user = accounts.create_user("buyer" + std::to_string(i) + "@test", "Buyer", "x", core::Role::User, clock.now());
    ASSERT_TRUE(user.ok());
    app::HoldInput in;
    in.event_id = event->id;
    in.seats = {i};
    auto hold = sales.hold(user->id, in);
    ASSERT_TRUE(hold.ok()) << hold.error().message;
    auto booked = sales.checkout(user->id, hold->hold.id, "key-" + std::to_string(i), "pm_card_visa");
    ASSERT_FALSE(booked.ok());
    ASSERT_EQ(booked.error().code, core::Code::Unavailable);
    late_buyer = user->id;
  }
  auto pending = sales.bookings(late_buyer, 10, 0, true);
  ASSERT_EQ(pending.size(), 1u);
  const core::BookingId late = pending[0].id;
  ASSERT_EQ(pending[0].status, core::BookingStatus::PendingPayment);

  // The gateway is back for the newest payment only; the older ones still get no answer.
  gateway.answers = [late](const core::ChargeRequest& r) { return r.booking_id == late; };
  app::Payments payments(ledger, gateway, nullptr, clock, Millis(0), metrics, Millis(600'000));
  const app::ReconcileReport first = payments.reconcile();
  EXPECT_EQ(first.examined, app::Payments::kReconcileBatchMax);
  EXPECT_EQ(first.settled, 0u);
  EXPECT_EQ(sales.booking(late_buyer, late)->status, core::BookingStatus::PendingPayment);
  const app::ReconcileReport second = payments.reconcile();  // goes on from where the first stopped
  EXPECT_EQ(second.examined, stuck + 1 - app::Payments::kReconcileBatchMax);
  EXPECT_EQ(second.settled, 1u);
  EXPECT_EQ(sales.booking(late_buyer, late)->status, core::BookingStatus::Confirmed);
  // And round again from the oldest: the stuck ones are still asked about.
  EXPECT_EQ(payments.reconcile().examined, app::Payments::kReconcileBatchMax);
}

}  // namespace
