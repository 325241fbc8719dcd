// sim/scenario/json_text.hpp: reading a teacher-written JSON document safely.
//
// Shared by the scenario and lesson loaders. Before parsing, the raw bytes are
// checked (size, empty, NUL, UTF-8, nesting depth) so that no input can crash,
// hang or use unbounded memory; then nlohmann/json parses it, and every way
// the parse can fail (syntax, a number too large for a double such as
// 1E99999) becomes one ScenarioError with line and column where known.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/scenario/loader.hpp"

namespace smtplab {

struct JsonDocumentKind {
  const char* noun;     // "scenario", "lesson"
  const char* example;  // shown when the file is empty: {"smtplab": 1, "hosts": [...]}
  size_t max_bytes;
  int max_depth;
};

// 1-based line and column (in UTF-8 characters) of a byte offset.
std::pair<int, int> line_col(std::string_view text, size_t offset);

// Appends the errors and returns nullopt when the text is not a JSON document
// of that kind's limits.
std::optional<nlohmann::json> parse_json_document(std::string_view text, const std::string& source,
                                                  const JsonDocumentKind& kind, std::vector<ScenarioError>& errors);

}  // namespace smtplab
