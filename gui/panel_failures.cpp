// gui/panel_failures.cpp: the simulator's fault vocabulary as controls.
//
// The controls are built from sim/faults/catalog.hpp (each type's required
// and optional keys), so a new fault type appears here with no GUI change.
// "Inject at the cursor" posts the fault with the cursor's time: the
// controller re-runs the scenario plus that fault (the prefix stays the
// same). Added faults are listed and can be removed; the run can be saved as
// a scenario file that includes them (and the seed chosen in the Seeds tab).
#include <imgui.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "gui/panel.hpp"
#include "gui/scenario_writer.hpp"
#include "gui/widgets.hpp"
#include "sim/faults/catalog.hpp"

namespace smtplab::gui {

namespace {

struct FailuresPanel final : Panel {
  int type = 0;
  Fault draft;
  char until[32] = "";
  char text[128] = "";
  char domain[128] = "";
  char recipient[128] = "";
  char mailbox[64] = "";
  char delay[32] = "30s";
  char save_path[512] = "";
  char capture_path[512] = "";
  std::string capture_host;  // "": at every sender
  std::string error;

  std::string_view id() const override { return "failures"; }
  std::string_view title() const override { return "Failures"; }
  Slot slot() const override { return Slot::left_bottom; }

  static bool uses(const FaultType& t, std::string_view key) {
    return std::find(t.required.begin(), t.required.end(), key) != t.required.end() ||
           std::find(t.optional.begin(), t.optional.end(), key) != t.optional.end();
  }

  void host_combo(const Scenario& sc, FaultTarget target) {
    if (ImGui::BeginCombo("host", draft.host.empty() ? "(choose)" : draft.host.c_str())) {
      for (const Host& h : sc.hosts) {
        if (target == FaultTarget::mail_server && h.role != HostRole::mail_server) continue;
        if (target == FaultTarget::user_agent && h.role != HostRole::user_agent) continue;
        if (ImGui::Selectable(h.name.c_str(), draft.host == h.name)) draft.host = h.name;
      }
      ImGui::EndCombo();
    }
  }

  void link_combo(const Scenario& sc) {
    std::vector<std::vector<std::string>> links;
    std::vector<std::string> linked;
    for (const Link& l : sc.links) {
      links.push_back({l.a, l.b});
      linked.push_back(l.a);
      linked.push_back(l.b);
    }
    for (const Host& h : sc.hosts)
      if (std::find(linked.begin(), linked.end(), h.name) == linked.end()) links.push_back({h.name, "internet"});
    std::string cur = draft.link.size() == 2 ? draft.link[0] + " - " + draft.link[1] : "(choose)";
    if (ImGui::BeginCombo("link", cur.c_str())) {
      for (auto& l : links) {
        std::string label = l[0] + " - " + l[1];
        if (ImGui::Selectable(label.c_str(), draft.link == l)) draft.link = l;
      }
      ImGui::EndCombo();
    }
  }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    const Scenario& sc = c.scenario();
    auto catalog = fault_catalog();
    if (catalog.empty()) return;
    type = std::clamp(type, 0, static_cast<int>(catalog.size()) - 1);
    const FaultType& ft = catalog[static_cast<size_t>(type)];
    const float w = ImGui::GetContentRegionAvail().x * 0.62f;
    ImGui::PushItemWidth(w);
    std::string tname(ft.name);
    if (ImGui::BeginCombo("fault", tname.c_str())) {
      for (size_t i = 0; i < catalog.size(); ++i) {
        std::string n(catalog[i].name);
        if (ImGui::Selectable(n.c_str(), static_cast<int>(i) == type)) type = static_cast<int>(i);
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%.*s", static_cast<int>(catalog[i].description.size()), catalog[i].description.data());
      }
      ImGui::EndCombo();
    }
    ImGui::TextWrapped("%.*s", static_cast<int>(ft.description.size()), ft.description.data());
    if (uses(ft, "host")) host_combo(sc, ft.target);
    if (uses(ft, "link")) link_combo(sc);
    if (uses(ft, "domain")) ImGui::InputText("domain", domain, sizeof domain);
    if (uses(ft, "mode")) {
      const char* modes[] = {"nxdomain", "servfail", "timeout"};
      if (ImGui::BeginCombo("mode", draft.mode.empty() ? "nxdomain" : draft.mode.c_str())) {
        for (const char* m : modes)
          if (ImGui::Selectable(m, draft.mode == m)) draft.mode = m;
        ImGui::EndCombo();
      }
    }
    if (uses(ft, "verb")) {
      if (ImGui::BeginCombo("verb", draft.verb.empty() ? "(choose)" : draft.verb.c_str())) {
        for (std::string_view v : fault_verbs())
          if (ImGui::Selectable(std::string(v).c_str(), draft.verb == v)) draft.verb = std::string(v);
        ImGui::EndCombo();
      }
    }
    if (uses(ft, "nth")) ImGui::InputInt("nth (0 = every)", &draft.nth);
    if (uses(ft, "code")) {
      ImGui::InputInt("code", &draft.code);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("4xx: temporary (the client retries); 5xx: permanent (a bounce)");
    }
    if (uses(ft, "text")) ImGui::InputText("text", text, sizeof text);
    if (uses(ft, "recipient")) ImGui::InputText("recipient", recipient, sizeof recipient);
    if (uses(ft, "mailbox")) ImGui::InputText("mailbox", mailbox, sizeof mailbox);
    if (uses(ft, "loss")) ImGui::SliderFloat("loss", &loss_f, 0.0f, 1.0f, "%.2f");
    if (uses(ft, "delay")) ImGui::InputText("delay", delay, sizeof delay);
    if (uses(ft, "until")) ImGui::InputTextWithHint("until", "optional, e.g. 20min", until, sizeof until);
    ImGui::PopItemWidth();

    // The button says when; in a narrow panel (1280 px) the shorter form,
    // and its tooltip says it is the cursor's time.
    std::string at = format_duration(SimTime{c.now()});
    std::string button = "Inject at the cursor (" + at + ")";
    if (ImGui::CalcTextSize(button.c_str()).x + ImGui::GetStyle().FramePadding.x * 2 > ImGui::GetContentRegionAvail().x)
      button = "Inject at " + at;
    if (ImGui::Button(button.c_str())) {
      Fault f = draft;
      f.type = tname;
      f.at = SimTime{-1};
      f.domain = domain;
      f.text = text;
      f.recipient = recipient;
      f.mailbox = mailbox;
      f.loss = static_cast<double>(loss_f);
      if (f.mode.empty() && uses(ft, "mode")) f.mode = "nxdomain";
      if (!uses(ft, "nth")) f.nth = 1;
      if (!uses(ft, "code")) f.code = 0;
      error.clear();
      std::string why;
      if (uses(ft, "delay")) {
        auto d = parse_duration(delay, &why);
        if (!d) error = "delay: " + why;
        else f.delay = *d;
      }
      if (until[0]) {
        auto d = parse_duration(until, &why);
        if (!d) error = "until: " + why;
        else f.until = SimTime{c.now()} + *d;
      }
      if (error.empty()) ctx.post(cmd::InjectFault{f});
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("Re-runs the scenario with this fault added at the cursor (%s).\nEverything before the cursor stays the same.",
                        at.c_str());
    if (uses(ft, "until")) {
      const char* hint = "(until = cursor + duration)";
      widgets::same_line_if_fits(ImGui::CalcTextSize(hint).x);
      widgets::text_wrapped_disabled(hint);
    }
    if (!error.empty()) ImGui::TextColored(ImVec4(1, 0.35f, 0.35f, 1), "%s", error.c_str());
    if (c.status().rfind("fault not injected", 0) == 0) ImGui::TextColored(ImVec4(1, 0.35f, 0.35f, 1), "%s", c.status().c_str());

    widgets::section("Faults in this run");
    // Wrapped, not cut: "host-down at 0 s (from the scenario)" is wider than
    // the panel at 1600 px.
    // The scenario's own faults can be switched off: the run without one is
    // "what if it had not happened", side by side with Compare.
    for (size_t i = 0; i < sc.faults.size(); ++i) {
      const Fault& f = sc.faults[i];
      ImGui::PushID(static_cast<int>(1000000 + i));
      bool on = c.scenario_fault_on(i);
      if (ImGui::Checkbox("##on", &on)) ctx.post(cmd::SetScenarioFault{i, on});
      if (ImGui::IsItemHovered())
        ImGui::SetTooltip(on ? "untick: the run without this fault (what if it had not happened)" : "tick: back on");
      ImGui::SameLine();
      // Numbered from 0, as a lesson's "switch_off" and the terminal's "off N" count them.
      if (on)
        ImGui::TextWrapped("%zu: %s at %s (from the scenario)%s%s", i, f.type.c_str(), format_duration(f.at).c_str(),
                           f.host.empty() ? "" : ": ", f.host.c_str());
      else
        widgets::text_wrapped_disabled((std::to_string(i) + ": " + f.type + " at " + format_duration(f.at) +
                                        " (from the scenario, switched off)" + (f.host.empty() ? "" : ": " + f.host))
                                           .c_str());
      ImGui::PopID();
    }
    for (size_t i = 0; i < c.added_faults().size(); ++i) {
      const Fault& f = c.added_faults()[i];
      ImGui::PushID(static_cast<int>(i));
      if (ImGui::SmallButton("remove")) ctx.post(cmd::RemoveFault{i});
      ImGui::SameLine();
      ImGui::TextWrapped("%s at %s %s", f.type.c_str(), format_duration(f.at).c_str(), f.host.c_str());
      ImGui::PopID();
    }
    if (sc.faults.empty() && c.added_faults().empty()) ImGui::TextDisabled("none: the happy path");

    widgets::section("Save this run as a scenario");
    if (!save_path[0]) {
      std::string stem = c.scenario_path().empty() ? "bob-to-alice" : std::filesystem::path(c.scenario_path()).stem().string();
      std::snprintf(save_path, sizeof save_path, "%s-modified.json", stem.c_str());
    }
    ImGui::SetNextItemWidth(w);
    ImGui::InputText("##save", save_path, sizeof save_path);
    ImGui::SameLine();
    if (ImGui::Button("Save")) ctx.post(cmd::SaveScenario{save_path});
    if (c.status().rfind("saved", 0) == 0 || c.status().rfind("not saved", 0) == 0) widgets::text_wrapped_disabled(c.status().c_str());

    // The same run for Wireshark or tcpdump (docs/network.md, capture files).
    widgets::section("Export its packets for Wireshark (.pcap)");
    if (!capture_path[0]) {
      std::string stem = c.scenario_path().empty() ? "bob-to-alice" : std::filesystem::path(c.scenario_path()).stem().string();
      std::snprintf(capture_path, sizeof capture_path, "%s.pcap", stem.c_str());
    }
    if (std::none_of(sc.hosts.begin(), sc.hosts.end(), [&](const Host& h) { return h.name == capture_host; }))
      capture_host.clear();  // another scenario was opened
    if (ImGui::BeginCombo("captured", capture_host.empty() ? "at every sender" : capture_host.c_str())) {
      if (ImGui::Selectable("at every sender", capture_host.empty())) capture_host.clear();
      for (const Host& h : sc.hosts)  // not routers: the trace records packets at their ends only
        if (h.role != HostRole::router && ImGui::Selectable((h.name + "'s interface").c_str(), capture_host == h.name))
          capture_host = h.name;
      ImGui::EndCombo();
    }
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("At every sender: each packet once, lost ones too. A host's interface: what it sends and what "
                        "reaches it, so losses on the way to it leave gaps.");
    ImGui::SetNextItemWidth(w);
    ImGui::InputText("##capture", capture_path, sizeof capture_path);
    ImGui::SameLine();
    if (ImGui::Button("Export")) ctx.post(cmd::ExportCapture{capture_path, capture_host});
    if (c.status().rfind("capture", 0) == 0) widgets::text_wrapped_disabled(c.status().c_str());
  }

  float loss_f = 0.3f;
};

}  // namespace

std::unique_ptr<Panel> make_failures_panel() { return std::make_unique<FailuresPanel>(); }

}  // namespace smtplab::gui
