// tests/fuzz/fuzz_server_session.cpp: a whole server session fed arbitrary
// client bytes, in chunks whose sizes come from the input. Invariants: every
// byte the server sends parses as replies; bounded buffering; no crash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sim/smtp/reply.hpp"
#include "sim/smtp/server.hpp"

using namespace smtplab;
using namespace smtplab::smtp;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  ServerConfig cfg;
  cfg.hostname = "mx.test";
  cfg.max_message_size = 4096;
  cfg.max_recipients = 5;
  cfg.honour_pipelining = (data[0] & 1) != 0;
  cfg.auth_requires_tls = (data[0] & 2) != 0;
  cfg.require_auth = (data[0] & 4) != 0;
  cfg.expn = (data[0] & 8) != 0;
  ServerFaults faults;
  if (data[0] & 16) {
    ServerFault f;
    f.kind = static_cast<ServerFault::Kind>((data[0] >> 5) % 5);
    f.verb = static_cast<FaultVerb>(data[1] % 13);
    f.nth = data[1] >> 6;
    f.code = 451;
    f.delay = sec(30);
    faults.add(f);
    cfg.faults = &faults;
  }
  BasicPolicy policy;
  policy.domains = {"test"};
  policy.mailboxes = {"a@test"};
  policy.users = {{"a", "b"}};
  ServerSession s(cfg, policy, {"mx.test", "client.test", "", 1, false});
  s.set_record_received((data[1] & 1) != 0);
  SimTime now{0};
  std::string wire;
  s.start(now);
  size_t i = 2;
  size_t step = 1 + data[1] % 17;
  while (i < size && !s.closed()) {
    size_t n = std::min(step, size - i);
    s.receive(now, std::string_view(reinterpret_cast<const char*>(data + i), n));
    i += n;
    now += sec(1);
    if (s.deadline() <= now) s.on_timer(now);
    wire += s.output().bytes;
    s.output().clear();
    step = 1 + (step * 7 + 3) % 61;
  }
  s.on_timer(SimTime::max() - sec(1));
  s.shutdown(now);
  wire += s.output().bytes;
  ReplyParser p;
  p.feed(wire);
  Reply r;
  std::string err;
  ReplyParser::Status st;
  while ((st = p.next(r, err)) == ReplyParser::Status::reply) {
  }
  if (st == ReplyParser::Status::error || p.buffered() != 0) std::abort();
  return 0;
}
