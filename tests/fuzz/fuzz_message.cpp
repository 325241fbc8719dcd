// tests/fuzz/fuzz_message.cpp: the RFC 5322 parser, the MIME tree, the
// transfer decoders and the DSN reader on arbitrary bytes. They must never
// crash, hang or grow without bound; a parsed message must serialize and
// parse again to the same headers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/mail/dsn.hpp"
#include "sim/mail/message.hpp"
#include "sim/mail/mime.hpp"

using namespace smtplab::mail;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Message m = parse_message(text);
  // Round trip: what we serialize we must read back the same way.
  Message again = parse_message(m.serialize());
  if (again.headers.size() != m.headers.size()) std::abort();
  for (size_t i = 0; i < m.headers.size(); ++i)
    if (again.headers[i].name != m.headers[i].name) std::abort();
  MimePart root = parse_mime(m);
  for (const MimePart& p : root.parts) (void)p.decoded();
  (void)parse_dsn(m);
  (void)count_received(text);
  (void)base64_decode(text);
  (void)qp_decode(text);
  // Encoders round-trip any bytes.
  auto b = base64_decode(base64_encode(text));
  if (!b || *b != text) std::abort();
  Message copy = m;
  (void)downgrade_to_7bit(copy);
  return 0;
}
