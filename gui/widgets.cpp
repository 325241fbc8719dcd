// gui/widgets.cpp: the custom drawing primitives (see widgets.hpp).
#include "gui/widgets.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace smtplab::gui {

const Palette& palette(Theme t) {
  // Dark: muted background, saturated strokes. Light: high contrast for
  // projectors (dark strokes on white, nothing pale).
  static constexpr Palette kDark{
      IM_COL32(235, 235, 235, 255), IM_COL32(150, 150, 160, 255), IM_COL32(110, 110, 125, 255),
      IM_COL32(110, 170, 255, 255), IM_COL32(110, 220, 130, 255), IM_COL32(255, 190, 70, 255),
      IM_COL32(255, 95, 95, 255),   IM_COL32(200, 140, 255, 255), IM_COL32(150, 150, 150, 255),
      IM_COL32(80, 210, 210, 255),  IM_COL32(255, 80, 80, 255),   IM_COL32(240, 210, 110, 255),
      IM_COL32(255, 255, 255, 60),  IM_COL32(255, 220, 0, 90),    IM_COL32(45, 60, 85, 255),
      IM_COL32(90, 30, 30, 255),    IM_COL32(120, 130, 150, 255), IM_COL32(255, 235, 150, 255),
      IM_COL32(170, 170, 180, 255), IM_COL32(255, 120, 40, 50)};
  static constexpr Palette kLight{
      IM_COL32(0, 0, 0, 255),       IM_COL32(70, 70, 70, 255),    IM_COL32(90, 90, 90, 255),
      IM_COL32(0, 60, 200, 255),    IM_COL32(0, 120, 30, 255),    IM_COL32(170, 90, 0, 255),
      IM_COL32(200, 0, 0, 255),     IM_COL32(120, 0, 170, 255),   IM_COL32(80, 80, 80, 255),
      IM_COL32(0, 120, 120, 255),   IM_COL32(210, 0, 0, 255),     IM_COL32(130, 90, 0, 255),
      IM_COL32(0, 0, 0, 40),        IM_COL32(255, 200, 0, 110),   IM_COL32(215, 230, 255, 255),
      IM_COL32(255, 200, 200, 255), IM_COL32(60, 60, 60, 255),    IM_COL32(255, 210, 60, 255),
      IM_COL32(60, 60, 60, 255),    IM_COL32(255, 110, 0, 55)};
  return t == Theme::dark ? kDark : kLight;
}

namespace widgets {

void section(const char* title) {
  ImGui::Spacing();
  ImGui::TextDisabled("%s", title);
  ImGui::Separator();
}

std::string_view fit(std::string_view s, float max_w, float* width) {
  if (s.empty()) {  // ImGui would read a null view's data as a C string
    if (width) *width = 0;
    return s;
  }
  ImFont* f = ImGui::GetFont();
  float fs = ImGui::GetFontSize();
  ImVec2 full = f->CalcTextSizeA(fs, FLT_MAX, 0, s.data(), s.data() + s.size());
  if (full.x <= max_w || s.empty()) {
    if (width) *width = full.x;
    return s;
  }
  // Cut where it fits; the caller draws "..." after it.
  const char* end = nullptr;
  f->CalcTextSizeA(fs, std::max(0.0f, max_w - fs), 0, s.data(), s.data() + s.size(), &end);
  size_t n = end ? static_cast<size_t>(end - s.data()) : 0;
  if (width) *width = max_w;
  return s.substr(0, n);
}

namespace {
void label_at(ImDrawList* dl, ImVec2 pos, ImU32 col, std::string_view label, float max_w) {
  // No label (rows too thin for text, a crowd in the proportional scale):
  // nothing to draw; ImGui would read a null view as a C string.
  if (label.empty()) return;
  float w = 0;
  std::string_view shown = fit(label, max_w, &w);
  // A backing so labels stay readable where they cross lifelines.
  ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
  bg.w = 0.75f;
  dl->AddRectFilled(ImVec2(pos.x - 2, pos.y), ImVec2(pos.x + w + 2, pos.y + ImGui::GetFontSize()), ImGui::GetColorU32(bg), 3);
  dl->AddText(pos, col, shown.data(), shown.data() + shown.size());
  if (shown.size() < label.size()) {
    ImVec2 w = ImGui::CalcTextSize(shown.data(), shown.data() + shown.size());
    dl->AddText(ImVec2(pos.x + w.x, pos.y), col, "...");
  }
}
void head(ImDrawList* dl, float x, float y, float dir, ImU32 col) {
  float s = std::max(6.0f, ImGui::GetFontSize() * 0.45f);
  dl->AddTriangleFilled(ImVec2(x, y), ImVec2(x - dir * s, y - s * 0.55f), ImVec2(x - dir * s, y + s * 0.55f), col);
}
}  // namespace

void arrow(ImDrawList* dl, float x0, float x1, float y, ImU32 col, std::string_view label, float max_label_w,
           bool dashed, float thickness, float label_x) {
  float dir = x1 >= x0 ? 1.0f : -1.0f;
  if (dashed) {
    float len = std::fabs(x1 - x0), d = 10;
    for (float s = 0; s < len; s += 2 * d)
      dl->AddLine(ImVec2(x0 + dir * s, y), ImVec2(x0 + dir * std::min(len, s + d), y), col, thickness);
  } else {
    dl->AddLine(ImVec2(x0, y), ImVec2(x1, y), col, thickness);
  }
  head(dl, x1, y, dir, col);
  if (!label.empty()) {
    float fs = ImGui::GetFontSize();
    float left = label_x == label_x ? label_x : std::min(x0, x1) + fs * 0.4f;  // NaN: at the arrow's start
    label_at(dl, ImVec2(left, y - fs - 2), col, label, max_label_w);
  }
}

void label(ImDrawList* dl, ImVec2 pos, ImU32 col, std::string_view text, float max_w) { label_at(dl, pos, col, text, max_w); }

namespace {
void dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thickness) {
  const float dx = b.x - a.x, dy = b.y - a.y, len = std::sqrt(dx * dx + dy * dy), d = 10;
  if (len < 1) return;
  for (float s = 0; s < len; s += 2 * d) {
    const float e = std::min(len, s + d);
    dl->AddLine(ImVec2(a.x + dx * s / len, a.y + dy * s / len), ImVec2(a.x + dx * e / len, a.y + dy * e / len), col, thickness);
  }
}
}  // namespace

void flight(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, bool dashed, float thickness) {
  if (dashed) dashed_line(dl, a, b, col, thickness);
  else dl->AddLine(a, b, col, thickness);
  // The head points along the line.
  const float dx = b.x - a.x, dy = b.y - a.y, len = std::max(1.0f, std::sqrt(dx * dx + dy * dy));
  const float s = std::max(6.0f, ImGui::GetFontSize() * 0.45f), ux = dx / len, uy = dy / len;
  dl->AddTriangleFilled(b, ImVec2(b.x - ux * s - uy * s * 0.55f, b.y - uy * s + ux * s * 0.55f),
                        ImVec2(b.x - ux * s + uy * s * 0.55f, b.y - uy * s - ux * s * 0.55f), col);
}

void lost_flight(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, ImU32 cross_col, bool dashed) {
  if (dashed) dashed_line(dl, a, b, col, 2.0f);
  else dl->AddLine(a, b, col, 2.0f);
  cross(dl, b, std::max(5.0f, ImGui::GetFontSize() * 0.35f), cross_col);
}

void cross(ImDrawList* dl, ImVec2 c, float r, ImU32 col, float thickness) {
  dl->AddLine(ImVec2(c.x - r, c.y - r), ImVec2(c.x + r, c.y + r), col, thickness);
  dl->AddLine(ImVec2(c.x - r, c.y + r), ImVec2(c.x + r, c.y - r), col, thickness);
}

void lost_arrow(ImDrawList* dl, float x0, float x1, float y, ImU32 col, ImU32 cross_col, std::string_view label,
                float max_label_w) {
  float mid = (x0 + x1) * 0.5f;
  dl->AddLine(ImVec2(x0, y), ImVec2(mid, y), col, 2.0f);
  cross(dl, ImVec2(mid, y), std::max(5.0f, ImGui::GetFontSize() * 0.35f), cross_col);
  if (!label.empty()) {
    float fs = ImGui::GetFontSize();
    label_at(dl, ImVec2(std::min(x0, x1) + fs * 0.4f, y - fs - 2), cross_col, label, max_label_w);
  }
}

void note(ImDrawList* dl, float x, float y, ImU32 col, std::string_view label, float max_label_w, float room_left) {
  float r = std::max(4.0f, ImGui::GetFontSize() * 0.25f);
  dl->AddCircleFilled(ImVec2(x, y), r, col);
  float fs = ImGui::GetFontSize();
  const float gap = r + 4;
  float full = 0;
  fit(label, FLT_MAX, &full);
  if (full > max_label_w && room_left - gap > max_label_w) {
    float w = 0;
    fit(label, room_left - gap, &w);
    label_at(dl, ImVec2(x - gap - w, y - fs * 0.5f), col, label, room_left - gap);
    return;
  }
  label_at(dl, ImVec2(x + gap, y - fs * 0.5f), col, label, max_label_w);
}

void fold_mark(ImDrawList* dl, float x0, float x1, float y, ImU32 col, uint32_t count) {
  float fs = ImGui::GetFontSize();
  dl->AddRectFilled(ImVec2(x0, y - 2), ImVec2(x1, y + 2), col);
  if (count == 0) return;  // no room for the count: the bar alone
  std::string t = std::to_string(count) + " events";
  ImVec2 ts = ImGui::CalcTextSize(t.c_str());
  dl->AddText(ImVec2(x1 - ts.x, y - fs - 1), col, t.c_str());
}

void gap_row(ImDrawList* dl, float x0, float x1, float y, float h, ImU32 col, std::string_view label) {
  // A zigzag says "time was cut here".
  float mid = y + h * 0.5f, a = std::max(2.0f, h * 0.15f);
  ImVec2 prev(x0, mid);
  for (float x = x0; x < x1; x += 12) {
    ImVec2 p(x + 6, mid + ((static_cast<int>((x - x0) / 12) % 2) ? a : -a));
    dl->AddLine(prev, p, col, 1.0f);
    prev = p;
  }
  ImVec2 ts = ImGui::CalcTextSize(label.data(), label.data() + label.size());
  float cx = (x0 + x1 - ts.x) * 0.5f;
  ImU32 bg = ImGui::GetColorU32(ImGuiCol_WindowBg);
  dl->AddRectFilled(ImVec2(cx - 8, mid - ts.y * 0.5f - 1), ImVec2(cx + ts.x + 8, mid + ts.y * 0.5f + 1), bg, 4);
  dl->AddText(ImVec2(cx, mid - ts.y * 0.5f), col, label.data(), label.data() + label.size());
}

void envelope(ImDrawList* dl, ImVec2 c, float w, ImU32 fill, ImU32 line) {
  float h = w * 0.65f;
  ImVec2 a(c.x - w / 2, c.y - h / 2), b(c.x + w / 2, c.y + h / 2);
  dl->AddRectFilled(a, b, fill, 2);
  dl->AddRect(a, b, line, 2, 0, 2);
  dl->AddLine(a, ImVec2(c.x, c.y + h * 0.1f), line, 2);
  dl->AddLine(ImVec2(b.x, a.y), ImVec2(c.x, c.y + h * 0.1f), line, 2);
}

void host_node(ImDrawList* dl, ImVec2 c, ImVec2 size, std::string_view name, std::string_view role, ImU32 fill,
               ImU32 text, bool down, ImU32 down_col) {
  ImVec2 a(c.x - size.x / 2, c.y - size.y / 2), b(c.x + size.x / 2, c.y + size.y / 2);
  dl->AddRectFilled(a, b, down ? down_col : fill, 8);
  dl->AddRect(a, b, text, 8, 0, 2);
  float fs = ImGui::GetFontSize();
  float name_w = 0, role_w = 0;
  std::string_view shown = fit(name, size.x - 8, &name_w);
  std::string_view role_shown = fit(role, size.x - 8, &role_w);
  dl->AddText(ImVec2(c.x - name_w / 2, c.y - fs), text, shown.data(), shown.data() + shown.size());
  dl->AddText(ImVec2(c.x - role_w / 2, c.y + 1), text, role_shown.data(), role_shown.data() + role_shown.size());
  if (down) cross(dl, c, size.y * 0.45f, down_col == fill ? text : IM_COL32(230, 40, 40, 255), 4);
}

void state_node(ImDrawList* dl, ImVec2 c, ImVec2 size, std::string_view name, bool current, const Palette& p) {
  ImVec2 a(c.x - size.x / 2, c.y - size.y / 2), b(c.x + size.x / 2, c.y + size.y / 2);
  dl->AddRectFilled(a, b, current ? p.select : p.host_fill, size.y / 2);
  dl->AddRect(a, b, current ? p.reply_temp : p.lifeline, size.y / 2, 0, current ? 4.0f : 1.5f);
  float w = 0;
  std::string_view shown = fit(name, size.x - 6, &w);
  dl->AddText(ImVec2(c.x - w / 2, c.y - ImGui::GetFontSize() / 2), p.text, shown.data(), shown.data() + shown.size());
}

bool seek_bar(const char* id, int64_t now_us, int64_t end_us, const int64_t* marks, size_t n_marks, ImU32 mark_col,
              const Palette& p, int64_t* seek_us) {
  float h = ImGui::GetFrameHeight();
  float full_w = std::max(50.0f, ImGui::GetContentRegionAvail().x);
  ImVec2 pos = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton(id, ImVec2(full_w, h));
  // The track is inset by the handle's radius, so the handle at either end
  // never covers what is beside the bar.
  const float inset = h * 0.45f;
  pos.x += inset;
  const float w = full_w - 2 * inset;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  float y = pos.y + h / 2;
  dl->AddRectFilled(ImVec2(pos.x, y - 3), ImVec2(pos.x + w, y + 3), p.lifeline, 3);
  double span = end_us > 0 ? static_cast<double>(end_us) : 1.0;
  float fx = pos.x + static_cast<float>(static_cast<double>(now_us) / span) * w;
  dl->AddRectFilled(ImVec2(pos.x, y - 3), ImVec2(fx, y + 3), p.smtp, 3);
  // Failure ticks: at most one per pixel column.
  float last = -1;
  for (size_t i = 0; i < n_marks; ++i) {
    float x = pos.x + static_cast<float>(static_cast<double>(marks[i]) / span) * w;
    if (x - last < 1.0f) continue;
    last = x;
    dl->AddLine(ImVec2(x, pos.y + 2), ImVec2(x, pos.y + h - 2), mark_col, 2);
  }
  dl->AddCircleFilled(ImVec2(fx, y), h * 0.38f, p.text);
  if (ImGui::IsItemActive() && end_us > 0) {
    float mx = std::clamp(ImGui::GetIO().MousePos.x, pos.x, pos.x + w);
    *seek_us = static_cast<int64_t>(static_cast<double>(mx - pos.x) / w * span);
    return true;
  }
  return false;
}

void same_line_if_fits(float width) {
  const float x_after = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
  const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
  if (x_after + width <= right) ImGui::SameLine();
}

void text_wrapped_disabled(const char* text) {
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
  ImGui::TextWrapped("%s", text);
  ImGui::PopStyleColor();
}

}  // namespace widgets
}  // namespace smtplab::gui
