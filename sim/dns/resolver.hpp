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
  ~Resolver() override;
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Asks (or answers from the cache). `done` is always called later, from an
  // engine event, never from inside query().
  void query(std::string_view name, RrType type, Done done);
  // RFC 5321 5.1 for `domain`: MX, ordering, addresses, implicit and null MX.
  void route_mail(std::string_view domain, RouteDone done);
  // Forgets every cached answer.
  void flush_cache();
  size_t cache_size() const;

  void on_datagram(HostId host, uint16_t port, Ipv4 from, uint16_t from_port, std::string_view payload) override;

 private:
  struct Pending;
  struct CacheEntry {
    DnsRcode rcode;
    std::vector<ZoneRecord> records;
    SimTime stored;
    SimTime expires;
  };
  void send_query(const std::string& key);
  void on_timeout(uint64_t id);
  void complete(const std::string& key, DnsResult result);
  void route_addresses(std::shared_ptr<RouteJob> job);

  Network& net_;
  HostId self_;
  Ipv4 server_;
  Params params_;
  Rng id_rng_;
  Rng shuffle_rng_;
  uint16_t port_ = 0;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, std::unique_ptr<Pending>> pending_;  // by "qname|type"
  std::unordered_map<uint16_t, std::string> by_id_;
  std::shared_ptr<bool> alive_flag_;
};

// The mail server `self` picks candidate `index` of `route` (trace: mx-selected).
void emit_mx_selected(Trace& trace, std::string_view self, const MailRoute& route, size_t index);

}  // namespace smtplab
