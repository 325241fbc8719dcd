// gui/panel_events.cpp: every trace record in a table, filterable by layer,
// host and kind/text. ImGuiListClipper submits only the visible rows, so a
// million records scroll as smoothly as ten. Selecting a row selects the
// record everywhere (diagram, inspector) and moves the cursor there.
#include "gui/panel_events.hpp"

#include <imgui.h>

#include <algorithm>
#include <memory>

#include "gui/sequence_view.hpp"

namespace smtplab::gui {

namespace {
bool contains_ci(std::string_view hay, std::string_view needle) {
  if (needle.empty()) return true;
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(),
                        [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); });
  return it != hay.end();
}
}  // namespace

void EventsPanel::refilter(const Controller& c, const ViewSettings& s) {
  const void* recs = c.size() ? &c.records() : nullptr;
  uint32_t mask = s.layer_mask & ((1u << kLayerCount) - 1);
  if (built_for == c.generation() && built_records == recs && built_mask == mask && built_host == s.host_filter &&
      built_text == s.text_filter)
    return;
  built_for = c.generation();
  built_records = recs;
  built_mask = mask;
  built_host = s.host_filter;
  built_text = s.text_filter;
  last_cursor = ~size_t{0};
  rows.clear();
  all_rows = mask == (1u << kLayerCount) - 1 && s.host_filter.empty() && s.text_filter.empty();
  if (all_rows || !recs) return;
  const auto& all = c.records();
  for (size_t i = 0; i < all.size(); ++i) {
    const Record& r = all[i];
    if (!((mask >> static_cast<unsigned>(r.layer())) & 1u)) continue;
    if (!s.host_filter.empty() && r.src != s.host_filter && r.dst != s.host_filter) continue;
    if (!s.text_filter.empty() && !contains_ci(kind_name(r.kind), s.text_filter) && !contains_ci(r.text, s.text_filter))
      continue;
    rows.push_back(static_cast<uint32_t>(i));
  }
}

void EventsPanel::draw(PanelContext& ctx) {
  const Controller& c = ctx.ctl;
  ViewSettings& s = ctx.settings;
  const Palette& p = ctx.colors();
  // Filters.
  for (int l = 0; l < kLayerCount; ++l) {
    if (l) ImGui::SameLine();
    bool on = (s.layer_mask >> l) & 1u;
    std::string name(layer_name(static_cast<Layer>(l)));
    if (ImGui::Checkbox(name.c_str(), &on)) s.layer_mask = on ? (s.layer_mask | (1u << l)) : (s.layer_mask & ~(1u << l));
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 9);
  if (ImGui::BeginCombo("host", s.host_filter.empty() ? "(every host)" : s.host_filter.c_str())) {
    if (ImGui::Selectable("(every host)", s.host_filter.empty())) s.host_filter.clear();
    for (const std::string& h : c.index().hosts())
      if (ImGui::Selectable(h.c_str(), s.host_filter == h)) s.host_filter = h;
    ImGui::EndCombo();
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s", s.text_filter.c_str());
  if (ImGui::InputTextWithHint("##find", "kind or text", buf, sizeof buf)) s.text_filter = buf;
  refilter(c, s);
  const size_t n = row_count(c.size());
  ImGui::SameLine();
  ImGui::TextDisabled("%zu shown", n);

  // Where is the cursor among the rows? (binary search: rows are sorted)
  size_t cursor_row = n;
  if (c.size()) {
    cursor_row = all_rows ? c.cursor()
                          : static_cast<size_t>(std::upper_bound(rows.begin(), rows.end(), static_cast<uint32_t>(c.cursor())) - rows.begin());
    if (!all_rows && cursor_row > 0) --cursor_row;
  }
  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
  drawn_rows = 0;
  if (!ImGui::BeginTable("events", 5, flags)) return;
  const float fs = ImGui::GetFontSize();
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed, fs * 3.5f);
  ImGui::TableSetupColumn("time", ImGuiTableColumnFlags_WidthFixed, fs * 5.5f);
  ImGui::TableSetupColumn("kind", ImGuiTableColumnFlags_WidthFixed, fs * 8);
  ImGui::TableSetupColumn("from -> to", ImGuiTableColumnFlags_WidthFixed, fs * 12);
  ImGui::TableSetupColumn("text", ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableHeadersRow();
  const float row_h = ImGui::GetTextLineHeightWithSpacing();
  if (c.cursor() != last_cursor && cursor_row < n) {
    last_cursor = c.cursor();
    float y = static_cast<float>(cursor_row) * row_h;
    float view = ImGui::GetWindowHeight() - row_h * 2;
    if (y < ImGui::GetScrollY() || y > ImGui::GetScrollY() + view) ImGui::SetScrollY(std::max(0.0f, y - view * 0.5f));
  }
  const std::vector<Record>* recs = c.size() ? &c.records() : nullptr;
  const size_t sel = c.selected() ? c.index().index_of_seq(c.selected()) : c.size();
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(std::min<size_t>(n, 0x7fffffff)), row_h);
  while (clipper.Step()) {
    for (int row = clipper.DisplayStart; row < clipper.DisplayEnd; ++row) {
      size_t i = record_at(static_cast<size_t>(row));
      const Record& r = (*recs)[i];
      ++drawn_rows;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::PushID(row);
      if (i > c.cursor()) ImGui::PushStyleVar(ImGuiStyleVar_Alpha, 0.55f);
      char seq[24];
      std::snprintf(seq, sizeof seq, "%llu", static_cast<unsigned long long>(r.seq));
      if (ImGui::Selectable(seq, i == sel, ImGuiSelectableFlags_SpanAllColumns)) ctx.post(cmd::Select{r.seq, true});
      if (static_cast<size_t>(row) == cursor_row)
        ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, p.cursor);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(format_duration(r.t).c_str());
      ImGui::TableNextColumn();
      std::string_view k = kind_name(r.kind);
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(record_color(r, p)), "%.*s", static_cast<int>(k.size()), k.data());
      ImGui::TableNextColumn();
      if (r.dst.empty()) ImGui::TextUnformatted(r.src.c_str());
      else ImGui::Text("%s -> %s", r.src.c_str(), r.dst.c_str());
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(r.text.c_str());
      if (i > c.cursor()) ImGui::PopStyleVar();
      ImGui::PopID();
    }
  }
  ImGui::EndTable();
}

std::unique_ptr<Panel> make_events_panel() { return std::make_unique<EventsPanel>(); }

}  // namespace smtplab::gui
