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
#include "gui/topology_layout.hpp"
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
    avail = ImVec2(std::max(avail.x, 50.0f), std::max(avail.y, 50.0f));
    const size_t n = hosts.size();
    // Boxes never overlap (topology_layout.hpp): the layout picks the rows
    // and the text scale at which every box fits its cell, the cloud in a
    // band of its own. Measured at scale 1, drawn at the chosen scale.
    const float fs1 = ImGui::GetFontSize();
    std::vector<TopoBoxSize> sizes;
    for (const Host* h : hosts)
      sizes.push_back({std::max(ImGui::CalcTextSize(h->name.c_str()).x, ImGui::CalcTextSize(subtitle(*h).c_str()).x) + fs1 * 0.8f,
                       fs1 * 2.3f});
    const float margin = 2;
    const TopoLayout lay = layout_topology(sizes, o.x + margin, o.y + margin, avail.x - 2 * margin, avail.y - 2 * margin, fs1);
    ImGui::SetWindowFontScale(lay.scale);
    ImGui::InvisibleButton("##topo", avail);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float fs = ImGui::GetFontSize();
    const ImVec2 center(lay.cloud.cx(), lay.cloud.cy());
    std::map<std::string, ImVec2> pos;
    std::map<std::string, ImVec2> box_size;
    pos[kInternet] = center;
    for (size_t i = 0; i < n; ++i) {
      const TopoRect& b = lay.boxes[i];
      pos[hosts[i]->name] = ImVec2(b.cx(), b.cy());
      box_size[hosts[i]->name] = ImVec2(b.x1 - b.x0, b.y1 - b.y0);
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
    // Hosts.
    for (const Host* h : hosts) {
      ImVec2 c0 = P(h->name);
      const ImVec2 box = box_size[h->name];
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
    // Placed before the loss counts (they make way for it), drawn after.
    std::vector<TopoRect> taken(lay.boxes);
    if (internet_used) taken.push_back(lay.cloud);
    const Record* flying = nullptr;
    TopoRect env, label_at;
    bool has_label = false;
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
        // From the sender's box edge to the receiver's, so the envelope
        // never sits on a host's name (not even when it has arrived).
        const float ew = fs * 1.6f, eh = ew * 0.65f;
        std::vector<ImVec2> path{P(r.src)};
        if (!direct) {
          // Through the cloud, off its word "internet" where there is room.
          const TopoRect via = cloud_crossing(lay.cloud, ImGui::CalcTextSize(kInternet).y, ew, eh, lay.boxes,
                                              TopoRect{o.x, o.y, o.x + avail.x, o.y + avail.y});
          path.push_back(ImVec2(via.cx(), via.cy()));
        }
        path.push_back(P(r.dst));
        auto leave_box = [&](ImVec2 c, ImVec2 toward, ImVec2 half) {
          const float dx = toward.x - c.x, dy = toward.y - c.y;
          const float len = std::sqrt(dx * dx + dy * dy);
          if (len < 1) return c;
          const float ux = dx / len, uy = dy / len;
          const float hx = half.x + ew * 0.5f + 2, hy = half.y + eh * 0.5f + 2;
          const float t = std::min({std::fabs(ux) > 1e-4f ? hx / std::fabs(ux) : 1e9f, std::fabs(uy) > 1e-4f ? hy / std::fabs(uy) : 1e9f, len * 0.5f});
          return ImVec2(c.x + ux * t, c.y + uy * t);
        };
        auto half_of = [&](const std::string& host) {
          auto b = box_size.find(host);
          return b == box_size.end() ? ImVec2(0, 0) : ImVec2(b->second.x * 0.5f, b->second.y * 0.5f);
        };
        path.front() = leave_box(path.front(), path[1], half_of(r.src));
        path.back() = leave_box(path.back(), path[path.size() - 2], half_of(r.dst));
        float seg = static_cast<float>(f) * static_cast<float>(path.size() - 1);
        size_t k = std::min(path.size() - 2, static_cast<size_t>(seg));
        float u = seg - static_cast<float>(k);
        ImVec2 e(path[k].x + (path[k + 1].x - path[k].x) * u, path[k].y + (path[k + 1].y - path[k].y) * u);
        // Its label beside it, on a backing, where it covers no host box;
        // shortened if need be; on hover only when there is no room at all.
        flying = &r;
        env = TopoRect{e.x - ew * 0.5f, e.y - eh * 0.5f, e.x + ew * 0.5f, e.y + eh * 0.5f};
        const TopoRect panel{o.x, o.y, o.x + avail.x, o.y + avail.y};
        const float full_w = ImGui::CalcTextSize(r.text.c_str()).x;
        has_label = place_label(env, full_w + 4, fs + 2, std::min(full_w + 4, fs * 5), taken, panel, &label_at);
        if (!has_label && internet_used) {  // over the cloud, never over a host
          std::vector<TopoRect> boxes_only(lay.boxes);
          has_label = place_label(env, full_w + 4, fs + 2, std::min(full_w + 4, fs * 5), boxes_only, panel, &label_at);
        }
        taken.push_back(env);
        if (has_label) taken.push_back(label_at);
      }
    }
    // Losses so far, per host pair, on their route (through the cloud when
    // not linked directly): the first point along it, from the middle out,
    // where the mark and its count cover no host box, the envelope, its label
    // or another count.
    for (auto& [pair, idx] : losses) {
      size_t lost = have_trace ? static_cast<size_t>(std::upper_bound(idx.begin(), idx.end(), cursor) - idx.begin()) : 0;
      if (!lost) continue;
      bool direct = false;
      for (auto& [a, b] : links)
        if ((a == pair.first && b == pair.second) || (a == pair.second && b == pair.first)) direct = true;
      const ImVec2 a = P(pair.first), b = P(pair.second);
      const ImVec2 mid = direct ? ImVec2((a.x + b.x) / 2, (a.y + b.y) / 2) : center;
      const std::string t = std::to_string(lost) + " lost";
      const float tw = ImGui::CalcTextSize(t.c_str()).x, r = fs * 0.35f;
      auto rect_at = [&](ImVec2 m) { return TopoRect{m.x - r - 1, m.y - fs * 0.5f, m.x + r + fs * 0.2f + tw, m.y + fs * 0.5f}; };
      ImVec2 m = mid;
      bool found = false;
      for (float u : {0.0f, 0.2f, -0.2f, 0.35f, -0.35f, 0.5f, -0.5f, 0.65f, -0.65f}) {
        const ImVec2 end = u >= 0 ? b : a;
        const ImVec2 q(mid.x + (end.x - mid.x) * std::fabs(u), mid.y + (end.y - mid.y) * std::fabs(u));
        const TopoRect rc = rect_at(q);
        if (std::none_of(taken.begin(), taken.end(), [&](const TopoRect& o) { return rc.overlaps(o); })) {
          m = q;
          found = true;
          break;
        }
      }
      // Nowhere free on the route: beside the cloud (or the middle of a
      // direct link), wherever that covers nothing.
      TopoRect near;
      const TopoRect around = direct ? TopoRect{mid.x - 1, mid.y - 1, mid.x + 1, mid.y + 1} : lay.cloud;
      const TopoRect whole = rect_at(ImVec2(0, 0));
      if (!found && place_label(around, whole.x1 - whole.x0, whole.y1 - whole.y0, whole.x1 - whole.x0, taken,
                                TopoRect{o.x, o.y, o.x + avail.x, o.y + avail.y}, &near))
        m = ImVec2(near.x0 + r + 1, near.cy());
      taken.push_back(rect_at(m));
      widgets::cross(dl, m, r, p.fault, 3);
      widgets::label(dl, ImVec2(m.x + r + fs * 0.2f, m.y - fs * 0.5f), p.fault, t, tw + 1);
      if (ImGui::IsMouseHoveringRect(ImVec2(m.x - r, m.y - r), ImVec2(m.x + r + tw, m.y + r)))
        ImGui::SetTooltip("%zu packet(s) lost between %s and %s so far", lost, pair.first.c_str(), pair.second.c_str());
    }
    if (flying) {
      widgets::envelope(dl, ImVec2(env.cx(), env.cy()), env.x1 - env.x0, p.envelope, IM_COL32(40, 40, 40, 255));
      if (has_label) widgets::label(dl, ImVec2(label_at.x0 + 2, label_at.y0 + 1), p.text, flying->text, label_at.x1 - label_at.x0 - 4);
      if (ImGui::IsMouseHoveringRect(ImVec2(env.x0, env.y0), ImVec2(env.x1, env.y1)))
        ImGui::SetTooltip("%s\n%s -> %s", flying->text.c_str(), flying->src.c_str(), flying->dst.c_str());
    }
    if (sc.hosts.empty()) ImGui::TextDisabled("No scenario.");
    ImGui::SetWindowFontScale(1.0f);
  }
};

}  // namespace

std::unique_ptr<Panel> make_topology_panel() { return std::make_unique<TopologyPanel>(); }

}  // namespace smtplab::gui
