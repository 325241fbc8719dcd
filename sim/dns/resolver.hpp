// sim/dns/resolver.hpp: DNS servers and caching stub resolvers over
// simulated UDP, and the mail-routing lookup a mail server calls.
//
//   DnsServer  answers questions on UDP port 53 of its host from ZoneData;
//              injected failures (NXDOMAIN, SERVFAIL, silence) per domain.
//   DnsSystem  every dns-server host of a scenario, built from build_zones();
//              the world's fault scheduler calls set_failure()/clear_failure().
//   Resolver   one per mail server: a caching stub resolver (RFC 1034 5.3.1)
//              with a timeout and retries, positive answers cached for their
//              TTL (the smallest of the RRset, RFC 2181 5.2), NXDOMAIN and
//              NODATA cached for `negative_ttl` (RFC 2308), SERVFAIL and
//              timeouts never cached. Identical questions in flight share
//              one query. route_mail() implements RFC 5321 5.1 on top.
//
// Trace (layer dns): dns-query at the resolver, dns-answer at the server
// (records formatted "example.test. 86400 IN MX 10 mx1.example.test."),
// dns-timeout, dns-cache-hit (TTLs shown as they remain), dns-result (what
// route_mail() concluded); mx-selected is emitted by the mail server through
// emit_mx_selected() when it picks a candidate. The UDP datagrams underneath
// appear on the net layer.
//
// Wire format (simulation-internal, shown in Record::wire): a question is
// "Q <id> <qname> <qtype>", an answer "R <id> <rcode>" followed by one zone
// record per line. Real DNS is binary (RFC 1035 4.1); text keeps the trace
// readable and the exchange is still a real UDP round trip that can be lost.
//
// Hot path: with the dns trace layer off, a cache hit allocates nothing (a
// route_mail() answered from the cache only for MX host names too long for a
// string's inline buffer, one per candidate). The cached DnsResult is built once
// per entry and shared (only its TTLs are rewritten as they count down); the
// hit is delivered from its own zero-delay engine event (schedule_in, a slot
// in `ready_`), so callbacks keep their order and trace causes; route_mail()
// keeps its finished jobs and reuses their buffers (key, MX order, candidates).
//
// Must never: draw randomness outside named streams; block; cache SERVFAIL.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/dns/mx.hpp"
#include "sim/dns/zones.hpp"
#include "sim/engine/rng.hpp"
#include "sim/net/network.hpp"

namespace smtplab {

inline constexpr uint16_t kDnsPort = 53;
struct RouteJob;  // resolver.cpp: one route_mail() in progress

class DnsServer : public UdpReceiver {
 public:
  DnsServer(Network& net, HostId host, ZoneData data);
  ~DnsServer() override;
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Lookups of `domain` and every name under it fail with `mode` until cleared.
  void set_failure(std::string_view domain, DnsFailure mode);
  void clear_failure(std::string_view domain);
  // The answer this server gives now (failures applied).
  DnsAnswer answer(std::string_view qname, RrType qtype) const;

  const ZoneData& data() const { return data_; }
  ZoneData& data() { return data_; }
  HostId host() const { return host_; }

  void on_datagram(HostId host, uint16_t port, Ipv4 from, uint16_t from_port, std::string_view payload) override;

 private:
  Network& net_;
  HostId host_;
  ZoneData data_;
  std::map<std::string, DnsFailure> failures_;
};

class DnsSystem {
 public:
  // Builds a server on every dns-server host of the scenario (the network
  // must already hold the scenario's hosts: Network::build).
  DnsSystem(Network& net, const Scenario& sc);
  DnsServer* server(std::string_view host_name);
  size_t size() const { return servers_.size(); }
  // Applies to every server (the fault is "lookups of this domain fail").
  // Emits a note on the trace.
  void set_failure(std::string_view domain, DnsFailure mode);
  void clear_failure(std::string_view domain);

 private:
  Network& net_;
  std::vector<std::unique_ptr<DnsServer>> servers_;
};

// A resolver's answer to one question.
struct DnsResult {
  std::string qname;  // as asked, fully qualified
  RrType qtype = RrType::A;
  DnsRcode rcode = DnsRcode::noerror;
  bool timed_out = false;
  bool from_cache = false;
  std::vector<ZoneRecord> records;  // CNAME chain first, then answers (TTLs as remaining)
  // The records of the asked type at the end of any CNAME chain.
  std::vector<ZoneRecord> answers() const;
  // Calls f(record) for each record answers() holds, in order, without copying.
  template <class F>
  void for_each_answer(F&& f) const {
    for (const ZoneRecord& r : records)
      if (r.type == qtype) f(r);
  }
};

class Resolver : public UdpReceiver {
 public:
  struct Params {
    SimTime timeout = sec(5);        // per attempt (resolv.conf "timeout:5")
    int attempts = 2;                // tries per question (resolv.conf "attempts:2")
    SimTime negative_ttl = minutes(5);  // NXDOMAIN / NODATA caching (no SOA here)
  };
  using Done = std::function<void(const DnsResult&)>;
  using RouteDone = std::function<void(const MailRoute&)>;

  // `self` asks the DNS server at `server` (UDP 53). Streams: "dns.id/<host>"
  // for query ids, "mx.shuffle/<host>" for equal-preference MX order.
  Resolver(Network& net, HostId self, Ipv4 server, uint64_t seed, Params params);
  Resolver(Network& net, HostId self, Ipv4 server, uint64_t seed);
  // Callbacks still pending are dropped. Not to be destroyed from inside one
  // of its own callbacks.
  ~Resolver() override;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Asks (or answers from the cache). `done` is always called later, from an
  // engine event, never from inside query(). A result from the cache is
  // shared by every hit on that entry: read it inside `done`, copy what you keep.
  void query(std::string_view name, RrType type, Done done);
  // RFC 5321 5.1 for `domain`: MX, ordering, addresses, implicit and null MX.
  // `done` is called later, from an engine event; the route it gets lives
  // only for the call.
  void route_mail(std::string_view domain, RouteDone done);
  // Forgets every cached answer.
  void flush_cache();
  size_t cache_size() const;

  void on_datagram(HostId host, uint16_t port, Ipv4 from, uint16_t from_port, std::string_view payload) override;

 private:
  struct Pending;
  struct Waiter;  // a query() caller, or a route_mail() at one of its lookups
  struct Cached;  // one cached answer, shared with the hits waiting to be delivered
  struct Ready;   // a cache hit waiting for its engine event
  void ask(std::string_view name, RrType type, Waiter w);
  const std::string& key_for(std::string_view name, RrType type);
  void send_query(const std::string& key);
  void on_timeout(uint64_t id);
  void on_ready(uint64_t slot);
  void complete(const std::string& key, DnsResult result);
  void answer(Waiter w, const DnsResult& r);
  void on_mx(std::unique_ptr<RouteJob> job, const DnsResult& r);
  void on_address(std::unique_ptr<RouteJob> job, const DnsResult& r);
  void route_addresses(std::unique_ptr<RouteJob> job);
  std::unique_ptr<RouteJob> take_job();

  Network& net_;
  HostId self_;
  Ipv4 server_;
  Params params_;
  Rng id_rng_;
  Rng shuffle_rng_;
  uint16_t port_ = 0;
  std::string key_;  // scratch for "qname|type", so a cache lookup builds no string
  std::unordered_map<std::string, std::shared_ptr<Cached>> cache_;
  std::unordered_map<std::string, std::unique_ptr<Pending>> pending_;  // by "qname|type"
  std::unordered_map<uint16_t, std::string> by_id_;
  std::vector<Ready> ready_;             // slots, by the event argument
  std::vector<uint32_t> free_ready_;     // unused slots of ready_
  std::vector<std::unique_ptr<RouteJob>> spare_jobs_;  // finished route_mail()s, reused
};

// The mail server `self` picks candidate `index` of `route` (trace: mx-selected).
void emit_mx_selected(Trace& trace, std::string_view self, const MailRoute& route, size_t index);

}  // namespace smtplab
