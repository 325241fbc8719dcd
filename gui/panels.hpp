// gui/panels.hpp: the list of panels the lab shows (defined in panels.cpp).
#pragma once

#include <memory>
#include <vector>

#include "gui/panel.hpp"

namespace smtplab::gui {

std::vector<std::unique_ptr<Panel>> make_panels();

}  // namespace smtplab::gui
