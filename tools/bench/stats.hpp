// What the load generator measures: per operation a latency histogram, outcomes by status and error
// code, and a timeline (per second: completions and a coarse histogram for latency over time).
//
// Thread safety: a Recorder belongs to one generator thread; merge() them after the threads joined.
// Bounds: at most kCodesMax distinct (status, code) keys per operation (the rest count as "other"),
// at most kTimelineSecondsMax seconds of timeline (later seconds fold into the last one).
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "histogram.hpp"

namespace ticketd::bench {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class Op {
  Provision, Hold, Release, Checkout, SeatMap, QueueJoin, QueuePoll, Audit, Checkin, Bundle, WaitlistJoin, Cancel, Count
};
inline constexpr size_t kOps = static_cast<size_t>(Op::Count);
const char* op_name(Op op);

inline constexpr size_t kCodesMax = 64;
inline constexpr size_t kTimelineSecondsMax = 3600;

using LatencyHistogram = Histogram<7>;             // < 0.8% error; 36 KB
using IntervalHistogram = Histogram<3, uint32_t>;  // < 25% error; 1.3 KB per op-second, for plots only

struct OpStats {
  LatencyHistogram latency_us;
  uint64_t ok = 0;                           // 2xx
  uint64_t refused = 0;                      // 4xx the scenario expects (seat taken, card declined, sold out...)
  uint64_t failed = 0;                       // 5xx, transport failures, and 4xx the scenario does not expect
  std::map<std::string, uint64_t> outcomes;  // "201", "409 seat_unavailable", "transport", ...
};

struct Second {
  std::array<uint64_t, kOps> completed{};
  std::array<std::unique_ptr<IntervalHistogram>, kOps> latency_us;  // allocated on first use
};

class Recorder {
 public:
  explicit Recorder(SteadyTime start) : start_(start) {}
  // `outcome` is "201" or "409 seat_unavailable" or "transport"; `expected_refusal` classifies a 4xx.
  void record(Op op, SteadyTime sent, SteadyTime done, int status, const std::string& outcome, bool expected_refusal);
  void merge(const Recorder& other);

  const OpStats& op(Op o) const { return ops_[static_cast<size_t>(o)]; }
  const std::vector<Second>& timeline() const { return timeline_; }
  uint64_t server_errors() const { return server_errors_; }
  uint64_t transport_errors() const { return transport_errors_; }

 private:
  SteadyTime start_;
  std::array<OpStats, kOps> ops_;
  std::vector<Second> timeline_;
  uint64_t server_errors_ = 0;
  uint64_t transport_errors_ = 0;
};

// The outcome key of a reply: its status, and its JSON error code when it has one.
std::string outcome_of(int status, const std::string& body);

}  // namespace ticketd::bench
