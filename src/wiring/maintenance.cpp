// `ticketd verify` and `ticketd migrate` (see maintenance.hpp).
#include "wiring/maintenance.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

#include "base/clock.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace ticketd::wiring {

int verify(const std::string& store, const std::string& data_dir, const std::string& postgres_url) {
  std::string report;
  bool ok = false;
  try {
    if (store == "postgres") ok = store::postgres::verify_database(postgres_url, SystemClock().now(), report);
    else ok = store::sqlite::verify_data_dir(data_dir, SystemClock().now(), report);
  } catch (const std::exception& e) {
    report += std::string("error: ") + e.what() + "\n";
  }
  std::cout << report << (ok ? "verify: OK\n" : "verify: FAILED\n");
  return ok ? 0 : 1;
}

int migrate(const std::string& postgres_url) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  try {
    store::postgres::Connection conn(postgres_url);
    const int applied = store::postgres::migrate(conn);
    std::cout << "migrate: " << applied << " applied, schema version " << store::postgres::latest_schema_version()
              << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "migrate: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace ticketd::wiring
