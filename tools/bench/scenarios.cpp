#include "scenarios.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>
#include <unistd.h>

namespace ticketd::bench {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint32_t kProvisionBatchMax = 10'000;  // = ticketd's provisioned_users_per_request_max
constexpr size_t kProvisionWorkers = 4;          // a bulk request hashes once, then it is all SQLite
constexpr uint32_t kSeatsPerRow = 100;
constexpr uint32_t kRowsPerSection = 50;
constexpr int kQueuePollsMax = 10'000;  // one buyer never polls forever
constexpr size_t kAuditWorkers = 16;
// checkout-micro holds every seat before checking any out: one buyer per this many seats keeps each
// buyer within ticketd's default cap on live holds per user (--holds-per-user-max, 10).
constexpr uint32_t kCheckoutHoldsPerBuyer = 10;

std::optional<json::value> parse(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return std::nullopt;
  return v;
}

// A 2xx body as JSON; one that is not JSON reads as null, so every field of it reads as 0 or "".
json::value parse_or_null(const std::string& body) {
  return parse(body).value_or(json::value(nullptr));
}

int64_t int_field(const json::value& v, const char* name) {
  const json::value* f = v.is_object() ? v.as_object().if_contains(name) : nullptr;
  return f && f->is_int64() ? f->as_int64() : 0;
}

std::string string_field(const json::value& v, const char* name) {
  const json::value* f = v.is_object() ? v.as_object().if_contains(name) : nullptr;
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

std::vector<uint32_t> seat_list(const json::value& v) {
  std::vector<uint32_t> out;
  const json::value* f = v.is_object() ? v.as_object().if_contains("seat_ids") : nullptr;
  if (!f || !f->is_array()) return out;
  for (const auto& s : f->as_array())
    if (s.is_int64()) out.push_back(static_cast<uint32_t>(s.as_int64()));
  return out;
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string seat_ids_body(const std::vector<uint32_t>& seats) {
  json::array a;
  for (uint32_t s : seats) a.push_back(s);
  return json::serialize(json::object{{"seat_ids", std::move(a)}});
}

int64_t resident_bytes(int pid) {
  if (pid <= 0) return -1;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

double seconds_since(SteadyTime t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Setup shared by the scenarios: an administrator session, a venue, an event, buyers with sessions.
struct Sale {
  std::string admin_token;
  int64_t event_id = 0;
  uint32_t seats_total = 0;
  std::vector<std::string> tokens;  // buyer i's bearer token
};

// Runs one setup request on a single worker; aborts the run (returns a failed Reply) on transport errors.
Reply once(Engine& engine, const RequestSpec& spec) {
  Reply out;
  engine.run(1, [&](Worker& w) -> asio::awaitable<void> { out = co_await w.conn.request(spec); });
  return out;
}

bool fail_setup(const char* what, const Reply& r) {
  std::fprintf(stderr, "ticket-bench: %s failed: HTTP %d %s%s\n", what, r.status, r.body.substr(0, 400).c_str(),
               r.error.c_str());
  return false;
}

bool login_admin(const Options& o, Engine& engine, Sale& sale) {
  const std::string body = json::serialize(json::object{{"email", o.admin_email}, {"password", o.admin_password}});
  Reply r = once(engine, {verb::post, "/v1/sessions", body});
  if (r.status != 201) return fail_setup("administrator login", r);
  sale.admin_token = string_field(parse_or_null(r.body), "token");
  return true;
}

json::object venue_body(uint32_t seats, const std::string& tag) {
  json::array sections;
  const uint32_t rows_total = (seats + kSeatsPerRow - 1) / kSeatsPerRow;
  const uint32_t sections_total = (rows_total + kRowsPerSection - 1) / kRowsPerSection;
  uint32_t placed = 0;
  for (uint32_t s = 0; s < sections_total; ++s) {
    json::array rows;
    for (uint32_t r = 0; r < kRowsPerSection && placed < seats; ++r) {
      const uint32_t n = std::min(kSeatsPerRow, seats - placed);
      rows.push_back(json::object{{"label", "R" + std::to_string(r + 1)}, {"seats", n}});
      placed += n;
    }
    // The best fifth of the sections is premium, the next two fifths standard, the rest value.
    const char* tier = s * 5 < sections_total ? "premium" : (s * 5 < sections_total * 3 ? "standard" : "value");
    sections.push_back(
        json::object{{"name", "S" + std::to_string(s + 1)}, {"price_tier", tier}, {"rows", std::move(rows)}});
  }
  return json::object{{"name", "Bench Arena " + tag}, {"sections", std::move(sections)}};
}

bool create_event(const Options& o, Engine& engine, Sale& sale, uint32_t seats, int tickets_per_user,
                  const std::string& tag) {
  const std::string vbody = json::serialize(venue_body(seats, tag));
  Reply v = once(engine, {verb::post, "/v1/venues", vbody, sale.admin_token});
  if (v.status != 201) return fail_setup("venue creation", v);
  const auto venue = std::optional<json::value>(parse_or_null(v.body));
  const auto now = std::chrono::system_clock::now();
  json::object prices{{"premium", 15000}, {"standard", 8500}, {"value", 4500}};
  json::object event{{"name", "Bench " + o.scenario + " " + tag},
                     {"venue_id", int_field(*venue, "id")},
                     {"starts_at", rfc3339(now + std::chrono::hours(24 * 30))},
                     {"on_sale_at", rfc3339(now - std::chrono::minutes(1))},
                     {"currency", "USD"},
                     {"prices", std::move(prices)},
                     {"max_tickets_per_user", tickets_per_user}};
  if (o.waiting_room || o.scenario == "queue") {
    event["waiting_room"] = json::object{
        {"enabled", true}, {"batch_size", o.queue_batch}, {"release_interval_s", o.queue_release_interval_s}};
  }
  const std::string ebody = json::serialize(event);
  Reply e = once(engine, {verb::post, "/v1/events", ebody, sale.admin_token});
  if (e.status != 201) return fail_setup("event creation", e);
  sale.event_id = int_field(parse_or_null(e.body), "id");
  sale.seats_total = static_cast<uint32_t>(int_field(*venue, "seats_total"));
  return sale.event_id > 0 && sale.seats_total == seats;
}

// Provisions `count` buyers through POST /v1/admin/users:bulk, kProvisionBatchMax per request.
bool provision(Engine& engine, Sale& sale, uint64_t count, const std::string& tag) {
  TICKETD_ASSERT(count <= kBuyersMax);
  sale.tokens.assign(count, std::string());
  std::atomic<uint64_t> next{0};
  std::atomic<bool> ok{true};
  const std::string prefix = "bench-" + tag + "-";
  engine.run(kProvisionWorkers, [&](Worker& w) -> asio::awaitable<void> {
    for (uint64_t first; ok && (first = next.fetch_add(kProvisionBatchMax)) < count;) {
      const uint64_t n = std::min<uint64_t>(kProvisionBatchMax, count - first);
      const std::string body = json::serialize(
          json::object{{"email_prefix", prefix}, {"first", first}, {"count", n}, {"name", "Bench Buyer"}});
      Reply r = co_await w.call(Op::Provision, {verb::post, "/v1/admin/users:bulk", body, sale.admin_token});
      const auto v = r.status == 201 ? parse(r.body) : std::nullopt;
      const json::value* users = v ? v->as_object().if_contains("users") : nullptr;
      if (!users || !users->is_array() || users->as_array().size() != n) {
        fail_setup("bulk provisioning", r);
        ok = false;
        co_return;
      }
      for (uint64_t i = 0; i < n; ++i) sale.tokens[first + i] = string_field(users->as_array()[i], "token");
    }
  });
  return ok;
}

// Names this run's accounts. Two runs against one server may start within the same second with the
// same seed (scripts/bench runs its quick scenarios back to back), so the tag also carries the process
// id and microseconds: two runs sharing a tag would collide on the buyers' emails.
std::string run_tag(const Options& o) {
  const auto now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return std::to_string(now_us % 100'000'000'000) + "-" + std::to_string(::getpid()) + "-" + std::to_string(o.seed);
}

// ---------------------------------------------------------------------------------------------------
// Audit.

struct Ledger {
  std::mutex mu;  // guards bookings
  std::vector<Booking> bookings;
};

asio::awaitable<std::optional<json::value>> get_json(Worker& w, const std::string& target, const std::string& token) {
  Reply r = co_await w.call(Op::Audit, {verb::get, target, {}, token});
  if (r.status != 200) co_return std::nullopt;
  co_return parse(r.body);
}

void audit_bookings(const Options& o, Engine& engine, const Sale& sale, const std::vector<Booking>& bookings,
                    Outcome& out) {
  // 1. No seat in two acknowledged bookings (what the buyers were told).
  std::vector<uint8_t> owned(sale.seats_total, 0);
  uint64_t doubled = 0, seats = 0;
  for (const Booking& b : bookings)
    for (uint32_t s : b.seats) {
      if (s >= sale.seats_total || owned[s]++) ++doubled;
      ++seats;
    }
  out.audit.push_back({"no seat in two acknowledged bookings", doubled == 0,
                       std::to_string(bookings.size()) + " bookings, " + std::to_string(seats) + " seats, " +
                           std::to_string(doubled) + " sold twice"});
  // 2. Every acknowledged booking exists, is CONFIRMED and has its seats.
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> missing{0};
  engine.run(std::min(kAuditWorkers, std::max<size_t>(1, bookings.size())), [&](Worker& w) -> asio::awaitable<void> {
    for (size_t i; (i = next.fetch_add(1)) < bookings.size();) {
      const Booking& b = bookings[i];
      auto v = co_await get_json(w, "/v1/bookings/" + std::to_string(b.id), sale.tokens[b.buyer]);
      if (!v || string_field(*v, "status") != "CONFIRMED" || seat_list(*v) != b.seats) ++missing;
    }
  });
  out.audit.push_back(
      {"every acknowledged booking exists and is CONFIRMED", missing == 0,
       std::to_string(missing.load()) + " of " + std::to_string(bookings.size()) + " not found as acknowledged"});
  // 3. Sold seats in the seat map and the event's counts == seats of the acknowledged bookings.
  std::optional<json::value> map, event;
  engine.run(1, [&](Worker& w) -> asio::awaitable<void> {
    map = co_await get_json(w, "/v1/events/" + std::to_string(sale.event_id) + "/seats?format=compact", "");
    event = co_await get_json(w, "/v1/events/" + std::to_string(sale.event_id), "");
  });
  const std::string status = map ? string_field(*map, "status") : std::string();
  uint64_t sold_in_map = 0, unsold_acknowledged = 0;
  for (size_t s = 0; s < status.size(); ++s) {
    sold_in_map += status[s] == 'S';
    if (s < owned.size() && owned[s] && status[s] != 'S') ++unsold_acknowledged;
  }
  const json::value* counts = event ? event->as_object().if_contains("counts") : nullptr;
  const int64_t sold_counted = counts ? int_field(*counts, "sold") : -1;
  out.seats_sold = sold_in_map;
  out.audit.push_back({"sold seats == seats of CONFIRMED bookings",
                       status.size() == sale.seats_total && sold_in_map == seats && unsold_acknowledged == 0 &&
                           sold_counted == static_cast<int64_t>(seats),
                       "seat map S=" + std::to_string(sold_in_map) + ", event counts.sold=" +
                           std::to_string(sold_counted) + ", acknowledged=" + std::to_string(seats) +
                           ", acknowledged but not S=" + std::to_string(unsold_acknowledged)});
  (void)o;
}

void audit_common(const Options& o, Engine& engine, Outcome& out) {
  const Recorder all = engine.merged();
  out.audit.push_back({"zero 5xx", all.server_errors() == 0, std::to_string(all.server_errors()) + " answers 5xx"});
  out.audit.push_back({"every request answered", all.transport_errors() == 0,
                       std::to_string(all.transport_errors()) + " transport failures"});
  if (o.audit_cmd.empty()) return;
  std::fflush(stdout);
  const int rc = std::system(o.audit_cmd.c_str());
  out.audit.push_back({"store audit: " + o.audit_cmd, rc == 0, "exit status " + std::to_string(rc)});
}

// ---------------------------------------------------------------------------------------------------
// Waiting room (issue 5's API): join, then poll until ADMITTED; returns the access token ("" on failure).

asio::awaitable<std::optional<std::string>> queue_join(Worker& w, const Options& o, const Sale& sale, uint64_t buyer,
                                                       std::optional<SteadyTime> intended) {
  const std::string base = "/v1/events/" + std::to_string(sale.event_id) + "/queue";
  Reply r = co_await w.call(Op::QueueJoin, {verb::post, base, "{}", sale.tokens[buyer]}, {}, intended);
  if (!r.ok()) co_return std::nullopt;
  auto v = parse(r.body);
  (void)o;
  co_return v ? std::optional<std::string>(string_field(*v, "queue_token")) : std::nullopt;
}

asio::awaitable<std::string> queue_until_admitted(Worker& w, const Options& o, const Sale& sale, uint64_t buyer,
                                                  std::optional<SteadyTime> intended) {
  auto token = co_await queue_join(w, o, sale, buyer, intended);
  if (!token || token->empty()) co_return std::string();
  const std::string target = "/v1/events/" + std::to_string(sale.event_id) + "/queue/" + *token;
  for (int poll = 0; poll < kQueuePollsMax; ++poll) {
    Reply r = co_await w.call(Op::QueuePoll, {verb::get, target, {}, sale.tokens[buyer]});
    auto v = r.ok() ? parse(r.body) : std::nullopt;
    if (!v) co_return std::string();
    const std::string status = string_field(*v, "status");
    if (status == "ADMITTED") co_return string_field(*v, "access_token");
    // A buyer told the event is sold out leaves (the room would readmit them if holds lapsed).
    if (status == "EXPIRED" || status == "SOLD_OUT") co_return std::string();
    int64_t wait_ms = 1'000;
    if (!r.retry_after.empty() && r.retry_after.find_first_not_of("0123456789") == std::string::npos &&
        r.retry_after.size() < 6)
      wait_ms = std::stoll(r.retry_after) * 1000;
    co_await w.sleep_until(Clock::now() +
                           std::chrono::milliseconds(std::clamp<int64_t>(wait_ms, 50, o.queue_poll_ms_max)));
  }
  co_return std::string();
}

// ---------------------------------------------------------------------------------------------------
// flash-sale

struct FlashState {
  const Options& o;
  const Sale& sale;
  Ledger& ledger;
  SteadyTime load_start;
  std::atomic<uint64_t> next_buyer{0};
  std::atomic<uint64_t> seats_confirmed{0};
  std::atomic<int64_t> sold_out_ns{-1};
};

std::vector<uint32_t> explicit_pick(Worker& w, uint32_t seats_total, uint32_t quantity) {
  const uint32_t rows = (seats_total + kSeatsPerRow - 1) / kSeatsPerRow;
  const uint32_t row = static_cast<uint32_t>(w.uniform(rows));
  const uint32_t row_seats = std::min(kSeatsPerRow, seats_total - row * kSeatsPerRow);
  const uint32_t q = std::min(quantity, row_seats);
  const uint32_t start = static_cast<uint32_t>(w.uniform(row_seats - q + 1));
  std::vector<uint32_t> seats;
  for (uint32_t i = 0; i < q; ++i) seats.push_back(row * kSeatsPerRow + start + i);
  return seats;
}

asio::awaitable<void> buyer(Worker& w, FlashState& st, uint64_t i, std::optional<SteadyTime> intended) {
  const Options& o = st.o;
  const std::string& token = st.sale.tokens[i];
  std::string access;
  if (o.waiting_room) {
    access = co_await queue_until_admitted(w, o, st.sale, i, intended);
    if (access.empty()) co_return;
    intended.reset();  // the hold is sent at once after admission
  }
  const std::string holds = "/v1/events/" + std::to_string(st.sale.event_id) + "/holds";
  const uint32_t quantity = 1 + static_cast<uint32_t>(w.uniform(4));
  const bool explicit_seats = w.uniform(100) < static_cast<uint64_t>(o.explicit_pct);
  std::string body = explicit_seats ? seat_ids_body(explicit_pick(w, st.sale.seats_total, quantity))
                                    : "{\"quantity\":" + std::to_string(quantity) + "}";
  Reply r = co_await w.call(Op::Hold, {verb::post, holds, body, token, {}, access},
                            "409 seat_unavailable|409 insufficient_seats", intended);
  if (r.status == 409 && explicit_seats) {  // the seats picked were taken: take the best left
    body = "{\"quantity\":" + std::to_string(quantity) + "}";
    r = co_await w.call(Op::Hold, {verb::post, holds, body, token, {}, access}, "409 insufficient_seats");
  }
  if (r.status != 201) co_return;
  // ?event= lets a balancer send the hold's calls where its event is decided (deploy/haproxy.cfg).
  const std::string hold_path = "/v1/holds/" + std::to_string(int_field(parse_or_null(r.body), "id"));
  const std::string event_hint = "?event=" + std::to_string(st.sale.event_id);
  const uint64_t roll = w.uniform(100);
  if (roll < static_cast<uint64_t>(o.abandon_pct)) {
    if (roll % 2 == 0) co_await w.call(Op::Release, {verb::delete_, hold_path + event_hint, {}, token});
    co_return;  // the other half walk away and let the hold expire
  }
  const bool declined = w.uniform(100) < static_cast<uint64_t>(o.decline_pct);
  const std::string pay =
      declined ? R"({"payment_method":"pm_card_chargeDeclined"})" : R"({"payment_method":"pm_card_visa"})";
  const std::string key = "bench-" + std::to_string(i);
  const std::string checkout_path = hold_path + "/checkout" + event_hint;
  Reply c = co_await w.call(Op::Checkout, {verb::post, checkout_path, pay, token, key},
                            declined ? "402 payment_failed|410 hold_expired" : "410 hold_expired");
  if (c.status != 201) co_return;
  const json::value booking = parse_or_null(c.body);
  Booking b{int_field(booking, "id"), static_cast<uint32_t>(i), seat_list(booking)};
  const uint64_t sold = st.seats_confirmed.fetch_add(b.seats.size()) + b.seats.size();
  if (sold >= st.sale.seats_total) {
    int64_t unset = -1;
    st.sold_out_ns.compare_exchange_strong(unset, (Clock::now() - st.load_start).count());
  }
  std::lock_guard lock(st.ledger.mu);
  TICKETD_ASSERT(st.ledger.bookings.size() < st.sale.seats_total);  // each booking has >= 1 seat
  st.ledger.bookings.push_back(std::move(b));
}

std::optional<SteadyTime> intended_start(const Options& o, SteadyTime start, uint64_t i) {
  if (o.rate_per_s <= 0) return std::nullopt;
  return start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(i) / o.rate_per_s));
}

std::optional<Outcome> flash_sale(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  if (!login_admin(o, engine, sale) || !create_event(o, engine, sale, o.seats, 4, tag)) return std::nullopt;
  const SteadyTime p0 = Clock::now();
  if (!provision(engine, sale, o.buyers, tag)) return std::nullopt;
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  out.figures.push_back({"provision_users_per_s", static_cast<double>(o.buyers) / seconds_since(p0)});
  Ledger ledger;
  FlashState st{o, sale, ledger, Clock::now()};
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint64_t i; (i = st.next_buyer.fetch_add(1)) < o.buyers;) {
      const auto intended = intended_start(o, st.load_start, i);
      if (intended) co_await w.sleep_until(*intended);
      co_await buyer(w, st, i, intended);
    }
  });
  out.load_seconds = seconds_since(st.load_start);
  out.load_offset_s = std::chrono::duration<double>(st.load_start - engine.start()).count();
  if (st.sold_out_ns >= 0) out.sold_out_seconds = static_cast<double>(st.sold_out_ns) / 1e9;
  out.figures.push_back({"buyers_per_s", static_cast<double>(o.buyers) / out.load_seconds});
  audit_common(o, engine, out);
  audit_bookings(o, engine, sale, ledger.bookings, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// hold-micro: holds of `seats_per_hold` random seats of a large event, for a fixed time.

std::optional<Outcome> hold_micro(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  if (!login_admin(o, engine, sale)) return std::nullopt;
  // --events: as many events on sale at once, each hold on a random one (in a distributed deployment
  // each event has its owner, and the balancer sends an event's requests to one node).
  std::vector<std::string> holds_of_event;
  for (uint32_t e = 0; e < o.events; ++e) {
    if (!create_event(o, engine, sale, o.seats, 100, tag + "-" + std::to_string(e))) return std::nullopt;
    holds_of_event.push_back("/v1/events/" + std::to_string(sale.event_id) + "/holds");
  }
  if (!provision(engine, sale, o.buyers, tag)) return std::nullopt;
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  const SteadyTime start = Clock::now();
  const SteadyTime end = start + std::chrono::seconds(o.duration_s);
  std::atomic<uint64_t> sent{0};
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    std::vector<uint32_t> seats;
    for (;;) {
      const uint64_t i = sent.fetch_add(1);
      const auto intended = intended_start(o, start, i);
      if (intended) co_await w.sleep_until(*intended);
      if (Clock::now() >= end) co_return;
      seats.clear();
      while (seats.size() < o.seats_per_hold) {  // distinct random seats, all or nothing
        const uint32_t s = static_cast<uint32_t>(w.uniform(sale.seats_total));
        if (std::find(seats.begin(), seats.end(), s) == seats.end()) seats.push_back(s);
      }
      const uint64_t user = w.uniform(sale.tokens.size());
      const std::string& holds = holds_of_event[o.events == 1 ? 0 : w.uniform(o.events)];
      co_await w.call(Op::Hold, {verb::post, holds, seat_ids_body(seats), sale.tokens[user]},
                      "409 seat_unavailable|409 ticket_limit_exceeded|409 active_holds_limit_exceeded", intended);
    }
  });
  out.load_seconds = seconds_since(start);
  audit_common(o, engine, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// checkout-micro: hold `checkouts` single seats (untimed), then check them all out as fast as possible.

std::optional<Outcome> checkout_micro(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  const uint32_t seats = static_cast<uint32_t>(std::min<uint64_t>(o.checkouts, kSeatsMax));
  if (!login_admin(o, engine, sale) || !create_event(o, engine, sale, seats, 100, tag)) return std::nullopt;
  if (!provision(engine, sale, (seats + kCheckoutHoldsPerBuyer - 1) / kCheckoutHoldsPerBuyer, tag)) return std::nullopt;
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  std::vector<int64_t> hold_ids(seats, 0);
  std::atomic<uint32_t> next{0};
  const std::string holds = "/v1/events/" + std::to_string(sale.event_id) + "/holds";
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      const std::string body = "{\"seat_ids\":[" + std::to_string(s) + "]}";
      Reply r = co_await w.call(Op::Hold, {verb::post, holds, body, sale.tokens[s / kCheckoutHoldsPerBuyer]});
      if (r.status == 201) hold_ids[s] = int_field(parse_or_null(r.body), "id");
    }
  });
  Ledger ledger;
  next = 0;
  const SteadyTime start = Clock::now();
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      if (hold_ids[s] == 0) continue;
      const std::string target = "/v1/holds/" + std::to_string(hold_ids[s]) + "/checkout?event=" + std::to_string(sale.event_id);
      const std::string key = "bench-" + std::to_string(s);
      Reply r = co_await w.call(
          Op::Checkout, {verb::post, target, R"({"payment_method":"pm_card_visa"})", sale.tokens[s / kCheckoutHoldsPerBuyer], key});
      if (r.status != 201) continue;
      const json::value b = parse_or_null(r.body);
      std::lock_guard lock(ledger.mu);
      ledger.bookings.push_back(Booking{int_field(b, "id"), s / kCheckoutHoldsPerBuyer, seat_list(b)});
    }
  });
  out.load_seconds = seconds_since(start);
  out.figures.push_back({"checkouts_per_s", static_cast<double>(ledger.bookings.size()) / out.load_seconds});
  audit_common(o, engine, out);
  audit_bookings(o, engine, sale, ledger.bookings, out);
  return out;
}

// Untimed setup of checkin-micro and waitlist: seat s held and bought alone by buyer
// s / kCheckoutHoldsPerBuyer. Returns each seat's booking id (0 where it was not sold).
std::vector<int64_t> sell_one_per_booking(const Options& o, Engine& engine, const Sale& sale, uint32_t seats) {
  const std::string holds = "/v1/events/" + std::to_string(sale.event_id) + "/holds";
  std::vector<int64_t> booking_ids(seats, 0);
  std::atomic<uint32_t> next{0};
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      const std::string& token = sale.tokens[s / kCheckoutHoldsPerBuyer];
      Reply h = co_await w.call(Op::Hold, {verb::post, holds, "{\"seat_ids\":[" + std::to_string(s) + "]}", token});
      if (h.status != 201) continue;
      Reply c = co_await w.call(Op::Checkout, {verb::post, "/v1/holds/" + std::to_string(int_field(parse_or_null(h.body), "id")) +
                                                              "/checkout", R"({"payment_method":"pm_card_visa"})", token,
                                               "bench-" + std::to_string(s)});
      if (c.status == 201) booking_ids[s] = int_field(parse_or_null(c.body), "id");
    }
  });
  return booking_ids;
}

// ---------------------------------------------------------------------------------------------------
// checkin-micro: sell `checkouts` seats one per booking and fetch their tickets (untimed), then scan
// every ticket once at the door as fast as possible, spread over four gates; then download the
// scanner bundle with every ticket inside (its largest form) and time it.

std::optional<Outcome> checkin_micro(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  const uint32_t seats = static_cast<uint32_t>(std::min<uint64_t>(o.checkouts, kSeatsMax));
  if (!login_admin(o, engine, sale) || !create_event(o, engine, sale, seats, 100, tag)) return std::nullopt;
  if (!provision(engine, sale, (seats + kCheckoutHoldsPerBuyer - 1) / kCheckoutHoldsPerBuyer, tag)) return std::nullopt;
  const std::string event = "/v1/events/" + std::to_string(sale.event_id);
  const std::vector<int64_t> booking_ids = sell_one_per_booking(o, engine, sale, seats);
  std::vector<std::string> codes(seats);
  std::atomic<uint32_t> next{0};
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      if (booking_ids[s] == 0) continue;
      Reply t = co_await w.call(Op::Audit, {verb::get, "/v1/bookings/" + std::to_string(booking_ids[s]) + "/tickets", {},
                                            sale.tokens[s / kCheckoutHoldsPerBuyer]});
      const json::value v = parse_or_null(t.body);
      const json::value* list = v.is_object() ? v.as_object().if_contains("tickets") : nullptr;
      if (list && list->is_array() && list->as_array().size() == 1) codes[s] = string_field(list->as_array()[0], "code");
    }
  });
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  uint64_t issued = 0;
  for (const auto& c : codes) issued += !c.empty();
  out.audit.push_back({"every seat sold has its ticket", issued == seats,
                       std::to_string(issued) + " tickets for " + std::to_string(seats) + " seats"});
  std::atomic<uint64_t> admitted{0}, refused{0};
  next = 0;
  const SteadyTime start = Clock::now();
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      if (codes[s].empty()) continue;
      const std::string body = json::serialize(json::object{
          {"code", codes[s]}, {"gate", "gate-" + std::to_string(s % 4)}, {"device_id", "bench"},
          {"scan_id", "bench-" + tag + "-" + std::to_string(s)}, {"direction", "in"}});
      Reply r = co_await w.call(Op::Checkin, {verb::post, event + "/checkins", body, sale.admin_token});
      (string_field(parse_or_null(r.body), "result") == "ok" ? admitted : refused)++;
    }
  });
  out.load_seconds = seconds_since(start);
  out.figures.push_back({"checkins_per_s", static_cast<double>(admitted.load()) / out.load_seconds});
  out.audit.push_back({"every ticket admitted exactly once", admitted == issued && refused == 0,
                       std::to_string(admitted.load()) + " ok, " + std::to_string(refused.load()) + " refused"});
  // The bundle a scanner downloads now lists every ticket as inside: the largest it gets.
  Reply bundle;
  const SteadyTime b0 = Clock::now();
  engine.run(1, [&](Worker& w) -> asio::awaitable<void> {
    bundle = co_await w.call(Op::Bundle, {verb::get, event + "/scanner-bundle", {}, sale.admin_token});
  });
  const double bundle_ms = seconds_since(b0) * 1000;
  const json::value b = parse_or_null(bundle.body);
  const json::value* inside = b.is_object() ? b.as_object().if_contains("checked_in") : nullptr;
  const size_t listed = inside && inside->is_array() ? inside->as_array().size() : 0;
  out.audit.push_back({"the scanner bundle lists every ticket inside", bundle.status == 200 && listed == issued,
                       std::to_string(listed) + " listed"});
  out.figures.push_back({"scanner_bundle_bytes", static_cast<double>(bundle.body.size())});
  out.figures.push_back({"scanner_bundle_ms", bundle_ms});
  audit_common(o, engine, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// seatmap-read: compact seat-status reads of one event.

std::optional<Outcome> seatmap_read(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  if (!login_admin(o, engine, sale) || !create_event(o, engine, sale, o.seats, 4, tag)) return std::nullopt;
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  const std::string target = "/v1/events/" + std::to_string(sale.event_id) + "/seats?format=compact";
  // The first read loads the event's seats into memory: what it adds to the server's RSS, per seat.
  const int64_t rss_before = resident_bytes(o.server_pid);
  Reply first = once(engine, {verb::get, target});
  const int64_t rss_after = resident_bytes(o.server_pid);
  if (first.status != 200) return fail_setup("first seat-map read", first), std::nullopt;
  if (rss_before > 0)
    out.figures.push_back({"rss_bytes_per_seat_on_load",
                           static_cast<double>(rss_after - rss_before) / static_cast<double>(sale.seats_total)});
  const SteadyTime start = Clock::now();
  const SteadyTime end = start + std::chrono::seconds(o.duration_s);
  std::atomic<uint64_t> sent{0}, short_maps{0};
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (;;) {
      const auto intended = intended_start(o, start, sent.fetch_add(1));
      if (intended) co_await w.sleep_until(*intended);
      if (Clock::now() >= end) co_return;
      Reply r = co_await w.call(Op::SeatMap, {verb::get, target}, {}, intended);
      if (r.status == 200 && r.body.size() < sale.seats_total) ++short_maps;
    }
  });
  out.load_seconds = seconds_since(start);
  out.audit.push_back({"every seat map has every seat", short_maps == 0, std::to_string(short_maps.load()) + " short"});
  audit_common(o, engine, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// queue: every buyer joins the waiting room, then random buyers poll their place for a fixed time.

std::optional<Outcome> queue_scenario(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  if (!login_admin(o, engine, sale) || !create_event(o, engine, sale, o.seats, 4, tag)) return std::nullopt;
  if (!provision(engine, sale, o.buyers, tag)) return std::nullopt;
  const std::string base = "/v1/events/" + std::to_string(sale.event_id) + "/queue";
  Reply probe = once(engine, {verb::post, base, "{}", sale.tokens[0]});
  if (probe.status == 404 || probe.status == 405) {
    std::fprintf(stderr,
                 "ticket-bench: this ticketd has no waiting room (POST %s answered %d): the queue scenario needs "
                 "issue 5's /v1/events/{id}/queue API\n",
                 base.c_str(), probe.status);
    return std::nullopt;
  }
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  std::vector<std::string> queue_tokens(o.buyers);
  if (auto v = probe.ok() ? parse(probe.body) : std::nullopt) queue_tokens[0] = string_field(*v, "queue_token");
  const int64_t rss_before = resident_bytes(o.server_pid);
  std::atomic<uint64_t> next{1};
  SteadyTime start = Clock::now();
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint64_t i; (i = next.fetch_add(1)) < o.buyers;) {
      auto t = co_await queue_join(w, o, sale, i, intended_start(o, start, i - 1));
      if (t) queue_tokens[i] = *t;
    }
  });
  const double join_seconds = seconds_since(start);
  out.figures.push_back({"queue_joins_per_s", static_cast<double>(o.buyers) / join_seconds});
  if (rss_before > 0)
    out.figures.push_back(
        {"rss_bytes_per_waiting_user",
         static_cast<double>(resident_bytes(o.server_pid) - rss_before) / static_cast<double>(o.buyers)});
  start = Clock::now();
  const SteadyTime end = start + std::chrono::seconds(o.duration_s);
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    while (Clock::now() < end) {
      const uint64_t i = w.uniform(o.buyers);
      co_await w.call(Op::QueuePoll, {verb::get, base + "/" + queue_tokens[i], {}, sale.tokens[i]});
    }
  });
  out.load_seconds = seconds_since(start) + join_seconds;
  audit_common(o, engine, out);
  return out;
}

}  // namespace

bool Outcome::audit_ok() const {
  for (const Check& c : audit)
    if (!c.ok) return false;
  return !audit.empty();
}

// ---------------------------------------------------------------------------------------------------
// waitlist: sell `checkouts` seats one per booking (untimed); `buyers` join the event's waiting list
// (the server's resident memory before and after gives bytes per entry); then every seat comes back, at
// `rate` per second (the returns): odd seats by their ticket listed for face-value resale, even ones by
// their booking cancelled. Each returned seat's offer is found: the time from sending its return to its
// offer (the offer's expires_at less the list's deadline, on the
// server's clock: the same machine's) is the return-to-offer latency.

constexpr int64_t kBenchOfferTtlS = 86'400;  // no offer lapses during a run

// "2026-12-06T03:04:05.678Z" as Unix ms; -1 for anything else.
int64_t unix_ms(const std::string& t) {
  std::tm tm{};
  int ms = 0;
  if (t.size() != 24 || std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<Outcome> waitlist_scenario(const Options& o, Engine& engine) {
  Sale sale;
  const std::string tag = run_tag(o);
  const uint32_t seats = static_cast<uint32_t>(std::min<uint64_t>(o.checkouts, kSeatsMax));
  const uint64_t sellers = (seats + kCheckoutHoldsPerBuyer - 1) / kCheckoutHoldsPerBuyer;
  if (!login_admin(o, engine, sale) || !create_event(o, engine, sale, seats, 100, tag)) return std::nullopt;
  if (!provision(engine, sale, sellers + o.buyers, tag)) return std::nullopt;
  const std::string event = "/v1/events/" + std::to_string(sale.event_id);
  Reply set = once(engine, {verb::put, event + "/waitlist/settings",
                            "{\"draw_window_s\":0,\"offer_ttl_s\":" + std::to_string(kBenchOfferTtlS) + "}",
                            sale.admin_token});
  if (set.status != 200) { fail_setup("waiting-list settings", set); return std::nullopt; }
  const std::vector<int64_t> booking_ids = sell_one_per_booking(o, engine, sale, seats);
  std::atomic<uint32_t> next{0};
  Outcome out{o.scenario, sale.event_id, sale.seats_total};
  // The tickets of the seats that come back by resale (untimed).
  std::vector<std::string> resale_ticket(seats);
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      if (s % 2 == 0 || booking_ids[s] == 0) continue;
      Reply t = co_await w.call(Op::Audit, {verb::get, "/v1/bookings/" + std::to_string(booking_ids[s]) + "/tickets", {},
                                            sale.tokens[s / kCheckoutHoldsPerBuyer]});
      const json::value v = parse_or_null(t.body);
      const json::value* list = v.is_object() ? v.as_object().if_contains("tickets") : nullptr;
      if (list && list->is_array() && list->as_array().size() == 1) resale_ticket[s] = string_field(list->as_array()[0], "id");
    }
  });
  // Every buyer's session is used once first, so the memory measured next is the list's alone (a
  // session's first use puts it in the server's session cache).
  std::atomic<uint64_t> cursor{0};
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint64_t b; (b = cursor.fetch_add(1)) < o.buyers;)
      co_await w.call(Op::Audit, {verb::get, event + "/waitlist", {}, sale.tokens[sellers + b]});
  });
  // The joins; each entry's id says its place (a later join has a larger id, and with no draw window the
  // list is served in that order).
  const int64_t rss_before = resident_bytes(o.server_pid);
  std::vector<int64_t> entry_ids(o.buyers, 0);
  std::atomic<uint64_t> joined{0};
  cursor = 0;
  const SteadyTime joins_start = Clock::now();
  engine.run(o.connections, [&](Worker& w) -> asio::awaitable<void> {
    for (uint64_t b; (b = cursor.fetch_add(1)) < o.buyers;) {
      Reply r = co_await w.call(Op::WaitlistJoin, {verb::post, event + "/waitlist", R"({"quantity":1,"together":false})",
                                                   sale.tokens[sellers + b]});
      if (r.status != 201) continue;
      const json::value v = parse_or_null(r.body);
      const json::value* entry = v.is_object() ? v.as_object().if_contains("entry") : nullptr;
      if (entry) entry_ids[b] = int_field(*entry, "id");
      ++joined;
    }
  });
  out.figures.push_back({"waitlist_joins_per_s", static_cast<double>(joined.load()) / seconds_since(joins_start)});
  const int64_t rss_after = resident_bytes(o.server_pid);
  if (rss_before > 0 && rss_after > 0 && joined > 0)
    out.figures.push_back({"waitlist_server_bytes_per_entry",
                           static_cast<double>(rss_after - rss_before) / static_cast<double>(joined.load())});
  out.audit.push_back({"every buyer joined the list", joined == o.buyers, std::to_string(joined.load()) + " joined"});
  // The returns, at a steady rate (open loop).
  const double rate = o.rate_per_s > 0 ? o.rate_per_s : 100.0;
  std::vector<int64_t> sent_ms(seats, 0);
  std::atomic<uint64_t> returned{0}, resold{0};
  next = 0;
  const SteadyTime start = Clock::now();
  engine.run(std::min<size_t>(o.connections, 64), [&](Worker& w) -> asio::awaitable<void> {
    for (uint32_t s; (s = next.fetch_add(1)) < seats;) {
      if (booking_ids[s] == 0) continue;
      const SteadyTime intended = start + std::chrono::microseconds(static_cast<int64_t>(s * 1e6 / rate));
      co_await w.sleep_until(intended);
      sent_ms[s] = wall_ms();
      const std::string& token = sale.tokens[s / kCheckoutHoldsPerBuyer];
      Reply r;
      if (!resale_ticket[s].empty())
        r = co_await w.call(Op::Cancel, {verb::put, "/v1/tickets/" + resale_ticket[s] + "/resale", {}, token}, {}, intended);
      else
        r = co_await w.call(Op::Cancel, {verb::post, "/v1/bookings/" + std::to_string(booking_ids[s]) + "/cancel", {}, token},
                            {}, intended);
      returned += r.status == 200;
      resold += r.status == 200 && !resale_ticket[s].empty();
    }
  });
  out.load_seconds = seconds_since(start);
  out.load_offset_s = std::chrono::duration<double>(start - engine.start()).count();
  // Wait (bounded) for the last offers, then read each of the first buyers' offers.
  const uint64_t expect_offers = std::min<uint64_t>(returned.load(), o.buyers);
  for (int i = 0; i < 100; ++i) {
    Reply st = once(engine, {verb::get, event + "/waitlist/stats", {}, sale.admin_token});
    const json::value v = parse_or_null(st.body);
    const json::value* counts = v.is_object() ? v.as_object().if_contains("counts") : nullptr;
    if (counts && static_cast<uint64_t>(int_field(*counts, "offered")) >= expect_offers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Buyers in the list's order: the first `expect_offers` of them are the ones the returns go to.
  std::vector<uint64_t> by_place(o.buyers);
  for (uint64_t b = 0; b < o.buyers; ++b) by_place[b] = b;
  std::sort(by_place.begin(), by_place.end(), [&](uint64_t a, uint64_t b) { return entry_ids[a] < entry_ids[b]; });
  std::vector<bool> first_in_line(o.buyers, false);
  for (uint64_t i = 0; i < expect_offers; ++i) first_in_line[by_place[i]] = true;
  std::vector<int64_t> offered_ms(seats, -1);
  std::atomic<uint64_t> offers{0}, doubled{0}, out_of_order{0};
  std::mutex mu;
  std::atomic<uint64_t> reader{0};
  engine.run(std::min<size_t>(o.connections, 16), [&](Worker& w) -> asio::awaitable<void> {
    for (uint64_t b; (b = reader.fetch_add(1)) < o.buyers;) {
      Reply r = co_await w.call(Op::Audit, {verb::get, event + "/waitlist", {}, sale.tokens[sellers + b]});
      const json::value v = parse_or_null(r.body);
      const json::value* entry = v.is_object() ? v.as_object().if_contains("entry") : nullptr;
      const json::value* offer = entry && entry->is_object() ? entry->as_object().if_contains("offer") : nullptr;
      const bool has_offer = offer && offer->is_object();
      // The list is served in its order: the first `expect_offers` buyers have offers, nobody after.
      if (has_offer != first_in_line[b]) ++out_of_order;
      if (!has_offer) continue;
      const std::vector<uint32_t> got = seat_list(json::value(json::object{{"seat_ids", offer->as_object().at("seats")}}));
      const int64_t at = unix_ms(string_field(*offer, "expires_at")) - kBenchOfferTtlS * 1000;
      std::lock_guard lock(mu);
      for (uint32_t s : got) {
        if (s >= seats) continue;
        if (offered_ms[s] >= 0) ++doubled;
        offered_ms[s] = at;
        ++offers;
      }
    }
  });
  LatencyHistogram latency;
  for (uint32_t s = 0; s < seats; ++s)
    if (offered_ms[s] >= 0 && sent_ms[s] > 0) latency.record(static_cast<uint64_t>(std::max<int64_t>(0, offered_ms[s] - sent_ms[s])) * 1000);
  out.figures.push_back({"returns_per_s", static_cast<double>(returned.load()) / out.load_seconds});
  out.figures.push_back({"returns_by_resale", static_cast<double>(resold.load())});
  out.figures.push_back({"return_to_offer_p50_ms", static_cast<double>(latency.percentile(0.50)) / 1000.0});
  out.figures.push_back({"return_to_offer_p99_ms", static_cast<double>(latency.percentile(0.99)) / 1000.0});
  out.figures.push_back({"return_to_offer_max_ms", static_cast<double>(latency.max()) / 1000.0});
  out.audit.push_back({"every returned seat offered once", offers == expect_offers && doubled == 0,
                       std::to_string(offers.load()) + " offers for " + std::to_string(expect_offers) +
                           " returns, " + std::to_string(doubled.load()) + " seats offered twice"});
  out.audit.push_back({"offers follow the order of the list", out_of_order == 0,
                       std::to_string(out_of_order.load()) + " buyers out of order"});
  audit_common(o, engine, out);
  return out;
}

std::optional<Outcome> run_scenario(const Options& o, Engine& engine) {
  if (o.scenario == "flash-sale") return flash_sale(o, engine);
  if (o.scenario == "hold-micro") return hold_micro(o, engine);
  if (o.scenario == "checkout-micro") return checkout_micro(o, engine);
  if (o.scenario == "checkin-micro") return checkin_micro(o, engine);
  if (o.scenario == "seatmap-read") return seatmap_read(o, engine);
  if (o.scenario == "queue") return queue_scenario(o, engine);
  if (o.scenario == "waitlist") return waitlist_scenario(o, engine);
  std::fprintf(stderr, "ticket-bench: unknown scenario %s\n", o.scenario.c_str());
  return std::nullopt;
}

}  // namespace ticketd::bench
