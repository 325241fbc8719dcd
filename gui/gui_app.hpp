// gui/gui_app.hpp: the whole lab as one ImGui frame function.
//
// GuiApp owns the controller, the view settings and the panels; frame()
// draws the menu, the tiled layout of slots and the status line, handles the
// keyboard shortcuts, then applies the commands the panels posted. It needs
// only a current ImGui context: the GLFW window (window.cpp), the headless
// tests and the benchmark all drive it the same way.
//
// Must never: call GLFW or OpenGL (window.cpp does).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gui/controller.hpp"
#include "gui/panel.hpp"
#include "gui/view_settings.hpp"

struct ImFont;
struct ImGuiIO;

namespace smtplab::gui {

// Loads DejaVu Sans (and Mono for raw bytes) from the Debian font package
// at `size` pixels, falling back to ImGui's built-in font when absent.
// Clears the atlas first; the caller uploads the texture afterwards.
struct Fonts {
  ImFont* ui = nullptr;
  ImFont* mono = nullptr;
  bool from_files = false;
};
Fonts build_fonts(ImGuiIO& io, float size);

// The default font size for a display this tall: readable from the back of
// a classroom, and scaling to 4K.
float auto_font_size(float display_height);

class GuiApp {
 public:
  // persist: read and write the settings file (off for tests and screenshots).
  // load_only: read it but never write it (screenshots with $SMTPLAB_GUI_CONFIG).
  explicit GuiApp(bool persist, bool load_only = false);
  ~GuiApp();

  Controller& controller() { return ctl_; }
  ViewSettings& settings() { return settings_; }
  const std::string& settings_warning() const { return settings_warning_; }

  void set_fonts(const Fonts& f) { fonts_ = f; }
  // The font size the next frame should use (0 = auto from the display).
  float wanted_font_size(float display_height) const;
  void apply_theme() const;

  // One frame: call between ImGui::NewFrame() and ImGui::Render().
  void frame(double wall_dt);

  Panel* panel(std::string_view id);
  bool panel_open(const Panel& p) const;
  void set_panel_open(std::string_view id, bool open);
  // Brings this panel's tab to the front in its slot on the next frame.
  void focus_panel(std::string_view id) { focus_ = std::string(id); }

  // Opens a lesson (a file, or an id of lessons/) in the lesson panel and
  // brings it to the front; false, with the reason in *error, when it fails.
  bool open_lesson(const std::string& name, std::string* error);

  bool quit_requested() const { return quit_; }
  void save_settings_now();

 private:
  void menu_bar();
  void shortcuts();
  void layout_and_draw(double wall_dt);
  void status_bar(float y, float w, float h);

  Controller ctl_;
  ViewSettings settings_;
  std::string settings_warning_;
  bool persist_;
  Fonts fonts_;
  std::vector<std::unique_ptr<Panel>> panels_;
  std::string focus_;
  bool quit_ = false;
  bool show_help_ = false;
  size_t last_error_count_ = 0;
};

}  // namespace smtplab::gui
