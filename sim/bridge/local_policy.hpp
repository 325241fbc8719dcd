// sim/bridge/local_policy.hpp: who a bridged mail server accepts mail for.
//
// The decision a real MTA makes at RCPT time (Postfix: local_recipient_maps,
// relay_domains, smtpd_relay_restrictions), taken from the scenario's host:
//   - a domain the host serves (Host::domains, or the host name itself):
//     a known mailbox, an alias, postmaster (RFC 5321 4.5.1: always), or any
//     local part when catch-all is on -> deliver locally; else 550 5.1.1;
//   - a domain another mail server of the scenario serves, or one this host
//     is a backup MX for: relay, but only when the bridge has somewhere to
//     relay to (--relay-to); else 550 5.7.1;
//   - any other domain: 550 5.7.1 relaying denied. Never an open relay.
//
// Pure: no sockets, no engine, no trace. The unit tests drive it directly.
// Invariants: refuse() verdicts are always 5xx with an enhanced code; an
// address outside every scenario domain is never classified as relay.
#pragma once

#include <string>
#include <string_view>

#include "sim/scenario/scenario.hpp"

namespace smtplab::bridge {

struct RecipientVerdict {
  enum class Action { deliver, relay, refuse };
  Action action = Action::refuse;
  std::string mailbox;   // deliver: the canonical address of the mailbox ("alice@yahoo.test")
  int code = 550;        // refuse: reply code
  std::string enhanced;  // refuse: RFC 3463 code
  std::string text;      // refuse: reply text
};

struct RecipientPolicyOptions {
  bool catch_all = false;  // --catch-all (or Host::catch_all)
  bool can_relay = false;  // --relay-to was given
};

class RecipientPolicy {
 public:
  RecipientPolicy(const Scenario& scenario, const Host& host, RecipientPolicyOptions options);

  RecipientVerdict classify(std::string_view address) const;

  const Host& host() const { return host_; }
  // The host's first domain (for "postmaster@" and banners).
  std::string primary_domain() const;
  bool serves_domain(std::string_view domain) const;

 private:
  const Scenario& scenario_;
  const Host& host_;
  RecipientPolicyOptions options_;
};

std::string lower_ascii(std::string_view s);
// Splits "user@Domain" into ("user", "domain"); no '@' -> (whole, "").
// The domain is lower-cased; the local part is kept (RFC 5321 2.4: local
// parts are case-sensitive on the wire; mailbox lookup lower-cases them).
std::pair<std::string, std::string> split_address(std::string_view address);

}  // namespace smtplab::bridge
