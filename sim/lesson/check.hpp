// sim/lesson/check.hpp: where each step sits in the trace, and the checks
// that keep a lesson honest.
//
// plan_lesson() resolves every step's pause, highlight and question reveal on
// the trace of the lesson's scenario; the terminal walk-through and the GUI
// panel follow that plan. check_lesson() verifies, without a student:
// - every pause and highlight finds its records, pauses go forward;
// - every "expect" claim of the narrative holds;
// - every question's revealing record exists after the pause and matches the
//   stated answer (and no other choice): a lesson cannot claim a reply the
//   simulator does not produce;
// - every exercise's teacher solution passes and its non-solution fails.
// Must never: depend on a terminal or the GUI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/lesson/lesson.hpp"
#include "sim/lesson/matcher.hpp"
#include "sim/scenario/run.hpp"

namespace smtplab {

struct StepPlan {
  uint64_t from = 0;    // the previous step's cursor (records after it are new in this step)
  uint64_t pause = 0;   // cursor while the step is shown (0: start of the run)
  uint64_t reveal = 0;  // the record that answers the question (0: none / not found)
  uint64_t end = 0;     // cursor when the step is done (reveal, or pause)
  std::vector<uint64_t> highlight;
  std::vector<std::string> problems;  // "pause: no record matches ..." (the checker reports these)
};

std::vector<StepPlan> plan_lesson(const Lesson& lesson, MatchContext& ctx);

struct ExerciseResult {
  std::vector<ScenarioError> errors;  // the additions do not load: nothing ran
  bool passed = false;
  std::string why;  // for a failure: what the check looked for
  RunResult run;
};

// Runs the lesson's scenario plus `additions` and evaluates the exercise.
ExerciseResult try_exercise(const Lesson& lesson, const Exercise& exercise, const ScenarioAdditions& additions);

struct LessonReport {
  int checks = 0;                       // how many claims were verified
  std::vector<ScenarioError> failures;  // "file: /steps/2/question: reason"
  bool ok() const { return failures.empty(); }
};

LessonReport check_lesson(const Lesson& lesson);

}  // namespace smtplab
