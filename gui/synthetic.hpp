// gui/synthetic.hpp: hand-made traces for the GUI's tests and benchmark.
//
// They follow the vocabulary's conventions (kinds.hpp: attrs "verb",
// "code"; src = sender, dst = receiver) so panels can be tested before, and
// independently of, the simulator producing the same records.
// Must never: be used to show anything to a user as if it were a run.
#pragma once

#include <cstddef>

#include "sim/scenario/run.hpp"

namespace smtplab::gui {

// The scenario the synthetic traces name: bob-pc -> smtp.gmail.test (relay)
// -> mx.yahoo.test, ns.test, alice-pc.
Scenario synthetic_scenario();

// Bob's message to Alice as SMTP only: submission session, DNS MX lookup,
// relay session, POP3 fetch 30 min later.
RunResult synthetic_bob_to_alice();

// `n` records of repeated SMTP exchanges (commands, replies, DNS, notes)
// spread over `span` of simulated time, for scaling measurements.
RunResult synthetic_large(size_t n, SimTime span);

}  // namespace smtplab::gui
