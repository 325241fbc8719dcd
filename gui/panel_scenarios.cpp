// gui/panel_scenarios.cpp: open a scenario from scenarios/ or any path (or
// drop a file on the window); the current file reloads when it changes; load
// errors are listed one per line, as the loader words them.
#include <imgui.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "gui/panel.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

namespace fs = std::filesystem;

struct ScenariosPanel final : Panel {
  char path[1024] = "";
  std::vector<std::string> files;
  double since_scan = 1e9;

  std::string_view id() const override { return "scenarios"; }
  std::string_view title() const override { return "Scenarios"; }
  Slot slot() const override { return Slot::left_bottom; }
  bool open_by_default() const override { return false; }

  void scan() {
    files.clear();
    std::error_code ec;
    for (const std::string& dir : {std::string("scenarios"), std::string(SMTPLAB_SOURCE_DIR) + "/scenarios"}) {
      if (!fs::is_directory(dir, ec)) continue;
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (e.path().extension() == ".json" && e.path().filename() != "schema.json") files.push_back(e.path().string());
        if (files.size() > 500) break;
      }
      if (!files.empty()) break;
    }
    std::sort(files.begin(), files.end());
  }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    since_scan += ctx.wall_dt;
    if (since_scan > 2.0) {
      since_scan = 0;
      scan();
    }
    ImGui::TextWrapped("Current: %s", c.scenario_path().empty() ? "the built-in scenario" : c.scenario_path().c_str());
    if (!c.scenario().description.empty()) ImGui::TextWrapped("%s", c.scenario().description.c_str());
    ImGui::TextDisabled("It reloads by itself when the file changes. Drop a .json file on the window to open it.");
    ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 4);
    bool enter = ImGui::InputTextWithHint("##path", "path/to/scenario.json", path, sizeof path, ImGuiInputTextFlags_EnterReturnsTrue);
    ImGui::SameLine();
    if ((ImGui::Button("Open") || enter) && path[0]) ctx.post(cmd::OpenFile{path});
    if (ImGui::Button("Built-in: Bob sends to Alice")) ctx.post(cmd::OpenFile{""});
    widgets::section("scenarios/");
    for (const std::string& f : files) {
      if (ImGui::Selectable(fs::path(f).filename().string().c_str(), f == c.scenario_path())) ctx.post(cmd::OpenFile{f});
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", f.c_str());
    }
    if (files.empty()) ImGui::TextDisabled("(no scenarios/ folder here)");
    if (!c.errors().empty()) {
      widgets::section("Errors");
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(ctx.colors().fault));
      for (const ScenarioError& e : c.errors()) ImGui::TextWrapped("%s", e.format().c_str());
      ImGui::PopStyleColor();
      ImGui::TextWrapped("The lab keeps showing the previous scenario until the file loads.");
    }
  }
};

}  // namespace

std::unique_ptr<Panel> make_scenarios_panel() { return std::make_unique<ScenariosPanel>(); }

}  // namespace smtplab::gui
