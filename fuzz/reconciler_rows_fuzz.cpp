// Target: the reconciler over stored rows it did not write. A free hold checked out through the Stripe
// adapter once stored a payment the adapter asserted on, and the reconciler took it back into the
// assertion after every restart (issue "Security and account safety", finding 1). No stored row may
// reach an assertion: whatever the payments and bookings tables hold, opening the store and
// reconciling must not crash, hang or leak.
//
// Setup (once): an embedded store with a buyer, an event and kPending checkouts whose gateway never
// answered (PENDING_PAYMENT, no payment reference), like the ones a crash leaves. Its database file
// is kept as a template.
// Each input: the template is copied to a scratch directory; the input's edits are applied to it with
// plain SQL (byte 0: how many edits; then per edit a table, a row, a column and a value of some type);
// the store is opened as `ticketd serve` would open it after a restart, and the reconciler makes two
// passes with the gateway byte 1 picks: the Stripe adapter (its validation, then a refused
// connection) or the in-process test gateway. The CHECK constraints of the schema refuse some edits;
// those are part of the input too.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "app/catalog.hpp"
#include "base/metrics.hpp"
#include "app/password.hpp"
#include "app/payments.hpp"
#include "app/sales.hpp"
#include "app/ticket_codes.hpp"
#include "payments/stripe/stripe_gateway.hpp"
#include "payments/test/test_gateway.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace {

using namespace ticketd;
namespace fs = std::filesystem;

constexpr int kPending = 12;
constexpr int kEditsMax = 12;

[[noreturn]] void setup_failed(const char* what) {
  std::fprintf(stderr, "reconciler fuzz setup: %s\n", what);
  std::abort();
}

// A gateway nobody listens at: every call the adapter lets through ends as "unreachable" at once.
payments::StripeConfig unreachable_stripe() {
  payments::StripeConfig c;
  c.api_base = "http://127.0.0.1:9";  // discard port: connection refused
  c.secret_key = "sk_test_fuzz";
  c.connect_timeout = std::chrono::milliseconds(200);
  c.request_timeout = std::chrono::milliseconds(200);
  c.attempts_max = 1;
  return c;
}

struct Scratch {
  std::string dir;
  std::string template_bytes;  // the database file with kPending pending checkouts
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void make_template(Scratch& s) {
  SystemClock clock;
  Metrics metrics;
  {
    store::sqlite::Database db(s.dir, nullptr);
    store::sqlite::SqliteCatalogStore catalog_store(db);
    app::RandomTicketIds ids;
    store::sqlite::SqliteLedger ledger(db, ids);
    store::sqlite::SqliteAccountStore accounts(db);
    app::Catalog catalog(catalog_store, ledger, clock);
    payments::StripeGateway gateway(unreachable_stripe());
    app::Sales sales(ledger, catalog, gateway, clock, Millis(600'000), metrics);
    core::LayoutSpec spec{"Hall", {{"Floor", "A", {{"A", 40, {}, {}, {}}}}}};
    auto venue = catalog.create_venue(spec);
    if (!venue) setup_failed("venue");
    core::Event e;
    e.name = "Reconciled";
    e.venue_id = (*venue)->id;
    e.currency = "EUR";
    e.prices = {{"A", 1000}};
    e.on_sale_at = clock.now() - Millis(60'000);
    e.starts_at = clock.now() + Millis(30LL * 86'400'000);
    e.max_tickets_per_user = 40;
    auto event = catalog.create_event(e);
    if (!event) setup_failed("event");
    for (int i = 0; i < kPending; ++i) {
      // One buyer per checkout: a pending checkout keeps its hold live, and buyers have few at once.
      auto user = accounts.create_user("buyer" + std::to_string(i) + "@fuzz.test", "Buyer", "x", core::Role::User,
                                       clock.now());
      if (!user) setup_failed("user");
      app::HoldInput in;
      in.event_id = event->id;
      in.seats = {static_cast<core::SeatId>(i)};
      auto hold = sales.hold(user->id, in);
      if (!hold) setup_failed("hold");
      // The gateway cannot be reached: the booking stays PENDING_PAYMENT for the reconciler.
      (void)sales.checkout(user->id, hold->hold.id, "fuzz-key-" + std::to_string(i), "pm_card_visa");
    }
  }
  s.template_bytes = read_file(fs::path(s.dir) / store::sqlite::kDatabaseFile);
  if (s.template_bytes.empty()) setup_failed("template");
}

Scratch& scratch() {
  static Scratch* s = [] {
    spdlog::set_level(spdlog::level::off);
    app::crypto_init();
    auto* out = new Scratch;
    std::string pattern = (fs::temp_directory_path() / "ticketd-fuzz-reconciler-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) setup_failed("mkdtemp");
    out->dir = pattern;
    // libFuzzer ends the process with exit(): the scratch directory (template, per-input store) goes
    // with it, also when the target is run by hand rather than by scripts/fuzz (whose TMPDIR it removes).
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(scratch().dir, ignored);
    });
    make_template(*out);
    return out;
  }();
  return *s;
}

struct Column {
  const char* table;
  const char* name;
  const char* key = "rowid";  // hold_seats has no rowid: its rows are named by their hold
};
constexpr Column kColumns[] = {
    {"payments", "amount"},       {"payments", "currency"},    {"payments", "gateway_key"},
    {"payments", "payment_ref"},  {"payments", "status"},      {"payments", "payment_method"},
    {"payments", "booking_id"},   {"payments", "hold_id"},     {"payments", "user_id"},
    {"payments", "created_at"},   {"payments", "refund_ref"},  {"bookings", "status"},
    {"bookings", "total_amount"}, {"bookings", "currency"},    {"bookings", "hold_id"},
    {"bookings", "event_id"},     {"bookings", "user_id"},     {"holds", "state"},
    {"holds", "expires_at"},      {"hold_seats", "seat", "hold_id"}, {"events", "currency"},
};
const char* const kStatuses[] = {"PENDING", "REQUIRES_ACTION", "SUCCEEDED", "DECLINED", "REFUNDED",
                                 "PENDING_PAYMENT", "CONFIRMED", "FAILED", "CANCELLED", "ACTIVE", "RELEASED"};

void apply_edits(const std::string& path, FuzzedDataProvider& in) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) setup_failed("open for edits");
  const int edits = in.ConsumeIntegralInRange<int>(0, kEditsMax);
  for (int i = 0; i < edits && in.remaining_bytes() > 0; ++i) {
    const Column& col = kColumns[in.ConsumeIntegralInRange<size_t>(0, std::size(kColumns) - 1)];
    const std::string sql =
        std::string("UPDATE ") + col.table + " SET " + col.name + " = ?1 WHERE " + col.key + " = ?2";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) setup_failed(sqlite3_errmsg(db));
    switch (in.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: sqlite3_bind_int64(st, 1, in.ConsumeIntegral<int64_t>()); break;
      case 1: {
        const std::string text = in.ConsumeRandomLengthString(80);
        sqlite3_bind_text(st, 1, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        break;
      }
      case 2: sqlite3_bind_text(st, 1, kStatuses[in.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)], -1,
                                SQLITE_STATIC); break;
      default: sqlite3_bind_null(st, 1); break;
    }
    sqlite3_bind_int64(st, 2, in.ConsumeIntegralInRange<int64_t>(0, kPending + 1));
    (void)sqlite3_step(st);  // a CHECK or NOT NULL constraint may refuse it: that edit did not happen
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Scratch& s = scratch();
  FuzzedDataProvider in(data, size);
  const bool stripe = in.ConsumeBool();
  const fs::path dir = fs::path(s.dir) / "run";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / store::sqlite::kDatabaseFile).string();
  {
    std::ofstream out(path, std::ios::binary);
    out.write(s.template_bytes.data(), static_cast<std::streamsize>(s.template_bytes.size()));
  }
  apply_edits(path, in);

  SystemClock clock;
  Metrics metrics;
  store::sqlite::Database db(dir.string(), nullptr);  // a restart over the edited rows
  app::RandomTicketIds ids;
  store::sqlite::SqliteLedger ledger(db, ids);
  payments::TestGateway test_gateway;
  std::unique_ptr<payments::StripeGateway> stripe_gateway;
  if (stripe) stripe_gateway = std::make_unique<payments::StripeGateway>(unreachable_stripe());
  core::PaymentGateway& gateway = stripe ? static_cast<core::PaymentGateway&>(*stripe_gateway) : test_gateway;
  app::Payments payments(ledger, gateway, nullptr, clock, Millis(0), metrics, Millis(1));  // every wait is over
  for (int pass = 0; pass < 2; ++pass) (void)payments.reconcile();
  return 0;
}
