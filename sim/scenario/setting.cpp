// sim/scenario/setting.cpp: `--set POINTER=VALUES` (see setting.hpp).
#include "sim/scenario/setting.hpp"

#include <algorithm>
#include <optional>

#include "sim/trace/writers.hpp"

namespace smtplab {

using json = nlohmann::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits at commas outside JSON strings, arrays and objects, so "a,b" in
// quotes and [1,2] stay one value each. false if a quote or bracket is left
// open.
bool split_values(std::string_view text, std::vector<std::string_view>& out) {
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if ((c == ']' || c == '}') && depth > 0) --depth;
    else if (c == ',' && depth == 0) {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(text.substr(start));
  return !in_string && depth == 0;
}

}  // namespace

std::string Setting::name_with(std::string name, const std::string& pointer, const json& v) {
  return name + (name.empty() ? "(" : " (") + pointer + " = " + value_text(v) + ")";
}

std::string Setting::value_text(const json& v) {
  if (!v.is_string()) return v.dump();
  // A word as written when it reads back as the same string (20ms); JSON
  // otherwise ("a,b", "true", " padded"), so a replay line sets the same value.
  const std::string& word = v.get_ref<const std::string&>();
  const auto again = parse_setting("/x=" + word, nullptr);
  if (again && again->values.size() == 1 && again->values[0] == v) return word;
  return v.dump();
}

std::optional<Setting> parse_setting(std::string_view text, std::string* why) {
  const auto fail = [&](std::string reason) -> std::optional<Setting> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos)
    return fail("expected POINTER=VALUE, e.g. /links/0/loss=0.2 (or a list to sweep: /links/0/loss=0,0.1,0.2)");
  Setting s;
  s.text = std::string(text);
  s.pointer = std::string(trim(text.substr(0, eq)));
  if (s.pointer.empty() || s.pointer.front() != '/')
    return fail("\"" + s.pointer + "\" is not a JSON pointer into the scenario: it starts with /, e.g. /links/0/loss");
  if (!is_valid_utf8(s.pointer)) return fail("the pointer is not UTF-8 text");
  try {
    (void)json::json_pointer(s.pointer);
  } catch (const json::exception&) {
    return fail("\"" + s.pointer + "\" is not a JSON pointer: a ~ must be followed by 0 (for ~) or 1 (for /)");
  }
  std::vector<std::string_view> parts;
  if (!split_values(text.substr(eq + 1), parts)) return fail("a quote or bracket in the values is not closed");
  if (parts.size() > kMaxSettingValues)
    return fail(std::to_string(parts.size()) + " values; at most " + std::to_string(kMaxSettingValues));
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view v = trim(parts[i]);
    if (v.empty())
      return fail(parts.size() == 1 ? std::string("no value after =")
                                    : "value " + std::to_string(i + 1) + " of " + std::to_string(parts.size()) + " is empty");
    // A scenario is JSON text, which is UTF-8: so is every value.
    if (!is_valid_utf8(v)) return fail("value " + std::to_string(i + 1) + " is not UTF-8 text");
    json parsed = json::parse(v, nullptr, /*allow_exceptions=*/false);
    // Not JSON: a word as written (20ms, 2h, mx.yahoo.test).
    s.values.push_back(parsed.is_discarded() ? json(std::string(v)) : std::move(parsed));
  }
  return s;
}

namespace {

template <class Json>
bool apply_to(Json& doc, const std::string& pointer, const json& value, std::string* why) {
  const auto fail = [&](std::string reason) {
    if (why) *why = std::move(reason);
    return false;
  };
  try {
    (void)json::json_pointer(pointer);
  } catch (const json::exception&) {
    return fail("\"" + pointer + "\" is not a JSON pointer");
  }
  if (pointer.empty()) return fail("the pointer names the whole scenario; name one value in it, e.g. /links/0/loss");
  // The reference tokens (RFC 6901 3, 4): "/" separates, ~1 is "/", ~0 "~".
  std::vector<std::string> tokens;
  for (size_t at = 1;;) {
    const size_t end = std::min(pointer.find('/', at), pointer.size());
    std::string t;
    for (size_t i = at; i < end; ++i) {
      if (pointer[i] == '~') t += pointer[++i] == '1' ? '/' : '~';
      else t += pointer[i];
    }
    tokens.push_back(std::move(t));
    if (end == pointer.size()) break;
    at = end + 1;
  }
  // Walks an array by index: digits, no leading zero, one of its elements.
  const auto index = [](const Json& a, const std::string& t) -> std::optional<size_t> {
    if (t.empty() || t.size() > 9 || (t.size() > 1 && t[0] == '0') ||
        !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    const size_t i = std::stoul(t);
    if (i >= a.size()) return std::nullopt;
    return i;
  };
  Json* cur = &doc;
  size_t done = 0;  // characters of `pointer` walked
  for (size_t k = 0; k < tokens.size(); ++k) {
    const std::string here = done == 0 ? std::string("the scenario") : pointer.substr(0, done);
    const size_t next = std::min(pointer.find('/', done + 1), pointer.size());
    const bool last = k + 1 == tokens.size();
    if (cur->is_object()) {
      if (last) {
        (*cur)[tokens[k]] = Json(value);
        return true;
      }
      const auto it = cur->find(tokens[k]);
      if (it == cur->end()) {
        // An object the file leaves out (a scenario with no "network"
        // block): made, with objects for the rest of the path, so the
        // loader checks its keys as if the file had them. Nothing can fail
        // after this point, so a refused setting still changes nothing.
        cur = &((*cur)[tokens[k]] = Json::object());
        for (size_t j = k + 1; j + 1 < tokens.size(); ++j) cur = &((*cur)[tokens[j]] = Json::object());
        (*cur)[tokens.back()] = Json(value);
        return true;
      }
      cur = &*it;
    } else if (cur->is_array()) {
      const auto i = index(*cur, tokens[k]);
      if (!i)
        return fail(here + " is a list of " + std::to_string(cur->size()) + (cur->size() == 1 ? " element" : " elements") +
                    (cur->empty() ? "" : " (0 to " + std::to_string(cur->size() - 1) + ")") + "; \"" + tokens[k] +
                    "\" is not one of them");
      if (last) {
        (*cur)[*i] = Json(value);
        return true;
      }
      cur = &(*cur)[*i];
    } else {
      return fail(here + " holds a " + std::string(cur->type_name()) + ", not an object or a list");
    }
    done = next;
  }
  return fail("the pointer names the whole scenario");  // not reached: tokens is never empty
}

}  // namespace

bool apply_setting(json& doc, const std::string& pointer, const json& value, std::string* why) {
  return apply_to(doc, pointer, value, why);
}

bool apply_setting(nlohmann::ordered_json& doc, const std::string& pointer, const json& value, std::string* why) {
  return apply_to(doc, pointer, value, why);
}

}  // namespace smtplab
