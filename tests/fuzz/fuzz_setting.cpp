// tests/fuzz/fuzz_setting.cpp: `--set POINTER=VALUES` (sim/scenario/setting.hpp).
// Invariants: a parsed setting has a pointer starting with '/' and between
// 1 and kMaxSettingValues values; written back as POINTER=v1,v2 (strings as
// JSON when a bare word would read otherwise) it parses to the same
// setting, and so does each value as value_text() writes it; and applying it to a scenario-like document either sets the
// value there, read back by the same pointer, or says why not.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/scenario/setting.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string why;
  const auto s = smtplab::parse_setting(in, &why);
  if (!s) {
    if (why.empty()) std::abort();
    return 0;
  }
  if (s->pointer.empty() || s->pointer.front() != '/') std::abort();
  if (s->values.empty() || s->values.size() > smtplab::kMaxSettingValues) std::abort();
  std::string text = s->pointer + "=";
  for (size_t i = 0; i < s->values.size(); ++i) text += (i ? "," : "") + s->values[i].dump();
  const auto again = smtplab::parse_setting(text, &why);
  if (!again || again->pointer != s->pointer || again->values != s->values) std::abort();
  // Each value as value_text() writes it (the replay line) reads back the same.
  for (const nlohmann::json& v : s->values) {
    const auto one = smtplab::parse_setting("/x=" + smtplab::Setting::value_text(v), &why);
    if (!one || one->values.size() != 1 || one->values[0] != v) std::abort();
  }
  nlohmann::json doc = nlohmann::json::parse(R"({"links": [{"a": "x", "loss": 0.1}], "duration": "1h", "a/b": {"c~d": 1}})");
  if (smtplab::apply_setting(doc, s->pointer, s->values.front(), &why)) {
    if (doc.at(nlohmann::json::json_pointer(s->pointer)) != s->values.front()) std::abort();
  } else if (why.empty()) {
    std::abort();
  }
  return 0;
}
