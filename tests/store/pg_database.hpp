// A database of its own for a test, on the PostgreSQL that scripts/services started
// (TICKETD_TEST_POSTGRES_URL), with ticketd's migrations applied.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"

namespace ticketd::store::postgres {

// Returns the new database's URL; `prefix` names it, with this process's id and a count.
inline std::string fresh_migrated_database(const std::string& prefix) {
  const char* base = std::getenv("TICKETD_TEST_POSTGRES_URL");
  if (!base || !*base) throw std::runtime_error("run under scripts/services: TICKETD_TEST_POSTGRES_URL is unset");
  static int counter = 0;  // one per process: every test binary is one process
  const std::string db = prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  {
    Connection admin(base);
    admin.exec("CREATE DATABASE " + db);
  }
  const std::string url(base);
  const std::string db_url = url.substr(0, url.rfind('/') + 1) + db;
  Connection c(db_url);
  migrate(c);
  return db_url;
}

}  // namespace ticketd::store::postgres
