// sim/net/network.hpp: the simulated network: hosts, links, routers, UDP and
// a TCP model, all on one engine and one trace.
//
// What it models
//   - Hosts (name, IPv4 address, up/down) and routers, joined by links with
//     latency, bandwidth (serialisation delay, FIFO per direction), loss,
//     Gilbert-Elliott burst loss, jitter, reordering and an up/down state.
//     Routing is shortest path by latency (fewest hops on ties), computed once
//     per (source, destination) pair and cached until the topology changes.
//   - UDP datagrams (used by sim/dns).
//   - TCP (RFC 793/9293 subset): three-way handshake with ISNs from named RNG
//     streams, MSS segmentation, cumulative ACKs, in-order delivery from a
//     receive buffer, RFC 6298 retransmission timer (initial 1 s, SRTT/RTTVAR,
//     Karn, exponential backoff, minimum 1 s), fast retransmit after three
//     duplicate ACKs (RFC 5681 3.2), bounded SYN and data retries, FIN close,
//     RST. A down host answers nothing; an up host with no listener answers
//     RST (connection refused).
//
// How an application uses it (the mail system does exactly this)
//   - Listen: implement TcpAcceptor, call net.listen(host, 25, &acceptor).
//     For each connection whose handshake completes, on_accept() returns the
//     TcpHandler that will receive the connection's callbacks.
//   - Connect: implement TcpHandler, call net.connect(from, address, 25, &handler) or
//     net.connect_host(from, to_host, 25, &handler).
//     The handler sees on_connected(), then on_data() per in-order chunk,
//     on_peer_closed() when the peer sent FIN, and exactly one on_closed()
//     with the reason (normal, reset, refused, timeout).
//   - Talk: conn.send(bytes) queues bytes (segmented by MSS); conn.close()
//     sends FIN once everything queued is sent; conn.abort() sends RST.
//   Handlers are called from engine events; they may call send/close/abort/
//   connect re-entrantly. A send or close on the handler's own connection
//   from inside its callback is queued and goes out when the callback
//   returns (one pass: the reply carries the ACK, "send; close" is one
//   segment with FIN). After abort(), or after on_closed(), the handle is
//   stale: its calls do nothing and valid() is false.
//
// Trace (layer tcp; records built only when trace.enabled(Layer::tcp))
//   segment-sent / segment-retransmit at the sender, segment-lost where and
//   when it is lost, segment-delivered at the receiver, each with attrs flags
//   ("SYN", "SYN,ACK", "ACK", "PSH,ACK", "FIN,ACK", "RST"...), seq, ack, len
//   (absolute numbers), port, conn; the text reads like tcpdump with
//   relative sequence numbers. tcp-connect / -established / -refused /
//   -timeout / -closed / -reset mark the connection's life. Records share the
//   connection's serial number as Record::session. Causes chain through the
//   engine: a delivered segment's cause is its segment-sent record.
//
// Must never: know about SMTP or DNS semantics, draw randomness outside its
// named streams, or allocate per segment in steady state (packet and
// connection slots are recycled; callbacks are virtual calls, not
// std::function).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/engine.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab {

class Network;

using Ipv4 = uint32_t;  // host byte order: 192.0.2.1 = 0xC0000201

// "192.0.2.1" <-> 0xC0000201. parse_ipv4 returns nullopt on bad input.
std::optional<Ipv4> parse_ipv4(std::string_view text);
std::string format_ipv4(Ipv4 a);

using HostId = uint32_t;
using LinkId = uint32_t;
inline constexpr HostId kNoHost = UINT32_MAX;
inline constexpr LinkId kNoLink = UINT32_MAX;

// Why a connection ended (TcpHandler::on_closed).
enum class CloseReason : uint8_t {
  normal,   // FIN exchange completed
  reset,    // RST received (or the local host went down)
  refused,  // RST answered our SYN: nothing listens on the port
  timeout,  // SYN or data retransmissions exhausted (host down, link down, heavy loss)
};
std::string_view close_reason_name(CloseReason r);

// Identifies a connection endpoint: a slot index and its generation, so a
// stale handle never reaches a recycled slot.
struct ConnId {
  uint32_t index = UINT32_MAX;
  uint32_t gen = 0;
  bool operator==(const ConnId&) const = default;
};

// A cheap value handle on one end of a TCP connection.
class TcpConn {
 public:
  TcpConn() = default;
  TcpConn(Network* net, ConnId id) : net_(net), id_(id) {}

  bool valid() const;              // false once closed/aborted/recycled
  size_t send(std::string_view bytes) const;  // returns bytes accepted (all, or 0 if not open for sending)
  void close() const;              // FIN after every queued byte is sent
  void abort() const;              // RST now; no on_closed follows
  uint64_t serial() const;         // the connection's number (Record::session); 0 if stale
  HostId local_host() const;
  HostId remote_host() const;      // kNoHost if the peer address is not a known host
  uint16_t local_port() const;
  uint16_t remote_port() const;
  Ipv4 remote_address() const;
  size_t unsent_bytes() const;     // queued but not yet acknowledged
  ConnId id() const { return id_; }
  Network* network() const { return net_; }
  bool operator==(const TcpConn&) const = default;

 private:
  Network* net_ = nullptr;
  ConnId id_{};
};

// The per-connection application interface.
class TcpHandler {
 public:
  virtual ~TcpHandler() = default;
  // The handshake completed (active opener: SYN-ACK received; passive: after on_accept).
  virtual void on_connected(TcpConn) {}
  // In-order bytes; the view is valid only during the call.
  virtual void on_data(TcpConn conn, std::string_view bytes) = 0;
  // The peer sent FIN: no more data will come. Default: close our side too.
  virtual void on_peer_closed(TcpConn conn) { conn.close(); }
  // Called once, last. The handle is stale afterwards.
  virtual void on_closed(TcpConn conn, CloseReason why) = 0;
};

// Accepts connections on a listening port.
class TcpAcceptor {
 public:
  virtual ~TcpAcceptor() = default;
  // A handshake completed on the listening port. Return the handler for the
  // connection, or nullptr to reset it. on_connected() follows at once.
  virtual TcpHandler* on_accept(TcpConn conn) = 0;
};

// Receives UDP datagrams on a bound port.
class UdpReceiver {
 public:
  virtual ~UdpReceiver() = default;
  virtual void on_datagram(HostId host, uint16_t port, Ipv4 from, uint16_t from_port, std::string_view payload) = 0;
};

// What a drop hook sees of a packet about to leave (tests and lessons use it
// to lose one chosen segment: "drop the first FIN").
struct PacketView {
  HostId src, dst;
  bool tcp;
  std::string_view flags;  // "SYN,ACK" ...; "" for UDP
  uint32_t seq, ack;       // absolute
  uint32_t rel_seq, rel_ack;  // relative to the ISNs, as the trace text shows them
  std::string_view payload;
  bool retransmit;
};
// Returns true to lose the packet (reason "dropped by rule").
using DropHook = bool (*)(void* ctx, const PacketView& p);

struct LinkParams {
  SimTime latency = msec(10);
  int64_t bandwidth_bps = 100'000'000;  // 0 = infinite (no serialisation delay)
  double loss = 0.0;                    // independent loss probability per packet
  SimTime jitter{0};                    // uniform extra delay in [0, jitter]
  double reorder = 0.0;                 // probability of an extra delay (jitter, or latency if jitter is 0)
  std::optional<Burst> burst;           // Gilbert-Elliott: loss in the bad state
  bool up = true;
};
LinkParams link_params(const Link& l);

struct TcpParams {
  uint32_t mss = 1460;              // bytes of payload per segment
  uint32_t window = 65535;          // receive window we advertise (no scaling)
  SimTime initial_rto = sec(1);     // RFC 6298 2.1
  SimTime min_rto = sec(1);         // RFC 6298 2.4
  SimTime max_rto = sec(60);        // RFC 6298 2.5 allows an upper bound >= 60 s
  int syn_retries = 5;              // then tcp-timeout: 1+2+4+8+16+32 = 63 s (Linux default 6)
  int data_retries = 8;             // retransmissions of one segment before giving up
  SimTime time_wait = sec(60);      // 2*MSL (Linux: 60 s); a compact entry re-ACKs a retransmitted FIN
  bool fast_retransmit = true;      // RFC 5681 3.2: three duplicate ACKs
};

// Counters for tests and benchmarks (not on the trace; everything here is
// also visible as records when tracing is on).
struct NetStats {
  uint64_t segments_sent = 0;
  uint64_t segments_lost = 0;
  uint64_t segments_delivered = 0;
  uint64_t retransmissions = 0;
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_lost = 0;
  uint64_t connections_opened = 0;
  uint64_t connections_live = 0;  // connection slots in use
  uint64_t time_wait = 0;         // compact TIME-WAIT entries (a 16-byte table slot and a 20-byte record each)
};

class Network {
 public:
  Network(Engine& engine, Trace& trace, uint64_t seed, TcpParams tcp = {});
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // ---- topology
  // Adds a host (or a router, which forwards but runs no applications).
  // Names must be unique; `address` must be a free, valid IPv4 address.
  // Throws std::invalid_argument otherwise.
  HostId add_host(std::string_view name, std::string_view address, bool router = false);
  LinkId add_link(HostId a, HostId b, const LinkParams& params);

  // Builds hosts and links from a validated scenario: every scenario host
  // (addresses from scenario_addresses()), explicit links, and an implicit
  // router "internet" to which every host in no explicit link is attached
  // with the scenario's network defaults.
  void build(const Scenario& sc);

  HostId find_host(std::string_view name) const;  // kNoHost if none
  HostId host_by_address(Ipv4 a) const;            // kNoHost if none
  LinkId find_link(std::string_view a, std::string_view b) const;  // either order; kNoLink if none
  const std::string& host_name(HostId h) const;
  Ipv4 host_address(HostId h) const;
  bool host_is_up(HostId h) const;
  size_t host_count() const;
  size_t link_count() const;
  // Hop-by-hop route (host ids, both ends included); empty if unreachable
  // through links that are up.
  std::vector<HostId> route(HostId from, HostId to) const;

  // ---- faults (each emits a net-layer record)
  void set_host_up(HostId h, bool up);            // down: every connection on it dies silently
  void set_link_up(LinkId l, bool up);
  void set_link_loss(LinkId l, double loss);      // 0..1
  const LinkParams& link(LinkId l) const;
  // One optional hook consulted for every packet sent (nullptr: none).
  void set_drop_hook(DropHook hook, void* ctx);

  // ---- TCP
  // Listens on host:port. Returns false if the port is already in use.
  bool listen(HostId host, uint16_t port, TcpAcceptor* acceptor);
  void unlisten(HostId host, uint16_t port);
  // Opens a connection from `from` (an ephemeral port) to address:port.
  // Never fails synchronously: an unreachable or down peer ends in
  // on_closed(timeout), a closed port in on_closed(refused).
  // `session`, if nonzero, becomes the connection's serial (Record::session)
  // so that a caller's records and the TCP records share one number.
  TcpConn connect(HostId from, Ipv4 to, uint16_t port, TcpHandler* handler, uint64_t session = 0);
  TcpConn connect_host(HostId from, HostId to, uint16_t port, TcpHandler* handler, uint64_t session = 0);
  // Fresh serial numbers for callers who want one before connecting.
  uint64_t next_serial();

  // ---- UDP
  bool bind_udp(HostId host, uint16_t port, UdpReceiver* receiver);
  void unbind_udp(HostId host, uint16_t port);
  // Sends a datagram (lost if the path is down or lossy, or the peer is down
  // or not listening: UDP has no error feedback here).
  void send_udp(HostId from, uint16_t from_port, Ipv4 to, uint16_t to_port, std::string_view payload);
  uint16_t ephemeral_udp_port(HostId host);

  const TcpParams& tcp_params() const;
  const NetStats& stats() const;
  // Bytes the network holds now: connection and packet slots, send and
  // receive buffers, payloads, idle pooled buffers, the 4-tuple and
  // TIME-WAIT tables (not the routing cache or the hosts). O(slots); for
  // benchmarks and tests.
  size_t memory_bytes() const;
  Engine& engine();
  Trace& trace();

  // ---- for TcpConn (the handle forwards here)
  bool conn_valid(ConnId c) const;
  size_t conn_send(ConnId c, std::string_view bytes);
  void conn_close(ConnId c);
  void conn_abort(ConnId c);
  uint64_t conn_serial(ConnId c) const;
  HostId conn_local_host(ConnId c) const;
  HostId conn_remote_host(ConnId c) const;
  uint16_t conn_local_port(ConnId c) const;
  uint16_t conn_remote_port(ConnId c) const;
  Ipv4 conn_remote_address(ConnId c) const;
  size_t conn_unsent(ConnId c) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The IPv4 address of every scenario host, in scenario order, and of the
// implicit "internet" router (last, when no host takes that name): declared
// addresses are kept; the others are assigned in order from 192.0.2.0/24,
// 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737 documentation ranges), then
// 10.0.0.0/8, skipping any address a host declared.
std::vector<std::string> scenario_addresses(const Scenario& sc);

}  // namespace smtplab
