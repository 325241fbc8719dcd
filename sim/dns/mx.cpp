// sim/dns/mx.cpp: RFC 5321 5.1 MX ordering, implicit MX, null MX.
#include "sim/dns/mx.hpp"

#include <algorithm>

namespace smtplab {

MxPlan plan_mx(const std::vector<ZoneRecord>& mx_records, Rng& rng, std::string_view self) {
  MxPlan plan;
  plan.verdict = plan_mx_into(mx_records, rng, self, plan.order);
  return plan;
}

MxVerdict plan_mx_into(std::span<const ZoneRecord> records, Rng& rng, std::string_view self, std::vector<MxChoice>& mx) {
  // Overwrite the elements already there, so their strings keep their buffers.
  size_t n = 0;
  for (const ZoneRecord& r : records) {
    if (r.type != RrType::MX) continue;
    if (n == mx.size()) mx.emplace_back();
    mx[n].exchange = r.target;
    mx[n].preference = r.preference;
    ++n;
  }
  mx.resize(n);
  if (mx.empty()) return MxVerdict::implicit_mx;
  // RFC 7505 3: a null MX is the only MX of its domain. If someone publishes
  // it next to real ones, the real ones win (the "." exchange is unusable).
  const auto is_null = [](const MxChoice& c) { return c.exchange == "."; };
  if (std::all_of(mx.begin(), mx.end(), is_null)) {
    mx.clear();
    return MxVerdict::null_mx;
  }
  mx.erase(std::remove_if(mx.begin(), mx.end(), is_null), mx.end());
  // Stable order by preference first (an insertion sort: an MX set is small,
  // and std::stable_sort would allocate a buffer), then a Fisher-Yates
  // shuffle inside each group of equal preference: one draw per element,
  // deterministic per stream.
  for (size_t i = 1; i < mx.size(); ++i) {
    size_t j = i;
    while (j > 0 && mx[j - 1].preference > mx[i].preference) --j;
    std::rotate(mx.begin() + static_cast<std::ptrdiff_t>(j), mx.begin() + static_cast<std::ptrdiff_t>(i),
                mx.begin() + static_cast<std::ptrdiff_t>(i + 1));
  }
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
    auto it = std::find_if(mx.begin(), mx.end(), [&](const MxChoice& c) { return is_fqdn_of(c.exchange, self); });
    if (it != mx.end()) {
      const uint16_t mine = it->preference;
      mx.erase(std::remove_if(mx.begin(), mx.end(), [&](const MxChoice& c) { return c.preference >= mine; }), mx.end());
      if (mx.empty()) return MxVerdict::loops_to_self;
    }
  }
  return MxVerdict::use_mx;
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
