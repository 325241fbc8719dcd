// bench/gui_bench.cpp: `smtplab bench gui`: CPU time to build one frame of
// the sequence diagram and the event list, headless, at 1,000, 100,000 and
// 1,000,000 records, then the ratio largest/smallest (target <= 1.5: a frame
// costs what is visible, not what exists).
//
// What is timed: ImGui::NewFrame, both panels drawing a 1920x1080 window with
// the cursor in the middle of the run, ImGui::Render. What is not: building
// the trace and the per-run indexes (once per run, O(n), like a rerun).
// CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), the median of batches.
// The traces have constant density (a longer run, not a denser one), both
// scales are measured: rows (the default) and proportional to time.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <vector>

#include "bench/bench.hpp"

#ifdef SMTPLAB_HAVE_GUI
#include <imgui.h>

#include "gui/controller.hpp"
#include "gui/headless.hpp"
#include "gui/panel_events.hpp"
#include "gui/panel_sequence.hpp"
#include "gui/synthetic.hpp"
#include "sim/trace/fates.hpp"
#endif

namespace smtplab::bench {

#ifdef SMTPLAB_HAVE_GUI
namespace {

struct Measured {
  double us_per_frame = 0;
  int rows_drawn = 0;
  size_t items = 0;
};

Measured measure(size_t n, gui::TimeScale scale, int batches, int frames_per_batch) {
  using namespace smtplab::gui;
  HeadlessImGui ui(1920, 1080, 18);
  Controller ctl;
  // Constant density (one record per 50 ms): a bigger trace is a longer
  // run, so the same window shows the same amount and any difference in
  // frame cost is the trace size's.
  ctl.adopt(synthetic_large(n, msec(50) * static_cast<int64_t>(n)), synthetic_scenario());
  ctl.apply(cmd::Seek{ctl.end_time() / 2});
  ViewSettings settings;
  settings.scale = scale;
  settings.px_per_second = 40;
  SequencePanel seq;
  EventsPanel events;
  PanelContext ctx{ctl, settings, nullptr, 1.0 / 60, &ctl};
  auto one_frame = [&] {
    ui.new_frame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(1920, 700));
    ImGui::Begin("sequence");
    seq.draw(ctx);
    ImGui::End();
    ImGui::SetNextWindowPos(ImVec2(0, 700));
    ImGui::SetNextWindowSize(ImVec2(1920, 380));
    ImGui::Begin("events");
    events.draw(ctx);
    ImGui::End();
    ui.end_frame();
  };
  for (int i = 0; i < 10; ++i) one_frame();  // builds the per-run model and filter once, warms caches
  std::vector<double> per;
  for (int b = 0; b < batches; ++b) {
    double t0 = cpu_seconds();
    for (int i = 0; i < frames_per_batch; ++i) one_frame();
    per.push_back((cpu_seconds() - t0) / frames_per_batch * 1e6);
  }
  std::sort(per.begin(), per.end());
  return {per[per.size() / 2], events.drawn_rows, seq.view.items.size()};
}

}  // namespace

int run_gui(std::ostream& out, const Options& options) {
  const std::vector<size_t> sizes = options.quick ? std::vector<size_t>{1000, 10000, 100000}
                                                  : std::vector<size_t>{1000, 100000, 1000000};
  const int batches = options.quick ? 3 : 7, frames = options.quick ? 10 : 30;
  char line[256];
  for (gui::TimeScale scale : {gui::TimeScale::rows, gui::TimeScale::proportional}) {
    const char* name = scale == gui::TimeScale::rows ? "rows" : "proportional";
    std::vector<double> us;
    for (size_t n : sizes) {
      Measured m = measure(n, scale, batches, frames);
      us.push_back(m.us_per_frame);
      std::snprintf(line, sizeof line,
                    "gui frame (%s scale): %8zu records: %8.1f us CPU per frame (diagram marks %zu, list rows %d)\n", name,
                    n, m.us_per_frame, m.items, m.rows_drawn);
      out << line;
    }
    std::snprintf(line, sizeof line, "gui frame (%s scale): ratio %zu/%zu records: %.2f (target <= 1.5)\n", name,
                  sizes.back(), sizes.front(), us.back() / std::max(1e-9, us.front()));
    out << line;
  }
  // The Queues tab and the inspector show each message at the cursor: the
  // run is folded once (FateHistory), then each cursor move reads it. A
  // message every 12 records, so the largest trace has some 80,000.
  std::vector<double> at_us;
  for (size_t n : sizes) {
    const RunResult run = gui::synthetic_large(n, msec(50) * static_cast<int64_t>(n));
    const auto& recs = run.trace.records();
    double t0 = cpu_seconds();
    const FateHistory h = fate_history(recs);
    const double fold_ms = (cpu_seconds() - t0) * 1e3;
    const int moves = options.quick ? 200 : 1000;
    size_t shown = 0;
    t0 = cpu_seconds();
    for (int i = 0; i < moves; ++i) shown += fates_at(h, recs.size() / 2 + static_cast<size_t>(i), 200).size();
    const double per_move = (cpu_seconds() - t0) / moves * 1e6;
    at_us.push_back(per_move);
    std::snprintf(line, sizeof line,
                  "message fates: %8zu records, %6zu messages: fold %8.1f ms once per run; %7.1f us per cursor move "
                  "(the first %zu listed)\n",
                  n, h.end.size(), fold_ms, per_move, shown / static_cast<size_t>(moves));
    out << line;
  }
  // Between the two larger traces, both of which list the first 200.
  std::snprintf(line, sizeof line,
                "message fates: ratio of a cursor move, %zu/%zu records: %.2f (the same work, 200 messages from the fold; "
                "the rest is a colder cache)\n",
                sizes.back(), sizes[1], at_us.back() / std::max(1e-9, at_us[1]));
  out << line;
  return 0;
}
#else
int run_gui(std::ostream& out, const Options&) {
  out << "gui: this build has no GUI (configured with -DSMTPLAB_GUI=OFF)\n";
  return 0;
}
#endif

}  // namespace smtplab::bench
