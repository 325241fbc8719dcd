// sim/agents/directory_mx.hpp: MX routing straight from the scenario's zones.
//
// A thin MxLookup used when no DNS resolver is attached (and by the mail
// benchmark, which measures the mail system, not DNS): it reads the zones of
// every dns-server host (plus the automatic records: an A record per host,
// an MX 10 per mail-server domain nobody declared), orders MX records by
// preference with ties shuffled from a named RNG stream (RFC 5321 5.1),
// falls back to the A record (implicit MX), recognises the null MX (RFC
// 7505), and honours dns-failure faults. It answers from a zero-delay engine
// event and emits one dns-result record per lookup, so the trace still shows
// what routing decided.
//
// Must never: answer synchronously (callers rely on the asynchronous shape).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/agents/mx_lookup.hpp"
#include "sim/dns/zone_record.hpp"
#include "sim/engine/rng.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents {

class DirectoryMx final : public MxLookup {
 public:
  DirectoryMx(const Scenario& sc, Network& net, Engine& engine, Trace& trace);
  void lookup(HostId from, const std::string& domain, bool host_only, std::function<void(MxAnswer)> done) override;

  // dns-failure faults: "nxdomain", "servfail" or "timeout" for a domain; "" clears.
  void set_failure(const std::string& domain, const std::string& mode);

  // The answer, computed synchronously (tests).
  MxAnswer answer(const std::string& domain, bool host_only);

 private:
  Network& net_;
  Engine& engine_;
  Trace& trace_;
  Rng rng_;
  std::map<std::string, std::vector<ZoneRecord>> mx_;  // "yahoo.test." -> MX records
  std::map<std::string, std::string> a_;               // "mx.yahoo.test." -> "192.0.2.4"
  std::map<std::string, std::string> failures_;        // fqdn -> mode
};

}  // namespace smtplab::agents
