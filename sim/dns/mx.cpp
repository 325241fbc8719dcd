// sim/dns/mx.cpp: RFC 5321 5.1 MX ordering, implicit MX, null MX.
#include "sim/dns/mx.hpp"

#include <algorithm>

namespace smtplab {

MxPlan plan_mx(const std::vector<ZoneRecord>& mx_records, Rng& rng, std::string_view self) {
  MxPlan plan;
  std::vector<MxChoice> mx;
  for (const ZoneRecord& r : mx_records)
    if (r.type == RrType::MX) mx.push_back(MxChoice{r.target, r.preference});
  if (mx.empty()) {
    plan.verdict = MxVerdict::implicit_mx;
    return plan;
  }
  // RFC 7505 3: a null MX is the only MX of its domain. If someone publishes
  // it next to real ones, the real ones win (the "." exchange is unusable).
  const bool all_null = std::all_of(mx.begin(), mx.end(), [](const MxChoice& c) { return c.exchange == "."; });
  if (all_null) {
    plan.verdict = MxVerdict::null_mx;
    return plan;
  }
  mx.erase(std::remove_if(mx.begin(), mx.end(), [](const MxChoice& c) { return c.exchange == "."; }), mx.end());
  // Stable order by preference first, then a Fisher-Yates shuffle inside each
  // group of equal preference: one draw per element, deterministic per stream.
  std::stable_sort(mx.begin(), mx.end(), [](const MxChoice& a, const MxChoice& b) { return a.preference < b.preference; });
  for (size_t lo = 0; lo < mx.size();) {
    size_t hi = lo;
    while (hi < mx.size() && mx[hi].preference == mx[lo].preference) ++hi;
    for (size_t i = hi - 1; i > lo; --i) {
      const size_t j = lo + rng.uniform_int(0, i - lo);
      std::swap(mx[i], mx[j]);
    }
    lo = hi;
  }
  if (!self.empty()) {
    const std::string me = fqdn(self);
    auto it = std::find_if(mx.begin(), mx.end(), [&](const MxChoice& c) { return c.exchange == me; });
    if (it != mx.end()) {
      const uint16_t mine = it->preference;
      mx.erase(std::remove_if(mx.begin(), mx.end(), [&](const MxChoice& c) { return c.preference >= mine; }), mx.end());
      if (mx.empty()) {
        plan.verdict = MxVerdict::loops_to_self;
        return plan;
      }
    }
  }
  plan.order = std::move(mx);
  return plan;
}

std::string_view route_status_name(RouteStatus s) {
  switch (s) {
    case RouteStatus::ok: return "ok";
    case RouteStatus::temporary: return "temporary";
    case RouteStatus::permanent: return "permanent";
  }
  return "?";
}

std::string describe_route(const MailRoute& r) {
  if (r.status != RouteStatus::ok) return r.domain + ": " + std::string(route_status_name(r.status)) + " failure: " + r.error;
  std::string s = r.domain + ": ";
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    const MxCandidate& c = r.candidates[i];
    if (i) s += ", then ";
    s += c.host + " (" + c.address + (c.implicit ? ", implicit MX" : ", preference " + std::to_string(c.preference)) + ")";
  }
  return s;
}

}  // namespace smtplab
