// gui/panels.cpp: THE LIST OF PANELS.
//
// To add a panel (e.g. the lessons' gui/panel_lesson.cpp):
//   1. write gui/panel_NAME.cpp with a struct deriving from Panel (panel.hpp)
//      and a factory `std::unique_ptr<Panel> make_NAME_panel()` in namespace
//      smtplab::gui (the file is picked up by the build's glob);
//   2. add ONE line `X(NAME)` to SMTPLAB_GUI_PANELS below. Nothing else:
//      the menu, the settings file and the layout read the panel's id(),
//      title() and slot().
// The order is the order of tabs within a slot.
#include "gui/panels.hpp"

#define SMTPLAB_GUI_PANELS(X) \
  X(playback)                 \
  X(topology)                 \
  X(failures)                 \
  X(seeds)                    \
  X(values)                   \
  X(compose)                  \
  X(scenarios)                \
  X(sequence)                 \
  X(compare)                  \
  X(state_machines)           \
  X(inspector)                \
  X(queues)                   \
  X(events)                   \
  X(lesson)                   \
  X(gallery)

namespace smtplab::gui {

#define SMTPLAB_DECLARE_PANEL(name) std::unique_ptr<Panel> make_##name##_panel();
SMTPLAB_GUI_PANELS(SMTPLAB_DECLARE_PANEL)
#undef SMTPLAB_DECLARE_PANEL

std::vector<std::unique_ptr<Panel>> make_panels() {
  std::vector<std::unique_ptr<Panel>> panels;
#define SMTPLAB_MAKE_PANEL(name) panels.push_back(make_##name##_panel());
  SMTPLAB_GUI_PANELS(SMTPLAB_MAKE_PANEL)
#undef SMTPLAB_MAKE_PANEL
  return panels;
}

}  // namespace smtplab::gui
