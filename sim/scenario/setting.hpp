// sim/scenario/setting.hpp: one value of a scenario given on the command
// line (`--set /links/0/loss=0.2`), or a list of them to sweep
// (`smtplab sweep --set /links/0/loss=0,0.1,0.2,0.3`).
//
// The pointer is a JSON pointer (RFC 6901) into the scenario file; the
// document is changed there and then loaded and checked as a whole, as a
// file would be, so a value the format refuses is refused with the same
// message. Setting a key the object does not have yet adds it (a link with
// no "loss" gets one), and so are objects missing on the way (a scenario
// with no "network" block gets one for /network/loss; an unknown key is
// then the loader's error). An index past the end of an array, or a step
// into a number or a string, is an error: it would not change the run.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtplab {

struct Setting {
  std::string text;     // as given: "/links/0/loss=0,0.1"
  std::string pointer;  // "/links/0/loss"
  std::vector<nlohmann::json> values;  // in the order given
  // Value number k of a list; the one value of a setting that has one.
  const nlohmann::json& value_at(size_t k) const { return values.size() > 1 ? values.at(k) : values.at(0); }
  // "/links/0/loss=0.3": value number k as `--set` takes it (replay lines
  // quote it for the shell).
  std::string assignment(size_t k) const { return pointer + "=" + value_text(value_at(k)); }
  // "--set /links/0/loss=0.3": the option that sets value number k, as
  // errors name it.
  std::string option_text(size_t k) const { return "--set " + assignment(k); }
  // The value as a person writes it: 0.1, 20ms, true, "a,b"; read by
  // parse_setting, it is the same value again.
  static std::string value_text(const nlohmann::json& v);
  // A scenario's name with a changed value after it, so a title bar says
  // what was changed: "A lossy link (/links/2/loss = 0.3)".
  static std::string name_with(std::string name, const std::string& pointer, const nlohmann::json& v);
};
inline constexpr size_t kMaxSettingValues = 100;

// "POINTER=VALUE[,VALUE...]". Each value is JSON if it reads as JSON (0.1,
// true, "a,b"), else a string as written (20ms, 2h): durations need no
// quotes. nullopt and *why when malformed: no '=', a pointer that does not
// start with '/' or has a bad escape, an empty value, more than
// kMaxSettingValues values.
std::optional<Setting> parse_setting(std::string_view text, std::string* why);

// Sets `doc` at `pointer` to `value`, making the objects missing on the
// way. false and *why (and `doc` unchanged) if a step is into a value that
// is not an object or array, or an array index is not one of its elements.
bool apply_setting(nlohmann::json& doc, const std::string& pointer, const nlohmann::json& value, std::string* why);
// The same on a document that keeps its keys in the file's order (a
// scenario the lab saves again).
bool apply_setting(nlohmann::ordered_json& doc, const std::string& pointer, const nlohmann::json& value,
                   std::string* why);

}  // namespace smtplab
