// gui/panel_compose.cpp: write a new message as any user and send it at the
// cursor's time (the controller re-runs with one more message).
#include <imgui.h>

#include <memory>

#include "gui/panel.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

std::vector<std::string> split_addresses(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s + ",") {
    if (ch == ',' || ch == ';' || ch == ' ') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  return out;
}

// "VRFY alice; EXPN staff" -> {"VRFY alice", "EXPN staff"}; the loader
// checks each when the controller re-runs with the message.
std::vector<std::string> split_probes(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(';', start);
    if (end == std::string::npos) end = s.size();
    const size_t b = s.find_first_not_of(' ', start);
    if (b != std::string::npos && b < end) {
      const size_t e = s.find_last_not_of(' ', end - 1);
      out.push_back(s.substr(b, e - b + 1));
    }
    start = end + 1;
  }
  return out;
}

struct ComposePanel final : Panel {
  int from = 0;
  char to[256] = "";
  char subject[256] = "Hello";
  char body[4096] = "Hi,\n\nA message written in the lab.\n";
  char probe[512] = "";  // "VRFY alice; EXPN staff": asked before MAIL FROM

  std::string_view id() const override { return "compose"; }
  std::string_view title() const override { return "Compose"; }
  Slot slot() const override { return Slot::left_bottom; }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    std::vector<const Host*> agents;
    for (const Host& h : c.scenario().hosts)
      if (h.role == HostRole::user_agent && !h.user.empty()) agents.push_back(&h);
    if (agents.empty()) {
      ImGui::TextDisabled("This scenario has no user agents.");
      return;
    }
    from = std::clamp(from, 0, static_cast<int>(agents.size()) - 1);
    const Host& sender = *agents[static_cast<size_t>(from)];
    ImGui::PushItemWidth(-ImGui::GetFontSize() * 4);
    if (ImGui::BeginCombo("from", sender.user.c_str())) {
      for (size_t i = 0; i < agents.size(); ++i)
        if (ImGui::Selectable(agents[i]->user.c_str(), static_cast<int>(i) == from)) from = static_cast<int>(i);
      ImGui::EndCombo();
    }
    if (!to[0]) {
      for (const Host* h : agents)
        if (h != &sender) {
          std::snprintf(to, sizeof to, "%s", h->user.c_str());
          break;
        }
    }
    ImGui::InputText("to", to, sizeof to);
    ImGui::InputText("subject", subject, sizeof subject);
    ImGui::InputTextWithHint("ask first", "VRFY alice; EXPN staff; HELP", probe, sizeof probe);
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Commands the user agent sends after EHLO, before MAIL FROM, one at a time,\n"
                        "separated by \";\": VRFY, EXPN, HELP or NOOP (RFC 5321 4.1.1.6-4.1.1.9).");
    ImGui::PopItemWidth();
    ImGui::TextDisabled("body (a line with a lone \".\" is a classic lesson)");
    ImGui::InputTextMultiline("##body", body, sizeof body, ImVec2(-1, ImGui::GetTextLineHeight() * 6));
    std::string label = "Send at the cursor (" + format_duration(SimTime{c.now()}) + ")";
    if (ImGui::Button(label.c_str())) {
      MessageSpec m;
      m.from = sender.user;
      m.via = sender.name;
      m.to = split_addresses(to);
      m.subject = subject;
      m.body = body;
      m.probe = split_probes(probe);
      m.at = SimTime{-1};
      ctx.post(cmd::Compose{m});
    }
    if (c.status().rfind("message", 0) == 0) ImGui::TextWrapped("%s", c.status().c_str());
    if (!c.added_messages().empty()) {
      widgets::section("Messages written here");
      for (size_t i = 0; i < c.added_messages().size(); ++i) {
        const MessageSpec& m = c.added_messages()[i];
        ImGui::PushID(static_cast<int>(i));
        if (ImGui::SmallButton("remove")) ctx.post(cmd::RemoveMessage{i});
        ImGui::SameLine();
        ImGui::Text("%s: \"%s\" at %s", m.from.c_str(), m.subject.c_str(), format_duration(m.at).c_str());
        ImGui::PopID();
      }
    }
  }
};

}  // namespace

std::unique_ptr<Panel> make_compose_panel() { return std::make_unique<ComposePanel>(); }

}  // namespace smtplab::gui
