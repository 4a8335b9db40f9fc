#include "report.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

namespace ticketd::bench {

namespace json = boost::json;

namespace {

constexpr double kPercentiles[] = {0.50, 0.90, 0.99, 0.999};

double ms(uint64_t us) {
  return static_cast<double>(us) / 1000.0;
}

json::object op_json(const OpStats& s, double seconds) {
  json::object o{{"count", s.latency_us.count()},
                 {"ok", s.ok},
                 {"refused", s.refused},
                 {"failed", s.failed},
                 {"rate_per_s", static_cast<double>(s.latency_us.count()) / seconds},
                 {"ok_per_s", static_cast<double>(s.ok) / seconds},
                 {"p50_ms", ms(s.latency_us.percentile(0.50))},
                 {"p90_ms", ms(s.latency_us.percentile(0.90))},
                 {"p99_ms", ms(s.latency_us.percentile(0.99))},
                 {"p999_ms", ms(s.latency_us.percentile(0.999))},
                 {"max_ms", ms(s.latency_us.max())},
                 {"mean_ms", s.latency_us.mean() / 1000.0}};
  json::object outcomes;
  for (const auto& [k, v] : s.outcomes) outcomes[k] = v;
  o["outcomes"] = std::move(outcomes);
  return o;
}

}  // namespace

void print_table(const Options& o, const Outcome& out, const Recorder& rec) {
  std::printf("\nticket-bench %s: event %lld, %u seats, %zu connections, %s, load phase %.2f s\n", o.scenario.c_str(),
              static_cast<long long>(out.event_id), out.seats_total, o.connections,
              o.rate_per_s > 0 ? ("open loop " + std::to_string(static_cast<long long>(o.rate_per_s)) + "/s").c_str()
                               : "closed loop",
              out.load_seconds);
  std::printf("%-11s %9s %9s %8s %7s %9s %8s %8s %8s %8s %8s\n", "op", "count", "ok/s", "refused", "failed", "p50 ms",
              "p90 ms", "p99 ms", "p99.9 ms", "max ms", "");
  for (size_t i = 0; i < kOps; ++i) {
    const OpStats& s = rec.op(static_cast<Op>(i));
    if (s.latency_us.count() == 0) continue;
    const double secs = static_cast<Op>(i) == Op::Provision || static_cast<Op>(i) == Op::Audit ? 0 : out.load_seconds;
    std::printf("%-11s %9llu %9.0f %8llu %7llu %9.3f %8.3f %8.3f %8.3f %8.3f\n", op_name(static_cast<Op>(i)),
                static_cast<unsigned long long>(s.latency_us.count()),
                secs > 0 ? static_cast<double>(s.ok) / secs : 0.0, static_cast<unsigned long long>(s.refused),
                static_cast<unsigned long long>(s.failed), ms(s.latency_us.percentile(kPercentiles[0])),
                ms(s.latency_us.percentile(kPercentiles[1])), ms(s.latency_us.percentile(kPercentiles[2])),
                ms(s.latency_us.percentile(kPercentiles[3])), ms(s.latency_us.max()));
  }
  std::printf("outcomes:");
  for (size_t i = 0; i < kOps; ++i)
    for (const auto& [k, v] : rec.op(static_cast<Op>(i)).outcomes)
      std::printf(" %s[%s]=%llu", op_name(static_cast<Op>(i)), k.c_str(), static_cast<unsigned long long>(v));
  std::printf("\n");
  if (out.sold_out_seconds)
    std::printf("sold out after %.2f s\n", *out.sold_out_seconds);
  else if (o.scenario == "flash-sale")
    std::printf("not sold out: %llu of %u seats sold\n", static_cast<unsigned long long>(out.seats_sold),
                out.seats_total);
  for (const auto& [name, value] : out.figures) std::printf("%s: %.2f\n", name.c_str(), value);
  for (const Check& c : out.audit)
    std::printf("audit %-4s %s (%s)\n", c.ok ? "ok" : "FAIL", c.name.c_str(), c.detail.c_str());
  std::printf("audit: %s\n", out.audit_ok() ? "PASSED" : "FAILED");
}

bool write_json(const std::string& path, const Options& o, const Outcome& out, const Recorder& rec) {
  json::object ops;
  for (size_t i = 0; i < kOps; ++i) {
    const OpStats& s = rec.op(static_cast<Op>(i));
    if (s.latency_us.count() != 0) ops[op_name(static_cast<Op>(i))] = op_json(s, std::max(out.load_seconds, 1e-9));
  }
  json::array timeline;
  for (size_t t = 0; t < rec.timeline().size(); ++t) {
    json::object sec{{"t_s", t}};
    for (size_t i = 0; i < kOps; ++i) {
      const auto& h = rec.timeline()[t].latency_us[i];
      if (!h) continue;
      sec[op_name(static_cast<Op>(i))] = json::object{{"n", h->count()},
                                                      {"p50_ms", ms(h->percentile(0.5))},
                                                      {"p99_ms", ms(h->percentile(0.99))},
                                                      {"max_ms", ms(h->max())}};
    }
    timeline.push_back(std::move(sec));
  }
  json::array audit;
  for (const Check& c : out.audit) audit.push_back(json::object{{"check", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  json::object figures;
  for (const auto& [k, v] : out.figures) figures[k] = v;
  json::object root{
      {"scenario", o.scenario},
      {"event_id", out.event_id},
      {"seats_total", out.seats_total},
      {"connections", o.connections},
      {"threads", o.threads},
      {"open_loop_rate_per_s", o.rate_per_s},
      {"buyers", o.buyers},
      {"load_seconds", out.load_seconds},
      {"load_offset_s", out.load_offset_s},
      {"seats_sold", out.seats_sold},
      {"sold_out_seconds", out.sold_out_seconds ? json::value(*out.sold_out_seconds) : json::value(nullptr)},
      {"operations", std::move(ops)},
      {"figures", std::move(figures)},
      {"audit", std::move(audit)},
      {"audit_ok", out.audit_ok()},
      {"timeline", std::move(timeline)}};
  std::ofstream f(path);
  f << json::serialize(root) << "\n";
  return static_cast<bool>(f);
}

bool write_timeline(const std::string& path, const Recorder& rec) {
  std::ofstream f(path);
  f << "# t_s";
  for (size_t i = 0; i < kOps; ++i) {
    const char* n = op_name(static_cast<Op>(i));
    f << ' ' << n << "_per_s " << n << "_p50_ms " << n << "_p99_ms " << n << "_max_ms";
  }
  f << "\n";
  for (size_t t = 0; t < rec.timeline().size(); ++t) {
    f << t;
    for (size_t i = 0; i < kOps; ++i) {
      const auto& h = rec.timeline()[t].latency_us[i];
      if (!h) {
        f << " 0 NaN NaN NaN";
        continue;
      }
      f << ' ' << h->count() << ' ' << ms(h->percentile(0.5)) << ' ' << ms(h->percentile(0.99)) << ' ' << ms(h->max());
    }
    f << "\n";
  }
  return static_cast<bool>(f);
}

}  // namespace ticketd::bench

namespace ticketd::bench {

bool write_percentiles(const std::string& path, const Recorder& rec) {
  std::ofstream f(path);
  f << "# op percentile value_ms one_over_one_minus_p\n";
  constexpr double kSteps[] = {0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9995, 0.9999, 1.0};
  for (size_t i = 0; i < kOps; ++i) {
    const OpStats& s = rec.op(static_cast<Op>(i));
    if (s.latency_us.count() == 0 || static_cast<Op>(i) == Op::Audit || static_cast<Op>(i) == Op::Provision) continue;
    f << "# " << op_name(static_cast<Op>(i)) << "\n";
    for (double p : kSteps) {
      const double x = p >= 1.0 ? 1e5 : 1.0 / (1.0 - p);
      const uint64_t v = p >= 1.0 ? s.latency_us.max() : s.latency_us.percentile(p);
      f << op_name(static_cast<Op>(i)) << ' ' << p << ' ' << ms(v) << ' ' << x << "\n";
    }
    f << "\n\n";  // gnuplot: one data block per op (index N)
  }
  return static_cast<bool>(f);
}

}  // namespace ticketd::bench
