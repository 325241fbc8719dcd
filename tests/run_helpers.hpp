// tests/run_helpers.hpp: running one of scenarios/ in a Catch2 test.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "sim/scenario/loader.hpp"
#include "sim/scenario/run.hpp"
#include "test_helpers.hpp"

namespace smtplab::testing {

// scenarios/<name> run with the default options; the test fails if it does
// not load.
inline RunResult run_scenario_file(const std::string& name) {
  auto loaded = load_scenario_file(source_dir() + "/scenarios/" + name);
  REQUIRE(loaded.ok());
  return run_scenario(*loaded.scenario, RunOptions{});
}

}  // namespace smtplab::testing
