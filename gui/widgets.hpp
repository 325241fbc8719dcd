// gui/widgets.hpp: the lab's custom drawing primitives, shared by the panels
// and all shown side by side in the gallery panel.
//
// Each draws into an ImDrawList at given coordinates and keeps no state.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include <imgui.h>

#include "gui/panel.hpp"

namespace smtplab::gui::widgets {

// A message arrow between two lifelines at height y, its label above it
// (clipped to `max_label_w`), dashed when `dashed` (retransmission).
void arrow(ImDrawList* dl, float x0, float x1, float y, ImU32 col, std::string_view label, float max_label_w,
           bool dashed = false, float thickness = 2.0f, float label_x = NAN);
// A lost message: the arrow stops half way at a red cross.
void lost_arrow(ImDrawList* dl, float x0, float x1, float y, ImU32 col, ImU32 cross, std::string_view label,
                float max_label_w);
void cross(ImDrawList* dl, ImVec2 c, float r, ImU32 col, float thickness = 3.0f);
// A message in flight from a (sent) to b (received): time runs down, so the
// arrow slants by its latency. Dashed for a retransmission.
void flight(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, bool dashed = false, float thickness = 2.0f);
// A message lost in flight: the line from a stops at b under a cross.
void lost_flight(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, ImU32 cross_col, bool dashed = false);
// A label with a translucent backing so it stays readable over lifelines;
// cut with "..." at max_w.
void label(ImDrawList* dl, ImVec2 pos, ImU32 col, std::string_view text, float max_w);
// A record that stays on one host: a dot on the lifeline with its text,
// right of the dot in up to max_label_w. With room_left > 0 (the room left
// of the dot), a label that does not fit on the right and has more room on
// the left ends at the dot instead: a note on the rightmost lifeline stays
// readable rather than cut by the panel's edge.
void note(ImDrawList* dl, float x, float y, ImU32 col, std::string_view label, float max_label_w,
          float room_left = 0);
// "N events" where several records are closer than a few pixels (count 0:
// the bar alone, when there is no room for the text).
void fold_mark(ImDrawList* dl, float x0, float x1, float y, ImU32 col, uint32_t count);
// A folded idle gap: a zigzag across the lifelines and "... 30 min later ...".
void gap_row(ImDrawList* dl, float x0, float x1, float y, float h, ImU32 col, std::string_view label);
// A letter envelope centred at c.
void envelope(ImDrawList* dl, ImVec2 c, float w, ImU32 fill, ImU32 line);
// A host box (role drawn as an icon letter), crossed out when down.
void host_node(ImDrawList* dl, ImVec2 c, ImVec2 size, std::string_view name, std::string_view role, ImU32 fill,
               ImU32 text, bool down, ImU32 down_col);
// A state bubble; `current` draws it highlighted.
void state_node(ImDrawList* dl, ImVec2 c, ImVec2 size, std::string_view name, bool current, const Palette& p);
// A seek bar over [0, end]: cursor handle, failure ticks. Returns true and
// sets `seek_us` while the user drags or clicks it.
bool seek_bar(const char* id, int64_t now_us, int64_t end_us, const int64_t* marks, size_t n_marks, ImU32 mark_col,
              const Palette& p, int64_t* seek_us);

// A titled separator between sections of a panel.
void section(const char* title);

// ImGui::SameLine() when an item `width` pixels wide still fits on this
// line; otherwise the next item starts a new line (nothing is cut).
void same_line_if_fits(float width);
// Dim text wrapped at the panel's edge.
void text_wrapped_disabled(const char* text);
// Text that fits into max_w pixels, with "..." when cut.
std::string_view fit(std::string_view s, float max_w, float* width = nullptr);

}  // namespace smtplab::gui::widgets
