// gui/panel_sequence.cpp: the sequence diagram with its toolbar (scale,
// layer toggles). The drawing itself is SequenceView.
#include "gui/panel_sequence.hpp"

#include <imgui.h>

#include <memory>

namespace smtplab::gui {

void SequencePanel::draw(PanelContext& ctx) {
  ViewSettings& s = ctx.settings;
  const Palette& p = ctx.colors();
  // The toolbar wraps instead of running off the panel on a narrow window.
  const float right_edge = ImGui::GetCursorScreenPos().x + ImGui::GetContentRegionAvail().x;
  auto next = [&](const char* text, float extra) {
    ImGui::SameLine();
    const float w = ImGui::CalcTextSize(text).x + extra;
    if (ImGui::GetCursorScreenPos().x + w > right_edge) ImGui::NewLine();
  };
  const float box = ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x;
  int scale = s.scale == TimeScale::rows ? 0 : 1;
  ImGui::TextDisabled("scale:");
  next("one row per event", box);
  if (ImGui::RadioButton("one row per event", &scale, 0)) s.scale = TimeScale::rows;
  next("proportional to time", box);
  if (ImGui::RadioButton("proportional to time", &scale, 1)) s.scale = TimeScale::proportional;
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("height is time: a slanted arrow is a message in flight, its slope the latency");
  next("show:", 0);
  ImGui::TextDisabled("show:");
  next("TCP", box);
  ImGui::Checkbox("TCP", &s.show_tcp);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("SYN / SYN-ACK / ACK, data segments, losses and retransmissions");
  next("DNS", box);
  ImGui::Checkbox("DNS", &s.show_dns);
  next("notes", box);
  ImGui::Checkbox("notes", &s.show_notes);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("queue, delivery and fault records on a host's lifeline");
  next("states", box);
  ImGui::Checkbox("states", &s.show_states);
  // A legend: what the colours mean, in the theme's colours.
  struct Key { const char* text; unsigned col; const char* tip; };
  const Key keys[] = {{"command", p.smtp, "an SMTP/POP3/IMAP command"},
                      {"2xx/3xx", p.reply_ok, "a positive reply"},
                      {"4xx", p.reply_temp, "a temporary failure: the sender retries later"},
                      {"5xx", p.reply_perm, "a permanent failure: the message bounces"},
                      {"DNS", p.dns, "a DNS query or answer"},
                      {"lost", p.fault, "a fault, a loss, a timeout"},
                      {"cause", p.reply_temp, "orange band and numbers: what led to the selected record; 1 is its direct cause, the highest number the root"}};
  next("colours:", 0);
  ImGui::TextDisabled("colours:");
  for (const Key& k : keys) {
    next(k.text, 0);
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(k.col), "%s", k.text);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", k.tip);
  }
  const RunView& run = ctx.ctl.current();
  view.sync(run, ctx.ctl.generation(), filter_from(s));
  ImVec2 avail = ImGui::GetContentRegionAvail();
  SequenceView::Result r = view.draw(run, ctx.ctl.cursor(), ctx.ctl.selected(), s, ctx.colors(), avail);
  if (r.clicked) ctx.post(cmd::Select{r.clicked, true});
}

std::unique_ptr<Panel> make_sequence_panel() { return std::make_unique<SequencePanel>(); }

}  // namespace smtplab::gui
