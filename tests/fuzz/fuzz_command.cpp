// tests/fuzz/fuzz_command.cpp: the SMTP command line, path and parameter parsers.
// Invariant checked: a path that parses has a mailbox that is valid (or the null path).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/smtp/command.hpp"

using namespace smtplab::smtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  CommandLine c = split_command(in);
  SyntaxError e;
  if (auto m = parse_mail_from(c.argument, &e)) {
    if (!m->path.mailbox.empty() && !is_valid_mailbox(m->path.mailbox)) std::abort();
  }
  if (auto r = parse_rcpt_to(c.argument, &e)) {
    if (r->path.mailbox.empty()) std::abort();  // RCPT never has the null path
  }
  if (auto p = parse_path(in, true, &e)) {
    if (!p->mailbox.empty() && !is_valid_mailbox(p->mailbox)) std::abort();
  }
  if (auto x = decode_xtext(in)) {
    if (decode_xtext(encode_xtext(*x)) != x) std::abort();
  }
  if (auto b = base64_decode(in)) {
    if (base64_decode(base64_encode(*b)) != b) std::abort();
  }
  return 0;
}
