// bench/bench.hpp: the benchmark registry behind `smtplab bench [NAME]`.
//
// Benchmarks print figures and ratios measured side by side in one process
// (never a pass/fail timing): machines here are shared and noisy. A ratio
// line contains the word "ratio". `quick` shrinks sizes for CI smoke runs.
#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace smtplab::bench {

struct Options {
  bool quick = false;
};

struct Benchmark {
  std::string_view name;
  std::string_view description;
  int (*run)(std::ostream& out, const Options& options);
};

std::span<const Benchmark> all();

// CPU time of this process so far, in seconds (CLOCK_PROCESS_CPUTIME_ID). On a
// shared machine wall time also counts the time other jobs held the CPU, so
// benchmarks report both and judge on this one.
double cpu_seconds();
// Peak resident memory of this process so far, in bytes (VmHWM).
long long peak_rss_bytes();
// Current resident memory, in bytes (VmRSS).
long long current_rss_bytes();

}  // namespace smtplab::bench
