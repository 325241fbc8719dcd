// sim/scenario/sweep.cpp: one scenario over many seeds (sweep.hpp).
#include "sim/scenario/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <ostream>
#include <thread>
#include <tuple>
#include <utility>

namespace smtplab {

namespace {

std::optional<uint64_t> number(std::string_view t) {
  uint64_t v = 0;
  if (t.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || end != t.data() + t.size()) return std::nullopt;
  return v;
}

// A state the run ended in while the message was still on its way.
bool unfinished(FateState s) {
  return s == FateState::submitting || s == FateState::queued || s == FateState::in_transit;
}

// The nearest-rank quantile q (0 < q <= 1) of sorted values.
template <class T>
T quantile(const std::vector<T>& sorted, double q) {
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

std::string runs_word(uint64_t n) { return std::to_string(n) + (n == 1 ? " run" : " runs"); }

std::string seeds_text(const std::vector<uint64_t>& seeds, size_t shown) {
  std::string out = seeds.size() == 1 ? "seed " : "seeds ";
  for (size_t i = 0; i < seeds.size() && i < shown; ++i) out += (i ? ", " : "") + std::to_string(seeds[i]);
  if (seeds.size() > shown) out += " ... and " + std::to_string(seeds.size() - shown) + " more";
  return out;
}

}  // namespace

std::optional<SeedRange> parse_seed_range(std::string_view text, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<SeedRange> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  const size_t dash = text.find('-');
  SeedRange r;
  if (dash == std::string_view::npos) {
    const auto n = number(text);
    if (!n) return fail("expected a number of seeds (\"100\": seeds 1 to 100) or a range (\"20-29\"), not \"" +
                        std::string(text) + "\"");
    r.first = 1;
    r.count = *n;
  } else {
    const auto a = number(text.substr(0, dash)), b = number(text.substr(dash + 1));
    if (!a || !b)
      return fail("expected a range of seeds such as \"20-29\" (both ends included), not \"" + std::string(text) + "\"");
    if (*b < *a)
      return fail("the range \"" + std::string(text) + "\" ends before it starts");
    if (*b - *a >= kMaxSweepRuns) return fail("at most " + std::to_string(kMaxSweepRuns) + " seeds in one sweep");
    r.first = *a;
    r.count = *b - *a + 1;
  }
  if (r.count == 0) return fail("a sweep needs at least one seed");
  if (r.last() > static_cast<uint64_t>(INT64_MAX))
    return fail("seeds go up to " + std::to_string(INT64_MAX) + ", as a scenario's \"seed\" does");
  if (r.count > kMaxSweepRuns) return fail("at most " + std::to_string(kMaxSweepRuns) + " seeds in one sweep");
  return r;
}

SweepRun run_seed(const Scenario& scenario, uint64_t seed, const RunOptions& base) {
  SweepRun out;
  out.seed = seed;
  try {
    RunOptions opt = base;
    opt.seed = seed;
    opt.store_trace = true;
    const RunResult r = run_scenario(scenario, opt);
    out.fates = message_fates(r.trace.records());
    for (const Record& rec : r.trace.records()) {
      out.segments_lost += rec.kind == Kind::segment_lost;
      out.retransmissions += rec.kind == Kind::segment_retransmit;
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

std::optional<SweepOutcome::Times> SweepOutcome::times() const {
  if (took.empty()) return std::nullopt;
  std::vector<SimTime> t = took;
  std::sort(t.begin(), t.end());
  return Times{t.front(), quantile(t, 0.5), quantile(t, 0.9), t.back()};
}

uint64_t SweepSummary::median(std::vector<uint64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return quantile(v, 0.5);
}

uint64_t SweepSummary::most(const std::vector<uint64_t>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

std::string SweepOutcome::label() const {
  std::string out(fate_state_name(state));
  if (deliveries > 1) out += " " + std::to_string(deliveries) + " times (duplicates)";
  if (cut) out += ", cut short";
  if (unfinished(state)) out = "still " + out + " when the run ended";
  return out;
}

namespace {

// Folds runs into a summary one at a time, in any order, keeping only what
// the summary needs (not the fates): a sweep of a million seeds holds tens
// of bytes per run. finish() orders everything by seed, so the summary does
// not depend on the order the runs came in.
class SweepFold {
 public:
  void add(const SweepRun& run) {
    ++runs_;
    if (!run.error.empty()) {
      errors_.emplace_back(run.seed, run.error);
      return;
    }
    lost_.emplace_back(run.seed, run.segments_lost);
    retransmitted_.emplace_back(run.seed, run.retransmissions);
    for (const MessageFate& m : run.fates)
      for (size_t pos = 0; pos < m.recipients.size(); ++pos) add(run.seed, m, pos);
  }

  SweepSummary finish(std::string scenario_name, SeedRange seeds) && {
    SweepSummary s;
    s.scenario = std::move(scenario_name);
    s.seeds = seeds;
    s.runs = runs_;
    std::sort(errors_.begin(), errors_.end());
    s.errors = std::move(errors_);
    for (auto* list : {&lost_, &retransmitted_}) {
      std::sort(list->begin(), list->end());
      std::vector<uint64_t>& out = list == &lost_ ? s.lost : s.retransmitted;
      for (const auto& [seed, n] : *list) out.push_back(n);
    }
    for (Entry& e : entries_) {
      for (SweepOutcome& o : e.r.outcomes) std::sort(o.seeds.begin(), o.seeds.end());
      std::stable_sort(e.r.outcomes.begin(), e.r.outcomes.end(), [](const SweepOutcome& a, const SweepOutcome& b) {
        return a.seeds.size() > b.seeds.size() || (a.seeds.size() == b.seeds.size() && a.seeds.front() < b.seeds.front());
      });
    }
    // Messages in their scenario order (a message from outside, -1, last),
    // recipients as the message lists them in the lowest seed that has them.
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      const auto key = [](const Entry& e) {
        return std::tuple(e.r.message < 0 ? INT64_MAX : e.r.message, e.position, e.r.address);
      };
      return key(a) < key(b);
    });
    for (Entry& e : entries_) s.recipients.push_back(std::move(e.r));
    return s;
  }

 private:
  struct Entry {
    SweepRecipient r;
    uint64_t first_seed = UINT64_MAX;  // the lowest seed seen: its position and names count
    size_t position = 0;
  };

  void add(uint64_t seed, const MessageFate& m, size_t pos) {
    const RecipientFate& f = m.recipients[pos];
    // A recipient is known by its message's number and its address.
    auto [it, fresh] = index_.try_emplace({m.index, f.address}, entries_.size());
    if (fresh) entries_.emplace_back();
    Entry& e = entries_[it->second];
    SweepRecipient& r = e.r;
    if (seed < e.first_seed) {
      e.first_seed = seed;
      e.position = pos;
      r.message = m.index;
      r.from = m.from;
      r.subject = m.subject;
      r.address = f.address;
    }
    ++r.runs;
    ++r.attempts[f.attempts];
    const auto deliveries = static_cast<uint32_t>(f.deliveries.size());
    const bool cut = f.cut.has_value();
    auto o = std::find_if(r.outcomes.begin(), r.outcomes.end(), [&](const SweepOutcome& x) {
      return x.state == f.state && x.deliveries == deliveries && x.cut == cut;
    });
    if (o == r.outcomes.end()) o = r.outcomes.insert(r.outcomes.end(), SweepOutcome{f.state, deliveries, cut, {}, {}});
    o->seeds.push_back(seed);
    if (!unfinished(f.state)) {
      const SimTime at = f.state == FateState::delivered && !f.deliveries.empty() ? f.deliveries.front() : f.at;
      o->took.push_back(at - m.written);
    }
  }

  uint64_t runs_ = 0;
  std::map<std::pair<int64_t, std::string>, size_t> index_;
  std::vector<Entry> entries_;
  std::vector<std::pair<uint64_t, uint64_t>> lost_, retransmitted_;  // (seed, segments)
  std::vector<std::pair<uint64_t, std::string>> errors_;
};

}  // namespace

SweepSummary summarize_sweep(std::string scenario_name, SeedRange seeds, std::vector<SweepRun> runs) {
  SweepFold fold;
  for (const SweepRun& run : runs) fold.add(run);
  return std::move(fold).finish(std::move(scenario_name), seeds);
}

namespace {

// The sweep itself. `done` (if given) counts the runs folded; `stop` (if
// given) ends it early: runs in flight finish, no more start, and the
// summary covers fewer runs than asked (the caller drops it).
SweepSummary sweep_until(const Scenario& scenario, const SweepOptions& options, std::atomic<uint64_t>* done,
                         const std::atomic<bool>* stop) {
  const uint64_t n = options.seeds.count;
  SweepFold fold;
  std::mutex fold_mutex;
  std::atomic<uint64_t> next{0};
  auto work = [&] {
    for (uint64_t i = next++; i < n; i = next++) {
      if (stop && stop->load(std::memory_order_relaxed)) return;
      const SweepRun run = run_seed(scenario, options.seeds.first + i, options.base);
      const std::lock_guard lock(fold_mutex);
      fold.add(run);
      if (done) done->fetch_add(1, std::memory_order_relaxed);
    }
  };
  const unsigned jobs = static_cast<unsigned>(std::clamp<uint64_t>(options.jobs, 1, n));
  {
    std::vector<std::jthread> pool;
    for (unsigned j = 1; j < jobs; ++j) pool.emplace_back(work);
    work();
  }  // the jthreads join here
  return std::move(fold).finish(scenario.name, options.seeds);
}

}  // namespace

SweepSummary sweep(const Scenario& scenario, const SweepOptions& options) {
  return sweep_until(scenario, options, nullptr, nullptr);
}

struct SweepJob::State {
  Scenario scenario;
  SweepOptions options;
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  // Written by the job's thread before `finished` is set (release), read
  // after it is seen (acquire) or after the join.
  std::optional<SweepSummary> summary;
  std::string error;
  bool taken = false;
  std::jthread thread;  // last: destroyed (joined) before what it uses
};

SweepJob::SweepJob(Scenario scenario, SweepOptions options) : state_(std::make_unique<State>()) {
  State& st = *state_;
  st.scenario = std::move(scenario);
  st.options = std::move(options);
  st.thread = std::jthread([&st] {
    try {
      SweepSummary s = sweep_until(st.scenario, st.options, &st.done, &st.stop);
      if (!st.stop.load(std::memory_order_relaxed)) st.summary = std::move(s);
    } catch (const std::exception& e) {  // out of memory, a thread that could not start
      st.error = e.what();
    }
    st.finished.store(true, std::memory_order_release);
  });
}

SweepJob::~SweepJob() {
  cancel();
  // state_'s thread joins as it is destroyed.
}

uint64_t SweepJob::total() const { return state_->options.seeds.count; }
uint64_t SweepJob::done() const { return state_->done.load(std::memory_order_relaxed); }
bool SweepJob::finished() const { return state_->finished.load(std::memory_order_acquire); }
void SweepJob::cancel() { state_->stop.store(true, std::memory_order_relaxed); }
bool SweepJob::cancelled() const { return state_->stop.load(std::memory_order_relaxed); }

std::optional<SweepSummary> SweepJob::take() {
  State& st = *state_;
  if (st.thread.joinable()) st.thread.join();
  if (st.taken) return std::nullopt;
  st.taken = true;
  if (st.stop.load(std::memory_order_relaxed) && st.error.empty() && !st.summary) st.error = "cancelled";
  return std::move(st.summary);
}

const std::string& SweepJob::error() const { return state_->error; }

void write_sweep(std::ostream& out, const SweepSummary& s, const std::string& replay) {
  out << "Sweep of \"" << s.scenario << "\" over seeds " << s.seeds.first << "-" << s.seeds.last() << " ("
      << runs_word(s.runs) << ")\n";
  size_t width = 0;
  for (const SweepRecipient& r : s.recipients)
    for (const SweepOutcome& o : r.outcomes) width = std::max(width, o.label().size());
  // The rarest outcome of all: the one worth replaying.
  const SweepOutcome* rarest = nullptr;
  for (const SweepRecipient& r : s.recipients) {
    out << "\nmessage " << r.message << ": " << r.from << " \"" << r.subject << "\" to " << r.address << " (in "
        << runs_word(r.runs) << ")\n";
    for (const SweepOutcome& o : r.outcomes) {
      const std::string label = o.label();
      const double pct = 100.0 * static_cast<double>(o.seeds.size()) / static_cast<double>(r.runs);
      char share[32];
      std::snprintf(share, sizeof share, "%5.1f%%", pct);
      out << "  " << label << std::string(width - label.size(), ' ') << "  " << share << "  "
          << runs_word(o.seeds.size());
      if (const auto t = o.times()) {
        // Equal as printed (microseconds apart): one figure.
        if (format_duration(t->least) == format_duration(t->most))
          out << ", after " << format_duration(t->most) << (o.took.size() > 1 ? " in each" : "");
        else
          out << ", after " << format_duration(t->median) << " (median), " << format_duration(t->p90) << " (90%), "
              << format_duration(t->least) << " to " << format_duration(t->most);
      }
      out << "\n  " << std::string(width, ' ') << "          " << seeds_text(o.seeds, 10) << "\n";
      if (r.outcomes.size() > 1 && (!rarest || o.seeds.size() < rarest->seeds.size())) rarest = &o;
    }
    if (r.attempts.size() > 1 || (r.attempts.size() == 1 && r.attempts.begin()->first > 1)) {
      out << "  delivery attempts (the most any one hop made):";
      bool first = true;
      for (const auto& [attempts, runs] : r.attempts) {
        out << (first ? " " : ", ") << attempts << " in " << runs_word(runs);
        first = false;
      }
      out << "\n";
    }
  }
  if (s.recipients.empty() && s.errors.size() < s.runs) out << "\nNo run had a message in it.\n";
  if (!s.lost.empty())
    out << "\nTCP segments per run: lost " << SweepSummary::median(s.lost) << " (median), " << SweepSummary::most(s.lost)
        << " (most); retransmitted " << SweepSummary::median(s.retransmitted) << " (median), "
        << SweepSummary::most(s.retransmitted) << " (most)\n";
  for (const auto& [seed, why] : s.errors) out << "seed " << seed << ": the run failed: " << why << "\n";
  if (rarest)
    out << "\nThe rarest outcome (" << rarest->label() << ") came first from seed " << rarest->seeds.front()
        << "; replay it with\n  " << replay << " --seed " << rarest->seeds.front() << "\n";
  else if (s.errors.size() < s.runs)
    out << "\nEvery run ended each message the same way; replay one with\n  " << replay << " --seed " << s.seeds.first
        << "\n";
}

nlohmann::ordered_json sweep_json(const SweepSummary& s) {
  using json = nlohmann::ordered_json;
  const auto secs = [](SimTime t) { return t.seconds(); };
  json j;
  j["scenario"] = s.scenario;
  j["seeds"] = {{"first", s.seeds.first}, {"last", s.seeds.last()}};
  j["runs"] = s.runs;
  j["recipients"] = json::array();
  for (const SweepRecipient& r : s.recipients) {
    json jr{{"message", r.message}, {"from", r.from}, {"subject", r.subject}, {"rcpt", r.address}, {"runs", r.runs}};
    jr["outcomes"] = json::array();
    for (const SweepOutcome& o : r.outcomes) {
      json jo{{"state", fate_state_key(o.state)}, {"deliveries", o.deliveries}, {"cut", o.cut},
              {"label", o.label()}, {"runs", o.seeds.size()}, {"seeds", o.seeds}};
      if (const auto t = o.times())
        jo["took_seconds"] = {
            {"min", secs(t->least)}, {"median", secs(t->median)}, {"p90", secs(t->p90)}, {"max", secs(t->most)}};
      jr["outcomes"].push_back(std::move(jo));
    }
    json attempts = json::object();
    for (const auto& [a, n] : r.attempts) attempts[std::to_string(a)] = n;
    jr["attempts"] = std::move(attempts);
    j["recipients"].push_back(std::move(jr));
  }
  j["segments_lost"] = s.lost;
  j["retransmissions"] = s.retransmitted;
  j["errors"] = json::array();
  for (const auto& [seed, why] : s.errors) j["errors"].push_back({{"seed", seed}, {"error", why}});
  return j;
}

namespace {

std::string share_text(uint64_t n, uint64_t of) {
  const double pct = 100.0 * static_cast<double>(n) / static_cast<double>(std::max<uint64_t>(of, 1));
  char text[32];
  // A rare outcome keeps a figure: "0.5%", not "0%"; a whole one none: "100%".
  std::snprintf(text, sizeof text, pct == std::floor(pct) ? "%.0f%%" : "%.1f%%", pct);
  return text;
}

}  // namespace

std::vector<std::pair<int64_t, std::string>> compared_recipients(const std::vector<SweepSummary>& sweeps) {
  std::vector<std::pair<int64_t, std::string>> keys;
  for (const SweepSummary& s : sweeps)
    for (const SweepRecipient& r : s.recipients)
      if (std::find(keys.begin(), keys.end(), std::pair{r.message, r.address}) == keys.end())
        keys.emplace_back(r.message, r.address);
  return keys;
}

void write_sweep_compare(std::ostream& out, const std::string& pointer, const std::vector<std::string>& values,
                         const std::vector<SweepSummary>& sweeps, const std::vector<std::string>& replays, bool pairs) {
  if (sweeps.empty()) return;
  const SweepSummary& first = sweeps.front();
  out << "Sweep of \"" << first.scenario << "\" over seeds " << first.seeds.first << "-" << first.seeds.last() << " ("
      << runs_word(first.runs) << " each) for each " << (pairs ? "pair " : "") << pointer << " in ";
  for (size_t k = 0; k < values.size(); ++k) out << (k ? ", " : "") << (pairs ? "(" : "") << values[k] << (pairs ? ")" : "");
  out << "\n";
  size_t width = pointer.size();
  for (const std::string& v : values) width = std::max(width, v.size());
  const std::vector<std::pair<int64_t, std::string>> keys = compared_recipients(sweeps);
  // The rarest outcome of all: (sweep, outcome).
  size_t rare_k = 0;
  const SweepOutcome* rarest = nullptr;
  for (const auto& key : keys) {
    const auto find = [&key](const SweepSummary& s) {
      return std::find_if(s.recipients.begin(), s.recipients.end(), [&key](const SweepRecipient& x) {
        return x.message == key.first && x.address == key.second;
      });
    };
    // Outcomes in one order on every line, the most runs over all values
    // first, so a column reads down.
    std::vector<std::pair<std::string, uint64_t>> order;
    for (const SweepSummary& s : sweeps)
      if (const auto r = find(s); r != s.recipients.end())
        for (const SweepOutcome& o : r->outcomes) {
          auto it = std::find_if(order.begin(), order.end(), [&](const auto& x) { return x.first == o.label(); });
          if (it == order.end()) it = order.insert(order.end(), {o.label(), 0});
          it->second += o.seeds.size();
        }
    std::stable_sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
    bool header = false;
    for (size_t k = 0; k < sweeps.size(); ++k) {
      const auto r = find(sweeps[k]);
      if (r == sweeps[k].recipients.end()) continue;
      if (!header) {
        out << "\nmessage " << r->message << ": " << r->from << " \"" << r->subject << "\" to " << r->address << "\n  "
            << pointer << "\n";
        header = true;
      }
      out << "  " << values.at(k) << std::string(width - values.at(k).size(), ' ') << "  ";
      bool first_outcome = true;
      for (const auto& entry : order) {
        const std::string& label = entry.first;
        const auto oit = std::find_if(r->outcomes.begin(), r->outcomes.end(),
                                      [&label](const SweepOutcome& x) { return x.label() == label; });
        if (oit == r->outcomes.end()) continue;
        const SweepOutcome& o = *oit;
        out << (first_outcome ? "" : "; ") << o.label() << " " << share_text(o.seeds.size(), r->runs);
        first_outcome = false;
        if (const auto t = o.times()) out << " (median " << format_duration(t->median) << ")";
        if (r->outcomes.size() > 1 && (!rarest || o.seeds.size() < rarest->seeds.size())) {
          rarest = &o;
          rare_k = k;
        }
      }
      out << "\n";
    }
  }
  if (std::any_of(sweeps.begin(), sweeps.end(), [](const SweepSummary& s) { return !s.lost.empty(); })) {
    out << "\nTCP segments per run, median (most): lost, retransmitted\n  " << pointer << "\n";
    for (size_t k = 0; k < sweeps.size(); ++k) {
      const SweepSummary& s = sweeps[k];
      out << "  " << values.at(k) << std::string(width - values.at(k).size(), ' ') << "  " << SweepSummary::median(s.lost)
          << " (" << SweepSummary::most(s.lost) << "), " << SweepSummary::median(s.retransmitted) << " ("
          << SweepSummary::most(s.retransmitted) << ")\n";
    }
  }
  for (size_t k = 0; k < sweeps.size(); ++k)
    for (const auto& [seed, why] : sweeps[k].errors)
      out << pointer << " = " << values.at(k) << ", seed " << seed << ": the run failed: " << why << "\n";
  if (rarest)
    out << "\nThe rarest outcome (" << rarest->label() << ") came first with " << pointer << " = " << values.at(rare_k)
        << " and seed " << rarest->seeds.front() << "; replay it with\n  " << replays.at(rare_k) << " --seed "
        << rarest->seeds.front() << "\n";
  else
    out << "\nEach value ended each message the same way on every seed; replay one with\n  " << replays.front()
        << " --seed " << first.seeds.first << "\n";
}

nlohmann::ordered_json sweep_compare_json(const nlohmann::json& set, const std::vector<nlohmann::json>& values,
                                          const std::vector<SweepSummary>& sweeps) {
  using json = nlohmann::ordered_json;
  json j;
  j["set"] = json::parse(set.dump());
  j["values"] = json::array();
  for (size_t k = 0; k < sweeps.size(); ++k) {
    json v;
    v["value"] = json::parse(values.at(k).dump());
    v["sweep"] = sweep_json(sweeps[k]);
    j["values"].push_back(std::move(v));
  }
  return j;
}

}  // namespace smtplab
