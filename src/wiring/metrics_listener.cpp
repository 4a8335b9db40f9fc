// The metrics listener (see metrics_listener.hpp): its own http::Server, which does not handle
// signals (the public listener owns SIGINT/SIGTERM; serve() destroys this one on the way out).
#include "wiring/metrics_listener.hpp"

#include <string_view>

#include "base/thread_name.hpp"
#include "http/security_headers.hpp"

namespace ticketd::wiring {

MetricsListener::MetricsListener(const std::string& host, uint16_t port, Metrics& metrics,
                                 std::function<void(std::string&)> gauges) {
  http::ServerConfig c;
  c.host = host;
  c.port = port;
  c.io_threads = 1;
  c.worker_threads = 1;
  c.connections_max = 16;
  c.handle_signals = false;  // the public listener owns SIGINT/SIGTERM; serve() stops this one
  server_ = std::make_unique<http::Server>(c, [&metrics, gauges](const http::Request& r) {
    http::Response out;
    const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
    if (r.method == "GET" && path == "/metrics") {
      out.content_type = "text/plain; version=0.0.4";
      out.body = metrics.render(gauges);
    } else if (r.method == "GET" && path == "/healthz") {
      out.body = R"({"status":"ok"})";
    } else {
      out.status = 404;
      out.body = R"({"error":{"code":"not_found","message":"this listener serves /metrics and /healthz"}})";
    }
    http::add_security_headers(out);
    return out;
  });
  thread_ = std::thread([this] {
    name_this_thread("metrics");
    server_->run();
  });
}

MetricsListener::~MetricsListener() {
  server_->stop();
  thread_.join();
}

}  // namespace ticketd::wiring
