// sim/dns/zones.hpp: zone data held by a simulated DNS server, how it answers
// a question, and how a scenario's zones are built.
//
// A scenario's dns-server hosts carry zones as text records, plus (unless
// "auto_records": false) an A record for every host and "MX 10 <host>" for
// every domain a mail server serves whose MX no zone declares. Each server
// answers from its own data only (no delegation): it plays "the DNS" of the
// little internet the scenario describes.
//
// answer() is pure: (data, question, failure mode) -> answer. It follows
// CNAME chains (RFC 1034 3.6.2) inside its data, answers NXDOMAIN for a name
// it has no records for (RFC 1035 4.1.1 rcode 3), and NOERROR with no
// records ("NODATA", RFC 2308 2.2) for a name that exists without that type.
//
// Must never: touch the network, the engine or a random number.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/dns/zone_record.hpp"
#include "sim/scenario/scenario.hpp"

namespace smtplab {

enum class DnsRcode : uint8_t { noerror = 0, servfail = 2, nxdomain = 3 };
std::string_view rcode_name(DnsRcode r);  // "NOERROR", "SERVFAIL", "NXDOMAIN"

// An injected failure for a domain (scenario fault "dns-failure").
enum class DnsFailure : uint8_t { none, nxdomain, servfail, timeout };
// "nxdomain" | "servfail" | "timeout" (and "none"); false on anything else.
bool parse_dns_failure(std::string_view mode, DnsFailure& out);
std::string_view dns_failure_name(DnsFailure f);

struct DnsAnswer {
  DnsRcode rcode = DnsRcode::noerror;
  std::vector<ZoneRecord> records;  // the CNAME chain first, then the answers
  bool dropped = false;             // failure mode "timeout": the server stays silent
};

class ZoneData {
 public:
  void add(ZoneRecord r);
  bool has_name(std::string_view fqdn_name) const;
  std::vector<ZoneRecord> find(std::string_view fqdn_name, RrType type) const;
  const std::vector<ZoneRecord>& records() const { return records_; }

  // The answer to (qname, qtype); qname in any case, with or without the dot.
  DnsAnswer answer(std::string_view qname, RrType qtype) const;

 private:
  std::vector<ZoneRecord> records_;
  std::unordered_map<std::string, std::vector<size_t>> by_name_;
};

// True if `name` is `domain` or lies below it ("mx.yahoo.test." under "yahoo.test.").
bool name_under(std::string_view name, std::string_view domain);

// The zone data of every dns-server host, keyed by host name. Host addresses
// come from scenario_addresses() (sim/net), so the DNS and the network agree.
// Records that fail to parse are skipped and reported in `errors` (the
// loader has already rejected them for a validated scenario).
std::map<std::string, ZoneData> build_zones(const Scenario& sc, std::vector<std::string>* errors = nullptr);

// The dns-server host a host asks: its "resolver", else the first dns-server
// of the scenario; "" if the scenario has none.
std::string resolver_host_for(const Scenario& sc, const Host& h);

}  // namespace smtplab
