// Counters and histograms for /metrics, rendered in the Prometheus text format.
// Thread safety: every method may be called from any thread (one internal mutex, held only to
// bump numbers or copy them out; nothing blocks under it).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ticketd {

class Metrics {
 public:
  static constexpr std::array<double, 12> kLatencyBucketsS{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                           0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
  void count_request(std::string_view route, int status, double seconds);
  void count(std::string_view family, std::string_view label_value);  // e.g. ("holds", "ok")
  void observe_commit_batch(uint64_t jobs);
  // Notification delivery latency: from when a notice was due until a channel accepted it.
  static constexpr std::array<double, 10> kDeliveryBucketsS{0.1, 0.5, 1, 2.5, 5, 15, 60, 300, 1800, 7200};
  void observe_notification_latency(double seconds);
  // Renders everything, plus the lines `extra` appends (gauges read at scrape time).
  std::string render(const std::function<void(std::string&)>& extra) const;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBucketsS.size()> buckets{};
    uint64_t count = 0;
    double sum = 0;
  };
  struct RouteStats {
    std::map<int, uint64_t> by_status;
    Histogram latency;
  };
  // Keyed by string with transparent lookup (std::less<>): counting a request or an outcome allocates
  // nothing once its key exists (it runs on every request, on the I/O threads too).
  mutable std::mutex mu_;
  std::map<std::string, RouteStats, std::less<>> routes_;
  std::map<std::string, std::map<std::string, uint64_t, std::less<>>, std::less<>> counters_;  // family -> label
  uint64_t commit_batches_ = 0;
  uint64_t commit_jobs_ = 0;
  uint64_t commit_batch_jobs_max_ = 0;
  std::array<uint64_t, kDeliveryBucketsS.size()> delivery_buckets_{};
  uint64_t delivery_count_ = 0;
  double delivery_sum_s_ = 0;
};

}  // namespace ticketd
