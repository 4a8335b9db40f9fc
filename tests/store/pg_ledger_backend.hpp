// The distributed ledger as the conformance suite and the ledger simulation drive it, against a real
// PostgreSQL started by scripts/services (TICKETD_TEST_POSTGRES_URL). Each backend gets its own database.
// No Redis front: what is checked is what PostgreSQL decides; pg_ledger_test covers the front.
// restart() drops every connection and the ledger object, as a node's restart would.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "app/ticket_codes.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::conformance {

class PostgresBackend {
 public:
  PostgresBackend() {
    const char* base = std::getenv("TICKETD_TEST_POSTGRES_URL");
    if (!base || !*base) throw std::runtime_error("run under scripts/services: TICKETD_TEST_POSTGRES_URL is unset");
    static int counter = 0;
    const std::string db = "conformance_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    {
      store::postgres::Connection admin(base);
      admin.exec("CREATE DATABASE " + db);
    }
    const std::string url(base);
    url_ = url.substr(0, url.rfind('/') + 1) + db;
    {
      store::postgres::Connection c(url_);
      store::postgres::migrate(c);
    }
    open();
  }
  core::Ledger& ledger() { return *ledger_; }
  core::Event add_event(core::Event e, const core::Layout& layout, TimeMs now) {
    auto venue = catalog_->create_venue(layout, 0, now);
    EXPECT_TRUE(venue.ok());
    e.venue_id = *venue;
    auto created = catalog_->create_event(e, now);
    EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
    return *created;
  }
  core::UserId add_user(const std::string& name, TimeMs now) {
    auto u = accounts_->create_user(name + "@conformance.test", name, "x", core::Role::User, now);
    EXPECT_TRUE(u.ok());
    return u->id;
  }
  void move_event(const core::Event& e, TimeMs now) {
    ASSERT_TRUE(catalog_->postpone_event(e.id, e.starts_at, e.on_sale_at, now).ok());
    ledger_->event_dates_changed(e);
  }
  void restart() {
    ledger_.reset();
    accounts_.reset();
    catalog_.reset();
    pool_.reset();
    open();
  }

 private:
  void open() {
    pool_ = std::make_unique<store::postgres::Pool>(url_, 4);
    catalog_ = std::make_unique<store::postgres::PgCatalogStore>(*pool_);
    accounts_ = std::make_unique<store::postgres::PgAccountStore>(*pool_);
    ledger_ = std::make_unique<store::postgres::PgLedger>(*pool_, ticket_ids_, nullptr, nullptr);
  }
  std::string url_;
  app::RandomTicketIds ticket_ids_;
  std::unique_ptr<store::postgres::Pool> pool_;
  std::unique_ptr<store::postgres::PgCatalogStore> catalog_;
  std::unique_ptr<store::postgres::PgAccountStore> accounts_;
  std::unique_ptr<store::postgres::PgLedger> ledger_;
};

}  // namespace ticketd::conformance
