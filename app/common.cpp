// app/common.cpp: helpers shared by subcommands.
#include <iostream>

#include "app/commands.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/fates.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

std::optional<Scenario> load_or_report(const std::string& path, std::ostream& err) {
  LoadResult r = path.empty() ? load_scenario_text(default_scenario_text(), "<built-in bob-to-alice>") : load_scenario_file(path);
  if (!r.ok()) {
    for (const ScenarioError& e : r.errors) err << e.format() << '\n';
    return std::nullopt;
  }
  return r.scenario;
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
