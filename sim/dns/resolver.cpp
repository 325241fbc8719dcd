// sim/dns/resolver.cpp: DNS servers, the caching stub resolver, and the
// RFC 5321 5.1 mail-routing lookup.
#include "sim/dns/resolver.hpp"

#include <algorithm>
#include <sstream>

namespace smtplab {

namespace {

bool parse_rrtype(std::string_view s, RrType& out) {
  if (s == "A") out = RrType::A;
  else if (s == "MX") out = RrType::MX;
  else if (s == "CNAME") out = RrType::CNAME;
  else return false;
  return true;
}

std::string records_text(const std::vector<ZoneRecord>& rrs) {
  std::string s;
  for (const ZoneRecord& r : rrs) s += (s.empty() ? "" : "; ") + r.to_text();
  return s;
}

std::string question_text(std::string_view qname, RrType t) { return std::string(qname) + " IN " + std::string(rr_type_name(t)); }

void emit_note(Trace& trace, const std::string& src, std::string text) {
  if (!trace.enabled(Layer::engine)) return;
  Record r;
  r.kind = Kind::note;
  r.src = src;
  r.text = std::move(text);
  trace.emit(std::move(r));
}

}  // namespace

// ---------------------------------------------------------------- DnsServer

DnsServer::DnsServer(Network& net, HostId host, ZoneData data) : net_(net), host_(host), data_(std::move(data)) {
  if (!net_.bind_udp(host_, kDnsPort, this))
    throw std::invalid_argument("DNS server: UDP port 53 of " + net_.host_name(host_) + " is already bound");
}

DnsServer::~DnsServer() { net_.unbind_udp(host_, kDnsPort); }

void DnsServer::set_failure(std::string_view domain, DnsFailure mode) {
  if (mode == DnsFailure::none) failures_.erase(fqdn(domain));
  else failures_[fqdn(domain)] = mode;
}
void DnsServer::clear_failure(std::string_view domain) { failures_.erase(fqdn(domain)); }

DnsAnswer DnsServer::answer(std::string_view qname, RrType qtype) const {
  for (const auto& [domain, mode] : failures_) {
    if (!name_under(qname, domain)) continue;
    DnsAnswer a;
    if (mode == DnsFailure::nxdomain) a.rcode = DnsRcode::nxdomain;
    else if (mode == DnsFailure::servfail) a.rcode = DnsRcode::servfail;
    else a.dropped = true;
    return a;
  }
  return data_.answer(qname, qtype);
}

void DnsServer::on_datagram(HostId, uint16_t, Ipv4 from, uint16_t from_port, std::string_view payload) {
  // "Q <id> <qname> <qtype>"; anything else is ignored, as a server ignores garbage.
  std::istringstream in{std::string(payload)};
  std::string tag, qname, qtype;
  unsigned id = 0;
  if (!(in >> tag >> id >> qname >> qtype) || tag != "Q" || id > 65535) return;
  RrType type;
  if (!parse_rrtype(qtype, type)) return;
  qname = fqdn(qname);
  const DnsAnswer a = answer(qname, type);
  Trace& trace = net_.trace();
  const HostId asker = net_.host_by_address(from);
  const std::string asker_name = asker == kNoHost ? format_ipv4(from) : net_.host_name(asker);
  if (a.dropped) {
    emit_note(trace, net_.host_name(host_),
              net_.host_name(host_) + " stays silent about " + question_text(qname, type) + " (injected DNS timeout)");
    return;
  }
  std::string out = "R " + std::to_string(id) + " " + std::string(rcode_name(a.rcode));
  for (const ZoneRecord& r : a.records) out += "\n" + r.to_text();
  if (trace.enabled(Layer::dns)) {
    Record r;
    r.kind = Kind::dns_answer;
    r.src = net_.host_name(host_);
    r.dst = asker_name;
    if (a.rcode != DnsRcode::noerror) r.text = question_text(qname, type) + ": " + std::string(rcode_name(a.rcode));
    else if (a.records.empty()) r.text = question_text(qname, type) + ": no records (NOERROR)";
    else r.text = records_text(a.records);
    r.wire = out;
    r.with("qname", qname).with("qtype", std::string(rr_type_name(type))).with("rcode", std::string(rcode_name(a.rcode)));
    trace.emit(std::move(r));
  }
  net_.send_udp(host_, kDnsPort, from, from_port, out);
}

// ---------------------------------------------------------------- DnsSystem

DnsSystem::DnsSystem(Network& net, const Scenario& sc) : net_(net) {
  for (auto& [name, data] : build_zones(sc)) {
    const HostId h = net.find_host(name);
    if (h == kNoHost) throw std::invalid_argument("DNS server host \"" + name + "\" is not on the network");
    servers_.push_back(std::make_unique<DnsServer>(net, h, std::move(data)));
  }
}

DnsServer* DnsSystem::server(std::string_view host_name) {
  for (auto& s : servers_)
    if (net_.host_name(s->host()) == host_name) return s.get();
  return nullptr;
}

void DnsSystem::set_failure(std::string_view domain, DnsFailure mode) {
  for (auto& s : servers_) s->set_failure(domain, mode);
  emit_note(net_.trace(), "", "DNS lookups of " + fqdn(domain) + " now fail: " + std::string(dns_failure_name(mode)));
}

void DnsSystem::clear_failure(std::string_view domain) {
  for (auto& s : servers_) s->clear_failure(domain);
  emit_note(net_.trace(), "", "DNS lookups of " + fqdn(domain) + " work again");
}

// ---------------------------------------------------------------- Resolver

std::vector<ZoneRecord> DnsResult::answers() const {
  std::vector<ZoneRecord> out;
  for_each_answer([&](const ZoneRecord& r) { out.push_back(r); });
  return out;
}

struct RouteJob {
  enum class Step : uint8_t { mx, address };
  MailRoute route;
  Resolver::RouteDone done;
  std::vector<MxChoice> targets;
  size_t next = 0;
  Step step = Step::mx;
  bool temporary_trouble = false;
  bool implicit = false;
};

struct Resolver::Waiter {
  Done done;                      // a query() caller, or else
  std::unique_ptr<RouteJob> job;  // a route_mail(), waiting at job->step
};

struct Resolver::Pending {
  std::string qname;
  RrType qtype;
  std::vector<Waiter> waiters;
  uint16_t id = 0;
  int attempt = 0;
  EventId timer{};
};

// The result is built once, when the answer arrives, and handed to every hit
// (no copy per hit); only the TTLs change, counting down while cached (RFC
// 1035 4.1.3: the remaining time). All hits pending at once share one `now`
// (they run at the time they were made), so they see the same TTLs.
struct Resolver::Cached {
  DnsResult result;            // from_cache; TTLs as remaining at `aged`
  std::vector<uint32_t> ttls;  // the TTLs as received
  SimTime stored, expires;
  SimTime aged;

  const DnsResult& at(SimTime now) {
    if (now != aged) {
      const int64_t elapsed = (now - stored).us / 1'000'000;
      for (size_t i = 0; i < ttls.size(); ++i)
        result.records[i].ttl = ttls[i] > elapsed ? static_cast<uint32_t>(ttls[i] - elapsed) : 0;
      aged = now;
    }
    return result;
  }
};

// A cache hit is delivered from its own zero-delay engine event, scheduled
// where the hit happens (so it runs in the same order, under the same cause,
// as any event); the event's argument is the slot.
struct Resolver::Ready {
  Waiter waiter;
  std::shared_ptr<Cached> answer;
  EventId event{};
};

Resolver::Resolver(Network& net, HostId self, Ipv4 server, uint64_t seed) : Resolver(net, self, server, seed, Params{}) {}

Resolver::Resolver(Network& net, HostId self, Ipv4 server, uint64_t seed, Params params)
    : net_(net),
      self_(self),
      server_(server),
      params_(params),
      id_rng_(seed, "dns.id/" + net.host_name(self)),
      shuffle_rng_(seed, "mx.shuffle/" + net.host_name(self)) {
  port_ = net_.ephemeral_udp_port(self_);
  net_.bind_udp(self_, port_, this);
}

Resolver::~Resolver() {
  for (auto& [key, p] : pending_) net_.engine().cancel(p->timer);
  for (Ready& r : ready_) net_.engine().cancel(r.event);  // stale ids of free slots are harmless
  net_.unbind_udp(self_, port_);
}

void Resolver::flush_cache() { cache_.clear(); }
size_t Resolver::cache_size() const { return cache_.size(); }

const std::string& Resolver::key_for(std::string_view name, RrType type) {
  key_.clear();
  append_fqdn(key_, name);
  key_ += '|';
  key_ += rr_type_name(type);
  return key_;
}

void Resolver::query(std::string_view name, RrType type, Done done) { ask(name, type, Waiter{std::move(done), nullptr}); }

void Resolver::ask(std::string_view name, RrType type, Waiter w) {
  const std::string& key = key_for(name, type);
  Engine& engine = net_.engine();
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    if (engine.now() < it->second->expires) {
      const DnsResult& res = it->second->at(engine.now());
      Trace& trace = net_.trace();
      if (trace.enabled(Layer::dns)) {
        Record r;
        r.kind = Kind::dns_cache_hit;
        r.src = net_.host_name(self_);
        if (res.rcode != DnsRcode::noerror) r.text = question_text(res.qname, type) + ": " + std::string(rcode_name(res.rcode)) + " (cached)";
        else if (res.records.empty()) r.text = question_text(res.qname, type) + ": no records (cached)";
        else r.text = records_text(res.records);
        r.with("qname", res.qname).with("qtype", std::string(rr_type_name(type))).with("rcode", std::string(rcode_name(res.rcode)));
        trace.emit(std::move(r));
      }
      uint32_t slot;
      if (!free_ready_.empty()) {
        slot = free_ready_.back();
        free_ready_.pop_back();
      } else {
        slot = static_cast<uint32_t>(ready_.size());
        ready_.emplace_back();
      }
      Ready& ready = ready_[slot];
      ready.waiter = std::move(w);
      ready.answer = it->second;
      ready.event = engine.schedule_in<&Resolver::on_ready>(SimTime{0}, this, slot);
      return;
    }
    cache_.erase(it);  // RFC 1035 3.2.1: the TTL ran out
  }
  auto pit = pending_.find(key);
  if (pit != pending_.end()) {
    pit->second->waiters.push_back(std::move(w));
    return;
  }
  auto p = std::make_unique<Pending>();
  p->qname = key.substr(0, key.rfind('|'));
  p->qtype = type;
  p->waiters.push_back(std::move(w));
  pit = pending_.emplace(key, std::move(p)).first;
  send_query(pit->first);
}

void Resolver::on_ready(uint64_t slot) {
  Ready& ready = ready_[slot];
  Waiter w = std::move(ready.waiter);
  const std::shared_ptr<Cached> cached = std::move(ready.answer);
  ready.event = EventId{};
  free_ready_.push_back(static_cast<uint32_t>(slot));
  answer(std::move(w), cached->at(net_.engine().now()));
}

void Resolver::send_query(const std::string& key) {
  Pending& p = *pending_.at(key);
  ++p.attempt;
  uint16_t id;
  do id = static_cast<uint16_t>(id_rng_.uniform_int(0, 65535));
  while (by_id_.count(id));
  p.id = id;
  by_id_[id] = key;
  const std::string payload = "Q " + std::to_string(id) + " " + p.qname + " " + std::string(rr_type_name(p.qtype));
  Trace& trace = net_.trace();
  if (trace.enabled(Layer::dns)) {
    Record r;
    r.kind = Kind::dns_query;
    r.src = net_.host_name(self_);
    const HostId srv = net_.host_by_address(server_);
    r.dst = srv == kNoHost ? format_ipv4(server_) : net_.host_name(srv);
    r.text = question_text(p.qname, p.qtype) + "?" + (p.attempt > 1 ? " (attempt " + std::to_string(p.attempt) + ")" : "");
    r.wire = payload;
    r.with("qname", p.qname).with("qtype", std::string(rr_type_name(p.qtype)));
    trace.emit(std::move(r));
  }
  p.timer = net_.engine().schedule_in<&Resolver::on_timeout>(params_.timeout, this, id);
  net_.send_udp(self_, port_, server_, kDnsPort, payload);
}

void Resolver::on_timeout(uint64_t arg) {
  const uint16_t id = static_cast<uint16_t>(arg);
  auto bit = by_id_.find(id);
  if (bit == by_id_.end()) return;
  const std::string key = bit->second;
  by_id_.erase(bit);
  Pending& p = *pending_.at(key);
  p.timer = EventId{};
  Trace& trace = net_.trace();
  if (trace.enabled(Layer::dns)) {
    Record r;
    r.kind = Kind::dns_timeout;
    r.src = net_.host_name(self_);
    r.text = "no answer to " + question_text(p.qname, p.qtype) + " within " + format_duration(params_.timeout) +
             " (attempt " + std::to_string(p.attempt) + " of " + std::to_string(params_.attempts) + ")";
    r.with("qname", p.qname).with("qtype", std::string(rr_type_name(p.qtype)));
    trace.emit(std::move(r));
  }
  if (p.attempt < params_.attempts) {
    send_query(key);
    return;
  }
  DnsResult res;
  res.qname = p.qname;
  res.qtype = p.qtype;
  res.rcode = DnsRcode::servfail;
  res.timed_out = true;
  complete(key, std::move(res));
}

void Resolver::on_datagram(HostId, uint16_t, Ipv4 from, uint16_t from_port, std::string_view payload) {
  if (from != server_ || from_port != kDnsPort) return;  // not our server: ignore (spoofing defence)
  std::istringstream in{std::string(payload)};
  std::string head;
  std::getline(in, head);
  std::istringstream hs(head);
  std::string tag, rcode_text;
  unsigned id = 0;
  if (!(hs >> tag >> id >> rcode_text) || tag != "R" || id > 65535) return;
  auto bit = by_id_.find(static_cast<uint16_t>(id));
  if (bit == by_id_.end()) return;  // late answer to a question we gave up on
  const std::string key = bit->second;
  by_id_.erase(bit);
  Pending& p = *pending_.at(key);
  net_.engine().cancel(p.timer);
  DnsResult res;
  res.qname = p.qname;
  res.qtype = p.qtype;
  res.rcode = rcode_text == "NXDOMAIN" ? DnsRcode::nxdomain : rcode_text == "NOERROR" ? DnsRcode::noerror : DnsRcode::servfail;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string why;
    if (auto rec = parse_zone_record(line, "", &why)) res.records.push_back(std::move(*rec));
  }
  // Cache: positive answers for the smallest TTL in the answer (RFC 2181
  // 5.2), NXDOMAIN/NODATA for the negative TTL (RFC 2308 5); never SERVFAIL.
  const SimTime now = net_.engine().now();
  if (res.rcode != DnsRcode::servfail) {
    SimTime ttl = params_.negative_ttl;
    const bool has_answer =
        std::any_of(res.records.begin(), res.records.end(), [&](const ZoneRecord& r) { return r.type == res.qtype; });
    if (res.rcode == DnsRcode::noerror && has_answer) {
      uint32_t m = UINT32_MAX;
      for (const ZoneRecord& r : res.records) m = std::min(m, r.ttl);
      ttl = sec(m);
    }
    if (ttl > SimTime{0}) {
      auto c = std::make_shared<Cached>();
      c->result = res;
      c->result.from_cache = true;
      for (const ZoneRecord& r : res.records) c->ttls.push_back(r.ttl);
      c->stored = c->aged = now;
      c->expires = now + ttl;
      cache_[key] = std::move(c);
    }
  }
  complete(key, std::move(res));
}

void Resolver::complete(const std::string& key, DnsResult result) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  std::unique_ptr<Pending> p = std::move(it->second);
  pending_.erase(it);
  for (Waiter& w : p->waiters) answer(std::move(w), result);
}

void Resolver::answer(Waiter w, const DnsResult& r) {
  if (!w.job) w.done(r);
  else if (w.job->step == RouteJob::Step::mx) on_mx(std::move(w.job), r);
  else on_address(std::move(w.job), r);
}

std::unique_ptr<RouteJob> Resolver::take_job() {
  if (spare_jobs_.empty()) return std::make_unique<RouteJob>();
  std::unique_ptr<RouteJob> job = std::move(spare_jobs_.back());
  spare_jobs_.pop_back();
  // Reset all but the buffers: `targets` keeps its strings for plan_mx_into.
  job->route.domain.clear();
  job->route.status = RouteStatus::ok;
  job->route.candidates.clear();
  job->route.error.clear();
  job->route.null_mx = false;
  job->next = 0;
  job->step = RouteJob::Step::mx;
  job->temporary_trouble = false;
  job->implicit = false;
  return job;
}

void Resolver::route_mail(std::string_view domain, RouteDone done) {
  std::unique_ptr<RouteJob> job = take_job();
  append_fqdn(job->route.domain, domain);
  job->route.domain.pop_back();  // "yahoo.test" as mail servers write it
  job->done = std::move(done);
  ask(domain, RrType::MX, Waiter{nullptr, std::move(job)});
}

void Resolver::on_mx(std::unique_ptr<RouteJob> job, const DnsResult& r) {
  MailRoute& route = job->route;
  auto fail = [&](RouteStatus s, std::string why) {
    route.status = s;
    route.error = std::move(why);
    job->targets.clear();
    job->next = 0;
    route_addresses(std::move(job));
  };
  if (r.timed_out) return fail(RouteStatus::temporary, "DNS timeout looking up the MX of " + route.domain);
  if (r.rcode == DnsRcode::servfail) return fail(RouteStatus::temporary, "SERVFAIL looking up the MX of " + route.domain);
  if (r.rcode == DnsRcode::nxdomain) return fail(RouteStatus::permanent, "NXDOMAIN: " + route.domain + " does not exist");
  // r.records hold the answers (the MX records) and any CNAME chain, which plan_mx_into skips.
  switch (plan_mx_into(r.records, shuffle_rng_, net_.host_name(self_), job->targets)) {
    case MxVerdict::null_mx:
      route.null_mx = true;
      return fail(RouteStatus::permanent, "null MX (RFC 7505): " + route.domain + " accepts no mail");
    case MxVerdict::loops_to_self:
      return fail(RouteStatus::permanent, "mail for " + route.domain + " loops back to myself");
    case MxVerdict::implicit_mx:
      // RFC 5321 5.1: no MX, so the domain itself is the implicit MX (preference 0).
      job->implicit = true;
      job->targets.resize(1);
      job->targets[0].exchange.clear();
      append_fqdn(job->targets[0].exchange, route.domain);
      job->targets[0].preference = 0;
      break;
    case MxVerdict::use_mx:
      break;
  }
  route_addresses(std::move(job));
}

void Resolver::on_address(std::unique_ptr<RouteJob> job, const DnsResult& r) {
  if (r.timed_out || r.rcode == DnsRcode::servfail) job->temporary_trouble = true;
  const MxChoice& target = job->targets[job->next - 1];
  std::string_view host = target.exchange;
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  r.for_each_answer([&](const ZoneRecord& a) {
    job->route.candidates.push_back(MxCandidate{std::string(host), a.address, target.preference, job->implicit});
  });
  route_addresses(std::move(job));
}

void Resolver::route_addresses(std::unique_ptr<RouteJob> job) {
  MailRoute& route = job->route;
  if (route.status == RouteStatus::ok && job->next < job->targets.size()) {
    const std::string& exchange = job->targets[job->next++].exchange;
    job->step = RouteJob::Step::address;
    ask(exchange, RrType::A, Waiter{nullptr, std::move(job)});  // the job (and `exchange`) stay where they are
    return;
  }
  if (route.status == RouteStatus::ok && route.candidates.empty()) {
    route.status = job->temporary_trouble ? RouteStatus::temporary : RouteStatus::permanent;
    route.error = job->implicit ? "no MX and no address record for " + route.domain
                                : (job->temporary_trouble ? "the MX hosts of " + route.domain + " cannot be resolved now"
                                                          : "no MX host of " + route.domain + " has an address");
  }
  Trace& trace = net_.trace();
  if (trace.enabled(Layer::dns)) {
    Record r;
    r.kind = Kind::dns_result;
    r.src = net_.host_name(self_);
    r.text = describe_route(route);
    r.with("qname", fqdn(route.domain)).with("qtype", "MX").with("rcode", std::string(route_status_name(route.status)));
    trace.emit(std::move(r));
  }
  job->done(route);
  // Keep a few finished jobs: the next route_mail() reuses their buffers.
  job->done = nullptr;
  if (spare_jobs_.size() < 16) spare_jobs_.push_back(std::move(job));
}

void emit_mx_selected(Trace& trace, std::string_view self, const MailRoute& route, size_t index) {
  if (!trace.enabled(Layer::dns) || index >= route.candidates.size()) return;
  const MxCandidate& c = route.candidates[index];
  Record r;
  r.kind = Kind::mx_selected;
  r.src = std::string(self);
  r.dst = c.host;
  r.text = "try " + c.host + " (" + c.address + (c.implicit ? ", implicit MX" : ", preference " + std::to_string(c.preference)) +
           ") for " + route.domain + ": candidate " + std::to_string(index + 1) + " of " + std::to_string(route.candidates.size());
  r.with("qname", fqdn(route.domain)).with("host", c.host).with("address", c.address);
  trace.emit(std::move(r));
}

}  // namespace smtplab
