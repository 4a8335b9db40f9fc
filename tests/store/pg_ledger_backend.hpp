// The distributed ledger as the conformance suite and the ledger simulation drive it, against a real
// PostgreSQL started by scripts/services (TICKETD_TEST_POSTGRES_URL). Each backend gets its own database.
// No Redis: what is checked is what the event's owner decides and PostgreSQL keeps.
// restart() drops every connection and the ledger object, as a node's restart would.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "app/ticket_codes.hpp"
#include "ledger_backends.hpp"
#include "pg_database.hpp"
#include "store/engine/seat_engine.hpp"
#include "store/postgres/event_owners.hpp"
#include "store/postgres/owner_commit.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/seat_journal.hpp"

namespace ticketd::conformance {

// The distributed ledger: the seat engine deciding in memory as the event's owner, over the PostgreSQL
// journal (fenced by its ownership lease).
struct OwnerEngine {
  store::postgres::EventOwners owners;
  store::postgres::OwnerCommit commit;
  store::postgres::PgSeatJournal journal;
  store::engine::SeatEngine engine;
  // Each start is a new node (a process's name is unique across restarts), as after a real restart.
  OwnerEngine(store::postgres::Pool& pool, const std::string& url, core::TicketIdSource& ids, int start)
      : owners(pool, "conformance-node-" + std::to_string(start), "127.0.0.1:1", std::chrono::seconds(30)),
        commit(url, owners.node()),
        journal(pool, owners, commit),
        engine(journal, ids) {
    journal.set_on_lost([this](core::EventId event) { engine.forget_event(event); });  // as serve wires it
  }
  core::Ledger& get() { return engine; }
};

// Two owners over one database, one deciding at a time. move() has the other one take every event over
// while the current one is paused: not stopped, not told, its memory still holding the events, as when
// a node found the owner's address refusing connections (EventOwners::take_from) while the owner was
// only frozen. The paused one may then try a decision (paused()), which the epoch fence must refuse.
// Before deciding again, a node renews its leases, which makes it forget what it lost meanwhile.
struct MovingOwners {
  std::unique_ptr<OwnerEngine> nodes[2];
  int current = 0;
  MovingOwners(store::postgres::Pool& pool, const std::string& url, core::TicketIdSource& ids, int start)
      : nodes{std::make_unique<OwnerEngine>(pool, url, ids, 2 * start),
              std::make_unique<OwnerEngine>(pool, url, ids, 2 * start + 1)} {}
  core::Ledger& get() { return nodes[current]->engine; }
  core::Ledger& paused() { return nodes[1 - current]->engine; }
  void move(const std::vector<core::EventId>& events) {
    OwnerEngine& next = *nodes[1 - current];
    next.journal.renew_leases();  // what it lost since it last decided is forgotten, to be loaded afresh
    for (core::EventId e : events)
      if (auto o = next.owners.owner_of(e); o && o->owner != next.owners.node()) {
        EXPECT_TRUE(next.owners.take_from(*o));
      }
    current = 1 - current;
  }
};

template <class Decider>
class PgBackend {
 public:
  PgBackend() {
    url_ = store::postgres::fresh_migrated_database("conformance");
    open();
  }
  core::Ledger& ledger() { return decider_->get(); }
  core::Event add_event(core::Event e, const core::Layout& layout, TimeMs now) {
    core::Event stored = stored_event(*catalog_, std::move(e), layout, now);
    event_ids_.push_back(stored.id);
    return stored;
  }
  // MovingOwners only: ownership of every event moves to the other node (see MovingOwners).
  void move_owner()
    requires requires(Decider d) { d.move(std::vector<core::EventId>{}); }
  {
    decider_->move(event_ids_);
  }
  core::Ledger& paused_ledger()
    requires requires(Decider d) { d.paused(); }
  {
    return decider_->paused();
  }
  core::UserId add_user(const std::string& name, TimeMs now) { return stored_user(*accounts_, name, now); }
  void move_event(const core::Event& e, TimeMs now) { moved_event(*catalog_, ledger(), e, now); }
  void restart() {
    decider_.reset();
    accounts_.reset();
    catalog_.reset();
    pool_.reset();
    open();
  }
  const std::string& url() const { return url_; }
  // `ticketd verify --store postgres`: the database's own consistency checks, as of `now`.
  void audit(TimeMs now) {
    std::string report;
    EXPECT_TRUE(store::postgres::verify_database(url_, now, report)) << report;
  }

 private:
  void open() {
    pool_ = std::make_unique<store::postgres::Pool>(url_, 4);
    catalog_ = std::make_unique<store::postgres::PgCatalogStore>(*pool_);
    accounts_ = std::make_unique<store::postgres::PgAccountStore>(*pool_);
    decider_ = std::make_unique<Decider>(*pool_, url_, ticket_ids_, ++starts_);
  }
  std::string url_;
  std::vector<core::EventId> event_ids_;
  int starts_ = 0;
  app::RandomTicketIds ticket_ids_;
  std::unique_ptr<store::postgres::Pool> pool_;
  std::unique_ptr<store::postgres::PgCatalogStore> catalog_;
  std::unique_ptr<store::postgres::PgAccountStore> accounts_;
  std::unique_ptr<Decider> decider_;
};
using PostgresOwnerBackend = PgBackend<OwnerEngine>;
using PostgresMovingOwnersBackend = PgBackend<MovingOwners>;

}  // namespace ticketd::conformance
