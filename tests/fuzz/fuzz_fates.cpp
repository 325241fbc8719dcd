// tests/fuzz/fuzz_fates.cpp: message_fates() over any trace. The input is
// JSON Lines; every line that parses becomes the next record (renumbered
// 1..n, a cause pointing forward or nowhere cut to 0), so the fold meets
// records in any order and with any attributes: a real client's MAIL FROM
// or Message-ID reaches it through `smtplab serve`. Invariants: no crash,
// and no more messages than records that can start one.
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sim/trace/fates.hpp"
#include "sim/trace/writers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<smtplab::Record> recs;
  size_t starts = 0;
  while (!in.empty() && recs.size() < 4096) {
    const size_t nl = in.find('\n');
    std::string err;
    if (auto r = smtplab::parse_jsonl(in.substr(0, nl), &err)) {
      r->seq = recs.size() + 1;
      if (r->cause >= r->seq) r->cause = 0;
      if (!recs.empty() && r->t < recs.back().t) r->t = recs.back().t;
      starts += r->kind == smtplab::Kind::message_composed || r->kind == smtplab::Kind::message_queued;
      recs.push_back(std::move(*r));
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  const auto fates = smtplab::message_fates(recs);
  if (fates.size() > starts) std::abort();
  std::ostringstream out;
  smtplab::write_fates(out, fates, recs.empty() ? smtplab::SimTime{0} : recs.back().t);
  for (const auto& m : fates)
    for (const auto& f : m.recipients) (void)smtplab::describe_notice(f);
  return 0;
}
