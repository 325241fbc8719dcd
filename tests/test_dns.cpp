// tests/test_dns.cpp: zones, DNS servers and the caching resolver over
// simulated UDP, and RFC 5321 5.1 mail routing (preference order, tie
// shuffling, fallback order, implicit MX, null MX, caching and TTL).
#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/dns/mx.hpp"
#include "sim/dns/resolver.hpp"
#include "sim/dns/zones.hpp"
#include "sim/net/network.hpp"

using namespace smtplab;

namespace {

ZoneRecord rr(const std::string& text) {
  std::string why;
  auto r = parse_zone_record(text, "", &why);
  INFO(text << ": " << why);
  REQUIRE(r.has_value());
  return *r;
}

std::vector<std::string> exchanges(const MxPlan& p) {
  std::vector<std::string> out;
  for (const MxChoice& c : p.order) out.push_back(c.exchange);
  return out;
}

// A small world: a mail server, a DNS server and some MX hosts on one router.
struct DnsRig {
  Engine engine;
  Trace trace;
  Network net;
  HostId mta, ns;
  std::unique_ptr<DnsServer> server;
  std::unique_ptr<Resolver> resolver;
  explicit DnsRig(const std::vector<std::string>& records, uint64_t seed = 1, Resolver::Params rp = {})
      : net(engine, trace, seed) {
    trace.attach(engine);
    const HostId router = net.add_host("internet", "198.51.100.1", true);
    mta = net.add_host("smtp.gmail.test", "192.0.2.1");
    ns = net.add_host("ns.test", "192.0.2.53");
    LinkParams lp;
    lp.latency = msec(5);
    net.add_link(mta, router, lp);
    net.add_link(ns, router, lp);
    ZoneData z;
    for (const std::string& t : records) z.add(rr(t));
    server = std::make_unique<DnsServer>(net, ns, std::move(z));
    resolver = std::make_unique<Resolver>(net, mta, net.host_address(ns), seed, rp);
  }
  MailRoute route(const std::string& domain) {
    std::optional<MailRoute> out;
    resolver->route_mail(domain, [&](const MailRoute& r) { out = r; });
    engine.run_until(engine.now() + minutes(1));
    REQUIRE(out.has_value());
    return *out;
  }
  size_t count(Kind k) const { return trace.count(k); }
};

const std::vector<std::string> kYahoo = {
    "yahoo.test. 3600 IN MX 20 mx2.yahoo.test.",
    "yahoo.test. 3600 IN MX 10 mx1.yahoo.test.",
    "yahoo.test. 3600 IN MX 30 mx3.yahoo.test.",
    "mx1.yahoo.test. 300 IN A 192.0.2.11",
    "mx2.yahoo.test. 300 IN A 192.0.2.12",
    "mx3.yahoo.test. 300 IN A 192.0.2.13",
};

}  // namespace

TEST_CASE("MX plan: sorted by preference", "[dns][mx]") {
  Rng rng(1, "test");
  std::vector<ZoneRecord> mx = {rr("a.test. MX 30 c.test."), rr("a.test. MX 10 a.test."), rr("a.test. MX 20 b.test.")};
  const MxPlan p = plan_mx(mx, rng);
  CHECK(p.verdict == MxVerdict::use_mx);
  CHECK(exchanges(p) == std::vector<std::string>{"a.test.", "b.test.", "c.test."});
}

TEST_CASE("MX plan: equal preferences are shuffled, deterministically per seed", "[dns][mx]") {
  std::vector<ZoneRecord> mx = {rr("d.test. MX 10 a.test."), rr("d.test. MX 10 b.test."), rr("d.test. MX 10 c.test."),
                                rr("d.test. MX 5 first.test."), rr("d.test. MX 50 last.test.")};
  std::map<std::string, int> first_of_tie;
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    Rng rng(seed, "mx.shuffle/x");
    const MxPlan p = plan_mx(mx, rng);
    const auto order = exchanges(p);
    REQUIRE(order.size() == 5);
    CHECK(order.front() == "first.test.");
    CHECK(order.back() == "last.test.");
    CHECK(std::set<std::string>(order.begin() + 1, order.end() - 1) == std::set<std::string>{"a.test.", "b.test.", "c.test."});
    ++first_of_tie[order[1]];
    Rng again(seed, "mx.shuffle/x");
    CHECK(exchanges(plan_mx(mx, again)) == order);  // same stream, same order
  }
  // Every tied host comes first sometimes (about 100 times in 300).
  for (const char* h : {"a.test.", "b.test.", "c.test."}) {
    INFO(h << " first " << first_of_tie[h] << " times");
    CHECK(first_of_tie[h] > 60);
  }
}

TEST_CASE("MX plan: implicit MX, null MX, and loops back to myself", "[dns][mx]") {
  Rng rng(1, "test");
  CHECK(plan_mx({}, rng).verdict == MxVerdict::implicit_mx);
  CHECK(plan_mx({rr("n.test. MX 0 .")}, rng).verdict == MxVerdict::null_mx);
  // A "." next to real MX records is ignored.
  const MxPlan mixed = plan_mx({rr("n.test. MX 0 ."), rr("n.test. MX 10 mx.n.test.")}, rng);
  CHECK(mixed.verdict == MxVerdict::use_mx);
  CHECK(exchanges(mixed) == std::vector<std::string>{"mx.n.test."});
  // RFC 5321 5.1: the backup MX (20) itself only tries better ones (10).
  const std::vector<ZoneRecord> mx = {rr("y.test. MX 10 mx1.y.test."), rr("y.test. MX 20 mx2.y.test."),
                                      rr("y.test. MX 30 mx3.y.test.")};
  CHECK(exchanges(plan_mx(mx, rng, "mx2.y.test")) == std::vector<std::string>{"mx1.y.test."});
  CHECK(plan_mx(mx, rng, "mx1.y.test").verdict == MxVerdict::loops_to_self);
}

TEST_CASE("MX plan into a reused vector: the same order and draws as plan_mx", "[dns][mx]") {
  std::vector<ZoneRecord> mx;
  for (int p = 0; p < 3; ++p)
    for (int i = 0; i < 4; ++i)
      mx.push_back(rr("y.test. MX " + std::to_string(10 * p) + " a-long-exchange-name-" + std::to_string(i) + ".y.test."));
  mx.push_back(rr("y.test. CNAME z.test."));  // skipped, as plan_mx skips it
  Rng a(9, "mx.shuffle/x"), b(9, "mx.shuffle/x");
  std::vector<MxChoice> order;
  for (int round = 0; round < 5; ++round) {
    const MxPlan p = plan_mx(mx, a);
    REQUIRE(plan_mx_into(mx, b, {}, order) == MxVerdict::use_mx);
    CHECK(exchanges(MxPlan{MxVerdict::use_mx, order}) == exchanges(p));
  }
  CHECK(a.uniform_int(0, 1000000) == b.uniform_int(0, 1000000));  // the streams drew alike
  // Left empty unless there is something to try; self matched in any case, dot or not.
  CHECK(plan_mx_into({}, b, {}, order) == MxVerdict::implicit_mx);
  CHECK(order.empty());
  const std::vector<ZoneRecord> two = {rr("y.test. MX 10 mx1.y.test."), rr("y.test. MX 20 mx2.y.test.")};
  CHECK(plan_mx_into(two, b, "MX1.y.test", order) == MxVerdict::loops_to_self);
  CHECK(order.empty());
  CHECK(plan_mx_into(two, b, "mx2.Y.test.", order) == MxVerdict::use_mx);
  CHECK(exchanges(MxPlan{MxVerdict::use_mx, order}) == std::vector<std::string>{"mx1.y.test."});
}

TEST_CASE("names: append_fqdn and is_fqdn_of agree with fqdn", "[dns]") {
  for (const char* name : {"", ".", "Yahoo.Test", "yahoo.test.", "MX1.YAHOO.TEST.", "a"}) {
    INFO(name);
    std::string out = "x|";
    append_fqdn(out, name);
    CHECK(out == "x|" + fqdn(name));
    CHECK(is_fqdn_of(fqdn(name), name));
    CHECK_FALSE(is_fqdn_of(fqdn(name) + "x.", name));
  }
  CHECK_FALSE(is_fqdn_of("yahoo.test", "yahoo.test"));  // not fully qualified
  CHECK_FALSE(is_fqdn_of("yahoo.tesx.", "yahoo.test"));
}

TEST_CASE("zone answers: records, CNAME chains, NXDOMAIN, NODATA", "[dns]") {
  ZoneData z;
  for (const char* t : {"example.test. 86400 IN MX 10 mx1.example.test.", "mx1.example.test. IN A 192.0.2.1",
                        "mail.example.test. IN CNAME mx1.example.test.", "loop1.test. CNAME loop2.test.",
                        "loop2.test. CNAME loop1.test."})
    z.add(rr(t));
  DnsAnswer a = z.answer("Example.Test", RrType::MX);
  REQUIRE(a.records.size() == 1);
  CHECK(a.records[0].to_text() == "example.test. 86400 IN MX 10 mx1.example.test.");
  a = z.answer("mail.example.test.", RrType::A);
  REQUIRE(a.records.size() == 2);
  CHECK(a.records[0].type == RrType::CNAME);
  CHECK(a.records[1].address == "192.0.2.1");
  CHECK(z.answer("nope.example.test.", RrType::A).rcode == DnsRcode::nxdomain);
  a = z.answer("example.test.", RrType::A);
  CHECK(a.rcode == DnsRcode::noerror);
  CHECK(a.records.empty());
  CHECK(z.answer("loop1.test.", RrType::A).rcode == DnsRcode::servfail);
}

TEST_CASE("route_mail: candidates in preference order with their addresses", "[dns][mx]") {
  DnsRig rig(kYahoo);
  const MailRoute r = rig.route("yahoo.test");
  REQUIRE(r.status == RouteStatus::ok);
  REQUIRE(r.candidates.size() == 3);
  CHECK(r.candidates[0].host == "mx1.yahoo.test");
  CHECK(r.candidates[0].address == "192.0.2.11");
  CHECK(r.candidates[0].preference == 10);
  CHECK(r.candidates[1].host == "mx2.yahoo.test");
  CHECK(r.candidates[2].host == "mx3.yahoo.test");
  // One MX query and three A queries, each answered, in the trace.
  CHECK(rig.count(Kind::dns_query) == 4);
  CHECK(rig.count(Kind::dns_answer) == 4);
  CHECK(rig.count(Kind::dns_result) == 1);
  bool saw_mx_text = false;
  for (const Record& rec : rig.trace.records())
    if (rec.kind == Kind::dns_answer && rec.text.find("yahoo.test. 3600 IN MX 10 mx1.yahoo.test.") != std::string::npos)
      saw_mx_text = true;
  CHECK(saw_mx_text);
  // The datagrams travel on the net layer.
  CHECK(rig.count(Kind::datagram_sent) == 8);
  // The mail server announces its choice.
  emit_mx_selected(rig.trace, "smtp.gmail.test", r, 1);
  CHECK(rig.trace.records().back().kind == Kind::mx_selected);
  CHECK(rig.trace.records().back().dst == "mx2.yahoo.test");
}

TEST_CASE("route_mail: an MX host without an address is skipped (fallback to the next)", "[dns][mx]") {
  DnsRig rig({"yahoo.test. MX 10 gone.yahoo.test.", "yahoo.test. MX 20 mx2.yahoo.test.", "mx2.yahoo.test. A 192.0.2.12"});
  const MailRoute r = rig.route("yahoo.test");
  REQUIRE(r.status == RouteStatus::ok);
  REQUIRE(r.candidates.size() == 1);
  CHECK(r.candidates[0].host == "mx2.yahoo.test");
}

TEST_CASE("route_mail: implicit MX, null MX, NXDOMAIN", "[dns][mx]") {
  DnsRig rig({"plain.test. A 192.0.2.77", "nomail.test. MX 0 .", "nomail.test. A 192.0.2.78", "bare.test. MX 10 x.bare.test."});
  SECTION("no MX: the domain's A record is the implicit MX") {
    const MailRoute r = rig.route("plain.test");
    REQUIRE(r.status == RouteStatus::ok);
    REQUIRE(r.candidates.size() == 1);
    CHECK(r.candidates[0].implicit);
    CHECK(r.candidates[0].address == "192.0.2.77");
  }
  SECTION("null MX is a permanent failure, even with an A record") {
    const MailRoute r = rig.route("nomail.test");
    CHECK(r.status == RouteStatus::permanent);
    CHECK(r.null_mx);
  }
  SECTION("NXDOMAIN is permanent") {
    const MailRoute r = rig.route("nowhere.test");
    CHECK(r.status == RouteStatus::permanent);
    CHECK(r.error.find("NXDOMAIN") != std::string::npos);
  }
  SECTION("no MX host resolves: permanent") {
    CHECK(rig.route("bare.test").status == RouteStatus::permanent);
  }
}

TEST_CASE("resolver: answers are cached for their TTL, then asked again", "[dns][cache]") {
  DnsRig rig(kYahoo);
  rig.route("yahoo.test");
  CHECK(rig.count(Kind::dns_query) == 4);
  // Within 300 s (the A TTL) everything comes from the cache.
  rig.engine.run_until(sec(200));
  const MailRoute again = rig.route("yahoo.test");
  CHECK(again.status == RouteStatus::ok);
  CHECK(rig.count(Kind::dns_query) == 4);
  CHECK(rig.count(Kind::dns_cache_hit) == 4);
  // Cached TTLs count down.
  bool saw_countdown = false;
  const std::string prefix = "mx1.yahoo.test. ";
  for (const Record& rec : rig.trace.records())
    if (rec.kind == Kind::dns_cache_hit && rec.text.rfind(prefix, 0) == 0) {
      const int ttl = std::stoi(rec.text.substr(prefix.size()));
      INFO(rec.text);
      CHECK(ttl >= 99);  // 300 s minus the ~200 s it spent in the cache
      CHECK(ttl <= 101);
      saw_countdown = true;
    }
  CHECK(saw_countdown);
  // After 300 s the A records expire (MX, TTL 3600, is still cached).
  rig.engine.run_until(sec(400));
  rig.route("yahoo.test");
  CHECK(rig.count(Kind::dns_query) == 7);
  CHECK(rig.count(Kind::dns_cache_hit) == 5);
  // After 3600 s everything is asked again.
  rig.engine.run_until(sec(4000));
  rig.route("yahoo.test");
  CHECK(rig.count(Kind::dns_query) == 11);
}

TEST_CASE("resolver: a cached answer is shared by its hits, with TTLs as remaining", "[dns][cache]") {
  DnsRig rig(kYahoo);
  std::vector<DnsResult> got;
  auto keep = [&](const DnsResult& r) { got.push_back(r); };
  rig.resolver->query("yahoo.test", RrType::MX, keep);
  rig.engine.run_until(sec(100));
  REQUIRE(got.size() == 1);
  CHECK_FALSE(got[0].from_cache);
  // Two hits at once, then a flush before they are delivered: both still
  // arrive, later, in order, with the TTL counted down by the 100 s cached.
  rig.resolver->query("Yahoo.Test.", RrType::MX, keep);
  rig.resolver->query("yahoo.test", RrType::MX, [&](const DnsResult& r) {
    got.push_back(r);
    rig.resolver->flush_cache();
  });
  CHECK(got.size() == 1);  // never from inside query()
  rig.engine.run_until(sec(101));
  REQUIRE(got.size() == 3);
  for (size_t i = 1; i < 3; ++i) {
    CHECK(got[i].from_cache);
    CHECK(got[i].qname == "yahoo.test.");
    CHECK(got[i].records.size() == 3);
    std::vector<std::string> seen;
    got[i].for_each_answer([&](const ZoneRecord& z) {
      CHECK(z.ttl < 3600);
      CHECK(z.ttl >= 3499);
      seen.push_back(z.target);
    });
    CHECK(seen.size() == got[i].answers().size());
  }
  CHECK(rig.resolver->cache_size() == 0);  // flushed
  // A hit still waiting when its resolver goes away is never delivered.
  rig.resolver->query("yahoo.test", RrType::MX, keep);
  rig.engine.run_until(sec(200));
  REQUIRE(got.size() == 4);
  rig.resolver->query("yahoo.test", RrType::MX, keep);
  rig.resolver->route_mail("yahoo.test", [&](const MailRoute&) { FAIL("delivered after the resolver was destroyed"); });
  rig.resolver.reset();
  rig.engine.run_until(sec(300));
  CHECK(got.size() == 4);
}

TEST_CASE("resolver: failures: SERVFAIL and timeout are temporary and not cached; NXDOMAIN is cached", "[dns][faults]") {
  DnsRig rig(kYahoo);
  SECTION("servfail") {
    rig.server->set_failure("yahoo.test", DnsFailure::servfail);
    MailRoute r = rig.route("yahoo.test");
    CHECK(r.status == RouteStatus::temporary);
    rig.server->clear_failure("yahoo.test");
    r = rig.route("yahoo.test");
    CHECK(r.status == RouteStatus::ok);  // not cached: asked again
  }
  SECTION("timeout: each attempt times out, then a temporary failure") {
    rig.server->set_failure("yahoo.test", DnsFailure::timeout);
    const MailRoute r = rig.route("yahoo.test");
    CHECK(r.status == RouteStatus::temporary);
    CHECK(rig.count(Kind::dns_timeout) == 2);  // attempts = 2
    CHECK(rig.count(Kind::dns_query) == 2);
    CHECK(rig.count(Kind::dns_answer) == 0);
  }
  SECTION("nxdomain fault: permanent, and cached for the negative TTL") {
    rig.server->set_failure("yahoo.test", DnsFailure::nxdomain);
    CHECK(rig.route("yahoo.test").status == RouteStatus::permanent);
    rig.server->clear_failure("yahoo.test");
    CHECK(rig.route("yahoo.test").status == RouteStatus::permanent);  // from the cache
    rig.engine.run_until(rig.engine.now() + minutes(6));
    CHECK(rig.route("yahoo.test").status == RouteStatus::ok);
  }
  SECTION("a lost query is retried") {
    struct DropFirstUdp {
      int n = 0;
      static bool hook(void* ctx, const PacketView& p) { return !p.tcp && ++static_cast<DropFirstUdp*>(ctx)->n == 1; }
    } drop;
    rig.net.set_drop_hook(&DropFirstUdp::hook, &drop);
    const MailRoute r = rig.route("yahoo.test");
    CHECK(r.status == RouteStatus::ok);
    CHECK(rig.count(Kind::dns_timeout) == 1);
    CHECK(rig.count(Kind::datagram_lost) == 1);
  }
}

TEST_CASE("build_zones: explicit zones plus A for every host and MX 10 for undeclared domains", "[dns][scenario]") {
  Scenario sc;
  Host ns;
  ns.name = "ns.test";
  ns.role = HostRole::dns_server;
  ns.zones.push_back(Host::Zone{"yahoo.test.", {"@ 600 IN MX 10 mx1", "@ 600 IN MX 20 mx2"}});
  Host mx1;
  mx1.name = "mx1.yahoo.test";
  mx1.domains = {"yahoo.test"};
  Host g;
  g.name = "smtp.gmail.test";
  g.domains = {"gmail.test"};
  g.address = "192.0.2.200";
  sc.hosts = {ns, mx1, g};
  auto zones = build_zones(sc);
  REQUIRE(zones.count("ns.test") == 1);
  const ZoneData& z = zones["ns.test"];
  CHECK(z.find("yahoo.test.", RrType::MX).size() == 2);  // declared: no auto MX added
  auto gmx = z.find("gmail.test.", RrType::MX);
  REQUIRE(gmx.size() == 1);
  CHECK(gmx[0].to_text() == "gmail.test. 3600 IN MX 10 smtp.gmail.test.");
  auto a = z.find("smtp.gmail.test.", RrType::A);
  REQUIRE(a.size() == 1);
  CHECK(a[0].address == "192.0.2.200");
  CHECK(z.find("mx1.yahoo.test.", RrType::A).size() == 1);
  // Addresses agree with the network's.
  CHECK(z.find("ns.test.", RrType::A)[0].address == scenario_addresses(sc)[0]);
}
