// `ticketd serve`: the one function that builds a node (stores, gateway, channels, use cases, HTTP),
// serves until SIGTERM/SIGINT and shuts it down in order. The wiring (src/wiring) is the only place
// that names concrete adapters; everything it builds sees the core ports.
#pragma once

#include "wiring/serve_config.hpp"

namespace ticketd::wiring {

// The process's exit status: 0 after a clean shutdown, 1 when a listener cannot be bound, 2 for a
// configuration refused at start (the reason on stderr).
int serve(const ServeConfig& cfg);

}  // namespace ticketd::wiring
