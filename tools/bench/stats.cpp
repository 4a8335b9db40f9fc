#include "stats.hpp"

#include <boost/json/parse.hpp>

namespace ticketd::bench {

const char* op_name(Op op) {
  switch (op) {
    case Op::Provision:
      return "provision";
    case Op::Hold:
      return "hold";
    case Op::Release:
      return "release";
    case Op::Checkout:
      return "checkout";
    case Op::SeatMap:
      return "seatmap";
    case Op::QueueJoin:
      return "queue_join";
    case Op::QueuePoll:
      return "queue_poll";
    case Op::Audit:
      return "audit_read";
    case Op::Checkin:
      return "checkin";
    case Op::Bundle:
      return "scanner_bundle";
    case Op::WaitlistJoin:
      return "waitlist_join";
    case Op::Cancel:
      return "cancel";
    case Op::Count:
      break;
  }
  return "?";
}

std::string outcome_of(int status, const std::string& body) {
  if (status == 0) return "transport";
  std::string key = std::to_string(status);
  if (status < 400 || body.empty() || body.size() > 4096) return key;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return key;
  const auto* err = v.as_object().if_contains("error");
  if (!err || !err->is_object()) return key;
  const auto* code = err->as_object().if_contains("code");
  if (!code || !code->is_string() || code->as_string().size() > 64) return key;
  return key + " " + std::string(code->as_string());
}

void Recorder::record(Op op, SteadyTime sent, SteadyTime done, int status, const std::string& outcome,
                      bool expected_refusal) {
  const size_t i = static_cast<size_t>(op);
  TICKETD_ASSERT(i < kOps);
  OpStats& s = ops_[i];
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(done - sent).count();
  s.latency_us.record(static_cast<uint64_t>(std::max<int64_t>(0, us)));
  if (status >= 200 && status < 300)
    ++s.ok;
  else if (status >= 400 && status < 500 && expected_refusal)
    ++s.refused;
  else
    ++s.failed;
  if (status >= 500) ++server_errors_;
  if (status == 0) ++transport_errors_;
  auto it = s.outcomes.find(outcome);
  if (it != s.outcomes.end())
    ++it->second;
  else if (s.outcomes.size() < kCodesMax)
    s.outcomes.emplace(outcome, 1);
  else
    ++s.outcomes["other"];

  const auto second = std::chrono::duration_cast<std::chrono::seconds>(done - start_).count();
  const size_t at = std::min<size_t>(static_cast<size_t>(std::max<int64_t>(0, second)), kTimelineSecondsMax - 1);
  if (timeline_.size() <= at) timeline_.resize(at + 1);
  Second& sec = timeline_[at];
  ++sec.completed[i];
  if (!sec.latency_us[i]) sec.latency_us[i] = std::make_unique<IntervalHistogram>();
  sec.latency_us[i]->record(static_cast<uint64_t>(std::max<int64_t>(0, us)));
}

void Recorder::merge(const Recorder& other) {
  for (size_t i = 0; i < kOps; ++i) {
    OpStats& a = ops_[i];
    const OpStats& b = other.ops_[i];
    a.latency_us.merge(b.latency_us);
    a.ok += b.ok;
    a.refused += b.refused;
    a.failed += b.failed;
    for (const auto& [k, v] : b.outcomes) {
      if (a.outcomes.count(k) || a.outcomes.size() < kCodesMax)
        a.outcomes[k] += v;
      else
        a.outcomes["other"] += v;
    }
  }
  if (timeline_.size() < other.timeline_.size()) timeline_.resize(other.timeline_.size());
  for (size_t t = 0; t < other.timeline_.size(); ++t) {
    for (size_t i = 0; i < kOps; ++i) {
      timeline_[t].completed[i] += other.timeline_[t].completed[i];
      const auto& h = other.timeline_[t].latency_us[i];
      if (!h) continue;
      if (!timeline_[t].latency_us[i]) timeline_[t].latency_us[i] = std::make_unique<IntervalHistogram>();
      timeline_[t].latency_us[i]->merge(*h);
    }
  }
  server_errors_ += other.server_errors_;
  transport_errors_ += other.transport_errors_;
}

}  // namespace ticketd::bench
