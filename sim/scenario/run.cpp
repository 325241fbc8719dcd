// sim/scenario/run.cpp: builds the world from a scenario and runs it.
#include "sim/scenario/run.hpp"

#include <stdexcept>
#include <string>

#include "sim/agents/world.hpp"

namespace smtplab {

RunResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Scenario sc = scenario;
  for (size_t i : options.disabled_faults) {
    if (i >= sc.faults.size())
      throw std::invalid_argument("run: disabled fault " + std::to_string(i) + " is not one of the scenario's " +
                                  std::to_string(sc.faults.size()) + " faults");
    sc.faults[i].enabled = false;
  }
  if (options.seed) sc.seed = *options.seed;
  if (options.until) sc.duration = *options.until;
  sc.faults.insert(sc.faults.end(), options.extra_faults.begin(), options.extra_faults.end());
  sc.messages.insert(sc.messages.end(), options.extra_messages.begin(), options.extra_messages.end());

  RunResult result;
  result.trace.set_store(options.store_trace);
  result.trace.set_layer_mask(options.layer_mask);
  Engine engine;
  result.trace.attach(engine);
  {
    World world(sc, engine, result.trace);
    world.start();
    engine.run_until(sc.duration);
    world.finish();
    if (options.at_end) options.at_end(world);
  }
  result.trace.detach();
  result.end = engine.now();
  result.events = engine.executed();
  return result;
}

}  // namespace smtplab
