// gui/panel_state_machines.cpp: the SMTP client and server machines, with
// the current state of the selected session highlighted.
//
// Drawn from the SMTP machines' own tables (sim/smtp: server_states(),
// server_transitions() with their triggers, client_states()), so the picture
// is the code. The trace's smtp-state records (attrs "machine", "state",
// "prev") add the transitions the run actually took (the client has no
// transition table: its edges are the observed ones) and say which state
// the selected session is in at the cursor. An observed transition that the
// table lacks is drawn in red: a machine did something its table does not say.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "gui/panel.hpp"
#include "gui/widgets.hpp"
#include "sim/smtp/client.hpp"
#include "sim/smtp/server.hpp"

namespace smtplab::gui {

namespace {

struct Machine {
  std::vector<std::string> states;
  std::map<std::pair<std::string, std::string>, std::string> edges;  // (from, to) -> trigger
  std::set<std::pair<std::string, std::string>> observed;            // taken in this run
};

struct StateMachinesPanel final : Panel {
  uint64_t built_for = ~0ull;
  std::map<uint64_t, std::vector<size_t>> by_session;  // smtp-state records per session
  Machine client, server;

  std::string_view id() const override { return "states"; }
  std::string_view title() const override { return "State machines"; }
  Slot slot() const override { return Slot::center; }
  bool open_by_default() const override { return false; }

  static void add_state(Machine& m, const std::string& s) {
    if (!s.empty() && std::find(m.states.begin(), m.states.end(), s) == m.states.end()) m.states.push_back(s);
  }

  void rebuild(const Controller& c) {
    built_for = c.generation();
    by_session.clear();
    client = {};
    server = {};
    for (const smtp::ServerStateInfo& i : smtp::server_states()) server.states.emplace_back(i.name);
    for (const smtp::ServerTransition& t : smtp::server_transitions())
      server.edges[{std::string(smtp::server_state_name(t.from)), std::string(smtp::server_state_name(t.to))}] =
          std::string(t.trigger);
    for (const smtp::ClientStateInfo& i : smtp::client_states()) client.states.emplace_back(i.name);
    std::map<uint64_t, std::map<std::string, std::string>> last;  // session -> role -> state
    const auto& recs = c.records();
    for (size_t i = 0; i < recs.size(); ++i) {
      const Record& r = recs[i];
      if (r.kind != Kind::smtp_state) continue;
      by_session[r.session].push_back(i);
      std::string role(r.attr("machine"));
      if (role.empty()) role = r.dst.empty() ? "server" : "client";
      Machine& m = role == "client" ? client : server;
      std::string to(r.attr("state"));
      if (to.empty()) to = std::string(r.attr("to"));
      std::string from(r.attr("prev"));
      if (from.empty()) from = last[r.session][role];
      add_state(m, from);
      add_state(m, to);
      if (!from.empty() && !to.empty()) {
        m.observed.insert({from, to});
        m.edges.emplace(std::make_pair(from, to), "");
      }
      last[r.session][role] = to;
    }
  }

  bool show_triggers = false;  // the current state's outgoing triggers are always labelled

  void draw_machine(const char* title, const Machine& m, const std::string& current, const Palette& p, ImVec2 size,
                    bool table_edges) {
    ImGui::TextUnformatted(title);
    ImVec2 o = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    const size_t n = m.states.size();
    if (!n) return;
    // States on a snake path in table order (left to right, then right to
    // left on the next row): the tables list a session's states in the
    // order it goes through them, so the main path reads like text.
    std::map<std::string, ImVec2> pos;
    const ImVec2 node(fs * 5.5f, fs * 1.5f);
    const int cols = std::max(2, static_cast<int>(size.x / (node.x * 1.35f)));
    const int rows = static_cast<int>((n + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols));
    const float cell_w = size.x / static_cast<float>(cols);
    const float cell_h = std::max(node.y * 1.6f, size.y / static_cast<float>(std::max(1, rows)));
    ImGui::Dummy(ImVec2(size.x, cell_h * static_cast<float>(rows)));
    for (size_t i = 0; i < n; ++i) {
      int r = static_cast<int>(i) / cols, col = static_cast<int>(i) % cols;
      if (r % 2) col = cols - 1 - col;
      pos[m.states[i]] = ImVec2(o.x + cell_w * (static_cast<float>(col) + 0.5f), o.y + cell_h * (static_cast<float>(r) + 0.5f));
    }
    for (const auto& [edge, trigger] : m.edges) {
      const auto& [a, b] = edge;
      ImVec2 pa = pos[a], pb = pos[b];
      if (a == b) continue;
      ImVec2 d(pb.x - pa.x, pb.y - pa.y);
      float len = std::sqrt(d.x * d.x + d.y * d.y);
      if (len < 1) continue;
      ImVec2 u(d.x / len, d.y / len);
      ImVec2 end(pb.x - u.x * fs * 1.1f, pb.y - u.y * fs * 1.1f);
      const bool taken = m.observed.count(edge) > 0;
      const bool unlisted = taken && trigger.empty() && table_edges;
      ImU32 col = unlisted ? p.fault : taken ? p.smtp : p.lifeline;
      // Offset sideways so a->b and b->a do not overlap.
      ImVec2 side(-u.y * fs * 0.25f, u.x * fs * 0.25f);
      ImVec2 s0(pa.x + side.x, pa.y + side.y), e0(end.x + side.x, end.y + side.y);
      dl->AddLine(s0, e0, col, taken ? 3.0f : 1.5f);
      dl->AddTriangleFilled(e0, ImVec2(e0.x - u.x * 10 - u.y * 5, e0.y - u.y * 10 + u.x * 5),
                            ImVec2(e0.x - u.x * 10 + u.y * 5, e0.y - u.y * 10 - u.x * 5), col);
      if (!trigger.empty() && (show_triggers || a == current)) {
        ImVec2 mid((s0.x + e0.x) / 2 + side.x, (s0.y + e0.y) / 2 + side.y);
        std::string_view t = widgets::fit(trigger, fs * 7);
        dl->AddText(ImGui::GetFont(), fs * 0.75f, mid, p.dim, t.data(), t.data() + t.size());
      }
    }
    for (const std::string& s : m.states)
      widgets::state_node(dl, pos[s], node, s, s == current, p);
  }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    if (built_for != c.generation()) rebuild(c);
    const Record* sel = c.selected_record();
    if (!sel) sel = c.cursor_record();
    uint64_t session = sel ? sel->session : 0;
    std::string cur_client, cur_server;
    if (auto it = by_session.find(session); session && it != by_session.end()) {
      for (size_t i : it->second) {
        if (i > c.cursor()) break;
        const Record& r = c.records()[i];
        std::string role(r.attr("machine"));
        if (role.empty()) role = r.dst.empty() ? "server" : "client";
        std::string st(r.attr("state"));
        if (st.empty()) st = std::string(r.attr("to"));
        (role == "client" ? cur_client : cur_server) = st;
      }
      ImGui::Text("Session %llu at the cursor: client in \"%s\", server in \"%s\"", static_cast<unsigned long long>(session),
                  cur_client.c_str(), cur_server.c_str());
    } else {
      ImGui::TextWrapped("Select an SMTP command or reply to highlight its session's states.");
    }
    ImGui::Checkbox("label every transition with its trigger (else only those leaving the current state)", &show_triggers);
    ImVec2 avail = ImGui::GetContentRegionAvail();
    float h = (avail.y - ImGui::GetTextLineHeightWithSpacing() * 2) * 0.5f;
    draw_machine("SMTP client (the sending side): states from its table, edges as taken in this run", client, cur_client,
                 ctx.colors(), ImVec2(avail.x, std::max(h, 80.0f)), false);
    draw_machine("SMTP server (the receiving side): states and transitions from its table; blue = taken", server,
                 cur_server, ctx.colors(), ImVec2(avail.x, std::max(h, 80.0f)), true);
  }
};

}  // namespace

std::unique_ptr<Panel> make_state_machines_panel() { return std::make_unique<StateMachinesPanel>(); }

}  // namespace smtplab::gui
