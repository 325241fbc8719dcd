// gui/topology_layout.cpp: host boxes that never overlap (see topology_layout.hpp).
#include "gui/topology_layout.hpp"

#include <algorithm>
#include <cmath>

namespace smtplab::gui {

namespace {
// The cloud as the panel draws it: five circles of radius 0.9 fs, 0.9 fs
// apart, bobbing 0.45 fs: about 5.4 x 2.3 font sizes.
constexpr float kCloudW = 5.6f, kCloudH = 2.4f;
}  // namespace

TopoLayout layout_topology(const std::vector<TopoBoxSize>& sizes, float x, float y, float w, float h, float fs,
                           float min_scale, float max_scale) {
  TopoLayout out;
  const size_t n = sizes.size();
  w = std::max(w, 1.0f);
  h = std::max(h, 1.0f);
  const float gap_x = fs * 0.4f, gap_y = fs * 0.35f;
  float box_h = 0;
  for (const TopoBoxSize& s : sizes) box_h = std::max(box_h, s.h);
  // The scale at which R rows fit: every box in its cell across, and the
  // rows plus the cloud's band (with a gap around each) down.
  auto fit = [&](size_t rows) {
    float s = max_scale;
    for (size_t r = 0; r < rows; ++r) {
      const size_t count = (n - r + rows - 1) / rows;  // boxes r, r + rows, ...
      if (!count) continue;
      const float cell = w / static_cast<float>(count);
      for (size_t i = r; i < n; i += rows) s = std::min(s, (cell - gap_x) / std::max(1.0f, sizes[i].w));
    }
    const float down = (h - gap_y * static_cast<float>(rows + 2)) / (static_cast<float>(rows) * box_h + kCloudH * fs);
    return std::min(s, down);
  };
  // Two rows read best (a zigzag around the cloud, links short and apart);
  // more rows only when two would shrink the text well below what more rows
  // allow: the fewest rows within 85 % of the best scale.
  size_t rows = std::min<size_t>(2, std::max<size_t>(n, 1));
  float scale = n ? fit(rows) : max_scale;
  float best = scale;
  for (size_t r = rows + 1; r <= n; ++r) best = std::max(best, fit(r));
  for (size_t r = rows; r <= n && scale < std::min(best * 0.85f, max_scale); ++r) {
    rows = r;
    scale = fit(r);
  }
  const bool narrowed = scale < min_scale;
  scale = std::max(scale, min_scale);
  out.scale = scale;
  out.rows = rows;
  // Down the panel: the upper rows, the cloud's band, the lower rows, with
  // the free height shared between the gaps. When even min_scale is too
  // tall, rows get an equal share each (boxes shortened to it).
  const size_t above = (rows + 1) / 2;
  const float band = kCloudH * fs * scale;
  float row_h = box_h * scale;
  float free_h = h - row_h * static_cast<float>(rows) - band;
  if (free_h < gap_y * static_cast<float>(rows + 2)) {
    row_h = std::max(1.0f, (h - band - gap_y * static_cast<float>(rows + 2)) / static_cast<float>(std::max<size_t>(rows, 1)));
    free_h = h - row_h * static_cast<float>(rows) - band;
  }
  const float gap = std::max(0.0f, free_h / static_cast<float>(rows + 2));
  std::vector<float> row_top(rows);
  float cur = y + gap;
  for (size_t r = 0; r < rows; ++r) {
    if (r == above) {
      out.cloud = TopoRect{x + w * 0.5f - kCloudW * fs * scale * 0.5f, cur, x + w * 0.5f + kCloudW * fs * scale * 0.5f, cur + band};
      cur += band + gap;
    }
    row_top[r] = cur;
    cur += row_h + gap;
  }
  if (above >= rows) out.cloud = TopoRect{x + w * 0.5f - kCloudW * fs * scale * 0.5f, cur, x + w * 0.5f + kCloudW * fs * scale * 0.5f, cur + band};
  out.boxes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t r = i % rows, j = i / rows;
    const size_t count = (n - r + rows - 1) / rows;
    const float cell = w / static_cast<float>(count);
    float bw = sizes[i].w * scale;
    if (narrowed) bw = std::min(bw, cell - gap_x);
    bw = std::max(bw, 1.0f);
    const float cx = x + cell * (static_cast<float>(j) + 0.5f);
    const float bh = std::min(sizes[i].h * scale, row_h);
    const float cy = row_top[r] + row_h * 0.5f;
    out.boxes[i] = TopoRect{cx - bw * 0.5f, cy - bh * 0.5f, cx + bw * 0.5f, cy + bh * 0.5f};
  }
  return out;
}

bool place_label(const TopoRect& env, float w, float h, float min_w, const std::vector<TopoRect>& avoid,
                 const TopoRect& panel, TopoRect* out) {
  const float pad = 4;
  const float cx = env.cx(), cy = env.cy();
  auto free = [&](const TopoRect& t) {
    return t.inside(panel) && !t.overlaps(env) &&
           std::none_of(avoid.begin(), avoid.end(), [&](const TopoRect& a) { return t.overlaps(a); });
  };
  // Slides a rectangle back inside the panel (along the edge it crossed).
  auto slide = [&](TopoRect t) {
    const float dx = t.x0 < panel.x0 ? panel.x0 - t.x0 : t.x1 > panel.x1 ? panel.x1 - t.x1 : 0;
    const float dy = t.y0 < panel.y0 ? panel.y0 - t.y0 : t.y1 > panel.y1 ? panel.y1 - t.y1 : 0;
    return TopoRect{t.x0 + dx, t.y0 + dy, t.x1 + dx, t.y1 + dy};
  };
  // The whole label: right, below, above, left of the envelope.
  const TopoRect whole[] = {
      {env.x1 + pad, cy - h * 0.5f, env.x1 + pad + w, cy + h * 0.5f},
      {cx - w * 0.5f, env.y1 + pad, cx + w * 0.5f, env.y1 + pad + h},
      {cx - w * 0.5f, env.y0 - pad - h, cx + w * 0.5f, env.y0 - pad},
      {env.x0 - pad - w, cy - h * 0.5f, env.x0 - pad, cy + h * 0.5f},
  };
  for (const TopoRect& t0 : whole) {
    const TopoRect t = slide(t0);
    if (free(t)) {
      *out = t;
      return true;
    }
  }
  // Shortened (the caller cuts the text with "..."): as long as the free
  // run beside the envelope, right then left, if that is at least min_w.
  for (const bool right : {true, false}) {
    const float y0 = cy - h * 0.5f, y1 = cy + h * 0.5f;
    float lo = right ? env.x1 + pad : panel.x0, hi = right ? panel.x1 : env.x0 - pad;
    for (const TopoRect& a : avoid) {
      if (a.y1 <= y0 || a.y0 >= y1) continue;
      if (right && a.x0 >= lo) hi = std::min(hi, a.x0 - 1);
      if (!right && a.x1 <= hi) lo = std::max(lo, a.x1 + 1);
    }
    const float room = std::min(w, hi - lo);
    if (room < min_w) continue;
    const TopoRect t = right ? TopoRect{lo, y0, lo + room, y1} : TopoRect{hi - room, y0, hi, y1};
    if (free(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

TopoRect cloud_crossing(const TopoRect& cloud, float text_h, float env_w, float env_h,
                        const std::vector<TopoRect>& avoid, const TopoRect& panel) {
  const float cx = cloud.cx(), cy = cloud.cy(), off = text_h * 0.5f + env_h * 0.5f + 1;
  auto at = [&](float y) { return TopoRect{cx - env_w * 0.5f, y - env_h * 0.5f, cx + env_w * 0.5f, y + env_h * 0.5f}; };
  for (const float y : {cy + off, cy - off}) {
    const TopoRect r = at(y);
    if (r.inside(panel) && std::none_of(avoid.begin(), avoid.end(), [&](const TopoRect& b) { return r.overlaps(b); }))
      return r;
  }
  return at(cy);
}

}  // namespace smtplab::gui
