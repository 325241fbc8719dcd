// gui/scenario_writer.cpp: faults and messages back to scenario JSON.
#include "gui/scenario_writer.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sim/faults/catalog.hpp"
#include "sim/scenario/loader.hpp"

namespace smtplab::gui {

using nlohmann::ordered_json;

std::string duration_text(SimTime d) {
  int64_t us = d.us;
  if (us == 0) return "0";
  struct U { int64_t n; const char* s; };
  for (U u : {U{86400000000LL, "d"}, U{3600000000LL, "h"}, U{60000000LL, "min"}, U{1000000, "s"}, U{1000, "ms"}})
    if (us % u.n == 0) return std::to_string(us / u.n) + u.s;
  return std::to_string(us) + "us";
}

namespace {
ordered_json fault_json(const Fault& f) {
  ordered_json j;
  j["type"] = f.type;
  j["at"] = duration_text(f.at);
  const FaultType* ft = find_fault_type(f.type);
  if (!ft) return j;
  auto put = [&](std::string_view key, bool required) {
    if (key == "until") {
      if (f.until) j["until"] = duration_text(*f.until);
    } else if (key == "host") {
      if (required || !f.host.empty()) j["host"] = f.host;
    } else if (key == "link") {
      if (required || !f.link.empty()) j["link"] = f.link;
    } else if (key == "domain") {
      if (required || !f.domain.empty()) j["domain"] = f.domain;
    } else if (key == "mode") {
      if (required || !f.mode.empty()) j["mode"] = f.mode;
    } else if (key == "verb") {
      if (required || !f.verb.empty()) j["verb"] = f.verb;
    } else if (key == "nth") {
      if (required || f.nth != 1) j["nth"] = f.nth;
    } else if (key == "code") {
      if (required || f.code != 0) j["code"] = f.code;
    } else if (key == "text") {
      if (required || !f.text.empty()) j["text"] = f.text;
    } else if (key == "recipient") {
      if (required || !f.recipient.empty()) j["recipient"] = f.recipient;
    } else if (key == "mailbox") {
      if (required || !f.mailbox.empty()) j["mailbox"] = f.mailbox;
    } else if (key == "loss") {
      if (required || f.loss != 0.0) j["loss"] = f.loss;
    } else if (key == "delay") {
      if (required || f.delay.us != 0) j["delay"] = duration_text(f.delay);
    }
  };
  for (auto k : ft->required) put(k, true);
  for (auto k : ft->optional) put(k, false);
  return j;
}

ordered_json message_json(const MessageSpec& m) {
  ordered_json j;
  j["from"] = m.from;
  j["to"] = m.to;
  if (!m.cc.empty()) j["cc"] = m.cc;
  if (!m.bcc.empty()) j["bcc"] = m.bcc;
  j["subject"] = m.subject;
  j["body"] = m.body;
  j["at"] = duration_text(m.at);
  if (!m.via.empty()) j["via"] = m.via;
  if (!m.headers.empty()) j["headers"] = m.headers;
  if (!m.probe.empty()) j["probe"] = m.probe;
  return j;
}
}  // namespace

std::string fault_to_json(const Fault& f) { return fault_json(f).dump(); }
std::string message_to_json(const MessageSpec& m) { return message_json(m).dump(); }

std::string scenario_with_additions(std::string_view original, const std::vector<Fault>& faults,
                                    const std::vector<MessageSpec>& messages, std::string* error,
                                    const std::vector<size_t>& dropped, std::optional<uint64_t> seed) {
  ordered_json j = ordered_json::parse(original, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (error) *error = "the original scenario text is not a JSON object";
    return "";
  }
  if (!dropped.empty()) {
    std::vector<size_t> order = dropped;
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    const size_t have = j.contains("faults") && j["faults"].is_array() ? j["faults"].size() : 0;
    if (order.back() >= have) {
      if (error) *error = "fault " + std::to_string(order.back()) + " is not one of the scenario's " +
                          std::to_string(have) + " faults";
      return "";
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) j["faults"].erase(*it);
    if (j["faults"].empty()) j.erase("faults");
  }
  for (const Fault& f : faults) j["faults"].push_back(fault_json(f));
  for (const MessageSpec& m : messages) j["messages"].push_back(message_json(m));
  if (seed) j["seed"] = *seed;
  std::string text = j.dump(2) + "\n";
  LoadResult check = load_scenario_text(text, "<saved scenario>");
  if (!check.ok()) {
    if (error) *error = check.errors.empty() ? "the saved scenario does not load" : check.errors.front().format();
    return "";
  }
  return text;
}

}  // namespace smtplab::gui
