// tests/fuzz/fuzz_jsonl.cpp: the JSON Lines trace reader. Invariant: a
// record that parses writes back to a line that parses to the same line.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/trace/writers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string err;
  if (auto r = smtplab::parse_jsonl(in, &err)) {
    std::string line = smtplab::to_jsonl(*r);
    auto again = smtplab::parse_jsonl(line, &err);
    if (!again || smtplab::to_jsonl(*again) != line) std::abort();
  }
  return 0;
}
