// gui/gui_app.cpp: menu, layout, shortcuts (see gui_app.hpp).
#include "gui/gui_app.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "gui/panel_lesson.hpp"
#include "gui/panels.hpp"

namespace smtplab::gui {

namespace {
// GLFW key codes: the GLFW backend indexes io.KeysDown by them.
constexpr int kKeyEqual = 61, kKeyMinus = 45, kKeyZero = 48, kKeyKpAdd = 334, kKeyKpSub = 333, kKeyN = 78, kKeyF = 70;
constexpr const char* kFontDir = "/usr/share/fonts/truetype/dejavu/";
}  // namespace

float auto_font_size(float display_height) {
  return std::clamp(std::round(display_height / 40.0f), 16.0f, 60.0f);
}

Fonts build_fonts(ImGuiIO& io, float size) {
  Fonts f;
  io.Fonts->Clear();
  std::error_code ec;
  std::string sans = std::string(kFontDir) + "DejaVuSans.ttf";
  std::string mono = std::string(kFontDir) + "DejaVuSansMono.ttf";
  ImFontConfig cfg;
  cfg.OversampleH = 2;
  if (std::filesystem::is_regular_file(sans, ec)) {
    // Latin-1 plus the arrows and symbols the panels use.
    static const ImWchar kRanges[] = {0x0020, 0x00FF, 0x2190, 0x21FF, 0x2400, 0x243F, 0x2500, 0x25FF, 0x2700, 0x27BF, 0};
    f.ui = io.Fonts->AddFontFromFileTTF(sans.c_str(), size, &cfg, kRanges);
    if (std::filesystem::is_regular_file(mono, ec)) f.mono = io.Fonts->AddFontFromFileTTF(mono.c_str(), size, &cfg, kRanges);
    f.from_files = f.ui != nullptr;
  }
  if (!f.ui) {
    ImFontConfig d;
    d.SizePixels = size;
    f.ui = io.Fonts->AddFontDefault(&d);
  }
  if (!f.mono) f.mono = f.ui;
  return f;
}

GuiApp::GuiApp(bool persist, bool load_only) : persist_(persist), panels_(make_panels()) {
  if (persist_ || load_only) load_settings(settings_path(), settings_, &settings_warning_);
  ctl_.post(cmd::SetSpeed{settings_.speed});
}

GuiApp::~GuiApp() {
  if (persist_) save_settings_now();
}

void GuiApp::save_settings_now() {
  std::string err;
  settings_.speed = ctl_.speed();
  save_settings(settings_path(), settings_, &err);
}

float GuiApp::wanted_font_size(float display_height) const {
  return settings_.font_size > 0 ? settings_.font_size : auto_font_size(display_height);
}

void GuiApp::apply_theme() const {
  ImGuiStyle& st = ImGui::GetStyle();
  if (settings_.theme == Theme::dark) {
    ImGui::StyleColorsDark(&st);
  } else {
    ImGui::StyleColorsLight(&st);
    // High contrast for projectors: pure white panels, black text, strong borders.
    st.Colors[ImGuiCol_Text] = ImVec4(0, 0, 0, 1);
    st.Colors[ImGuiCol_WindowBg] = ImVec4(1, 1, 1, 1);
    st.Colors[ImGuiCol_ChildBg] = ImVec4(1, 1, 1, 1);
    st.Colors[ImGuiCol_Border] = ImVec4(0.2f, 0.2f, 0.2f, 1);
    st.Colors[ImGuiCol_TextDisabled] = ImVec4(0.3f, 0.3f, 0.3f, 1);
    // Controls must stand out from white panels on a washed-out projector.
    st.Colors[ImGuiCol_FrameBg] = ImVec4(0.86f, 0.86f, 0.86f, 1);
    st.Colors[ImGuiCol_FrameBgHovered] = ImVec4(0.78f, 0.84f, 0.95f, 1);
    st.Colors[ImGuiCol_FrameBgActive] = ImVec4(0.70f, 0.78f, 0.95f, 1);
    st.Colors[ImGuiCol_CheckMark] = ImVec4(0, 0.25f, 0.75f, 1);
    st.Colors[ImGuiCol_SliderGrab] = ImVec4(0, 0.25f, 0.75f, 1);
    st.Colors[ImGuiCol_Button] = ImVec4(0.80f, 0.86f, 0.97f, 1);
    st.Colors[ImGuiCol_MenuBarBg] = ImVec4(0.88f, 0.88f, 0.88f, 1);
  }
  st.FrameBorderSize = settings_.theme == Theme::light ? 1.0f : 0.0f;
  st.WindowRounding = 0;
  st.FrameRounding = 4;
  st.TabRounding = 4;
  st.WindowBorderSize = 1;
}

Panel* GuiApp::panel(std::string_view id) {
  for (auto& p : panels_)
    if (p->id() == id) return p.get();
  return nullptr;
}

bool GuiApp::panel_open(const Panel& p) const {
  auto it = settings_.panels.find(std::string(p.id()));
  return it == settings_.panels.end() ? p.open_by_default() : it->second;
}

void GuiApp::set_panel_open(std::string_view id, bool open) { settings_.panels[std::string(id)] = open; }

bool GuiApp::open_lesson(const std::string& name, std::string* error) {
  auto* lp = dynamic_cast<LessonPanel*>(panel("lesson"));
  if (!lp) {
    if (error) *error = "this build has no lesson panel";
    return false;
  }
  const std::string path = lp->find(name);
  if (path.empty()) {
    if (error) *error = "no lesson " + name + " (a lesson file, or an id such as 08-server-down)";
    return false;
  }
  PanelContext ctx{ctl_, settings_, fonts_.mono, 0, &ctl_};
  if (!lp->start(path, ctx)) {
    if (error) *error = lp->error();
    return false;
  }
  set_panel_open("lesson", true);
  focus_panel("lesson");
  return true;
}

void GuiApp::frame(double wall_dt) {
  apply_theme();
  shortcuts();
  menu_bar();
  layout_and_draw(wall_dt);
  ctl_.apply_pending();
  ctl_.tick(wall_dt);
  settings_.speed = ctl_.speed();
  // A scenario that fails to load shows its errors at once.
  if (ctl_.errors().size() != last_error_count_) {
    last_error_count_ = ctl_.errors().size();
    if (last_error_count_) {
      set_panel_open("scenarios", true);
      focus_panel("scenarios");
    }
  }
}

void GuiApp::shortcuts() {
  ImGuiIO& io = ImGui::GetIO();
  auto key = [](int k) { return k >= 0 && ImGui::IsKeyPressed(k); };
  if (io.KeyCtrl) {
    if (key(kKeyEqual) || key(kKeyKpAdd))
      settings_.font_size = std::min(72.0f, wanted_font_size(io.DisplaySize.y) + 2);
    if (key(kKeyMinus) || key(kKeyKpSub))
      settings_.font_size = std::max(10.0f, wanted_font_size(io.DisplaySize.y) - 2);
    if (key(kKeyZero)) settings_.font_size = 0;
  }
  if (io.WantTextInput) return;
  if (key(ImGui::GetKeyIndex(ImGuiKey_Space))) ctl_.post(cmd::Play{!ctl_.playing()});
  StepUnit unit = io.KeyShift ? StepUnit::exchange : io.KeyCtrl ? StepUnit::failure : StepUnit::event;
  if (key(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) ctl_.post(cmd::Step{+1, unit});
  if (key(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) ctl_.post(cmd::Step{-1, unit});
  if (key(ImGui::GetKeyIndex(ImGuiKey_Home))) ctl_.post(cmd::Seek{0});
  if (key(ImGui::GetKeyIndex(ImGuiKey_End))) ctl_.post(cmd::Seek{ctl_.end_time()});
  if (!io.KeyCtrl && key(kKeyN)) ctl_.post(cmd::JumpNext{});
  if (!io.KeyCtrl && key(kKeyF)) ctl_.post(cmd::Step{+1, StepUnit::failure});
}

void GuiApp::menu_bar() {
  if (!ImGui::BeginMainMenuBar()) return;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open scenario...")) {
      set_panel_open("scenarios", true);
      focus_panel("scenarios");
    }
    if (ImGui::MenuItem("Reload scenario")) ctl_.post(cmd::Reload{});
    if (ImGui::MenuItem("Save run as scenario...")) {
      set_panel_open("failures", true);
      focus_panel("failures");
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit", "Ctrl+Q")) quit_ = true;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    for (auto& p : panels_) {
      if (p->slot() == Slot::top) continue;
      bool open = panel_open(*p);
      std::string label(p->title());
      if (ImGui::MenuItem(label.c_str(), nullptr, &open)) {
        set_panel_open(p->id(), open);
        if (open) focus_panel(p->id());
      }
      if (!p->tab_tip().empty() && ImGui::IsItemHovered())
        ImGui::SetTooltip("%.*s", static_cast<int>(p->tab_tip().size()), p->tab_tip().data());
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Dark theme", nullptr, settings_.theme == Theme::dark)) settings_.theme = Theme::dark;
    if (ImGui::MenuItem("Light high-contrast theme", nullptr, settings_.theme == Theme::light))
      settings_.theme = Theme::light;
    if (ImGui::MenuItem("Larger text", "Ctrl +"))
      settings_.font_size = std::min(72.0f, wanted_font_size(ImGui::GetIO().DisplaySize.y) + 2);
    if (ImGui::MenuItem("Smaller text", "Ctrl -"))
      settings_.font_size = std::max(10.0f, wanted_font_size(ImGui::GetIO().DisplaySize.y) - 2);
    if (ImGui::MenuItem("Automatic text size", "Ctrl 0")) settings_.font_size = 0;
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    ImGui::MenuItem("Keyboard shortcuts", nullptr, &show_help_);
    ImGui::EndMenu();
  }
  // The scenario's name, always visible, and the seed when it is not the
  // scenario's own (the same scenario runs differently with another).
  std::string name = ctl_.scenario().name.empty() ? ctl_.scenario().source : ctl_.scenario().name;
  if (ctl_.seed_overridden()) name += "  (seed " + std::to_string(ctl_.seed()) + ")";
  float w = ImGui::CalcTextSize(name.c_str()).x;
  ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX() + 20, ImGui::GetWindowWidth() - w - 20));
  ImGui::TextUnformatted(name.c_str());
  ImGui::EndMainMenuBar();

  if (show_help_) {
    ImGui::SetNextWindowPos(ImVec2(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.4f),
                            ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::Begin("Keyboard shortcuts", &show_help_, ImGuiWindowFlags_AlwaysAutoResize)) {
      const char* rows[][2] = {{"Space", "play / pause"},
                               {"Right / Left", "step one event forward / back"},
                               {"Shift + Right / Left", "step one exchange (command and its reply)"},
                               {"Ctrl + Right / Left, F", "step to the next / previous failure"},
                               {"N", "jump to the next event (skip idle time)"},
                               {"Home / End", "start / end of the run"},
                               {"Ctrl + wheel (diagram)", "zoom at the mouse"},
                               {"wheel, drag (diagram)", "pan"},
                               {"Ctrl + / Ctrl - / Ctrl 0", "larger / smaller / automatic text"}};
      if (ImGui::BeginTable("keys", 2, ImGuiTableFlags_RowBg)) {
        for (auto& r : rows) {
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(r[0]);
          ImGui::TableNextColumn();
          ImGui::TextUnformatted(r[1]);
        }
        ImGui::EndTable();
      }
    }
    ImGui::End();
  }
}

void GuiApp::layout_and_draw(double wall_dt) {
  ImGuiIO& io = ImGui::GetIO();
  const float fs = ImGui::GetFontSize();
  const float menu_h = ImGui::GetFrameHeight();
  const float status_h = fs + 8;
  const float W = io.DisplaySize.x, H = io.DisplaySize.y;
  const float top_h = ImGui::GetFrameHeightWithSpacing() * 2 + ImGui::GetStyle().WindowPadding.y * 2 + 4;
  const float body_y = menu_h + top_h, body_h = std::max(100.0f, H - body_y - status_h);
  const float left_w = std::round(W * 0.23f), right_w = std::round(W * 0.25f);
  const float center_w = W - left_w - right_w;
  const float bottom_h = std::round(body_h * 0.32f);
  const float left_top_h = std::round(body_h * 0.52f);

  struct Rect { float x, y, w, h; };
  auto rect_of = [&](Slot s) -> Rect {
    switch (s) {
      case Slot::top: return {0, menu_h, W, top_h};
      case Slot::left_top: return {0, body_y, left_w, left_top_h};
      case Slot::left_bottom: return {0, body_y + left_top_h, left_w, body_h - left_top_h};
      case Slot::center: return {left_w, body_y, center_w, body_h - bottom_h};
      case Slot::right: return {left_w + center_w, body_y, right_w, body_h - bottom_h};
      case Slot::bottom: return {left_w, body_y + body_h - bottom_h, center_w + right_w, bottom_h};
      case Slot::floating: return {W * 0.15f, H * 0.12f, W * 0.7f, H * 0.75f};
    }
    return {0, 0, W, H};
  };

  PanelContext ctx{ctl_, settings_, fonts_.mono, wall_dt, &ctl_};
  const Slot slots[] = {Slot::top, Slot::left_top, Slot::left_bottom, Slot::center, Slot::right, Slot::bottom};
  const ImGuiWindowFlags tiled = ImGuiWindowFlags_NoTitleBar | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                 ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoBringToFrontOnFocus |
                                 ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
  // A slot whose panels are all closed gives its space to its neighbour.
  auto any_open = [&](Slot s) {
    for (auto& p : panels_)
      if (p->slot() == s && panel_open(*p)) return true;
    return false;
  };
  for (Slot s : slots) {
    if (!any_open(s)) continue;
    Rect r = rect_of(s);
    if (s == Slot::left_top && !any_open(Slot::left_bottom)) r.h = body_h;
    if (s == Slot::left_bottom && !any_open(Slot::left_top)) { r.y = body_y; r.h = body_h; }
    if (s == Slot::center && !any_open(Slot::right)) r.w += right_w;
    if ((s == Slot::center || s == Slot::right) && !any_open(Slot::bottom)) r.h = body_h;
    ImGui::SetNextWindowPos(ImVec2(r.x, r.y));
    ImGui::SetNextWindowSize(ImVec2(r.w, r.h));
    char name[32];
    std::snprintf(name, sizeof name, "##slot%d", static_cast<int>(s));
    if (ImGui::Begin(name, nullptr, tiled)) {
      if (s == Slot::top) {
        for (auto& p : panels_)
          if (p->slot() == s) p->draw(ctx);
      } else if (ImGui::BeginTabBar("tabs")) {
        for (auto& p : panels_) {
          if (p->slot() != s || !panel_open(*p)) continue;
          bool open = true;
          ImGuiTabItemFlags f = focus_ == p->id() ? ImGuiTabItemFlags_SetSelected : 0;
          std::string label = std::string(p->title()) + "###" + std::string(p->id());
          const bool shown = ImGui::BeginTabItem(label.c_str(), &open, f);
          if (!p->tab_tip().empty() && ImGui::IsItemHovered())
            ImGui::SetTooltip("%.*s", static_cast<int>(p->tab_tip().size()), p->tab_tip().data());
          if (shown) {
            ImGui::BeginChild("content", ImVec2(0, 0), false);
            p->draw(ctx);
            ImGui::EndChild();
            ImGui::EndTabItem();
          }
          if (!open) set_panel_open(p->id(), false);
        }
        ImGui::EndTabBar();
      }
    }
    ImGui::End();
  }
  for (auto& p : panels_) {
    if (p->slot() != Slot::floating || !panel_open(*p)) continue;
    Rect r = rect_of(Slot::floating);
    ImGui::SetNextWindowPos(ImVec2(r.x, r.y), ImGuiCond_Appearing);
    ImGui::SetNextWindowSize(ImVec2(r.w, r.h), ImGuiCond_Appearing);
    bool open = true;
    std::string label = std::string(p->title()) + "###" + std::string(p->id());
    if (focus_ == p->id()) ImGui::SetNextWindowFocus();
    if (ImGui::Begin(label.c_str(), &open)) p->draw(ctx);
    ImGui::End();
    if (!open) set_panel_open(p->id(), false);
  }
  focus_.clear();
  status_bar(H - status_h, W, status_h);
}

void GuiApp::status_bar(float y, float w, float h) {
  ImGui::SetNextWindowPos(ImVec2(0, y));
  ImGui::SetNextWindowSize(ImVec2(w, h));
  ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(8, 3));
  if (ImGui::Begin("##status", nullptr,
                   ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                       ImGuiWindowFlags_NoBringToFrontOnFocus)) {
    if (!ctl_.errors().empty())
      ImGui::TextColored(ImVec4(1, 0.3f, 0.3f, 1), "%zu scenario error(s): see the Scenarios tab.  ", ctl_.errors().size());
    else ImGui::TextDisabled("%zu records, %zu added fault(s).  ", ctl_.size(), ctl_.added_faults().size());
    ImGui::SameLine();
    ImGui::TextUnformatted(ctl_.status().c_str());
    if (!settings_warning_.empty()) {
      ImGui::SameLine();
      ImGui::TextDisabled("  (settings: %s)", settings_warning_.c_str());
    }
  }
  ImGui::End();
  ImGui::PopStyleVar();
}

}  // namespace smtplab::gui
