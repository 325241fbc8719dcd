// gui/panel_playback.cpp: play/pause, speed, stepping and the seek bar.
//
// Playback is a cursor over a computed trace (DESIGN.md): stepping backward
// is as cheap as stepping forward. The seek bar marks every failure.
#include <imgui.h>

#include <cmath>
#include <memory>

#include "gui/panel.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

struct PlaybackPanel final : Panel {
  std::vector<int64_t> failure_times;  // seek-bar ticks, rebuilt per run
  uint64_t built_for = ~0ull;

  std::string_view id() const override { return "playback"; }
  std::string_view title() const override { return "Playback"; }
  Slot slot() const override { return Slot::top; }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    if (built_for != c.generation()) {
      built_for = c.generation();
      failure_times.clear();
      for (size_t i : c.index().failures()) failure_times.push_back(c.index().times()[i]);
    }
    // Row 1: buttons, speed, time.
    if (ImGui::Button(c.playing() ? "Pause" : " Play ")) ctx.post(cmd::Play{!c.playing()});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Space");
    ImGui::SameLine();
    ImGui::TextDisabled("step:");
    struct B { const char* label; int dir; StepUnit unit; const char* tip; };
    const B buttons[] = {{"< failure", -1, StepUnit::failure, "Ctrl+Left"},  {"< exchange", -1, StepUnit::exchange, "Shift+Left"},
                         {"< event", -1, StepUnit::event, "Left"},           {"event >", +1, StepUnit::event, "Right"},
                         {"exchange >", +1, StepUnit::exchange, "Shift+Right"}, {"failure >", +1, StepUnit::failure, "Ctrl+Right or F"}};
    for (const B& b : buttons) {
      ImGui::SameLine();
      if (ImGui::Button(b.label)) ctx.post(cmd::Step{b.dir, b.unit});
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", b.tip);
    }
    ImGui::SameLine();
    if (ImGui::Button("next event >>")) ctx.post(cmd::JumpNext{});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("N: jump over idle time to the next event");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    float log_speed = static_cast<float>(std::log10(c.speed()));
    char fmt[32];
    std::snprintf(fmt, sizeof fmt, "%gx", std::round(c.speed() * 10) / 10);
    if (ImGui::SliderFloat("speed", &log_speed, -1.0f, 3.0f, fmt))
      ctx.post(cmd::SetSpeed{std::pow(10.0, static_cast<double>(log_speed))});
    // Row 2: where we are, and the seek bar over the whole run.
    ImGui::Text("t = %s", format_duration(SimTime{c.now()}).c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("of %s, event %zu of %zu", format_duration(SimTime{c.end_time()}).c_str(),
                        c.size() ? c.cursor() + 1 : 0, c.size());
    ImGui::SameLine();
    int64_t seek = 0;
    if (widgets::seek_bar("##seek", c.now(), c.end_time(), failure_times.data(), failure_times.size(),
                          ctx.colors().fault, ctx.colors(), &seek))
      ctx.post(cmd::Seek{seek});
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Seek; red ticks are failures");
  }
};

}  // namespace

std::unique_ptr<Panel> make_playback_panel() { return std::make_unique<PlaybackPanel>(); }

}  // namespace smtplab::gui
