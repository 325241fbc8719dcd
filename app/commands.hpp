// app/commands.hpp: the `smtplab` subcommands.
//
// Each subcommand lives in its own file and registers itself on the CLI11
// app; its logic sits in functions the tests can call. Exit codes (the CLI
// contract): 0 success, 1 the run failed, 2 bad usage or invalid input.
// Every error goes to stderr as one readable line.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/loader.hpp"
#include "sim/scenario/setting.hpp"
#include "sim/trace/trace.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// The exit code a subcommand's callback decided on.
struct Outcome {
  int code = kExitOk;
};

void register_run(CLI::App& app, Outcome& outcome);
void register_sweep(CLI::App& app, Outcome& outcome);
void register_validate(CLI::App& app, Outcome& outcome);
void register_bench(CLI::App& app, Outcome& outcome);
void register_serve(CLI::App& app, Outcome& outcome);  // sim/bridge present (SMTPLAB_HAVE_BRIDGE)
void register_lesson(CLI::App& app, Outcome& outcome);
void register_gui(CLI::App& app, Outcome& outcome);  // gui/ present (SMTPLAB_HAVE_GUI)

// Loads a scenario file, or the built-in default when `path` is empty, with
// `sets` given on the command line (`--set POINTER=VALUE`, sim/scenario/
// setting.hpp; a setting with a list of values uses its value number
// `value`) and `faults` added (`--fault JSON`: objects in the scenario
// format). The whole is checked as one file; an error names the option:
// "--fault 2: /loss: must be between 0 and 1, got 1.5", "--set
// /links/0/loss=2: /links/0/loss: must be between 0 and 1, got 2".
// Prints every error to `err` and returns nullopt on failure.
std::optional<Scenario> load_or_report(const std::string& path, std::ostream& err,
                                       const std::vector<std::string>& faults = {},
                                       const std::vector<Setting>& sets = {}, size_t value = 0);
// The scenario file's JSON (the built-in one when `path` is empty) with
// `sets` applied (value number `value` of a list). false after a line on
// `err` for each setting that does not apply. Keys stay in the file's
// order: the lab opens the changed text, and Save writes it; load_or_report()
// checks it as a scenario.
bool scenario_document(const std::string& path, const std::vector<Setting>& sets, size_t value,
                       nlohmann::ordered_json& doc, std::ostream& err);
// The `--set` options of `command` ("smtplab run"), parsed into `out`. Up
// to `lists` of them may have several values (a sweep's: 2, a grid; the
// lab's: 1); the others have one. A listed pointer may not be set twice.
// false after one line on `err` saying why.
bool read_settings(const std::vector<std::string>& texts, const char* command, size_t lists, std::vector<Setting>& out,
                   std::ostream& err);
// `--until TEXT` of `command` ("smtplab run"): a duration above 0 into
// `out`, or false after one line on `err` saying why. "" leaves `out` unset.
bool read_until(const std::string& text, const char* command, std::optional<SimTime>& out, std::ostream& err);

// The transcript, then what happened to each message (sim/trace/fates.hpp).
void write_story(std::ostream& out, const Trace& trace, const TranscriptOptions& opt = {});

// `smtplab` with no subcommand: the GUI where there is one, else a transcript.
int run_default(std::ostream& out, std::ostream& err);

}  // namespace smtplab::app
