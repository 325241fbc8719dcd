// tests/test_capture.cpp: the trace's segments and datagrams as IPv4
// packets (sim/capture) and the pcap file they go into (app/pcap_file):
// checksums, DNS encoding, which packets a capture point sees, payloads
// that reassemble into the SMTP dialogue, damaged records skipped, and a
// file libpcap reads back.
#include <pcap/pcap.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "sim/pcap/pcap_file.hpp"
#include "sim/capture/packets.hpp"
#include "sim/mail/message.hpp"
#include "sim/scenario/loader.hpp"
#include "sim/scenario/run.hpp"
#include "run_helpers.hpp"
#include "test_helpers.hpp"

using namespace smtplab;

namespace {

RunResult run_file(const std::string& name) { return testing::run_scenario_file(name); }

uint16_t be16(const std::string& b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) | static_cast<uint8_t>(b[at + 1]));
}
uint32_t be32(const std::string& b, size_t at) { return (uint32_t{be16(b, at)} << 16) | be16(b, at + 2); }

// A packet's parts, checked as a receiver would check them.
struct Parsed {
  uint32_t src = 0, dst = 0;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t flags = 0;
  uint32_t seq = 0;
  std::string payload;
};

Parsed parse(const std::string& b) {
  Parsed p;
  REQUIRE(b.size() >= 28);
  CHECK(static_cast<uint8_t>(b[0]) == 0x45);
  CHECK(be16(b, 2) == b.size());
  CHECK(static_cast<uint8_t>(b[8]) == 64);
  CHECK(internet_checksum(std::string_view(b).substr(0, 20)) == 0);  // the header verifies
  p.proto = static_cast<uint8_t>(b[9]);
  p.src = be32(b, 12);
  p.dst = be32(b, 16);
  const std::string l4 = b.substr(20);
  const uint32_t pseudo = (p.src >> 16) + (p.src & 0xffff) + (p.dst >> 16) + (p.dst & 0xffff) + p.proto +
                          static_cast<uint32_t>(l4.size());
  CHECK(internet_checksum(l4, pseudo) == 0);  // so does the TCP or UDP checksum
  p.sport = be16(l4, 0);
  p.dport = be16(l4, 2);
  if (p.proto == 6) {
    p.seq = be32(l4, 4);
    p.flags = static_cast<uint8_t>(l4[13]);
    p.payload = l4.substr((static_cast<uint8_t>(l4[12]) >> 4) * 4);
  } else {
    REQUIRE(p.proto == 17);
    CHECK(be16(l4, 4) == l4.size());
    p.payload = l4.substr(8);
  }
  return p;
}

size_t count(const RunResult& r, std::initializer_list<Kind> kinds, const std::string& src = "", const std::string& dst = "") {
  size_t n = 0;
  for (const Record& rec : r.trace.records())
    for (Kind k : kinds)
      if (rec.kind == k && (src.empty() || rec.src == src) && (dst.empty() || rec.dst == dst)) ++n;
  return n;
}

}  // namespace

TEST_CASE("capture: the Internet checksum (RFC 1071 4.1's example)", "[capture]") {
  const std::string bytes("\x00\x01\xf2\x03\xf4\xf5\xf6\xf7", 8);
  CHECK(internet_checksum(bytes) == static_cast<uint16_t>(~0xddf2 & 0xffff));
  CHECK(internet_checksum(std::string("\x01", 1)) == static_cast<uint16_t>(~0x0100 & 0xffff));  // odd length pads a zero
  CHECK(internet_checksum("") == 0xffff);
}

TEST_CASE("capture: the simulator's DNS text as RFC 1035 messages", "[capture][dns]") {
  const std::string q = dns_message("Q 181 yahoo.test. MX");
  const std::string want_q("\x00\xb5\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                           "\x05yahoo\x04test\x00\x00\x0f\x00\x01",
                           12 + 12 + 4);
  CHECK(q == want_q);

  const std::string r = dns_message("R 181 NOERROR\nyahoo.test. 3600 IN MX 10 mx.yahoo.test.\nmx.yahoo.test. 60 IN A 192.0.2.4",
                                    "yahoo.test. MX");
  REQUIRE(r.size() > 12);
  CHECK(be16(r, 0) == 181);
  CHECK(be16(r, 2) == 0x8500);  // QR, AA, RD; NOERROR
  CHECK(be16(r, 4) == 1);       // the question, from the query
  CHECK(be16(r, 6) == 1);       // the MX answers
  CHECK(be16(r, 10) == 1);      // the A record is additional data
  CHECK(r.find(std::string("\x00\x0f\x00\x01\x00\x00\x0e\x10", 8)) != std::string::npos);  // MX IN TTL 3600
  CHECK(r.find(std::string("\xc0\x00\x02\x04", 4)) != std::string::npos);                  // 192.0.2.4

  const std::string nx = dns_message("R 7 NXDOMAIN", "nowhere.test. MX");
  REQUIRE(nx.size() >= 12);
  CHECK((be16(nx, 2) & 0xf) == 3);
  CHECK(be16(nx, 6) == 0);
  CHECK(dns_message("R 7 SERVFAIL").size() == 12);  // no question known: header only

  for (const char* bad : {"", "Q", "Q x yahoo.test. MX", "Q 70000 a. MX", "Q 1 a. TXT", "R 1 REFUSED", "hello",
                          "R 1 NOERROR\nnot a record", "Q 1 a..b. A"})
    CHECK(dns_message(bad).empty());
}

TEST_CASE("capture: bob-to-alice, each packet once at its sender, reassembles into the dialogue", "[capture]") {
  const RunResult run = run_file("bob-to-alice.json");
  const Capture c = capture_packets(run.trace.records());
  CHECK(c.skipped == 0);
  CHECK(c.packets.size() == count(run, {Kind::segment_sent, Kind::segment_retransmit, Kind::datagram_sent}));
  // The submission connection, client to server, in sequence order.
  std::map<uint32_t, std::string> client_bytes;
  size_t dns = 0;
  SimTime last{0};
  for (const Packet& p : c.packets) {
    CHECK(p.t >= last);
    last = p.t;
    const Parsed x = parse(p.bytes);
    if (x.proto == 17) {
      ++dns;
      CHECK((x.dport == 53 || x.sport == 53));
      CHECK(be16(x.payload, 4) == 1);  // queries and answers both carry the question
      continue;
    }
    if (x.dport == 587 && !x.payload.empty()) client_bytes[x.seq] = x.payload;
    if (x.flags & 0x02) CHECK(p.bytes.size() == 44);  // a SYN carries the MSS option
  }
  CHECK(dns == 4);
  std::string stream;
  for (const auto& [seq, bytes] : client_bytes) stream += bytes;
  CHECK(stream.rfind("EHLO bob-pc\r\nSTARTTLS\r\nEHLO bob-pc\r\nAUTH PLAIN ", 0) == 0);
  CHECK(stream.find("MAIL FROM:<bob@gmail.test> SIZE=224\r\nRCPT TO:<alice@yahoo.test>\r\nDATA\r\n") != std::string::npos);
  CHECK(stream.ends_with("\r\n.\r\nQUIT\r\n"));
}

TEST_CASE("capture: one host's interface sees what it sends and what reaches it, not what was lost", "[capture]") {
  const RunResult run = run_file("lossy-link.json");
  REQUIRE(count(run, {Kind::segment_lost}) > 0);
  const std::string host = "mx.yahoo.test";
  const Capture c = capture_packets(run.trace.records(), CaptureOptions{host});
  CHECK(c.skipped == 0);
  CHECK(c.packets.size() == count(run, {Kind::segment_sent, Kind::segment_retransmit, Kind::datagram_sent}, host) +
                                count(run, {Kind::segment_delivered, Kind::datagram_delivered}, "", host));
  // Every packet has the host's address at one end.
  std::map<uint32_t, size_t> ends;
  for (const Packet& p : c.packets) {
    const Parsed x = parse(p.bytes);
    ++ends[x.src];
    ++ends[x.dst];
  }
  size_t most = 0;
  for (const auto& [ip, n] : ends) most = std::max(most, n);
  CHECK(most == c.packets.size());
  // At every sender, lost segments are there too, once each.
  const Capture all = capture_packets(run.trace.records());
  CHECK(all.packets.size() == count(run, {Kind::segment_sent, Kind::segment_retransmit, Kind::datagram_sent}));
}

TEST_CASE("capture: a damaged record is skipped and counted, never a crash", "[capture]") {
  Record good;
  good.seq = 1;
  good.kind = Kind::segment_sent;
  good.text = "192.0.2.1:49152 > 192.0.2.2:25 [PSH,ACK] Seq=1 Ack=1 Len=4";
  good.wire = "QUIT";
  good.with("flags", "PSH,ACK").with("seq", "100").with("ack", "200").with("len", "4").with("conn", "192.0.2.1:49152>192.0.2.2:25");
  std::vector<Record> recs;
  recs.push_back(good);
  Record bad_conn = good;
  bad_conn.seq = 2;
  bad_conn.attrs[4].value = "nowhere";
  recs.push_back(bad_conn);
  Record bad_flags = good;
  bad_flags.seq = 3;
  bad_flags.attrs[0].value = "PSH,URGENT";
  recs.push_back(bad_flags);
  Record bad_len = good;
  bad_len.seq = 4;
  bad_len.attrs[3].value = "5";
  recs.push_back(bad_len);
  Record no_payload = good;  // a trace kept without wire bytes: zeros of the right length
  no_payload.seq = 5;
  no_payload.wire.clear();
  recs.push_back(no_payload);
  Record bad_udp;
  bad_udp.seq = 6;
  bad_udp.kind = Kind::datagram_sent;
  bad_udp.text = "somewhere UDP";
  recs.push_back(bad_udp);
  const Capture c = capture_packets(recs);
  REQUIRE(c.packets.size() == 2);
  CHECK(parse(c.packets[0].bytes).payload == "QUIT");
  CHECK(parse(c.packets[1].bytes).payload == std::string(4, '\0'));
  CHECK(c.skipped == 4);
  CHECK(c.first_problem == "record #2 (segment-sent): no 4-tuple in its \"conn\" attribute");
}

TEST_CASE("capture: the pcap file is raw IPv4 that libpcap reads back, stamped from the simulator's epoch", "[capture][pcap]") {
  const RunResult run = run_file("bob-to-alice.json");
  const Capture c = capture_packets(run.trace.records());
  const std::string path = (std::filesystem::temp_directory_path() / "smtplab_test_capture.pcap").string();
  PcapFile f;
  std::string why;
  REQUIRE(f.open(path, why));
  for (const Packet& p : c.packets) f.write(p);
  CHECK(f.written() == c.packets.size());
  REQUIRE(f.close(why));

  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_t* in = pcap_open_offline(path.c_str(), errbuf);
  REQUIRE(in != nullptr);
  CHECK(pcap_datalink(in) == DLT_RAW);
  size_t n = 0;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(in, &h, &data) == 1) {
    REQUIRE(n < c.packets.size());
    const Packet& p = c.packets[n++];
    CHECK(h->caplen == p.bytes.size());
    CHECK(std::string(reinterpret_cast<const char*>(data), h->caplen) == p.bytes);
    CHECK(h->ts.tv_sec == mail::kEpochUnixSeconds + p.t.us / 1000000);
    CHECK(h->ts.tv_usec == p.t.us % 1000000);
  }
  pcap_close(in);
  CHECK(n == c.packets.size());
  std::filesystem::remove(path);

  // A place that cannot be written: a clear error, no file handle left.
  PcapFile bad;
  CHECK_FALSE(bad.open("/nonexistent-dir/x.pcap", why));
  CHECK(why.find("cannot write /nonexistent-dir/x.pcap") == 0);
}
