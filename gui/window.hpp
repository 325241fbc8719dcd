// gui/window.hpp: the real window (GLFW + OpenGL 3.3) around GuiApp.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/engine/time.hpp"
#include "sim/scenario/scenario.hpp"

namespace smtplab::gui {

struct WindowOptions {
  std::string scenario_path;          // "" = the built-in scenario
  // When not empty, the scenario to open instead of the file (the file with
  // `smtplab gui --set` applied), named `scenario_source`.
  std::string scenario_text, scenario_source;
  std::string screenshot;             // write a PNG after `frames` frames, then exit
  int frames = 5;
  std::optional<SimTime> at;          // move the cursor to this time first
  std::optional<uint64_t> seed;       // run with this seed instead of the scenario's
  uint64_t sweep = 0;                 // sweep seeds 1..sweep first (the Seeds tab shows it); 0: no
  // With values: compare them at this pointer, seeds 1..sweep each, in the
  // What if tab (`smtplab gui --set P=V1,V2 --sweep N`), instead of the sweep.
  std::string compare_pointer;
  std::vector<nlohmann::json> compare_values;
  std::vector<Fault> faults;          // added to the scenario as if injected in the Failures panel
  int width = 0, height = 0;          // 0 = from the screen
  std::string lesson;                 // open this lesson (file or id) in the lesson panel
  // Screenshot mode: the pointer rests here (window pixels from the top
  // left), so the shot shows what hovering there shows (tooltips, hover
  // highlights). Without it the pointer is off the window.
  std::optional<std::pair<int, int>> hover;
};

// Is there a display to open a window on (X11 or Wayland)?
bool display_available();

// Runs the lab until the window closes (or the screenshot is written).
// Returns 0 on success, 1 when the window or the PNG could not be made,
// 2 when the scenario does not load in screenshot mode.
int run_window(const WindowOptions& options, std::ostream& err);

}  // namespace smtplab::gui
