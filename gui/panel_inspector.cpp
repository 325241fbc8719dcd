// gui/panel_inspector.cpp: everything about the selected record: raw bytes
// with CR LF visible, DATA dot-stuffed and un-stuffed, the reply code in
// plain words with its enhanced status, the governing RFC section, and the
// cause chain back to its root (click a bounce, see the fault behind it).
#include <imgui.h>

#include <algorithm>
#include <memory>

#include "gui/explain.hpp"
#include "gui/panel.hpp"
#include "gui/sequence_view.hpp"
#include "gui/widgets.hpp"
#include "sim/trace/fates.hpp"

namespace smtplab::gui {

namespace {

ImVec4 col4(ImU32 c) { return ImGui::ColorConvertU32ToFloat4(c); }

void show_bytes(const std::string& bytes, ImFont* mono, const Palette& p, const char* id) {
  if (mono) ImGui::PushFont(mono);
  ImGui::BeginChild(id, ImVec2(0, std::min(ImGui::GetTextLineHeightWithSpacing() * 10.5f,
                                           ImGui::GetTextLineHeightWithSpacing() * (static_cast<float>(std::count(bytes.begin(), bytes.end(), '\n')) + 1.6f))),
                    true, ImGuiWindowFlags_HorizontalScrollbar);
  int shown = 0;
  for (const WireLine& l : wire_lines(bytes)) {
    if (++shown > 400) {
      ImGui::TextDisabled("... (%zu bytes in all)", bytes.size());
      break;
    }
    ImGui::TextUnformatted(l.text.c_str());
    if (!l.ending.empty()) {
      ImGui::SameLine(0, 0);
      ImGui::TextColored(col4(l.ending == "\\r\\n" ? p.dim : p.fault), "%s", l.ending.c_str());
    }
  }
  ImGui::EndChild();
  if (mono) ImGui::PopFont();
}

struct InspectorPanel final : Panel {
  // Where the record's message is at the cursor (Controller::
  // fate_of_at_cursor): the cursor, not the end of the run, so that stepping
  // through a lesson does not give away how the story ends.
  void draw_fate(PanelContext& ctx, const Record& r) {
    const Controller& c = ctx.ctl;
    if (r.layer() != Layer::mail) return;
    const std::optional<MessageFate> m = c.fate_of_at_cursor(r);
    if (!m) return;
    widgets::section("This message at the cursor");
    const Palette& p = ctx.colors();
    for (const RecipientFate& f : m->recipients)
      if (uint64_t seq = fate_text(f, p)) ctx.post(cmd::Select{seq, true});
  }

  std::string_view id() const override { return "inspector"; }
  std::string_view title() const override { return "Inspector"; }
  Slot slot() const override { return Slot::right; }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    const Palette& p = ctx.colors();
    const Record* r = c.selected_record();
    if (!r) r = c.cursor_record();
    if (!r) {
      ImGui::TextDisabled("Select an arrow in the diagram or a row in the event list.");
      return;
    }
    ImGui::TextColored(col4(record_color(*r, p)), "%s", std::string(kind_name(r->kind)).c_str());
    ImGui::SameLine();
    ImGui::TextDisabled("#%llu at %s", static_cast<unsigned long long>(r->seq), format_duration(r->t).c_str());
    ImGui::TextWrapped("%s", r->text.c_str());
    if (!r->src.empty() || !r->dst.empty())
      ImGui::TextWrapped("%s%s%s", r->src.c_str(), r->dst.empty() ? "" : "  ->  ", r->dst.c_str());
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", std::string(kind_description(r->kind)).c_str());
    ImGui::PopTextWrapPos();
    std::string rfc = governing_rfc(*r);
    if (!rfc.empty()) ImGui::TextWrapped("Governed by %s", rfc.c_str());

    // The cause chain, newest first, before the details: "why?" is what a
    // class asks first (a bounce leads back to the fault). Each step is clickable.
    if (c.current().run) {
      std::vector<const Record*> chain = c.current().run->trace.cause_chain(r->seq);
      if (chain.size() > 1) {
        widgets::section("Why did this happen? (cause chain)");
        int depth = 0;
        for (const Record* x : chain) {
          if (depth > 60) {
            ImGui::TextDisabled("...");
            break;
          }
          ImGui::PushID(static_cast<int>(x->seq));
          std::string label = std::string(depth ? "<- " : "") + std::string(kind_name(x->kind)) + ": " + x->text;
          ImGui::Indent(static_cast<float>(std::min(depth, 8)) * ImGui::GetFontSize() * 0.5f);
          ImGui::PushStyleColor(ImGuiCol_Text, col4(record_color(*x, p)));
          if (ImGui::Selectable(label.c_str(), x->seq == r->seq)) ctx.post(cmd::Select{x->seq, true});
          ImGui::PopStyleColor();
          ImGui::Unindent(static_cast<float>(std::min(depth, 8)) * ImGui::GetFontSize() * 0.5f);
          ImGui::PopID();
          ++depth;
        }
      } else {
        ImGui::TextDisabled("No recorded cause: this record starts a chain.");
      }
    }
    draw_fate(ctx, *r);
    if (r->kind == Kind::smtp_reply) {
      int code = reply_code(*r);
      widgets::section("Reply code");
      if (code) {
        ImGui::TextColored(col4(record_color(*r, p)), "%d", code);
        ImGui::SameLine();
        std::string e = explain_reply_code(code);
        ImGui::TextWrapped("%s", e.empty() ? "(not a code RFC 5321 defines)" : e.c_str());
        ImGui::TextWrapped("%s", explain_reply_class(code).c_str());
      }
      std::string enh(r->attr("enhanced"));
      if (enh.empty()) enh = find_enhanced(r->text);
      if (!enh.empty()) ImGui::TextWrapped("Enhanced status %s (RFC 3463): %s", enh.c_str(), explain_enhanced(enh).c_str());
    }
    if (!r->wire.empty()) {
      widgets::section(r->kind == Kind::smtp_data ? "On the wire (dot-stuffed)" : "Raw bytes on the wire");
      show_bytes(r->wire, ctx.mono, p, "wire");
      if (r->kind == Kind::smtp_data) {
        std::string plain = unstuff(r->wire);
        widgets::section("As the receiver reads it (un-stuffed, RFC 5321 4.5.2)");
        show_bytes(plain, ctx.mono, p, "plain");
        size_t consumed = plain.size();
        if (r->wire.find("\r\n.\r\n") != std::string::npos && r->wire.find("\r\n.\r\n") + 5 < r->wire.size())
          ImGui::TextColored(col4(p.fault), "A lone \".\" ends the data early: what follows it is read as commands (%zu bytes kept).",
                             consumed);
      }
    }
    if (!r->attrs.empty()) {
      widgets::section("Attributes");
      for (const Attr& a : r->attrs) ImGui::BulletText("%s = %s", a.key.c_str(), a.value.c_str());
    }
  }
};

}  // namespace

std::unique_ptr<Panel> make_inspector_panel() { return std::make_unique<InspectorPanel>(); }

}  // namespace smtplab::gui
