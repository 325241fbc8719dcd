// gui/sequence_view.cpp: drawing the sequence diagram (see sequence_view.hpp).
#include "gui/sequence_view.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <string>

#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {
// A lifeline's role in a lane too narrow for role_name().
std::string short_role(HostRole r) {
  switch (r) {
    case HostRole::user_agent: return "UA";
    case HostRole::mail_server: return "MTA";
    case HostRole::dns_server: return "DNS";
    case HostRole::router: return "router";
  }
  return "?";
}
}  // namespace

ImU32 fate_color(const RecipientFate& f, const Palette& p) {
  return fate_color(f.state, f.deliveries.size(), f.cut.has_value(), p);
}

ImU32 fate_color(FateState state, size_t deliveries, bool cut, const Palette& p) {
  switch (state) {
    case FateState::delivered: return deliveries == 1 && !cut ? p.reply_ok : p.reply_temp;  // a duplicate, a cut body
    case FateState::bounced:
    case FateState::refused:
    case FateState::gave_up:
    case FateState::discarded: return p.reply_perm;
    default: return p.reply_temp;
  }
}

uint64_t fate_text(const RecipientFate& f, const Palette& p, bool clickable) {
  ImGui::PushID(f.address.c_str());
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::ColorConvertU32ToFloat4(fate_color(f, p)));
  ImGui::TextWrapped("%s: %s", f.address.c_str(), describe(f).c_str());
  ImGui::PopStyleColor();
  const bool clicked = clickable && f.record && ImGui::IsItemClicked();
  if (clickable && f.record && ImGui::IsItemHovered()) ImGui::SetTooltip("click: select the record that decided it");
  if (std::string n = describe_notice(f); !n.empty()) {
    ImGui::Indent();
    widgets::text_wrapped_disabled(n.c_str());
    ImGui::Unindent();
  }
  ImGui::PopID();
  return clicked ? f.record : 0;
}

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

void SequenceView::sync_chain(const RunView& run, uint64_t generation, uint64_t selected) {
  if (chain_sel == selected && chain_gen == generation) return;
  chain_sel = selected;
  chain_gen = generation;
  chain.clear();
  if (!selected || !run.run) return;
  for (const Record* r : run.run->trace.cause_chain(selected)) {
    size_t i = run.index.index_of_seq(r->seq);
    if (i < run.index.size()) chain.push_back(i);
  }
  std::reverse(chain.begin(), chain.end());  // root first: the story in order
}

void SequenceView::reveal(size_t record) {
  if (!model.size()) return;
  // The last item at or before the record, where the cursor band is drawn
  // (the first one after it may be minutes later when the record itself is
  // hidden, e.g. a TCP retry with the TCP layer off).
  size_t item = model.item_of_record(record + 1);
  item = std::min(item > 0 ? item - 1 : 0, model.size() - 1);
  if (vp.scale == TimeScale::rows) {
    double row = model.row_of(item);
    double rows_visible = vp.height / std::max(1.0, vp.row_px);
    if (row < vp.row_top + 1.5 || row > vp.row_top + rows_visible - 2) vp.row_top = std::max(-1.0, row - rows_visible * 0.6);
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
  const float time_w = ImGui::CalcTextSize("00:00:00.000").x + fs * 0.5f;
  const auto& lanes = index.lifelines();
  const int n_lanes = std::max<int>(1, static_cast<int>(lanes.size()));
  const float lane_w = (size.x - time_w) / static_cast<float>(n_lanes);
  auto lane_x = [&](int lane) { return origin.x + time_w + (static_cast<float>(lane) + 0.5f) * lane_w; };
  float widest = 1;
  for (const Lifeline& l : lanes) widest = std::max(widest, ImGui::CalcTextSize(l.host.c_str()).x);
  float name_fs = fs * std::min(1.0f, (lane_w - 8) / widest);
  const bool hdr_stagger = lanes.size() > 1 && name_fs < fs * 0.8f;
  if (hdr_stagger) name_fs = fs * std::clamp((lane_w * 2 - 10) / widest, 0.7f, 1.0f);
  name_fs = std::max(name_fs, fs * 0.7f);
  const float role_fs = fs * 0.78f;
  const float header_h = name_fs * (hdr_stagger ? 2.3f : 1.15f) + role_fs + 8;
  ImVec2 body0(origin.x, origin.y + header_h);
  ImVec2 body1(origin.x + size.x, origin.y + size.y);

  vp.scale = s.scale;
  vp.height = body1.y - body0.y;
  vp.row_px = std::max(0.02, static_cast<double>(s.row_height) * fs);
  vp.px_per_us = s.px_per_second * 1e-6;
  vp.min_px = std::max(4.0f, fs * 0.25f);

  body_min = body0;
  body_max = body1;
  lanes_x = origin.x + time_w;
  this->lane_w = lane_w;
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
  // Switched to the proportional scale (or opened in it): if the events
  // around the cursor would fold into grey bars at the saved zoom (40 px a
  // second puts a 20 ms hop under a pixel), zoom in until they are a line
  // of text apart, and put the cursor a third of the way down.
  if (vp.scale == TimeScale::proportional && last_scale != TimeScale::proportional && model.size() && index.size()) {
    size_t item = model.item_of_record(cursor + 1);
    item = std::min(item > 0 ? item - 1 : 0, model.size() - 1);
    const double line_px = fs * 1.3;
    const auto around = static_cast<size_t>(std::max(4.0, static_cast<double>(vp.height) / line_px / 2));
    const double want = readable_px_per_us(model, item, around, line_px);
    if (want > vp.px_per_us) {
      s.px_per_second = std::clamp(want * 1e6, 1e-6, 1e7);
      vp.px_per_us = s.px_per_second * 1e-6;
    }
    vp.t_top = model.times()[item] - static_cast<int64_t>(vp.height / 3 / vp.px_per_us);
    last_cursor = cursor;
  }
  last_scale = vp.scale;
  // Follow the cursor when it moves (playback, stepping, a click elsewhere).
  if (cursor != last_cursor && index.size()) {
    reveal(cursor);
    last_cursor = cursor;
  }
  if (vp.scale == TimeScale::rows) vp.row_top = std::clamp(vp.row_top, -1.0, std::max(0.0, model.total_rows() - 2));
  else vp.t_top = std::clamp<int64_t>(vp.t_top, -static_cast<int64_t>(fs / vp.px_per_us), std::max<int64_t>(0, index.end_time()));

  dl->PushClipRect(origin, body1, true);
  // Header: each lifeline's host name, and under it what it is (a relay's
  // two lifelines say which side they are). Names shrink a little to fit
  // their lane; when even that is not enough they alternate on two rows, so
  // each may be twice as wide as a lane.
  ImFont* font = ImGui::GetFont();
  auto text_w = [&](const std::string& t, float size) { return font->CalcTextSizeA(size, FLT_MAX, 0, t.c_str()).x; };
  for (int i = 0; i < static_cast<int>(lanes.size()); ++i) {
    float x = lane_x(i);
    const Lifeline& l = lanes[static_cast<size_t>(i)];
    const float max_w = hdr_stagger ? lane_w * 2 - 10 : lane_w - 8;
    std::string name = l.host;
    if (text_w(name, name_fs) > max_w) {
      while (!name.empty() && text_w(name + "...", name_fs) > max_w) name.pop_back();
      name += "...";
    }
    const float w = text_w(name, name_fs);
    const float y = origin.y + 2 + ((hdr_stagger && i % 2) ? name_fs * 1.15f : 0);
    dl->AddRectFilled(ImVec2(x - w / 2 - 4, y - 1), ImVec2(x + w / 2 + 4, y + name_fs + 1), p.host_fill, 4);
    dl->AddText(font, name_fs, ImVec2(x - w / 2, y), p.text, name.c_str());
    // Narrow lanes (a chain of relays) take the short form before cutting:
    // "server" for "server side", "MTA" for "mail-server". The tooltip says
    // it in full.
    std::string role = l.role.empty() ? role_name(l.host_role) : l.role + " side";
    if (text_w(role, role_fs) > lane_w - 4) role = l.role.empty() ? short_role(l.host_role) : l.role;
    if (text_w(role, role_fs) > lane_w - 4) {
      while (!role.empty() && text_w(role + "..", role_fs) > lane_w - 4) role.pop_back();
      role += "..";
    }
    const float rw = text_w(role, role_fs);
    const float ry = origin.y + header_h - role_fs - 4;
    dl->AddText(font, role_fs, ImVec2(x - rw / 2, ry), l.role.empty() ? p.dim : p.smtp, role.c_str());
    dl->AddLine(ImVec2(x, y + name_fs + 1), ImVec2(x, ry - 1), p.lifeline, 1.5f);
    dl->AddLine(ImVec2(x, ry + role_fs + 1), ImVec2(x, body1.y), p.lifeline, 1.5f);
    if (interactive && ImGui::IsMouseHoveringRect(ImVec2(x - lane_w / 2, origin.y), ImVec2(x + lane_w / 2, body0.y))) {
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
  // The item that draws the selection (a loss draws as its packet's arrow),
  // and the items of its cause chain: their place in the story, root = 1.
  const size_t sel_item = sel_index < index.size() ? model.item_drawing(sel_index) : model.size();
  sync_chain(run, built_for, selected);
  std::vector<std::pair<size_t, int>> chain_items;  // (item, step number)
  // A long chain (TCP segments each caused by the one before) would paint
  // the whole diagram: show its root and the steps nearest the selection.
  constexpr size_t kChainShown = 12;
  for (size_t k = 0; k < chain.size(); ++k) {
    if (k > 0 && k + kChainShown < chain.size()) continue;
    size_t it = model.item_drawing(chain[k]);
    // Numbered back from the selection: 1 is its direct cause, the root the highest.
    if (it < model.size() && chain[k] != sel_index) chain_items.emplace_back(it, static_cast<int>(chain.size() - 1 - k));
  }
  std::sort(chain_items.begin(), chain_items.end());
  auto chain_step = [&](size_t item) {
    auto c = std::lower_bound(chain_items.begin(), chain_items.end(), std::make_pair(item, 0));
    return c != chain_items.end() && c->first == item ? c->second : 0;
  };
  // Future records stay readable (a projector washes out faint strokes) but
  // are clearly lighter than the past.
  const ImU32 future_alpha = s.theme == Theme::light ? 0x78u : 0x68u;
  auto faded = [&](ImU32 c) { return (c & 0x00FFFFFF) | (future_alpha << 24); };
  float best_d = 1e9f;
  const SeqItem* plus_hovered = nullptr;  // the "+N" under the mouse
  float prev_chain_y = NAN;
  float last_badge_y = -1e9f;
  const float gutter_x = body0.x + time_w - fs * 0.55f;
  // Proportional scale: items closer than a line of text would print their
  // labels over each other. The selection always keeps its label; a step of
  // its cause chain keeps one where it does not cover the selection's or an
  // earlier step's; any other item where it covers no label at all. The
  // others show theirs on hover (and in the event list). Rows are one label
  // each by construction.
  const float line_h = fs * 1.05f;
  // Where a label's line starts: above an arrow, centred on a note's dot.
  auto label_top = [&](const SeqItem& it) { return it.type == SeqItemType::note ? it.y - fs * 0.5f : it.y - fs - 2; };
  float sel_y = NAN;
  std::vector<float> chain_y;  // labels only the selection may cover
  if (vp.scale == TimeScale::proportional)
    for (const SeqItem& it : items)
      if (it.type == SeqItemType::arrow || it.type == SeqItemType::note) {
        const size_t pos = model.item_drawing(it.record);
        if (pos >= model.size()) continue;
        if (pos == sel_item) sel_y = label_top(it);
        else if (chain_step(pos)) chain_y.push_back(label_top(it));
      }
  float last_label_y = -1e9f, last_plus_y = -1e9f;
  enum class Rank { plain, chain, selection };
  auto label_fits = [&](float y, Rank rank) {  // y: the label's top
    if (vp.scale != TimeScale::proportional) return vp.row_px >= fs * 1.05;
    auto near = [&](float other) { return std::fabs(other - y) < line_h; };  // false for NAN
    if (rank != Rank::selection) {
      if (std::fabs(y - last_label_y) < line_h || near(sel_y)) return false;
      if (rank == Rank::plain && std::any_of(chain_y.begin(), chain_y.end(), near)) return false;
    }
    last_label_y = std::max(last_label_y, y);
    return true;
  };
  for (const SeqItem& it : items) {
    float y = body0.y + it.y;
    if (it.type == SeqItemType::gap) {
      widgets::gap_row(dl, body0.x + time_w, body1.x, y - static_cast<float>(vp.row_px) * 0.5f,
                       static_cast<float>(vp.row_px), p.gap, gap_label(it.gap_us));
      continue;
    }
    const Record& r = recs[it.record];
    const size_t item_pos = it.type == SeqItemType::fold ? model.size() : model.item_drawing(it.record);
    const bool future = it.record > cursor;
    const float band_h = static_cast<float>(std::max(vp.row_px, static_cast<double>(fs) * 1.2));
    if (const int step = item_pos < model.size() ? chain_step(item_pos) : 0) {
      // The cause chain: an orange band, its step number in the gutter, and
      // a thread from each cause down to what it caused.
      dl->AddRectFilled(ImVec2(body0.x, y - band_h * 0.6f), ImVec2(body1.x, y + band_h * 0.4f), p.cause);
      if (prev_chain_y == prev_chain_y) dl->AddLine(ImVec2(gutter_x, prev_chain_y + fs * 0.45f), ImVec2(gutter_x, y - fs * 0.45f), p.reply_temp, 2.5f);
      prev_chain_y = y;
      const float rad = fs * 0.45f;
      // Steps closer than a badge (thin rows, one instant in the
      // proportional scale) share the first one's badge; their bands and
      // the thread still show each.
      if (y - last_badge_y >= 2 * rad) {
        last_badge_y = y;
        char num[16];
        std::snprintf(num, sizeof num, "%d", step);
        const float nfs = fs * 0.8f;
        const ImVec2 ns = ImGui::GetFont()->CalcTextSizeA(nfs, FLT_MAX, 0, num);
        dl->AddRectFilled(ImVec2(gutter_x - std::max(rad, ns.x * 0.5f + 3), y - rad),
                          ImVec2(gutter_x + std::max(rad, ns.x * 0.5f + 3), y + rad), p.reply_temp, rad);
        dl->AddText(ImGui::GetFont(), nfs, ImVec2(gutter_x - ns.x * 0.5f, y - ns.y * 0.5f), IM_COL32(0, 0, 0, 255), num);
      }
    }
    if (item_pos == sel_item && sel_item < model.size()) {
      dl->AddRectFilled(ImVec2(body0.x, y - band_h * 0.6f), ImVec2(body1.x, y + band_h * 0.4f), p.select);
    }
    if (it.type == SeqItemType::fold && it.beside) {
      // The rest of a crowd whose arrows are drawn: "+N" at the right edge.
      if (it.y - last_plus_y >= line_h) {
        last_plus_y = it.y;
        const std::string more = "+" + std::to_string(it.count);
        const ImVec2 ts = ImGui::CalcTextSize(more.c_str());
        const ImVec2 at(body1.x - ts.x - 4, y - ts.y * 0.5f);
        dl->AddText(at, p.dim, more.c_str());
        if (hovered && ImGui::IsMouseHoveringRect(ImVec2(at.x - 4, at.y), ImVec2(body1.x, at.y + ts.y))) {
          plus_hovered = &it;
          best_d = 0;  // nothing nearer
          for (size_t b = 0; b < 8; ++b)
            if (it.rest >> b & 1u) {
              res.hovered = recs[model.items()[it.first_item + b]].seq;
              break;
            }
        }
      }
    } else if (it.type == SeqItemType::fold) {
      widgets::fold_mark(dl, body0.x + time_w, body1.x - 4, y, p.dim,
                         label_fits(it.y - fs - 1, Rank::plain) ? it.count : 0);
    } else {
      ImU32 col = record_color(r, p);
      if (future) col = faded(col);
      // The time of the row, in the left column.
      if (vp.scale == TimeScale::rows && vp.row_px >= fs * 0.9 && it.y >= 0) {
        std::string t = format_duration(r.t);
        std::string_view tv = widgets::fit(t, time_w - fs * 1.1f);
        dl->AddText(ImVec2(body0.x + 2, y - fs * 0.5f), future ? faded(p.dim) : p.dim, tv.data(), tv.data() + tv.size());
      }
      const bool labels = label_fits(label_top(it), item_pos == sel_item   ? Rank::selection
                                           : chain_step(item_pos) ? Rank::chain
                                                                  : Rank::plain);
      std::string_view label = labels ? diagram_label(r) : std::string_view();
      if (it.type == SeqItemType::arrow) {
        const float x0 = lane_x(it.from), x1 = lane_x(it.to);
        const float y1 = body0.y + std::max(it.y_end, it.y);
        const bool dashed = r.kind == Kind::segment_retransmit;
        // Near the right edge, the label moves left so it is not cut.
        float lx = std::min(x0, x1) + fs * 0.4f;
        float tw = label.empty() ? 0 : ImGui::CalcTextSize(label.data(), label.data() + label.size()).x;
        lx = std::max(body0.x + time_w, std::min(lx, body1.x - tw - fs * 0.5f));
        if (it.fate == Fate::lost) {
          // Lost on the way: the line stops where it was lost, under a cross.
          const ImVec2 end(x0 + (x1 - x0) * it.end_frac, y1);
          const ImU32 lost_col = future ? faded(p.fault) : p.fault;
          widgets::lost_flight(dl, ImVec2(x0, y), end, col, lost_col, dashed);
          if (!label.empty()) widgets::label(dl, ImVec2(lx, y - fs - 2), lost_col, label, body1.x - lx - fs * 0.3f);
        } else if (it.fate == Fate::undelivered) {
          // Its bytes went out but never all arrived: flat and dashed at its
          // send time, crossed out at the receiver.
          const ImU32 lost_col = future ? faded(p.fault) : p.fault;
          widgets::lost_flight(dl, ImVec2(x0, y), ImVec2(x1, y), col, lost_col, true);
          if (!label.empty()) widgets::label(dl, ImVec2(lx, y - fs - 2), col, label, body1.x - lx - fs * 0.3f);
        } else {
          widgets::flight(dl, ImVec2(x0, y), ImVec2(x1, y1), col, dashed);
          if (!label.empty()) widgets::label(dl, ImVec2(lx, y - fs - 2), col, label, body1.x - lx - fs * 0.3f);
        }
        if (hovered) {
          // Distance to the arrow itself, or to its label's line.
          const ImVec2 m = io.MousePos;
          const float dx = x1 - x0, dy = y1 - y, len2 = std::max(1.0f, dx * dx + dy * dy);
          const float u = std::clamp(((m.x - x0) * dx + (m.y - y) * dy) / len2, 0.0f, 1.0f);
          const float ex = x0 + u * dx - m.x, ey = y + u * dy - m.y;
          float d = std::sqrt(ex * ex + ey * ey);
          if (m.x >= lx && m.x <= lx + tw) d = std::min(d, std::fabs(m.y - (y - fs * 0.5f)));
          if (d < best_d && d < std::max(fs * 0.7f, static_cast<float>(vp.row_px) * 0.5f)) {
            best_d = d;
            const uint32_t loss = it.fate == Fate::lost && item_pos < model.size() ? model.loss_record(item_pos) : ~0u;
            res.hovered = loss != ~0u ? recs[loss].seq : r.seq;
          }
        }
        continue;
      } else if (it.from >= 0) {
        // Up to the panel's edge on the right; on the rightmost lanes a
        // long label goes left of its dot instead (widgets::note).
        const float x = lane_x(it.from), left0 = body0.x + time_w + 6;
        widgets::note(dl, x, y, col, label, std::max(0.0f, body1.x - x - fs), x - left0);
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
  // Causes above the view: say so, and a click scrolls to the root cause.
  if (!chain_items.empty() && !items.empty()) {
    size_t above = 0;
    const size_t first_shown = items.front().type == SeqItemType::gap ? model.item_of_record(items.front().record)
                                                                       : model.item_drawing(items.front().record);
    for (const auto& c : chain_items) above += c.first < first_shown ? 1 : 0;
    if (above) {
      // Above the time column, in the header's empty corner: over the
      // body it hid the top row's label.
      const std::string hint = "^ " + std::to_string(above) + (above == 1 ? " cause" : " causes");
      const ImVec2 ts = ImGui::CalcTextSize(hint.c_str());
      const ImVec2 a(body0.x + 2, body0.y - ts.y - 6), b(a.x + ts.x + fs * 0.6f, a.y + ts.y + 4);
      dl->PushClipRect(origin, body1, false);  // the body's clip would hide it
      dl->AddRectFilled(a, b, p.reply_temp, 4);
      dl->AddText(ImVec2(a.x + fs * 0.3f, a.y + 2), IM_COL32(0, 0, 0, 255), hint.c_str());
      dl->PopClipRect();
      if (interactive && ImGui::IsMouseHoveringRect(a, b)) {
        res.hovered = 0;
        ImGui::SetTooltip("%zu earlier %s of the selected record, above the view; click: scroll up to the first "
                          "(the selection stays)",
                          above, above == 1 ? "cause" : "causes");
        if (ImGui::IsMouseClicked(0)) {
          const size_t root = chain_items.front().first;
          if (vp.scale == TimeScale::rows) vp.row_top = std::max(-1.0, model.row_of(root) - 1.5);
          else vp.t_top = model.times()[root] - static_cast<int64_t>(fs * 1.5 / vp.px_per_us);
          scrolled_to_cause = true;
          hint_pressed = true;  // this press scrolls; its release selects nothing
        }
      }
    }
  }
  if (vp.scale == TimeScale::proportional) {
    // Time ticks at a round step (1, 2 or 5 x 10^k), never closer than two
    // lines of text, so their labels do not overprint each other.
    const double min_step_s = fs * 2.2 / vp.px_per_us / 1e6;
    double step = std::pow(10.0, std::floor(std::log10(std::max(1e-6, min_step_s))));
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (step * m >= min_step_s) {
        step *= m;
        break;
      }
    for (double k = std::ceil(static_cast<double>(vp.t_top) / 1e6 / step) * step;
         k * 1e6 < static_cast<double>(vp.t_top) + vp.height / vp.px_per_us; k += step) {
      float y = body0.y + static_cast<float>((k * 1e6 - static_cast<double>(vp.t_top)) * vp.px_per_us);
      dl->AddLine(ImVec2(body0.x, y), ImVec2(body0.x + time_w * 0.3f, y), p.dim);
      std::string t = format_duration(from_seconds(k));
      dl->AddText(ImVec2(body0.x + 2, y + 1), p.dim, t.c_str());
    }
  }
  dl->PopClipRect();

  if (hovered && plus_hovered) {
    // What the "+N" stands for, one line each; a click selects the first.
    ImGui::BeginTooltip();
    ImGui::Text("%u more record(s) within a few pixels of these arrows:", plus_hovered->count);
    for (size_t b = 0; b < 8; ++b) {
      if (!(plus_hovered->rest >> b & 1u)) continue;
      const Record& r = recs[model.items()[plus_hovered->first_item + b]];
      std::string line = std::string(kind_name(r.kind)) + "  " + format_duration(r.t) + "  ";
      line += r.text.size() > 90 ? r.text.substr(0, 87) + "..." : r.text;
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(record_color(r, p)), "%s", line.c_str());
    }
    ImGui::TextDisabled("click: select the first; zoom in (Ctrl + wheel) to see them apart");
    ImGui::EndTooltip();
  } else if (hovered && res.hovered) {
    size_t i = index.index_of_seq(res.hovered);
    if (i < index.size()) {
      const Record& r = recs[i];
      ImGui::BeginTooltip();
      ImGui::Text("%s  at %s", std::string(kind_name(r.kind)).c_str(), format_duration(r.t).c_str());
      ImGui::TextUnformatted(r.text.c_str());
      const size_t item = model.item_drawing(i);
      if (item < model.size() && r.layer() != Layer::tcp && r.layer() != Layer::net) {
        if (model.fate(item) == Fate::delivered)
          ImGui::TextDisabled("arrived at %s (%s on the way)", format_duration(SimTime{model.end_time(item)}).c_str(),
                              format_duration(SimTime{model.end_time(item) - model.times()[item]}).c_str());
        else if (model.fate(item) == Fate::undelivered)
          ImGui::TextColored(ImVec4(1, 0.35f, 0.35f, 1), "never arrived: its bytes were lost or the peer was gone");
      }
      ImGui::TextDisabled("click: select and move the cursor here");
      ImGui::EndTooltip();
    }
  }
  if (released) {
    if (!dragging && !hint_pressed && res.hovered) res.clicked = res.hovered;
    dragging = false;
    hint_pressed = false;
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
