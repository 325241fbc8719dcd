// tests/test_golden.cpp: golden traces.
//
// For every tests/golden/NAME.jsonl, scenarios/NAME.json run with its own
// seed must produce exactly that trace. On a mismatch the test prints the
// first differing records side by side. To accept a change on purpose:
//   make golden        (or: bash tests/golden/update.sh build/release/smtplab NAME)
// then review `git diff tests/golden`.
#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "sim/scenario/loader.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/writers.hpp"
#include "test_helpers.hpp"

using namespace smtplab;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

std::string run_jsonl(const Scenario& sc) {
  RunResult r = run_scenario(sc);
  std::ostringstream out;
  write_jsonl(out, r.trace);
  return out.str();
}

}  // namespace

TEST_CASE("golden traces match", "[golden]") {
  const fs::path dir = fs::path(testing::source_dir()) / "tests" / "golden";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".jsonl") continue;
    const std::string name = entry.path().stem().string();
    {
      const fs::path scenario = fs::path(testing::source_dir()) / "scenarios" / (name + ".json");
      LoadResult lr = load_scenario_file(scenario.string());
      REQUIRE(lr.ok());
      const auto want = lines_of(testing::read_file(entry.path().string()));
      const auto got = lines_of(run_jsonl(*lr.scenario));
      std::ostringstream diff;
      int shown = 0;
      for (size_t i = 0; i < std::max(want.size(), got.size()) && shown < 5; ++i) {
        const std::string w = i < want.size() ? want[i] : "(no record)";
        const std::string g = i < got.size() ? got[i] : "(no record)";
        if (w == g) continue;
        diff << "record " << i + 1 << ":\n  want: " << w << "\n  got:  " << g << "\n";
        ++shown;
      }
      INFO("scenario " << name << ": " << want.size() << " golden records, " << got.size() << " produced\n"
                       << diff.str() << "(to accept on purpose: make golden, then review git diff tests/golden)");
      CHECK(shown == 0);
      ++checked;
    }
  }
  CHECK(checked >= 1);  // bob-to-alice at least
}

TEST_CASE("a run is deterministic: same scenario and seed, byte-identical trace", "[golden][determinism]") {
  const fs::path dir = fs::path(testing::source_dir()) / "scenarios";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json" || entry.path().filename() == "schema.json") continue;
    {
      INFO("scenario " << entry.path().filename().string());
      LoadResult lr = load_scenario_file(entry.path().string());
      REQUIRE(lr.ok());
      const std::string a = run_jsonl(*lr.scenario);
      const std::string b = run_jsonl(*lr.scenario);
      CHECK(a.size() > 0);
      CHECK(a == b);
      RunOptions other;
      other.seed = lr.scenario->seed + 1;
      // A different seed still runs and yields a valid trace.
      RunResult r = run_scenario(*lr.scenario, other);
      CHECK(r.trace.count() > 0);
    }
  }
}
