// bench/sweep_bench.cpp: `smtplab bench sweep`: one scenario over many seeds
// (sim/scenario/sweep.hpp), on one thread and on every core, side by side.
//
// The scenario is the built-in Bob -> Alice with 20% loss on every link, so
// runs differ by seed (retransmissions, retries, some still queued at the
// end), as in a real sweep. Prints runs per second on one thread and on N,
// the speed-up (ideal: N; the runs share nothing but the scenario), and
// whether the two summaries are identical (they must be: the summary does
// not depend on the number of threads).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "bench/bench.hpp"
#include "sim/scenario/loader.hpp"
#include "sim/scenario/sweep.hpp"

namespace smtplab::bench {

namespace {

using Clock = std::chrono::steady_clock;

struct Timed {
  SweepSummary summary;
  double wall = 0, cpu = 0;
};

Timed timed_sweep(const Scenario& sc, uint64_t seeds, unsigned jobs) {
  SweepOptions opt;
  opt.seeds = {1, seeds};
  opt.jobs = jobs;
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  Timed t{sweep(sc, opt), 0, 0};
  t.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  t.cpu = cpu_seconds() - c0;
  return t;
}

}  // namespace

int run_sweep(std::ostream& out, const Options& options) {
  nlohmann::json j = nlohmann::json::parse(default_scenario_text());
  j["network"]["loss"] = 0.2;
  j["name"] = "Bob -> Alice at 20% loss";
  LoadResult loaded = load_scenario_text(j.dump(), "<bench sweep>");
  if (!loaded.ok()) {
    out << "bench sweep: the scenario does not load: " << loaded.errors.front().format() << "\n";
    return 1;
  }
  const Scenario& sc = *loaded.scenario;
  const uint64_t seeds = options.quick ? 100 : 1000;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const Timed one = timed_sweep(sc, seeds, 1);
  const Timed many = timed_sweep(sc, seeds, cores);
  char line[512];
  const auto& r = one.summary.recipients;
  std::snprintf(line, sizeof line, "%llu runs of \"%s\" (%zu recipients, %zu outcomes for the first)\n",
                static_cast<unsigned long long>(seeds), sc.name.c_str(), r.size(), r.empty() ? size_t{0} : r[0].outcomes.size());
  out << line;
  std::snprintf(line, sizeof line, "1 thread:  %.2f s wall, %.2f s cpu, %.0f runs per wall second\n", one.wall, one.cpu,
                static_cast<double>(seeds) / one.wall);
  out << line;
  std::snprintf(line, sizeof line, "%u threads: %.2f s wall, %.2f s cpu, %.0f runs per wall second\n", cores, many.wall,
                many.cpu, static_cast<double>(seeds) / many.wall);
  out << line;
  const bool same = sweep_json(one.summary) == sweep_json(many.summary);
  std::snprintf(line, sizeof line, "speed-up ratio %u threads / 1: %.2f (ideal %u); summaries identical: %s\n", cores,
                one.wall / many.wall, cores, same ? "yes" : "NO");
  out << line;
  return same && one.summary.errors.empty() ? 0 : 1;
}

}  // namespace smtplab::bench
