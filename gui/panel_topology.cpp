// gui/panel_topology.cpp: hosts, links and domains; the current message
// travelling as an envelope; down hosts and links; losses.
//
// Everything drawn comes from the scenario (hosts, links, domains) and the
// trace up to the cursor (what is down, what was lost, what is in flight).
// Per run it indexes the few records that matter here, so a frame walks only
// those, never the whole trace.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>

#include "gui/panel.hpp"
#include "gui/sequence_model.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

constexpr const char* kInternet = "internet";

struct TopologyPanel final : Panel {
  uint64_t built_for = ~0ull;
  std::vector<size_t> state_records;   // host/link up/down, fault injected/cleared
  std::vector<size_t> message_records; // things travelling between hosts
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> losses;  // per host pair, sorted

  std::string_view id() const override { return "topology"; }
  std::string_view title() const override { return "Topology"; }
  Slot slot() const override { return Slot::left_top; }

  void rebuild(const Controller& c) {
    built_for = c.generation();
    state_records.clear();
    message_records.clear();
    losses.clear();
    const auto& recs = c.records();
    for (size_t i = 0; i < recs.size(); ++i) {
      const Record& r = recs[i];
      switch (r.kind) {
        case Kind::host_down: case Kind::host_up: case Kind::link_down: case Kind::link_up:
        case Kind::fault_injected: case Kind::fault_cleared:
          state_records.push_back(i);
          break;
        case Kind::segment_lost: case Kind::datagram_lost:
          losses[std::minmax(r.src, r.dst)].push_back(i);
          break;
        default:
          break;
      }
      if (is_message(r) && r.layer() != Layer::tcp && r.layer() != Layer::net) message_records.push_back(i);
    }
  }

  void draw(PanelContext& ctx) override {
    const Controller& c = ctx.ctl;
    const Scenario& sc = c.scenario();
    const Palette& p = ctx.colors();
    if (built_for != c.generation()) rebuild(c);
    const size_t cursor = c.cursor();
    const bool have_trace = c.size() > 0;

    // What is down at the cursor.
    std::set<std::string> hosts_down;
    std::set<std::pair<std::string, std::string>> links_down;
    auto fault_at = [&](std::string_view idx) -> const Fault* {
      size_t i = 0;
      for (char ch : idx) i = i * 10 + static_cast<size_t>(ch - '0');
      if (idx.empty()) return nullptr;
      if (i < sc.faults.size()) return &sc.faults[i];
      i -= sc.faults.size();
      return i < c.added_faults().size() ? &c.added_faults()[i] : nullptr;
    };
    for (size_t i : state_records) {
      if (!have_trace || i > cursor) break;
      const Record& r = c.records()[i];
      if (r.kind == Kind::host_down) hosts_down.insert(r.src);
      else if (r.kind == Kind::host_up) hosts_down.erase(r.src);
      else if (r.kind == Kind::link_down) links_down.insert(std::minmax(r.src, r.dst));
      else if (r.kind == Kind::link_up) links_down.erase(std::minmax(r.src, r.dst));
      else if (const Fault* f = fault_at(r.attr("fault"))) {
        bool on = r.kind == Kind::fault_injected;
        if (f->type == "host-down") on ? (void)hosts_down.insert(f->host) : (void)hosts_down.erase(f->host);
        if (f->type == "host-up" && on) hosts_down.erase(f->host);
        if (f->type == "link-down" && f->link.size() == 2) {
          auto k = std::minmax(f->link[0], f->link[1]);
          on ? (void)links_down.insert(k) : (void)links_down.erase(k);
        }
        if (f->type == "link-up" && on && f->link.size() == 2) links_down.erase(std::minmax(f->link[0], f->link[1]));
      }
    }

    std::vector<const Host*> hosts;
    for (const Host& h : sc.hosts) hosts.push_back(&h);
    auto subtitle = [](const Host& h) {
      if (!h.domains.empty()) return h.domains.front();
      if (h.role == HostRole::user_agent && !h.user.empty()) return h.user;
      return role_name(h.role);
    };
    ImVec2 o = ImGui::GetCursorScreenPos();
    ImVec2 avail = ImGui::GetContentRegionAvail();
    const size_t n = hosts.size();
    // Hosts in the scenario's order from left to right (senders left,
    // receivers right). Few hosts alternate between an upper and a lower
    // row, so each box may be twice as wide as the spacing, with the
    // internet in the middle; when that would cut names, they go in a grid
    // filled column by column, the internet between the first two rows. The
    // text shrinks (down to 60 %) until every box shows its whole name: a
    // cut host name says nothing to a student.
    float widest = 1;
    for (const Host* h : hosts)
      widest = std::max({widest, ImGui::CalcTextSize(h->name.c_str()).x, ImGui::CalcTextSize(subtitle(*h).c_str()).x});
    const float fs1 = ImGui::GetFontSize();
    const float pad = fs1 * 0.9f;
    const float zig_room = n <= 2 ? avail.x / 2 - fs1 : 2 * avail.x / static_cast<float>(std::max<size_t>(n, 1)) - pad;
    const bool zigzag = n <= 2 || zig_room >= (widest + pad) * 0.72f;
    const size_t cols = zigzag ? n : std::clamp<size_t>(static_cast<size_t>(avail.x / ((widest + pad) * 0.72f)), 1, n);
    const size_t rows = zigzag ? 2 : (n + cols - 1) / std::max<size_t>(cols, 1);
    const float room = zigzag ? zig_room : avail.x / static_cast<float>(std::max<size_t>(cols, 1)) - pad * 0.5f;
    ImGui::SetWindowFontScale(std::clamp(room / (widest + pad), 0.6f, 0.9f));
    ImGui::InvisibleButton("##topo", ImVec2(std::max(avail.x, 50.0f), std::max(avail.y, 50.0f)));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    const float row_top = o.y + fs * 1.4f, row_bottom = o.y + avail.y - fs * 1.5f;
    const float grid_dy = rows > 1 ? (row_bottom - row_top) / static_cast<float>(rows - 1) : 0;
    const ImVec2 center(o.x + avail.x * 0.5f, zigzag || rows < 2 ? o.y + avail.y * 0.52f : row_top + grid_dy * 0.5f);
    std::map<std::string, ImVec2> pos;
    std::map<std::string, float> box_w;
    pos[kInternet] = center;
    const float step = zigzag ? (n ? avail.x / static_cast<float>(n) : avail.x) : avail.x / static_cast<float>(cols);
    for (size_t i = 0; i < n; ++i) {
      const float w = std::max(ImGui::CalcTextSize(hosts[i]->name.c_str()).x, ImGui::CalcTextSize(subtitle(*hosts[i]).c_str()).x) + fs * 0.8f;
      box_w[hosts[i]->name] = w;
      float x, y;
      if (zigzag) {
        x = o.x + step * (static_cast<float>(i) + 0.5f);
        y = n <= 2 ? center.y : i % 2 == 0 ? row_bottom : row_top;
      } else {
        x = o.x + step * (static_cast<float>(i / rows) + 0.5f);
        y = row_top + grid_dy * static_cast<float>(i % rows);
      }
      // Boxes at the edges move inwards so they are never cut by the panel.
      x = std::clamp(x, o.x + w / 2 + 2, o.x + avail.x - w / 2 - 2);
      pos[hosts[i]->name] = ImVec2(x, y);
    }
    // Links: the explicit ones, and every other host to the internet.
    std::set<std::string> linked;
    std::vector<std::pair<std::string, std::string>> links;
    for (const Link& l : sc.links) {
      links.emplace_back(l.a, l.b);
      linked.insert(l.a);
      linked.insert(l.b);
    }
    for (const Host* h : hosts)
      if (!linked.count(h->name)) links.emplace_back(h->name, kInternet);
    auto P = [&](const std::string& name) { auto it = pos.find(name); return it == pos.end() ? center : it->second; };
    bool internet_used = false;
    for (auto& [a, b] : links) {
      bool down = links_down.count(std::minmax(a, b)) > 0;
      ImVec2 pa = P(a), pb = P(b);
      internet_used |= a == kInternet || b == kInternet;
      dl->AddLine(pa, pb, down ? p.fault : p.link, down ? 2.0f : 3.0f);
      if (down) {
        ImVec2 m((pa.x + pb.x) / 2, (pa.y + pb.y) / 2);
        widgets::cross(dl, m, fs * 0.5f, p.fault, 4);
        dl->AddText(ImVec2(m.x + fs * 0.6f, m.y - fs * 0.5f), p.fault, "link down");
      }
    }
    if (internet_used) {
      for (int k = 0; k < 5; ++k)
        dl->AddCircleFilled(ImVec2(center.x + (static_cast<float>(k) - 2) * fs * 0.9f, center.y + ((k % 2) ? -fs * 0.35f : fs * 0.1f)),
                            fs * 0.9f, p.host_fill);
      ImVec2 ts = ImGui::CalcTextSize(kInternet);
      dl->AddText(ImVec2(center.x - ts.x / 2, center.y - ts.y / 2), p.dim, kInternet);
    }
    // Losses so far, per host pair, at the middle of their route.
    for (auto& [pair, idx] : losses) {
      size_t lost = have_trace ? static_cast<size_t>(std::upper_bound(idx.begin(), idx.end(), cursor) - idx.begin()) : 0;
      if (!lost) continue;
      ImVec2 a = P(pair.first), b = P(pair.second);
      ImVec2 m((a.x + b.x) / 2, (a.y + b.y) / 2 + fs);
      widgets::cross(dl, m, fs * 0.35f, p.fault, 3);
      std::string t = std::to_string(lost) + " lost";
      dl->AddText(ImVec2(m.x + fs * 0.5f, m.y - fs * 0.5f), p.fault, t.c_str());
    }
    // Hosts.
    for (const Host* h : hosts) {
      ImVec2 c0 = P(h->name);
      const ImVec2 box(box_w[h->name], fs * 2.3f);
      std::string role = subtitle(*h);
      widgets::host_node(dl, c0, box, h->name, role, p.host_fill, p.text, hosts_down.count(h->name) > 0, p.host_down);
      if (ImGui::IsMouseHoveringRect(ImVec2(c0.x - box.x / 2, c0.y - box.y / 2), ImVec2(c0.x + box.x / 2, c0.y + box.y / 2))) {
        ImGui::BeginTooltip();
        ImGui::Text("%s (%s)", h->name.c_str(), role_name(h->role).c_str());
        for (const std::string& d : h->domains) ImGui::BulletText("domain %s", d.c_str());
        if (!h->user.empty()) ImGui::BulletText("user %s, submits to %s", h->user.c_str(), h->server.c_str());
        if (!h->description.empty()) ImGui::TextWrapped("%s", h->description.c_str());
        if (hosts_down.count(h->name)) ImGui::TextColored(ImVec4(1, 0.3f, 0.3f, 1), "DOWN at the cursor");
        ImGui::EndTooltip();
      }
    }
    // The message in flight: the last exchange at or before the cursor.
    if (have_trace && !message_records.empty()) {
      auto it = std::upper_bound(message_records.begin(), message_records.end(), cursor);
      if (it != message_records.begin()) {
        size_t i = *std::prev(it);
        const Record& r = c.records()[i];
        int64_t t0 = r.t.us;
        int64_t t1 = it != message_records.end() ? c.records()[*it].t.us : t0;
        // Travels during the gap to the next exchange, at most 1 s of sim time
        // per hop so it is visible at any speed.
        double f = t1 > t0 ? std::clamp(static_cast<double>(c.now() - t0) / static_cast<double>(std::min<int64_t>(t1 - t0, 1'000'000)), 0.0, 1.0) : 1.0;
        bool direct = false;
        for (auto& [a, b] : links)
          if ((a == r.src && b == r.dst) || (a == r.dst && b == r.src)) direct = true;
        std::vector<ImVec2> path{P(r.src)};
        if (!direct) path.push_back(center);
        path.push_back(P(r.dst));
        float seg = static_cast<float>(f) * static_cast<float>(path.size() - 1);
        size_t k = std::min(path.size() - 2, static_cast<size_t>(seg));
        float u = seg - static_cast<float>(k);
        ImVec2 e(path[k].x + (path[k + 1].x - path[k].x) * u, path[k].y + (path[k + 1].y - path[k].y) * u);
        widgets::envelope(dl, e, fs * 1.6f, p.envelope, IM_COL32(40, 40, 40, 255));
        const float lx = std::clamp(e.x - fs, o.x + 2, o.x + avail.x * 0.5f);
        widgets::label(dl, ImVec2(lx, e.y + fs * 0.7f), p.text, r.text, o.x + avail.x - lx - 4);
      }
    }
    if (sc.hosts.empty()) ImGui::TextDisabled("No scenario.");
    ImGui::SetWindowFontScale(1.0f);
  }
};

}  // namespace

std::unique_ptr<Panel> make_topology_panel() { return std::make_unique<TopologyPanel>(); }

}  // namespace smtplab::gui
