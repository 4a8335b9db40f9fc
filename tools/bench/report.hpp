// ticket-bench output: a human table on stdout, the full result as JSON, and a gnuplot-ready
// timeline (one line per second: completions and p50/p99/max latency per operation).
#pragma once

#include <string>

#include "scenarios.hpp"

namespace ticketd::bench {

void print_table(const Options& o, const Outcome& out, const Recorder& rec);
bool write_json(const std::string& path, const Options& o, const Outcome& out, const Recorder& rec);
bool write_timeline(const std::string& path, const Recorder& rec);
// The percentile distribution (HdrHistogram-style), one gnuplot data block per operation.
bool write_percentiles(const std::string& path, const Recorder& rec);

}  // namespace ticketd::bench
