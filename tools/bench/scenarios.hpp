// Scenarios of ticket-bench: setup through the admin API, the load itself, and the end-of-run audit.
// Each scenario talks to ticketd only over HTTP (docs/api.md); the store-side audit is an external
// command (`ticketd verify --data-dir D` embedded, an SQL script in distributed mode).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine.hpp"

namespace ticketd::bench {

inline constexpr uint64_t kBuyersMax = 2'000'000;  // tokens in memory: ~100 MB at most
inline constexpr uint32_t kSeatsMax = 200'000;     // ticketd's largest venue
inline constexpr int64_t kDurationMax_s = 3'600;

struct Options {
  std::string scenario;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string admin_email = "admin@ticketd.local";
  std::string admin_password = "ticketd-admin";
  size_t threads = 1;
  size_t connections = 50;
  double rate_per_s = 0;  // 0: closed loop; else open loop at this arrival rate
  int64_t duration_s = 10;
  uint32_t seats = 50'000;
  uint64_t buyers = 500'000;
  uint32_t seats_per_hold = 1;  // hold-micro
  uint32_t events = 1;          // hold-micro: events on sale at once, each hold on a random one
  uint64_t checkouts = 20'000;  // checkout-micro
  int abandon_pct = 10;         // flash-sale: of buyers with a hold; half release it, half walk away
  int decline_pct = 5;          // flash-sale: of buyers who pay
  int explicit_pct = 30;        // flash-sale: pick seats from the map rather than best-available
  bool waiting_room = false;    // flash-sale: go through the event's waiting room first
  int64_t queue_poll_ms_max = 5'000;
  uint32_t queue_batch = 1'000;          // waiting room: people admitted per release
  int64_t queue_release_interval_s = 1;  // waiting room: seconds between releases
  uint64_t seed = 1;
  std::string audit_cmd;  // run after the load; must exit 0
  int server_pid = 0;     // if set, its resident memory is reported
};

struct Booking {
  int64_t id = 0;
  uint32_t buyer = 0;
  std::vector<uint32_t> seats;
};

struct Check {
  std::string name;
  bool ok = false;
  std::string detail;
};

struct Outcome {
  std::string scenario;
  int64_t event_id = 0;
  uint32_t seats_total = 0;
  double load_seconds = 0;                 // the measured phase only
  double load_offset_s = 0;                // when it began, in seconds since the engine started (timeline t)
  std::optional<double> sold_out_seconds;  // flash-sale: from the first hold to the last seat confirmed
  uint64_t seats_sold = 0;
  std::vector<Check> audit;
  std::vector<std::pair<std::string, double>> figures;  // named extra figures (rates, memory)
  bool audit_ok() const;
};

// Runs the scenario named in `opts` to completion (setup, load, audit). Returns nullopt with a message
// on stderr if the setup is impossible (e.g. the queue scenario without a waiting room).
std::optional<Outcome> run_scenario(const Options& opts, Engine& engine);

}  // namespace ticketd::bench
