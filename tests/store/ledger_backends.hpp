// The ledgers the conformance suite and the ledger simulation drive, each with what a test needs around
// it (ledger_conformance.hpp names the shape): the reference (memory) and the embedded one (SQLite).
// SqliteBackend::restart() closes the database and opens it again, as a process restart would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/ticket_codes.hpp"
#include "store/memory/memory_ledger.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "support/temp_dir.hpp"

namespace ticketd::conformance {

// What every durable backend does the same way through its catalogue and account stores.
inline core::Event stored_event(core::CatalogStore& catalog, core::Event e, const core::Layout& layout, TimeMs now) {
  auto venue = catalog.create_venue(layout, 0, now);
  EXPECT_TRUE(venue.ok());
  e.venue_id = *venue;
  auto created = catalog.create_event(e, now);
  EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
  return *created;
}
inline core::UserId stored_user(core::AccountStore& accounts, const std::string& name, TimeMs now) {
  auto u = accounts.create_user(name + "@conformance.test", name, "x", core::Role::User, now);
  EXPECT_TRUE(u.ok());
  return u->id;
}
// An event on sale since a second before `now`, a day ahead, in a hall of one row of `seats` at 100 each.
inline core::Event stored_row_event(core::CatalogStore& catalog, const std::string& name, uint32_t seats,
                                    uint32_t tickets_per_user_max, core::Layout& layout, TimeMs now) {
  using namespace std::chrono_literals;
  core::LayoutSpec spec{"Hall", {core::SectionSpec{"Floor", "standard", {core::RowSpec{"A", seats, {}, {}, {}}}}}};
  layout = *core::Layout::build(spec);
  core::Event e;
  e.name = name;
  e.on_sale_at = now - 1s;
  e.starts_at = now + std::chrono::days(1);
  e.currency = "USD";
  e.prices = {{"standard", 100}};
  e.max_tickets_per_user = tickets_per_user_max;
  e.seats_total = seats;
  return stored_event(catalog, std::move(e), layout, now);
}
// A postponement as the catalogue does it: the new dates stored, then the ledger told.
inline void moved_event(core::CatalogStore& catalog, core::Ledger& ledger, const core::Event& e, TimeMs now) {
  ASSERT_TRUE(catalog.postpone_event(e.id, e.starts_at, e.on_sale_at, now).ok());
  ledger.event_dates_changed(e);
}

class MemoryBackend {
 public:
  core::Ledger& ledger() { return ledger_; }
  core::Event add_event(core::Event e, const core::Layout&, TimeMs) {
    e.id = next_event_id_++;
    e.venue_id = 1;
    return e;
  }
  core::UserId add_user(const std::string&, TimeMs) { return next_user_id_++; }
  void move_event(const core::Event& e, TimeMs) { ledger_.event_dates_changed(e); }
  void restart() {}  // nothing is durable, so nothing is lost: the reference is what survives

 private:
  app::RandomTicketIds ticket_ids_;
  store::memory::MemoryLedger ledger_{ticket_ids_};
  core::EventId next_event_id_ = 1;
  core::UserId next_user_id_ = 1;
};

class SqliteBackend {
 public:
  SqliteBackend() { open(); }
  core::Ledger& ledger() { return *ledger_; }
  core::Event add_event(core::Event e, const core::Layout& layout, TimeMs now) {
    return stored_event(*catalog_, std::move(e), layout, now);
  }
  core::UserId add_user(const std::string& name, TimeMs now) { return stored_user(*accounts_, name, now); }
  void move_event(const core::Event& e, TimeMs now) { moved_event(*catalog_, *ledger_, e, now); }
  void restart() {
    ledger_.reset();
    accounts_.reset();
    catalog_.reset();
    db_.reset();
    open();
  }

 private:
  void open() {
    db_ = std::make_unique<store::sqlite::Database>(dir_.path.string(), nullptr);
    catalog_ = std::make_unique<store::sqlite::SqliteCatalogStore>(*db_);
    accounts_ = std::make_unique<store::sqlite::SqliteAccountStore>(*db_);
    ledger_ = std::make_unique<store::sqlite::SqliteLedger>(*db_, ticket_ids_);
  }
  test_support::TempDir dir_;
  app::RandomTicketIds ticket_ids_;
  std::unique_ptr<store::sqlite::Database> db_;
  std::unique_ptr<store::sqlite::SqliteCatalogStore> catalog_;
  std::unique_ptr<store::sqlite::SqliteAccountStore> accounts_;
  std::unique_ptr<store::sqlite::SqliteLedger> ledger_;
};

}  // namespace ticketd::conformance
