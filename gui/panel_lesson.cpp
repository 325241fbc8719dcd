// gui/panel_lesson.cpp: the lesson panel (see panel_lesson.hpp).
#include "gui/panel_lesson.hpp"

#include <imgui.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gui/sequence_view.hpp"
#include "gui/widgets.hpp"

namespace smtplab::gui {

namespace {

namespace fs = std::filesystem;

std::string default_lessons_folder() {
  if (const char* env = std::getenv("SMTPLAB_LESSONS_DIR"); env && *env) return env;
  std::error_code ec;
  if (fs::is_directory("lessons", ec) && fs::exists("lessons/schema.json", ec)) return "lessons";
  return std::string(SMTPLAB_SOURCE_DIR) + "/lessons";
}

// scenarios/ beside the lessons folder (or beside a parent, for drafts/).
std::string scenarios_beside(const std::string& lessons) {
  fs::path p = fs::absolute(fs::path(lessons)).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();
  std::error_code ec;
  for (int up = 0; up < 3 && p.has_parent_path(); ++up) {
    if (fs::is_directory(p.parent_path() / "scenarios", ec)) return (p.parent_path() / "scenarios").string();
    p = p.parent_path();
  }
  return (fs::path(lessons).parent_path() / "scenarios").string();
}

// Colours from the theme's palette, so they read on white as well as on dark.
ImVec4 col4(unsigned c) { return ImGui::ColorConvertU32ToFloat4(c); }
struct LessonColors {
  ImVec4 good, bad, title, question, exercise;
};
LessonColors lesson_colors(const PanelContext& ctx) {
  const Palette& p = ctx.colors();
  return {col4(p.reply_ok), col4(p.reply_perm), col4(p.note), col4(p.smtp), col4(p.reply_temp)};
}

}  // namespace

void LessonPanel::scan(const std::string& dir) {
  scanned_ = true;
  dir_ = dir;
  entries_.clear();
  const std::string scen = scenarios_beside(dir);
  for (const std::string& f : lesson_files(dir)) {
    Entry e{f, lesson_id_of(f), "", "", ""};
    LessonLoad l = load_lesson_file(f, scen);
    if (l.ok()) {
      e.title = l.lesson->title;
      e.summary = l.lesson->summary;
    } else {
      e.error = l.errors.front().format();
    }
    entries_.push_back(std::move(e));
  }
}

std::string LessonPanel::find(const std::string& name) {
  std::error_code ec;
  if (name.empty()) return {};
  if (fs::is_regular_file(name, ec)) return name;
  if (!scanned_) scan(default_lessons_folder());
  for (const Entry& e : entries_)
    if (e.id == name) return e.path;
  for (const Entry& e : entries_)
    if (e.id.rfind(name, 0) == 0) return e.path;
  return {};
}

bool LessonPanel::start(const std::string& path, PanelContext& ctx) {
  error_.clear();
  const std::string scen = scenarios_beside(fs::path(path).parent_path().string());
  LessonLoad l = load_lesson_file(path, scen);
  if (!l.ok()) {
    error_ = l.errors.front().format();
    return false;
  }
  // The controller opens files: an inline scenario is written to a
  // temporary file first (the controller then treats it like any other).
  std::string scenario_path = l.lesson->scenario_ref.empty() ? "" : scen + "/" + l.lesson->scenario_ref;
  if (scenario_path.empty()) {
    std::error_code ec;
    const fs::path tmp = fs::temp_directory_path(ec) / ("smtplab-lesson-" + l.lesson->id + ".json");
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << l.lesson->scenario_json.dump(2) << '\n';
    out.close();
    if (!out) {
      error_ = "cannot write " + tmp.string();
      return false;
    }
    scenario_path = tmp.string();
  }
  lesson_ = std::move(*l.lesson);
  base_run_ = std::make_shared<RunResult>(run_scenario(lesson_->scenario));
  MatchContext mc(base_run_->trace, lesson_->scenario.faults.size());
  plans_ = plan_lesson(*lesson_, mc);
  const size_t n = lesson_->steps.size();
  picked_.assign(n, -1);
  solved_.assign(n, -1);
  message_.assign(n, "");
  outcome_.assign(n, {});
  checked_.assign(n, nullptr);
  ctx.post(cmd::OpenFile{scenario_path});
  // The plan's seqs are those of the scenario's own run; the controller runs
  // the same scenario and runs are deterministic, so they agree until the
  // student adds faults (exercises are then checked on the controller's run).
  go(0, ctx);
  return true;
}

void LessonPanel::go(size_t step, PanelContext& ctx) {
  if (!lesson_ || step >= lesson_->steps.size()) return;
  step_ = step;
  if (plans_[step].pause) ctx.post(cmd::Select{plans_[step].pause, true});
}

void LessonPanel::answer(int choice, PanelContext& ctx) {
  if (!lesson_ || !lesson_->steps[step_].question) return;
  const Question& q = *lesson_->steps[step_].question;
  if (choice < 0 || choice >= static_cast<int>(q.choices.size())) return;
  picked_[step_] = choice;
  // Revealed only now, after the class has committed to an answer.
  if (plans_[step_].reveal) ctx.post(cmd::Select{plans_[step_].reveal, true});
}

bool LessonPanel::check_exercise(const Controller& ctl) {
  if (!lesson_ || !lesson_->steps[step_].exercise) return false;
  const Exercise& e = *lesson_->steps[step_].exercise;
  if (!ctl.current().run) {
    message_[step_] = "No run yet.";
    return false;
  }
  // Faults the student added in the GUI come after the scenario's own, so
  // their indices mark them as the student's (student_fault).
  MatchContext mc(ctl.current().run->trace, lesson_->scenario.faults.size());
  CheckResult r = evaluate(e.check, mc);
  solved_[step_] = r.ok ? 1 : 0;
  message_[step_] = r.ok ? "Solved. " + e.explain : "Not yet: " + r.why;
  outcome_[step_] = message_fates(ctl.current().run->trace.records());
  checked_[step_] = ctl.current().run;
  return r.ok;
}

void LessonPanel::apply_solution(PanelContext& ctx) {
  if (!lesson_ || !lesson_->steps[step_].exercise) return;
  LoadResult lr = scenario_with(*lesson_, lesson_->steps[step_].exercise->solution, lesson_->file);
  if (!lr.ok()) return;
  for (size_t i : lesson_->steps[step_].exercise->solution.switch_off) ctx.post(cmd::SetScenarioFault{i, false});
  for (size_t i = lesson_->scenario.faults.size(); i < lr.scenario->faults.size(); ++i)
    ctx.post(cmd::InjectFault{lr.scenario->faults[i]});
}

int LessonPanel::right_answers() const {
  int n = 0;
  if (!lesson_) return 0;
  for (size_t i = 0; i < lesson_->steps.size(); ++i)
    if (lesson_->steps[i].question && picked_[i] == lesson_->steps[i].question->answer) ++n;
  return n;
}

int LessonPanel::solved_exercises() const {
  int n = 0;
  for (int s : solved_) n += s == 1 ? 1 : 0;
  return n;
}

void LessonPanel::draw_list(PanelContext& ctx) {
  const LessonColors k = lesson_colors(ctx);
  if (!scanned_) scan(default_lessons_folder());
  ImGui::TextWrapped("Lessons in %s", dir_.c_str());
  if (ImGui::SmallButton("Rescan")) scan(dir_);
  if (entries_.empty()) ImGui::TextWrapped("No lessons found. Set SMTPLAB_LESSONS_DIR or run from the source folder.");
  for (const Entry& e : entries_) {
    ImGui::PushID(e.id.c_str());
    if (!e.error.empty()) {
      ImGui::TextColored(k.bad, "%s (invalid)", e.id.c_str());
      ImGui::TextWrapped("%s", e.error.c_str());
    } else {
      if (ImGui::Selectable((e.id + "  " + e.title).c_str())) start(e.path, ctx);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", e.summary.c_str());
    }
    ImGui::PopID();
  }
  if (!error_.empty()) ImGui::TextColored(k.bad, "%s", error_.c_str());
}

void LessonPanel::draw_question(PanelContext& ctx, const Question& q, const StepPlan& plan) {
  const LessonColors k = lesson_colors(ctx);
  ImGui::Separator();
  ImGui::TextColored(k.question, "Predict");
  ImGui::TextWrapped("%s", q.prompt.c_str());
  const int pick = picked_[step_];
  for (size_t c = 0; c < q.choices.size(); ++c) {
    std::string label = std::string(1, static_cast<char>('a' + c)) + ") " + q.choices[c].text;
    if (teacher && static_cast<int>(c) == q.answer) label += "   <- answer";
    if (pick < 0) {
      if (ImGui::Button(label.c_str())) answer(static_cast<int>(c), ctx);
    } else {
      const bool is_answer = static_cast<int>(c) == q.answer;
      const ImVec4 col = is_answer ? k.good
                         : static_cast<int>(c) == pick ? k.bad
                                                       : ImGui::GetStyle().Colors[ImGuiCol_TextDisabled];
      ImGui::TextColored(col, "%s", label.c_str());
    }
  }
  if (pick < 0) return;
  ImGui::TextWrapped("%s", pick == q.answer ? "Right." : "Not quite.");
  const std::string& why = q.choices[static_cast<size_t>(pick)].why;
  if (pick != q.answer && !why.empty()) ImGui::TextWrapped("%s", why.c_str());
  ImGui::TextWrapped("%s", q.explain.c_str());
  if (plan.reveal && base_run_) {
    if (const Record* r = base_run_->trace.find(plan.reveal)) {
      ImGui::TextDisabled("The simulator shows (#%llu):", static_cast<unsigned long long>(plan.reveal));
      ImGui::TextWrapped("%s", r->text.c_str());
      if (ImGui::SmallButton("Show it in the diagram")) ctx.post(cmd::Select{plan.reveal, true});
    }
  }
  if (ImGui::SmallButton("Ask again")) picked_[step_] = -1;
}

void LessonPanel::draw_exercise(PanelContext& ctx, const Exercise& e) {
  const LessonColors k = lesson_colors(ctx);
  ImGui::Separator();
  ImGui::TextColored(k.exercise, "Exercise");
  ImGui::TextWrapped("%s", e.task.c_str());
  if (!e.hint.empty()) ImGui::TextDisabled("Hint: %s", e.hint.c_str());
  ImGui::TextWrapped("Inject faults (or switch off the scenario's own) with the Failures panel, then check the "
                     "current run.");
  if (ImGui::Button("Check my run")) check_exercise(ctx.ctl);
  if (!message_[step_].empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, solved_[step_] == 1 ? k.good : k.bad);
    ImGui::TextWrapped("%s", message_[step_].c_str());
    ImGui::PopStyleColor();
  }
  if (!outcome_[step_].empty()) {
    // As the terminal walk prints after an attempt: the end of the checked
    // run, whatever the cursor shows.
    ImGui::TextDisabled("How your run ended:");
    const Palette& p = ctx.colors();
    // Its records are the run's on screen until the student changes it.
    const bool same_run = ctx.ctl.current().run == checked_[step_];
    for (const MessageFate& m : outcome_[step_])
      for (const RecipientFate& f : m.recipients)
        if (uint64_t seq = fate_text(f, p, same_run)) ctx.post(cmd::Select{seq, true});
  }
  if (teacher) {
    ImGui::TextDisabled("Solution: %s", e.solution.describe().c_str());
    if (ImGui::SmallButton("Apply the solution")) apply_solution(ctx);
  }
}

void LessonPanel::draw(PanelContext& ctx) {
  const LessonColors k = lesson_colors(ctx);
  if (!lesson_) {
    draw_list(ctx);
    return;
  }
  const Step& s = lesson_->steps[step_];
  const StepPlan& plan = plans_[step_];
  ImGui::TextWrapped("%s", lesson_->title.c_str());
  if (ImGui::SmallButton("All lessons")) {
    close();
    return;
  }
  ImGui::SameLine();
  ImGui::Checkbox("Teacher mode", &teacher);
  const size_t n = lesson_->steps.size();
  const std::string label = "Step " + std::to_string(step_ + 1) + " of " + std::to_string(n);
  ImGui::ProgressBar(static_cast<float>(step_ + 1) / static_cast<float>(n), ImVec2(-1, 0), label.c_str());
  int asked = 0, exercises = 0;
  for (const Step& st : lesson_->steps) {
    asked += st.question ? 1 : 0;
    exercises += st.exercise ? 1 : 0;
  }
  if (asked || exercises)
    ImGui::TextWrapped("Questions right: %d/%d   Exercises solved: %d/%d", right_answers(), asked, solved_exercises(), exercises);
  if (ImGui::Button("< Back") && step_ > 0) go(step_ - 1, ctx);
  ImGui::SameLine();
  if (ImGui::Button("Next >") && step_ + 1 < n) go(step_ + 1, ctx);
  ImGui::Separator();
  ImGui::TextColored(k.title, "%s", s.title.c_str());
  ImGui::TextWrapped("%s", s.text.c_str());
  if (!s.terms.empty()) {
    ImGui::TextDisabled("Key terms");
    for (const Term& t : s.terms) ImGui::BulletText("%s: %s", t.term.c_str(), t.meaning.c_str());
  }
  for (const Myth& m : s.myths) {
    ImGui::TextColored(k.bad, "Often said: \"%s\"", m.claim.c_str());
    ImGui::TextWrapped("In fact: %s (%s)", m.truth.c_str(), m.cite.c_str());
  }
  if (!s.rfc.empty()) {
    std::string refs;
    for (const std::string& r : s.rfc) refs += (refs.empty() ? "" : "; ") + r;
    ImGui::TextDisabled("See %s", refs.c_str());
  }
  if (!plan.highlight.empty() && base_run_) {
    ImGui::TextDisabled("Look at:");
    for (uint64_t seq : plan.highlight) {
      const Record* r = base_run_->trace.find(seq);
      if (!r) continue;
      ImGui::PushID(static_cast<int>(seq));
      if (ImGui::Selectable(("#" + std::to_string(seq) + " " + r->text).c_str())) ctx.post(cmd::Select{seq, true});
      ImGui::PopID();
    }
  }
  if (s.question) draw_question(ctx, *s.question, plan);
  if (s.exercise) draw_exercise(ctx, *s.exercise);
}

std::unique_ptr<Panel> make_lesson_panel() { return std::make_unique<LessonPanel>(); }

}  // namespace smtplab::gui
