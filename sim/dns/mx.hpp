// sim/dns/mx.hpp: mail routing per RFC 5321 section 5.1, as pure functions.
//
//   - MX records are tried in order of preference (lowest first); records of
//     equal preference are shuffled ("SHOULD randomize", RFC 5321 5.1) with
//     the caller's named RNG stream.
//   - With no MX record at all, the domain's own address is the one
//     candidate (the "implicit MX", preference 0).
//   - A null MX (RFC 7505: one MX, preference 0, exchange ".") means the
//     domain accepts no mail: a permanent failure (556 5.1.10 at the sender).
//   - If the sending host is itself one of the MX hosts, it drops itself and
//     every MX of equal or higher preference (RFC 5321 5.1, last paragraph).
//
// The resolver (resolver.hpp) asks DNS for the records and the addresses,
// then hands the mail server a MailRoute: an ordered candidate list it walks,
// moving on to the next candidate when one is unreachable or answers 4xx at
// greeting (RFC 5321 5.1: "try the next").
//
// Must never: touch the network or the engine; randomness comes only from
// the Rng passed in.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/dns/zone_record.hpp"
#include "sim/engine/rng.hpp"

namespace smtplab {

struct MxChoice {
  std::string exchange;  // fully qualified, e.g. "mx1.example.test."
  uint16_t preference = 0;
};

enum class MxVerdict : uint8_t {
  use_mx,       // try `order`
  implicit_mx,  // no MX: use the domain's own A record
  null_mx,      // RFC 7505: the domain accepts no mail (permanent)
  loops_to_self,  // we are the best MX ourselves and no better one exists (permanent)
};

struct MxPlan {
  MxVerdict verdict = MxVerdict::use_mx;
  std::vector<MxChoice> order;
};

// Decides from the MX records of a domain (possibly empty) what to try.
// `self` (a host name, optional) is the sending host.
MxPlan plan_mx(const std::vector<ZoneRecord>& mx_records, Rng& rng, std::string_view self = {});
// The same decision, the same draws from `rng`, with the order written into
// `order` (left empty unless use_mx): records of other types are skipped, and
// a vector (and its strings) reused from an earlier call allocates nothing.
MxVerdict plan_mx_into(std::span<const ZoneRecord> records, Rng& rng, std::string_view self, std::vector<MxChoice>& order);

enum class RouteStatus : uint8_t { ok, temporary, permanent };
std::string_view route_status_name(RouteStatus s);

struct MxCandidate {
  std::string host;     // "mx1.example.test" (no trailing dot)
  std::string address;  // "192.0.2.3"
  uint16_t preference = 0;
  bool implicit = false;  // from the implicit MX rule
};

// What the resolver tells the mail server for a recipient domain.
struct MailRoute {
  std::string domain;
  RouteStatus status = RouteStatus::ok;
  std::vector<MxCandidate> candidates;  // try in this order (status ok)
  std::string error;                     // why not, for a bounce or a defer ("NXDOMAIN", "null MX (RFC 7505)" ...)
  bool null_mx = false;                  // RFC 7505: reply 556 5.1.10 / DSN 5.1.10
};

// "mx1.example.test. (192.0.2.3, preference 10), then mx2..." or the error.
std::string describe_route(const MailRoute& r);

}  // namespace smtplab
