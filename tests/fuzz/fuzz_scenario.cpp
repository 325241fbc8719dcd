// tests/fuzz/fuzz_scenario.cpp: the strict scenario loader on arbitrary text.
#include <cstdint>
#include <string_view>

#include "sim/scenario/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  smtplab::LoadResult r = smtplab::load_scenario_text(in, "fuzz.json");
  for (const auto& e : r.errors) (void)e.format();
  return 0;
}
