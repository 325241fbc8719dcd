// sim/agents/directory_mx.cpp: MX routing from the scenario's zone data.
#include "sim/agents/directory_mx.hpp"

#include <algorithm>

namespace smtplab::agents {

namespace {

std::string strip_dot(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

DirectoryMx::DirectoryMx(const Scenario& sc, Network& net, Engine& engine, Trace& trace)
    : net_(net), engine_(engine), trace_(trace), rng_(sc.seed, "mail.mx-shuffle") {
  bool auto_records = true;
  for (const Host& h : sc.hosts) {
    if (h.role != HostRole::dns_server) continue;
    auto_records = auto_records && h.auto_records;
    for (const Host::Zone& z : h.zones)
      for (const std::string& text : z.records) {
        std::string why;
        auto rr = parse_zone_record(text, fqdn(z.origin), &why);
        if (!rr) continue;  // the loader already rejected bad records
        if (rr->type == RrType::MX) mx_[rr->name].push_back(*rr);
        if (rr->type == RrType::A) a_[rr->name] = rr->address;
      }
  }
  if (!auto_records) return;
  for (const Host& h : sc.hosts) {
    const HostId id = net_.find_host(h.name);
    if (id != kNoHost && !a_.count(fqdn(h.name))) a_[fqdn(h.name)] = format_ipv4(net_.host_address(id));
    if (h.role != HostRole::mail_server) continue;
    for (const std::string& d : h.domains)
      if (!mx_.count(fqdn(d))) {
        ZoneRecord r;
        r.name = fqdn(d);
        r.type = RrType::MX;
        r.preference = 10;
        r.target = fqdn(h.name);
        mx_[r.name].push_back(r);
      }
  }
}

void DirectoryMx::set_failure(const std::string& domain, const std::string& mode) {
  if (mode.empty())
    failures_.erase(fqdn(domain));
  else
    failures_[fqdn(domain)] = mode;
}

MxAnswer DirectoryMx::answer(const std::string& domain, bool host_only) {
  MxAnswer a;
  const std::string name = fqdn(domain);
  auto failed = failures_.find(name);
  if (failed != failures_.end()) {
    if (failed->second == "nxdomain") {
      a.status = MxAnswer::Status::nxdomain;
      a.error = "NXDOMAIN";
    } else {
      a.status = MxAnswer::Status::temporary;
      a.error = failed->second == "timeout" ? "no answer from the DNS server (timeout)" : "SERVFAIL";
    }
    return a;
  }
  auto mx = mx_.find(name);
  if (!host_only && mx != mx_.end() && !mx->second.empty()) {
    std::vector<ZoneRecord> recs = mx->second;
    // RFC 7505 3: a single MX "0 ." means no mail at all.
    if (recs.size() == 1 && recs[0].target == ".") {
      a.status = MxAnswer::Status::null_mx;
      a.error = "null MX";
      return a;
    }
    // RFC 5321 5.1: lowest preference first; equal preferences in random order.
    std::stable_sort(recs.begin(), recs.end(),
                     [](const ZoneRecord& x, const ZoneRecord& y) { return x.preference < y.preference; });
    for (size_t i = 0; i < recs.size();) {
      size_t j = i;
      while (j < recs.size() && recs[j].preference == recs[i].preference) ++j;
      for (size_t k = j - 1; k > i; --k) std::swap(recs[k], recs[i + rng_.uniform_int(0, k - i)]);
      i = j;
    }
    for (const ZoneRecord& r : recs) {
      auto addr = a_.find(r.target);
      if (addr == a_.end()) continue;  // RFC 5321 5.1: an MX without an address is skipped
      auto ip = parse_ipv4(addr->second);
      if (ip) a.candidates.push_back(MxCandidate{strip_dot(r.target), *ip, r.preference});
    }
    if (a.candidates.empty()) {
      a.status = MxAnswer::Status::temporary;
      a.error = "no address for any MX host of " + strip_dot(name);
    }
    return a;
  }
  // RFC 5321 5.1: no MX records: the domain's own A record is the implicit MX.
  auto addr = a_.find(name);
  auto ip = addr == a_.end() ? std::nullopt : parse_ipv4(addr->second);
  if (!ip) {
    a.status = MxAnswer::Status::nxdomain;
    a.error = "NXDOMAIN";
    return a;
  }
  a.candidates.push_back(MxCandidate{strip_dot(name), *ip, -1});
  return a;
}

void DirectoryMx::lookup(HostId from, const std::string& domain, bool host_only, std::function<void(MxAnswer)> done) {
  MxAnswer a = answer(domain, host_only);
  if (trace_.enabled(Layer::dns)) {
    Record r;
    r.kind = Kind::dns_result;
    r.src = from == kNoHost ? std::string() : net_.host_name(from);
    std::string text = (host_only ? "A " : "MX ") + domain + ": ";
    switch (a.status) {
      case MxAnswer::Status::ok:
        for (size_t i = 0; i < a.candidates.size(); ++i)
          text += (i ? ", " : "") + (a.candidates[i].preference >= 0 ? std::to_string(a.candidates[i].preference) + " " : "") +
                  a.candidates[i].host + " [" + format_ipv4(a.candidates[i].address) + "]";
        break;
      default: text += a.error; break;
    }
    r.text = text;
    r.with("qname", domain).with("qtype", host_only ? "A" : "MX")
        .with("rcode", a.status == MxAnswer::Status::ok ? "NOERROR"
                       : a.status == MxAnswer::Status::nxdomain ? "NXDOMAIN"
                       : a.status == MxAnswer::Status::null_mx ? "NOERROR" : "SERVFAIL");
    trace_.emit(std::move(r));
  }
  engine_.after(SimTime{0}, [a = std::move(a), done = std::move(done)]() mutable { done(std::move(a)); });
}

}  // namespace smtplab::agents
