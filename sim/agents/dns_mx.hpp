// sim/agents/dns_mx.hpp: MX routing through the simulated DNS (sim/dns).
//
// The MxLookup the world uses when the scenario has a dns-server: one
// caching stub resolver per asking host (its `resolver`, or the first
// dns-server), so queries, answers, timeouts and cache hits appear on the
// trace as real UDP exchanges. route_mail() does RFC 5321 5.1 (ordering,
// implicit MX, null MX); a smarthost is a plain A lookup.
//
// Must never: answer synchronously (the resolver calls back from an event).
#pragma once

#include <map>
#include <memory>

#include "sim/agents/mx_lookup.hpp"
#include "sim/dns/resolver.hpp"

namespace smtplab::agents {

class DnsMx final : public MxLookup {
 public:
  DnsMx(const Scenario& sc, Network& net);
  void lookup(HostId from, const std::string& domain, bool host_only, std::function<void(MxAnswer)> done) override;
  DnsSystem& dns() { return dns_; }

 private:
  Resolver& resolver_for(HostId host);
  const Scenario& sc_;
  Network& net_;
  DnsSystem dns_;
  std::map<HostId, std::unique_ptr<Resolver>> resolvers_;
};

}  // namespace smtplab::agents
