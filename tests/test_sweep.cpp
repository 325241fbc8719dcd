// tests/test_sweep.cpp: one scenario over many seeds (sim/scenario/sweep.hpp).
//
// - the --seeds text: counts, ranges, every malformed form refused, and
//   100,000 random strings that are read right or refused;
// - a sweep's counts: every seed once per recipient, outcomes most common
//   first, and each outcome's first seed replays to that outcome exactly;
// - the summary does not depend on the number of threads;
// - runs that cannot be made are reported per seed, not lost;
// - a sweep in the background (SweepJob, the lab's): the same summary,
//   its runs counted as they finish, stopped when asked, never left running.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "run_helpers.hpp"
#include "sim/scenario/sweep.hpp"

using namespace smtplab;
using smtplab::testing::source_dir;

namespace {

Scenario load(const std::string& name) {
  auto loaded = load_scenario_file(source_dir() + "/scenarios/" + name);
  REQUIRE(loaded.ok());
  return *loaded.scenario;
}

// scenarios/very-lossy-link.json: 40% loss on the long link, two hours to
// finish: most seeds deliver, some are still queued at the end, a few
// (its own seed among them) deliver twice.
Scenario very_lossy() { return load("very-lossy-link.json"); }

std::string text_of(const SweepSummary& s) {
  std::ostringstream out;
  write_sweep(out, s, "smtplab run x.json");
  return out.str();
}

}  // namespace

TEST_CASE("sweep: --seeds is a count or a range", "[sweep]") {
  const std::vector<std::tuple<std::string, uint64_t, uint64_t>> good = {
      {"100", 1, 100}, {"1", 1, 1}, {"20-29", 20, 10}, {"5-5", 5, 1}, {"0-3", 0, 4}, {"1000000", 1, 1000000}};
  for (const auto& [text, first, count] : good) {
    INFO(text);
    std::string why;
    const auto r = parse_seed_range(text, &why);
    REQUIRE(r);
    CHECK(r->first == first);
    CHECK(r->count == count);
    CHECK(r->last() == first + count - 1);
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "expected a number of seeds"},
      {"0", "a sweep needs at least one seed"},
      {"ten", "expected a number of seeds (\"100\": seeds 1 to 100) or a range (\"20-29\"), not \"ten\""},
      {" 5", "expected a number of seeds"},
      {"+5", "expected a number of seeds"},
      {"5.0", "expected a number of seeds"},
      {"1000001", "at most 1000000 seeds in one sweep"},
      {"99999999999999999999", "expected a number of seeds"},
      {"9-3", "the range \"9-3\" ends before it starts"},
      {"-5", "expected a range of seeds such as \"20-29\""},
      {"1-", "expected a range of seeds"},
      {"1-2-3", "expected a range of seeds"},
      {"0-1000000", "at most 1000000 seeds in one sweep"},
      {"1-18446744073709551615", "at most 1000000 seeds in one sweep"},
  };
  for (const auto& [text, want] : bad) {
    INFO(text);
    std::string why;
    CHECK_FALSE(parse_seed_range(text, &why));
    CHECK(why.rfind(want, 0) == 0);
  }
  // The top of the seed space (a scenario file's) is a valid one-seed range.
  const auto top = parse_seed_range("9223372036854775807-9223372036854775807", nullptr);
  REQUIRE(top);
  CHECK(top->count == 1);
  CHECK(top->last() == uint64_t{INT64_MAX});
  std::string why;
  CHECK_FALSE(parse_seed_range("9223372036854775807-9223372036854775808", &why));
  CHECK(why == "seeds go up to 9223372036854775807, as a scenario's \"seed\" does");
  CHECK_FALSE(parse_seed_range("18446744073709551615-18446744073709551615", &why));
  CHECK(why.rfind("seeds go up to ", 0) == 0);
}

TEST_CASE("sweep: --seeds on arbitrary text never misreads", "[sweep]") {
  // Random short strings of digits, dashes and a few strays: whatever is
  // accepted is a range of 1 to 1,000,000 seeds within a scenario's seed
  // space, and its own "A-B" form reads back as the same range.
  std::mt19937_64 rng(20261202);
  const std::string alphabet = "0123456789999--+ x.";
  size_t accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string text(rng() % 24, ' ');
    for (char& ch : text) ch = alphabet[rng() % alphabet.size()];
    std::string why;
    const auto r = parse_seed_range(text, &why);
    if (!r) {
      CHECK_FALSE(why.empty());
      continue;
    }
    ++accepted;
    INFO(text);
    REQUIRE(r->count >= 1);
    REQUIRE(r->count <= kMaxSweepRuns);
    REQUIRE(r->last() >= r->first);
    REQUIRE(r->last() <= uint64_t{INT64_MAX});
    const auto back = parse_seed_range(std::to_string(r->first) + "-" + std::to_string(r->last()), nullptr);
    REQUIRE(back);
    CHECK(back->first == r->first);
    CHECK(back->count == r->count);
  }
  CHECK(accepted > 1000);  // the generator does reach valid forms
}

TEST_CASE("sweep: a scenario that ends the same way on every seed", "[sweep]") {
  SweepOptions opt;
  opt.seeds = {1, 4};
  const SweepSummary s = sweep(load("partial-recipients.json"), opt);
  CHECK(s.runs == 4);
  CHECK(s.errors.empty());
  REQUIRE(s.recipients.size() == 3);
  // As the message lists them: alice, nobody (refused at RCPT), carol.
  CHECK(s.recipients[0].address == "alice@yahoo.test");
  CHECK(s.recipients[1].address == "nobody@yahoo.test");
  CHECK(s.recipients[2].address == "carol@yahoo.test");
  for (const SweepRecipient& r : s.recipients) {
    INFO(r.address);
    CHECK(r.message == 0);
    CHECK(r.runs == 4);
    REQUIRE(r.outcomes.size() == 1);
    CHECK(r.outcomes[0].seeds == std::vector<uint64_t>{1, 2, 3, 4});
    CHECK(r.outcomes[0].state == (r.address == "nobody@yahoo.test" ? FateState::bounced : FateState::delivered));
    CHECK(r.outcomes[0].took.size() == 4);
  }
  const std::string text = text_of(s);
  INFO(text);
  CHECK(text.find("Sweep of \"Some recipients accepted, one refused\" over seeds 1-4 (4 runs)") != std::string::npos);
  CHECK(text.find("  bounced    100.0%  4 runs, after ") != std::string::npos);
  CHECK(text.find("Every run ended each message the same way; replay one with\n  smtplab run x.json --seed 1") !=
        std::string::npos);
}

TEST_CASE("sweep: outcomes that differ by seed, each replayable", "[sweep]") {
  const Scenario sc = very_lossy();
  SweepOptions opt;
  opt.seeds = {1, 60};
  const SweepSummary s = sweep(sc, opt);
  REQUIRE(s.errors.empty());
  REQUIRE(s.recipients.size() == 1);
  const SweepRecipient& r = s.recipients[0];
  CHECK(r.address == "alice@yahoo.test");
  CHECK(r.runs == 60);
  REQUIRE(r.outcomes.size() >= 2);  // delivered on most seeds, still queued on some
  std::set<uint64_t> seen;
  uint64_t total = 0, attempts_runs = 0;
  for (size_t i = 0; i < r.outcomes.size(); ++i) {
    const SweepOutcome& o = r.outcomes[i];
    total += o.seeds.size();
    CHECK(std::is_sorted(o.seeds.begin(), o.seeds.end()));
    for (uint64_t seed : o.seeds) CHECK(seen.insert(seed).second);  // each seed in one outcome only
    if (i > 0) CHECK(o.seeds.size() <= r.outcomes[i - 1].seeds.size());  // most common first
    // Finished outcomes have a time per seed, unfinished ones none.
    const bool unfinished = o.state == FateState::queued || o.state == FateState::in_transit ||
                            o.state == FateState::submitting;
    CHECK(o.took.size() == (unfinished ? 0 : o.seeds.size()));
    // The first seed replays to the same outcome: the point of listing seeds.
    RunOptions one;
    one.seed = o.seeds.front();
    const RunResult run = run_scenario(sc, one);
    const std::vector<MessageFate> fates = message_fates(run.trace.records());
    REQUIRE(fates.size() == 1);
    REQUIRE(fates[0].recipients.size() == 1);
    const RecipientFate& f = fates[0].recipients[0];
    INFO("seed " << o.seeds.front() << ": " << o.label() << " vs " << describe(f));
    CHECK(f.state == o.state);
    CHECK(f.deliveries.size() == o.deliveries);
    CHECK(f.cut.has_value() == o.cut);
  }
  CHECK(total == 60);
  CHECK(seen.size() == 60);
  CHECK(*seen.begin() == 1);
  CHECK(*seen.rbegin() == 60);
  for (const auto& [attempts, runs] : r.attempts) attempts_runs += runs;
  CHECK(attempts_runs == 60);
  CHECK(s.lost.size() == 60);
  CHECK(*std::max_element(s.lost.begin(), s.lost.end()) > 0);
  const std::string text = text_of(s);
  INFO(text);
  CHECK(text.find("still queued when the run ended") != std::string::npos);
  CHECK(text.find("The rarest outcome (") != std::string::npos);
  CHECK(text.find("smtplab run x.json --seed ") != std::string::npos);
}

TEST_CASE("sweep: the summary does not depend on the number of threads", "[sweep]") {
  const Scenario sc = very_lossy();
  SweepOptions one, two;
  one.seeds = two.seeds = {100, 40};
  one.jobs = 1;
  two.jobs = 2;
  const SweepSummary a = sweep(sc, one), b = sweep(sc, two);
  CHECK(text_of(a) == text_of(b));
  CHECK(sweep_json(a) == sweep_json(b));
  CHECK(a.runs == 40);
  // And summarize_sweep does not care in which order the runs come.
  std::vector<SweepRun> runs;
  for (uint64_t seed = 100; seed < 140; ++seed) runs.push_back(run_seed(sc, seed));
  std::reverse(runs.begin(), runs.end());
  CHECK(sweep_json(summarize_sweep(sc.name, one.seeds, std::move(runs))) == sweep_json(a));
}

TEST_CASE("sweep: the JSON form carries every seed", "[sweep]") {
  SweepOptions opt;
  opt.seeds = {7, 3};
  const nlohmann::ordered_json j = sweep_json(sweep(load("duplicate-delivery.json"), opt));
  CHECK(j["runs"] == 3);
  CHECK(j["seeds"]["first"] == 7);
  CHECK(j["seeds"]["last"] == 9);
  REQUIRE(j["recipients"].size() == 1);
  const nlohmann::json& o = j["recipients"][0]["outcomes"][0];
  CHECK(o["state"] == "delivered");
  CHECK(o["deliveries"] == 2);
  CHECK(o["label"] == "delivered 2 times (duplicates)");
  CHECK(o["seeds"] == nlohmann::ordered_json::array({7, 8, 9}));
  CHECK(o["took_seconds"]["median"].get<double>() > 0);
  CHECK(j["errors"].empty());
}

TEST_CASE("sweep: a run that cannot be made is reported with its seed", "[sweep]") {
  SweepOptions opt;
  opt.seeds = {1, 3};
  opt.jobs = 2;
  opt.base.disabled_faults = {99};  // the scenario has no fault 99: run_scenario throws
  const SweepSummary s = sweep(load("bob-to-alice.json"), opt);
  CHECK(s.runs == 3);
  REQUIRE(s.errors.size() == 3);
  CHECK(s.errors[0].first == 1);
  CHECK(s.errors[2].first == 3);
  CHECK(s.errors[0].second.find("disabled fault 99") != std::string::npos);
  CHECK(s.recipients.empty());
  const std::string text = text_of(s);
  CHECK(text.find("seed 2: the run failed: run: disabled fault 99") != std::string::npos);
  CHECK(text.find("replay") == std::string::npos);
}

TEST_CASE("sweep: very-lossy-link's own seed is one that delivers twice", "[sweep]") {
  // The scenario's description promises this; a change to TCP or to the
  // queue that moves it must update the seed (and the description).
  const Scenario sc = very_lossy();
  const RunResult run = run_scenario(sc);
  const std::vector<MessageFate> fates = message_fates(run.trace.records());
  REQUIRE(fates.size() == 1);
  REQUIRE(fates[0].recipients.size() == 1);
  CHECK(fates[0].recipients[0].deliveries.size() == 2);
  CHECK(sc.description.find("seed, " + std::to_string(sc.seed) + ",") != std::string::npos);
  // ... and that is the exception: the seeds around it deliver once or not yet.
  SweepOptions opt;
  opt.seeds = {sc.seed - 10, 21};
  opt.jobs = 2;
  const SweepSummary s = sweep(sc, opt);
  REQUIRE(s.recipients.size() == 1);
  uint64_t twice = 0;
  for (const SweepOutcome& o : s.recipients[0].outcomes) twice += o.deliveries >= 2 ? o.seeds.size() : 0;
  CHECK(twice >= 1);
  CHECK(twice < 21);
}

TEST_CASE("sweep: a job in the background gives sweep()'s summary and counts its runs", "[sweep][job]") {
  const Scenario sc = very_lossy();
  SweepOptions o;
  o.seeds = {100, 40};
  o.jobs = 2;
  SweepJob job(sc, o);
  CHECK(job.total() == 40);
  std::optional<SweepSummary> s = job.take();  // waits
  REQUIRE(s.has_value());
  CHECK(job.finished());
  CHECK(job.done() == 40);
  CHECK(job.error().empty());
  CHECK(sweep_json(*s) == sweep_json(sweep(sc, o)));
  CHECK(!job.take().has_value());  // handed over once
}

TEST_CASE("sweep: a job stops when cancelled, and a dropped job leaves no thread running", "[sweep][job]") {
  const Scenario sc = very_lossy();
  SweepOptions o;
  o.seeds = {1, kMaxSweepRuns};  // about ten minutes on two cores: only a cancel ends it in time
  o.jobs = 2;
  {
    SweepJob job(sc, o);
    // Progress shows while it runs: wait for a few runs, without a deadline
    // of our own (the test runner's timeout is the bound).
    while (job.done() < 3) std::this_thread::yield();
    CHECK(!job.finished());
    job.cancel();
    CHECK(job.cancelled());
    const std::optional<SweepSummary> s = job.take();
    CHECK(!s.has_value());
    CHECK(job.error() == "cancelled");
    CHECK(job.finished());
    const uint64_t done = job.done();
    CHECK(done >= 3);
    CHECK(done < 1000);  // the runs in flight finished, no more started
  }
  // Dropped while running: the destructor cancels and joins.
  for (int i = 0; i < 3; ++i) {
    SweepJob job(sc, o);
  }
  // A job of one seed, cancelled after it ended, keeps its summary.
  SweepOptions one;
  one.seeds = {228, 1};
  SweepJob job(sc, one);
  while (!job.finished()) std::this_thread::yield();
  job.cancel();
  const std::optional<SweepSummary> s = job.take();
  REQUIRE(s.has_value());
  CHECK(s->runs == 1);
}
