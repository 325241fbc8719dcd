// sim/capture/packets.cpp: records -> IPv4 packets (see packets.hpp).
#include "sim/capture/packets.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "sim/dns/zone_record.hpp"
#include "sim/net/network.hpp"

namespace smtplab {

namespace {

constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpAck = 0x10;
constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;
constexpr size_t kMaxPayload = 65535 - 20 - 24;  // what fits in one IPv4 datagram with a TCP header and MSS

struct Endpoint {
  Ipv4 ip = 0;
  uint16_t port = 0;
  auto key() const { return std::make_pair(ip, port); }
};

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "192.0.2.1:49152"
std::optional<Endpoint> endpoint(std::string_view s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto ip = parse_ipv4(s.substr(0, colon));
  auto port = number<uint16_t>(s.substr(colon + 1));
  if (!ip || !port) return std::nullopt;
  return Endpoint{*ip, *port};
}

// "NAME=value" in a record's text ("Win=65535", "MSS=1460").
std::optional<uint32_t> text_field(std::string_view text, std::string_view name) {
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    if (at > 0 && text[at - 1] != ' ') continue;
    if (at + name.size() >= text.size() || text[at + name.size()] != '=') continue;
    std::string_view v = text.substr(at + name.size() + 1);
    v = v.substr(0, v.find_first_not_of("0123456789"));
    return number<uint32_t>(v);
  }
  return std::nullopt;
}

void put16(std::string& b, uint16_t v) {
  b += static_cast<char>(v >> 8);
  b += static_cast<char>(v & 0xff);
}
void put32(std::string& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v & 0xffff));
}
void set16(std::string& b, size_t at, uint16_t v) {
  b[at] = static_cast<char>(v >> 8);
  b[at + 1] = static_cast<char>(v & 0xff);
}

uint8_t tcp_flags(std::string_view names, bool& ok) {
  uint8_t f = 0;
  ok = !names.empty();
  while (!names.empty()) {
    const size_t comma = names.find(',');
    const std::string_view n = names.substr(0, comma);
    if (n == "FIN") f |= kTcpFin;
    else if (n == "SYN") f |= kTcpSyn;
    else if (n == "RST") f |= kTcpRst;
    else if (n == "PSH") f |= kTcpPsh;
    else if (n == "ACK") f |= kTcpAck;
    else ok = false;
    if (comma == std::string_view::npos) break;
    names.remove_prefix(comma + 1);
  }
  return f;
}

// RFC 791 3.1 header, then `l4` (whose checksum field, at `sum_at`, is
// filled with the pseudo-header sum: RFC 9293 3.1, RFC 768).
std::string ipv4_packet(Endpoint src, Endpoint dst, uint8_t proto, uint16_t id, std::string l4, size_t sum_at) {
  uint32_t pseudo = (src.ip >> 16) + (src.ip & 0xffff) + (dst.ip >> 16) + (dst.ip & 0xffff) + proto +
                    static_cast<uint32_t>(l4.size());
  uint16_t sum = internet_checksum(l4, pseudo);
  if (proto == kProtoUdp && sum == 0) sum = 0xffff;  // RFC 768: 0 means "no checksum"
  set16(l4, sum_at, sum);
  std::string p;
  p.reserve(20 + l4.size());
  p += static_cast<char>(0x45);  // version 4, 5 words of header
  p += static_cast<char>(0);     // DSCP/ECN
  put16(p, static_cast<uint16_t>(20 + l4.size()));
  put16(p, id);
  put16(p, proto == kProtoTcp ? 0x4000 : 0);  // DF for TCP (path MTU discovery), no fragments
  p += static_cast<char>(64);                   // TTL
  p += static_cast<char>(proto);
  put16(p, 0);
  put32(p, src.ip);
  put32(p, dst.ip);
  set16(p, 10, internet_checksum(std::string_view(p).substr(0, 20)));
  p += l4;
  return p;
}

// A domain name as labels (RFC 1035 3.1), no compression; false when a
// label is empty or longer than 63 octets, or the name longer than 255.
bool put_name(std::string& b, std::string_view name) {
  if (name == ".") name = "";
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  const size_t start = b.size();
  while (!name.empty()) {
    const size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    b += static_cast<char>(label.size());
    b += label;
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  b += '\0';
  return b.size() - start <= 255;
}

std::optional<uint16_t> qtype_code(std::string_view name) {
  for (RrType t : {RrType::A, RrType::CNAME, RrType::MX})
    if (rr_type_name(t) == name) return static_cast<uint16_t>(t);
  return std::nullopt;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) break;
    s.remove_prefix(b);
    const size_t e = s.find_first_of(" \t");
    out.push_back(s.substr(0, e));
    if (e == std::string_view::npos) break;
    s.remove_prefix(e);
  }
  return out;
}

}  // namespace

uint16_t internet_checksum(std::string_view bytes, uint32_t sum) {
  uint64_t s = sum;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2)
    s += (static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 8) | static_cast<uint8_t>(bytes[i + 1]);
  if (bytes.size() % 2) s += static_cast<uint32_t>(static_cast<uint8_t>(bytes.back())) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s & 0xffff);
}

std::string dns_message(std::string_view text, std::string_view question) {
  const size_t nl = text.find('\n');
  const std::vector<std::string_view> head = words(text.substr(0, nl));
  if (head.size() < 3 || (head[0] != "Q" && head[0] != "R")) return {};
  const auto id = number<uint16_t>(head[1]);
  if (!id) return {};
  const bool response = head[0] == "R";
  std::string b;
  put16(b, *id);
  if (!response) {
    // "Q <id> <qname> <qtype>": a stub resolver's query, recursion desired.
    if (head.size() != 4) return {};
    const auto qt = qtype_code(head[3]);
    if (!qt) return {};
    put16(b, 0x0100);
    put16(b, 1);
    put16(b, 0);
    put16(b, 0);
    put16(b, 0);
    if (!put_name(b, head[2])) return {};
    put16(b, *qt);
    put16(b, 1);  // IN
    return b;
  }
  // "R <id> <RCODE>" then one record per line: an authoritative answer.
  uint16_t rcode = 0;
  if (head[2] == "NOERROR") rcode = 0;
  else if (head[2] == "SERVFAIL") rcode = 2;
  else if (head[2] == "NXDOMAIN") rcode = 3;
  else return {};
  std::vector<ZoneRecord> rrs;
  for (std::string_view rest = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1); !rest.empty();) {
    const size_t e = rest.find('\n');
    std::string error;
    if (auto rr = parse_zone_record(rest.substr(0, e), ".", &error)) rrs.push_back(std::move(*rr));
    else return {};
    if (e == std::string_view::npos) break;
    rest.remove_prefix(e + 1);
  }
  const std::vector<std::string_view> q = words(question);
  const std::optional<uint16_t> qt = q.size() == 2 ? qtype_code(q[1]) : std::nullopt;
  // Records of the asked type (and the CNAMEs that lead to them) answer;
  // any others are additional data (RFC 1035 4.1).
  auto answers = [&](const ZoneRecord& r) { return !qt || static_cast<uint16_t>(r.type) == *qt || r.type == RrType::CNAME; };
  uint16_t an = 0, ar = 0;
  for (const ZoneRecord& r : rrs) (answers(r) ? an : ar) += 1;
  put16(b, static_cast<uint16_t>(0x8000 | 0x0400 | 0x0100 | rcode));  // QR, AA, RD
  put16(b, qt ? 1 : 0);
  put16(b, an);
  put16(b, 0);
  put16(b, ar);
  if (qt) {
    if (!put_name(b, q[0])) return {};
    put16(b, *qt);
    put16(b, 1);
  }
  for (int pass = 0; pass < 2; ++pass)
    for (const ZoneRecord& r : rrs) {
      if (answers(r) != (pass == 0)) continue;
      if (!put_name(b, r.name)) return {};
      put16(b, static_cast<uint16_t>(r.type));
      put16(b, 1);
      put32(b, r.ttl);
      std::string rdata;
      if (r.type == RrType::A) {
        const auto a = parse_ipv4(r.address);
        if (!a) return {};
        put32(rdata, *a);
      } else if (r.type == RrType::MX) {
        put16(rdata, r.preference);
        if (!put_name(rdata, r.target)) return {};
      } else if (!put_name(rdata, r.target)) {
        return {};
      }
      put16(b, static_cast<uint16_t>(rdata.size()));
      b += rdata;
    }
  return b;
}

namespace {

// Records in trace order, one at a time: the packets they put on the
// capture's wire, and the ones that could not be read.
struct Builder {
  CaptureOptions opt;
  Capture out;
  std::map<Ipv4, uint16_t> ip_id;  // per sender
  // The window each end announced in its SYN, by (sender, receiver).
  std::map<std::tuple<Ipv4, uint16_t, Ipv4, uint16_t>, uint16_t> window;
  // Questions by (asker, server, id), for the answers that do not repeat them.
  std::map<std::tuple<Ipv4, uint16_t, Ipv4, uint16_t, uint16_t>, std::string> questions;

  void skip(const Record& r, std::string why) {
    if (out.skipped++ == 0)
      out.first_problem = "record #" + std::to_string(r.seq) + " (" + std::string(kind_name(r.kind)) + "): " + why;
  }

  void add(const Record& r) {
    if (!wanted(r)) return;
    if (r.layer() == Layer::tcp) segment(r);
    else datagram(r);
  }

  bool wanted(const Record& r) const {
    const bool sent = r.kind == Kind::segment_sent || r.kind == Kind::segment_retransmit || r.kind == Kind::datagram_sent;
    const bool delivered = r.kind == Kind::segment_delivered || r.kind == Kind::datagram_delivered;
    if (opt.host.empty()) return sent;
    return (sent && r.src == opt.host) || (delivered && r.dst == opt.host);
  }

  uint16_t next_id(Ipv4 src) { return ip_id[src]++; }

  void segment(const Record& r) {
    const std::string_view conn = r.attr("conn");
    const size_t gt = conn.find('>');
    const auto src = endpoint(conn.substr(0, gt)), dst = gt == std::string_view::npos ? std::nullopt : endpoint(conn.substr(gt + 1));
    if (!src || !dst) return skip(r, "no 4-tuple in its \"conn\" attribute");
    bool ok = false;
    const uint8_t flags = tcp_flags(r.attr("flags"), ok);
    const auto seq = number<uint32_t>(r.attr("seq")), ack = number<uint32_t>(r.attr("ack"));
    const auto len = number<uint32_t>(r.attr("len"));
    if (!ok || !seq || !ack || !len) return skip(r, "unreadable flags, seq, ack or len");
    if (*len > kMaxPayload) return skip(r, "a payload of " + std::to_string(*len) + " bytes does not fit an IPv4 packet");
    if (!r.wire.empty() && r.wire.size() != *len)
      return skip(r, "its wire holds " + std::to_string(r.wire.size()) + " bytes, its len says " + std::to_string(*len));
    const auto key = std::make_tuple(src->ip, src->port, dst->ip, dst->port);
    if (flags & kTcpSyn)
      if (auto w = text_field(r.text, "Win")) {
        if (window.size() > 65536) window.clear();  // bounded for a long live run: the rest read 65535
        window[key] = static_cast<uint16_t>(std::min<uint32_t>(*w, 65535));
      }
    const auto w = window.find(key);
    const std::optional<uint32_t> mss = (flags & kTcpSyn) ? text_field(r.text, "MSS") : std::nullopt;
    std::string tcp;
    put16(tcp, src->port);
    put16(tcp, dst->port);
    put32(tcp, *seq);
    put32(tcp, (flags & kTcpAck) ? *ack : 0);
    const uint8_t data_offset = mss ? 6 : 5;  // 32-bit words of header
    tcp += static_cast<char>(data_offset << 4);
    tcp += static_cast<char>(flags);
    put16(tcp, w == window.end() ? 65535 : w->second);
    put16(tcp, 0);  // checksum
    put16(tcp, 0);  // urgent pointer
    if (mss) {
      tcp += static_cast<char>(2);  // MSS option (RFC 9293 3.2)
      tcp += static_cast<char>(4);
      put16(tcp, static_cast<uint16_t>(std::min<uint32_t>(*mss, 65535)));
    }
    if (r.wire.empty()) tcp.append(*len, '\0');  // a trace kept without payloads: the length is still right
    else tcp += r.wire;
    out.packets.push_back(Packet{r.t, r.seq, ipv4_packet(*src, *dst, kProtoTcp, next_id(src->ip), std::move(tcp), 16)});
  }

  void datagram(const Record& r) {
    // "192.0.2.2:49152 > 192.0.2.3:53 UDP Len=20" (network.cpp)
    const std::vector<std::string_view> w = words(r.text);
    const auto src = w.size() >= 3 ? endpoint(w[0]) : std::nullopt;
    const auto dst = w.size() >= 3 && w[1] == ">" ? endpoint(w[2]) : std::nullopt;
    if (!src || !dst) return skip(r, "no \"address:port > address:port\" in its text");
    std::string payload;
    if (dst->port == 53 || src->port == 53) {
      // DNS: a query's question is kept for the answer that comes back.
      const bool query = dst->port == 53;
      const std::vector<std::string_view> head = words(std::string_view(r.wire).substr(0, r.wire.find('\n')));
      const uint16_t id = (head.size() >= 2 ? number<uint16_t>(head[1]) : std::nullopt).value_or(0);
      const auto key = query ? std::make_tuple(src->ip, src->port, dst->ip, dst->port, id)
                             : std::make_tuple(dst->ip, dst->port, src->ip, src->port, id);
      if (query && head.size() == 4) questions[key] = std::string(head[2]) + " " + std::string(head[3]);
      std::string question;
      if (!query)
        if (auto it = questions.find(key); it != questions.end()) question = it->second;
      payload = dns_message(r.wire, question);
      if (questions.size() > 4096) questions.clear();  // bounded: answers come within a few seconds
    }
    if (payload.empty()) payload = r.wire;  // not DNS as the simulator writes it: the bytes as they are
    if (payload.size() > 65535 - 28) return skip(r, "a datagram of " + std::to_string(payload.size()) + " bytes");
    std::string udp;
    put16(udp, src->port);
    put16(udp, dst->port);
    put16(udp, static_cast<uint16_t>(8 + payload.size()));
    put16(udp, 0);
    udp += payload;
    out.packets.push_back(Packet{r.t, r.seq, ipv4_packet(*src, *dst, kProtoUdp, next_id(src->ip), std::move(udp), 6)});
  }
};

}  // namespace

Capture capture_packets(std::span<const Record> records, const CaptureOptions& options) {
  Builder b;
  b.opt = options;
  for (const Record& r : records) b.add(r);
  return std::move(b.out);
}

}  // namespace smtplab
