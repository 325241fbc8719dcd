// gui/controller.hpp: the one place where the GUI changes anything.
//
// Panels read the controller (const) and post commands; the controller
// applies them between frames (apply_pending), so no panel ever sees the
// trace change under it in the middle of drawing. The controller owns the
// current scenario, the faults and messages added in the GUI, the run
// computed from them (run_scenario: a pure function, DESIGN.md), the
// playback cursor and the selection, and an optional second run to compare.
//
// Injecting a fault at the cursor = the same scenario plus one more timed
// fault, re-run from zero; determinism keeps the prefix before the cursor
// identical and the cursor stays where it was.
//
// Must never: mutate simulation state other than by re-running; draw anything.
// Invariants: index_ always indexes run_->trace.records(); cursor_ < size()
// when the trace is not empty; selection is 0 or a seq present in the trace.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gui/trace_index.hpp"
#include "sim/scenario/loader.hpp"
#include "sim/scenario/run.hpp"
#include "sim/scenario/setting.hpp"
#include "sim/scenario/sweep.hpp"
#include "sim/trace/fates.hpp"

namespace smtplab::gui {

enum class StepUnit { event, exchange, failure };

// The lab sweeps on threads of its own while the window draws on, showing
// how far it has got: at most this many seeds (mail-loop, the slowest
// scenario shipped, takes about ten seconds); `smtplab sweep` takes up to
// 1,000,000.
inline constexpr uint64_t kMaxLabSweep = 10000;

namespace cmd {
struct OpenFile { std::string path; };
struct Reload {};
struct Play { bool on; };
struct SetSpeed { double speed; };
struct Seek { int64_t us; };
struct Step { int direction; StepUnit unit; };  // direction +1 / -1
struct JumpNext {};                             // to the next event's time
struct Select { uint64_t seq; bool move_cursor; };
struct InjectFault { Fault fault; };           // fault.at is set to the cursor when negative
struct RemoveFault { size_t index; };
struct SetScenarioFault { size_t index; bool on; };  // switch one of the scenario's own faults off (what if) or back on
struct Compose { MessageSpec message; };
struct RemoveMessage { size_t index; };
struct PinBaseline {};
struct ClearBaseline {};
struct SaveScenario { std::string path; };
// Run with this random seed instead of the scenario's (nullopt: its own
// again). The seed decides which packets a lossy link loses, so a seed that
// `smtplab sweep` found can be watched here.
struct SetSeed { std::optional<uint64_t> seed; };
// Run this setup (scenario, added faults and messages, switched-off faults)
// with seeds 1 to `seeds` and count how each message ended
// (sim/scenario/sweep.hpp); the seeds panel lists the outcomes.
// It runs in the background (sweep_running()); a sweep already running is
// dropped for the new one.
struct Sweep { uint64_t seeds; };  // clamped to 1..kMaxLabSweep
// Stops the sweep running, if any; the last finished one stays.
struct CancelSweep {};
// What if one value of the scenario were another: the run on screen uses
// `value` at `pointer` (a JSON pointer into the scenario file, as
// `--set POINTER=VALUE`); nullopt: the file's own value again. The
// value is checked as a file would be; one the format refuses changes
// nothing and the status says why. One such value at a time.
struct SetValue {
  std::string pointer;
  std::optional<nlohmann::json> value;
};
// Sweeps this setup once per value at `pointer`, seeds 1 to `seeds` each
// (`smtplab sweep --set POINTER=V1,V2,...`), one value after another in
// the background; comparison() shows them side by side. At most
// kMaxLabSweep runs in all and kMaxSettingValues values.
struct CompareValues {
  std::string pointer;
  std::vector<nlohmann::json> values;
  uint64_t seeds = 100;
};
// Stops the comparison running, if any; the last finished one stays.
struct CancelCompare {};
// The current run's packets as a pcap file (sim/capture): at every sender,
// or as `host`'s interface sees them.
struct ExportCapture {
  std::string path;
  std::string host;
};
}  // namespace cmd

using Command = std::variant<cmd::OpenFile, cmd::Reload, cmd::Play, cmd::SetSpeed, cmd::Seek, cmd::Step, cmd::JumpNext,
                             cmd::Select, cmd::InjectFault, cmd::RemoveFault, cmd::SetScenarioFault, cmd::Compose,
                             cmd::RemoveMessage,
                             cmd::PinBaseline, cmd::ClearBaseline, cmd::SaveScenario, cmd::ExportCapture,
                             cmd::SetSeed, cmd::Sweep, cmd::CancelSweep, cmd::SetValue, cmd::CompareValues,
                             cmd::CancelCompare>;

// A computed run and its index, shared so a compare view can keep one alive.
struct RunView {
  std::shared_ptr<const RunResult> run;
  TraceIndex index;
  std::string label;
};

class Controller {
 public:
  Controller();

  // Loads a scenario (file path, or "" for the built-in) and runs it now.
  // On error the previous scenario stays and errors() says why.
  bool open(const std::string& path);
  // Uses this scenario text (`source` names it in errors).
  bool open_text(const std::string& text, const std::string& source);
  // Tests and benchmarks: show a trace that no scenario produced.
  void adopt(RunResult run, Scenario scenario);

  void post(Command c) { pending_.push_back(std::move(c)); }
  void apply_pending();
  void apply(const Command& c);

  // Advances playback by this much wall time (seconds) when playing; checks
  // the scenario file for changes about once a second.
  void tick(double wall_seconds);

  // ---- read-only view for panels
  const Scenario& scenario() const { return scenario_; }
  const std::string& scenario_path() const { return path_; }
  // The scenario file's text as read ("" for the built-in one and adopted
  // runs), without the value cmd::SetValue changed.
  const std::string& scenario_text() const { return text_; }
  const std::vector<ScenarioError>& errors() const { return errors_; }
  const std::string& status() const { return status_; }
  const std::vector<Fault>& added_faults() const { return faults_; }
  // The scenario's own faults switched off for this run (sorted indices).
  const std::vector<size_t>& disabled_faults() const { return disabled_; }
  bool scenario_fault_on(size_t i) const;
  const std::vector<MessageSpec>& added_messages() const { return messages_; }
  // The seed of the run on screen, and whether it is not the scenario's own.
  uint64_t seed() const { return seed_.value_or(scenario_.seed); }
  bool seed_overridden() const { return seed_.has_value(); }
  // The last sweep of this setup (cmd::Sweep), or nullptr: none yet, or the
  // setup changed since (another scenario, a fault added or switched off, a
  // message composed). Changing the seed keeps it: a sweep covers seeds.
  const SweepSummary* sweep_result() const { return sweep_ && sweep_setup_ == setup_ ? sweep_.get() : nullptr; }
  // The sweep running now: runs done of how many, and for how long.
  struct SweepProgress {
    uint64_t done = 0, total = 0;
    double seconds = 0;
  };
  std::optional<SweepProgress> sweep_running() const;
  // Takes the running sweep's summary if it has finished (apply_pending()
  // asks every frame); true if it did.
  bool poll_sweep();
  // Waits for the running sweep and takes its summary (screenshots, tests).
  void wait_sweep();
  // The value changed by cmd::SetValue, if any.
  struct Value {
    std::string pointer;
    nlohmann::json value;
    bool operator==(const Value&) const = default;
  };
  const std::optional<Value>& value() const { return value_; }
  // The last comparison of values (cmd::CompareValues) of this setup, or
  // nullptr: none yet, or the setup changed since. Watching one of its
  // values (cmd::SetValue at its pointer) or seeds keeps it.
  struct Comparison {
    std::string pointer;
    std::vector<nlohmann::json> values;
    std::vector<SweepSummary> sweeps;  // one per value, in order
    std::optional<Value> base;         // a value set elsewhere when it ran (cmd::SetValue at another pointer)
  };
  const Comparison* comparison() const;
  // Why the last cmd::CompareValues was refused ("" when it started).
  const std::string& compare_error() const { return compare_error_; }
  // The comparison running now: which value (0-based) of how many, that
  // value's runs done, and for how long in all.
  struct CompareProgress {
    size_t value = 0, values = 0;
    uint64_t done = 0, seeds = 0;
    double seconds = 0;
  };
  std::optional<CompareProgress> compare_running() const;
  bool poll_compare();  // apply_pending() asks every frame; true once it has finished
  void wait_compare();  // screenshots, tests
  const TraceIndex& index() const { return current_.index; }
  const RunView& current() const { return current_; }
  const RunView* baseline() const { return baseline_.run ? &baseline_ : nullptr; }
  const std::vector<Record>& records() const { return current_.index.records(); }
  size_t size() const { return current_.index.size(); }
  size_t cursor() const { return cursor_; }
  int64_t now() const { return now_us_; }
  int64_t end_time() const;
  bool playing() const { return playing_; }
  double speed() const { return speed_; }
  uint64_t selected() const { return selected_; }
  const Record* selected_record() const;
  const Record* cursor_record() const { return size() ? &records()[cursor_] : nullptr; }
  uint64_t generation() const { return generation_; }  // bumps on every new run
  size_t reruns() const { return reruns_; }
  // What happened to each message at the cursor (sim/trace/fates.hpp): the
  // run is folded once, then each cursor position reads the history, so a
  // frame during playback does not fold the whole trace again.
  // At most `limit` messages, in order; a view that lists them shows the
  // first few hundred (a run of 80,000 messages would not be read anyway).
  std::vector<MessageFate> fates_at_cursor(size_t limit) const;
  size_t messages_at_cursor() const;
  // The message a mail record is about, at the cursor, if any.
  std::optional<MessageFate> fate_of_at_cursor(const Record& r) const;

 private:
  // What changed since the last run: the setup (anything a sweep depends
  // on), only the seed, or only the value of cmd::SetValue.
  enum class Change { setup, seed, value };
  void rerun(Change change = Change::setup);
  // The scenario file's text (the built-in one's for none), and the same
  // with value_ applied.
  std::string file_text() const;
  std::string effective_text() const;
  // `text` with `pointer` set to `value`, loaded as a file would be; its
  // name says what was changed. nullopt and *why if refused.
  std::optional<Scenario> scenario_with_value(const std::string& text, const std::string& pointer,
                                              const nlohmann::json& value, std::string* why) const;
  // value_ if it is at another pointer than `pointer`: what a comparison at
  // `pointer` depends on.
  std::optional<Value> value_besides(const std::string& pointer) const;
  // The run options of this setup (added faults and messages, switched-off
  // faults), seed aside: the run on screen adds its seed, a sweep its own.
  RunOptions setup_options() const;
  void set_cursor(size_t i, bool select);
  void seek_time(int64_t us);
  void step(int dir, StepUnit unit);
  bool reload_if_changed();

  Scenario scenario_;
  std::string text_;  // the scenario's JSON, for saving
  std::string path_;  // "" = built-in
  std::filesystem::file_time_type mtime_{};
  double since_check_ = 0;
  std::vector<ScenarioError> errors_;
  std::string status_;
  std::vector<Fault> faults_;
  std::vector<size_t> disabled_;  // of the scenario's faults, sorted
  std::optional<uint64_t> seed_;  // instead of the scenario's (SetSeed); kept when the file is reloaded
  uint64_t setup_ = 0;            // bumps on every rerun but a change of seed
  std::shared_ptr<const SweepSummary> sweep_;
  uint64_t sweep_setup_ = 0;      // the setup_ it was made for
  std::unique_ptr<SweepJob> sweep_job_;  // running, or finished and not yet taken
  uint64_t sweep_job_setup_ = 0;
  std::chrono::steady_clock::time_point sweep_start_{};
  void adopt_sweep();  // sweep_job_ has finished: take its summary
  std::optional<Value> value_;
  uint64_t compare_setup_ = 0;  // bumps on every rerun but a change of seed or value
  std::shared_ptr<const Comparison> comparison_;
  uint64_t comparison_setup_ = 0;
  struct CompareJob {
    Comparison result;  // sweeps filled in as each value's ends
    std::vector<Scenario> scenarios;  // one per value
    RunOptions options;
    uint64_t seeds = 0;
    std::unique_ptr<SweepJob> job;  // the value result.sweeps.size()'s
    uint64_t setup = 0;
    std::chrono::steady_clock::time_point start{};
  };
  std::unique_ptr<CompareJob> compare_job_;
  std::string compare_error_;
  void start_compare_value();
  bool advance_compare(bool wait);
  std::vector<MessageSpec> messages_;
  RunView current_;
  RunView baseline_;
  size_t cursor_ = 0;
  int64_t now_us_ = 0;
  bool playing_ = false;
  double speed_ = 1.0;
  uint64_t selected_ = 0;
  uint64_t generation_ = 0;
  mutable uint64_t fates_for_ = ~0ull;  // the generation fates_ was folded for
  mutable FateHistory fates_;
  const FateHistory& fate_history_now() const;
  size_t reruns_ = 0;
  std::deque<Command> pending_;
};

}  // namespace smtplab::gui
