// bench/engine_bench.cpp: `smtplab bench engine`.
//
// The engine against a bare loop over std::priority_queue doing the same
// work in the same process: pop the earliest (time, sequence) item, "handle"
// it, schedule the next. Both draw delays from one precomputed table, so the
// random number generator costs neither side anything.
//   hold model: a fixed population of pending events (10^3 and 10^6)
//   ping-pong:  N pairs exchanging M request/reply messages, jittered latency
//   burst:      many events at one instant (ties must stay FIFO and cheap)
#include <chrono>
#include <cstdio>
#include <ostream>
#include <queue>
#include <vector>

#include "bench/bench.hpp"
#include "sim/engine/engine.hpp"
#include "sim/engine/rng.hpp"

namespace smtplab::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// What a bare event loop needs to do the engine's job: a time, a sequence for
// FIFO ties, and a handler to call with its context and argument.
struct BareItem {
  int64_t time;
  uint64_t seq;
  EventFn fn;
  void* ctx;
  uint64_t arg;
  bool operator>(const BareItem& o) const { return time > o.time || (time == o.time && seq > o.seq); }
};
using BareQueue = std::priority_queue<BareItem, std::vector<BareItem>, std::greater<BareItem>>;

std::vector<int64_t> delay_table(uint64_t seed, int64_t lo, int64_t hi) {
  Rng rng(seed, "bench.delays");
  std::vector<int64_t> t(1 << 16);
  for (int64_t& d : t) d = static_cast<int64_t>(rng.uniform_int(static_cast<uint64_t>(lo), static_cast<uint64_t>(hi)));
  return t;
}

// ---- hold model

struct Hold {
  Engine* engine;
  const int64_t* delays;
  uint64_t i = 0;
  uint64_t checksum = 0;
  static void fire(void* ctx, uint64_t arg) {
    Hold* h = static_cast<Hold*>(ctx);
    h->checksum += arg;
    h->engine->schedule_in(SimTime{h->delays[h->i++ & 0xFFFF]}, &fire, ctx, arg + 1);
  }
};

double hold_engine(size_t population, uint64_t steps, const std::vector<int64_t>& delays, uint64_t& checksum) {
  Engine engine;
  engine.reserve(population + 1);
  Hold h{&engine, delays.data()};
  for (size_t k = 0; k < population; ++k) engine.schedule_at(SimTime{delays[(k * 7) & 0xFFFF]}, &Hold::fire, &h, k);
  const auto t0 = Clock::now();
  for (uint64_t s = 0; s < steps; ++s) engine.step();
  const double secs = seconds_since(t0);
  checksum = h.checksum;
  return secs;
}

struct BareHold {
  BareQueue* q;
  const int64_t* delays;
  int64_t now = 0;
  uint64_t seq = 0, i = 0, checksum = 0;
  static void fire(void* ctx, uint64_t arg) {
    BareHold* h = static_cast<BareHold*>(ctx);
    h->checksum += arg;
    h->q->push(BareItem{h->now + h->delays[h->i++ & 0xFFFF], h->seq++, &fire, ctx, arg + 1});
  }
};

double hold_bare(size_t population, uint64_t steps, const std::vector<int64_t>& delays, uint64_t& checksum) {
  std::vector<BareItem> storage;
  storage.reserve(population + 1);
  BareQueue q(std::greater<BareItem>{}, std::move(storage));
  BareHold h{&q, delays.data()};
  for (size_t k = 0; k < population; ++k) q.push(BareItem{delays[(k * 7) & 0xFFFF], h.seq++, &BareHold::fire, &h, k});
  const auto t0 = Clock::now();
  for (uint64_t s = 0; s < steps; ++s) {
    const BareItem it = q.top();
    q.pop();
    h.now = it.time;
    it.fn(it.ctx, it.arg);
  }
  const double secs = seconds_since(t0);
  checksum = h.checksum;
  return secs;
}

// ---- ping-pong: pairs[p] bounces a message between its two ends

struct PingPong {
  Engine* engine;
  const int64_t* delays;
  uint64_t i = 0;
  uint64_t remaining;  // messages still to send in total
  std::vector<uint32_t> left;
  static void deliver(void* ctx, uint64_t pair) {
    PingPong* p = static_cast<PingPong*>(ctx);
    if (p->left[pair] == 0) return;
    --p->left[pair];
    p->engine->schedule_in(SimTime{p->delays[p->i++ & 0xFFFF]}, &deliver, ctx, pair);
  }
};

double pingpong_engine(uint32_t pairs, uint32_t messages, const std::vector<int64_t>& delays, uint64_t& executed) {
  Engine engine;
  engine.reserve(pairs + 1);
  PingPong p{&engine, delays.data(), 0, 0, std::vector<uint32_t>(pairs, messages - 1)};
  const auto t0 = Clock::now();
  for (uint32_t k = 0; k < pairs; ++k) engine.schedule_at(SimTime{delays[k & 0xFFFF]}, &PingPong::deliver, &p, k);
  engine.run();
  const double secs = seconds_since(t0);
  executed = engine.executed();
  return secs;
}

struct BarePingPong {
  BareQueue* q;
  const int64_t* delays;
  int64_t now = 0;
  uint64_t seq = 0, i = 0;
  std::vector<uint32_t> left;
  static void deliver(void* ctx, uint64_t pair) {
    BarePingPong* p = static_cast<BarePingPong*>(ctx);
    if (p->left[pair] == 0) return;
    --p->left[pair];
    p->q->push(BareItem{p->now + p->delays[p->i++ & 0xFFFF], p->seq++, &deliver, ctx, pair});
  }
};

double pingpong_bare(uint32_t pairs, uint32_t messages, const std::vector<int64_t>& delays, uint64_t& executed) {
  std::vector<BareItem> storage;
  storage.reserve(pairs + 1);
  BareQueue q(std::greater<BareItem>{}, std::move(storage));
  BarePingPong p{&q, delays.data(), 0, 0, 0, std::vector<uint32_t>(pairs, messages - 1)};
  uint64_t count = 0;
  const auto t0 = Clock::now();
  for (uint32_t k = 0; k < pairs; ++k) q.push(BareItem{delays[k & 0xFFFF], p.seq++, &BarePingPong::deliver, &p, k});
  while (!q.empty()) {
    const BareItem it = q.top();
    q.pop();
    ++count;
    p.now = it.time;
    it.fn(it.ctx, it.arg);
  }
  const double secs = seconds_since(t0);
  executed = count;
  return secs;
}

// ---- same-timestamp bursts

double burst_engine(uint64_t events, uint64_t& check) {
  Engine engine;
  engine.reserve(events);
  uint64_t last = 0;
  bool fifo = true;
  struct Ctx {
    uint64_t* last;
    bool* fifo;
  } ctx{&last, &fifo};
  auto fn = [](void* c, uint64_t arg) {
    Ctx* x = static_cast<Ctx*>(c);
    if (arg < *x->last) *x->fifo = false;
    *x->last = arg;
  };
  const auto t0 = Clock::now();
  for (uint64_t k = 0; k < events; ++k) engine.schedule_at(SimTime{1000}, fn, &ctx, k);
  engine.run();
  const double secs = seconds_since(t0);
  check = fifo ? engine.executed() : 0;
  return secs;
}

double burst_bare(uint64_t events, uint64_t& check) {
  BareQueue q;
  uint64_t last = 0, count = 0;
  bool fifo = true;
  const auto t0 = Clock::now();
  struct Ctx {
    uint64_t* last;
    bool* fifo;
  } ctx{&last, &fifo};
  auto fn = [](void* c, uint64_t arg) {
    Ctx* x = static_cast<Ctx*>(c);
    if (arg < *x->last) *x->fifo = false;
    *x->last = arg;
  };
  for (uint64_t k = 0; k < events; ++k) q.push(BareItem{1000, k, fn, &ctx, k});
  while (!q.empty()) {
    const BareItem it = q.top();
    q.pop();
    it.fn(it.ctx, it.arg);
    ++count;
  }
  const double secs = seconds_since(t0);
  check = fifo ? count : 0;
  return secs;
}

void line(std::ostream& out, const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  out << buf << '\n';
}

}  // namespace

int run_engine(std::ostream& out, const Options& options) {
  out << "engine benchmark: smtplab engine (" << Engine::queue_name()
      << " of 16-byte keys, payload slots, lazy cancel, cause tracking)\n"
         "  vs a bare loop: std::priority_queue of {time, seq, handler, context, arg} dispatching through the same\n"
         "  function pointers, in the same process; best of 3 alternating runs per size\n";
  const auto delays = delay_table(42, 1, 1'000'000);
  int status = 0;

  for (size_t population : {size_t{1000}, size_t{1000000}}) {
    const uint64_t steps = options.quick ? 200000 : (population >= 1000000 ? 4000000 : 10000000);
    uint64_t ce = 0, cb = 0;
    // Alternate and keep the best of three to damp a noisy shared machine.
    double te = 1e30, tb = 1e30;
    for (int rep = 0; rep < (options.quick ? 1 : 3); ++rep) {
      tb = std::min(tb, hold_bare(population, steps, delays, cb));
      te = std::min(te, hold_engine(population, steps, delays, ce));
    }
    if (ce != cb) {
      out << "ERROR: hold model results differ (engine " << ce << ", bare " << cb << ")\n";
      status = 1;
    }
    line(out, "hold model, %zu pending: engine %.2f M events/s, bare loop %.2f M events/s", population,
         steps / te / 1e6, steps / tb / 1e6);
    line(out, "hold model, %zu pending: ratio engine/bare = %.2f (target >= %.1f)", population, tb / te,
         population >= 1000000 ? 1.2 : 0.8);
  }

  const auto jitter = delay_table(7, 5'000, 15'000);  // 5-15 ms one-way latency
  for (auto [pairs, messages] : {std::pair<uint32_t, uint32_t>{100, 10000}, {10000, 100}}) {
    if (options.quick) messages = std::max<uint32_t>(10, messages / 50);
    uint64_t ne = 0, nb = 0;
    double te = 1e30, tb = 1e30;
    for (int rep = 0; rep < (options.quick ? 1 : 3); ++rep) {
      tb = std::min(tb, pingpong_bare(pairs, messages, jitter, nb));
      te = std::min(te, pingpong_engine(pairs, messages, jitter, ne));
    }
    if (ne != nb) {
      out << "ERROR: ping-pong message counts differ (engine " << ne << ", bare " << nb << ")\n";
      status = 1;
    }
    line(out, "ping-pong, %u pairs x %u messages: engine %.2f M messages/s, bare loop %.2f M messages/s", pairs,
         messages, ne / te / 1e6, nb / tb / 1e6);
    line(out, "ping-pong, %u pairs x %u messages: ratio engine/bare = %.2f (target >= 0.65)", pairs, messages, tb / te);
  }

  const uint64_t burst = options.quick ? 100000 : 2000000;
  uint64_t ke = 0, kb = 0;
  const double be = burst_engine(burst, ke), bb = burst_bare(burst, kb);
  if (ke != burst || kb != burst) {
    out << "ERROR: same-time burst lost FIFO order or events\n";
    status = 1;
  }
  line(out, "same-time burst, %llu events at one instant: engine %.2f M events/s, bare loop %.2f M events/s",
       static_cast<unsigned long long>(burst), burst / be / 1e6, burst / bb / 1e6);
  line(out, "same-time burst: ratio engine/bare = %.2f (FIFO order kept: %s)", bb / be, ke == burst ? "yes" : "NO");
  return status;
}

}  // namespace smtplab::bench
