// app/common.cpp: helpers shared by subcommands.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/commands.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/fates.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

bool scenario_document(const std::string& path, const std::vector<Setting>& sets, size_t value,
                       nlohmann::ordered_json& doc, std::ostream& err) {
  std::string text(default_scenario_text());
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded()) {
    err << path << ": not JSON\n";
    return false;
  }
  bool ok = true;
  for (const Setting& s : sets) {
    std::string why;
    if (!apply_setting(doc, s.pointer, s.value_at(value), &why)) {
      err << s.option_text(value) << ": " << why << '\n';
      ok = false;
    }
  }
  return ok;
}

std::optional<Scenario> load_or_report(const std::string& path, std::ostream& err,
                                       const std::vector<std::string>& faults, const std::vector<Setting>& sets,
                                       size_t value) {
  const std::string source = path.empty() ? "<built-in bob-to-alice>" : path;
  LoadResult r = path.empty() ? load_scenario_text(default_scenario_text(), source) : load_scenario_file(path);
  if (!r.ok()) {
    for (const ScenarioError& e : r.errors) err << e.format() << '\n';
    return std::nullopt;
  }
  if (faults.empty() && sets.empty()) return r.scenario;
  // The file loaded, so it is a JSON object: set the values and add the
  // faults, then load the whole again, so they are checked as the file's
  // own would be.
  nlohmann::ordered_json doc;
  bool bad = !scenario_document(path, sets, value, doc, err);
  std::vector<nlohmann::json> added;
  for (size_t i = 0; i < faults.size(); ++i) {
    const std::string name = "--fault " + std::to_string(i + 1);
    try {
      nlohmann::json f = nlohmann::json::parse(faults[i]);
      if (f.is_object()) {
        added.push_back(std::move(f));
        continue;
      }
      err << name << ": expected a JSON object, got " << f.type_name();
    } catch (const nlohmann::json::parse_error& e) {
      // "[json.exception.parse_error.101] parse error at line 1, column 9: ..." without its tag.
      const std::string what = e.what();
      const size_t tag_end = what.find("] ");
      err << name << ": not JSON: " << (tag_end == std::string::npos ? what : what.substr(tag_end + 2));
    }
    err << "\n  a fault is a JSON object in the scenario format, e.g. "
           "'{\"type\": \"host-down\", \"at\": \"30s\", \"host\": \"mx.yahoo.test\"}' (docs/scenario-format.md)\n";
    bad = true;
  }
  if (bad) return std::nullopt;
  const std::string base_prefix = "(the scenario)";
  LoadResult w = load_scenario_with_additions(nlohmann::json(doc), added, {}, source, base_prefix);
  if (!w.ok()) {
    for (ScenarioError e : w.errors) {
      // "/faults/1/loss" of the additions is the second --fault's "/loss".
      if (e.pointer.rfind("/faults/", 0) == 0) {
        const size_t end = std::min(e.pointer.find('/', 8), e.pointer.size());
        size_t k = 0;
        const auto [p, ec] = std::from_chars(e.pointer.data() + 8, e.pointer.data() + end, k);
        if (ec == std::errc{} && p == e.pointer.data() + end) {
          e.file = "--fault " + std::to_string(k + 1);
          e.pointer = e.pointer.substr(end);
        }
      }
      // An error at or under a value set on the command line is that option's,
      // and so is one at an object it made on the way (/nosuch of /nosuch/x:
      // the file loaded alone, so a new error there is the option's).
      // (The document's own errors are prefixed only under /faults and /messages.)
      const std::string in_doc =
          e.pointer.rfind(base_prefix + " ", 0) == 0 ? e.pointer.substr(base_prefix.size() + 1) : e.pointer;
      for (const Setting& s : sets)
        if (in_doc == s.pointer || in_doc.rfind(s.pointer + "/", 0) == 0 ||
            (!in_doc.empty() && s.pointer.rfind(in_doc + "/", 0) == 0)) {
          e.file = s.option_text(value);
          e.pointer = in_doc;
          break;
        }
      err << e.format() << '\n';
    }
    return std::nullopt;
  }
  return w.scenario;
}

bool read_settings(const std::vector<std::string>& texts, const char* command, size_t lists, std::vector<Setting>& out,
                   std::ostream& err) {
  out.clear();
  std::vector<std::string> listed;  // the pointers of the settings with several values
  for (const std::string& t : texts) {
    std::string why;
    auto s = parse_setting(t, &why);
    if (!s) {
      err << command << ": --set " << t << ": " << why << '\n';
      return false;
    }
    if (s->values.size() > 1 && lists == 0) {
      err << command << ": --set " << t << ": one value here; `smtplab sweep` takes a list of values to compare\n";
      return false;
    }
    if (s->values.size() > 1) {
      if (listed.size() == lists) {
        err << command << ": --set " << t << ": " << (lists == 1 ? "a second" : "a third") << " list of values (";
        for (size_t k = 0; k < listed.size(); ++k) err << (k ? " and " : "") << listed[k];
        err << (lists == 1 ? " has one); this compares one value at a time\n"
                           : " have them); a sweep varies at most two values at a time (a grid of every pair)\n");
        return false;
      }
      listed.push_back(s->pointer);
    }
    // A list and another value at one pointer: which would each run have?
    if (std::any_of(out.begin(), out.end(), [&](const Setting& o) {
          return o.pointer == s->pointer && (o.values.size() > 1 || s->values.size() > 1);
        })) {
      err << command << ": --set " << t << ": " << s->pointer << " is set twice, once with a list of values\n";
      return false;
    }
    out.push_back(std::move(*s));
  }
  return true;
}

bool read_until(const std::string& text, const char* command, std::optional<SimTime>& out, std::ostream& err) {
  if (text.empty()) return true;
  std::string why;
  const auto t = parse_duration(text, &why);
  if (!t || t->us <= 0) {
    err << command << ": --until " << text << ": " << (why.empty() ? "must be more than 0" : why) << '\n';
    return false;
  }
  out = t;
  return true;
}

void write_story(std::ostream& out, const Trace& trace, const TranscriptOptions& opt) {
  write_transcript(out, trace, opt);
  // The answer a student looks for first: did each recipient get it?
  const auto& recs = trace.records();
  write_fates(out, message_fates(recs), recs.empty() ? SimTime{0} : recs.back().t);
}

#ifndef SMTPLAB_HAVE_GUI
int run_default(std::ostream& out, std::ostream& err) {
  err << "smtplab: this build has no GUI; printing the transcript of the built-in scenario instead\n";
  auto sc = load_or_report("", err);
  if (!sc) return kExitFailed;
  RunResult result = run_scenario(*sc);
  write_story(out, result.trace);
  return kExitOk;
}
#endif

}  // namespace smtplab::app
