// tests/test_engine.cpp: the engine, its queues, time and RNG streams.
// Every engine test runs against every queue implementation.
#include <catch2/catch.hpp>
#include <algorithm>
#include <functional>
#include <vector>

#include "sim/engine/engine.hpp"
#include "sim/engine/pacer.hpp"
#include "sim/engine/rng.hpp"

using namespace smtplab;

TEMPLATE_TEST_CASE("events run in (time, insertion) order", "[engine]", QuaternaryHeap, BinaryHeap) {
  BasicEngine<TestType> e;
  std::vector<int> order;
  e.at(SimTime{30}, [&] { order.push_back(3); });
  e.at(SimTime{10}, [&] { order.push_back(1); });
  e.at(SimTime{20}, [&] { order.push_back(2); });
  e.at(SimTime{10}, [&] { order.push_back(11); });  // tie with the first at 10: runs after it
  e.run();
  CHECK(order == std::vector<int>{1, 11, 2, 3});
  CHECK(e.now() == SimTime{30});
  CHECK(e.executed() == 4);
  CHECK(e.pending() == 0);
}

TEMPLATE_TEST_CASE("ties run first in, first out, even when scheduled from handlers", "[engine]", QuaternaryHeap,
                   BinaryHeap) {
  BasicEngine<TestType> e;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) e.at(SimTime{5}, [&, i] { order.push_back(i); });
  e.at(SimTime{5}, [&] {
    e.at(SimTime{5}, [&] { order.push_back(1000); });  // same instant, scheduled later: runs last
  });
  e.run();
  REQUIRE(order.size() == 101);
  for (int i = 0; i < 100; ++i) CHECK(order[static_cast<size_t>(i)] == i);
  CHECK(order.back() == 1000);
}

TEMPLATE_TEST_CASE("cancel skips an event; stale handles are harmless", "[engine]", QuaternaryHeap, BinaryHeap) {
  BasicEngine<TestType> e;
  int ran = 0;
  EventId a = e.at(SimTime{10}, [&] { ran += 1; });
  EventId b = e.at(SimTime{20}, [&] { ran += 10; });
  CHECK(e.pending() == 2);
  CHECK(e.cancel(a));
  CHECK_FALSE(e.cancel(a));  // twice
  CHECK(e.pending() == 1);
  CHECK_FALSE(e.is_pending(a));
  CHECK(e.is_pending(b));
  e.run();
  CHECK(ran == 10);
  CHECK_FALSE(e.cancel(b));  // already ran
  // The slot of a is reused: the old handle must not cancel the new event.
  EventId c = e.at(SimTime{30}, [&] { ran += 100; });
  CHECK_FALSE(e.cancel(a));
  CHECK(e.is_pending(c));
  e.run();
  CHECK(ran == 110);
}

TEMPLATE_TEST_CASE("run_until runs events up to and including t, then sets the clock", "[engine]", QuaternaryHeap,
                   BinaryHeap) {
  BasicEngine<TestType> e;
  std::vector<int64_t> times;
  for (int64_t t : {5, 10, 15, 20}) e.at(SimTime{t}, [&, t] { times.push_back(t); });
  e.run_until(SimTime{10});
  CHECK(times == std::vector<int64_t>{5, 10});
  CHECK(e.now() == SimTime{10});
  e.run_until(SimTime{12});
  CHECK(e.now() == SimTime{12});
  CHECK(times.size() == 2);
  REQUIRE(e.next_time());
  CHECK(*e.next_time() == SimTime{15});
  // A cancelled event before the horizon must not let a later one run early.
  EventId x = e.at(SimTime{13}, [&] { times.push_back(13); });
  e.cancel(x);
  e.run_until(SimTime{14});
  CHECK(times.size() == 2);
  e.run();
  CHECK(times == std::vector<int64_t>{5, 10, 15, 20});
}

TEMPLATE_TEST_CASE("step runs exactly one event; stop ends run()", "[engine]", QuaternaryHeap, BinaryHeap) {
  BasicEngine<TestType> e;
  int n = 0;
  for (int i = 0; i < 5; ++i) e.at(SimTime{i}, [&] {
      if (++n == 3) e.stop();
    });
  CHECK(e.step());
  CHECK(n == 1);
  e.run();
  CHECK(n == 3);
  e.run();
  CHECK(n == 5);
  CHECK_FALSE(e.step());
}

TEMPLATE_TEST_CASE("time never goes backwards", "[engine]", QuaternaryHeap, BinaryHeap) {
  BasicEngine<TestType> e;
  e.at(SimTime{100}, [] {});
  e.run();
  CHECK_THROWS_AS(e.at(SimTime{50}, [] {}), std::logic_error);
  CHECK_THROWS_AS(e.schedule_in(SimTime{-1}, [](void*, uint64_t) {}, nullptr), std::logic_error);
}

TEMPLATE_TEST_CASE("the fast path passes context and argument; member binding works", "[engine]", QuaternaryHeap,
                   BinaryHeap) {
  struct Counter {
    uint64_t sum = 0;
    void add(uint64_t v) { sum += v; }
  } c;
  BasicEngine<TestType> e;
  e.template schedule_at<&Counter::add>(SimTime{1}, &c, 5);
  e.template schedule_in<&Counter::add>(SimTime{2}, &c, 7);
  e.schedule_at(SimTime{3}, [](void* ctx, uint64_t arg) { static_cast<Counter*>(ctx)->sum += arg * 100; }, &c, 1);
  e.run();
  CHECK(c.sum == 112);
}

TEMPLATE_TEST_CASE("the ambient cause travels with scheduled events", "[engine]", QuaternaryHeap, BinaryHeap) {
  BasicEngine<TestType> e;
  uint64_t seen_a = 0, seen_b = 0;
  e.set_cause(41);
  e.at(SimTime{10}, [&] {
    seen_a = e.cause();
    e.set_cause(99);
    e.after(SimTime{5}, [&] { seen_b = e.cause(); });
  });
  e.set_cause(7);
  e.run();
  CHECK(seen_a == 41);
  CHECK(seen_b == 99);
}

TEMPLATE_TEST_CASE("random schedules match a reference sort (determinism and order)", "[engine]", QuaternaryHeap,
                   BinaryHeap) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed, "test.engine");
    BasicEngine<TestType> e;
    std::vector<std::pair<int64_t, int>> expected, got;
    std::vector<EventId> ids;
    for (int i = 0; i < 500; ++i) {
      const int64_t t = static_cast<int64_t>(rng.uniform_int(0, 50));  // many ties
      ids.push_back(e.at(SimTime{t}, [&got, t, i] { got.push_back({t, i}); }));
      expected.push_back({t, i});
    }
    // Cancel every seventh.
    std::vector<std::pair<int64_t, int>> kept;
    for (int i = 0; i < 500; ++i) {
      if (i % 7 == 0)
        e.cancel(ids[static_cast<size_t>(i)]);
      else
        kept.push_back(expected[static_cast<size_t>(i)]);
    }
    std::stable_sort(kept.begin(), kept.end(), [](auto& a, auto& b) { return a.first < b.first; });
    e.run();
    CHECK(got == kept);
  }
}

TEMPLATE_TEST_CASE("cancelled events far in the future are swept out of the queue", "[engine]", QuaternaryHeap,
                   BinaryHeap) {
  // Like a client that arms a 5-minute timeout and cancels it milliseconds
  // later: without a sweep, every cancelled key would wait in the queue (and
  // hold its slot) until its own time came.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    INFO("seed " << seed);
    Rng rng(seed, "test.sweep");
    BasicEngine<TestType> e;
    std::vector<std::pair<int64_t, int>> got, kept;
    std::vector<EventId> timeouts;
    size_t max_excess = 0, max_pending = 0, cancelled = 0;
    int next = 0;
    // 4,000 short events; each also arms a far timeout and usually cancels
    // the one armed before, so cancelled keys pile up far ahead.
    std::function<void(int, int64_t)> work = [&](int id, int64_t t) {
      got.push_back({t, id});
      if (next < 4000) {
        const int child = next++;
        const int64_t ct = e.now().us + static_cast<int64_t>(rng.uniform_int(1, 50));
        e.at(SimTime{ct}, [&, child, ct] { work(child, ct); });
        const int tid = 100000 + child;
        const int64_t tt = 1'000'000 + static_cast<int64_t>(rng.uniform_int(0, 1000));
        timeouts.push_back(e.at(SimTime{tt}, [&, tid, tt] { got.push_back({tt, tid}); }));
        // Most often the one armed just before (the step it guarded is done).
        if (timeouts.size() > 1 && rng.bernoulli(0.9) && e.cancel(timeouts[timeouts.size() - 2])) ++cancelled;
      }
      max_pending = std::max(max_pending, e.pending());
      if (e.queued() > e.pending()) max_excess = std::max(max_excess, e.queued() - e.pending());
    };
    for (int i = 0; i < 20; ++i) {
      const int id = next++;
      const int64_t t = static_cast<int64_t>(rng.uniform_int(0, 10));
      e.at(SimTime{t}, [&, id, t] { work(id, t); });
    }
    e.run();
    // Every event ran once, in (time, insertion) order; the timeouts ran
    // unless cancelled.
    for (size_t i = 1; i < got.size(); ++i) CHECK(got[i - 1].first <= got[i].first);
    size_t short_events = 0, timeouts_run = 0;
    for (const auto& g : got) (g.second >= 100000 ? timeouts_run : short_events) += 1;
    CHECK(short_events == 4000);
    CHECK(cancelled > 3000);
    CHECK(timeouts_run == timeouts.size() - cancelled);
    // Cancelled keys never outnumbered half the pending events (or the
    // small-queue allowance) by more than the one cancel a handler made, plus
    // the key of the event running. Without the sweep they would pile up to
    // `cancelled`.
    CHECK(max_excess <= std::max<size_t>(256, max_pending / 2) + 2);
  }
}

TEST_CASE("a sweep changes nothing the program can observe", "[engine]") {
  // The same schedule with and without cancellations of events that would
  // never run anyway: identical order.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::vector<int> plain, swept;
    for (int pass = 0; pass < 2; ++pass) {
      Rng rng(seed, "test.sweep.same");
      Engine e;
      std::vector<int>& out = pass ? swept : plain;
      std::vector<EventId> far;
      for (int i = 0; i < 3000; ++i) {
        const int64_t t = static_cast<int64_t>(rng.uniform_int(0, 100));  // many ties
        e.at(SimTime{t}, [&out, i] { out.push_back(i); });
        if (pass) far.push_back(e.at(SimTime{1'000'000 + i}, [&out] { out.push_back(-1); }));
      }
      for (EventId id : far) e.cancel(id);
      if (pass) {
        CHECK(e.queued() == 6000);  // nothing swept until the engine next looks at its queue
        REQUIRE(e.step());
        CHECK(e.queued() <= e.pending() + 1);  // swept (the +1: the key of the event that ran)
      }
      e.run();
    }
    CHECK(plain.size() == 3000);
    CHECK(plain == swept);
  }
}

TEST_CASE("pending events owned by the engine are freed when it is destroyed", "[engine]") {
  auto token = std::make_shared<int>(1);
  {
    Engine e;
    e.at(SimTime{10}, [token] {});
    EventId id = e.at(SimTime{20}, [token] {});
    CHECK(token.use_count() == 3);
    e.cancel(id);
    CHECK(token.use_count() == 2);
  }
  CHECK(token.use_count() == 1);
}

TEST_CASE("durations format for humans", "[time]") {
  CHECK(format_duration(SimTime{0}) == "0 s");
  CHECK(format_duration(usec(250)) == "250 us");
  CHECK(format_duration(usec(12345)) == "12.345 ms");
  CHECK(format_duration(msec(1500)) == "1.500 s");
  CHECK(format_duration(minutes(30)) == "30 min");
  CHECK(format_duration(minutes(150)) == "2 h 30 min");
  CHECK(format_duration(days(5)) == "5 d");
  CHECK(format_duration(days(1) + hours(3)) == "1 d 3 h");
  CHECK(format_duration(minutes(2) + sec(5)) == "2 min 5 s");
  CHECK(format_clock(usec(12345678)) == "12.345678");
}

TEST_CASE("durations parse from teacher-friendly text", "[time]") {
  struct Case {
    const char* text;
    int64_t us;
  };
  const Case cases[] = {{"90s", 90'000'000},   {"30min", 1'800'000'000}, {"5d", 432'000'000'000},
                        {"1h30min", 5'400'000'000}, {"250ms", 250'000}, {"10us", 10},
                        {"1.5s", 1'500'000},   {"0", 0},                 {"2 h", 7'200'000'000},
                        {"1m", 60'000'000}};
  for (const Case& c : cases) {
    INFO("text: " << c.text);
    auto d = parse_duration(c.text);
    REQUIRE(d);
    CHECK(d->us == c.us);
  }
  for (const char* bad : {"", "abc", "10", "10 parsecs", "s", "-5s", "1..5s", "."}) {
    INFO("text: " << bad);
    std::string why;
    CHECK_FALSE(parse_duration(bad, &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("RNG streams depend only on (seed, name)", "[rng]") {
  Rng a1(42, "tcp.isn"), a2(42, "tcp.isn"), b(42, "dns.shuffle"), c(43, "tcp.isn");
  std::vector<uint64_t> va, va2, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a1.next_u64());
    va2.push_back(a2.next_u64());
    vb.push_back(b.next_u64());
    vc.push_back(c.next_u64());
  }
  CHECK(va == va2);
  CHECK(va != vb);
  CHECK(va != vc);
  // Drawing from one stream does not disturb another made afterwards.
  Rng fresh(42, "dns.shuffle");
  CHECK(fresh.next_u64() == vb[0]);
}

TEST_CASE("RNG draws stay in range and look uniform", "[rng]") {
  Rng r(7, "test.uniform");
  int buckets[10] = {};
  for (int i = 0; i < 100000; ++i) {
    const double u = r.uniform();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
    ++buckets[static_cast<int>(u * 10)];
    const uint64_t k = r.uniform_int(3, 9);
    REQUIRE(k >= 3);
    REQUIRE(k <= 9);
  }
  for (int b : buckets) CHECK(std::abs(b - 10000) < 600);  // ~6 sigma
  CHECK_FALSE(r.bernoulli(0.0));
  CHECK(r.bernoulli(1.0));
  int hits = 0;
  for (int i = 0; i < 10000; ++i) hits += r.bernoulli(0.3);
  CHECK(std::abs(hits - 3000) < 300);
  CHECK(r.uniform_int(5, 5) == 5);
}

TEST_CASE("the real-time pacer maps wall time to simulated time", "[pacer]") {
  using C = RealTimePacer::Clock;
  const auto t0 = C::now();
  RealTimePacer p(10.0, SimTime{0}, t0);
  CHECK(p.sim_at(t0 + std::chrono::milliseconds(100)) == msec(1000));
  CHECK(p.wall_at(sec(2)) == t0 + std::chrono::milliseconds(200));
  p.set_speed(1.0, t0 + std::chrono::milliseconds(100));
  CHECK(p.sim_at(t0 + std::chrono::milliseconds(200)) == msec(1100));
  // run_paced at high speed actually runs events up to the horizon.
  Engine e;
  int n = 0;
  e.at(msec(5), [&] { ++n; });
  e.at(msec(10), [&] { ++n; });
  RealTimePacer fast(1000.0);
  fast.run_paced(e, msec(20));
  CHECK(n == 2);
  CHECK(e.now() == msec(20));
}

namespace {
// A random workload: each handler schedules 0-3 successors (ties included)
// and sometimes cancels a pending event. Returns the execution order.
template <class Q>
std::vector<uint64_t> random_workload(uint64_t seed) {
  BasicEngine<Q> e;
  Rng rng(seed, "test.workload");
  std::vector<uint64_t> order;
  std::vector<EventId> ids;
  uint64_t next_id = 0;
  std::function<void(uint64_t)> handler = [&](uint64_t id) {
    order.push_back(id);
    if (order.size() > 4000) return;
    const uint64_t n = rng.uniform_int(0, 3);
    for (uint64_t k = 0; k < n; ++k) {
      const uint64_t child = next_id++;
      ids.push_back(e.after(SimTime{static_cast<int64_t>(rng.uniform_int(0, 20))}, [&, child] { handler(child); }));
    }
    if (!ids.empty() && rng.bernoulli(0.2)) e.cancel(ids[rng.uniform_int(0, ids.size() - 1)]);
  };
  for (int i = 0; i < 20; ++i) {
    const uint64_t id = next_id++;
    ids.push_back(e.at(SimTime{static_cast<int64_t>(rng.uniform_int(0, 10))}, [&, id] { handler(id); }));
  }
  e.run();
  return order;
}
}  // namespace

TEST_CASE("every queue runs a random workload identically (schedule-from-handler fast path)", "[engine]") {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    INFO("seed " << seed);
    const auto a = random_workload<QuaternaryHeap>(seed);
    const auto b = random_workload<BinaryHeap>(seed);
    CHECK(a.size() > 20);
    CHECK(a == b);
  }
}

namespace {
// A log of hint calls ("h", arg) and runs ("r", arg), in the order they happen.
struct HintLog {
  std::vector<std::pair<char, uint64_t>> entries;
};
void hinted_run(void* ctx, uint64_t arg) { static_cast<HintLog*>(ctx)->entries.push_back({'r', arg}); }
void unhinted_run(void* ctx, uint64_t arg) { static_cast<HintLog*>(ctx)->entries.push_back({'r', arg}); }
void hint_of(const void* ctx, uint64_t arg) {
  const_cast<HintLog*>(static_cast<const HintLog*>(ctx))->entries.push_back({'h', arg});
}
}  // namespace

TEMPLATE_TEST_CASE("a prefetch hint sees the next event's context and argument one event ahead", "[engine]",
                   QuaternaryHeap, BinaryHeap) {
  HintLog log;
  BasicEngine<TestType> e;
  e.set_prefetch(&hinted_run, &hint_of);
  // Events 1..6 at distinct times; 4 runs a function with no hint; 5 is cancelled.
  EventId five;
  for (uint64_t k = 1; k <= 6; ++k) {
    const EventId id = e.schedule_at(SimTime{static_cast<int64_t>(10 * k)}, k == 4 ? &unhinted_run : &hinted_run,
                                     &log, k);
    if (k == 5) five = id;
  }
  REQUIRE(e.cancel(five));
  e.run();
  // The hint for event k comes as event k-1 starts, before it runs; none for
  // the first event (nothing ran before it), for the unhinted function, or
  // for the cancelled event.
  // When event 4 starts, the next key is the cancelled 5's: no hint, and
  // event 6 runs unhinted (the hint is only ever an optimisation).
  const std::vector<std::pair<char, uint64_t>> want = {{'h', 2}, {'r', 1}, {'h', 3}, {'r', 2},
                                                       {'r', 3}, {'r', 4}, {'r', 6}};
  CHECK(log.entries == want);
}

namespace {
template <class Q>
struct HintWorld {
  BasicEngine<Q> e;
  Rng rng;
  std::vector<uint64_t> out;
  uint64_t next = 1000;
  size_t hints = 0;
  explicit HintWorld(uint64_t seed) : rng(seed, "test.hint") {}
  static void run(void* p, uint64_t arg) {
    auto* x = static_cast<HintWorld*>(p);
    x->out.push_back(arg);
    if (x->next < 3000 && x->rng.bernoulli(0.5))  // at now or soon: often ahead of the hinted event
      x->e.schedule_in(SimTime{static_cast<int64_t>(x->rng.uniform_int(0, 3))}, &run, x, x->next++);
  }
  static void hint(const void* p, uint64_t) { ++const_cast<HintWorld*>(static_cast<const HintWorld*>(p))->hints; }
};
}  // namespace

TEMPLATE_TEST_CASE("prefetch hints change nothing the program can observe", "[engine]", QuaternaryHeap, BinaryHeap) {
  // The same random schedule (ties, cancels, events scheduled from handlers
  // ahead of the hinted one) with and without a hint: the same runs in the
  // same order.
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    std::vector<uint64_t> runs[2];
    for (int pass = 0; pass < 2; ++pass) {
      HintWorld<TestType> w(seed);
      if (pass) w.e.set_prefetch(&HintWorld<TestType>::run, &HintWorld<TestType>::hint);
      std::vector<EventId> ids;
      for (uint64_t i = 0; i < 1000; ++i)
        ids.push_back(w.e.schedule_at(SimTime{static_cast<int64_t>(w.rng.uniform_int(0, 200))},
                                      &HintWorld<TestType>::run, &w, i));
      for (size_t i = 0; i < ids.size(); i += 9) w.e.cancel(ids[i]);
      w.e.run();
      if (pass) CHECK(w.hints > w.out.size() / 2);  // the look-ahead ran (and named live events)
      runs[pass] = std::move(w.out);
    }
    CHECK(runs[0].size() > 1000);
    CHECK(runs[0] == runs[1]);
  }
}

TEST_CASE("set_prefetch replaces a function's hint and takes at most four functions", "[engine]") {
  HintLog log;
  Engine e;
  e.set_prefetch(&hinted_run, [](const void*, uint64_t) {});
  e.set_prefetch(&hinted_run, &hint_of);  // replaces the first
  static constexpr EventFn others[] = {[](void*, uint64_t) {}, [](void*, uint64_t) {}, [](void*, uint64_t) {}};
  for (EventFn f : others) e.set_prefetch(f, &hint_of);
  CHECK_THROWS_AS(e.set_prefetch(&unhinted_run, &hint_of), std::length_error);
  e.schedule_at(SimTime{1}, &hinted_run, &log, 1);
  e.schedule_at(SimTime{2}, &hinted_run, &log, 2);
  e.run();
  CHECK(log.entries == std::vector<std::pair<char, uint64_t>>{{'h', 2}, {'r', 1}, {'r', 2}});
}
