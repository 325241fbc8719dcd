// tests/fuzz/fuzz_capture.cpp: capture_packets() over any trace (JSON Lines,
// each line that parses becomes the next record, as in fuzz_fates), at every
// sender and at one host's interface, and dns_message() over each record's
// wire. Invariants: no crash; at most one packet per record; every packet is
// an IPv4 datagram whose total length is its size and whose header checksum
// verifies.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sim/capture/packets.hpp"
#include "sim/trace/writers.hpp"

namespace {

void check(const smtplab::Capture& c, size_t records) {
  if (c.packets.size() > records) std::abort();
  for (const smtplab::Packet& p : c.packets) {
    const std::string& b = p.bytes;
    if (b.size() < 28 || b.size() > 65535 || static_cast<uint8_t>(b[0]) != 0x45) std::abort();
    const size_t total = (static_cast<size_t>(static_cast<uint8_t>(b[2])) << 8) | static_cast<uint8_t>(b[3]);
    if (total != b.size()) std::abort();
    if (smtplab::internet_checksum(std::string_view(b).substr(0, 20)) != 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<smtplab::Record> recs;
  while (!in.empty() && recs.size() < 4096) {
    const size_t nl = in.find('\n');
    std::string err;
    if (auto r = smtplab::parse_jsonl(in.substr(0, nl), &err)) {
      r->seq = recs.size() + 1;
      recs.push_back(std::move(*r));
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  check(smtplab::capture_packets(recs), recs.size());
  if (!recs.empty()) check(smtplab::capture_packets(recs, smtplab::CaptureOptions{recs.front().dst}), recs.size());
  for (const smtplab::Record& r : recs) (void)smtplab::dns_message(r.wire, r.text);
  return 0;
}
