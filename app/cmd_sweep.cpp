// app/cmd_sweep.cpp: `smtplab sweep SCENARIO --seeds 100`: the scenario once
// per seed, and how often each message ended each way (sim/scenario/sweep.hpp).
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/commands.hpp"
#include "sim/scenario/sweep.hpp"

namespace smtplab::app {

namespace {

struct SweepArgs {
  std::string scenario;
  std::string seeds = "100";
  std::string until;
  unsigned jobs = 0;  // 0: one per core
  std::string format = "text";
  std::vector<std::string> faults;  // --fault JSON, added to the scenario's
};

// `text` as one word of a POSIX shell (quoted unless it is plainly safe),
// so the replay line can be pasted as it is.
std::string shell_word(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || std::string_view("_./-+:,=@%").find(ch) != std::string_view::npos;
  });
  if (plain) return text;
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

int do_sweep(const SweepArgs& a, std::ostream& out, std::ostream& err) {
  SweepOptions opt;
  std::string why;
  const auto range = parse_seed_range(a.seeds, &why);
  if (!range) {
    err << "smtplab sweep: --seeds: " << why << '\n';
    return kExitUsage;
  }
  opt.seeds = *range;
  if (!read_until(a.until, "smtplab sweep", opt.base.until, err)) return kExitUsage;
  opt.jobs = a.jobs ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  auto sc = load_or_report(a.scenario, err, a.faults);
  if (!sc) return kExitUsage;
  const auto t0 = std::chrono::steady_clock::now();
  const SweepSummary s = sweep(*sc, opt);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.format == "json") {
    out << sweep_json(s).dump(2) << '\n';
  } else {
    std::string replay = "smtplab run";
    if (!a.scenario.empty()) replay += " " + shell_word(a.scenario);
    if (!a.until.empty()) replay += " --until " + shell_word(a.until);
    for (const std::string& f : a.faults) replay += " --fault " + shell_word(f);
    write_sweep(out, s, replay);
  }
  out.flush();
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.2f s (%.0f runs per second)", wall, static_cast<double>(s.runs) / std::max(wall, 1e-9));
  const uint64_t threads = std::min<uint64_t>(opt.jobs, s.runs);
  err << "smtplab sweep: " << s.runs << (s.runs == 1 ? " run in " : " runs in ") << rate << " on " << threads << (threads == 1 ? " thread" : " threads")
      << '\n';
  if (!out) {
    err << "smtplab sweep: writing the summary failed\n";
    return kExitFailed;
  }
  return s.errors.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void register_sweep(CLI::App& app, Outcome& outcome) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* sub = app.add_subcommand(
      "sweep", "Run a scenario once per seed and count how each message ended: delivered, duplicated, bounced ...");
  sub->add_option("scenario", args->scenario, "Scenario JSON file (default: the built-in bob-to-alice)");
  sub->add_option("--seeds", args->seeds, "How many seeds (\"100\": 1 to 100, the default) or which (\"20-29\")");
  sub->add_option("--until", args->until, "Simulated time to stop each run at, e.g. 90s, 30min (overrides the duration)");
  sub->add_option("--jobs", args->jobs, "Runs at a time (default: one per core); the summary does not depend on it")
      ->check(CLI::Range(1u, 256u));
  sub->add_option("--format", args->format, "text (default) or json (every seed of every outcome)")
      ->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--fault", args->faults,
                  "Add a fault to every run, a JSON object in the scenario format (repeatable), e.g. "
                  "'{\"type\": \"link-loss\", \"at\": \"0s\", \"link\": [\"edge.gmail.test\", \"internet\"], "
                  "\"loss\": 0.3}'")
      ->allow_extra_args(false);
  sub->callback([args, &outcome] { outcome.code = do_sweep(*args, std::cout, std::cerr); });
}

}  // namespace smtplab::app
