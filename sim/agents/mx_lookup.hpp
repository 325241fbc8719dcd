// sim/agents/mx_lookup.hpp: what the mail server asks of DNS, as one interface.
//
// The queue runner needs "where does mail for this domain go?" as an ordered
// list of (host, address) candidates, or a clear failure: permanent (NXDOMAIN,
// null MX: bounce) or temporary (SERVFAIL, timeout: defer). This adapter keeps
// the mail server independent of the resolver's own API; world.cpp implements
// it on top of sim/dns's caching resolver (RFC 5321 5.1 ordering lives there).
//
// Must never: block; call back before returning from lookup() is allowed only
// from a scheduled engine event (never re-entrantly), so callers see a
// uniform asynchronous interface.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/net/network.hpp"

namespace smtplab::agents {

struct MxCandidate {
  std::string host;    // "mx.yahoo.test" (no trailing dot)
  Ipv4 address = 0;
  int preference = 0;  // -1 for an implicit MX (the domain's own A record)
};

struct MxAnswer {
  enum class Status { ok, nxdomain, null_mx, temporary } status = Status::ok;
  std::vector<MxCandidate> candidates;  // ok: in the order to try them
  std::string error;                    // what went wrong, for bounces and deferrals
};

class MxLookup {
 public:
  virtual ~MxLookup() = default;
  // `from`: the host asking (its resolver); `domain`: the recipient domain, or
  // a host name when `host_only` (a smarthost: A record, no MX).
  virtual void lookup(HostId from, const std::string& domain, bool host_only, std::function<void(MxAnswer)> done) = 0;
};

}  // namespace smtplab::agents
