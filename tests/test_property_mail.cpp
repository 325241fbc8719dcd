// tests/test_property_mail.cpp: the reliability promise (RFC 5321 6.1), tested.
//
// Thousands of random small worlds, each with random faults on the receiving
// side (host outages, link loss, 4xx/5xx reply overrides at any verb,
// disconnects, 421 shutdowns, the lost final reply of RFC 1047), judged from
// the trace alone:
//   1. every recipient of every message a server queued ends exactly once:
//      relayed, delivered, bounced or expired (nothing accepted is lost,
//      nothing is finished twice);
//   2. end to end, every original recipient gets the message or the sender
//      gets a bounce about it, exactly once, unless a copy was accepted
//      downstream while the upstream never saw the 250 (an "orphan"): the
//      RFC 1047 duplicate. Extra copies never exceed orphans, and every
//      orphan coincides with a fault that can lose a final reply;
//   3. no bounce is bounced: a DSN is never made about a message from <>;
//      an undeliverable DSN is discarded with a message-discarded record.
// SMTPLAB_PROPERTY_SEEDS overrides the number of seeds (default 10000).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "sim/engine/rng.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/fates.hpp"
#include "sim/trace/writers.hpp"
#include <iostream>

using namespace smtplab;

namespace {

Host ua(const std::string& name, const std::string& user, const std::string& server) {
  Host h;
  h.name = name;
  h.role = HostRole::user_agent;
  h.user = user;
  h.server = server;
  return h;
}

Host server(const std::string& name, std::vector<std::string> domains, std::vector<std::string> boxes) {
  Host h;
  h.name = name;
  h.role = HostRole::mail_server;
  h.domains = std::move(domains);
  for (const std::string& b : boxes) h.mailboxes.push_back(Mailbox{b, "secret", 0});
  // A classroom queue: minutes, not days.
  h.queue.min_backoff = sec(20);
  h.queue.max_backoff = minutes(1);
  h.queue.lifetime = minutes(8);
  h.queue.delay_warning = minutes(3);
  return h;
}

struct World3 {
  Scenario sc;
};

// A small random world: bob (a.test) writes to b.test (maybe with a backup
// MX) and to a local colleague; faults strike b.test's side only, so the
// submission hop (which has no relayed record to pair with) stays clean.
World3 random_world(uint64_t seed) {
  Rng rng(seed, "test.property");
  World3 w;
  Scenario& sc = w.sc;
  sc.name = "property";
  sc.seed = seed;
  sc.duration = minutes(40);
  sc.hosts.push_back(ua("bob-pc", "bob@a.test", "mx.a.test"));
  sc.hosts.push_back(server("mx.a.test", {"a.test"}, {"bob", "dave"}));
  sc.hosts.push_back(server("mx.b.test", {"b.test"}, {"alice", "carol"}));
  const bool backup = rng.bernoulli(0.3);
  if (backup) {
    Host h = server("mx2.b.test", {}, {});
    h.relay_domains = {"b.test"};
    sc.hosts.push_back(h);
    Host ns;
    ns.name = "ns.test";
    ns.role = HostRole::dns_server;
    ns.zones.push_back(Host::Zone{"b.test.", {"b.test. 3600 IN MX 10 mx.b.test.", "b.test. 3600 IN MX 20 mx2.b.test."}});
    sc.hosts.push_back(ns);
  }
  const std::vector<std::string> rcpts{"alice@b.test", "carol@b.test", "nobody@b.test", "dave@a.test"};
  const int nmsg = static_cast<int>(rng.uniform_int(1, 3));
  for (int i = 0; i < nmsg; ++i) {
    MessageSpec m;
    m.from = "bob@a.test";
    for (const std::string& r : rcpts)
      if (rng.bernoulli(0.45)) m.to.push_back(r);
    if (m.to.empty()) m.to.push_back(rcpts[rng.uniform_int(0, 1)]);
    m.subject = "m" + std::to_string(i);
    m.body = "Hello\n.\nline " + std::to_string(i);
    m.at = sec(1) + sec(static_cast<int64_t>(rng.uniform_int(0, 60)));
    sc.messages.push_back(m);
  }
  const std::vector<std::string> targets = backup ? std::vector<std::string>{"mx.b.test", "mx2.b.test"}
                                                  : std::vector<std::string>{"mx.b.test"};
  const char* verbs[] = {"CONNECT", "EHLO", "MAIL", "RCPT", "DATA", "EOD"};
  const int nfault = static_cast<int>(rng.uniform_int(0, 3));
  for (int i = 0; i < nfault; ++i) {
    Fault f;
    f.host = targets[rng.uniform_int(0, targets.size() - 1)];
    f.at = sec(static_cast<int64_t>(rng.uniform_int(0, 120)));
    f.until = f.at + sec(static_cast<int64_t>(rng.uniform_int(10, 600)));
    switch (rng.uniform_int(0, 7)) {
      case 7:
        // Bob's own mailbox is full: a bounce to him cannot be delivered and
        // must be discarded, never bounced again.
        f.type = "mailbox-full";
        f.host = "mx.a.test";
        f.mailbox = "bob";
        break;
      case 0: f.type = "host-down"; break;
      case 1:
        f.type = "link-loss";
        f.link = {f.host, "internet"};
        f.loss = 0.05 + 0.25 * rng.uniform();
        f.host.clear();
        break;
      case 2:
      case 3:
        f.type = "smtp-reply";
        f.verb = verbs[rng.uniform_int(0, 5)];
        f.code = rng.bernoulli(0.5) ? 451 : (f.verb == "CONNECT" ? 554 : 550);
        if (f.verb == "EHLO" && f.code == 550) f.code = 421;
        f.nth = static_cast<int>(rng.uniform_int(0, 2));
        break;
      case 4: f.type = "drop-final-reply"; f.nth = static_cast<int>(rng.uniform_int(1, 2)); break;
      case 5: f.type = "smtp-disconnect"; f.verb = verbs[rng.uniform_int(1, 5)]; f.nth = 1; break;
      default: f.type = "smtp-shutdown"; f.verb = verbs[rng.uniform_int(1, 5)]; f.nth = 1; break;
    }
    sc.faults.push_back(f);
  }
  return w;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

struct Verdict {
  std::string failure;  // "" = the promise held
  int duplicates = 0;
  int orphans = 0;
  int bounces = 0;
  int discarded = 0;
};

Verdict judge(const World3& w, const Trace& trace) {
  Verdict v;
  std::ostringstream why;
  struct Q {
    std::string host, sender, message_id, how;
    std::set<std::string> rcpts;
    std::map<std::string, int> finished;
    SimTime t{0};
  };
  std::map<std::string, Q> queued;                      // queue id -> what was queued
  std::set<std::string> referenced;                     // queue ids named by an upstream "queued as"
  std::map<std::pair<std::string, std::string>, int> delivered;  // (message-id, mailbox) -> copies
  std::map<std::pair<std::string, std::string>, int> bounced;    // (message-id, rcpt) -> DSNs
  std::vector<std::pair<SimTime, SimTime>> fault_windows;
  for (const Fault& f : w.sc.faults) fault_windows.emplace_back(f.at, f.until ? *f.until + sec(1) : SimTime::max());
  for (const Record& r : trace.records()) {
    const std::string id(r.attr("msgid"));
    switch (r.kind) {
      case Kind::message_queued: {
        Q& q = queued[id];
        q.host = r.src;
        q.sender = std::string(r.attr("sender"));
        q.message_id = std::string(r.attr("message-id"));
        q.how = std::string(r.attr("how"));
        q.t = r.t;
        for (const std::string& a : split(r.attr("rcpt"))) q.rcpts.insert(a);
        break;
      }
      case Kind::message_relayed:
      case Kind::message_delivered:
      case Kind::message_bounced:
      case Kind::message_expired: {
        auto it = queued.find(id);
        if (it == queued.end()) {
          why << kind_name(r.kind) << " for unknown queue id " << id << "; ";
          break;
        }
        ++it->second.finished[std::string(r.attr("rcpt"))];
        if (r.kind == Kind::message_relayed) {
          const std::string reply(r.attr("reply"));
          const size_t p = reply.find("queued as ");
          if (p != std::string::npos) referenced.insert(reply.substr(p + 10));
        }
        if (r.kind == Kind::message_delivered && !it->second.sender.empty())
          ++delivered[{it->second.message_id, std::string(r.attr("mailbox"))}];
        break;
      }
      case Kind::dsn_created: {
        auto it = queued.find(id);
        if (it != queued.end() && it->second.sender.empty()) why << "a bounce was bounced: " << r.text << "; ";
        for (const std::string& a : split(r.attr("rcpt"))) ++bounced[{std::string(r.attr("message-id")), a}];
        ++v.bounces;
        break;
      }
      case Kind::message_discarded: {
        auto it = queued.find(id);
        if (it == queued.end() || !it->second.sender.empty()) why << "discarded a message that is not a bounce; ";
        ++v.discarded;
        break;
      }
      default: break;
    }
  }
  // 1. per hop: every queued recipient finished exactly once.
  for (const auto& [id, q] : queued)
    for (const std::string& a : q.rcpts) {
      auto f = q.finished.find(a);
      const int n = f == q.finished.end() ? 0 : f->second;
      if (n != 1) why << id << " on " << q.host << ": <" << a << "> finished " << n << " times; ";
    }
  // Orphans: accepted downstream by SMTP, but no upstream learned it (RFC 1047).
  std::map<std::string, int> orphans_of;  // message-id -> orphan copies
  for (const auto& [id, q] : queued) {
    // Only copies that came in over SMTP port 25 have an upstream to tell.
    if (q.host == "mx.a.test" || q.how != "smtp" || referenced.count(id)) continue;
    ++v.orphans;
    ++orphans_of[q.message_id];
    bool faulted = false;
    for (const auto& [from, to] : fault_windows) faulted = faulted || (q.t >= from && q.t <= to);
    if (!faulted) why << "orphan copy " << id << " with no fault; ";
  }
  // 2. end to end per original message and recipient.
  for (const auto& [id, q] : queued) {
    if (q.host != "mx.a.test" || q.sender.empty() || q.message_id.empty()) continue;
    for (const std::string& a : q.rcpts) {
      const int d = delivered.count({q.message_id, a}) ? delivered[{q.message_id, a}] : 0;
      const int b = bounced.count({q.message_id, a}) ? bounced[{q.message_id, a}] : 0;
      const int o = orphans_of.count(q.message_id) ? orphans_of[q.message_id] : 0;
      if (d + b < 1) why << q.message_id << " <" << a << ">: neither delivered nor bounced; ";
      if (d + b > 1 + o) why << q.message_id << " <" << a << ">: " << d << " copies and " << b << " bounces with " << o
                             << " orphans; ";
      if (d > 1) v.duplicates += d - 1;
    }
  }
  v.failure = why.str();
  return v;
}

}  // namespace

TEST_CASE("the promise: every accepted message is delivered or bounced exactly once") {
  int seeds = 10000;
  if (const char* e = std::getenv("SMTPLAB_PROPERTY_SEEDS")) seeds = std::max(1, std::atoi(e));
  // SMTPLAB_PROPERTY_DUMP=N prints seed N's whole transcript (to study a failure).
  if (const char* e = std::getenv("SMTPLAB_PROPERTY_DUMP")) {
    const World3 w = random_world(std::strtoull(e, nullptr, 10));
    const RunResult r = run_scenario(w.sc);
    TranscriptOptions t;
    t.layer_mask = ~0u & ~(1u << static_cast<unsigned>(Layer::tcp));
    write_transcript(std::cout, r.trace, t);
    std::cout << judge(w, r.trace).failure << "\n";
    return;
  }
  int failures = 0, fate_failures = 0, duplicates = 0, orphans = 0, bounces = 0, discarded = 0, faulted = 0;
  for (int s = 1; s <= seeds; ++s) {
    const World3 w = random_world(static_cast<uint64_t>(s));
    RunOptions opt;
    // Judge from the mail and fault layers only (the cheap part of the trace).
    opt.layer_mask = (1u << static_cast<unsigned>(Layer::mail)) | (1u << static_cast<unsigned>(Layer::fault)) |
                     (1u << static_cast<unsigned>(Layer::engine));
    const RunResult r = run_scenario(w.sc, opt);
    const Verdict v = judge(w, r.trace);
    // The summary a student reads (sim/trace/fates.hpp) must agree, folded
    // from the same mail-only trace: every message found, every recipient
    // settled, and as many duplicate copies as the judge counted.
    {
      const auto fates = message_fates(r.trace.records());
      std::ostringstream bad;
      if (fates.size() != w.sc.messages.size()) bad << fates.size() << " messages summed up, not " << w.sc.messages.size() << "; ";
      int copies = 0;
      for (const MessageFate& m : fates)
        for (const RecipientFate& f : m.recipients) {
          copies += f.deliveries.size() > 1 ? static_cast<int>(f.deliveries.size()) - 1 : 0;
          if (f.state == FateState::queued || f.state == FateState::in_transit)
            bad << "<" << f.address << "> left " << fate_state_name(f.state) << ": " << describe(f) << "; ";
        }
      if (copies != v.duplicates) bad << copies << " duplicate copies summed up, the judge counts " << v.duplicates << "; ";
      if (!bad.str().empty()) {
        ++fate_failures;
        if (fate_failures <= 5) FAIL_CHECK("seed " << s << " (fates): " << bad.str());
      }
    }
    duplicates += v.duplicates;
    orphans += v.orphans;
    bounces += v.bounces;
    discarded += v.discarded;
    faulted += w.sc.faults.empty() ? 0 : 1;
    if (!v.failure.empty()) {
      ++failures;
      if (failures <= 5) FAIL_CHECK("seed " << s << ": " << v.failure);
    }
  }
  INFO("seeds " << seeds << ", with faults " << faulted << ", duplicates " << duplicates << ", orphans " << orphans
                << ", DSNs " << bounces << ", discarded bounces " << discarded);
  CHECK(failures == 0);
  CHECK(fate_failures == 0);
  // The random worlds must actually exercise the interesting paths.
  CHECK(bounces > 0);
  CHECK(orphans > 0);
  CHECK(discarded > 0);
  WARN("seeds " << seeds << ", with faults " << faulted << ", duplicates " << duplicates << ", orphans " << orphans
                << ", DSNs " << bounces << ", discarded bounces " << discarded);
}
