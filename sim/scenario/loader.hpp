// sim/scenario/loader.hpp: JSON scenario loading and validation.
//
// Strict, in the style of nlohmann/json used carefully: required keys via
// at(), defaults for optional ones, unknown keys rejected with the list of
// allowed ones, enums parsed with "expected one of: ...". Validation runs in
// passes and reports every error, each as "file: /json/pointer: reason".
// Malformed JSON reports line and column. Files that are empty, binary,
// non-UTF-8, too large or too deeply nested get an error before parsing, so
// no input can crash, hang, or use unbounded memory.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace smtplab {

struct ScenarioError {
  std::string file;
  std::string pointer;  // JSON pointer ("" for the file as a whole)
  int line = 0;         // for syntax errors
  int column = 0;
  std::string message;

  // "scenarios/x.json: /links/0/loss: must be between 0 and 1, got 1.5"
  std::string format() const;
};

struct LoadResult {
  std::optional<Scenario> scenario;
  std::vector<ScenarioError> errors;
  bool ok() const { return scenario.has_value() && errors.empty(); }
};

inline constexpr size_t kMaxScenarioBytes = 4 * 1024 * 1024;
inline constexpr int kMaxScenarioDepth = 32;

LoadResult load_scenario_file(const std::string& path);
LoadResult load_scenario_text(std::string_view text, const std::string& source_name);

// A scenario document plus faults and messages added to it (each a JSON
// object in the scenario format: a lesson's exercise, `smtplab run
// --fault`), loaded and validated exactly as one file would be. An error in
// an addition points into the additions ("/faults/0/loss": the first added
// fault); one in the document itself gets `base_prefix` before its pointer.
LoadResult load_scenario_with_additions(const nlohmann::json& doc, const std::vector<nlohmann::json>& faults,
                                        const std::vector<nlohmann::json>& messages, const std::string& source,
                                        const std::string& base_prefix);

// The built-in default scenario (scenarios/bob-to-alice.json, embedded).
std::string_view default_scenario_text();
Scenario default_scenario();

// For each object type of the format, the keys the loader accepts. The JSON
// Schema test checks scenarios/schema.json against this table.
const std::map<std::string, std::vector<std::string>>& scenario_allowed_keys();

// "100Mbit", "1Gbit", "56kbit", "1500bit" -> bits per second.
std::optional<int64_t> parse_bandwidth(std::string_view text, std::string* error);

}  // namespace smtplab
