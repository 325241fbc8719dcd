// gui/panel_sequence.hpp: the sequence diagram panel (exposed for tests).
#pragma once

#include "gui/panel.hpp"
#include "gui/sequence_view.hpp"

namespace smtplab::gui {

struct SequencePanel final : Panel {
  SequenceView view;
  std::string_view id() const override { return "sequence"; }
  std::string_view title() const override { return "Sequence diagram"; }
  Slot slot() const override { return Slot::center; }
  void draw(PanelContext& ctx) override;
};

}  // namespace smtplab::gui
