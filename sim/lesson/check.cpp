// sim/lesson/check.cpp: lesson plans and the lesson checker.
#include "sim/lesson/check.hpp"

namespace smtplab {

namespace {

std::string show(const Record& r) {
  std::string t = r.text.substr(0, r.text.find('\n'));
  if (t.size() > 70) t = t.substr(0, 67) + "...";
  return "#" + std::to_string(r.seq) + " " + std::string(kind_name(r.kind)) + " \"" + t + "\"";
}

char letter(size_t i) { return static_cast<char>('a' + i); }

}  // namespace

std::vector<StepPlan> plan_lesson(const Lesson& lesson, MatchContext& ctx) {
  std::vector<StepPlan> plans;
  uint64_t cursor = 0;
  for (const Step& step : lesson.steps) {
    StepPlan p;
    p.from = cursor;
    p.pause = cursor;
    if (step.pause) {
      const Record* r = ctx.find(*step.pause);
      if (!r) {
        p.problems.push_back("pause: no record matches: " + step.pause->describe());
      } else if (r->seq < cursor) {
        p.problems.push_back("pause: " + show(*r) + " comes before where the previous step left the playback (#" +
                             std::to_string(cursor) + "); steps go forward through the trace (use \"after\" or \"nth\")");
      } else {
        p.pause = r->seq;
      }
    }
    if (step.highlight) {
      for (const Record* r : ctx.find_all(*step.highlight)) p.highlight.push_back(r->seq);
      if (p.highlight.empty()) p.problems.push_back("highlight: no record matches: " + step.highlight->describe());
    }
    p.end = p.pause;
    if (step.question) {
      const Record* r = ctx.find(step.question->reveal, p.pause);
      if (!r) {
        p.problems.push_back("question: no record after the pause (" +
                             (p.pause ? "#" + std::to_string(p.pause) : std::string("start of the run")) +
                             ") reveals the answer: " + step.question->reveal.describe());
      } else {
        p.reveal = r->seq;
        p.end = r->seq;
      }
    }
    cursor = p.end;
    plans.push_back(std::move(p));
  }
  return plans;
}

ExerciseResult try_exercise(const Lesson& lesson, const Exercise& exercise, const ScenarioAdditions& additions) {
  ExerciseResult out;
  LoadResult lr = scenario_with(lesson, additions, lesson.file + " (with your additions)");
  if (!lr.ok()) {
    out.errors = std::move(lr.errors);
    return out;
  }
  out.run = run_scenario(*lr.scenario);
  MatchContext ctx(out.run.trace, lesson.scenario.faults.size());
  CheckResult r = evaluate(exercise.check, ctx);
  out.passed = r.ok;
  out.why = r.why;
  return out;
}

LessonReport check_lesson(const Lesson& lesson) {
  LessonReport report;
  auto fail = [&](const std::string& ptr, std::string message) {
    report.failures.push_back(ScenarioError{lesson.file, ptr, 0, 0, std::move(message)});
  };
  RunResult run = run_scenario(lesson.scenario);
  MatchContext ctx(run.trace, lesson.scenario.faults.size());
  std::vector<StepPlan> plans = plan_lesson(lesson, ctx);
  for (size_t i = 0; i < lesson.steps.size(); ++i) {
    const Step& step = lesson.steps[i];
    const StepPlan& plan = plans[i];
    report.checks += (step.pause ? 1 : 0) + (step.highlight ? 1 : 0) + (step.question ? 1 : 0);
    for (const std::string& problem : plan.problems) {
      const std::string key = problem.substr(0, problem.find(':'));
      fail(step.pointer + "/" + key, problem.substr(problem.find(':') + 2));
    }
    for (const Check& c : step.expect) {
      ++report.checks;
      CheckResult r = evaluate(c, ctx);
      if (!r.ok) fail(c.pointer, r.why);
    }
    if (step.question && plan.reveal) {
      const Question& q = *step.question;
      const Record& revealed = *ctx.trace().find(plan.reveal);
      const Choice& right = q.choices[static_cast<size_t>(q.answer)];
      if (right.match && !ctx.matches(*right.match, revealed))
        fail(q.pointer + "/choices/" + std::to_string(q.answer),
             "the simulator reveals " + show(revealed) + ", but the answer (" + letter(static_cast<size_t>(q.answer)) +
                 ") expects " + right.match->describe());
      for (size_t c = 0; c < q.choices.size(); ++c) {
        if (static_cast<int>(c) == q.answer || !q.choices[c].match) continue;
        ++report.checks;
        if (ctx.matches(*q.choices[c].match, revealed))
          fail(q.pointer + "/choices/" + std::to_string(c),
               std::string("wrong choice (") + letter(c) + ") also matches the revealing record " + show(revealed) +
                   "; the question has two right answers");
      }
    }
    if (step.exercise) {
      const Exercise& e = *step.exercise;
      report.checks += 2;
      ExerciseResult sol = try_exercise(lesson, e, e.solution);
      for (const ScenarioError& err : sol.errors)
        fail(e.pointer + "/teacher/solution" + err.pointer, err.message);
      if (sol.errors.empty() && !sol.passed)
        fail(e.pointer + "/teacher/solution", "the teacher's solution does not pass: " + sol.why);
      ExerciseResult non = try_exercise(lesson, e, e.non_solution);
      for (const ScenarioError& err : non.errors)
        fail(e.pointer + "/teacher/non_solution" + err.pointer, err.message);
      if (non.errors.empty() && non.passed)
        fail(e.pointer + "/teacher/non_solution",
             "the non-solution passes the check, so the check cannot tell a right answer from a wrong one: " +
                 e.check.describe());
    }
  }
  return report;
}

}  // namespace smtplab
