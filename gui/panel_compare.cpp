// gui/panel_compare.cpp: two runs side by side, diagrams aligned in time.
//
// "Pin" keeps the current run as the baseline; inject a fault (or change
// anything) and the new run appears next to it. Both diagrams use the
// proportional scale and one shared viewport, so the same height is the same
// simulated time; the first record where the runs differ is named.
#include <imgui.h>

#include <memory>

#include "gui/panel.hpp"
#include "gui/sequence_view.hpp"

namespace smtplab::gui {

namespace {

struct ComparePanel final : Panel {
  SequenceView left, right;
  uint64_t diff_for = ~0ull;
  const void* diff_base = nullptr;
  size_t first_diff = 0;

  std::string_view id() const override { return "compare"; }
  std::string_view title() const override { return "Compare runs"; }
  Slot slot() const override { return Slot::center; }
  bool open_by_default() const override { return false; }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    if (ImGui::Button("Pin the current run as the baseline")) ctx.post(cmd::PinBaseline{});
    const RunView* base = c.baseline();
    if (!base) {
      ImGui::TextWrapped("Pin a run, then inject a fault or compose a message: both runs appear side by side, aligned in time.");
      return;
    }
    ImGui::SameLine();
    if (ImGui::Button("Clear")) ctx.post(cmd::ClearBaseline{});
    const auto& a = base->index.records();
    const auto& b = c.records();
    if (diff_for != c.generation() || diff_base != base->run.get()) {
      diff_for = c.generation();
      diff_base = base->run.get();
      first_diff = 0;
      while (first_diff < a.size() && first_diff < b.size() && a[first_diff].t == b[first_diff].t &&
             a[first_diff].kind == b[first_diff].kind && a[first_diff].text == b[first_diff].text)
        ++first_diff;
    }
    if (first_diff == a.size() && a.size() == b.size()) ImGui::Text("The two runs are identical (%zu records).", a.size());
    else
      ImGui::Text("Identical for the first %zu records; they differ from t = %s.", first_diff,
                  format_duration(SimTime{first_diff < b.size() ? b[first_diff].t.us : first_diff < a.size() ? a[first_diff].t.us : 0}).c_str());
    // One viewport: proportional scale, the right view follows the left.
    ViewSettings s = ctx.settings;
    s.scale = TimeScale::proportional;
    SeqFilter f = filter_from(s);
    left.sync(*base, reinterpret_cast<uintptr_t>(base->run.get()), f);
    right.sync(c.current(), c.generation(), f);
    ImVec2 avail = ImGui::GetContentRegionAvail();
    float half = (avail.x - ImGui::GetStyle().ItemSpacing.x) * 0.5f;
    ImGui::BeginGroup();
    ImGui::TextUnformatted(("baseline: " + base->label).c_str());
    size_t bcur = std::min(c.cursor(), a.empty() ? 0 : a.size() - 1);
    if (!a.empty()) bcur = base->index.upper_bound(c.now()) ? base->index.upper_bound(c.now()) - 1 : 0;
    ImGui::PushID("L");
    left.draw(*base, bcur, 0, s, ctx.colors(), ImVec2(half, avail.y - ImGui::GetTextLineHeightWithSpacing()));
    ImGui::PopID();
    ImGui::EndGroup();
    right.vp.t_top = left.vp.t_top;
    ctx.settings.px_per_second = s.px_per_second;  // zoom done on the left is remembered
    ImGui::SameLine();
    ImGui::BeginGroup();
    ImGui::TextUnformatted(("current: " + c.current().label).c_str());
    ImGui::PushID("R");
    right.last_cursor = c.cursor();  // the left view leads the scrolling
    right.draw(c.current(), c.cursor(), c.selected(), s, ctx.colors(), ImVec2(half, avail.y - ImGui::GetTextLineHeightWithSpacing()), false);
    ImGui::PopID();
    ImGui::EndGroup();
  }
};

}  // namespace

std::unique_ptr<Panel> make_compare_panel() { return std::make_unique<ComparePanel>(); }

}  // namespace smtplab::gui
