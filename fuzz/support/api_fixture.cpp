#include "fuzz/support/api_fixture.hpp"

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "app/accounts.hpp"
#include "app/catalog.hpp"
#include "app/lottery.hpp"
#include "base/metrics.hpp"
#include "app/notifications.hpp"
#include "app/password.hpp"
#include "app/payments.hpp"
#include "app/sales.hpp"
#include "app/seat_stream.hpp"
#include "app/waiting_room.hpp"
#include "payments/stripe/event_verifier.hpp"
#include "payments/test/test_gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/waiting_room.hpp"
#include "app/ticket_codes.hpp"

namespace ticketd::fuzz {
namespace {

[[noreturn]] void setup_failed(const char* what) {
  std::fprintf(stderr, "fuzz fixture: %s\n", what);
  std::abort();
}

template <typename T>
T must(core::Result<T> result, const char* what) {
  if (!result) setup_failed(what);
  return std::move(*result);
}

// Owns everything; never destroyed (libFuzzer exits the process), so no teardown order to get wrong.
struct Stack {
  SystemClock clock;
  Metrics metrics;
  app::Catalog* catalog_for_stream = nullptr;
  app::SeatStream seat_stream{[this](core::EventId id) { return catalog_for_stream->seat_map(id); }, 1};
  std::string data_dir;
  std::unique_ptr<store::sqlite::Database> db;
  std::unique_ptr<store::sqlite::SqliteAccountStore> accounts_store;
  std::unique_ptr<store::sqlite::SqliteCatalogStore> catalog_store;
  app::RandomTicketIds ticket_ids;
  std::unique_ptr<store::sqlite::SqliteLedger> ledger;
  std::unique_ptr<store::sqlite::SqliteOutbox> outbox;
  std::unique_ptr<store::sqlite::SqliteWaitingRoomStore> queue_store;
  payments::TestGateway gateway;
  std::unique_ptr<payments::StripeEventVerifier> verifier;
  std::unique_ptr<app::TokenKeys> keys;
  std::unique_ptr<app::Accounts> accounts;
  std::unique_ptr<app::Catalog> catalog;
  std::unique_ptr<app::WaitingRoom> waiting_room;
  std::unique_ptr<app::Sales> sales;
  std::unique_ptr<app::Notifications> notifications;
  std::unique_ptr<app::Payments> payments;
  std::unique_ptr<http::Api> api;
  ApiFixture view;
};

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ticketd-fuzz-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) setup_failed("mkdtemp");
  return pattern;
}

core::LayoutSpec small_layout() {
  core::LayoutSpec spec{"Fuzz Hall", {}};
  for (const char* section : {"Floor", "Balcony"}) {
    core::SectionSpec s{section, section == std::string("Floor") ? "A" : "B", {}};
    for (const char* row : {"A", "B", "C"}) s.rows.push_back(core::RowSpec{row, 10, {1}, {2}, {10}});
    spec.sections.push_back(std::move(s));
  }
  return spec;
}

core::Event draft_event(Stack& s, const char* name, bool queued) {
  core::Event e;
  e.name = name;
  e.venue_id = s.view.venue_id;
  e.currency = "EUR";
  e.prices = {{"A", 5000}, {"B", 2500}};
  e.on_sale_at = s.clock.now() - Millis(60'000);
  e.starts_at = s.clock.now() + Millis(30LL * 86'400'000);
  e.max_tickets_per_user = 100;
  if (queued) e.waiting_room = core::WaitingRoomSettings{true, 50, Millis(1'000), Millis(600'000), Millis(3'600'000)};
  return e;
}

void wire(Stack& s) {
  s.data_dir = make_temp_dir();
  s.db = std::make_unique<store::sqlite::Database>(s.data_dir, &s.metrics);
  s.accounts_store = std::make_unique<store::sqlite::SqliteAccountStore>(*s.db);
  s.catalog_store = std::make_unique<store::sqlite::SqliteCatalogStore>(*s.db);
  s.ledger = std::make_unique<store::sqlite::SqliteLedger>(*s.db, s.ticket_ids, &s.seat_stream);
  s.outbox = std::make_unique<store::sqlite::SqliteOutbox>(*s.db);
  s.queue_store = std::make_unique<store::sqlite::SqliteWaitingRoomStore>(*s.db);
  s.view.webhook_secret = "whsec_fuzzing_fixture_secret";
  s.verifier = std::make_unique<payments::StripeEventVerifier>(std::vector<std::string>{s.view.webhook_secret});
  s.keys = std::make_unique<app::TokenKeys>(std::vector<std::string>{"fuzz-queue-secret-0123456789abcdef"});
  s.accounts = std::make_unique<app::Accounts>(*s.accounts_store, s.clock, Millis(86'400'000), s.metrics);
  s.catalog = std::make_unique<app::Catalog>(*s.catalog_store, *s.ledger, s.clock);
  s.catalog_for_stream = s.catalog.get();
  s.waiting_room = std::make_unique<app::WaitingRoom>(*s.queue_store, *s.catalog, *s.ledger, *s.keys, s.clock,
                                                      s.metrics, app::make_seed);
  s.sales = std::make_unique<app::Sales>(*s.ledger, *s.catalog, s.gateway, s.clock, Millis(600'000), s.metrics,
                                         s.waiting_room.get(), Millis(120'000));
  app::NotifyConfig notify;
  notify.owner = "fuzz";
  s.notifications = std::make_unique<app::Notifications>(*s.outbox, *s.ledger, *s.catalog, *s.accounts_store,
                                                         std::vector<core::NotificationChannel*>{}, s.clock, notify,
                                                         s.metrics);
  s.payments = std::make_unique<app::Payments>(*s.ledger, s.gateway, s.verifier.get(), s.clock, Millis(120'000),
                                               s.metrics);
  s.api = std::make_unique<http::Api>(http::Services{*s.accounts, *s.catalog, *s.sales, *s.payments, *s.notifications,
                                                     s.metrics, [](std::string&) {}, s.waiting_room.get(),
                                                     &s.seat_stream, nullptr});
}

void seed(Stack& s) {
  if (!s.accounts->ensure_admin("admin@fuzz.test", "admin-password-1")) setup_failed("admin");
  s.view.admin_token = must(s.accounts->login("admin@fuzz.test", "admin-password-1"), "admin login").token;
  s.view.buyer_id = must(s.accounts->register_user("buyer@fuzz.test", "buyer-password-1", "Buyer"), "buyer").id;
  s.view.buyer_token = must(s.accounts->login("buyer@fuzz.test", "buyer-password-1"), "buyer login").token;
  s.view.venue_id = must(s.catalog->create_venue(small_layout()), "venue")->id;
  s.view.open_event = must(s.catalog->create_event(draft_event(s, "Open Sale", false)), "open event").id;
  s.view.queued_event = must(s.catalog->create_event(draft_event(s, "Queued Sale", true)), "queued event").id;
  // The buyer waits in the room, so queue routes have a real place to look up.
  must(s.waiting_room->join(s.view.buyer_id, s.view.queued_event), "join queue");
}

}  // namespace

const ApiFixture& api_fixture() {
  static Stack* stack = [] {
    spdlog::set_level(spdlog::level::off);  // handlers log refusals; millions of lines help nobody
    app::crypto_init();
    auto* s = new Stack;
    wire(*s);
    seed(*s);
    s->view.api = s->api.get();
    s->view.queue_keys = s->keys.get();
    return s;
  }();
  return stack->view;
}

void check_response(const http::Request& request, const http::Response& response) {
  const bool allowed = (response.status >= 200 && response.status <= 499) || response.status == 503;
  if (!allowed) {
    std::fprintf(stderr, "fuzz: %s %.200s answered %d: %.500s\n", request.method.c_str(), request.target.c_str(),
                 response.status, response.body.c_str());
    __builtin_trap();
  }
  if (response.content_type == "application/json" && !response.body.empty()) {
    boost::system::error_code ec;
    boost::json::parse(response.body, ec);
    if (ec) {
      std::fprintf(stderr, "fuzz: %s %.200s answered invalid JSON: %.500s\n", request.method.c_str(),
                   request.target.c_str(), response.body.c_str());
      __builtin_trap();
    }
  }
}

}  // namespace ticketd::fuzz
