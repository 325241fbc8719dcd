// gui/scenario_writer.hpp: saving a run back as a scenario file.
//
// The GUI adds faults and messages to a scenario; "save as scenario" keeps
// the teacher's original file as it was (every key, every host) and appends
// the added faults and messages in the loader's own format. The result is
// checked by loading it again before it is written: a saved file always loads.
// Must never: write a file the loader would reject.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace smtplab::gui {

// "250ms", "90s", "30min", "2h": the shortest exact form parse_duration reads back.
std::string duration_text(SimTime d);

// One fault / message as the loader's JSON (only the keys its type takes).
std::string fault_to_json(const Fault& f);
std::string message_to_json(const MessageSpec& m);

// `original` is the scenario's JSON text; returns the new text, or "" and
// `error` when the result would not load. `dropped` lists the indices of the
// original's own faults to leave out (the GUI's switched-off faults); `seed`,
// when given, replaces the scenario's seed.
std::string scenario_with_additions(std::string_view original, const std::vector<Fault>& faults,
                                    const std::vector<MessageSpec>& messages, std::string* error,
                                    const std::vector<size_t>& dropped = {}, std::optional<uint64_t> seed = std::nullopt);

}  // namespace smtplab::gui
