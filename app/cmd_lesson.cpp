// app/cmd_lesson.cpp: `smtplab lesson [ID] [--check] [--teacher]`.
//
//   smtplab lesson              lists the lessons (id, title, one line)
//   smtplab lesson ID           walks through one, step by step, in a terminal
//   smtplab lesson ID --check   verifies a lesson against the simulator (all with no ID)
//
// The walk reads lines from stdin, so it works the same from a keyboard, a
// pipe or a file; end of input leaves the lesson cleanly (exit 0). All the
// lesson logic (plans, matchers, exercise checks) lives in sim/lesson; this
// file only prints and reads.
// Must never: block without a prompt, or loop on bad input without bound.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string_view>

#include "app/commands.hpp"
#include "sim/lesson/check.hpp"
#include "sim/trace/fates.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

namespace {

namespace fs = std::filesystem;

struct LessonArgs {
  std::string id;
  std::string dir;
  bool check = false;
  bool teacher = false;
};

// Where the lessons are: --dir, $SMTPLAB_LESSONS_DIR, ./lessons, or the
// source tree this binary was built from.
std::string lessons_dir(const LessonArgs& a) {
  if (!a.dir.empty()) return a.dir;
  if (const char* env = std::getenv("SMTPLAB_LESSONS_DIR"); env && *env) return env;
  std::error_code ec;
  if (fs::is_directory("lessons", ec) && fs::exists("lessons/schema.json", ec)) return "lessons";
  return std::string(SMTPLAB_SOURCE_DIR) + "/lessons";
}

// The scenarios/ folder beside the lessons folder (or beside a parent, for
// lessons/drafts/).
std::string scenarios_dir_for(const std::string& lessons) {
  fs::path p = fs::absolute(fs::path(lessons)).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  std::error_code ec;
  for (int up = 0; up < 3 && p.has_parent_path(); ++up) {
    if (fs::is_directory(p.parent_path() / "scenarios", ec)) return (p.parent_path() / "scenarios").string();
    p = p.parent_path();
  }
  return (fs::path(lessons).parent_path() / "scenarios").string();
}

std::string strip_number(const std::string& id) {
  size_t i = 0;
  while (i < id.size() && std::isdigit(static_cast<unsigned char>(id[i]))) ++i;
  return (i > 0 && i < id.size() && id[i] == '-') ? id.substr(i + 1) : id;
}

// The file of lesson `id` ("06-lone-dot", or "lone-dot" without its number).
std::string find_lesson(const std::string& dir, const std::string& id) {
  const auto files = lesson_files(dir);
  for (const std::string& f : files)
    if (lesson_id_of(f) == id) return f;
  for (const std::string& f : files)
    if (strip_number(lesson_id_of(f)) == id) return f;
  // Just the number: "6" or "06".
  if (!id.empty() && id.size() <= 3 && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    for (const std::string& f : files) {
      const std::string stem = lesson_id_of(f);
      const size_t dash = stem.find('-');
      if (dash == std::string::npos || dash == 0 || dash > 6) continue;
      if (!std::all_of(stem.begin(), stem.begin() + static_cast<long>(dash), [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      if (std::stoi(stem.substr(0, dash)) == std::stoi(id)) return f;
    }
  }
  return {};
}

// Each paragraph (line) of `text` folded to `width` columns under `indent`;
// an empty one stays an empty line.
std::string wrap(const std::string& text, const std::string& indent, size_t width = 78) {
  std::string out;
  std::istringstream paragraphs(text);
  std::string para;
  while (std::getline(paragraphs, para)) {
    if (para.find_first_not_of(" \t") == std::string::npos) {
      out += indent.substr(0, indent.find_last_not_of(' ') + 1) + "\n";
      continue;
    }
    out += indent;
    append_folded(out, para, indent.size(), indent.size(), width);
  }
  return out;
}

class Walk {
 public:
  // echo: repeat each line read (stdin is a pipe or a file, so the
  // transcript shows what was answered).
  Walk(const Lesson& lesson, bool teacher, bool echo, std::istream& in, std::ostream& out)
      : lesson_(lesson), teacher_(teacher), echo_(echo), in_(in), out_(out) {}

  int run() {
    out_ << "Lesson " << lesson_.id << ": " << lesson_.title << "\n" << wrap(lesson_.summary, "  ");
    out_ << "Scenario: " << (lesson_.scenario.name.empty() ? lesson_.scenario_ref : lesson_.scenario.name)
         << (lesson_.scenario_ref.empty() ? " (inline)" : " (scenarios/" + lesson_.scenario_ref + ")") << "\n";
    if (teacher_) out_ << "Teacher mode: answers and solutions are shown.\n";
    out_ << "Press Enter to continue, q then Enter to quit.\n";
    RunResult run = run_scenario(lesson_.scenario);
    MatchContext ctx(run.trace, lesson_.scenario.faults.size());
    const std::vector<StepPlan> plans = plan_lesson(lesson_, ctx);
    int right = 0, asked = 0, solved = 0, exercises = 0;
    for (size_t i = 0; i < lesson_.steps.size(); ++i) {
      const Step& step = lesson_.steps[i];
      const StepPlan& plan = plans[i];
      out_ << "\n[" << (i + 1) << "/" << lesson_.steps.size() << "] " << step.title << "\n";
      out_ << wrap(step.text, "  ");
      if (!step.terms.empty()) {
        out_ << "  Key terms:\n";
        for (const Term& t : step.terms) out_ << wrap(t.term + ": " + t.meaning, "    ");
      }
      for (const Myth& m : step.myths) {
        out_ << "  Often said: \"" << m.claim << "\"\n";
        out_ << wrap("In fact: " + m.truth + " (" + m.cite + ")", "    ");
      }
      if (!step.rfc.empty()) {
        out_ << "  See:";
        for (const std::string& r : step.rfc) out_ << " " << r << ";";
        out_ << "\n";
      }
      show_records(run.trace, plan.from, plan.pause, step, plan);
      if (step.question) {
        ++asked;
        auto verdict = ask(*step.question);
        if (!verdict) return quit();
        if (*verdict) ++right;
        if (plan.reveal) {
          out_ << "  The simulator shows:\n";
          show_records(run.trace, plan.pause, plan.reveal, step, plan);
        }
      }
      if (step.exercise) {
        ++exercises;
        auto solved_it = exercise(*step.exercise);
        if (!solved_it) return quit();
        if (*solved_it) ++solved;
      }
      if (i + 1 < lesson_.steps.size() && !pause()) return quit();
    }
    out_ << "\nEnd of the lesson.";
    if (asked) out_ << " Questions: " << right << "/" << asked << " right.";
    if (exercises) out_ << " Exercises: " << solved << "/" << exercises << " solved.";
    out_ << "\n";
    return kExitOk;
  }

 private:
  int quit() {
    out_ << "\n(leaving the lesson)\n";
    return kExitOk;
  }

  // Reads one line; nullopt at end of input or "q".
  std::optional<std::string> read_line() {
    std::string line;
    if (!std::getline(in_, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (echo_) out_ << line << '\n';
    if (line == "q" || line == "quit") return std::nullopt;
    return line;
  }

  bool pause() {
    out_ << "-- Enter to continue --" << std::flush;
    auto l = read_line();
    if (!echo_) out_ << "\n";
    return l.has_value();
  }

  void show_records(const Trace& trace, uint64_t from, uint64_t to, const Step& step, const StepPlan& plan) {
    if (to <= from) return;
    TranscriptOptions opt;
    if (step.layers) opt.layer_mask = step.layers;
    std::vector<std::string> lines;
    for (uint64_t seq = from + 1; seq <= to; ++seq) {
      const Record* r = trace.find(seq);
      if (!r) continue;
      // State changes are for the GUI's state-machine panel; in a terminal
      // they drown the dialogue unless the step asks for its layers.
      const bool state = r->kind == Kind::smtp_state || r->kind == Kind::pop3_state || r->kind == Kind::imap_state;
      if (state && !step.layers) continue;
      std::string text = to_transcript(*r, opt);
      if (text.empty()) continue;
      const bool lit = std::find(plan.highlight.begin(), plan.highlight.end(), seq) != plan.highlight.end();
      std::istringstream ss(text);
      std::string l;
      while (std::getline(ss, l)) lines.push_back((lit ? "  > " : "    ") + l);
    }
    constexpr size_t kMax = 40;
    if (lines.size() > kMax) {
      out_ << "    ... " << (lines.size() - kMax) << " earlier lines not shown (smtplab run "
           << (lesson_.scenario_ref.empty() ? "<scenario>" : "scenarios/" + lesson_.scenario_ref) << " shows all) ...\n";
      lines.erase(lines.begin(), lines.end() - kMax);
    }
    for (const std::string& l : lines) out_ << l << "\n";
  }

  // nullopt: the student left; otherwise whether the answer was right.
  std::optional<bool> ask(const Question& q) {
    out_ << "\n  Predict: " << wrap(q.prompt, "  ").substr(2);
    for (size_t c = 0; c < q.choices.size(); ++c) {
      const bool is_answer = static_cast<int>(c) == q.answer;
      out_ << "    " << static_cast<char>('a' + c) << ") " << q.choices[c].text << (teacher_ && is_answer ? "   <- answer" : "")
           << "\n";
    }
    const char last = static_cast<char>('a' + q.choices.size() - 1);
    for (int tries = 0; tries < 20; ++tries) {
      out_ << "  Your answer (a-" << last << "): " << std::flush;
      auto l = read_line();
      if (!l) return std::nullopt;
      std::string s = *l;
      s.erase(0, s.find_first_not_of(" \t"));
      if (s.size() >= 1 && std::tolower(static_cast<unsigned char>(s[0])) >= 'a' &&
          std::tolower(static_cast<unsigned char>(s[0])) <= last && (s.size() == 1 || s[1] == ' ' || s[1] == ')')) {
        const size_t pick = static_cast<size_t>(std::tolower(static_cast<unsigned char>(s[0])) - 'a');
        const bool ok = static_cast<int>(pick) == q.answer;
        if (ok) {
          out_ << "  Right.\n";
        } else {
          out_ << "  Not quite: the answer is " << static_cast<char>('a' + q.answer) << ") "
               << q.choices[static_cast<size_t>(q.answer)].text << "\n";
          if (!q.choices[pick].why.empty()) out_ << wrap(q.choices[pick].why, "  ");
        }
        out_ << wrap(q.explain, "  ");
        return ok;
      }
      out_ << "  Please type one letter, a to " << last << ".\n";
    }
    out_ << "  (no valid answer; moving on)\n";
    return false;
  }

  std::optional<bool> exercise(const Exercise& e) {
    out_ << "\n  Exercise: " << wrap(e.task, "  ").substr(2);
    if (!e.hint.empty()) out_ << wrap("Hint: " + e.hint, "  ");
    const std::vector<Fault>& own = lesson_.scenario.faults;
    if (!own.empty()) {
      out_ << "  The scenario's own faults (\"off N\" switches one off for your run):\n";
      for (size_t i = 0; i < own.size(); ++i)
        out_ << "    " << i << ": " << own[i].type << " at " << format_duration(own[i].at)
             << (own[i].host.empty() ? "" : " on " + own[i].host) << "\n";
    }
    if (teacher_) {
      out_ << "  Teacher's solution: " << e.solution.describe() << "\n";
      if (!e.solution.messages.empty()) out_ << "  with messages: " << e.solution.messages.dump() << "\n";
    }
    for (int attempt = 0; attempt < 10; ++attempt) {
      out_ << "  Type the faults to add as JSON, one per line (a fault object or an array), in the scenario format,\n"
           << (lesson_.scenario.faults.empty() ? "" : "  or \"off N\" to leave the scenario's fault N out,\n")
           << "  then an empty line to run; \"skip\" skips the exercise.\n";
      ScenarioAdditions adds;
      bool done = false, skip = false;
      for (int lines = 0; lines < 50 && !done; ++lines) {
        out_ << "  fault> " << std::flush;
        auto l = read_line();
        if (!l) return std::nullopt;
        if (*l == "skip") {
          skip = true;
          break;
        }
        if (l->find_first_not_of(" \t") == std::string::npos) {
          done = true;
          break;
        }
        if (l->rfind("off", 0) == 0) {
          // "off N": leave the scenario's fault N out of the run.
          const std::string_view num = std::string_view(*l).substr(3);
          const size_t b = num.find_first_not_of(" \t"), e2 = num.find_last_not_of(" \t");
          size_t idx = 0;
          const char* first = b == std::string_view::npos ? num.data() : num.data() + b;
          const char* last = b == std::string_view::npos ? first : num.data() + e2 + 1;
          const auto [end, ec] = std::from_chars(first, last, idx);
          if (ec != std::errc{} || end != last || first == last)
            out_ << "  Write \"off\" and a fault's number, e.g. \"off 0\".\n";
          else if (idx >= own.size())
            out_ << "  The scenario has " << own.size() << (own.size() == 1 ? " fault" : " faults")
                 << "; there is no fault " << idx << ".\n";
          else if (std::find(adds.switch_off.begin(), adds.switch_off.end(), idx) == adds.switch_off.end())
            adds.switch_off.push_back(idx);
          continue;
        }
        try {
          nlohmann::json j = nlohmann::json::parse(*l);
          if (j.is_array())
            for (auto& f : j) adds.faults.push_back(f);
          else
            adds.faults.push_back(j);
        } catch (const nlohmann::json::exception&) {
          out_ << "  That is not JSON; e.g. {\"type\": \"host-down\", \"at\": \"0s\", \"host\": \"mx.yahoo.test\"}\n";
        }
      }
      if (skip) {
        out_ << "  Skipped." << (e.explain.empty() ? "" : "\n") << (e.explain.empty() ? "" : wrap(e.explain, "  "));
        return false;
      }
      ExerciseResult r = try_exercise(lesson_, e, adds);
      if (!r.errors.empty()) {
        out_ << "  These changes do not fit the scenario:\n";
        for (const ScenarioError& err : r.errors) out_ << "    " << err.pointer << ": " << err.message << "\n";
        continue;
      }
      // What the student's changes did, as `smtplab run` ends: whether it
      // passed or not, this is what they compare with the task.
      const auto& recs = r.run.trace.records();
      write_fates(out_, message_fates(recs), recs.empty() ? SimTime{0} : recs.back().t);
      if (r.passed) {
        out_ << "  Solved: the trace now shows " << e.check.describe() << ".\n";
        if (!e.explain.empty()) out_ << wrap(e.explain, "  ");
        return true;
      }
      out_ << wrap("Not yet: " + r.why, "  ") << "  Try again.\n";
    }
    return false;
  }

  const Lesson& lesson_;
  bool teacher_;
  bool echo_;
  std::istream& in_;
  std::ostream& out_;
};

int list_lessons(const std::string& dir, std::ostream& out, std::ostream& err) {
  const auto files = lesson_files(dir);
  if (files.empty()) {
    err << "smtplab lesson: no lessons in " << dir << " (use --dir or SMTPLAB_LESSONS_DIR)\n";
    return kExitUsage;
  }
  const std::string scen = scenarios_dir_for(dir);
  int bad = 0;
  for (const std::string& f : files) {
    LessonLoad l = load_lesson_file(f, scen);
    std::string id = lesson_id_of(f);
    if (id.size() < 24) id.resize(24, ' ');
    if (!l.ok()) {
      ++bad;
      out << id << "  (invalid: " << l.errors.front().format() << ")\n";
      continue;
    }
    out << id << "  " << l.lesson->title << "\n" << std::string(26, ' ') << l.lesson->summary << "\n";
  }
  out << "\nRun one with: smtplab lesson ID   (add --teacher to see the answers)\n";
  return bad ? kExitFailed : kExitOk;
}

int check_lessons(const std::string& dir, const std::vector<std::string>& files, std::ostream& out) {
  const std::string scen = scenarios_dir_for(dir);
  int failed = 0;
  std::vector<std::string> failures;
  for (const std::string& f : files) {
    LessonLoad l = load_lesson_file(f, scen);
    const std::string id = lesson_id_of(f);
    if (!l.ok()) {
      ++failed;
      out << "FAIL " << id << " (does not load)\n";
      for (const ScenarioError& e : l.errors) out << "  " << e.format() << "\n";
      continue;
    }
    LessonReport rep = check_lesson(*l.lesson);
    if (rep.ok()) {
      out << "ok   " << id << " (" << rep.checks << " checks)\n";
    } else {
      ++failed;
      out << "FAIL " << id << " (" << rep.failures.size() << " of " << rep.checks << " checks failed)\n";
      for (const ScenarioError& e : rep.failures) out << "  " << e.format() << "\n";
    }
  }
  out << files.size() << " lesson" << (files.size() == 1 ? "" : "s") << " checked, " << failed << " failed\n";
  return failed ? kExitFailed : kExitOk;
}

int do_lesson(const LessonArgs& a, std::istream& in, std::ostream& out, std::ostream& err) {
  const std::string dir = lessons_dir(a);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    err << "smtplab lesson: no lessons folder at " << dir << " (use --dir or SMTPLAB_LESSONS_DIR)\n";
    return kExitUsage;
  }
  if (a.id.empty()) {
    if (a.check) {
      const auto files = lesson_files(dir);
      if (files.empty()) {
        err << "smtplab lesson: no lessons in " << dir << "\n";
        return kExitUsage;
      }
      return check_lessons(dir, files, out);
    }
    return list_lessons(dir, out, err);
  }
  const std::string file = find_lesson(dir, a.id);
  if (file.empty()) {
    err << "smtplab lesson: no lesson \"" << a.id << "\" in " << dir << "; lessons:";
    for (const std::string& f : lesson_files(dir)) err << " " << lesson_id_of(f);
    err << "\n";
    return kExitUsage;
  }
  if (a.check) return check_lessons(dir, {file}, out);
  LessonLoad l = load_lesson_file(file, scenarios_dir_for(dir));
  if (!l.ok()) {
    for (const ScenarioError& e : l.errors) err << e.format() << "\n";
    return kExitUsage;
  }
  const bool echo = &in != &std::cin || !isatty(STDIN_FILENO);
  return Walk(*l.lesson, a.teacher, echo, in, out).run();
}

}  // namespace

void register_lesson(CLI::App& app, Outcome& outcome) {
  auto args = std::make_shared<LessonArgs>();
  CLI::App* sub = app.add_subcommand("lesson", "List the lessons, walk through one in the terminal, or check them");
  sub->add_option("id", args->id, "Lesson ID: its file name without .json, or without the number (lone-dot), or just the number (6)");
  sub->add_flag("--check", args->check,
                "Verify the lesson (all lessons with no ID) against the simulator; exit 1 on any failure");
  sub->add_flag("--teacher", args->teacher, "Show the answers and the exercise solutions");
  sub->add_option("--dir", args->dir, "Lessons folder (default: $SMTPLAB_LESSONS_DIR, ./lessons, or the source tree's)");
  sub->callback([args, &outcome] { outcome.code = do_lesson(*args, std::cin, std::cout, std::cerr); });
}

}  // namespace smtplab::app
