// bench/mail_bench.cpp: `smtplab bench mail`: the whole mail system at scale.
//
// 100 domains (one mail server each, 100 mailboxes each: 10,000 users), one
// sending device per domain, messages to random users of random domains at a
// constant rate, 1% loss on every link and a few server outages. Every
// message is a real submission session (587, STARTTLS, AUTH) and a real
// relay session (25) over the TCP model, with queueing, retries and local
// delivery. Tracing is off (no records stored, every layer masked) so the
// figure is the simulator's, not the trace writer's.
// Prints simulated messages per wall second, peak memory, and on a line with
// "ratio" the per-message cost at 100,000 messages over that at 10,000 (same
// rate, so the same concurrency: the cost per message should stay flat).
#include <chrono>
#include <ctime>
#include <cstdio>
#include <ostream>

#include "bench/bench.hpp"
#include "sim/agents/mail_server.hpp"
#include "sim/agents/world.hpp"
#include "sim/engine/rng.hpp"
#include "sim/scenario/run.hpp"

namespace smtplab::bench {

namespace {

using Clock = std::chrono::steady_clock;

Scenario mail_world(int domains, int users_per_domain, int messages, SimTime window) {
  Scenario sc;
  sc.name = "bench mail";
  sc.seed = 7;
  sc.default_loss = 0.01;
  sc.default_latency = msec(10);
  Rng rng(sc.seed, "bench.mail");
  for (int d = 0; d < domains; ++d) {
    const std::string dom = "d" + std::to_string(d) + ".test";
    Host s;
    s.name = "mx." + dom;
    s.role = HostRole::mail_server;
    s.domains = {dom};
    for (int u = 0; u < users_per_domain; ++u) s.mailboxes.push_back(Mailbox{"u" + std::to_string(u), "secret", 0});
    sc.hosts.push_back(s);
    Host ua;
    ua.name = "pc." + dom;
    ua.role = HostRole::user_agent;
    ua.user = "u0@" + dom;
    ua.server = s.name;
    sc.hosts.push_back(ua);
  }
  for (int i = 0; i < messages; ++i) {
    MessageSpec m;
    const int from = static_cast<int>(rng.uniform_int(0, domains - 1));
    m.from = "u0@d" + std::to_string(from) + ".test";
    m.via = "pc.d" + std::to_string(from) + ".test";
    m.to.push_back("u" + std::to_string(rng.uniform_int(0, users_per_domain - 1)) + "@d" +
                   std::to_string(rng.uniform_int(0, domains - 1)) + ".test");
    m.subject = "message " + std::to_string(i);
    m.body = "Hello,\nthis is message " + std::to_string(i) + ".\n";
    m.at = SimTime{window.us / messages * i};
    sc.messages.push_back(std::move(m));
  }
  // A few outages: three servers down for 5 minutes at different times.
  for (int k = 0; k < 3; ++k) {
    Fault f;
    f.type = "host-down";
    f.host = "mx.d" + std::to_string(k * 7 + 1) + ".test";
    f.at = SimTime{window.us / 4 * (k + 1)};
    f.until = f.at + minutes(5);
    sc.faults.push_back(f);
  }
  sc.duration = window + minutes(40);  // time to drain retries
  return sc;
}

struct Figures {
  double wall = 0;
  double cpu = 0;  // process CPU time: the machine is shared, wall time is noisy
  uint64_t events = 0;
  size_t delivered = 0;
  size_t still_queued = 0;
};

Figures run_once(int messages, SimTime window) {
  const Scenario sc = mail_world(100, 100, messages, window);
  Figures f;
  RunOptions opt;
  opt.store_trace = false;
  opt.layer_mask = 0;
  opt.at_end = [&](World& w) {
    for (const auto& s : w.mail_servers()) {
      for (const auto& [addr, box] : s->mailboxes()) f.delivered += box.count();
      f.still_queued += s->queue().size();
    }
  };
  const auto t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  const RunResult r = run_scenario(sc, opt);
  f.cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  f.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  f.events = r.events;
  return f;
}

}  // namespace

int run_mail(std::ostream& out, const Options& options) {
  // Constant rate: 1000 messages per simulated minute at both sizes.
  const int big = options.quick ? 10000 : 100000;
  const int small = big / 10;
  out << "mail benchmark: 100 domains, 10,000 users, 1% loss, 3 server outages of 5 min; every message is a\n"
         "  submission (587, STARTTLS, AUTH) + MX relay (25) over the TCP model; trace off\n";
  char line[256];
  Figures fs[2];
  const int sizes[2] = {small, big};
  for (int i = 0; i < 2; ++i) {
    fs[i] = run_once(sizes[i], minutes(sizes[i] / 1000));
    std::snprintf(line, sizeof line,
                  "  %6d messages: %.2f s wall (%.2f s CPU), %.0f messages/wall s (%.0f per CPU s), %.2f M events "
                  "(%.0f events/s), %zu delivered, %zu still queued\n",
                  sizes[i], fs[i].wall, fs[i].cpu, sizes[i] / fs[i].wall, sizes[i] / fs[i].cpu,
                  static_cast<double>(fs[i].events) / 1e6,
                  static_cast<double>(fs[i].events) / fs[i].wall, fs[i].delivered, fs[i].still_queued);
    out << line;
  }
  std::snprintf(line, sizeof line, "  peak memory: %.1f MiB\n", static_cast<double>(peak_rss_bytes()) / (1 << 20));
  out << line;
  const double per_small = fs[0].cpu / small, per_big = fs[1].cpu / big;
  std::snprintf(line, sizeof line,
                "  ratio per-message CPU cost %d / %d messages: %.2f (target <= 1.3; wall-time ratio %.2f)\n", big,
                small, per_big / per_small, (fs[1].wall / big) / (fs[0].wall / small));
  out << line;
  return 0;
}

}  // namespace smtplab::bench
