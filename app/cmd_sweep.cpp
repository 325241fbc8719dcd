// app/cmd_sweep.cpp: `smtplab sweep SCENARIO --seeds 100 [--set P=V1,V2 [--set Q=W1,W2]]`: the
// scenario once per seed (per value of P, or per pair of values of P and Q), and how often each
// message ended each way (sim/scenario/sweep.hpp).
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
  std::vector<std::string> sets;    // --set POINTER=VALUE[,VALUE...]; one may list values to compare
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
  std::vector<Setting> sets;
  if (!read_settings(a.sets, "smtplab sweep", /*lists=*/2, sets, err)) return kExitUsage;
  for (const Setting& s : sets)
    if (s.pointer == "/seed") {
      err << "smtplab sweep: --set " << s.text << ": a sweep runs seeds of its own (--seeds), not the scenario's\n";
      return kExitUsage;
    }
  // Up to two settings may list values: a sweep for each value, or for
  // each pair of values (a grid, the first list's values outermost), side
  // by side.
  std::vector<size_t> axes;
  for (size_t i = 0; i < sets.size(); ++i)
    if (sets[i].values.size() > 1) axes.push_back(i);
  size_t points = 1;
  for (const size_t i : axes) points *= sets[i].values.size();
  if (points * opt.seeds.count > kMaxSweepRuns) {
    err << "smtplab sweep: " << points << (axes.size() == 2 ? " pairs of values of " : " values of ")
        << sets[axes[0]].pointer << (axes.size() == 2 ? " and " + sets[axes[1]].pointer : std::string()) << " times "
        << opt.seeds.count << " seeds is " << points * opt.seeds.count << " runs; at most " << kMaxSweepRuns
        << " in one sweep\n";
    return kExitUsage;
  }
  // Point k's settings: each list down to its one value of point k.
  auto point_settings = [&](size_t k) {
    std::vector<Setting> one = sets;
    for (auto axis = axes.rbegin(); axis != axes.rend(); ++axis) {
      Setting& s = one[*axis];
      const size_t n = s.values.size();
      s.values = {s.values[k % n]};
      k /= n;
    }
    return one;
  };
  std::vector<Scenario> scenarios;
  for (size_t k = 0; k < points; ++k) {
    auto sc = load_or_report(a.scenario, err, a.faults, point_settings(k));
    if (!sc) return kExitUsage;
    scenarios.push_back(std::move(*sc));
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<SweepSummary> results;
  for (const Scenario& sc : scenarios) results.push_back(sweep(sc, opt));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The command that replays one run: the same scenario, duration, faults
  // and fixed settings (the compared ones are added per point).
  std::string replay = "smtplab run";
  if (!a.scenario.empty()) replay += " " + shell_word(a.scenario);
  if (!a.until.empty()) replay += " --until " + shell_word(a.until);
  for (const std::string& f : a.faults) replay += " --fault " + shell_word(f);
  for (size_t i = 0; i < sets.size(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) replay += " --set " + shell_word(sets[i].assignment(0));
  if (axes.empty()) {
    if (a.format == "json") out << sweep_json(results.front()).dump(2) << '\n';
    else write_sweep(out, results.front(), replay);
  } else {
    // A point is named by its values in the order of the lists: "0.1, 100ms".
    std::string pointer;
    nlohmann::json set_json = nlohmann::json::array();
    for (const size_t i : axes) {
      pointer += (pointer.empty() ? "" : ", ") + sets[i].pointer;
      set_json.push_back(sets[i].pointer);
    }
    std::vector<std::string> labels, replays;
    std::vector<nlohmann::json> values;
    for (size_t k = 0; k < points; ++k) {
      const std::vector<Setting> one = point_settings(k);
      std::string label, line = replay;
      nlohmann::json value = nlohmann::json::array();
      for (const size_t i : axes) {
        label += (label.empty() ? "" : ", ") + Setting::value_text(one[i].values[0]);
        line += " --set " + shell_word(one[i].assignment(0));
        value.push_back(one[i].values[0]);
      }
      labels.push_back(label);
      replays.push_back(line);
      values.push_back(axes.size() == 1 ? value[0] : value);
    }
    if (a.format == "json")
      out << sweep_compare_json(axes.size() == 1 ? nlohmann::json(pointer) : set_json, values, results).dump(2) << '\n';
    else
      write_sweep_compare(out, pointer, labels, results, replays, /*pairs=*/axes.size() == 2);
  }
  SweepSummary all;  // totals for the last line
  for (const SweepSummary& r : results) {
    all.runs += r.runs;
    all.errors.insert(all.errors.end(), r.errors.begin(), r.errors.end());
  }
  const SweepSummary& s = all;
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
  sub->add_option("--set", args->sets,
                  "Change one value of the scenario, POINTER=VALUE with a JSON pointer into the file (repeatable); "
                  "a list, e.g. /links/0/loss=0,0.1,0.2,0.3, sweeps once per value and compares them; two lists "
                  "sweep every pair of their values")
      ->allow_extra_args(false);
  sub->callback([args, &outcome] { outcome.code = do_sweep(*args, std::cout, std::cerr); });
}

}  // namespace smtplab::app
