// sim/agents/world.cpp: building and starting the world.
#include "sim/agents/world.hpp"

#include "sim/faults/catalog.hpp"

namespace smtplab {

namespace {

std::string fault_summary(const Fault& f) {
  std::string s = f.type;
  if (!f.host.empty()) s += " on " + f.host;
  if (f.link.size() == 2) s += " on link " + f.link[0] + " - " + f.link[1];
  if (!f.domain.empty()) s += " for " + f.domain + " (" + f.mode + ")";
  if (!f.verb.empty()) s += ": " + std::to_string(f.code ? f.code : 0) + " at " + f.verb + (f.nth ? " #" + std::to_string(f.nth) : " (every)");
  if (f.until) s += ", until " + format_duration(*f.until);
  return s;
}

}  // namespace

World::World(const Scenario& scenario, Engine& engine, Trace& trace)
    : scenario_(scenario), engine_(engine), trace_(trace) {}

World::~World() = default;

void World::start() {
  Record r;
  r.kind = Kind::run_start;
  r.text = "scenario \"" + (scenario_.name.empty() ? scenario_.source : scenario_.name) + "\", seed " +
           std::to_string(scenario_.seed) + ", duration " + format_duration(scenario_.duration);
  r.with("seed", std::to_string(scenario_.seed)).with("duration_us", std::to_string(scenario_.duration.us));
  trace_.emit(std::move(r));
  schedule_faults();
  schedule_messages();
}

void World::schedule_faults() {
  for (size_t i = 0; i < scenario_.faults.size(); ++i) {
    const Fault f = scenario_.faults[i];
    engine_.set_cause(0);
    engine_.at(f.at, [this, f, i] {
      Record r;
      r.kind = Kind::fault_injected;
      r.src = f.host;
      r.text = fault_summary(f);
      r.with("fault", std::to_string(i)).with("type", f.type);
      trace_.emit(std::move(r));
    });
    if (f.until) {
      engine_.at(*f.until, [this, f, i] {
        Record r;
        r.kind = Kind::fault_cleared;
        r.src = f.host;
        r.text = f.type + " ends";
        r.with("fault", std::to_string(i)).with("type", f.type);
        trace_.emit(std::move(r));
      });
    }
  }
}

void World::schedule_messages() {
  for (size_t i = 0; i < scenario_.messages.size(); ++i) {
    const MessageSpec m = scenario_.messages[i];
    engine_.set_cause(0);
    engine_.at(m.at, [this, m, i] {
      Record r;
      r.kind = Kind::message_composed;
      r.src = m.via;
      std::string rcpts;
      for (const auto* list : {&m.to, &m.cc, &m.bcc})
        for (const std::string& a : *list) rcpts += (rcpts.empty() ? "" : ", ") + a;
      r.text = m.from + " writes \"" + m.subject + "\" to " + rcpts;
      r.with("message", std::to_string(i)).with("from", m.from);
      trace_.emit(std::move(r));
    });
  }
}

void World::finish() {
  Record r;
  r.kind = Kind::run_end;
  r.text = "run ends at " + format_duration(engine_.now()) + " after " + std::to_string(engine_.executed()) + " events";
  trace_.emit(std::move(r));
}

}  // namespace smtplab
