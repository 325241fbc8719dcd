// gui/value_candidates.cpp: see value_candidates.hpp.
#include "gui/value_candidates.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "sim/scenario/setting.hpp"

namespace smtplab::gui {

namespace {

using json = nlohmann::ordered_json;

// RFC 6901: "~" is written "~0" and "/" is written "~1" in a token.
std::string escape_token(std::string_view key) {
  std::string out;
  for (const char ch : key) {
    if (ch == '~') out += "~0";
    else if (ch == '/') out += "~1";
    else out += ch;
  }
  return out;
}

bool probability_key(std::string_view key) {
  return key == "loss" || key == "reorder" || key == "loss_in_bad" || key.rfind("p_", 0) == 0;
}

// "40ms" -> (40, "ms"); "2.5Mbit" -> (2.5, "Mbit"); false if not a number
// followed by letters.
bool split_quantity(std::string_view s, double& n, std::string& unit) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0 || i == s.size()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + i, n);
  if (ec != std::errc() || end != s.data() + i) return false;
  size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  if (j == s.size()) return false;
  for (size_t k = j; k < s.size(); ++k)
    if (!std::isalpha(static_cast<unsigned char>(s[k]))) return false;
  unit = std::string(s.substr(j));
  return true;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// What names the object an array element is: a link's ends, a host's name,
// a fault's type and host, a message's sender and recipient.
std::string element_name(std::string_view array, const json& e) {
  auto str = [&](const char* k) {
    return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : std::string();
  };
  std::string what = array == "links" ? "link" : array == "hosts" ? "host" : array == "faults" ? "fault" : array == "messages" ? "message" : std::string(array);
  if (!str("a").empty() && !str("b").empty()) return what + " " + str("a") + " - " + str("b");
  if (!str("name").empty()) return what + " " + str("name");
  if (!str("type").empty()) return what + " " + str("type") + (str("host").empty() ? "" : " on " + str("host"));
  if (!str("from").empty()) return what + " from " + str("from");
  return {};
}

struct Walker {
  std::vector<ValueCandidate> out;

  void leaf(const std::string& pointer, std::string_view key, const std::string& owner, const json& v) {
    const bool quantity = [&] {
      if (!v.is_string()) return false;
      double n = 0;
      std::string unit;
      return split_quantity(v.get<std::string>(), n, unit);
    }();
    if (!v.is_number() && !v.is_boolean() && !quantity) return;
    const nlohmann::json cur = nlohmann::json::parse(v.dump());
    ValueCandidate c;
    c.pointer = pointer;
    c.label = pointer.substr(pointer.rfind('/') + 1) + " = " + Setting::value_text(cur) +
              (owner.empty() ? std::string() : " (" + owner + ")");
    c.current = cur;
    c.suggestion = suggested_values(cur, key);
    out.push_back(std::move(c));
  }

  void walk(const json& node, const std::string& pointer, std::string_view key, const std::string& owner,
            std::string_view array) {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string child = pointer + "/" + escape_token(it.key());
        if (pointer.empty() && (it.key() == "smtplab" || it.key() == "seed")) continue;
        walk(it.value(), child, it.key(), owner, {});
      }
      // A link without a loss of its own: the what-if teachers ask first.
      if (array == "links" && !node.contains("loss")) {
        ValueCandidate c;
        c.pointer = pointer + "/loss";
        c.label = "loss, none set" + (owner.empty() ? std::string() : " (" + owner + ")");
        c.suggestion = suggested_values(nullptr, "loss");
        out.push_back(std::move(c));
      }
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i) {
        const std::string name = node[i].is_object() ? element_name(key, node[i]) : std::string();
        walk(node[i], pointer + "/" + std::to_string(i), key, name.empty() ? owner : name,
             node[i].is_object() ? key : std::string_view());
      }
    } else {
      leaf(pointer, key, owner, node);
    }
  }
};

}  // namespace

std::vector<ValueCandidate> value_candidates(std::string_view scenario_text) {
  const json doc = json::parse(scenario_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  Walker w;
  w.walk(doc, "", "", "", {});
  // The loss of every link without one of its own ("network" holds the
  // links' defaults), when the file does not set it: the what-if for a
  // scenario that lists no links.
  if (!doc.contains("network") || (doc["network"].is_object() && !doc["network"].contains("loss"))) {
    ValueCandidate c;
    c.pointer = "/network/loss";
    c.label = "loss, none set (network: every link without its own)";
    c.suggestion = suggested_values(nullptr, "loss");
    w.out.push_back(std::move(c));
  }
  return std::move(w.out);
}

std::string suggested_values(const nlohmann::json& current, std::string_view key) {
  if (current.is_boolean()) return "false, true";
  const bool prob = probability_key(key);
  if (current.is_null() || (prob && current.is_number())) {
    std::vector<double> ladder = {0, 0.05, 0.1, 0.2, 0.3};
    if (current.is_number()) {
      const double c = current.get<double>();
      if (std::find(ladder.begin(), ladder.end(), c) == ladder.end() && c >= 0 && c <= 1) {
        ladder.push_back(c);
        std::sort(ladder.begin(), ladder.end());
      }
    }
    std::vector<std::string> parts;
    for (const double v : ladder) parts.push_back(number_text(v));
    return join(parts);
  }
  double n = 0;
  std::string unit;
  if (current.is_number()) n = current.get<double>();
  else if (!current.is_string() || !split_quantity(current.get<std::string>(), n, unit))
    return current.is_string() ? current.get<std::string>() : current.dump();
  const bool integral = current.is_number_integer() || (!current.is_number() && n == std::floor(n));
  std::vector<std::string> parts;
  if (n == 0) {
    for (const double v : {0.0, 1.0, 2.0, 5.0}) parts.push_back(number_text(v) + unit);
    return join(parts);
  }
  for (const double f : {0.25, 0.5, 1.0, 2.0, 4.0}) {
    double v = n * f;
    if (integral && v != std::floor(v)) continue;  // 3 requests stay whole: no 0.75
    const std::string t = number_text(v) + unit;
    if (std::find(parts.begin(), parts.end(), t) == parts.end()) parts.push_back(t);
  }
  return join(parts);
}

}  // namespace smtplab::gui
