// sim/agents/world.hpp: the simulated world built from a scenario.
//
// The world owns the hosts (user agents, mail servers, DNS servers), the
// network between them and the scheduled faults, all driven by one engine
// and reporting to one trace. It is built, started, run by the engine, and
// finished; nothing outside reaches into it while it runs.
//
// Must never: read a wall clock, draw randomness outside named streams, or
// keep observable state that is not also on the trace.
#pragma once

#include <memory>

#include "sim/engine/engine.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab {

class World {
 public:
  World(const Scenario& scenario, Engine& engine, Trace& trace);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Emits run-start and schedules everything the scenario asks for.
  void start();
  // Emits run-end (call after the engine has run).
  void finish();

  const Scenario& scenario() const { return scenario_; }

 private:
  void schedule_faults();
  void schedule_messages();

  Scenario scenario_;
  Engine& engine_;
  Trace& trace_;
};

}  // namespace smtplab
