// gui/value_candidates.hpp: the values of a scenario a class may want to
// vary in the lab's "What if" tab (a link's loss, a latency, a fault's
// time), each with a label a person reads and a few values to try.
//
// Pure: reads the scenario's JSON text, draws nothing, so the tests check
// it without a window.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace smtplab::gui {

struct ValueCandidate {
  std::string pointer;      // "/links/2/loss"
  std::string label;        // "loss = 0.2 (link edge.gmail.test - internet)"
  nlohmann::json current;   // null: the key is not in the file (a link with no "loss")
  std::string suggestion;   // "0, 0.05, 0.1, 0.2, 0.3": values to compare, as `--set` takes them
};

// Every number, true/false and quantity with a unit ("40ms", "2Mbit") in the
// scenario, in the file's order, then a "loss" for each link that has none
// and for the network's defaults (/network/loss) when the file sets none;
// not the file's version or seed (the seed has a tab of its own), nor text
// (names, bodies). Empty if the text is not a JSON object.
std::vector<ValueCandidate> value_candidates(std::string_view scenario_text);

// Values worth comparing around `current` for a key named `key`: a ladder
// from 0 to 0.3 for a probability (loss, reorder, p_...), halves and doubles
// of a number or a quantity with a unit, both of true/false.
std::string suggested_values(const nlohmann::json& current, std::string_view key);

}  // namespace smtplab::gui
