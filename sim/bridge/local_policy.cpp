// sim/bridge/local_policy.cpp: RCPT-time routing decisions of a bridged server.
#include "sim/bridge/local_policy.hpp"

#include <algorithm>

namespace smtplab::bridge {

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::pair<std::string, std::string> split_address(std::string_view address) {
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos) return {std::string(address), ""};
  std::string_view dom = address.substr(at + 1);
  // A trailing dot names the same domain (absolute form).
  while (!dom.empty() && dom.back() == '.') dom.remove_suffix(1);
  return {std::string(address.substr(0, at)), lower_ascii(dom)};
}

RecipientPolicy::RecipientPolicy(const Scenario& scenario, const Host& host, RecipientPolicyOptions options)
    : scenario_(scenario), host_(host), options_(options) {
  options_.catch_all = options_.catch_all || host.catch_all;
}

std::string RecipientPolicy::primary_domain() const {
  return host_.domains.empty() ? lower_ascii(host_.name) : lower_ascii(host_.domains.front());
}

bool RecipientPolicy::serves_domain(std::string_view domain) const {
  const std::string d = lower_ascii(domain);
  if (d == lower_ascii(host_.name)) return true;
  return std::any_of(host_.domains.begin(), host_.domains.end(),
                     [&](const std::string& x) { return lower_ascii(x) == d; });
}

RecipientVerdict RecipientPolicy::classify(std::string_view address) const {
  RecipientVerdict v;
  auto [local, domain] = split_address(address);
  const std::string llocal = lower_ascii(local);
  // RFC 5321 4.5.1: "postmaster" with no domain must be accepted.
  if (domain.empty()) {
    if (llocal == "postmaster") {
      v.action = RecipientVerdict::Action::deliver;
      v.mailbox = "postmaster@" + primary_domain();
      return v;
    }
    v.code = 550;
    v.enhanced = "5.1.3";
    v.text = "recipient address needs a domain";
    return v;
  }
  if (serves_domain(domain)) {
    for (const Mailbox& mb : host_.mailboxes) {
      if (lower_ascii(mb.user) == llocal) {
        v.action = RecipientVerdict::Action::deliver;
        v.mailbox = llocal + "@" + domain;
        return v;
      }
    }
    for (const auto& [alias, target] : host_.aliases) {
      if (lower_ascii(alias) != llocal) continue;
      // An alias to a bare local part stays here; to a full address it is
      // routed like any other address (one level only: no alias loops).
      const std::string t = target.find('@') == std::string::npos ? target + "@" + domain : target;
      auto [tl, td] = split_address(t);
      if (serves_domain(td)) {
        v.action = RecipientVerdict::Action::deliver;
        v.mailbox = lower_ascii(tl) + "@" + td;
        return v;
      }
      break;
    }
    if (llocal == "postmaster" || options_.catch_all) {
      v.action = RecipientVerdict::Action::deliver;
      v.mailbox = llocal + "@" + domain;
      return v;
    }
    v.code = 550;
    v.enhanced = "5.1.1";
    v.text = "<" + std::string(address) + ">: no such user here";
    return v;
  }
  bool scenario_domain = std::any_of(host_.relay_domains.begin(), host_.relay_domains.end(),
                                     [&d = domain](const std::string& x) { return lower_ascii(x) == d; });
  for (const Host& h : scenario_.hosts) {
    if (h.role != HostRole::mail_server) continue;
    if (lower_ascii(h.name) == domain) scenario_domain = true;
    for (const std::string& d : h.domains) scenario_domain = scenario_domain || lower_ascii(d) == domain;
  }
  if (scenario_domain && options_.can_relay) {
    v.action = RecipientVerdict::Action::relay;
    v.mailbox = std::string(address);
    return v;
  }
  // RFC 5321 3.6.2 / RFC 3463 5.7.1: refusing to relay is a policy refusal.
  v.code = 550;
  v.enhanced = "5.7.1";
  v.text = scenario_domain ? "<" + std::string(address) + ">: relaying denied (this server has no outbound route; "
                                                           "see --relay-to)"
                           : "<" + std::string(address) + ">: relaying denied: " + domain +
                                 " is not a domain of this scenario";
  return v;
}

}  // namespace smtplab::bridge
