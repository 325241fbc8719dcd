// sim/scenario/run.hpp: a run as a pure function.
//
//   (scenario, seed, faults) -> trace
//
// Everything else (CLI transcripts, the GUI, lessons, golden tests) calls
// this and reads the trace it returns. Injecting a fault at time t is the
// same scenario plus one more timed fault, re-run from zero: determinism
// makes the prefix before t identical.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab {

class World;

struct RunOptions {
  std::optional<uint64_t> seed;          // overrides the scenario's seed
  std::optional<SimTime> until;          // overrides the scenario's duration
  std::vector<Fault> extra_faults;       // appended to the scenario's faults
  // Indices of the scenario's own faults to leave out of this run; every
  // fault keeps its index (the "fault" attribute of its records). An index
  // past the scenario's faults throws std::invalid_argument.
  std::vector<size_t> disabled_faults;
  std::vector<MessageSpec> extra_messages;  // e.g. composed in the GUI
  bool store_trace = true;
  uint32_t layer_mask = ~0u;             // Trace::set_layer_mask (benchmarks)
  // Called after the run, before the world is torn down: exports of the
  // mailboxes (`smtplab run --maildir`), inspections in tests.
  std::function<void(World&)> at_end;
};

struct RunResult {
  Trace trace;
  SimTime end{0};
  uint64_t events = 0;  // engine events executed
};

RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

}  // namespace smtplab
