// tests/fuzz/fuzz_zone.cpp: the zone-file record parser. Invariant: a parsed
// record prints as text that parses again to the same record (same text).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/dns/zone_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string err;
  auto r = smtplab::parse_zone_record(in, "example.test.", &err);
  if (r) {
    std::string text = r->to_text();
    auto again = smtplab::parse_zone_record(text, "example.test.", &err);
    if (!again || again->to_text() != text) std::abort();
  }
  return 0;
}
