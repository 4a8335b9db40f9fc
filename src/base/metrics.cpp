#include "base/metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace ticketd {

void Metrics::count_request(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), RouteStats{}).first;
  ++it->second.by_status[status];
  Histogram& h = it->second.latency;
  for (size_t i = 0; i < kLatencyBucketsS.size(); ++i)
    if (seconds <= kLatencyBucketsS[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::count(std::string_view family, std::string_view label_value) {
  std::lock_guard lock(mu_);
  auto f = counters_.find(family);
  if (f == counters_.end()) f = counters_.emplace(std::string(family), std::map<std::string, uint64_t, std::less<>>{}).first;
  auto n = f->second.find(label_value);
  if (n == f->second.end()) n = f->second.emplace(std::string(label_value), 0).first;
  ++n->second;
}

void Metrics::observe_commit_batch(uint64_t jobs) {
  std::lock_guard lock(mu_);
  ++commit_batches_;
  commit_jobs_ += jobs;
  commit_batch_jobs_max_ = std::max(commit_batch_jobs_max_, jobs);
}

void Metrics::observe_notification_latency(double seconds) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < kDeliveryBucketsS.size(); ++i)
    if (seconds <= kDeliveryBucketsS[i]) ++delivery_buckets_[i];
  ++delivery_count_;
  delivery_sum_s_ += seconds;
}

std::string Metrics::render(const std::function<void(std::string&)>& extra) const {
  std::string out;
  char line[512];
  {
    std::lock_guard lock(mu_);
    out += "# TYPE ticketd_http_requests_total counter\n";
    for (const auto& [route, stats] : routes_) {
      for (const auto& [status, n] : stats.by_status) {
        std::snprintf(line, sizeof line, "ticketd_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                      route.c_str(), status, static_cast<unsigned long long>(n));
        out += line;
      }
    }
    out += "# TYPE ticketd_http_request_duration_seconds histogram\n";
    for (const auto& [route, stats] : routes_) {
      const Histogram& h = stats.latency;
      for (size_t i = 0; i < kLatencyBucketsS.size(); ++i) {
        std::snprintf(line, sizeof line, "ticketd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                      route.c_str(), kLatencyBucketsS[i], static_cast<unsigned long long>(h.buckets[i]));
        out += line;
      }
      std::snprintf(line, sizeof line,
                    "ticketd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                    "ticketd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                    "ticketd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                    route.c_str(), static_cast<unsigned long long>(h.count), route.c_str(), h.sum, route.c_str(),
                    static_cast<unsigned long long>(h.count));
      out += line;
    }
    for (const auto& [family, labels] : counters_) {
      out += "# TYPE ticketd_" + family + "_total counter\n";
      for (const auto& [label, n] : labels) {
        std::snprintf(line, sizeof line, "ticketd_%s_total{result=\"%s\"} %llu\n", family.c_str(), label.c_str(),
                      static_cast<unsigned long long>(n));
        out += line;
      }
    }
    std::snprintf(line, sizeof line,
                  "# TYPE ticketd_commit_batches_total counter\nticketd_commit_batches_total %llu\n"
                  "# TYPE ticketd_commit_jobs_total counter\nticketd_commit_jobs_total %llu\n"
                  "# TYPE ticketd_commit_batch_jobs_max gauge\nticketd_commit_batch_jobs_max %llu\n",
                  static_cast<unsigned long long>(commit_batches_), static_cast<unsigned long long>(commit_jobs_),
                  static_cast<unsigned long long>(commit_batch_jobs_max_));
    out += line;
    out += "# TYPE ticketd_notification_delivery_seconds histogram\n";
    for (size_t i = 0; i < kDeliveryBucketsS.size(); ++i) {
      std::snprintf(line, sizeof line, "ticketd_notification_delivery_seconds_bucket{le=\"%g\"} %llu\n",
                    kDeliveryBucketsS[i], static_cast<unsigned long long>(delivery_buckets_[i]));
      out += line;
    }
    std::snprintf(line, sizeof line,
                  "ticketd_notification_delivery_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "ticketd_notification_delivery_seconds_sum %.6f\n"
                  "ticketd_notification_delivery_seconds_count %llu\n",
                  static_cast<unsigned long long>(delivery_count_), delivery_sum_s_,
                  static_cast<unsigned long long>(delivery_count_));
    out += line;
  }
  if (extra) extra(out);
  return out;
}

}  // namespace ticketd
