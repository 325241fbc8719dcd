// bench/net_bench.cpp: `smtplab bench net`: the network model under load.
//
//   bulk:  10 MB over one TCP connection, on a lossless link and on a 5%-loss
//          link (both directions), 100 Mbit/s, 10 ms each way.
//   smtp:  complete SMTP sessions over the full model: an MX lookup through a
//          caching resolver (UDP to a DNS server), the TCP handshake, segments
//          and ACKs, retransmission timers, 1% loss on the mail server's link
//          (both directions), the real sans-IO SMTP client and server machines
//          (sim/smtp: EHLO, MAIL, RCPT, DATA, QUIT), and the FIN exchange.
//          Closed loop: C sessions are open at any time (1,000 and 10,000);
//          when one ends the next starts, until T sessions have run.
//
// Printed per run: simulated events per wall second, sessions per wall
// second, and peak memory per concurrent session (resident memory sampled
// during the run, minus the level before it; the time spent sampling is
// subtracted). Messages are ~300 bytes: every client session reads the one
// queued message in place (ClientSession's borrowing constructor, as a
// delivery reads its queue file), and its copies on the way (send buffers,
// packets, the server's DATA buffer) count. The "ratio" line
// divides the per-session CPU cost at 10,000 concurrent sessions by that at
// 1,000: flat cost gives 1.0. The memory target excludes message bodies, so
// a last run at 10,000 carries one-line messages; the memory line compares
// the two and says how much the network model itself holds.
// SMTPLAB_BENCH_NET_ONLY=C runs only C concurrent SMTP sessions (profiling).
// Tracing is switched off (Trace::set_layer_mask(0)): this measures the model,
// not record building.
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench.hpp"
#include "sim/dns/resolver.hpp"
#include "sim/net/network.hpp"
#include "sim/smtp/client.hpp"
#include "sim/smtp/server.hpp"

namespace smtplab::bench {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Runs the engine to the end, sampling resident memory now and then.
struct Runner {
  Engine& engine;
  const Network* net = nullptr;
  long long peak = 0;
  long long heap_at_peak = 0;  // malloc's largest sampled bytes in use (mallinfo2), a maximum of its own
  size_t net_peak = 0;  // Network::memory_bytes() at its sampled peak
  uint64_t tw_peak = 0;  // TIME-WAIT entries at the sampled peak
  size_t events_peak = 0;  // pending engine events at the sampled peak
  size_t queued_peak = 0;  // keys in the engine's queue (pending + cancelled), at their sampled peak
  double sample_wall = 0, sample_cpu = 0;  // time spent sampling (subtracted from the figures)
  void sample() {
    const auto w0 = Clock::now();
    const double c0 = cpu_seconds();
    measure();
    sample_cpu += cpu_seconds() - c0;
    sample_wall += seconds_since(w0);
  }
  void measure() {
    peak = std::max(peak, current_rss_bytes());
    events_peak = std::max(events_peak, engine.pending());
    queued_peak = std::max(queued_peak, engine.queued());
    const struct mallinfo2 mi = mallinfo2();
    heap_at_peak = std::max(heap_at_peak, static_cast<long long>(mi.uordblks + mi.hblkhd));
    if (net) {
      net_peak = std::max(net_peak, net->memory_bytes());
      tw_peak = std::max(tw_peak, net->stats().time_wait);
    }
  }
  void run() {
    uint64_t n = 0;
    peak = current_rss_bytes();
    const struct mallinfo2 mi = mallinfo2();
    heap_at_peak = static_cast<long long>(mi.uordblks + mi.hblkhd);
    while (engine.step())
      if ((++n & 0x7FFF) == 0) sample();
    sample();
  }
};

// ------------------------------------------------------------------ bulk

struct BulkSink : TcpHandler, TcpAcceptor {
  Engine* engine = nullptr;
  size_t got = 0;
  SimTime last_byte{0};
  TcpHandler* on_accept(TcpConn) override { return this; }
  void on_data(TcpConn, std::string_view b) override {
    got += b.size();
    last_byte = engine->now();
  }
  void on_closed(TcpConn, CloseReason) override {}
};
struct BulkSource : TcpHandler {
  std::optional<CloseReason> how;
  void on_data(TcpConn, std::string_view) override {}
  void on_closed(TcpConn, CloseReason r) override { how = r; }
};

int bulk(std::ostream& out, size_t bytes, double loss) {
  malloc_trim(0);
  const long long base = current_rss_bytes();
  Engine engine;
  Trace trace;
  trace.set_store(false);
  trace.set_layer_mask(0);
  trace.attach(engine);
  Network net(engine, trace, 1);
  const HostId a = net.add_host("a.test", "192.0.2.1"), b = net.add_host("b.test", "192.0.2.2");
  LinkParams lp;
  lp.latency = msec(10);
  lp.bandwidth_bps = 100'000'000;
  lp.loss = loss;
  net.add_link(a, b, lp);
  BulkSink sink;
  sink.engine = &engine;
  net.listen(b, 9, &sink);
  BulkSource src;
  const auto t0 = Clock::now();
  TcpConn c = net.connect(a, net.host_address(b), 9, &src);
  c.send(std::string(bytes, 'x'));
  c.close();
  Runner runner{engine};
  runner.run();
  const double wall = seconds_since(t0);
  const bool ok = sink.got == bytes && src.how == CloseReason::normal;
  out << "bulk " << bytes / 1'000'000 << " MB, " << fmt("%.0f", loss * 100) << "% loss: "
      << (ok ? "delivered intact" : "FAILED") << " in " << format_duration(sink.last_byte) << " simulated ("
      << fmt("%.1f", static_cast<double>(bytes) * 8 / sink.last_byte.seconds() / 1e6)
      << " Mbit/s goodput; a 64 KiB window over a 20 ms round trip allows 26), "
      << net.stats().segments_sent << " segments, " << net.stats().retransmissions << " retransmitted; wall "
      << fmt("%.3f", wall) << " s, " << fmt("%.2f", engine.executed() / wall / 1e6) << " M simulated events/s, "
      << fmt("%.1f", 1 / wall) << " sessions per wall second, peak memory "
      << fmt("%.1f", (runner.peak - base) / 1048576.0) << " MiB for 1 concurrent session\n";
  return ok ? 0 : 1;
}

// ------------------------------------------------------------------ SMTP sessions

struct SmtpBench;

// The same dialogue as the SMTP run, byte for byte in size, replayed from
// fixed scripts with no SMTP machine: what the network (TCP + DNS) costs on
// its own. Each side sends its next line when it has received the peer's
// previous one; per session it holds a handle and two counters.
struct Script {
  std::vector<std::string> server;  // [0] greeting, then one reply per client step; the last one closes
  std::vector<std::string> client;  // one per server line before the last
};

struct ScriptClient final : TcpHandler {
  SmtpBench& b;
  uint32_t got = 0, step = 0;
  explicit ScriptClient(SmtpBench& bench) : b(bench) {}
  void on_data(TcpConn c, std::string_view bytes) override;
  void on_closed(TcpConn c, CloseReason why) override;
};
struct ScriptServer final : TcpHandler {
  SmtpBench& b;
  uint32_t got = 0, step = 0;
  explicit ScriptServer(SmtpBench& bench) : b(bench) {}
  void on_connected(TcpConn c) override;
  void on_data(TcpConn c, std::string_view bytes) override;
  void on_closed(TcpConn, CloseReason) override { delete this; }
};

// Arms one lazy engine event for a machine's deadline: it fires at the
// earliest armed time and re-arms itself if the deadline moved later.
struct LazyTimer {
  EventId ev{};
  SimTime at = SimTime::max();
};

struct ClientDriver final : TcpHandler {
  SmtpBench& b;
  smtp::ClientSession session;
  TcpConn conn;
  LazyTimer timer;
  ClientDriver(SmtpBench& bench, smtp::ClientConfig cfg, smtp::SessionInfo info, std::span<const smtp::Transaction> t)
      : b(bench), session(std::move(cfg), std::move(info), t) {
    session.set_tracing(false);
  }
  ~ClientDriver() override;
  void on_connected(TcpConn c) override;
  void on_data(TcpConn c, std::string_view bytes) override;
  void on_peer_closed(TcpConn c) override;
  void on_closed(TcpConn c, CloseReason why) override;
  void pump();
  static void timer_cb(void* ctx, uint64_t);
};

struct ServerDriver final : TcpHandler {
  SmtpBench& b;
  smtp::ServerSession session;
  TcpConn conn;
  ServerDriver(SmtpBench& bench, smtp::SessionInfo info);
  void on_connected(TcpConn c) override;
  void on_data(TcpConn c, std::string_view bytes) override;
  void on_peer_closed(TcpConn c) override;
  void on_closed(TcpConn c, CloseReason why) override;
  void pump();
};

struct SmtpBench : TcpAcceptor {
  Engine engine;
  Trace trace;
  Network net;
  std::vector<HostId> clients;
  HostId mx = kNoHost, ns = kNoHost;
  std::unique_ptr<DnsServer> dns;
  std::vector<std::unique_ptr<Resolver>> resolvers;
  smtp::ServerConfig server_config;
  smtp::BasicPolicy policy;
  std::string body;
  // The message every session sends, read in place by each client session
  // (as a delivery reads its queue file): set by set_body().
  std::vector<smtp::Transaction> message;
  uint64_t total = 0, started = 0, ok = 0, failed = 0;
  uint64_t live_clients = 0, peak_live = 0;
  bool scripted = false;
  Script script;

  explicit SmtpBench(size_t hosts) : net(engine, trace, 42) {
    trace.set_store(false);
    trace.set_layer_mask(0);
    trace.attach(engine);
    const HostId router = net.add_host("internet", "198.51.100.1", true);
    mx = net.add_host("mx.bench.test", "198.51.100.25");
    ns = net.add_host("ns.bench.test", "198.51.100.53");
    LinkParams lp;
    lp.latency = msec(5);
    lp.bandwidth_bps = 1'000'000'000;
    net.add_link(ns, router, lp);
    for (size_t k = 0; k < hosts; ++k) {
      char name[32], addr[32];
      std::snprintf(name, sizeof name, "c%zu.test", k);
      std::snprintf(addr, sizeof addr, "10.%zu.%zu.%zu", (k >> 16) & 255, (k >> 8) & 255, (k & 255) + 1);
      clients.push_back(net.add_host(name, addr));
      net.add_link(clients.back(), router, lp);
    }
    lp.loss = 0.01;  // the mail server's link loses 1% of packets each way
    net.add_link(mx, router, lp);
    ZoneData z;
    std::string why;
    z.add(*parse_zone_record("bench.test. 3600 IN MX 10 mx.bench.test.", "", &why));
    z.add(*parse_zone_record("mx.bench.test. 3600 IN A 198.51.100.25", "", &why));
    dns = std::make_unique<DnsServer>(net, ns, std::move(z));
    for (HostId c : clients) resolvers.push_back(std::make_unique<Resolver>(net, c, net.host_address(ns), 42));
    server_config.hostname = "mx.bench.test";
    server_config.starttls = false;
    server_config.auth = false;
    policy.domains = {"bench.test"};
    policy.catch_all = true;
    policy.keep_messages = false;
    net.listen(mx, 25, this);
    body =
        "From: a@c.test\r\nTo: u@bench.test\r\nSubject: benchmark\r\nMessage-ID: <b@c.test>\r\n\r\n"
        "A short message of a few lines, the size of a typical notification.\r\n"
        "It travels in one or two segments.\r\n";
    while (body.size() < 300) body += "Padding line to reach about three hundred bytes.\r\n";
    set_body(body);
  }

  void set_body(std::string text) {
    // Client sessions read `message` in place until they end.
    if (started) throw std::logic_error("SmtpBench::set_body: sessions have started");
    body = std::move(text);
    smtp::Transaction t;
    t.envelope.reverse_path = "a@c.test";
    smtp::Recipient rcpt;
    rcpt.address = "u@bench.test";
    t.envelope.recipients.push_back(std::move(rcpt));
    t.content = body;
    message.assign(1, std::move(t));
  }

  TcpHandler* on_accept(TcpConn c) override {
    if (scripted) return new ScriptServer(*this);
    smtp::SessionInfo info;
    info.local_host = "mx.bench.test";
    info.session_id = c.serial();
    return new ServerDriver(*this, std::move(info));
  }

  static void start_cb(void* ctx, uint64_t) { static_cast<SmtpBench*>(ctx)->start_one(); }

  void start_one() {
    if (started >= total) return;
    const uint64_t k = started++;
    const size_t h = k % clients.size();
    resolvers[h]->route_mail("bench.test", [this, h](const MailRoute& r) {
      if (r.status != RouteStatus::ok || r.candidates.empty()) {
        ++failed;
        next();
        return;
      }
      if (scripted) {
        auto* d = new ScriptClient(*this);
        ++live_clients;
        peak_live = std::max(peak_live, live_clients);
        net.connect(clients[h], *parse_ipv4(r.candidates[0].address), 25, d);
        return;
      }
      smtp::ClientConfig cfg;
      cfg.helo_name = net.host_name(clients[h]);
      cfg.use_starttls = false;
      cfg.use_auth = false;
      smtp::SessionInfo info;
      info.local_host = cfg.helo_name;
      info.peer_host = "mx.bench.test";
      auto* d = new ClientDriver(*this, std::move(cfg), std::move(info), message);
      ++live_clients;
      peak_live = std::max(peak_live, live_clients);
      d->conn = net.connect(clients[h], *parse_ipv4(r.candidates[0].address), 25, d);
    });
  }

  void next() {
    // A finished session makes room for the next one (closed loop), started
    // from its own event rather than inside the network's callback.
    if (started < total) engine.schedule_in(SimTime{0}, &SmtpBench::start_cb, this);
  }
};

void ScriptClient::on_data(TcpConn c, std::string_view bytes) {
  got += static_cast<uint32_t>(bytes.size());
  const std::vector<std::string>& srv = b.script.server;
  while (step < b.script.client.size() && got >= srv[step].size()) {
    got -= static_cast<uint32_t>(srv[step].size());
    c.send(b.script.client[step++]);
  }
}
void ScriptClient::on_closed(TcpConn, CloseReason why) {
  if (why == CloseReason::normal && step == b.script.client.size()) ++b.ok;
  else ++b.failed;
  --b.live_clients;
  SmtpBench& bench = b;
  delete this;
  bench.next();
}
void ScriptServer::on_connected(TcpConn c) { c.send(b.script.server[0]); }
void ScriptServer::on_data(TcpConn c, std::string_view bytes) {
  got += static_cast<uint32_t>(bytes.size());
  const std::vector<std::string>& cli = b.script.client;
  while (step < cli.size() && got >= cli[step].size()) {
    got -= static_cast<uint32_t>(cli[step].size());
    c.send(b.script.server[++step]);
    if (step == cli.size()) c.close();
  }
}

ClientDriver::~ClientDriver() { b.engine.cancel(timer.ev); }

void ClientDriver::on_connected(TcpConn c) {
  conn = c;
  session.start(b.engine.now());
  pump();
}
void ClientDriver::on_data(TcpConn, std::string_view bytes) {
  session.receive(b.engine.now(), bytes);
  pump();
}
void ClientDriver::on_peer_closed(TcpConn c) {
  if (!session.done()) {
    session.connection_lost(b.engine.now(), "peer closed");
    session.output().clear();
  }
  c.close();
}
void ClientDriver::on_closed(TcpConn, CloseReason) {
  const bool accepted = !session.results().empty() && session.results()[0].accepted;
  if (accepted) ++b.ok;
  else ++b.failed;
  --b.live_clients;
  SmtpBench& bench = b;
  delete this;  // the network never touches a handler after on_closed
  bench.next();
}
void ClientDriver::pump() {
  smtp::Output& out = session.output();
  if (!out.bytes.empty() && conn.valid()) conn.send(out.bytes);
  bool close = out.closed;
  for (const smtp::Effect& e : out.effects) close = close || e.kind == smtp::EffectKind::close;
  out.clear();  // also resets `closed`; `out` is not the session's any more
  if (close || session.done()) {
    if (conn.valid()) conn.close();
    return;
  }
  const SimTime d = session.deadline();
  if (d == SimTime::max()) return;
  if (b.engine.is_pending(timer.ev) && timer.at <= d) return;
  b.engine.cancel(timer.ev);
  timer.at = d;
  timer.ev = b.engine.schedule_at(d, &ClientDriver::timer_cb, this);
}
void ClientDriver::timer_cb(void* ctx, uint64_t) {
  auto* self = static_cast<ClientDriver*>(ctx);
  self->timer.ev = EventId{};
  const SimTime now = self->b.engine.now();
  if (self->session.done()) return;
  if (now < self->session.deadline()) {
    self->pump();  // the deadline moved: re-arm
    return;
  }
  self->session.on_timer(now);
  self->pump();
}

ServerDriver::ServerDriver(SmtpBench& bench, smtp::SessionInfo info)
    : b(bench), session(bench.server_config, bench.policy, std::move(info)) {
  session.set_tracing(false);
}
void ServerDriver::on_connected(TcpConn c) {
  conn = c;
  session.start(b.engine.now());
  pump();
}
void ServerDriver::on_data(TcpConn, std::string_view bytes) {
  if (session.closed()) return;
  session.receive(b.engine.now(), bytes);
  pump();
}
void ServerDriver::on_peer_closed(TcpConn c) {
  if (!session.closed()) {
    session.peer_closed(b.engine.now());
    session.output().clear();
  }
  c.close();
}
void ServerDriver::on_closed(TcpConn, CloseReason) { delete this; }
void ServerDriver::pump() {
  // The server's own timeouts are 5 minutes; sessions here last well under a
  // second, so the bench does not arm them (the client's are armed).
  smtp::Output& out = session.output();
  if (!out.bytes.empty() && conn.valid()) conn.send(out.bytes);
  bool close = out.closed;
  for (const smtp::Effect& e : out.effects) close = close || e.kind == smtp::EffectKind::close;
  out.clear();  // also resets `closed`; `out` is not the session's any more
  if (close && conn.valid()) conn.close();
}

struct SessionFigures {
  double per_session_wall = 0;
  double per_session_cpu = 0;
  double mem = 0;      // peak resident bytes per concurrent session
  double net_mem = 0;  // of which the network model (Network::memory_bytes())
  double heap = 0;     // malloc's peak bytes in use per concurrent session
  bool ok = false;
};

// Nanoseconds per dependent read of a random 64-byte line within `bytes` of
// memory: one walk through every line in a shuffled order, each line holding
// the next one's index, so no read can start before the previous one ends.
// This is what a session's state costs when the event loop comes back to it:
// measured over the 1,000- and the 10,000-session working sets, it shows how
// much of the ratio the machine's caches decide (the work per session is
// flat: bench/net_cache.sh counts it).
double random_read_ns(size_t bytes) {
  const size_t lines = std::max<size_t>(bytes / 64, 2);
  std::vector<uint32_t> order(lines);
  for (size_t i = 0; i < lines; ++i) order[i] = static_cast<uint32_t>(i);
  std::mt19937_64 rng(20261202);
  for (size_t i = lines - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
  struct alignas(64) Line {
    uint64_t next;
    uint64_t pad[7];
  };
  std::vector<Line> mem(lines);
  for (size_t i = 0; i < lines; ++i) mem[order[i]].next = order[(i + 1) % lines];
  uint64_t at = order[0];
  for (size_t i = 0; i < lines; ++i) at = mem[at].next;  // one lap: pages mapped, caches as warm as they get
  const size_t steps = 2'000'000;
  const auto t0 = Clock::now();
  for (size_t i = 0; i < steps; ++i) at = mem[at].next;
  const double ns = seconds_since(t0) * 1e9 / static_cast<double>(steps);
  volatile uint64_t sink = at;  // keeps the walk
  (void)sink;
  return ns;
}

// A message of one short line: what a session costs without its message
// body (the memory target excludes message bodies).
const char* const kSmallMessage = "From: a@c.test\r\nSubject: m\r\n\r\nx\r\n";

Script smtp_sized_script(const std::string& body) {
  Script s;
  s.server = {"220 mx.bench.test ESMTP smtplab\r\n",
              "250-mx.bench.test Hello c1.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n250-8BITMIME\r\n"
              "250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250-VRFY\r\n250 HELP\r\n",
              "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
              "250 2.0.0 Ok: queued as Q000001\r\n", "221 2.0.0 Bye\r\n"};
  s.client = {"EHLO c1.test\r\n", "MAIL FROM:<a@c.test> SIZE=300\r\nRCPT TO:<u@bench.test>\r\nDATA\r\n",
              body + ".\r\n", "QUIT\r\n"};
  return s;
}

SessionFigures sessions(std::ostream& out, uint64_t concurrent, uint64_t total, bool scripted, bool small = false) {
  malloc_trim(0);
  const long long base = current_rss_bytes();
  const struct mallinfo2 mi0 = mallinfo2();
  const long long heap_base = static_cast<long long>(mi0.uordblks + mi0.hblkhd);
  auto bench = std::make_unique<SmtpBench>(64);
  bench->total = total;
  bench->scripted = scripted;
  if (small) bench->set_body(kSmallMessage);
  if (scripted) bench->script = smtp_sized_script(bench->body);
  // Pending events peak near 1.9 per session, plus cancelled keys not yet
  // swept (at most half as many): room for 4 per session, so the queue
  // does not grow (and copy) during the run.
  bench->engine.reserve(concurrent * 4);
  // Open the first `concurrent` sessions over the first 100 ms.
  for (uint64_t k = 0; k < concurrent; ++k)
    bench->engine.schedule_at(usec(static_cast<int64_t>(k * 100'000 / concurrent)), &SmtpBench::start_cb, bench.get());
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  Runner runner{bench->engine, &bench->net};
  runner.run();
  // Sampling walks every connection and packet slot (O(slots), so more per
  // session at 10,000 than at 1,000): its time is not the model's.
  const double cpu = cpu_seconds() - c0 - runner.sample_cpu;
  const double wall = seconds_since(t0) - runner.sample_wall;
  const double mem = static_cast<double>(runner.peak - base) / static_cast<double>(concurrent);
  const double heap = static_cast<double>(runner.heap_at_peak - heap_base) / static_cast<double>(concurrent);
  const NetStats& st = bench->net.stats();
  out << (scripted ? "tcp+dns only (scripted SMTP-sized dialogue, no SMTP machines), " : "smtp sessions, ")
      << (small ? "one-line messages, " : "") << concurrent
      << " concurrent (" << total << " in all, peak " << bench->peak_live << " open): " << bench->ok << " delivered, "
      << bench->failed << " failed; " << format_duration(bench->engine.now()) << " simulated, " << st.segments_sent
      << " segments (" << st.segments_lost << " lost, " << st.retransmissions << " retransmitted); wall "
      << fmt("%.3f", wall) << " s, cpu " << fmt("%.3f", cpu) << " s, "
      << fmt("%.2f", static_cast<double>(bench->engine.executed()) / cpu / 1e6) << " M simulated events per cpu second, "
      << fmt("%.0f", static_cast<double>(total) / wall) << " sessions per wall second ("
      << fmt("%.0f", static_cast<double>(total) / cpu) << " per cpu second), peak memory per concurrent session "
      << fmt("%.0f", mem) << " bytes (malloc's peak bytes in use: " << fmt("%.0f", heap)
      << "), of which the TCP model holds "
      << fmt("%.0f", static_cast<double>(runner.net_peak) / static_cast<double>(concurrent)) << " (with "
      << runner.tw_peak << " TIME-WAIT entries at the peak, " << st.time_wait << " at the end; "
      << runner.events_peak << " pending events at the peak, " << runner.queued_peak << " keys queued)\n";
  SessionFigures f;
  f.per_session_wall = wall / static_cast<double>(total);
  f.per_session_cpu = cpu / static_cast<double>(total);
  f.mem = mem;
  f.net_mem = static_cast<double>(runner.net_peak) / static_cast<double>(concurrent);
  f.heap = heap;
  f.ok = bench->ok + bench->failed == total && bench->failed * 20 < total;
  return f;
}

}  // namespace

int run_net(std::ostream& out, const Options& options) {
  int rc = 0;
  const uint64_t small = options.quick ? 100 : 1000;
  const uint64_t large = options.quick ? 1000 : 10000;
  // For profilers: SMTPLAB_BENCH_NET_ONLY=C runs one closed loop of C
  // concurrent SMTP sessions (5 x C in all) and nothing else.
  if (const char* only = std::getenv("SMTPLAB_BENCH_NET_ONLY")) {
    const std::string_view text(only);
    uint64_t c = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), c);
    if (ec != std::errc{} || end != text.data() + text.size() || c == 0 || c > 1'000'000) {
      out << "SMTPLAB_BENCH_NET_ONLY must be a number of sessions from 1 to 1000000, not \"" << only << "\"\n";
      return 1;
    }
    // SMTPLAB_BENCH_NET_SMALL=1: the sessions carry one-line messages, as
    // in the memory figure.
    const char* small_env = std::getenv("SMTPLAB_BENCH_NET_SMALL");
    const bool one_line = small_env && std::string_view(small_env) == "1";
    return sessions(out, c, 5 * c, false, one_line).ok ? 0 : 1;
  }
  // Sessions first: the bulk runs' 10 MB buffers would otherwise blur the
  // memory figures. Each size runs 5 x its concurrency sessions, twice; the
  // faster run counts (shared machines are noisy).
  SessionFigures a, b;
  for (int rep = 0; rep < 2; ++rep) {
    const SessionFigures x = sessions(out, small, 5 * small, false);
    const SessionFigures y = sessions(out, large, 5 * large, false);
    if (!x.ok || !y.ok) rc = 1;
    if (rep == 0 || x.per_session_cpu < a.per_session_cpu) a = x;
    if (rep == 0 || y.per_session_cpu < b.per_session_cpu) b = y;
  }
  // The network alone, same sizes: how much of the cost and memory is TCP+DNS.
  SessionFigures ta = sessions(out, small, 5 * small, true);
  SessionFigures tb = sessions(out, large, 5 * large, true);
  // Memory without message bodies: the same sessions carrying a one-line message.
  SessionFigures m = sessions(out, large, 5 * large, false, true);
  if (!ta.ok || !tb.ok || !m.ok) rc = 1;
  out << "memory per concurrent session at " << large << " concurrent: " << fmt("%.0f", b.mem)
      << " bytes with ~300-byte messages, " << fmt("%.0f", m.mem)
      << " with one-line messages (target <= 2048 without message bodies); the network model (TCP, packets, "
         "timers, TIME-WAIT) holds "
      << fmt("%.0f", m.net_mem) << " of it, TCP+DNS with no SMTP machines " << fmt("%.0f", tb.mem) << " in all\n";
  out << "per-session cost ratio (" << large << " vs " << small << " concurrent, best of 2, cpu time): "
      << fmt("%.2f", b.per_session_cpu / a.per_session_cpu) << " (target <= 1.3; wall time gives "
      << fmt("%.2f", b.per_session_wall / a.per_session_wall) << "); " << fmt("%.0f", 1 / b.per_session_wall)
      << " sessions per wall second at " << large << " concurrent (target >= 50000), "
      << fmt("%.0f", 1 / b.per_session_cpu) << " per cpu second; tcp+dns alone: ratio "
      << fmt("%.2f", tb.per_session_cpu / ta.per_session_cpu) << ", " << fmt("%.0f", 1 / tb.per_session_cpu)
      << " sessions per cpu second\n";
  {
    const auto set_a = static_cast<size_t>(std::max(a.heap, 1.0) * static_cast<double>(small));
    const auto set_b = static_cast<size_t>(std::max(b.heap, 1.0) * static_cast<double>(large));
    const double ns_a = random_read_ns(set_a);
    const double ns_b = random_read_ns(set_b);
    out << "memory latency on this machine (dependent reads of random 64-byte lines): " << fmt("%.0f", ns_a)
        << " ns over " << fmt("%.1f", static_cast<double>(set_a) / 1048576.0) << " MiB (the " << small
        << "-session run's peak heap), " << fmt("%.0f", ns_b) << " ns over "
        << fmt("%.1f", static_cast<double>(set_b) / 1048576.0) << " MiB (the " << large
        << "-session run's): " << fmt("%.1f", ns_b / ns_a)
        << "x; a ratio above 1 comes from this step, not from more work per session (bench/net_cache.sh "
           "counts the work)\n";
  }
  const size_t bytes = options.quick ? 1'000'000 : 10'000'000;
  rc |= bulk(out, bytes, 0.0);
  rc |= bulk(out, bytes, 0.05);
  return rc;
}

}  // namespace smtplab::bench
