// gui/panel.hpp: what every panel is, and what it may touch.
//
// A panel is a struct that owns its own UI state (no function-local statics)
// and draws the contents of one tab from a read-only view: the controller's
// trace, index and scenario. It changes nothing itself; user actions are
// posted to the controller as commands (controller.hpp).
//
// The application places panels in fixed slots of a tiled layout that fits
// a projector at a glance; several panels in one slot become tabs.
#pragma once

#include <string_view>

#include "gui/controller.hpp"
#include "gui/view_settings.hpp"

struct ImFont;

namespace smtplab::gui {

enum class Slot { top, left_top, left_bottom, center, right, bottom, floating };

// Colours that follow the theme (dark or light high-contrast). 0xAABBGGRR.
struct Palette {
  unsigned text, dim, lifeline, smtp, reply_ok, reply_temp, reply_perm, dns, tcp, pop3, fault, note, cursor, select,
      host_fill, host_down, link, envelope, gap,
      cause;  // band behind the records that led to the selected one
};
const Palette& palette(Theme t);

struct PanelContext {
  const Controller& ctl;
  ViewSettings& settings;  // view-only: zoom, filters ... never the run
  ImFont* mono = nullptr;  // raw bytes; nullptr = the default font
  double wall_dt = 0;      // seconds since the last frame
  // Posts a command to the controller (applied after the frame).
  void post(Command c) const { poster->post(std::move(c)); }
  Controller* poster = nullptr;
  const Palette& colors() const { return palette(settings.theme); }
};

struct Panel {
  virtual ~Panel() = default;
  virtual std::string_view id() const = 0;     // stable key in the settings file
  virtual std::string_view title() const = 0;  // tab / window title: short, so tabs fit a 1280 px screen
  virtual std::string_view tab_tip() const { return {}; }  // what the tab holds, when the title is terse
  virtual Slot slot() const = 0;
  virtual bool open_by_default() const { return true; }
  virtual void draw(PanelContext& ctx) = 0;
};

}  // namespace smtplab::gui
