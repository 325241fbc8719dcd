// sim/agents/world.cpp: building, starting and faulting the world.
#include "sim/agents/world.hpp"

#include "sim/agents/directory_mx.hpp"
#include "sim/agents/dns_mx.hpp"
#include "sim/agents/drivers.hpp"
#include "sim/agents/mail_server.hpp"
#include "sim/agents/user_agent.hpp"
#include "sim/faults/catalog.hpp"
#include "sim/net/network.hpp"

namespace smtplab {

namespace {

std::string fault_summary(const Fault& f) {
  std::string s = f.type;
  if (!f.host.empty()) s += " on " + f.host;
  if (f.link.size() == 2) s += " on link " + f.link[0] + " - " + f.link[1];
  if (!f.domain.empty()) s += " for " + f.domain + " (" + f.mode + ")";
  if (!f.verb.empty()) {
    // Which command the fault strikes: "the 2nd RCPT", "every DATA".
    const std::string which = f.nth ? f.verb + " #" + std::to_string(f.nth) : "every " + f.verb;
    if (f.type == "smtp-reply")
      s += ": reply " + std::to_string(f.code) + (f.text.empty() ? "" : " " + f.text) + " to " + which;
    else if (f.type == "smtp-delay")
      s += ": wait " + format_duration(f.delay) + " before answering " + which;
    else
      s += " at " + which;
  }
  if (!f.recipient.empty()) s += " for <" + f.recipient + ">";
  if (!f.mailbox.empty()) s += ": mailbox " + f.mailbox;
  if (f.type == "link-loss") s += ": loss " + std::to_string(static_cast<int>(f.loss * 100 + 0.5)) + "%";
  if (f.until) s += ", until " + format_duration(*f.until);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// What a fault strikes, as keys of Services::active_faults.
std::vector<std::string> fault_keys(const Fault& f) {
  std::vector<std::string> keys;
  if (f.type == "host-up" || f.type == "link-up") return keys;  // these heal
  if (!f.host.empty()) keys.push_back(lower(f.host));
  if (!f.domain.empty()) keys.push_back(lower(f.domain));
  for (const std::string& h : f.link)
    if (h != "internet") keys.push_back(lower(h));
  return keys;
}

}  // namespace

World::World(const Scenario& scenario, Engine& engine, Trace& trace)
    : scenario_(scenario), engine_(engine), trace_(trace) {}

World::~World() {
  // Connections first: their sessions point at the servers' configs and policies.
  conns_.reset();
  uas_.clear();
  servers_.clear();
}

agents::MailServer* World::mail_server(std::string_view host) {
  for (auto& s : servers_)
    if (s->name() == host) return s.get();
  return nullptr;
}

agents::UserAgent* World::user_agent(std::string_view host) {
  for (auto& u : uas_)
    if (u->host().name == host) return u.get();
  return nullptr;
}

void World::start() {
  Record r;
  r.kind = Kind::run_start;
  r.text = "scenario \"" + (scenario_.name.empty() ? scenario_.source : scenario_.name) + "\", seed " +
           std::to_string(scenario_.seed) + ", duration " + format_duration(scenario_.duration);
  r.with("seed", std::to_string(scenario_.seed)).with("duration_us", std::to_string(scenario_.duration.us));
  trace_.emit(std::move(r));
  build();
  schedule_faults();
  schedule_messages();
}

void World::build() {
  net_ = std::make_unique<Network>(engine_, trace_, scenario_.seed);
  net_->build(scenario_);
  bool has_dns = false;
  for (const Host& h : scenario_.hosts) has_dns = has_dns || h.role == HostRole::dns_server;
  agents::MxLookup* mx = nullptr;
  if (has_dns) {
    dns_ = std::make_unique<agents::DnsMx>(scenario_, *net_);
    mx = dns_.get();
  } else {
    directory_ = std::make_unique<agents::DirectoryMx>(scenario_, *net_, engine_, trace_);
    mx = directory_.get();
  }
  conns_ = std::make_unique<agents::ConnRegistry>(engine_, trace_);
  services_.reset(new agents::Services{engine_, trace_, *net_, *conns_, *mx, scenario_, &next_queue_number_,
                                       &next_message_number_, {}});
  for (const Host& h : scenario_.hosts) {
    const HostId id = net_->find_host(h.name);
    if (id == kNoHost) continue;
    if (h.role == HostRole::mail_server) servers_.push_back(std::make_unique<agents::MailServer>(*services_, h, id));
    if (h.role == HostRole::user_agent) uas_.push_back(std::make_unique<agents::UserAgent>(*services_, h, id));
  }
  // A server relays for the servers that name it as their smarthost (the
  // "mynetworks" of a real relay), and for nobody else unauthenticated.
  for (auto& s : servers_)
    if (!s->host().smarthost.empty())
      if (agents::MailServer* relay = mail_server(s->host().smarthost)) relay->add_relay_client(s->id());
  for (auto& s : servers_) s->start();
  for (auto& u : uas_) u->start();
}

void World::apply_fault(size_t i, bool on, uint64_t) {
  const Fault& f = scenario_.faults[i];
  const HostId host = f.host.empty() ? kNoHost : net_->find_host(f.host);
  agents::MailServer* server = f.host.empty() ? nullptr : mail_server(f.host);
  auto note = [&](std::string text) {
    Record r;
    r.kind = Kind::note;
    r.text = std::move(text);
    trace_.emit(std::move(r));
  };
  const std::string& t = f.type;
  if (t == "host-down" || t == "host-up") {
    if (host == kNoHost) return note("fault " + std::to_string(i) + ": no host " + f.host);
    const bool up = (t == "host-up") == on;
    net_->set_host_up(host, up);
    if (server) server->set_up(up);
  } else if (t == "link-down" || t == "link-up" || t == "link-loss") {
    const LinkId l = f.link.size() == 2 ? net_->find_link(f.link[0], f.link[1]) : kNoLink;
    if (l == kNoLink) return note("fault " + std::to_string(i) + ": no link between the named hosts");
    if (t == "link-loss") {
      if (on) {
        saved_loss_[i] = net_->link(l).loss;
        net_->set_link_loss(l, f.loss);
      } else {
        net_->set_link_loss(l, saved_loss_[i]);
      }
    } else {
      net_->set_link_up(l, (t == "link-up") == on);
    }
  } else if (t == "dns-failure") {
    if (directory_) directory_->set_failure(f.domain, on ? f.mode : std::string());
    if (dns_) {
      DnsFailure mode = DnsFailure::none;
      if (on && parse_dns_failure(f.mode, mode))
        dns_->dns().set_failure(f.domain, mode);
      else
        dns_->dns().clear_failure(f.domain);
    }
  } else if (t == "smtp-reply" || t == "smtp-delay" || t == "smtp-disconnect" || t == "smtp-shutdown" ||
             t == "drop-final-reply") {
    if (!server) return note("fault " + std::to_string(i) + ": " + f.host + " is not a mail server");
    if (on) {
      std::string why;
      auto sf = smtp::ServerFaults::from_scenario(f, &why);
      if (!sf) return note("fault " + std::to_string(i) + ": " + why);
      sf->label = "fault #" + std::to_string(i) + " " + t;
      fault_handles_[i] = server->faults().add(*sf);
    } else if (fault_handles_[i]) {
      server->faults().remove(fault_handles_[i]);
      fault_handles_[i] = 0;
    }
  } else if (t == "mailbox-full") {
    if (server) server->set_mailbox_full(f.mailbox, on);
  } else if (t == "greylisting") {
    if (server) server->set_greylisting(on);
  } else if (t == "no-dot-stuffing") {
    if (server) server->set_dot_stuffing(!on);
    if (agents::UserAgent* ua = user_agent(f.host)) ua->set_dot_stuffing(!on);
  } else if (t == "bare-lf") {
    if (server) server->set_bare_lf(on);
    if (agents::UserAgent* ua = user_agent(f.host)) ua->set_bare_lf(on);
  }
}

void World::schedule_faults() {
  saved_loss_.assign(scenario_.faults.size(), 0.0);
  fault_handles_.assign(scenario_.faults.size(), 0);
  for (size_t i = 0; i < scenario_.faults.size(); ++i) {
    const Fault f = scenario_.faults[i];
    if (!f.enabled) continue;
    engine_.set_cause(0);
    engine_.at(f.at, [this, f, i] {
      Record r;
      r.kind = Kind::fault_injected;
      r.src = f.host;
      r.text = fault_summary(f);
      r.with("fault", std::to_string(i)).with("type", f.type);
      const uint64_t seq = trace_.emit(std::move(r));
      for (const std::string& key : fault_keys(f)) services_->active_faults[key] = seq;
      apply_fault(i, true, seq);
    });
    if (f.until) {
      engine_.at(*f.until, [this, f, i] {
        Record r;
        r.kind = Kind::fault_cleared;
        r.src = f.host;
        r.text = f.type + " ends";
        r.with("fault", std::to_string(i)).with("type", f.type);
        const uint64_t seq = trace_.emit(std::move(r));
        for (const std::string& key : fault_keys(f)) services_->active_faults.erase(key);
        apply_fault(i, false, seq);
      });
    }
  }
}

void World::schedule_messages() {
  for (size_t i = 0; i < scenario_.messages.size(); ++i) {
    const MessageSpec m = scenario_.messages[i];
    agents::UserAgent* ua = m.via.empty() ? nullptr : user_agent(m.via);
    if (!ua)
      for (auto& u : uas_)
        if (lower(u->host().user) == lower(m.from)) {
          ua = u.get();
          break;
        }
    engine_.set_cause(0);
    engine_.at(m.at, [this, m, i, ua] {
      if (ua) {
        ua->compose(m, i);
        return;
      }
      Record r;
      r.kind = Kind::note;
      r.text = "message " + std::to_string(i) + " from " + m.from + ": no user agent sends it";
      trace_.emit(std::move(r));
    });
  }
}

void World::finish() {
  Record r;
  r.kind = Kind::run_end;
  r.text = "run ends at " + format_duration(engine_.now()) + " after " + std::to_string(engine_.executed()) + " events";
  trace_.emit(std::move(r));
}

}  // namespace smtplab
