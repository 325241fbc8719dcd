// gui/panel_sequence.cpp: the sequence diagram with its toolbar (scale,
// layer toggles). The drawing itself is SequenceView.
#include "gui/panel_sequence.hpp"

#include <imgui.h>

#include <memory>

namespace smtplab::gui {

void SequencePanel::draw(PanelContext& ctx) {
  ViewSettings& s = ctx.settings;
  int scale = s.scale == TimeScale::rows ? 0 : 1;
  ImGui::TextDisabled("scale:");
  ImGui::SameLine();
  if (ImGui::RadioButton("one row per event", &scale, 0)) s.scale = TimeScale::rows;
  ImGui::SameLine();
  if (ImGui::RadioButton("proportional to time", &scale, 1)) s.scale = TimeScale::proportional;
  ImGui::SameLine();
  ImGui::TextDisabled("  show:");
  ImGui::SameLine();
  ImGui::Checkbox("TCP", &s.show_tcp);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("SYN / SYN-ACK / ACK, data segments, losses and retransmissions");
  ImGui::SameLine();
  ImGui::Checkbox("DNS", &s.show_dns);
  ImGui::SameLine();
  ImGui::Checkbox("notes", &s.show_notes);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("queue, delivery and fault records on a host's lifeline");
  ImGui::SameLine();
  ImGui::Checkbox("states", &s.show_states);
  const RunView& run = ctx.ctl.current();
  view.sync(run, ctx.ctl.generation(), filter_from(s));
  ImVec2 avail = ImGui::GetContentRegionAvail();
  SequenceView::Result r = view.draw(run, ctx.ctl.cursor(), ctx.ctl.selected(), s, ctx.colors(), avail);
  if (r.clicked) ctx.post(cmd::Select{r.clicked, true});
}

std::unique_ptr<Panel> make_sequence_panel() { return std::make_unique<SequencePanel>(); }

}  // namespace smtplab::gui
