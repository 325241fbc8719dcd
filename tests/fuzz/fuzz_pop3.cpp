// tests/fuzz/fuzz_pop3.cpp: the POP3 server and client machines on arbitrary
// bytes, split into chunks by the input itself. They must never crash, and
// the server's maildrop must never lose a message outside UPDATE.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/mail/mailbox.hpp"
#include "sim/pop3/pop3.hpp"

using namespace smtplab;

namespace {
struct Backend : pop3::Backend {
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
  box.append("Subject: a\r\n\r\n.x\r\n.\r\n", SimTime{0});
  box.append("Subject: b\r\n\r\nb\r\n", SimTime{0});
  Backend be(&box);
  {
    pop3::Server s(be);
    s.start(SimTime{0});
    // Chunk boundaries come from the first byte so the fuzzer explores splits.
    size_t step = size ? (static_cast<unsigned char>(in[0]) % 17) + 1 : 1;
    for (size_t i = 0; i < in.size() && !s.closed(); i += step) {
      auto out = s.receive(SimTime{0}, in.substr(i, step));
      if (out.send.size() > 1 << 20) std::abort();
    }
    s.on_close(SimTime{0});
  }
  if (box.locked()) std::abort();
  pop3::Client c(pop3::ClientConfig{"alice", "secret"});
  c.start(SimTime{0});
  c.receive(SimTime{0}, in);
  c.on_close(SimTime{0});
  return 0;
}
