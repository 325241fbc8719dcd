// sim/lesson/matcher.cpp: record matchers and trace checks.
#include "sim/lesson/matcher.hpp"

#include <algorithm>
#include <charconv>
#include <span>

namespace smtplab {

namespace {

constexpr size_t kMaxRegexInput = 64 * 1024;

std::string quote(const std::string& s) { return "\"" + s + "\""; }

std::string show_record(const Record& r) {
  std::string out = "#" + std::to_string(r.seq) + " " + std::string(kind_name(r.kind));
  if (!r.text.empty()) {
    std::string t = r.text.substr(0, r.text.find('\n'));
    if (t.size() > 60) t = t.substr(0, 57) + "...";
    out += " " + quote(t);
  }
  return out;
}

}  // namespace

std::string RecordMatcher::describe() const {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += ' ';
    out += s;
  };
  if (!kinds.empty()) {
    std::string k;
    for (Kind kind : kinds) k += (k.empty() ? "" : "|") + std::string(kind_name(kind));
    add(k);
  } else if (!layers.empty()) {
    std::string l;
    for (Layer layer : layers) l += (l.empty() ? "" : "|") + std::string(layer_name(layer));
    add(l + " record");
  } else {
    add("record");
  }
  if (student_fault) add("of a fault the student added");
  std::vector<std::string> conds;
  if (!kinds.empty() && !layers.empty()) {
    std::string l;
    for (Layer layer : layers) l += (l.empty() ? "" : "|") + std::string(layer_name(layer));
    conds.push_back("layer " + l);
  }
  if (!src.empty()) conds.push_back("src=" + src);
  if (!dst.empty()) conds.push_back("dst=" + dst);
  if (!host.empty()) conds.push_back("host=" + host);
  if (!text.empty()) conds.push_back("text contains " + quote(text));
  if (!text_regex_source.empty()) conds.push_back("text ~ /" + text_regex_source + "/");
  if (!wire.empty()) conds.push_back("wire contains " + quote(wire));
  if (!wire_regex_source.empty()) conds.push_back("wire ~ /" + wire_regex_source + "/");
  for (const auto& [k, v] : attrs) conds.push_back(k + "=" + v);
  for (const auto& [k, v] : attrs_regex_source) conds.push_back(k + " ~ /" + v + "/");
  if (!conds.empty()) {
    std::string c;
    for (const std::string& s : conds) c += (c.empty() ? "" : ", ") + s;
    add("with " + c);
  }
  if (after) add("after (" + after->describe() + ")");
  if (within) add("within " + format_duration(*within));
  if (before) add("before (" + before->describe() + ")");
  if (caused_by) add("caused by (" + caused_by->describe() + ")");
  if (nth != 1) add("[match #" + std::to_string(nth) + "]");
  return out;
}

std::string Check::describe() const {
  switch (op) {
    case Op::exists: return "a " + match.describe();
    case Op::absent: return "no " + match.describe();
    case Op::count: {
      std::string range = max < 0 ? "at least " + std::to_string(min)
                          : min == max ? "exactly " + std::to_string(min)
                                       : "between " + std::to_string(min) + " and " + std::to_string(max);
      return range + " x " + match.describe();
    }
    case Op::order: {
      std::string out = "in order:";
      for (size_t i = 0; i < order.size(); ++i) out += " " + std::to_string(i + 1) + ") " + order[i].describe();
      return out;
    }
    case Op::all:
    case Op::any: {
      std::string out = op == Op::all ? "all of [" : "any of [";
      for (size_t i = 0; i < checks.size(); ++i) out += (i ? "; " : "") + checks[i].describe();
      return out + "]";
    }
    case Op::not_: return "not (" + (checks.empty() ? std::string("?") : checks.front().describe()) + ")";
    case Op::fate: return fate.describe();
  }
  return "?";
}

std::string FateMatch::describe() const {
  std::string out = rcpt;
  if (message >= 0) out += " (message " + std::to_string(message) + ")";
  for (size_t i = 0; i < states.size(); ++i) out += (i == 0 ? " " : " or ") + std::string(fate_state_name(states[i]));
  if (cut) out += *cut ? ", cut short" : ", not cut short";
  if (duplicate) out += *duplicate ? ", delivered more than once" : ", delivered at most once";
  if (at) out += " at " + format_duration(*at) + " into the run";
  return out;
}

bool FateMatch::holds(const RecipientFate& f) const {
  if (!states.empty() && std::find(states.begin(), states.end(), f.state) == states.end()) return false;
  if (cut && f.cut.has_value() != *cut) return false;
  return !duplicate || (f.deliveries.size() > 1) == *duplicate;
}

const std::vector<MessageFate>& MatchContext::fates(std::optional<SimTime> at) {
  const std::vector<Record>& all = trace_.records();
  if (!at) {
    if (!fates_) fates_ = message_fates(all);
    return *fates_;
  }
  auto it = fates_at_.find(*at);
  if (it == fates_at_.end()) {
    // Records never go back in time (record.hpp): those up to `at` are a prefix.
    const auto end = std::partition_point(all.begin(), all.end(), [&](const Record& r) { return r.t <= *at; });
    it = fates_at_.emplace(*at, message_fates(std::span<const Record>(all.data(), static_cast<size_t>(end - all.begin()))))
             .first;
  }
  return it->second;
}

bool MatchContext::matches_local(const RecordMatcher& m, const Record& r) const {
  if (!m.kinds.empty()) {
    bool any = false;
    for (Kind k : m.kinds) any = any || k == r.kind;
    if (!any) return false;
  }
  if (!m.layers.empty()) {
    bool any = false;
    for (Layer l : m.layers) any = any || l == r.layer();
    if (!any) return false;
  }
  if (!m.src.empty() && m.src != r.src) return false;
  if (!m.dst.empty() && m.dst != r.dst) return false;
  if (!m.host.empty() && m.host != r.src && m.host != r.dst) return false;
  if (!m.text.empty() && r.text.find(m.text) == std::string::npos) return false;
  if (m.text_regex && !std::regex_search(r.text, *m.text_regex)) return false;
  if (!m.wire.empty() && r.wire.find(m.wire) == std::string::npos) return false;
  // std::regex recurses per character on some patterns: only search bounded input.
  if (m.wire_regex && (r.wire.size() > kMaxRegexInput || !std::regex_search(r.wire, *m.wire_regex))) return false;
  for (const auto& [k, v] : m.attrs)
    if (!r.has_attr(k) || r.attr(k) != v) return false;
  for (const auto& [k, re] : m.attrs_regex) {
    if (!r.has_attr(k)) return false;
    const std::string value(r.attr(k));
    if (!std::regex_search(value, re)) return false;
  }
  if (m.student_fault) {
    // The fault records themselves, and any record that names the fault it
    // comes from in a "fault" attribute (kinds.hpp convention).
    if (!r.has_attr("fault")) return false;
    const std::string_view idx = r.attr("fault");
    size_t value = 0;
    const auto res = std::from_chars(idx.data(), idx.data() + idx.size(), value);
    if (res.ec != std::errc() || res.ptr != idx.data() + idx.size() || value < base_faults_) return false;
  }
  return true;
}

const Record* MatchContext::anchor(const RecordMatcher& m) {
  auto it = anchors_.find(&m);
  if (it != anchors_.end()) return it->second;
  const Record* found = nullptr;
  for (const Record& r : trace_.records()) {
    if (matches(m, r)) {
      found = &r;
      break;
    }
  }
  anchors_.emplace(&m, found);
  return found;
}

bool MatchContext::matches(const RecordMatcher& m, const Record& r) {
  if (!matches_local(m, r)) return false;
  if (m.after) {
    const Record* a = anchor(*m.after);
    if (!a || r.seq <= a->seq) return false;
    if (m.within && r.t - a->t > *m.within) return false;
  }
  if (m.before) {
    const Record* b = anchor(*m.before);
    if (!b || r.seq >= b->seq) return false;
  }
  if (m.caused_by) {
    bool found = false;
    // The chain is finite: causes always point to earlier records.
    for (uint64_t c = r.cause; c != 0 && !found;) {
      const Record* cr = trace_.find(c);
      if (!cr || cr->seq >= r.seq) break;
      found = matches(*m.caused_by, *cr);
      c = cr->cause;
    }
    if (!found) return false;
  }
  return true;
}

const Record* MatchContext::find(const RecordMatcher& m, uint64_t after_seq) {
  int seen = 0;
  for (const Record& r : trace_.records()) {
    if (r.seq <= after_seq) continue;
    if (matches(m, r) && ++seen >= m.nth) return &r;
  }
  return nullptr;
}

std::vector<const Record*> MatchContext::find_all(const RecordMatcher& m) {
  std::vector<const Record*> out;
  for (const Record& r : trace_.records())
    if (matches(m, r)) out.push_back(&r);
  return out;
}

CheckResult evaluate(const Check& check, MatchContext& ctx) {
  using Op = Check::Op;
  switch (check.op) {
    case Op::exists: {
      if (ctx.find(check.match)) return {true, ""};
      return {false, "expected " + check.describe() + ", found none"};
    }
    case Op::absent: {
      auto all = ctx.find_all(check.match);
      if (all.empty()) return {true, ""};
      return {false, "expected " + check.describe() + ", found " + std::to_string(all.size()) + ", first " +
                         show_record(*all.front())};
    }
    case Op::count: {
      const auto n = static_cast<int64_t>(ctx.find_all(check.match).size());
      if (n >= check.min && (check.max < 0 || n <= check.max)) return {true, ""};
      return {false, "expected " + check.describe() + ", found " + std::to_string(n)};
    }
    case Op::order: {
      uint64_t after = 0;
      for (size_t i = 0; i < check.order.size(); ++i) {
        const Record* r = ctx.find(check.order[i], after);
        if (!r) {
          std::string why = "expected " + check.describe() + "; step " + std::to_string(i + 1) + " (" +
                            check.order[i].describe() + ") not found";
          if (after) why += " after #" + std::to_string(after);
          return {false, why};
        }
        after = r->seq;
      }
      return {true, ""};
    }
    case Op::all: {
      for (const Check& c : check.checks) {
        CheckResult r = evaluate(c, ctx);
        if (!r.ok) return r;
      }
      return {true, ""};
    }
    case Op::any: {
      std::string why;
      for (const Check& c : check.checks) {
        CheckResult r = evaluate(c, ctx);
        if (r.ok) return r;
        why += (why.empty() ? "" : "; and ") + r.why;
      }
      return {false, "none of the alternatives holds: " + why};
    }
    case Op::not_: {
      if (check.checks.empty()) return {false, "empty \"not\""};
      CheckResult r = evaluate(check.checks.front(), ctx);
      if (!r.ok) return {true, ""};
      return {false, "expected " + check.describe() + ", but it holds"};
    }
    case Op::fate: {
      // Said as the run summary says it: what did happen to that recipient.
      const std::optional<SimTime> at = check.fate.at;
      const std::vector<Record>& records = ctx.trace().records();
      if (at && (records.empty() || records.back().t < *at))
        return {false, "expected " + check.describe() + ", but the run ended at " +
                           format_duration(records.empty() ? SimTime{0} : records.back().t) + ", before " +
                           format_duration(*at)};
      std::string found;
      for (const MessageFate& m : ctx.fates(at)) {
        if (check.fate.message >= 0 && m.index != check.fate.message) continue;
        for (const RecipientFate& f : m.recipients) {
          if (f.address != check.fate.rcpt) continue;
          if (check.fate.holds(f)) return {true, ""};
          found += std::string(found.empty() ? "" : "; and ") +
                   (m.index >= 0 ? "message " + std::to_string(m.index) : std::string("a message from outside")) + " to " +
                   f.address + " was " + describe(f);
        }
      }
      const std::string when = at ? "at " + format_duration(*at) + " " : "";
      return {false, "expected " + check.describe() + ", but " + when +
                         (found.empty() ? at ? "no message to " + check.fate.rcpt + " had been written yet"
                                             : "no message of the run was for " + check.fate.rcpt
                                        : found)};
    }
  }
  return {false, "unknown check"};
}

}  // namespace smtplab
