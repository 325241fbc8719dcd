// sim/capture/packets.hpp: the trace's TCP segments and UDP datagrams as
// real IPv4 packets, for a capture file Wireshark or tcpdump can open.
//
// Built from the records alone (DESIGN.md: one trace stream), so a capture
// says exactly what the trace says:
// - a segment (`segment-sent`, `segment-retransmit`, `segment-delivered`)
//   becomes IPv4 + TCP with its flags, absolute seq and ack, the window its
//   SYN announced (RFC 9293 3.1), the MSS option on a SYN, and its payload
//   (the record's wire);
// - a datagram (`datagram-sent`, `datagram-delivered`) becomes IPv4 + UDP;
//   the simulated DNS messages ("Q 181 yahoo.test. MX", "R 181 NOERROR ...")
//   are encoded as RFC 1035 4.1 messages, so Wireshark dissects them as DNS;
// - IPv4 (RFC 791), TCP and UDP checksums are computed, TTL is 64, the IP
//   identification counts per sender.
//
// Where the capture is taken (CaptureOptions::host): "" is a capture at
// every sender, each packet once, when it is sent (a lost one included:
// its retransmission follows); a host name is that host's interface: what
// it sends, when it sends it, and what reaches it, when it arrives.
//
// Not on the wire in the simulation, so not in the capture: Ethernet (the
// file's link type is raw IPv4) and TLS (after STARTTLS the simulator
// carries the SMTP dialogue in clear; a real capture would show TLS
// records).
//
// Must never: crash or allocate without bound on a damaged trace (a record
// that cannot be read is skipped and counted); depend on files or libpcap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/trace/record.hpp"

namespace smtplab {

struct Packet {
  SimTime t{0};
  uint64_t record = 0;  // the seq of the record it was built from
  std::string bytes;    // one IPv4 datagram: header, TCP or UDP header, payload
};

struct CaptureOptions {
  std::string host;  // "": every packet once, at its sender; else this host's interface
};

struct Capture {
  std::vector<Packet> packets;
  size_t skipped = 0;         // packet records that could not be read
  std::string first_problem;  // "record #12: ..." for the first of them
};

// The packets of `records` (a trace, in order) as seen from `options.host`.
Capture capture_packets(std::span<const Record> records, const CaptureOptions& options = {});

// ---- exposed for tests

// The Internet checksum (RFC 1071) of `bytes`, with `sum` already added
// (a pseudo-header's partial sum).
uint16_t internet_checksum(std::string_view bytes, uint32_t sum = 0);

// The simulator's DNS text as an RFC 1035 message, or "" when it is not one.
// A response names no question; `question` ("yahoo.test. MX", from the
// query with the same id) supplies it.
std::string dns_message(std::string_view text, std::string_view question = {});

}  // namespace smtplab
