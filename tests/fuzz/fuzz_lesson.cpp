// tests/fuzz/fuzz_lesson.cpp: the strict lesson loader on arbitrary text:
// steps, matchers, checks, questions and exercises (with their additions,
// "switch_off" included) and an inline scenario. Scenario references by
// name point at a folder that does not exist, so they end in an error
// without reading files, and nothing is run.
#include <cstdint>
#include <string_view>

#include "sim/lesson/lesson.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  smtplab::LessonLoad r = smtplab::load_lesson_text(in, "fuzz.json", "fuzz", "/nonexistent-smtplab-scenarios");
  for (const auto& e : r.errors) (void)e.format();
  if (r.lesson)
    for (const auto& step : r.lesson->steps)
      if (step.exercise) (void)step.exercise->solution.describe();
  return 0;
}
