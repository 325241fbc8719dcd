// sim/scenario/sweep.hpp: one scenario over many seeds, and what happened
// to each message across them.
//
// A run is a pure function of (scenario, seed, faults). On a lossy link the
// seed decides which segments are lost, so one seed delivers and another
// duplicates: a single run shows one outcome, never how likely it is. A
// sweep runs the scenario once per seed, folds each run into what happened
// to each message (sim/trace/fates.hpp, the summary `smtplab run` prints),
// and counts the outcomes per recipient, with the seeds that gave each one,
// so any of them can be replayed exactly (`smtplab run --seed N`).
//
// The runs are independent, so they run on several threads; each run is
// single-threaded and deterministic (DESIGN.md), and the summary is put
// in seed order: the same sweep gives the same summary on any number of
// threads.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/scenario/run.hpp"
#include "sim/trace/fates.hpp"

namespace smtplab {

struct SeedRange {
  uint64_t first = 1;
  uint64_t count = 100;
  uint64_t last() const { return first + count - 1; }
};
inline constexpr uint64_t kMaxSweepRuns = 1'000'000;

// "100" (seeds 1 to 100) or "20-29" (both ends included); at most
// kMaxSweepRuns seeds, none above INT64_MAX (a scenario file's limit, so a
// seed found can be saved in one). nullopt and *why when the text is neither.
std::optional<SeedRange> parse_seed_range(std::string_view text, std::string* why);

// One seed's run, folded: the trace itself is not kept.
struct SweepRun {
  uint64_t seed = 0;
  std::vector<MessageFate> fates;  // at the end of the run
  uint64_t segments_lost = 0, retransmissions = 0;
  std::string error;  // the run could not be made (the scenario threw): why
};
SweepRun run_seed(const Scenario& scenario, uint64_t seed, const RunOptions& base = {});

// The runs of a sweep that ended one recipient the same way.
struct SweepOutcome {
  FateState state = FateState::delivered;
  uint32_t deliveries = 0;  // into a mailbox (2+: duplicates)
  bool cut = false;         // cut short (a lone "." not dot-stuffed)
  std::vector<uint64_t> seeds;  // in seed order
  // From the message's writing to the decisive moment (the first delivery,
  // the bounce, the refusal ...), one per seed; empty for a recipient still
  // on its way when the run ended.
  std::vector<SimTime> took;
  // `took` summarised (nearest-rank quantiles), or nullopt when it is empty.
  struct Times {
    SimTime least, median, p90, most;
  };
  std::optional<Times> times() const;
  // "delivered", "delivered 2 times (duplicates)", "delivered, cut short",
  // "bounced", "still queued when the run ended" ...
  std::string label() const;
};

struct SweepRecipient {
  int64_t message = -1;  // the scenario's message number
  std::string from, subject, address;
  uint64_t runs = 0;                    // runs in which this message had this recipient
  std::vector<SweepOutcome> outcomes;   // most runs first; ties: the earlier first seed
  std::map<uint32_t, uint64_t> attempts;  // the most attempts any one hop made -> runs
};

struct SweepSummary {
  std::string scenario;  // its name
  SeedRange seeds;
  uint64_t runs = 0;
  std::vector<SweepRecipient> recipients;  // by message number, then as the message lists them
  std::vector<uint64_t> lost, retransmitted;  // TCP segments per run, in seed order
  // The median (nearest rank) and the largest of such a list; 0 when empty.
  static uint64_t median(std::vector<uint64_t> v);
  static uint64_t most(const std::vector<uint64_t>& v);
  std::vector<std::pair<uint64_t, std::string>> errors;  // (seed, why)
};

// Counts the outcomes of runs, given in any order (the summary is in seed
// order). sweep() folds each run the same way as it finishes, keeping tens
// of bytes per run, not its fates.
SweepSummary summarize_sweep(std::string scenario_name, SeedRange seeds, std::vector<SweepRun> runs);

struct SweepOptions {
  SeedRange seeds;
  unsigned jobs = 1;  // threads; the summary does not depend on it
  RunOptions base;    // until, extra faults ... (its seed is each run's)
};
SweepSummary sweep(const Scenario& scenario, const SweepOptions& options);

// A sweep on threads of its own, for a caller that must not wait: the lab's
// window keeps drawing, shows how far the sweep has got and can stop it.
// It starts when constructed; done(), finished() and cancel() may be called
// from any thread. Cancelling lets the runs in flight finish (one per
// thread, milliseconds) and starts no more; the destructor cancels and
// waits for them, so dropping a job never leaves a thread behind.
class SweepJob {
 public:
  SweepJob(Scenario scenario, SweepOptions options);
  ~SweepJob();
  SweepJob(const SweepJob&) = delete;
  SweepJob& operator=(const SweepJob&) = delete;

  uint64_t total() const;  // seeds to run
  uint64_t done() const;   // runs finished so far
  bool finished() const;   // take() will not wait
  void cancel();
  bool cancelled() const;
  // Waits for the end, then hands over the summary: the same as sweep()'s
  // with the same options; nullopt if the job was cancelled first or could
  // not run (error() says why). Once: a second call returns nullopt.
  std::optional<SweepSummary> take();
  const std::string& error() const;  // after take()

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// For a terminal: per recipient, each outcome with its share of the runs,
// how long it took and which seeds gave it; then TCP's losses per run and
// how to replay the rarest outcome (`replay` is the command that runs the
// scenario, e.g. "smtplab run scenarios/lossy-link.json").
void write_sweep(std::ostream& out, const SweepSummary& s, const std::string& replay);
// The same as JSON, keys in reading order (every seed of every outcome;
// durations in seconds).
nlohmann::ordered_json sweep_json(const SweepSummary& s);

// The recipients of sweeps of one scenario with a value changed, as
// (message, address) in order of first appearance: the same in every sweep
// unless the value changes the messages (a recipient, an address).
std::vector<std::pair<int64_t, std::string>> compared_recipients(const std::vector<SweepSummary>& sweeps);

// Sweeps of one scenario with one value changed (`smtplab sweep --set
// /links/0/loss=0,0.1,0.2,0.3`), side by side: per recipient, one line per
// value with each outcome's share and median time; TCP's losses per value;
// how to replay the rarest outcome of all (replays[k] runs value k).
// A grid of two settings (`--set P=... --set Q=...`) is written the same
// way with `pairs`: the pointer is "P, Q", each value "v, w".
void write_sweep_compare(std::ostream& out, const std::string& pointer, const std::vector<std::string>& values,
                         const std::vector<SweepSummary>& sweeps, const std::vector<std::string>& replays,
                         bool pairs = false);
// The same as JSON: the pointer, then per value the value and its
// sweep_json. A grid of two settings gives `set` as the array of both
// pointers and each value as the array of its pair.
nlohmann::ordered_json sweep_compare_json(const nlohmann::json& set, const std::vector<nlohmann::json>& values,
                                          const std::vector<SweepSummary>& sweeps);

}  // namespace smtplab
