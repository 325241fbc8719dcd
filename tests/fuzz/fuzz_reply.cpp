// tests/fuzz/fuzz_reply.cpp: the incremental reply parser, fed in two pieces.
// Invariants: the split point never changes the result; every parsed reply
// formats and parses back to the same code and line count.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "sim/smtp/reply.hpp"

using namespace smtplab::smtp;

namespace {
std::vector<Reply> parse(std::string_view a, std::string_view b, bool& err) {
  ReplyParser p;
  std::vector<Reply> out;
  Reply r;
  std::string e;
  err = false;
  for (std::string_view piece : {a, b}) {
    p.feed(piece);
    for (;;) {
      auto s = p.next(r, e);
      if (s == ReplyParser::Status::reply) out.push_back(r);
      else {
        if (s == ReplyParser::Status::error) err = true;
        break;
      }
    }
    if (err) break;
  }
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t cut = data[0] % (in.size() + 1);
  bool e1 = false, e2 = false;
  auto whole = parse(in, {}, e1);
  auto split = parse(in.substr(0, cut), in.substr(cut), e2);
  if (e1 != e2 || whole.size() != split.size()) std::abort();
  for (size_t i = 0; i < whole.size(); ++i) {
    if (!(whole[i] == split[i])) std::abort();
    auto back = parse_reply(format_reply(whole[i]));
    if (!back || back->code != whole[i].code || back->lines.size() != std::max<size_t>(1, whole[i].lines.size()))
      std::abort();
  }
  return 0;
}
