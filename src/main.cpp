// ticketd: the command line and nothing else. Parses the subcommands (serve, verify, migrate, routes)
// and hands each to its function; the wiring of a serving node (the only place that names concrete
// adapters) is in src/wiring/, starting at wiring/serve.cpp.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "http/router.hpp"
#include "wiring/cli.hpp"
#include "wiring/maintenance.hpp"
#include "wiring/serve.hpp"
#include "wiring/serve_config.hpp"

using namespace ticketd;

int main(int argc, char** argv) {
  CLI::App cli{"ticketd: a ticketing server that never sells a seat twice"};
  cli.require_subcommand(1);
  wiring::ServeConfig cfg;
  auto* serve_cmd = cli.add_subcommand("serve", "run the HTTP server");
  wiring::add_serve_options(*serve_cmd, cfg);
  std::string verify_dir = "./data";
  std::string verify_store = "embedded";
  std::string verify_pg;
  auto* verify_cmd = cli.add_subcommand("verify", "audit a data directory or database; exit 0 iff consistent");
  verify_cmd->add_option("--store", verify_store, "embedded or postgres")->envname("TICKETD_STORE")
      ->check(CLI::IsMember({"embedded", "postgres"}));
  verify_cmd->add_option("--data-dir", verify_dir, "the data directory")->envname("TICKETD_DATA_DIR");
  verify_cmd->add_option("--postgres-url", verify_pg, "libpq URI of PostgreSQL")->envname("TICKETD_POSTGRES_URL");
  // Accepted so that verify takes the same store flags as serve; the audit reads PostgreSQL only
  // (Redis holds nothing that is not in PostgreSQL).
  std::string verify_redis_unused;
  verify_cmd->add_option("--redis-url", verify_redis_unused, "ignored: the audit reads PostgreSQL only");
  std::string migrate_pg;
  auto* migrate_cmd = cli.add_subcommand("migrate", "apply the PostgreSQL schema migrations (serve does it too)");
  migrate_cmd->add_option("--postgres-url", migrate_pg, "libpq URI of PostgreSQL")->envname("TICKETD_POSTGRES_URL")
      ->required();
  auto* routes_cmd = cli.add_subcommand("routes", "print the API's route table: method, pattern, who may call "
                                                  "it, rate-limit class, body limit, thread");
  CLI11_PARSE(cli, argc, argv);
  if (*serve_cmd) return wiring::serve(cfg);
  if (*routes_cmd) {
    std::cout << http::describe_api_routes();
    return 0;
  }
  if (*migrate_cmd) return wiring::migrate(migrate_pg);
  return wiring::verify(verify_store, verify_dir, verify_pg);
}
