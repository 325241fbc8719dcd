// gui/panel_events.hpp: the event list (exposed for tests and the bench).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gui/panel.hpp"

namespace smtplab::gui {

struct EventsPanel final : Panel {
  // Rows shown: record indices passing the filter. Empty with `all_rows`
  // set means "every record" (no copy of a million indices when unfiltered).
  std::vector<uint32_t> rows;
  bool all_rows = true;
  uint64_t built_for = ~0ull;
  const void* built_records = nullptr;
  uint32_t built_mask = 0;
  std::string built_host, built_text;
  size_t last_cursor = ~size_t{0};
  int drawn_rows = 0;  // rows actually submitted last frame (the clipper's work)

  std::string_view id() const override { return "events"; }
  std::string_view title() const override { return "Event list"; }
  Slot slot() const override { return Slot::bottom; }
  void draw(PanelContext& ctx) override;

  size_t row_count(size_t total) const { return all_rows ? total : rows.size(); }
  size_t record_at(size_t row) const { return all_rows ? row : rows[row]; }
  void refilter(const Controller& c, const ViewSettings& s);
};

}  // namespace smtplab::gui
