// gui/panel_lesson.hpp: the lesson panel, beside the diagram.
//
// Picks a lesson from lessons/, opens its scenario in the controller, moves
// the playback cursor to each step's pause, asks the predict question before
// revealing the simulator's reply, checks exercises on the controller's
// current run (the student injects faults with the Failures panel), and
// shows progress; teacher mode shows answers and can apply the solution.
//
// The actions are public methods so tests drive the panel without clicks;
// draw() only calls them. All lesson logic comes from sim/lesson (the same
// code as `smtplab lesson` and the tests).
// Must never: change the run except through controller commands.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gui/panel.hpp"
#include "sim/lesson/check.hpp"
#include "sim/trace/fates.hpp"

namespace smtplab::gui {

class LessonPanel final : public Panel {
 public:
  struct Entry {
    std::string path, id, title, summary, error;
  };

  std::string_view id() const override { return "lesson"; }
  std::string_view title() const override { return "Lesson"; }
  Slot slot() const override { return Slot::right; }
  void draw(PanelContext& ctx) override;

  // ---- actions (each posts controller commands through ctx)
  void scan(const std::string& dir);  // lists the lessons of a folder
  // A lesson file: `name` itself when it is a file, else the lesson of the
  // default folder whose id is `name` or starts with it ("08" finds
  // 08-server-down); "" when none.
  std::string find(const std::string& name);
  bool start(const std::string& path, PanelContext& ctx);
  void go(size_t step, PanelContext& ctx);  // moves the cursor to the step's pause
  void answer(int choice, PanelContext& ctx);
  bool check_exercise(const Controller& ctl);  // on the controller's current run
  void apply_solution(PanelContext& ctx);
  void close() { lesson_.reset(); }

  // ---- state (read by tests)
  const std::vector<Entry>& entries() const { return entries_; }
  const Lesson* lesson() const { return lesson_ ? &*lesson_ : nullptr; }
  const std::vector<StepPlan>& plans() const { return plans_; }
  size_t step() const { return step_; }
  int picked() const { return lesson_ ? picked_[step_] : -1; }
  int solved() const { return lesson_ ? solved_[step_] : -1; }
  const std::string& message() const { return message_[step_]; }
  // What happened to each message by the end of the run last checked for
  // this step's exercise (empty before a check).
  const std::vector<MessageFate>& outcome() const { return outcome_[step_]; }
  const std::string& error() const { return error_; }
  int right_answers() const;
  int solved_exercises() const;
  bool teacher = false;

 private:
  void draw_list(PanelContext& ctx);
  void draw_question(PanelContext& ctx, const Question& q, const StepPlan& plan);
  void draw_exercise(PanelContext& ctx, const Exercise& e);

  std::string dir_;
  bool scanned_ = false;
  std::vector<Entry> entries_;
  std::optional<Lesson> lesson_;
  std::vector<StepPlan> plans_;
  std::shared_ptr<RunResult> base_run_;  // the lesson scenario's own run: the plan's seqs refer to it
  size_t step_ = 0;
  std::string error_;
  std::vector<int> picked_;  // per step; -1: not answered
  std::vector<int> solved_;  // per step; -1: not checked, 0: not yet, 1: solved
  std::vector<std::string> message_;
  std::vector<std::vector<MessageFate>> outcome_;  // per step
  std::vector<std::shared_ptr<const RunResult>> checked_;  // per step: the run outcome_ is of
};

std::unique_ptr<Panel> make_lesson_panel();

}  // namespace smtplab::gui
