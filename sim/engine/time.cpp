// sim/engine/time.cpp: formatting and parsing of simulated durations.
#include "sim/engine/time.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace smtplab {

namespace {

struct Unit {
  std::string_view name;
  int64_t us;
};

// Longest names first so "min" is not read as "m" + garbage and "ms" wins over "m".
constexpr std::array<Unit, 14> kParseUnits{{
    {"days", 86400000000LL}, {"day", 86400000000LL}, {"d", 86400000000LL},
    {"hours", 3600000000LL}, {"hour", 3600000000LL}, {"h", 3600000000LL},
    {"mins", 60000000LL},    {"min", 60000000LL},    {"ms", 1000LL},
    {"us", 1LL},             {"secs", 1000000LL},    {"sec", 1000000LL},
    {"s", 1000000LL},        {"m", 60000000LL},
}};

}  // namespace

std::string format_duration(SimTime d) {
  int64_t us = d.us;
  std::string sign;
  if (us < 0) {
    sign = "-";
    us = -us;
  }
  char buf[64];
  if (us == 0) return "0 s";
  if (us < 1000) {
    std::snprintf(buf, sizeof buf, "%s%lld us", sign.c_str(), static_cast<long long>(us));
    return buf;
  }
  if (us < 1000000) {
    std::snprintf(buf, sizeof buf, "%s%.3f ms", sign.c_str(), static_cast<double>(us) / 1e3);
    return buf;
  }
  if (us < 60000000) {
    std::snprintf(buf, sizeof buf, "%s%.3f s", sign.c_str(), static_cast<double>(us) / 1e6);
    return buf;
  }
  // Minutes and above: the two largest non-zero units, rounded down to seconds.
  const int64_t total_s = us / 1000000;
  const int64_t dd = total_s / 86400, hh = (total_s / 3600) % 24, mm = (total_s / 60) % 60, ss = total_s % 60;
  std::string out = sign;
  auto add = [&out](int64_t v, const char* unit) {
    if (!out.empty() && out != "-") out += ' ';
    out += std::to_string(v);
    out += ' ';
    out += unit;
  };
  if (dd > 0) {
    add(dd, "d");
    if (hh > 0) add(hh, "h");
  } else if (hh > 0) {
    add(hh, "h");
    if (mm > 0) add(mm, "min");
  } else {
    add(mm, "min");
    if (ss > 0) add(ss, "s");
  }
  return out;
}

std::string format_clock(SimTime t) {
  char buf[48];
  const int64_t us = t.us < 0 ? -t.us : t.us;
  std::snprintf(buf, sizeof buf, "%s%lld.%06lld", t.us < 0 ? "-" : "", static_cast<long long>(us / 1000000),
                static_cast<long long>(us % 1000000));
  return buf;
}

std::optional<SimTime> parse_duration(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<SimTime> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && text[i] == ' ') ++i;
  };
  skip_space();
  if (i == text.size()) return fail("empty duration; expected a number and a unit such as \"90s\", \"30min\", \"5d\"");
  if (text.substr(i) == "0") return SimTime{0};
  double total = 0;
  bool any = false;
  while (i < text.size()) {
    skip_space();
    if (i == text.size()) break;
    size_t start = i;
    bool dot = false;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || (text[i] == '.' && !dot))) {
      if (text[i] == '.') dot = true;
      ++i;
    }
    if (i == start) return fail("expected a number at \"" + std::string(text.substr(start)) + "\"");
    const std::string number(text.substr(start, i - start));
    if (number == ".") return fail("expected a number at \"" + std::string(text.substr(start)) + "\"");
    const double value = std::stod(number);
    skip_space();
    size_t ustart = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    const std::string_view unit = text.substr(ustart, i - ustart);
    if (unit.empty())
      return fail("missing unit after " + number + "; use us, ms, s, min, h or d (for example \"" + number + "s\")");
    int64_t scale = 0;
    for (const Unit& u : kParseUnits)
      if (u.name == unit) scale = u.us;
    if (scale == 0) return fail("unknown unit \"" + std::string(unit) + "\"; use us, ms, s, min, h or d");
    total += value * static_cast<double>(scale);
    if (total > 9.0e18) return fail("duration too large");
    any = true;
  }
  if (!any) return fail("empty duration");
  return SimTime{static_cast<int64_t>(std::llround(total))};
}

}  // namespace smtplab
