// gui/sequence_model.hpp: the sequence diagram as data, apart from drawing.
//
// SeqModel is built once per run and filter (O(n)): which records are in the
// diagram, their times, and where idle gaps are folded. layout_visible() then
// produces only what a viewport shows, the way Tracy draws a timeline: find
// the first visible item with lower_bound, and when the next items would land
// within a few pixels, fold them into one "N events" mark found with another
// lower_bound. A frame therefore costs O(visible marks x log n), whatever the
// trace size. Tests read the items directly (arrows in order, gaps labelled).
//
// Must never: depend on ImGui or OpenGL (tests and the bench use it bare).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/trace_index.hpp"
#include "gui/view_settings.hpp"

namespace smtplab::gui {

struct SeqFilter {
  bool tcp = false, dns = true, notes = true, states = false;
  bool operator==(const SeqFilter&) const = default;
};
SeqFilter filter_from(const ViewSettings& s);

// Is this record drawn as an arrow (it goes from one host to another)?
bool is_message(const Record& r);
bool in_diagram(const Record& r, const SeqFilter& f);

// "... 30 min later ...": the label of a folded idle gap.
std::string gap_label(int64_t gap_us);

class SeqModel {
 public:
  static constexpr int64_t kGapUs = 1'000'000;  // idle time folded into a labelled row in the rows scale

  void build(const TraceIndex& index, const SeqFilter& filter);
  size_t size() const { return items_.size(); }
  const std::vector<uint32_t>& items() const { return items_; }  // record indices, time order
  const std::vector<int64_t>& times() const { return times_; }
  const std::vector<uint32_t>& gaps() const { return gaps_; }  // item positions preceded by a gap row

  // Rows scale: every item is one row; every gap adds a row before it.
  double row_of(size_t item) const;
  double total_rows() const { return static_cast<double>(items_.size() + gaps_.size()); }
  // The first item whose row is >= row.
  size_t item_at_row(double row) const;
  // The item position of a record index (first item at or after it).
  size_t item_of_record(size_t record) const;

 private:
  std::vector<uint32_t> items_;
  std::vector<int64_t> times_;
  std::vector<uint32_t> gaps_;
};

enum class SeqItemType { arrow, note, fold, gap };

struct SeqItem {
  SeqItemType type = SeqItemType::arrow;
  size_t record = 0;   // record index (first one for a fold)
  int from = -1, to = -1;  // lifelines (note: from == to)
  float y = 0;         // pixels from the top of the diagram body
  uint32_t count = 1;  // fold: how many items
  int64_t gap_us = 0;  // gap: idle time
};

struct SeqViewport {
  TimeScale scale = TimeScale::rows;
  float height = 600;    // pixels of diagram body
  double row_px = 30;    // rows scale: pixels per row
  double row_top = 0;    // rows scale: row at the top edge
  double px_per_us = 40e-6;  // proportional scale
  int64_t t_top = 0;     // proportional scale: time at the top edge
  float min_px = 4;      // items closer than this fold
};

std::vector<SeqItem> layout_visible(const SeqModel& model, const TraceIndex& index, const SeqViewport& vp);

}  // namespace smtplab::gui
