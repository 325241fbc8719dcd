// sim/agents/dns_mx.cpp: the mail server's view of the simulated DNS.
#include "sim/agents/dns_mx.hpp"

namespace smtplab::agents {

DnsMx::DnsMx(const Scenario& sc, Network& net) : sc_(sc), net_(net), dns_(net, sc) {}

Resolver& DnsMx::resolver_for(HostId host) {
  auto it = resolvers_.find(host);
  if (it != resolvers_.end()) return *it->second;
  // The host's configured resolver, else the first dns-server of the scenario.
  std::string server;
  for (const Host& h : sc_.hosts)
    if (h.name == net_.host_name(host)) server = h.resolver;
  if (server.empty())
    for (const Host& h : sc_.hosts)
      if (h.role == HostRole::dns_server) {
        server = h.name;
        break;
      }
  const HostId sid = net_.find_host(server);
  const Ipv4 addr = sid == kNoHost ? 0 : net_.host_address(sid);
  auto r = std::make_unique<Resolver>(net_, host, addr, sc_.seed);
  Resolver& ref = *r;
  resolvers_.emplace(host, std::move(r));
  return ref;
}

void DnsMx::lookup(HostId from, const std::string& domain, bool host_only, std::function<void(MxAnswer)> done) {
  Resolver& r = resolver_for(from);
  if (host_only) {
    r.query(domain, RrType::A, [done = std::move(done), domain](const DnsResult& res) {
      MxAnswer a;
      if (res.timed_out || res.rcode == DnsRcode::servfail) {
        a.status = MxAnswer::Status::temporary;
        a.error = res.timed_out ? "DNS timeout" : "SERVFAIL";
      } else if (res.rcode == DnsRcode::nxdomain) {
        a.status = MxAnswer::Status::nxdomain;
        a.error = "NXDOMAIN";
      } else {
        for (const ZoneRecord& z : res.answers())
          if (auto ip = parse_ipv4(z.address)) a.candidates.push_back(MxCandidate{domain, *ip, -1});
        if (a.candidates.empty()) {
          a.status = MxAnswer::Status::nxdomain;
          a.error = "no A record for " + domain;
        }
      }
      done(std::move(a));
    });
    return;
  }
  r.route_mail(domain, [done = std::move(done)](const MailRoute& route) {
    MxAnswer a;
    a.error = route.error;
    if (route.status == RouteStatus::ok) {
      for (const smtplab::MxCandidate& c : route.candidates)
        if (auto ip = parse_ipv4(c.address))
          a.candidates.push_back(MxCandidate{c.host, *ip, c.implicit ? -1 : static_cast<int>(c.preference)});
      if (a.candidates.empty()) {
        a.status = MxAnswer::Status::temporary;
        a.error = "no usable MX address";
      }
    } else if (route.status == RouteStatus::temporary) {
      a.status = MxAnswer::Status::temporary;
    } else {
      a.status = route.null_mx ? MxAnswer::Status::null_mx : MxAnswer::Status::nxdomain;
    }
    done(std::move(a));
  });
}

}  // namespace smtplab::agents
