// --metrics-listen: /metrics and /healthz alone, without a token, on an address the operator keeps
// private (a management interface, loopback for a local agent). One I/O thread, a few connections:
// it serves a scraper, not the public. Runs from construction until destroyed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/metrics.hpp"
#include "http/server.hpp"

namespace ticketd::wiring {

class MetricsListener {
 public:
  // Throws when the address cannot be bound. `gauges` appends the scrape-time gauges (wiring/gauges.hpp).
  MetricsListener(const std::string& host, uint16_t port, Metrics& metrics, std::function<void(std::string&)> gauges);
  ~MetricsListener();
  uint16_t port() const { return server_->port(); }

 private:
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
};

}  // namespace ticketd::wiring
