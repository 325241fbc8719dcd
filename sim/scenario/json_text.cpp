// sim/scenario/json_text.cpp: see json_text.hpp.
#include "sim/scenario/json_text.hpp"

#include "sim/trace/writers.hpp"

namespace smtplab {

std::pair<int, int> line_col(std::string_view text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return {line, col};
}

namespace {

// Raw-byte checks that keep the parser away from hostile input.
bool precheck(std::string_view text, const std::string& source, const JsonDocumentKind& kind,
              std::vector<ScenarioError>& errors) {
  const std::string noun = kind.noun;
  auto add = [&](size_t offset, std::string message, bool with_pos) {
    ScenarioError e{source, "", 0, 0, std::move(message)};
    if (with_pos) std::tie(e.line, e.column) = line_col(text, offset);
    errors.push_back(std::move(e));
    return false;
  };
  if (text.size() > kind.max_bytes)
    return add(0, "file is too large (" + std::to_string(text.size()) + " bytes; a " + noun + " may be at most " +
                      std::to_string(kind.max_bytes / (1024 * 1024)) + " MiB)",
               false);
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return add(0, "file is empty; a " + noun + " is a JSON object such as " + kind.example, false);
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos)
    return add(nul, "this looks like a binary file (NUL byte), not a JSON " + noun, true);
  const size_t bad = utf8_error_offset(text);
  if (bad != std::string_view::npos) return add(bad, "text is not valid UTF-8 (save the file as UTF-8)", true);
  // Nesting depth, ignoring brackets inside strings.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kind.max_depth)
        return add(i, "nesting deeper than " + std::to_string(kind.max_depth) + " levels; a " + noun + " never needs that",
                   true);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

// nlohmann's what(): "[json.exception.parse_error.101] parse error at line 1,
// column 2: syntax error ..." -> the part after the position.
std::string reason_of(const std::string& what, const char* marker) {
  const size_t at = what.find(marker);
  const size_t colon = what.find(": ", at == std::string::npos ? 0 : at);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

std::optional<nlohmann::json> parse_json_document(std::string_view text, const std::string& source,
                                                  const JsonDocumentKind& kind, std::vector<ScenarioError>& errors) {
  if (!precheck(text, source, kind, errors)) return std::nullopt;
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    ScenarioError err{source, "", 0, 0, ""};
    std::tie(err.line, err.column) = line_col(text, e.byte > 0 ? e.byte - 1 : 0);
    err.message = "JSON syntax error: " + reason_of(e.what(), "parse error");
    errors.push_back(std::move(err));
  } catch (const nlohmann::json::exception& e) {
    // A number that overflows a double (out_of_range.406: "number overflow
    // parsing '1E400'") carries no byte offset; find the quoted token.
    std::string why = e.what();
    const size_t close = why.find("] ");
    if (close != std::string::npos) why = why.substr(close + 2);
    const bool overflow = e.id == 406;
    ScenarioError err{source, "", 0, 0, "JSON error: " + why + (overflow ? " (too large for a number)" : "")};
    const size_t q1 = why.find('\'');
    const size_t q2 = q1 == std::string::npos ? q1 : why.find('\'', q1 + 1);
    if (q2 != std::string::npos && q2 > q1 + 1) {
      const size_t at = text.find(std::string_view(why).substr(q1 + 1, q2 - q1 - 1));
      if (at != std::string_view::npos) std::tie(err.line, err.column) = line_col(text, at);
    }
    errors.push_back(std::move(err));
  }
  return std::nullopt;
}

}  // namespace smtplab
