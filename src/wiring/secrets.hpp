// The secrets a node signs with, resolved at start: the waiting-room token secrets and the ticket
// secret. Configured ones win; otherwise one is made up once and kept where every later start (and,
// distributed, every other node) finds it: DATA_DIR/<name> embedded, PostgreSQL distributed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/ticket_codes.hpp"
#include "core/result.hpp"
#include "wiring/serve_config.hpp"
#include "wiring/stores.hpp"

namespace ticketd::wiring {

// 32 random bytes, hex.
std::string random_hex_secret();

// The secret of DATA_DIR/<name>; if missing, `candidate` is written there (mode 0600) and returned.
// nullopt: the file cannot be written.
std::optional<std::string> data_dir_secret(const std::string& data_dir, const char* name, const std::string& candidate);

// --ticket-secret, else the one every node shares through PostgreSQL, else DATA_DIR/ticket-secret
// (created on first start). Changing it changes every event's keys: codes already issued stop
// verifying (docs/tickets.md). nullopt: the reason is already on stderr.
std::optional<app::TicketSecret> resolve_ticket_secret(const ServeConfig& cfg, const StoreWiring& stores);

// --queue-secret (comma-separated: the first signs, all verify), else the one every node shares through
// PostgreSQL, else DATA_DIR/queue-secret; validated for app::TokenKeys. The error's message is the
// line to print after "ticketd: ".
core::Result<std::vector<std::string>> resolve_queue_secrets(const ServeConfig& cfg, const StoreWiring& stores);

}  // namespace ticketd::wiring
