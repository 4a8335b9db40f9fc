// ticket-bench: the load generator and benchmark harness of ticketd. See tools/bench/README.md.
//
//   ticket-bench flash-sale --port 8080 --seats 50000 --buyers 500000 --connections 50 [--rate 20000]
//   ticket-bench hold-micro | checkout-micro | seatmap-read | queue ...
//
// Exit status: 0 when the run completed and its audit passed; 1 when the audit failed; 2 when the run
// could not be set up (bad flags, server unreachable, a missing feature such as the waiting room).
#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstdio>
#include <cstdlib>

#include "engine.hpp"
#include "report.hpp"
#include "scenarios.hpp"

using namespace ticketd::bench;

int main(int argc, char** argv) {
  CLI::App cli{"ticket-bench: load generator for ticketd (flash sale, holds, checkouts, seat maps, waiting room)"};
  Options o;
  std::string json_out, timeline_out, percentiles_out;
  cli.add_option("scenario", o.scenario, "flash-sale | hold-micro | checkout-micro | checkin-micro | seatmap-read | queue | waitlist")
      ->required()
      ->check(CLI::IsMember({"flash-sale", "hold-micro", "checkout-micro", "checkin-micro", "seatmap-read", "queue", "waitlist"}));
  std::vector<std::string> more;
  cli.add_option("--host", o.host, "ticketd's IPv4/IPv6 address");
  cli.add_option("--port", o.port, "ticketd's port")->required();
  cli.add_option("--also", more, "more ticketd nodes as ip:port (workers use all endpoints round-robin)")
      ->expected(0, 16);
  cli.add_option("--admin-email", o.admin_email, "administrator email")->envname("TICKETD_ADMIN_EMAIL");
  cli.add_option("--admin-password", o.admin_password, "administrator password")->envname("TICKETD_ADMIN_PASSWORD");
  cli.add_option("--threads", o.threads, "generator threads")->check(CLI::Range(size_t{1}, kThreadsMax));
  cli.add_option("--connections", o.connections, "keep-alive connections (closed loop: concurrent clients)")
      ->check(CLI::Range(size_t{1}, kWorkersMax));
  cli.add_option("--rate", o.rate_per_s, "open loop: arrivals per second (buyers, holds or reads); 0 = closed loop")
      ->check(CLI::Range(0.0, 10'000'000.0));
  cli.add_option("--duration", o.duration_s, "seconds of load (hold-micro, seatmap-read, queue polls)")
      ->check(CLI::Range(int64_t{1}, kDurationMax_s));
  cli.add_option("--seats", o.seats, "seats of the event")->check(CLI::Range(uint32_t{1}, kSeatsMax));
  cli.add_option("--buyers", o.buyers, "buyers (users) to provision")->check(CLI::Range(uint64_t{1}, kBuyersMax));
  cli.add_option("--seats-per-hold", o.seats_per_hold, "hold-micro: random seats per all-or-nothing hold")
      ->check(CLI::Range(uint32_t{1}, uint32_t{100}));
  cli.add_option("--events", o.events, "hold-micro: events on sale at once (each of --seats), a random one per hold")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1000}));
  cli.add_option("--checkouts", o.checkouts, "checkout-micro: holds to check out; checkin-micro: tickets to sell, then scan; waitlist: seats sold, "
                 "then returned")
      ->check(CLI::Range(uint64_t{1}, uint64_t{kSeatsMax}));
  cli.add_option("--abandon-pct", o.abandon_pct, "flash-sale: % of holders who abandon")->check(CLI::Range(0, 100));
  cli.add_option("--decline-pct", o.decline_pct, "flash-sale: % of payers whose card declines")
      ->check(CLI::Range(0, 100));
  cli.add_option("--explicit-pct", o.explicit_pct, "flash-sale: % of buyers who pick seats")->check(CLI::Range(0, 100));
  cli.add_flag("--waiting-room", o.waiting_room, "flash-sale: join the event's waiting room before holding");
  cli.add_option("--queue-batch", o.queue_batch, "waiting room: people admitted per release")
      ->check(CLI::Range(uint32_t{1}, uint32_t{100'000}));
  cli.add_option("--queue-interval", o.queue_release_interval_s, "waiting room: seconds between releases")
      ->check(CLI::Range(int64_t{1}, int64_t{3'600}));
  cli.add_option("--seed", o.seed, "random seed");
  cli.add_option("--audit-cmd", o.audit_cmd,
                 "store audit run after the load, must exit 0 "
                 "(e.g. 'ticketd verify --data-dir D', or psql -f audit.sql)");
  cli.add_option("--server-pid", o.server_pid, "ticketd's pid, to report its resident memory");
  cli.add_option("--json", json_out, "write the full result as JSON here");
  cli.add_option("--timeline", timeline_out, "write per-second throughput and latency (gnuplot data) here");
  cli.add_option("--percentiles", percentiles_out, "write the latency percentile distribution (gnuplot data) here");
  CLI11_PARSE(cli, argc, argv);

  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(o.host, ec);
  if (ec) {
    std::fprintf(stderr, "ticket-bench: --host must be an IP address\n");
    return 2;
  }
  std::vector<boost::asio::ip::tcp::endpoint> endpoints{{address, o.port}};
  for (const std::string& hp : more) {
    const auto colon = hp.rfind(':');
    const auto a = boost::asio::ip::make_address(hp.substr(0, colon == std::string::npos ? 0 : colon), ec);
    int port = 0;
    if (colon != std::string::npos) port = std::atoi(hp.c_str() + colon + 1);
    if (ec || port < 1 || port > 65535) {
      std::fprintf(stderr, "ticket-bench: --also takes ip:port, not %s\n", hp.c_str());
      return 2;
    }
    endpoints.emplace_back(a, static_cast<uint16_t>(port));
  }
  Engine engine(std::move(endpoints), o.threads, o.seed);
  const auto outcome = run_scenario(o, engine);
  if (!outcome) return 2;
  const Recorder rec = engine.merged();
  print_table(o, *outcome, rec);
  if (!json_out.empty() && !write_json(json_out, o, *outcome, rec))
    std::fprintf(stderr, "ticket-bench: cannot write %s\n", json_out.c_str());
  if (!timeline_out.empty() && !write_timeline(timeline_out, rec))
    std::fprintf(stderr, "ticket-bench: cannot write %s\n", timeline_out.c_str());
  if (!percentiles_out.empty() && !write_percentiles(percentiles_out, rec))
    std::fprintf(stderr, "ticket-bench: cannot write %s\n", percentiles_out.c_str());
  return outcome->audit_ok() ? 0 : 1;
}
