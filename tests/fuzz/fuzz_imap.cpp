// tests/fuzz/fuzz_imap.cpp: the IMAP server (tokenizer, literals, sequence
// sets, FETCH/STORE/SEARCH) and client on arbitrary bytes. Never crash, never
// buffer without bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/imap/imap.hpp"
#include "sim/mail/mailbox.hpp"

using namespace smtplab;

namespace {
struct Backend : imap::Backend {
  mail::Mailbox* box;
  explicit Backend(mail::Mailbox* b) : box(b) {}
  mail::Mailbox* authenticate(std::string_view u, std::string_view p) override {
    return (u == "alice" && p == "secret") ? box : nullptr;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mail::Mailbox box("alice@yahoo.test");
  box.append("Subject: a\r\n\r\nhello\r\n", SimTime{0});
  box.append("Subject: b\r\n\r\nworld\r\n", SimTime{0});
  Backend be(&box);
  imap::Server s(be);
  s.start(SimTime{0});
  // Start logged in and selected half the time, so the fuzzer reaches FETCH & co.
  if (size && (in[0] & 1)) s.receive(SimTime{0}, "p1 LOGIN alice secret\r\np2 SELECT INBOX\r\n");
  size_t step = size ? (static_cast<unsigned char>(in[0]) % 23) + 1 : 1;
  for (size_t i = 0; i < in.size() && !s.closed(); i += step) {
    auto out = s.receive(SimTime{0}, in.substr(i, step));
    if (out.send.size() > 4 << 20) std::abort();
  }
  (void)imap::parse_sequence_set(in, 1000);
  imap::Client c(imap::ClientConfig{"alice", "secret"});
  c.start(SimTime{0});
  c.receive(SimTime{0}, in);
  return 0;
}
