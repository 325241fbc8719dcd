// gui/view_settings.hpp: how the lab looks, remembered between runs.
//
// A plain struct, saved apart from scenarios (~/.config/smtplab/gui.json, or
// $SMTPLAB_GUI_CONFIG). Nothing here changes what a run computes: only what
// is shown and how. Loading is lenient on purpose: a settings file from an
// older version, or a hand-edited one, must never stop the lab from opening,
// so unknown keys are ignored and bad values fall back to defaults (and the
// reason is reported in `warning`).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace smtplab::gui {

enum class Theme { dark, light };
enum class TimeScale { rows, proportional };

struct ViewSettings {
  float font_size = 0;  // pixels at 100 % scale; 0 = from the screen height; Ctrl +/- changes it
  Theme theme = Theme::dark;

  // Sequence diagram
  TimeScale scale = TimeScale::rows;
  bool show_tcp = false;
  bool show_dns = true;
  bool show_notes = true;    // mail-layer and fault records on a lifeline
  bool show_states = false;  // smtp-state changes (noisy)
  float row_height = 1.6f;   // rows scale: in font heights
  double px_per_second = 40.0;  // proportional scale

  // Playback
  double speed = 1.0;  // simulated seconds per wall second

  // Event list filters
  uint32_t layer_mask = ~0u;
  std::string host_filter;  // "" = every host
  std::string text_filter;  // substring of kind or text

  // Which panels are shown, by panel id ("topology", "sequence" ...); a
  // panel missing here uses its own default. A map, so a new panel needs no
  // change to this struct.
  std::map<std::string, bool> panels;
};

// Where settings live: $SMTPLAB_GUI_CONFIG, else $XDG_CONFIG_HOME/smtplab/gui.json,
// else ~/.config/smtplab/gui.json; "" when none can be determined.
std::string settings_path();

std::string settings_to_json(const ViewSettings& s);
// Applies what it understands from `text` onto `s`; returns false (and says
// why in `warning`) when the text is not a JSON object.
bool settings_from_json(const std::string& text, ViewSettings& s, std::string* warning);

bool load_settings(const std::string& path, ViewSettings& s, std::string* warning);
bool save_settings(const std::string& path, const ViewSettings& s, std::string* error);

}  // namespace smtplab::gui
