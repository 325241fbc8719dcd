// tests/test_lesson_panel.cpp: the GUI lesson panel, headless.
//
// The panel's actions drive the real controller: starting a lesson opens its
// scenario and moves the cursor to the first pause; answering a question
// reveals the simulator's record; an exercise is checked on the controller's
// run, fails before and passes after the teacher's solution is applied. A
// frame draws in a bare ImGui context in student and teacher mode.
// Built only when the GUI is (SMTPLAB_HAVE_GUI).
#include <catch2/catch.hpp>

#ifdef SMTPLAB_HAVE_GUI
#include <imgui.h>

#include "gui/controller.hpp"
#include "gui/headless.hpp"
#include "gui/panel_lesson.hpp"
#include "gui/view_settings.hpp"
#include "tests/test_helpers.hpp"

using namespace smtplab;
using namespace smtplab::gui;

namespace {

// The lessons folder when it has lessons, else the drafts.
std::string lessons_dir() {
  const std::string main = smtplab::testing::source_dir() + "/lessons";
  return lesson_files(main).empty() ? main + "/drafts" : main;
}

std::string lesson_path(const LessonPanel& p, const std::string& id) {
  for (const auto& e : p.entries())
    if (e.id == id) return e.path;
  return {};
}

void draw_frame(HeadlessImGui& ui, LessonPanel& panel, PanelContext& ctx) {
  ui.new_frame();
  ImGui::Begin("Lesson");
  panel.draw(ctx);
  ImGui::End();
  ui.end_frame();
}

}  // namespace

TEST_CASE("lesson panel: lists the lessons", "[gui][lesson]") {
  LessonPanel panel;
  panel.scan(lessons_dir());
  REQUIRE(panel.entries().size() >= 10);
  for (const auto& e : panel.entries()) {
    INFO(e.id << ": " << e.error);
    CHECK(e.error.empty());
    CHECK(!e.title.empty());
  }
}

TEST_CASE("lesson panel: pauses, reveals and checks on the controller's run", "[gui][lesson]") {
  HeadlessImGui ui(1280, 720);
  Controller ctl;
  ViewSettings settings;
  PanelContext ctx{ctl, settings, nullptr, 0.0, &ctl};
  LessonPanel panel;
  panel.scan(lessons_dir());
  const std::string path = lesson_path(panel, "02-three-phases");
  REQUIRE(!path.empty());
  REQUIRE(panel.start(path, ctx));
  ctl.apply_pending();
  REQUIRE(panel.lesson() != nullptr);
  CHECK(ctl.errors().empty());
  CHECK(ctl.scenario().name == panel.lesson()->scenario.name);
  const auto& plans = panel.plans();
  REQUIRE(plans.size() == panel.lesson()->steps.size());
  CHECK(ctl.selected() == plans[0].pause);
  draw_frame(ui, panel, ctx);

  // Step 3 asks what DATA gets; answering moves the cursor to the reply.
  panel.go(2, ctx);
  ctl.apply_pending();
  CHECK(ctl.selected() == plans[2].pause);
  REQUIRE(panel.lesson()->steps[2].question);
  const int right = panel.lesson()->steps[2].question->answer;
  panel.answer(right, ctx);
  ctl.apply_pending();
  CHECK(ctl.selected() == plans[2].reveal);
  REQUIRE(ctl.selected_record() != nullptr);
  CHECK(ctl.selected_record()->attr("code") == "354");
  CHECK(panel.right_answers() == 1);
  draw_frame(ui, panel, ctx);

  // The exercise: not solved on the plain run, solved with the solution.
  size_t ex = 0;
  for (size_t i = 0; i < panel.lesson()->steps.size(); ++i)
    if (panel.lesson()->steps[i].exercise) ex = i;
  REQUIRE(ex > 0);
  panel.go(ex, ctx);
  ctl.apply_pending();
  CHECK(panel.outcome().empty());  // nothing checked yet
  CHECK_FALSE(panel.check_exercise(ctl));
  CHECK(panel.message().rfind("Not yet: ", 0) == 0);
  // The checked run's ending, for the student to compare with the task.
  REQUIRE(panel.outcome().size() == 1);
  REQUIRE(panel.outcome()[0].recipients.size() == 1);
  CHECK(panel.outcome()[0].recipients[0].state == FateState::delivered);
  draw_frame(ui, panel, ctx);
  panel.apply_solution(ctx);
  ctl.apply_pending();
  CHECK(ctl.added_faults().size() == 1);
  CHECK(panel.check_exercise(ctl));
  CHECK(panel.solved_exercises() == 1);
  REQUIRE(panel.outcome().size() == 1);
  CHECK(panel.outcome()[0].recipients.at(0).state == FateState::bounced);  // 550 at RCPT
  panel.teacher = true;
  draw_frame(ui, panel, ctx);
  panel.close();
  draw_frame(ui, panel, ctx);
}

TEST_CASE("lesson panel: an inline scenario opens through a temporary file", "[gui][lesson]") {
  Controller ctl;
  ViewSettings settings;
  PanelContext ctx{ctl, settings, nullptr, 0.0, &ctl};
  LessonPanel panel;
  panel.scan(lessons_dir());
  const std::string path = lesson_path(panel, "06-lone-dot");
  REQUIRE(!path.empty());
  REQUIRE(panel.start(path, ctx));
  ctl.apply_pending();
  CHECK(ctl.errors().empty());
  CHECK(ctl.scenario().name == "A body with a lone dot");
  CHECK(ctl.selected() == panel.plans()[0].pause);
}

#else
TEST_CASE("lesson panel: skipped, this build has no GUI", "[gui][lesson]") { SUCCEED(); }
#endif
