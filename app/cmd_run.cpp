// app/cmd_run.cpp: `smtplab run SCENARIO`: a headless run that writes the trace.
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

namespace {

struct RunArgs {
  std::string scenario;
  std::optional<uint64_t> seed;
  std::string until;
  std::string format = "transcript";
  std::string out;
  std::string layers;
  bool causes = false;
};

int do_run(const RunArgs& a, std::ostream& out, std::ostream& err) {
  RunOptions opt;
  opt.seed = a.seed;
  if (!a.until.empty()) {
    std::string why;
    auto t = parse_duration(a.until, &why);
    if (!t || t->us <= 0) {
      err << "smtplab run: --until " << a.until << ": " << (why.empty() ? "must be more than 0" : why) << '\n';
      return kExitUsage;
    }
    opt.until = t;
  }
  TranscriptOptions topt;
  topt.show_cause = a.causes;
  if (!a.layers.empty()) {
    std::string why;
    auto mask = parse_layer_mask(a.layers, &why);
    if (!mask) {
      err << "smtplab run: --layers: " << why << '\n';
      return kExitUsage;
    }
    topt.layer_mask = *mask;
  }
  auto sc = load_or_report(a.scenario, err);
  if (!sc) return kExitUsage;
  RunResult result = run_scenario(*sc, opt);
  std::ofstream file;
  std::ostream* dest = &out;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) {
      err << "smtplab run: cannot write " << a.out << '\n';
      return kExitFailed;
    }
    dest = &file;
  }
  if (a.format == "jsonl")
    write_jsonl(*dest, result.trace);
  else
    write_transcript(*dest, result.trace, topt);
  dest->flush();
  if (!*dest) {
    err << "smtplab run: writing the trace failed\n";
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace

void register_run(CLI::App& app, Outcome& outcome) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "Run a scenario headless and write its trace (stdout by default)");
  sub->add_option("scenario", args->scenario, "Scenario JSON file (default: the built-in bob-to-alice)");
  sub->add_option("--seed", args->seed, "Random seed (overrides the scenario's)");
  sub->add_option("--until", args->until, "Simulated time to stop at, e.g. 90s, 30min, 5d (overrides the duration)");
  sub->add_option("--format", args->format, "transcript (swaks-style, default) or jsonl (one record per line)")
      ->check(CLI::IsMember({"transcript", "jsonl"}));
  sub->add_option("--out", args->out, "Write the trace to this file instead of stdout");
  sub->add_option("--layers", args->layers,
                  "Transcript layers, comma-separated: engine,net,tcp,dns,smtp,pop3,imap,mail,fault or all "
                  "(default: all but tcp and net)");
  sub->add_flag("--causes", args->causes, "Transcript: show each record's number and its cause");
  sub->callback([args, &outcome] { outcome.code = do_run(*args, std::cout, std::cerr); });
}

}  // namespace smtplab::app
