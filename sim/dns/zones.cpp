// sim/dns/zones.cpp: zone data, answers, and zones built from a scenario.
#include "sim/dns/zones.hpp"

#include <set>

#include "sim/net/network.hpp"

namespace smtplab {

std::string_view rcode_name(DnsRcode r) {
  switch (r) {
    case DnsRcode::noerror: return "NOERROR";
    case DnsRcode::servfail: return "SERVFAIL";
    case DnsRcode::nxdomain: return "NXDOMAIN";
  }
  return "?";
}

bool parse_dns_failure(std::string_view mode, DnsFailure& out) {
  if (mode == "nxdomain") out = DnsFailure::nxdomain;
  else if (mode == "servfail") out = DnsFailure::servfail;
  else if (mode == "timeout") out = DnsFailure::timeout;
  else if (mode == "none") out = DnsFailure::none;
  else return false;
  return true;
}

std::string_view dns_failure_name(DnsFailure f) {
  switch (f) {
    case DnsFailure::none: return "none";
    case DnsFailure::nxdomain: return "nxdomain";
    case DnsFailure::servfail: return "servfail";
    case DnsFailure::timeout: return "timeout";
  }
  return "?";
}

bool name_under(std::string_view name, std::string_view domain) {
  const std::string n = fqdn(name), d = fqdn(domain);
  if (n == d) return true;
  return n.size() > d.size() && n.compare(n.size() - d.size(), d.size(), d) == 0 && n[n.size() - d.size() - 1] == '.';
}

void ZoneData::add(ZoneRecord r) {
  // Identical records collapse (an RRset is a set, RFC 2181 5).
  for (size_t i : by_name_[r.name]) {
    const ZoneRecord& o = records_[i];
    if (o.type == r.type && o.preference == r.preference && o.target == r.target && o.address == r.address) return;
  }
  by_name_[r.name].push_back(records_.size());
  records_.push_back(std::move(r));
}

bool ZoneData::has_name(std::string_view name) const { return by_name_.count(fqdn(name)) > 0; }

std::vector<ZoneRecord> ZoneData::find(std::string_view name, RrType type) const {
  std::vector<ZoneRecord> out;
  auto it = by_name_.find(fqdn(name));
  if (it == by_name_.end()) return out;
  for (size_t i : it->second)
    if (records_[i].type == type) out.push_back(records_[i]);
  return out;
}

DnsAnswer ZoneData::answer(std::string_view qname, RrType qtype) const {
  DnsAnswer a;
  std::string name = fqdn(qname);
  for (int hops = 0; hops < 8; ++hops) {  // bounded: a CNAME loop ends here
    std::vector<ZoneRecord> rrs = find(name, qtype);
    if (!rrs.empty()) {
      a.records.insert(a.records.end(), rrs.begin(), rrs.end());
      return a;
    }
    std::vector<ZoneRecord> cn = qtype == RrType::CNAME ? std::vector<ZoneRecord>{} : find(name, RrType::CNAME);
    if (!cn.empty()) {
      a.records.push_back(cn.front());
      name = cn.front().target;
      continue;
    }
    // RFC 2308: NXDOMAIN when the (final) name does not exist at all.
    if (!has_name(name) && a.records.empty()) a.rcode = DnsRcode::nxdomain;
    return a;
  }
  a.rcode = DnsRcode::servfail;  // CNAME chain too long or looping
  a.records.clear();
  return a;
}

std::map<std::string, ZoneData> build_zones(const Scenario& sc, std::vector<std::string>* errors) {
  std::map<std::string, ZoneData> out;
  const std::vector<std::string> addrs = scenario_addresses(sc);
  for (const Host& srv : sc.hosts) {
    if (srv.role != HostRole::dns_server) continue;
    ZoneData& z = out[srv.name];
    std::set<std::string> explicit_mx;
    for (const Host::Zone& zone : srv.zones) {
      for (const std::string& text : zone.records) {
        std::string why;
        auto rec = parse_zone_record(text, zone.origin, &why);
        if (!rec) {
          if (errors) errors->push_back(srv.name + ": bad record \"" + text + "\": " + why);
          continue;
        }
        if (rec->type == RrType::MX) explicit_mx.insert(rec->name);
        z.add(std::move(*rec));
      }
    }
    if (!srv.auto_records) continue;
    // An A record for every host (unless the zones already name it).
    for (size_t k = 0; k < sc.hosts.size(); ++k) {
      const Host& h = sc.hosts[k];
      if (h.role == HostRole::router) continue;
      const std::string name = fqdn(h.name);
      if (!z.find(name, RrType::A).empty() || !z.find(name, RrType::CNAME).empty()) continue;
      ZoneRecord a;
      a.name = name;
      a.type = RrType::A;
      a.ttl = 3600;
      a.address = addrs[k];
      z.add(std::move(a));
    }
    // "MX 10 <server>" for every served domain whose MX no zone declares.
    for (const Host& h : sc.hosts) {
      if (h.role != HostRole::mail_server) continue;
      for (const std::string& d : h.domains) {
        const std::string name = fqdn(d);
        if (explicit_mx.count(name) || !z.find(name, RrType::CNAME).empty()) continue;
        ZoneRecord mx;
        mx.name = name;
        mx.type = RrType::MX;
        mx.ttl = 3600;
        mx.preference = 10;
        mx.target = fqdn(h.name);
        z.add(std::move(mx));
      }
    }
  }
  return out;
}

std::string resolver_host_for(const Scenario& sc, const Host& h) {
  if (!h.resolver.empty()) return h.resolver;
  for (const Host& o : sc.hosts)
    if (o.role == HostRole::dns_server) return o.name;
  return "";
}

}  // namespace smtplab
