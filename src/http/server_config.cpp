// ServerConfig's bounds and derived defaults (see server_config.hpp).
#include "http/server_config.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace ticketd::http::detail {

namespace {

std::string config_error(const ServerConfig& config) {
  if (config.io_threads < 1 || config.io_threads > io_threads_max) {
    return "io_threads must be 1.." + std::to_string(io_threads_max);
  }
  if (config.worker_threads < 1 || config.worker_threads > worker_threads_max) {
    return "worker_threads must be 1.." + std::to_string(worker_threads_max);
  }
  if (config.pending_requests_max < 1) return "pending_requests_max must be at least 1";
  if (config.connections_max < 1) return "connections_max must be at least 1";
  if (config.header_bytes_max < header_bytes_min || config.header_bytes_max > std::numeric_limits<uint32_t>::max()) {
    return "header_bytes_max must be " + std::to_string(header_bytes_min) + "..4294967295";
  }
  if (config.target_bytes_max < 1) return "target_bytes_max must be at least 1";
  const auto zero = std::chrono::milliseconds::zero();
  if (config.read_timeout <= zero || config.idle_timeout <= zero || config.write_timeout <= zero) {
    return "read_timeout, idle_timeout and write_timeout must be positive";
  }
  if (config.stream_heartbeat <= zero) return "stream_heartbeat must be positive";
  if (config.streams_max < 1 || config.streams_max > config.connections_max)
    return "streams_max must be 1..connections_max";
  if (config.streams_per_ip_max < 1 || config.streams_per_ip_max > config.streams_max)
    return "streams_per_ip_max must be 1..streams_max";
  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return "tls_cert_file and tls_key_file go together: give both or neither";
  }
  return {};
}

}  // namespace

ServerConfig validated(ServerConfig config) {
  if (config.streams_max == 0) config.streams_max = std::max<size_t>(1, config.connections_max / 2);
  config.streams_per_ip_max = std::min(config.streams_per_ip_max, config.streams_max);
  const std::string error = config_error(config);
  if (!error.empty()) throw std::runtime_error("ticketd http: invalid config: " + error);
  return config;
}

}  // namespace ticketd::http::detail
