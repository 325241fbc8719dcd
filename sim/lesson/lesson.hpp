// sim/lesson/lesson.hpp: the lesson format (version 1) as plain data.
//
// A lesson is what a teacher writes (lessons/NN-name.json): a scenario (a
// file in scenarios/ or inline), and steps. A step has narrative text with
// key terms, corrected misconceptions with RFC citations, a record to pause
// the playback at, records to highlight, "predict" questions whose answer a
// named trace record reveals, and exercises checked against the trace of a
// re-run with the student's faults. Everything that refers to the trace is a
// declarative matcher (matcher.hpp), never code.
//
// Invariants (guaranteed by the loader): every matcher compiled (regexes
// valid, kinds and layers known), every question has >= 2 choices and an
// answer in range, every exercise has a solution and a non-solution that
// load as scenario additions, and `scenario` is a validated Scenario.
// Must never: depend on the GUI, the CLI or a terminal.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/scenario/loader.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/fates.hpp"
#include "sim/trace/kinds.hpp"

namespace smtplab {

inline constexpr int kLessonVersion = 1;

// A predicate over one trace record. Every field that is set must hold.
struct RecordMatcher {
  std::vector<Kind> kinds;    // any of (empty: any kind)
  std::vector<Layer> layers;  // any of
  std::string src, dst;       // exact host names
  std::string host;           // src or dst
  std::string text;           // substring of the record's text
  std::string text_regex_source;
  std::optional<std::regex> text_regex;  // searched (not anchored) in the text
  std::string wire;                      // substring of the raw bytes
  std::string wire_regex_source;
  std::optional<std::regex> wire_regex;  // searched in the raw bytes (bounded: see loader)
  std::vector<std::pair<std::string, std::string>> attrs;  // exact values
  std::vector<std::pair<std::string, std::string>> attrs_regex_source;
  std::vector<std::pair<std::string, std::regex>> attrs_regex;
  bool student_fault = false;  // a record of a fault the student added (its "fault" attribute >= the scenario's count)
  // Relations to other records (each "the first record matching ...").
  std::shared_ptr<RecordMatcher> after;      // this record comes after that one
  std::shared_ptr<RecordMatcher> before;     // ... before that one
  std::optional<SimTime> within;             // at most this long after `after`
  std::shared_ptr<RecordMatcher> caused_by;  // some record in the cause chain matches
  int nth = 1;                               // which match counts where one record is meant

  // "smtp-reply with attrs.code=354 after (smtp-command with attrs.verb=DATA)"
  std::string describe() const;
};

// What happened to a recipient by the end of the run, or by the time `at`
// into it (sim/trace/fates.hpp): holds when some message (the scenario's
// message `message`, if given) has the recipient `rcpt` in one of `states`,
// and, where given, cut short or not, delivered more than once or not.
struct FateMatch {
  std::string rcpt;
  int64_t message = -1;           // -1: any message
  std::vector<FateState> states;  // empty: any state
  std::optional<bool> cut, duplicate;
  std::optional<SimTime> at;      // the fold of the records up to this time (none: the whole run)
  // "alice@yahoo.test (message 0) bounced or refused, not cut short at 1 h into the run"
  std::string describe() const;
  bool holds(const RecipientFate& f) const;
};

// A predicate over a whole trace.
struct Check {
  enum class Op { exists, absent, count, order, all, any, not_, fate };
  Op op = Op::exists;
  FateMatch fate;                    // fate
  RecordMatcher match;               // exists, absent, count
  int min = 0, max = -1;             // count (max -1: no upper bound)
  std::vector<RecordMatcher> order;  // order: one record per matcher, in this order
  std::vector<Check> checks;         // all, any, not_ (one)
  std::string pointer;               // where it sits in the lesson file
  std::string describe() const;
};

struct Term {
  std::string term;
  std::string meaning;
};

// A common wrong explanation, what really happens, and where the RFC says so.
struct Myth {
  std::string claim;
  std::string truth;
  std::string cite;  // "RFC 5321 4.5.2"
};

struct Choice {
  std::string text;
  std::optional<RecordMatcher> match;  // how the revealing record looks if this choice were right
  std::string why;                     // shown when a student picks it
};

struct Question {
  std::string prompt;
  std::vector<Choice> choices;  // letters a, b, c ... in order
  int answer = 0;               // index into choices
  RecordMatcher reveal;         // the first record after the pause matching this reveals the answer
  std::string explain;          // shown either way
  std::string pointer;
};

// What a student (or the teacher's solution) changes in the lesson's
// scenario: {"faults": [...], "messages": [...]} added in the scenario
// format, and "switch_off": [0, ...], the indices of the scenario's own
// faults to leave out ("what if it had not happened"; every fault keeps its
// index, so student_fault checks still tell the student's from the rest).
struct ScenarioAdditions {
  nlohmann::json faults = nlohmann::json::array();
  nlohmann::json messages = nlohmann::json::array();
  std::vector<size_t> switch_off;
  // For people: the added faults as JSON, then "switch off fault N" for each.
  std::string describe() const;
};

struct Exercise {
  std::string task;
  std::string hint;
  Check check;
  std::string explain;
  ScenarioAdditions solution;      // teacher section: must pass
  ScenarioAdditions non_solution;  // teacher section: must fail
  std::string pointer;
};

struct Step {
  std::string title;
  std::string text;
  std::vector<Term> terms;
  std::vector<Myth> myths;
  std::vector<std::string> rfc;
  std::optional<RecordMatcher> pause;      // playback cursor: the record this step shows last
  std::optional<RecordMatcher> highlight;  // records drawn highlighted
  uint32_t layers = 0;                     // transcript layers to show (0: the default set)
  std::vector<Check> expect;               // claims the narrative makes about the trace
  std::optional<Question> question;
  std::optional<Exercise> exercise;
  std::string pointer;
};

struct Lesson {
  std::string id;    // file name without .json
  std::string file;  // path it was loaded from
  std::string title;
  std::string summary;             // one line for the list
  std::string scenario_ref;        // "bob-to-alice.json", or "" when inline
  nlohmann::json scenario_json;    // the scenario document (for re-runs with additions)
  Scenario scenario;               // validated
  std::vector<Step> steps;
};

struct LessonLoad {
  std::optional<Lesson> lesson;
  std::vector<ScenarioError> errors;  // "file: /json/pointer: reason"
  bool ok() const { return lesson.has_value() && errors.empty(); }
};

inline constexpr size_t kMaxLessonBytes = 1024 * 1024;
inline constexpr int kMaxLessonDepth = 32;

// scenarios_dir: where "scenario": "NAME.json" references are resolved.
LessonLoad load_lesson_file(const std::string& path, const std::string& scenarios_dir);
LessonLoad load_lesson_text(std::string_view text, const std::string& source_name, const std::string& id,
                            const std::string& scenarios_dir);

// The lesson's scenario plus additions, loaded and validated again (the
// loader checks the added faults and messages exactly as in a scenario file),
// with the switched-off faults disabled (Fault::enabled). Errors point into
// the additions: "<source>: /faults/0/host: ...", "/switch_off/0: ...".
LoadResult scenario_with(const Lesson& lesson, const ScenarioAdditions& additions, const std::string& source);

// Reads {"faults": [...], "messages": [...], "switch_off": [...]} (strict).
// `ptr` prefixes errors. Whether a switch_off index names one of the
// scenario's faults is checked by scenario_with().
std::optional<ScenarioAdditions> read_additions(const nlohmann::json& j, const std::string& file, const std::string& ptr,
                                                std::vector<ScenarioError>& errors);

// For each object type of the format, the keys the loader accepts; the
// schema test compares lessons/schema.json with this table.
const std::map<std::string, std::vector<std::string>>& lesson_allowed_keys();

// The lesson files of a directory (*.json but schema.json), sorted by name,
// which is teaching order. Subfolders (drafts/) are not included.
std::vector<std::string> lesson_files(const std::string& dir);
std::string lesson_id_of(const std::string& path);

}  // namespace smtplab
