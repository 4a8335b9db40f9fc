// The maintenance subcommands, run instead of the server: `verify` audits a data directory or a
// PostgreSQL database (exit 0 iff consistent), `migrate` applies PostgreSQL's schema migrations
// (serve does it too, but a deployment may want it done first).
#pragma once

#include <string>

namespace ticketd::wiring {

// Prints the audit's report and "verify: OK" or "verify: FAILED"; returns the exit status (0 or 1).
int verify(const std::string& store, const std::string& data_dir, const std::string& postgres_url);

// Prints "migrate: N applied, schema version V"; returns the exit status (0, or 1 with the error on stderr).
int migrate(const std::string& postgres_url);

}  // namespace ticketd::wiring
