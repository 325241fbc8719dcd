// gui/panel_gallery.cpp: every custom widget on one page, in the current
// theme and font size (the way Dear ImGui's demo window shows its own).
// When a widget changes, look here first.
#include <imgui.h>

#include <memory>

#include "gui/panel.hpp"
#include "gui/sequence_model.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

struct GalleryPanel final : Panel {
  int64_t seek_demo = 40'000'000;

  std::string_view id() const override { return "gallery"; }
  std::string_view title() const override { return "Widget gallery"; }
  Slot slot() const override { return Slot::floating; }
  bool open_by_default() const override { return false; }

  void draw(PanelContext& ctx) override {
    const Palette& p = ctx.colors();
    const float fs = ImGui::GetFontSize();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    float w = ImGui::GetContentRegionAvail().x;
    auto row = [&](const char* name, float h) {
      ImGui::TextDisabled("%s", name);
      ImVec2 o = ImGui::GetCursorScreenPos();
      ImGui::Dummy(ImVec2(w, h));
      return o;
    };
    ImVec2 o = row("arrow: command, 2xx / 4xx / 5xx reply, retransmission (dashed)", fs * 6.5f);
    widgets::arrow(dl, o.x + fs, o.x + w * 0.5f, o.y + fs * 1.3f, p.smtp, "MAIL FROM:<bob@gmail.test>", w * 0.45f);
    widgets::arrow(dl, o.x + w * 0.5f, o.x + fs, o.y + fs * 2.8f, p.reply_ok, "250 2.1.0 Ok", w * 0.45f);
    widgets::arrow(dl, o.x + w * 0.5f, o.x + fs, o.y + fs * 4.3f, p.reply_temp, "451 4.7.1 Greylisted", w * 0.45f);
    widgets::arrow(dl, o.x + w * 0.5f, o.x + fs, o.y + fs * 5.8f, p.reply_perm, "550 5.1.1 No such user", w * 0.45f);
    widgets::arrow(dl, o.x + w * 0.55f, o.x + w - fs, o.y + fs * 1.3f, p.tcp, "retransmit seq=1", w * 0.4f, true);
    o = row("lost segment", fs * 2);
    widgets::lost_arrow(dl, o.x + fs, o.x + w * 0.5f, o.y + fs * 1.3f, p.tcp, p.fault, "seq=1 len=512 (lost)", w * 0.45f);
    o = row("note on a lifeline", fs * 1.5f);
    widgets::note(dl, o.x + fs, o.y + fs * 0.7f, p.note, "message-queued 4F2A1", w * 0.8f);
    o = row("fold mark (events closer than a few pixels)", fs * 1.8f);
    widgets::fold_mark(dl, o.x + fs, o.x + w - fs, o.y + fs * 1.2f, p.dim, 1234);
    o = row("folded idle gap", fs * 1.6f);
    widgets::gap_row(dl, o.x + fs, o.x + w - fs, o.y, fs * 1.5f, p.gap, gap_label(1'800'000'000));
    o = row("hosts (up, down) and the envelope", fs * 3);
    widgets::host_node(dl, ImVec2(o.x + fs * 5, o.y + fs * 1.4f), ImVec2(fs * 8, fs * 2.3f), "mx.yahoo.test", "yahoo.test",
                       p.host_fill, p.text, false, p.host_down);
    widgets::host_node(dl, ImVec2(o.x + fs * 14, o.y + fs * 1.4f), ImVec2(fs * 8, fs * 2.3f), "smtp.gmail.test", "gmail.test",
                       p.host_fill, p.text, true, p.host_down);
    widgets::envelope(dl, ImVec2(o.x + fs * 21, o.y + fs * 1.4f), fs * 1.6f, p.envelope, IM_COL32(40, 40, 40, 255));
    o = row("state bubbles (current highlighted)", fs * 2.2f);
    widgets::state_node(dl, ImVec2(o.x + fs * 4, o.y + fs), ImVec2(fs * 6, fs * 1.6f), "mail", false, p);
    widgets::state_node(dl, ImVec2(o.x + fs * 11, o.y + fs), ImVec2(fs * 6, fs * 1.6f), "rcpt", true, p);
    ImGui::TextDisabled("seek bar with failure ticks");
    const int64_t marks[] = {12'000'000, 47'000'000, 48'000'000};
    int64_t s = 0;
    if (widgets::seek_bar("##demo", seek_demo, 100'000'000, marks, 3, p.fault, p, &s)) seek_demo = s;
  }
};

}  // namespace

std::unique_ptr<Panel> make_gallery_panel() { return std::make_unique<GalleryPanel>(); }

}  // namespace smtplab::gui
