// gui/sequence_view.hpp: draws one run's sequence diagram into the current
// ImGui window: lifelines, arrows, folded gaps, the cursor and selection;
// zoom at the mouse (Ctrl + wheel), pan (drag or wheel).
//
// Owned by the sequence panel, and twice by the compare panel (two runs,
// one shared viewport). State: the cached model and the viewport only.
// Must never: change the run; it returns what the user clicked instead.
#pragma once

#include <cstdint>
#include <vector>

#include <imgui.h>

#include "gui/controller.hpp"
#include "gui/panel.hpp"
#include "gui/sequence_model.hpp"

namespace smtplab::gui {

struct SequenceView {
  SeqModel model;
  SeqViewport vp;
  std::vector<SeqItem> items;  // reused every frame
  uint64_t built_for = ~0ull;  // run generation the model was built for
  const void* built_records = nullptr;
  SeqFilter built_filter;
  size_t last_cursor = ~size_t{0};
  TimeScale last_scale = TimeScale::rows;  // the scale the last frame drew
  bool dragging = false;
  bool hint_pressed = false;
  // The cause chain of the selected record (record indices, root first),
  // highlighted in the diagram; recomputed when the selection or run changes.
  std::vector<size_t> chain;
  uint64_t chain_sel = 0;
  uint64_t chain_gen = ~0ull;
  bool scrolled_to_cause = false;  // the "causes above" hint was clicked (tests read it)
  // Where the last frame drew (screen pixels), so tests can click an arrow:
  // item y is relative to body_min.y; lane i is centred at lanes_x + (i + 0.5) * lane_w.
  ImVec2 body_min{0, 0}, body_max{0, 0};
  float lanes_x = 0, lane_w = 0;

  SequenceView() { vp.row_top = -1; }

  // Rebuilds the model when the run or the filter changed (O(n), rare).
  void sync(const RunView& run, uint64_t generation, const SeqFilter& filter);
  // Scrolls so that this record index is visible.
  void reveal(size_t record);
  // Recomputes `chain` for this selection (a seq of run) when it changed.
  void sync_chain(const RunView& run, uint64_t generation, uint64_t selected);

  struct Result {
    uint64_t clicked = 0;  // seq of a clicked record
    uint64_t hovered = 0;
  };
  // Draws into `size` at the cursor position. `cursor` is a record index of
  // `run` (records after it are the future: drawn faint).
  Result draw(const RunView& run, size_t cursor, uint64_t selected, ViewSettings& s, const Palette& p, ImVec2 size,
              bool interactive = true);
};

// The colour of a record's arrow or note.
ImU32 record_color(const Record& r, const Palette& p);
// The colour of a recipient's fate (Queues tab, inspector): delivered once
// as a 2xx reply, failed for good as a 5xx, anything else (waiting, on its
// way, a duplicate) as a 4xx.
ImU32 fate_color(const RecipientFate& f, const Palette& p);
// The same from its parts (a sweep's outcome): `deliveries` into a mailbox.
ImU32 fate_color(FateState state, size_t deliveries, bool cut, const Palette& p);
// One recipient's fate as wrapped text in its colour ("alice@yahoo.test:
// delivered at ..."; a Selectable would cut a long line), its notice (where
// the bounce went) dimmed and indented below. Clicking the line returns the
// record that decided it (the caller selects it), else 0; `clickable` false
// when that record is not in the run on screen.
uint64_t fate_text(const RecipientFate& f, const Palette& p, bool clickable = true);

}  // namespace smtplab::gui
