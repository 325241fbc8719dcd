// gui/topology_layout.hpp: where the topology panel puts its host boxes, the
// internet cloud, and the label of the message in flight.
//
// Pure geometry (no ImGui calls), so tests can check the promise a teacher
// relies on at any panel size: host boxes never overlap each other or the
// cloud, and stay inside the panel. Boxes are given at font scale 1; the
// layout picks a number of rows and the largest font scale (up to
// max_scale) at which every box fits its cell. Below min_scale the text
// stays at min_scale and the boxes are narrowed to their cells instead (the
// host box then cuts its name with "...", never covers a neighbour).
//
// Hosts keep the scenario's order from left to right (senders left,
// receivers right), dealt to the rows in turn (a zigzag for two rows); each
// row divides the width evenly between its boxes. The cloud has its own band
// between the upper and the lower rows.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace smtplab::gui {

struct TopoRect {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  float cx() const { return (x0 + x1) * 0.5f; }
  float cy() const { return (y0 + y1) * 0.5f; }
  bool overlaps(const TopoRect& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  bool inside(const TopoRect& o) const { return x0 >= o.x0 && y0 >= o.y0 && x1 <= o.x1 && y1 <= o.y1; }
};

struct TopoLayout {
  float scale = 1;              // font scale for the boxes' text
  size_t rows = 0;
  std::vector<TopoRect> boxes;  // one per host, in the given order
  TopoRect cloud;               // the internet cloud's band (centred in it)
};

struct TopoBoxSize {
  float w = 0, h = 0;  // at font scale 1, text and padding included
};

// `fs` is the font size at scale 1; the panel is [x, x + w] x [y, y + h].
TopoLayout layout_topology(const std::vector<TopoBoxSize>& sizes, float x, float y, float w, float h, float fs,
                           float min_scale = 0.55f, float max_scale = 0.9f);

// Where to put a label of size (w, h) next to the envelope `env` so that it
// covers no box in `avoid` and stays in `panel`: whole beside it, below,
// above or left; else shortened (never below min_w) beside it. Returns false
// when there is no such place (the caller shows the text on hover only).
bool place_label(const TopoRect& env, float w, float h, float min_w, const std::vector<TopoRect>& avoid,
                 const TopoRect& panel, TopoRect* out);

// Where an envelope of size (env_w, env_h) passes when its message crosses
// the internet: just below the cloud's word (text_h tall, centred in the
// cloud), else just above it, whichever covers no box in `avoid` and stays
// in `panel`; the cloud's middle when neither does (the word is then hidden
// while the envelope passes). Returns the envelope's rectangle there.
TopoRect cloud_crossing(const TopoRect& cloud, float text_h, float env_w, float env_h,
                        const std::vector<TopoRect>& avoid, const TopoRect& panel);

}  // namespace smtplab::gui
