// Resolves the signing secrets (see secrets.hpp). A file secret is written to a temporary file and
// renamed into place, so a crash mid-write never leaves a truncated secret behind.
#include "wiring/secrets.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/queue_tokens.hpp"

namespace ticketd::wiring {

std::string random_hex_secret() {
  uint8_t bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

std::optional<std::string> data_dir_secret(const std::string& data_dir, const char* name,
                                           const std::string& candidate) {
  const auto path = std::filesystem::path(data_dir) / name;
  std::string secret;
  if (std::ifstream in(path); in && std::getline(in, secret) && !secret.empty()) return secret;
  const std::string& hex = candidate;
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return std::nullopt;
    ::chmod(tmp.c_str(), 0600);
    out << hex << "\n";
    if (!out.flush()) return std::nullopt;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return std::nullopt;
  return hex;
}

std::optional<app::TicketSecret> resolve_ticket_secret(const ServeConfig& cfg, const StoreWiring& stores) {
  std::string hex = cfg.ticket_secret;
  try {
    if (hex.empty() && stores.pg) {
      auto lease = stores.pg->acquire();
      hex = store::postgres::shared_secret(*lease, "ticket-secret", app::TicketSecret::random_hex());
    } else if (hex.empty()) {
      hex = data_dir_secret(cfg.data_dir, "ticket-secret", app::TicketSecret::random_hex()).value_or("");
    }
  } catch (const std::exception& e) {
    std::cerr << "ticketd: ticket secret: " << e.what() << "\n";
    return std::nullopt;
  }
  auto secret = app::TicketSecret::from_hex(hex);
  if (!secret) std::cerr << "ticketd: --ticket-secret: 64 hex digits (32 bytes) required\n";
  return secret;
}

core::Result<std::vector<std::string>> resolve_queue_secrets(const ServeConfig& cfg, const StoreWiring& stores) {
  std::vector<std::string> queue_secrets = split_commas(cfg.queue_secrets);
  if (queue_secrets.empty() && stores.pg) {
    // Every node must verify every other node's tokens: without a configured secret they share one
    // kept in PostgreSQL, created by the first node that starts.
    try {
      auto lease = stores.pg->acquire();
      queue_secrets.push_back(store::postgres::shared_secret(*lease, "queue-secret", random_hex_secret()));
    } catch (const std::exception& e) {
      return core::make_error(core::Code::Unavailable, std::string("queue secret: ") + e.what());
    }
  } else if (queue_secrets.empty()) {
    auto generated = data_dir_secret(cfg.data_dir, "queue-secret", random_hex_secret());
    if (!generated) return core::make_error(core::Code::Unavailable, "cannot write " + cfg.data_dir + "/queue-secret");
    queue_secrets.push_back(*generated);
  }
  if (auto s = app::TokenKeys::validate(queue_secrets); !s)
    return core::make_error(core::Code::InvalidRequest, "--queue-secret: " + s.error().message);
  return queue_secrets;
}

}  // namespace ticketd::wiring
