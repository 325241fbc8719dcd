// tests/test_agents_retry.cpp: retry schedules and the queue decision, as tables.
#include <catch2/catch.hpp>

#include "sim/agents/retry.hpp"

using namespace smtplab;

namespace {

QueuePolicy policy(RetrySchedule s) {
  QueuePolicy p;
  p.schedule = s;
  return p;
}

}  // namespace

TEST_CASE("postfix schedule: the age clamped to [min_backoff, max_backoff]") {
  const QueuePolicy p = policy(RetrySchedule::postfix);
  struct Row {
    SimTime age;
    SimTime want;
  };
  const Row rows[] = {
      {sec(0), minutes(5)},       {sec(1), minutes(5)},        {minutes(5), minutes(5)},
      {minutes(10), minutes(10)}, {minutes(40), minutes(40)},  {minutes(67), minutes(67)},
      {minutes(68), minutes(67)}, {hours(20), minutes(67)},    {days(4), minutes(67)},
  };
  for (const Row& r : rows) {
    INFO("age " << format_duration(r.age) << ": got " << format_duration(retry_delay(p, r.age, 1)) << ", want "
                << format_duration(r.want));
    CHECK(retry_delay(p, r.age, 1) == r.want);
  }
}

TEST_CASE("postfix schedule: successive retries double until the maximum") {
  const QueuePolicy p = policy(RetrySchedule::postfix);
  SimTime arrival{0}, now = sec(2);
  std::vector<SimTime> gaps;
  for (int n = 1; n <= 8; ++n) {
    auto next = next_retry(p, arrival, now, n);
    REQUIRE(next);
    gaps.push_back(*next - now);
    now = *next;
  }
  // 5, 5, 10, 20, 40, 67, 67, 67 minutes (plus the 2 s of the first attempt).
  CHECK(gaps[0] == minutes(5));
  CHECK(gaps[1] == minutes(5) + sec(2));
  CHECK(gaps[2] == minutes(10) + sec(4));
  CHECK(gaps[5] == minutes(67));
  CHECK(gaps[7] == minutes(67));
}

TEST_CASE("fixed and quadratic schedules") {
  QueuePolicy f = policy(RetrySchedule::fixed);
  f.interval = minutes(30);
  for (int n : {1, 2, 10}) CHECK(retry_delay(f, hours(n), n) == minutes(30));

  const QueuePolicy q = policy(RetrySchedule::quadratic);
  struct Row {
    int attempts;
    SimTime want;
  };
  const Row rows[] = {{1, minutes(5)}, {2, minutes(20)}, {3, minutes(45)}, {4, minutes(67)}, {1000000, minutes(67)}};
  for (const Row& r : rows) {
    INFO("attempt " << r.attempts << ": got " << format_duration(retry_delay(q, sec(0), r.attempts)));
    CHECK(retry_delay(q, sec(0), r.attempts) == r.want);
  }
}

TEST_CASE("a classroom policy compresses days into minutes") {
  QueuePolicy p = policy(RetrySchedule::fixed);
  p.min_backoff = sec(10);
  p.interval = sec(30);
  p.lifetime = minutes(2);
  // attempts at 0, 30, 60, 90, 120 s, then expiry.
  SimTime now{0};
  int n = 0;
  while (auto next = next_retry(p, SimTime{0}, now, ++n)) now = *next;
  CHECK(now == minutes(2));
  CHECK(n == 5);
}

TEST_CASE("the last retry lands exactly at the end of the lifetime") {
  QueuePolicy p = policy(RetrySchedule::fixed);
  p.interval = minutes(40);
  p.lifetime = hours(1);
  auto a = next_retry(p, SimTime{0}, minutes(40), 2);
  REQUIRE(a);
  CHECK(*a == hours(1));
  CHECK_FALSE(next_retry(p, SimTime{0}, hours(1), 3));
}

TEST_CASE("the per-recipient decision table") {
  QueuePolicy p;  // postfix defaults: 4 h warning, 5 d lifetime
  struct Row {
    const char* name;
    AttemptOutcome outcome;
    bool more_mx;
    SimTime age;
    bool warned;
    QueueAction want;
    bool want_warning;
  };
  const Row rows[] = {
      {"accepted", AttemptOutcome::accepted, true, sec(1), false, QueueAction::done, false},
      {"5xx bounces even with more MX", AttemptOutcome::permanent, true, sec(1), false, QueueAction::bounce, false},
      {"unreachable, more MX", AttemptOutcome::unreachable, true, sec(1), false, QueueAction::try_next_mx, false},
      {"unreachable, last MX", AttemptOutcome::unreachable, false, sec(1), false, QueueAction::defer, false},
      {"4xx greeting, more MX", AttemptOutcome::greeting_4xx, true, sec(1), false, QueueAction::try_next_mx, false},
      {"4xx in transaction defers", AttemptOutcome::transient, true, sec(1), false, QueueAction::defer, false},
      {"4 h old: warning due", AttemptOutcome::transient, false, hours(4), false, QueueAction::defer, true},
      {"warned once only", AttemptOutcome::transient, false, hours(5), true, QueueAction::defer, false},
      {"lifetime over", AttemptOutcome::transient, false, days(5), false, QueueAction::expire, false},
      {"lifetime over, unreachable", AttemptOutcome::unreachable, false, days(6), false, QueueAction::expire, false},
      {"lifetime over but more MX", AttemptOutcome::unreachable, true, days(6), false, QueueAction::try_next_mx, false},
  };
  for (const Row& r : rows) {
    RecipientHistory h{SimTime{0}, 3, r.warned};
    const QueueDecision d = decide(p, r.outcome, r.more_mx, h, r.age);
    INFO(r.name << ": got " << action_name(d.action) << ", want " << action_name(r.want));
    CHECK(d.action == r.want);
    CHECK(d.delay_warning == r.want_warning);
    if (d.action == QueueAction::defer) {
      CHECK(d.next > r.age);
      CHECK(d.next <= p.lifetime);
    }
  }
}

TEST_CASE("delay warning off when delay_warning is 0") {
  QueuePolicy p;
  p.delay_warning = SimTime{0};
  const QueueDecision d = decide(p, AttemptOutcome::transient, false, RecipientHistory{SimTime{0}, 9, false}, days(1));
  CHECK(d.action == QueueAction::defer);
  CHECK_FALSE(d.delay_warning);
}
