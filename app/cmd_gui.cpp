// app/cmd_gui.cpp: `smtplab gui [SCENARIO] [--screenshot FILE.png --frames N --hover X,Y] [--at TIME] [--seed N] [--sweep N] [--fault JSON] [--set P=V] [--lesson ID]`,
// and `smtplab` with no subcommand (run_default) when the build has the GUI.
//
// Without a display, the lab cannot open: one line on stderr says so and the
// transcript of the scenario is printed instead (what `make run` does on a
// machine without a screen). With --screenshot, no display is an error.
#ifdef SMTPLAB_HAVE_GUI
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "gui/controller.hpp"
#include "gui/window.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

namespace {

struct GuiArgs {
  std::string scenario;
  std::string screenshot;
  int frames = 5;
  std::string at;
  std::string size;
  std::string lesson;
  std::string hover;
  std::optional<uint64_t> seed;
  uint64_t sweep = 0;
  std::vector<std::string> faults;  // --fault JSON
  std::vector<std::string> sets;    // --set POINTER=VALUE
};

int transcript_instead(const std::string& path, std::ostream& out, std::ostream& err,
                       std::optional<uint64_t> seed = std::nullopt, const std::vector<std::string>& faults = {},
                       const std::vector<Setting>& sets = {}) {
  err << "smtplab: no display (DISPLAY/WAYLAND_DISPLAY unset), so no window; printing the transcript of "
      << (path.empty() ? "the built-in scenario" : path) << " instead\n";
  auto sc = load_or_report(path, err, faults, sets);
  if (!sc) return kExitUsage;
  RunOptions ro;
  ro.seed = seed;
  RunResult result = run_scenario(*sc, ro);
  write_story(out, result.trace);
  return kExitOk;
}

int do_gui(const GuiArgs& a, std::ostream& out, std::ostream& err) {
  gui::WindowOptions opt;
  opt.scenario_path = a.scenario;
  opt.screenshot = a.screenshot;
  opt.frames = a.frames;
  opt.lesson = a.lesson;
  opt.seed = a.seed;
  opt.sweep = a.sweep;
  if (a.frames < 1 || a.frames > 100000) {
    err << "smtplab gui: --frames must be between 1 and 100000, got " << a.frames << '\n';
    return kExitUsage;
  }
  if (!a.at.empty()) {
    std::string why;
    auto t = parse_duration(a.at, &why);
    if (!t || t->us < 0) {
      err << "smtplab gui: --at " << a.at << ": " << (why.empty() ? "must not be negative" : why) << '\n';
      return kExitUsage;
    }
    opt.at = t;
  }
  if (!a.size.empty()) {
    int w = 0, h = 0;
    char x = 0;
    if (std::sscanf(a.size.c_str(), "%d%c%d", &w, &x, &h) != 3 || x != 'x' || w < 320 || h < 240 || w > 8192 || h > 8192) {
      err << "smtplab gui: --size " << a.size << ": expected WIDTHxHEIGHT such as 1280x720 (320x240 to 8192x8192)\n";
      return kExitUsage;
    }
    opt.width = w;
    opt.height = h;
  }
  if (!a.hover.empty()) {
    int x = -1, y = -1;
    char comma = 0, extra = 0;
    if (std::sscanf(a.hover.c_str(), "%d%c%d%c", &x, &comma, &y, &extra) != 3 || comma != ',' || x < 0 || y < 0 ||
        (opt.width && x >= opt.width) || (opt.height && y >= opt.height)) {
      err << "smtplab gui: --hover " << a.hover << ": expected X,Y in window pixels such as 640,300"
          << (opt.width ? " (inside the --size " + a.size + ")" : std::string()) << '\n';
      return kExitUsage;
    }
    if (a.screenshot.empty()) {
      err << "smtplab gui: --hover goes with --screenshot (it places the pointer for the shot)\n";
      return kExitUsage;
    }
    opt.hover = std::make_pair(x, y);
  }
  // Fail early and clearly on a bad scenario, before any window opens.
  // (With --fault: the faults are checked here too, and handed to the lab
  // as added faults, which its Failures panel lists and can remove.)
  // (With --set: the lab opens the changed scenario as text, not the file,
  // so it does not reload the file over the change; Save writes it whole.)
  std::vector<Setting> sets;
  if (!read_settings(a.sets, "smtplab gui", /*lists=*/1, sets, err)) return kExitUsage;
  // A list of values (`--set /links/2/loss=0,0.1,0.2 --sweep 100`) is
  // compared in the What if tab, as `smtplab sweep` compares it; the other
  // --set values change the scenario the lab opens.
  const auto list = std::find_if(sets.begin(), sets.end(), [](const Setting& s) { return s.values.size() > 1; });
  if (list != sets.end()) {
    if (!a.sweep) {
      err << "smtplab gui: " << list->text << ": a list of values is compared over seeds: add --sweep N (seeds per "
          << "value), or give one value\n";
      return kExitUsage;
    }
    if (list->values.size() * a.sweep > gui::kMaxLabSweep) {
      err << "smtplab gui: --set " << list->text << " with --sweep " << a.sweep << ": " << list->values.size()
          << " values of " << a.sweep << " seeds are " << list->values.size() * a.sweep << " runs; the lab runs at most "
          << gui::kMaxLabSweep << " (`smtplab sweep` runs more)\n";
      return kExitUsage;
    }
    // Each value must load, as the sweep would run it.
    for (size_t k = 0; k < list->values.size(); ++k)
      if (!load_or_report(a.scenario, err, a.faults, sets, k)) return kExitUsage;
    opt.compare_pointer = list->pointer;
    opt.compare_values = list->values;
    sets.erase(list);
  }
  if (!a.scenario.empty() || !a.faults.empty() || !sets.empty()) {
    const auto sc = load_or_report(a.scenario, err, a.faults, sets);
    if (!sc) return kExitUsage;
    opt.faults.assign(sc->faults.end() - static_cast<long>(a.faults.size()), sc->faults.end());
  }
  if (!sets.empty()) {
    nlohmann::ordered_json doc;
    if (!scenario_document(a.scenario, sets, 0, doc, err)) return kExitUsage;
    // The lab's title bar shows the name: a class sees what was changed.
    std::string name = doc.contains("name") && doc["name"].is_string() ? doc["name"].get<std::string>() : "";
    opt.scenario_source = (a.scenario.empty() ? std::string("the built-in scenario") : a.scenario) + " with";
    for (const Setting& s : sets) {
      name = Setting::name_with(name, s.pointer, s.value_at(0));
      opt.scenario_source += " " + s.option_text(0);
    }
    doc["name"] = name;
    opt.scenario_text = doc.dump(2) + "\n";
  }
  if (!gui::display_available()) {
    if (!a.screenshot.empty()) {
      err << "smtplab gui: --screenshot needs a display; run it under xvfb-run -a\n";
      return kExitFailed;
    }
    if (!opt.compare_values.empty())
      err << "smtplab: the values of " << opt.compare_pointer << " are compared in the lab's What if tab; without a "
          << "window, `smtplab sweep --set ... --seeds " << a.sweep << "` prints the comparison\n";
    return transcript_instead(a.scenario, out, err, a.seed, a.faults, sets);
  }
  return gui::run_window(opt, err);
}

}  // namespace

void register_gui(CLI::App& app, Outcome& outcome) {
  auto args = std::make_shared<GuiArgs>();
  CLI::App* sub = app.add_subcommand("gui", "Open the lab: sequence diagram, playback, failure injection");
  sub->add_option("scenario", args->scenario, "Scenario JSON file (default: the built-in bob-to-alice)");
  sub->add_option("--screenshot", args->screenshot, "Render, write this PNG and exit");
  sub->add_option("--frames", args->frames, "Frames to render before the screenshot (default 5)");
  sub->add_option("--at", args->at, "Move the playback cursor to this simulated time first, e.g. 2s, 30min");
  sub->add_option("--seed", args->seed, "Random seed (overrides the scenario's; e.g. one `smtplab sweep` found)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{INT64_MAX}));
  sub->add_option("--fault", args->faults,
                  "Add a fault, a JSON object in the scenario format (repeatable), as if injected in the Failures panel")
      ->allow_extra_args(false);
  sub->add_option("--set", args->sets,
                  "Change one value of the scenario, POINTER=VALUE with a JSON pointer into the file (repeatable), "
                  "e.g. /links/2/loss=0.3; the lab shows the changed scenario. With --sweep N, one list of values "
                  "(/links/2/loss=0,0.1,0.2) is compared over seeds 1-N in the What if tab")
      ->allow_extra_args(false);
  sub->add_option("--sweep", args->sweep, "Start a sweep of seeds 1 to N and show the Seeds tab (as `smtplab sweep`; a screenshot waits for it); "
                  "with a --set list, N seeds per value in the What if tab")
      ->check(CLI::Range(uint64_t{1}, gui::kMaxLabSweep));
  sub->add_option("--size", args->size, "Window size WIDTHxHEIGHT (default: from the screen)");
  sub->add_option("--lesson", args->lesson, "Open this lesson in the lesson panel (a file, or an id such as 08-server-down)");
  sub->add_option("--hover", args->hover,
                  "With --screenshot: rest the pointer at X,Y (window pixels) so the shot shows its tooltip");
  sub->callback([args, &outcome] { outcome.code = do_gui(*args, std::cout, std::cerr); });
}

int run_default(std::ostream& out, std::ostream& err) {
  if (!gui::display_available()) return transcript_instead("", out, err);
  gui::WindowOptions opt;
  return gui::run_window(opt, err);
}

}  // namespace smtplab::app
#endif  // SMTPLAB_HAVE_GUI
