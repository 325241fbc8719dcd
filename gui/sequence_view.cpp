// gui/sequence_view.cpp: drawing the sequence diagram (see sequence_view.hpp).
#include "gui/sequence_view.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "gui/widgets.hpp"

namespace smtplab::gui {

ImU32 record_color(const Record& r, const Palette& p) {
  switch (r.layer()) {
    case Layer::smtp:
      if (r.kind == Kind::smtp_reply) {
        int c = reply_code(r);
        return c >= 500 ? p.reply_perm : c >= 400 ? p.reply_temp : p.reply_ok;
      }
      if (r.kind == Kind::smtp_error || r.kind == Kind::smtp_timeout) return p.fault;
      return p.smtp;
    case Layer::dns:
      return r.kind == Kind::dns_timeout ? p.fault : p.dns;
    case Layer::tcp:
    case Layer::net:
      if (is_failure(r)) return p.fault;
      return p.tcp;
    case Layer::pop3:
    case Layer::imap:
      return is_failure(r) ? p.reply_perm : p.pop3;
    case Layer::fault:
      return p.fault;
    case Layer::mail:
      return is_failure(r) ? p.reply_temp : p.note;
    case Layer::engine:
      return p.dim;
  }
  return p.text;
}

void SequenceView::sync(const RunView& run, uint64_t generation, const SeqFilter& filter) {
  const void* recs = run.index.size() ? &run.index.records() : nullptr;
  if (built_for == generation && built_records == recs && built_filter == filter) return;
  model.build(run.index, filter);
  built_for = generation;
  built_records = recs;
  built_filter = filter;
  last_cursor = ~size_t{0};  // re-reveal the cursor in the new run
}

void SequenceView::reveal(size_t record) {
  if (!model.size()) return;
  size_t item = std::min(model.item_of_record(record), model.size() - 1);
  if (vp.scale == TimeScale::rows) {
    double row = model.row_of(item);
    double rows_visible = vp.height / std::max(1.0, vp.row_px);
    if (row < vp.row_top + 1 || row > vp.row_top + rows_visible - 2) vp.row_top = std::max(-1.0, row - rows_visible * 0.6);
  } else {
    int64_t t = model.times()[item];
    int64_t span = static_cast<int64_t>(vp.height / std::max(1e-15, vp.px_per_us));
    if (t < vp.t_top || t > vp.t_top + span * 9 / 10) vp.t_top = std::max<int64_t>(0, t - span * 6 / 10);
  }
}

SequenceView::Result SequenceView::draw(const RunView& run, size_t cursor, uint64_t selected, ViewSettings& s,
                                        const Palette& p, ImVec2 size, bool interactive) {
  Result res;
  const TraceIndex& index = run.index;
  const float fs = ImGui::GetFontSize();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  ImVec2 origin = ImGui::GetCursorScreenPos();
  size.x = std::max(size.x, 100.0f);
  size.y = std::max(size.y, 4 * fs);
  const float header_h = fs * 2.5f;
  const float time_w = ImGui::CalcTextSize("00:00:00.000").x + fs * 0.5f;
  ImVec2 body0(origin.x, origin.y + header_h);
  ImVec2 body1(origin.x + size.x, origin.y + size.y);

  vp.scale = s.scale;
  vp.height = body1.y - body0.y;
  vp.row_px = std::max(0.02, static_cast<double>(s.row_height) * fs);
  vp.px_per_us = s.px_per_second * 1e-6;
  vp.min_px = std::max(4.0f, fs * 0.25f);

  const auto& lanes = index.lifelines();
  const int n_lanes = std::max<int>(1, static_cast<int>(lanes.size()));
  const float lane_w = (size.x - time_w) / static_cast<float>(n_lanes);
  auto lane_x = [&](int lane) { return origin.x + time_w + (static_cast<float>(lane) + 0.5f) * lane_w; };

  // Interaction first, so this frame already draws the new viewport.
  ImGui::SetCursorScreenPos(body0);
  ImGui::InvisibleButton("##seqbody", ImVec2(size.x, std::max(1.0f, vp.height)),
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  const bool hovered = interactive && ImGui::IsItemHovered();
  const bool active = interactive && ImGui::IsItemActive();
  const bool released = interactive && ImGui::IsItemDeactivated();
  ImGuiIO& io = ImGui::GetIO();
  const float my = io.MousePos.y - body0.y;
  if (hovered && io.MouseWheel != 0) {
    if (io.KeyCtrl) {  // zoom anchored at the mouse
      double f = std::pow(1.2, io.MouseWheel);
      if (vp.scale == TimeScale::rows) {
        double row_under = vp.row_top + my / vp.row_px;
        s.row_height = static_cast<float>(std::clamp(s.row_height * f, 0.02, 8.0));
        vp.row_px = std::max(0.02, static_cast<double>(s.row_height) * fs);
        vp.row_top = row_under - my / vp.row_px;
      } else {
        double t_under = static_cast<double>(vp.t_top) + my / vp.px_per_us;
        s.px_per_second = std::clamp(s.px_per_second * f, 1e-6, 1e7);
        vp.px_per_us = s.px_per_second * 1e-6;
        vp.t_top = static_cast<int64_t>(t_under - my / vp.px_per_us);
      }
    } else if (vp.scale == TimeScale::rows) {
      vp.row_top -= io.MouseWheel * 3;
    } else {
      vp.t_top -= static_cast<int64_t>(io.MouseWheel * 3 * fs / vp.px_per_us);
    }
  }
  if (active && (std::fabs(io.MouseDelta.y) > 0)) {
    dragging = dragging || std::fabs(ImGui::GetMouseDragDelta(0).y) > 3 || std::fabs(ImGui::GetMouseDragDelta(1).y) > 3;
    if (dragging) {
      if (vp.scale == TimeScale::rows) vp.row_top -= io.MouseDelta.y / vp.row_px;
      else vp.t_top -= static_cast<int64_t>(io.MouseDelta.y / vp.px_per_us);
    }
  }
  // Follow the cursor when it moves (playback, stepping, a click elsewhere).
  if (cursor != last_cursor && index.size()) {
    reveal(cursor);
    last_cursor = cursor;
  }
  if (vp.scale == TimeScale::rows) vp.row_top = std::clamp(vp.row_top, -1.0, std::max(0.0, model.total_rows() - 2));
  else vp.t_top = std::clamp<int64_t>(vp.t_top, -static_cast<int64_t>(fs / vp.px_per_us), std::max<int64_t>(0, index.end_time()));

  dl->PushClipRect(origin, body1, true);
  // Header: one label per lifeline, staggered on two rows so each may be
  // twice as wide as a lane; the role is in the tooltip and the topology.
  bool stagger = false;
  for (const Lifeline& l : lanes) stagger |= lanes.size() > 1 && ImGui::CalcTextSize(l.label.c_str()).x > lane_w - 6;
  for (int i = 0; i < static_cast<int>(lanes.size()); ++i) {
    float x = lane_x(i);
    const Lifeline& l = lanes[static_cast<size_t>(i)];
    const float max_w = stagger ? lane_w * 2 - 8 : lane_w - 6;
    float w = 0;
    std::string name(widgets::fit(l.label, max_w, &w));
    if (name.size() < l.label.size()) name += "...";
    float y = origin.y + 3 + ((stagger && i % 2) ? fs * 1.1f : (stagger ? 0 : fs * 0.55f));
    dl->AddRectFilled(ImVec2(x - w / 2 - 4, y - 1), ImVec2(x + w / 2 + 4, y + fs + 1), p.host_fill, 4);
    dl->AddText(ImVec2(x - w / 2, y), p.text, name.c_str());
    dl->AddLine(ImVec2(x, y + fs + 1), ImVec2(x, body1.y), p.lifeline, 1.5f);
    if (interactive && ImGui::IsMouseHoveringRect(ImVec2(x - w / 2 - 4, y), ImVec2(x + w / 2 + 4, y + fs))) {
      ImGui::SetTooltip("%s: %s%s", l.host.c_str(), role_name(l.host_role).c_str(),
                        l.role.empty() ? "" : (" (its SMTP " + l.role + " side)").c_str());
    }
  }
  dl->PopClipRect();
  dl->PushClipRect(body0, body1, true);

  items.clear();
  if (model.size()) items = layout_visible(model, index, vp);

  const std::vector<Record>& recs = index.records();
  const size_t sel_index = selected ? index.index_of_seq(selected) : index.size();
  // Cursor band: at the row of the current record (rows) or its time.
  if (index.size()) {
    float cy;
    if (vp.scale == TimeScale::rows) {
      size_t it = std::min(model.item_of_record(cursor + 1), model.size());
      // The band sits under the last item at or before the cursor.
      cy = it == 0 ? static_cast<float>(-vp.row_top * vp.row_px)
                   : static_cast<float>((model.row_of(it - 1) - vp.row_top) * vp.row_px);
      dl->AddRectFilled(ImVec2(body0.x, body0.y + cy - static_cast<float>(vp.row_px) * 0.5f),
                        ImVec2(body1.x, body0.y + cy + static_cast<float>(vp.row_px) * 0.5f), p.cursor);
    } else {
      cy = static_cast<float>(static_cast<double>(index.times()[cursor] - vp.t_top) * vp.px_per_us);
      dl->AddLine(ImVec2(body0.x, body0.y + cy), ImVec2(body1.x, body0.y + cy), p.cursor, 3);
    }
  }

  // Labels may run past their arrow, up to the right edge.
  const float label_w_max = std::max(lane_w * 1.6f, fs * 6);
  auto label_room = [&](float x_left) { return std::max(label_w_max, body1.x - x_left - fs); };
  float best_d = 1e9f;
  for (const SeqItem& it : items) {
    float y = body0.y + it.y;
    if (it.type == SeqItemType::gap) {
      widgets::gap_row(dl, body0.x + time_w, body1.x, y - static_cast<float>(vp.row_px) * 0.5f,
                       static_cast<float>(vp.row_px), p.gap, gap_label(it.gap_us));
      continue;
    }
    const Record& r = recs[it.record];
    const bool future = it.record > cursor;
    if (it.record == sel_index) {
      float h = static_cast<float>(std::max(vp.row_px, static_cast<double>(fs) * 1.2));
      dl->AddRectFilled(ImVec2(body0.x, y - h * 0.6f), ImVec2(body1.x, y + h * 0.4f), p.select);
    }
    if (it.type == SeqItemType::fold) {
      widgets::fold_mark(dl, body0.x + time_w, body1.x - 4, y, p.dim, it.count);
    } else {
      ImU32 col = record_color(r, p);
      if (future) col = (col & 0x00FFFFFF) | (0x50u << 24);
      // The time of the row, in the left column.
      if (vp.scale == TimeScale::rows && vp.row_px >= fs * 0.9) {
        std::string t = format_duration(r.t);
        std::string_view tv = widgets::fit(t, time_w - 4);
        dl->AddText(ImVec2(body0.x + 2, y - fs * 0.5f), future ? (p.dim & 0x00FFFFFF) | (0x70u << 24) : p.dim,
                    tv.data(), tv.data() + tv.size());
      }
      bool labels = vp.scale == TimeScale::proportional || vp.row_px >= fs * 1.05;
      std::string_view label = labels ? std::string_view(r.text) : std::string_view();
      if (it.type == SeqItemType::arrow) {
        float x0 = lane_x(it.from), x1 = lane_x(it.to);
        if (r.kind == Kind::segment_lost || r.kind == Kind::datagram_lost)
          widgets::lost_arrow(dl, x0, x1, y, col, future ? col : p.fault, label, label_room(std::min(x0, x1)));
        else {
          // Near the right edge, the label moves left so it is not cut.
          float lx = std::min(x0, x1) + fs * 0.4f;
          float tw = label.empty() ? 0 : ImGui::CalcTextSize(label.data(), label.data() + label.size()).x;
          lx = std::max(body0.x + time_w, std::min(lx, body1.x - tw - fs * 0.5f));
          widgets::arrow(dl, x0, x1, y, col, label, body1.x - lx - fs * 0.3f, r.kind == Kind::segment_retransmit, 2.0f, lx);
        }
      } else if (it.from >= 0) {
        widgets::note(dl, lane_x(it.from), y, col, label, label_room(lane_x(it.from)));
      } else {
        widgets::note(dl, body0.x + time_w + 6, y, col, label, label_w_max);
      }
    }
    if (hovered) {
      float d = std::fabs(io.MousePos.y - y + fs * 0.3f);
      if (d < best_d && d < std::max(fs * 0.7f, static_cast<float>(vp.row_px) * 0.5f)) {
        best_d = d;
        res.hovered = r.seq;
      }
    }
  }
  if (vp.scale == TimeScale::proportional) {
    // Time ticks at a round step.
    double span_s = vp.height / vp.px_per_us / 1e6;
    double step = std::pow(10.0, std::floor(std::log10(std::max(1e-6, span_s / 6))));
    for (double k = std::ceil(static_cast<double>(vp.t_top) / 1e6 / step) * step;
         k * 1e6 < static_cast<double>(vp.t_top) + vp.height / vp.px_per_us; k += step) {
      float y = body0.y + static_cast<float>((k * 1e6 - static_cast<double>(vp.t_top)) * vp.px_per_us);
      dl->AddLine(ImVec2(body0.x, y), ImVec2(body0.x + time_w * 0.3f, y), p.dim);
      std::string t = format_duration(from_seconds(k));
      dl->AddText(ImVec2(body0.x + 2, y + 1), p.dim, t.c_str());
    }
  }
  dl->PopClipRect();

  if (hovered && res.hovered) {
    size_t i = index.index_of_seq(res.hovered);
    if (i < index.size()) {
      const Record& r = recs[i];
      ImGui::BeginTooltip();
      ImGui::Text("%s  at %s", std::string(kind_name(r.kind)).c_str(), format_duration(r.t).c_str());
      ImGui::TextUnformatted(r.text.c_str());
      ImGui::TextDisabled("click: select and move the cursor here");
      ImGui::EndTooltip();
    }
  }
  if (released) {
    if (!dragging && res.hovered) res.clicked = res.hovered;
    dragging = false;
  }
  if (!model.size()) {
    const char* msg = index.size() ? "No records in the diagram with the current layer toggles." : "No run yet.";
    ImVec2 ts = ImGui::CalcTextSize(msg);
    dl->AddText(ImVec2(origin.x + (size.x - ts.x) / 2, body0.y + fs * 2), p.dim, msg);
  }
  ImGui::SetCursorScreenPos(ImVec2(origin.x, origin.y + size.y));
  return res;
}

}  // namespace smtplab::gui
