// sim/bridge/serve.cpp: the Asio event loop behind `smtplab serve`.
//
// One io_context, one thread. Each accepted socket gets a Conn that owns an
// smtp::ServerSession and drives it exactly as session_io.hpp describes:
// input (start/receive/on_timer/shutdown/peer_closed) with the simulated
// "now", then emit the records, send the bytes, act on the effects, arm the
// deadline. Outbound relaying (--relay-to) drives smtp::ClientSession the
// same way over an outgoing socket.
//
// Memory bounds per connection, whatever the peer does:
//   - one fixed read buffer (kReadBufferSize);
//   - the session caps command lines, text lines and message size itself
//     (server.hpp: "buffer without bound" is a must-never there);
//   - replies waiting to be written are capped (kMaxReplyBacklog): past it we stop
//     reading from that peer until it reads its replies (TCP back-pressure),
//     so a client that pipelines forever and never reads cannot grow us;
//   - idle peers get the session's 421 timeout (RFC 5321 4.5.3.2.7);
//   - at most max_connections sessions; the next gets 421 4.7.0 and close.
#include "sim/bridge/serve.hpp"

#include <sys/resource.h>

#include <asio.hpp>
#include <deque>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include "sim/agents/mail_server.hpp"
#include "sim/agents/world.hpp"
#include "sim/bridge/bridge_policy.hpp"
#include "sim/engine/pacer.hpp"
#include "sim/smtp/client.hpp"
#include "sim/smtp/server.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::bridge {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadBuffer = kReadBufferSize;
constexpr auto kDrainGrace = std::chrono::seconds(2);     // reading after our FIN, before close
constexpr auto kShutdownGrace = std::chrono::seconds(5);  // all sessions get their 421 meanwhile
constexpr size_t kMaxRelayJobs = 10000;
constexpr size_t kMaxRelayBytes = 256 * 1024 * 1024;
constexpr size_t kMaxOutbound = 8;                // concurrent outbound connections
constexpr size_t kJobsPerConnection = 20;         // transactions per outbound session
constexpr int kRelayAttempts = 3;
constexpr auto kConnectTimeout = std::chrono::seconds(30);

}  // namespace

smtp::ServerConfig bridge_server_config(const smtp::ServerConfig& base, const ServeOptions& o) {
  smtp::ServerConfig cfg = base;
  // A real socket has no simulated TLS layer: offering STARTTLS would make a
  // real client start a real handshake that can never succeed.
  cfg.starttls = false;
  cfg.require_tls = false;
  if (o.idle_timeout) {
    cfg.timeouts.command = *o.idle_timeout;
    cfg.timeouts.data_block = *o.idle_timeout;
  }
  return cfg;
}

std::string mail_server_names(const Scenario& sc) {
  std::string s;
  for (const Host& h : sc.hosts)
    if (h.role == HostRole::mail_server) s += (s.empty() ? "" : ", ") + h.name;
  return s.empty() ? "none" : s;
}

std::string default_serve_host(const Scenario& sc) {
  for (const MessageSpec& m : sc.messages) {
    for (const auto* list : {&m.to, &m.cc, &m.bcc}) {
      for (const std::string& a : *list) {
        const std::string dom = split_address(a).second;
        for (const Host& h : sc.hosts) {
          if (h.role != HostRole::mail_server) continue;
          for (const std::string& d : h.domains)
            if (lower_ascii(d) == dom) return h.name;
        }
      }
    }
  }
  for (const Host& h : sc.hosts)
    if (h.role == HostRole::mail_server && !h.mailboxes.empty()) return h.name;
  for (const Host& h : sc.hosts)
    if (h.role == HostRole::mail_server) return h.name;
  return {};
}

std::string check_serve_options(const Scenario& sc, ServeOptions& o) {
  if (o.host.empty()) {
    o.host = default_serve_host(sc);
    if (o.host.empty()) return "the scenario has no mail-server host to serve";
  }
  const Host* h = sc.find_host(o.host);
  if (!h) return "--host " + o.host + ": no such host in the scenario (mail servers: " + mail_server_names(sc) + ")";
  if (h->role != HostRole::mail_server)
    return "--host " + o.host + ": is a " + role_name(h->role) + ", not a mail server (mail servers: " +
           mail_server_names(sc) + ")";
  if (o.max_connections < 1 || o.max_connections > 100000) return "--max-connections must be from 1 to 100000";
  if (o.idle_timeout && (o.idle_timeout->us < 1000000 || *o.idle_timeout > minutes(60)))
    return "--idle-timeout must be from 1 second to 3600 seconds";
  if (o.duration_seconds && !(*o.duration_seconds > 0 && *o.duration_seconds <= 7 * 86400.0))
    return "--duration must be more than 0 and at most 604800 seconds";
  if (o.relay_to && o.relay_to->port == 0) return "--relay-to needs a port";
  if (o.relay_to && o.relay_to->address == o.listen.address && o.relay_to->port == o.listen.port)
    return "--relay-to " + o.relay_to->to_string() + " is the listening address itself (a mail loop)";
  return {};
}

// ---------------------------------------------------------------- Impl

struct Server::Impl {
  struct Conn;
  struct OutConn;
  struct RelayJob {
    std::string qid;
    smtp::Envelope env;
    std::string content;
    int attempts = 0;
    Clock::time_point next_try{};
  };

  Impl(const Scenario& sc, ServeOptions o, std::ostream& log, std::ostream& err);

  // simulated clock
  SimTime advance(SimTime at_least = SimTime{0});
  void arm_sim_timer();
  void on_record(const Record& r);

  // inbound
  void accept_next();
  void on_accept(const asio::error_code& ec, tcp::socket sock);
  void refuse_busy(tcp::socket sock);
  template <class F>
  void drive(const std::shared_ptr<Conn>& c, F&& input);
  void flush(const std::shared_ptr<Conn>& c);
  void start_read(const std::shared_ptr<Conn>& c);
  void start_write(const std::shared_ptr<Conn>& c);
  void arm_timer(const std::shared_ptr<Conn>& c);
  void begin_close(const std::shared_ptr<Conn>& c);
  void finish(const std::shared_ptr<Conn>& c);

  // outbound
  bool enqueue_relay(const std::string& qid, const smtp::Envelope& env, std::string_view content);
  void pump_relay();
  void arm_relay_timer();
  void start_outbound(std::vector<RelayJob> jobs);
  template <class F>
  void drive_out(const std::shared_ptr<OutConn>& c, F&& input);
  void out_read(const std::shared_ptr<OutConn>& c);
  void out_write(const std::shared_ptr<OutConn>& c);
  void out_arm_timer(const std::shared_ptr<OutConn>& c);
  void out_finish(const std::shared_ptr<OutConn>& c);

  // lifetime
  void begin_shutdown(const std::string& why);
  void check_done();
  void note(std::string text);

  Scenario scenario;
  ServeOptions opt;
  std::ostream& log;
  std::ostream& err;
  const Host* host = nullptr;

  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  asio::signal_set signals{io};
  asio::steady_timer sim_timer{io};
  asio::steady_timer stop_timer{io};
  asio::steady_timer grace_timer{io};
  asio::steady_timer accept_retry{io};
  asio::steady_timer relay_timer{io};

  Engine engine;
  Trace trace;
  std::unique_ptr<World> world;
  RealTimePacer pacer;
  smtp::ServerFaults faults;
  smtp::ServerConfig cfg;
  BridgePolicy policy;
  std::unique_ptr<MaildirWriter> maildir;
  std::ofstream jsonl;
  TranscriptOptions topt;

  std::unordered_map<uint64_t, std::shared_ptr<Conn>> conns;
  std::unordered_map<uint64_t, std::shared_ptr<OutConn>> outs;
  std::deque<RelayJob> relay_queue;
  size_t relay_bytes = 0;
  // Real connections are numbered from 1000001 so they never share a
  // session id with the world's simulated connections on the same trace.
  uint64_t next_session = 1000000;
  SimTime sim_timer_at = SimTime::max();  // when sim_timer is armed for
  agents::MailServer* world_server = nullptr;
  uint64_t world_deliveries = 0;
  bool bound = false;
  bool flush_posted = false;
  bool stopping = false;
  ServeStats stats;
};

struct Server::Impl::Conn {
  Conn(Impl& s, tcp::socket sk, smtp::SessionInfo info)
      : sock(std::move(sk)), timer(s.io), session(s.cfg, s.policy, std::move(info)) {
    session.set_record_received(true);  // a real client has no machine recording what it sends
  }
  tcp::socket sock;
  asio::steady_timer timer;
  smtp::ServerSession session;
  std::array<char, kReadBuffer> rbuf{};
  std::string pending;   // reply bytes not yet handed to the socket
  std::string inflight;  // bytes of the async_write in progress
  uint64_t cause = 0;    // this session's last trace record (ambient cause)
  SimTime partial_since = SimTime::max();  // first byte of an unfinished command line
  bool reading = false;
  bool writing = false;
  bool close_after_flush = false;
  bool draining = false;  // our FIN is out; reading until the peer's
  bool finished = false;
};

struct Server::Impl::OutConn {
  OutConn(Impl& s, std::vector<RelayJob> j, smtp::SessionInfo info, std::vector<smtp::Transaction> txns,
          smtp::ClientConfig ccfg)
      : sock(s.io), timer(s.io), jobs(std::move(j)), session(std::move(ccfg), std::move(info), std::move(txns)) {
    session.set_record_received(true);  // the real server's replies have no machine to record them
  }
  tcp::socket sock;
  asio::steady_timer timer;
  std::vector<RelayJob> jobs;
  smtp::ClientSession session;
  std::array<char, kReadBuffer> rbuf{};
  std::string pending;
  std::string inflight;
  uint64_t cause = 0;
  uint64_t id = 0;
  bool connected = false;
  bool reading = false;
  bool writing = false;
  bool close_after_flush = false;
  bool finished = false;
};


Server::Impl::Impl(const Scenario& sc, ServeOptions o, std::ostream& l, std::ostream& e)
    : scenario(sc),
      opt(std::move(o)),
      log(l),
      err(e),
      host(scenario.find_host(opt.host)),
      policy(scenario, *host, RecipientPolicyOptions{opt.catch_all, opt.relay_to.has_value()}) {
  cfg = bridge_server_config(smtp::server_config_from(host->smtp, host->name), opt);
  cfg.faults = &faults;
  trace.set_store(false);  // records stream to sinks; memory stays flat however long it runs
  trace.attach(engine);
  trace.add_sink([this](const Record& r) { on_record(r); });
  if (opt.catch_all)
    for (Host& h : scenario.hosts)
      if (h.name == opt.host) h.catch_all = true;
  if (!opt.quiet) {
    if (opt.all_layers) topt.layer_mask = ~0u;
    trace.add_sink([this](const Record& r) {
      const std::string s = to_transcript(r, topt);
      if (s.empty()) return;
      log << s;
      // One flush per turn of the event loop, not one write per record.
      if (!flush_posted) {
        flush_posted = true;
        asio::post(io, [this] {
          flush_posted = false;
          log.flush();
        });
      }
    });
  }
  policy.set_relay([this](const std::string& qid, const smtp::Envelope& env, std::string_view content) {
    return enqueue_relay(qid, env, content);
  });
}

void Server::Impl::note(std::string text) {
  Record r;
  r.kind = Kind::note;
  r.src = host->name;
  r.text = std::move(text);
  trace.emit(std::move(r));
}

SimTime Server::Impl::advance(SimTime at_least) {
  SimTime t = pacer.sim_now();
  if (t < at_least) t = at_least;
  if (t < engine.now()) t = engine.now();
  engine.run_until(t);
  return engine.now();
}

// Keeps one timer armed for the engine's next event. Called after anything
// that may have scheduled an earlier event (a message queued by a session).
void Server::Impl::arm_sim_timer() {
  auto next = engine.next_time();
  if (!next || stopping) return;
  if (*next >= sim_timer_at) return;  // already armed early enough
  sim_timer_at = *next;
  sim_timer.expires_at(pacer.wall_at(*next));
  sim_timer.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    sim_timer_at = SimTime::max();
    engine.set_cause(0);
    advance();
    arm_sim_timer();
  });
}

// World mode: the simulated server delivers on its own schedule; a Maildir
// file is written the moment the trace says a message reached a mailbox.
void Server::Impl::on_record(const Record& r) {
  if (r.kind != Kind::message_delivered || r.src != host->name) return;
  ++world_deliveries;
  if (!maildir || r.wire.empty()) return;
  std::string why;
  const std::string mailbox(r.attr("mailbox"));
  if (maildir->deliver_prepared(mailbox.empty() ? std::string(r.attr("rcpt")) : mailbox, r.wire, &why).empty())
    err << "smtplab serve: Maildir delivery failed: " << why << "\n";
}

// ---------------------------------------------------------------- inbound

void Server::Impl::accept_next() {
  if (stopping) return;
  acceptor.async_accept([this](const asio::error_code& ec, tcp::socket sock) { on_accept(ec, std::move(sock)); });
}

void Server::Impl::on_accept(const asio::error_code& ec, tcp::socket sock) {
  if (stopping) return;
  if (ec) {
    if (ec == asio::error::operation_aborted) return;
    // EMFILE and friends: back off briefly instead of spinning.
    err << "smtplab serve: accept failed: " << ec.message() << "\n";
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](const asio::error_code& e) {
      if (!e) accept_next();
    });
    return;
  }
  accept_next();
  if (conns.size() >= opt.max_connections) {
    refuse_busy(std::move(sock));
    return;
  }
  asio::error_code ignored;
  sock.set_option(tcp::no_delay(true), ignored);
  const auto peer = sock.remote_endpoint(ignored);
  smtp::SessionInfo info;
  info.local_host = host->name;
  info.peer_address = peer.address().to_string();
  info.peer_host = peer.address().is_v6() ? "[" + info.peer_address + "]:" + std::to_string(peer.port())
                                          : info.peer_address + ":" + std::to_string(peer.port());
  info.session_id = ++next_session;
  ++stats.connections;
  auto c = std::make_shared<Conn>(*this, std::move(sock), info);
  conns.emplace(info.session_id, c);
  {
    advance();
    engine.set_cause(0);
    Record r;
    r.kind = Kind::tcp_established;
    r.src = info.peer_host;
    r.dst = host->name;
    r.session = info.session_id;
    r.text = "real TCP connection from " + info.peer_host + " (" + std::to_string(conns.size()) + " open)";
    r.with("port", std::to_string(opt.listen.port)).with("conn", std::to_string(info.session_id));
    trace.emit(std::move(r));
    c->cause = engine.cause();
  }
  drive(c, [&](SimTime now) { c->session.start(now); });
}

void Server::Impl::refuse_busy(tcp::socket sock) {
  ++stats.refused_connections;
  advance();
  engine.set_cause(0);
  auto s = std::make_shared<tcp::socket>(std::move(sock));
  auto msg = std::make_shared<std::string>("421 4.7.0 " + host->name +
                                           " too many connections, try again later\r\n");
  Record r;
  r.kind = Kind::smtp_error;
  r.src = host->name;
  r.text = "connection refused: " + std::to_string(opt.max_connections) + " sessions already open (421 4.7.0)";
  trace.emit(std::move(r));
  asio::async_write(*s, asio::buffer(*msg), [s, msg](const asio::error_code&, size_t) {
    asio::error_code ignored;
    s->shutdown(tcp::socket::shutdown_send, ignored);
    s->close(ignored);
  });
}

template <class F>
void Server::Impl::drive(const std::shared_ptr<Conn>& c, F&& input) {
  if (c->finished) return;
  const SimTime now = advance();
  engine.set_cause(c->cause);
  policy.set_output(&c->session.output(), c->session.session_id());
  input(now);
  policy.set_output(nullptr);
  flush(c);
  arm_sim_timer();
}

void Server::Impl::flush(const std::shared_ptr<Conn>& c) {
  smtp::Output& o = c->session.output();
  for (Record& r : o.records) trace.emit(std::move(r));
  c->cause = engine.cause();
  c->pending += o.bytes;
  bool close = o.closed;
  for (const smtp::Effect& e : o.effects) {
    switch (e.kind) {
      case smtp::EffectKind::close: close = true; break;
      case smtp::EffectKind::message_accepted: ++stats.messages_accepted; break;
      case smtp::EffectKind::tls_started:
        // Cannot happen (STARTTLS is not offered on real sockets); if it did,
        // the peer would expect real TLS: end the session instead of lying.
        close = true;
        break;
      case smtp::EffectKind::transaction_done: break;
    }
  }
  o.clear();
  if (close) c->close_after_flush = true;
  start_write(c);
  if (c->close_after_flush && !c->writing) begin_close(c);
  start_read(c);
  arm_timer(c);
}

void Server::Impl::start_read(const std::shared_ptr<Conn>& c) {
  if (c->reading || c->finished) return;
  if (!c->draining && (c->close_after_flush || c->session.closed())) return;
  if (!may_read_more(c->pending.size() + c->inflight.size())) return;  // back-pressure
  c->reading = true;
  c->sock.async_read_some(asio::buffer(c->rbuf), [this, c](const asio::error_code& ec, size_t n) {
    c->reading = false;
    if (c->finished) return;
    if (c->draining) {
      if (ec)
        finish(c);
      else
        start_read(c);  // discard what arrives after our 421/221
      return;
    }
    if (ec) {
      drive(c, [&](SimTime now) { c->session.peer_closed(now); });
      finish(c);
      return;
    }
    drive(c, [&](SimTime now) {
      const std::string_view bytes(c->rbuf.data(), n);
      if (c->session.state() == smtp::ServerState::data) {
        c->partial_since = SimTime::max();
      } else {
        const size_t lf = bytes.rfind('\n');
        if (lf == std::string_view::npos) {
          if (c->partial_since == SimTime::max()) c->partial_since = now;
        } else {
          c->partial_since = lf + 1 < bytes.size() ? now : SimTime::max();
        }
      }
      c->session.receive(now, bytes);
      if (c->session.state() == smtp::ServerState::data) c->partial_since = SimTime::max();
    });
  });
}

void Server::Impl::start_write(const std::shared_ptr<Conn>& c) {
  if (c->writing || c->pending.empty() || c->finished) return;
  c->inflight.swap(c->pending);
  c->pending.clear();
  c->writing = true;
  asio::async_write(c->sock, asio::buffer(c->inflight), [this, c](const asio::error_code& ec, size_t) {
    c->writing = false;
    c->inflight.clear();
    if (c->finished) return;
    if (ec) {
      drive(c, [&](SimTime now) { c->session.peer_closed(now); });
      finish(c);
      return;
    }
    if (!c->pending.empty()) {
      start_write(c);
    } else if (c->close_after_flush) {
      begin_close(c);
    }
    start_read(c);
  });
}

// Two deadlines per connection: the session's own (RFC 5321 4.5.3.2, reset
// by every byte it receives) and the bridge's slow-command limit: a command
// line must be complete within the command timeout of its first byte, so a
// peer that sends one byte per second (slowloris) cannot hold a session slot
// forever. DATA is exempt (4.5.3.2.6 times each data block, not the whole).
void Server::Impl::arm_timer(const std::shared_ptr<Conn>& c) {
  if (c->finished || c->draining) return;
  const SimTime sd = c->session.deadline();
  const SimTime pd = c->partial_since == SimTime::max() ? SimTime::max() : c->partial_since + cfg.timeouts.command;
  const SimTime d = std::min(sd, pd);
  if (d == SimTime::max() || c->session.closed()) {
    c->timer.cancel();
    return;
  }
  c->timer.expires_at(pacer.wall_at(d));
  c->timer.async_wait([this, c](const asio::error_code& ec) {
    if (ec || c->finished || c->draining || c->session.closed()) return;
    const SimTime due = c->session.deadline();
    const SimTime pdue =
        c->partial_since == SimTime::max() ? SimTime::max() : c->partial_since + cfg.timeouts.command;
    const SimTime now = pacer.sim_now() + msec(1);
    if (due != SimTime::max() && now >= due) {
      advance(due);
      drive(c, [&](SimTime t) { c->session.on_timer(t); });
    } else if (pdue != SimTime::max() && now >= pdue) {
      advance(pdue);
      drive(c, [&](SimTime t) {
        Record r;
        r.kind = Kind::smtp_error;
        r.src = host->name;
        r.dst = c->session.peer_host();
        r.session = c->session.session_id();
        r.text = "a command line took longer than " + format_duration(cfg.timeouts.command) +
                 " to arrive (one byte at a time?): closing";
        c->session.output().records.push_back(std::move(r));
        c->partial_since = SimTime::max();
        c->session.shutdown(t);  // 421 and close
      });
    } else {
      arm_timer(c);  // re-armed meanwhile
    }
  });
}

void Server::Impl::begin_close(const std::shared_ptr<Conn>& c) {
  if (c->draining || c->finished) return;
  c->draining = true;
  asio::error_code ignored;
  // Half-close and read until the peer's FIN: closing with unread input
  // would send an RST, which may destroy our 421/221 in the peer's buffer.
  c->sock.shutdown(tcp::socket::shutdown_send, ignored);
  c->timer.expires_after(kDrainGrace);
  c->timer.async_wait([this, c](const asio::error_code& ec) {
    if (!ec) finish(c);
  });
  start_read(c);
}

void Server::Impl::finish(const std::shared_ptr<Conn>& c) {
  if (c->finished) return;
  c->finished = true;
  asio::error_code ignored;
  c->timer.cancel();
  c->sock.close(ignored);
  advance();
  engine.set_cause(c->cause);
  Record r;
  r.kind = Kind::tcp_closed;
  r.src = c->session.peer_host();
  r.dst = host->name;
  r.session = c->session.session_id();
  r.text = "real TCP connection closed";
  trace.emit(std::move(r));
  conns.erase(c->session.session_id());
  check_done();
}

// ---------------------------------------------------------------- outbound

bool Server::Impl::enqueue_relay(const std::string& qid, const smtp::Envelope& env, std::string_view content) {
  if (!opt.relay_to || stopping) return false;
  if (relay_queue.size() >= kMaxRelayJobs || relay_bytes + content.size() > kMaxRelayBytes) return false;
  RelayJob j;
  j.qid = qid;
  j.env = env;
  j.content = std::string(content);
  j.next_try = Clock::now();
  relay_bytes += j.content.size();
  relay_queue.push_back(std::move(j));
  // Start after the current session's output is flushed (the 250 first).
  asio::post(io, [this] { pump_relay(); });
  return true;
}

void Server::Impl::pump_relay() {
  if (stopping) return;
  const auto now = Clock::now();
  while (outs.size() < kMaxOutbound) {
    std::vector<RelayJob> batch;
    for (auto it = relay_queue.begin(); it != relay_queue.end() && batch.size() < kJobsPerConnection;) {
      if (it->next_try <= now) {
        relay_bytes -= it->content.size();
        batch.push_back(std::move(*it));
        it = relay_queue.erase(it);
      } else {
        ++it;
      }
    }
    if (batch.empty()) break;
    start_outbound(std::move(batch));
  }
  arm_relay_timer();
}

void Server::Impl::arm_relay_timer() {
  if (relay_queue.empty() || stopping) return;
  auto earliest = relay_queue.front().next_try;
  for (const RelayJob& j : relay_queue) earliest = std::min(earliest, j.next_try);
  relay_timer.expires_at(earliest);
  relay_timer.async_wait([this](const asio::error_code& ec) {
    if (!ec) pump_relay();
  });
}

void Server::Impl::start_outbound(std::vector<RelayJob> jobs) {
  smtp::SessionInfo info;
  info.local_host = host->name;
  info.peer_host = opt.relay_to->to_string();
  info.peer_address = opt.relay_to->address;
  info.session_id = ++next_session;
  smtp::ClientConfig ccfg;
  ccfg.helo_name = host->name;
  ccfg.use_starttls = false;  // no real TLS on the bridge
  ccfg.use_auth = false;
  std::vector<smtp::Transaction> txns;
  for (const RelayJob& j : jobs) txns.push_back(smtp::Transaction{j.env, j.content});
  for (RelayJob& j : jobs) ++j.attempts;
  auto c = std::make_shared<OutConn>(*this, std::move(jobs), info, std::move(txns), std::move(ccfg));
  c->id = info.session_id;
  outs.emplace(c->id, c);
  advance();
  engine.set_cause(0);
  Record r;
  r.kind = Kind::tcp_connect;
  r.src = host->name;
  r.dst = info.peer_host;
  r.session = c->id;
  r.text = "relaying " + std::to_string(c->jobs.size()) + " message(s) over a real connection to " + info.peer_host;
  trace.emit(std::move(r));
  c->cause = engine.cause();
  asio::error_code ec;
  const auto addr = asio::ip::make_address(opt.relay_to->address, ec);
  const tcp::endpoint ep(addr, opt.relay_to->port);
  c->timer.expires_after(kConnectTimeout);
  c->timer.async_wait([c](const asio::error_code& e) {
    if (!e && !c->connected) {
      asio::error_code ignored;
      c->sock.close(ignored);  // the connect handler sees operation_aborted
    }
  });
  c->sock.async_connect(ep, [this, c](const asio::error_code& e) {
    if (c->finished) return;
    c->timer.cancel();
    if (e) {
      const std::string why = e == asio::error::operation_aborted ? std::string("connect timed out") : e.message();
      drive_out(c, [&](SimTime now) { c->session.connection_lost(now, "connect to relay failed: " + why); });
      out_finish(c);
      return;
    }
    c->connected = true;
    asio::error_code ignored;
    c->sock.set_option(tcp::no_delay(true), ignored);
    drive_out(c, [&](SimTime now) { c->session.start(now); });
  });
}

template <class F>
void Server::Impl::drive_out(const std::shared_ptr<OutConn>& c, F&& input) {
  if (c->finished) return;
  const SimTime now = advance();
  engine.set_cause(c->cause);
  input(now);
  smtp::Output& o = c->session.output();
  for (Record& r : o.records) trace.emit(std::move(r));
  c->cause = engine.cause();
  c->pending += o.bytes;
  bool close = o.closed;
  for (const smtp::Effect& e : o.effects)
    if (e.kind == smtp::EffectKind::close) close = true;
  o.clear();
  if (close || c->session.done()) c->close_after_flush = true;
  if (!c->connected) return;
  out_write(c);
  if (c->close_after_flush && !c->writing) {
    out_finish(c);
    return;
  }
  out_read(c);
  out_arm_timer(c);
}

void Server::Impl::out_read(const std::shared_ptr<OutConn>& c) {
  if (c->reading || c->finished || c->close_after_flush) return;
  c->reading = true;
  c->sock.async_read_some(asio::buffer(c->rbuf), [this, c](const asio::error_code& ec, size_t n) {
    c->reading = false;
    if (c->finished) return;
    if (ec) {
      drive_out(c, [&](SimTime now) { c->session.connection_lost(now, "connection lost: " + ec.message()); });
      out_finish(c);
      return;
    }
    drive_out(c, [&](SimTime now) { c->session.receive(now, std::string_view(c->rbuf.data(), n)); });
  });
}

void Server::Impl::out_write(const std::shared_ptr<OutConn>& c) {
  if (c->writing || c->pending.empty() || c->finished) return;
  c->inflight.swap(c->pending);
  c->pending.clear();
  c->writing = true;
  asio::async_write(c->sock, asio::buffer(c->inflight), [this, c](const asio::error_code& ec, size_t) {
    c->writing = false;
    c->inflight.clear();
    if (c->finished) return;
    if (ec) {
      drive_out(c, [&](SimTime now) { c->session.connection_lost(now, "connection lost: " + ec.message()); });
      out_finish(c);
      return;
    }
    if (!c->pending.empty())
      out_write(c);
    else if (c->close_after_flush)
      out_finish(c);
  });
}

void Server::Impl::out_arm_timer(const std::shared_ptr<OutConn>& c) {
  if (c->finished) return;
  const SimTime d = c->session.deadline();
  if (d == SimTime::max()) {
    c->timer.cancel();
    return;
  }
  c->timer.expires_at(pacer.wall_at(d));
  c->timer.async_wait([this, c](const asio::error_code& ec) {
    if (ec || c->finished) return;
    const SimTime due = c->session.deadline();
    if (due == SimTime::max()) return;
    if (pacer.sim_now() + msec(1) < due) {
      out_arm_timer(c);
      return;
    }
    advance(due);
    drive_out(c, [&](SimTime now) { c->session.on_timer(now); });
    if (c->session.done() && !c->writing) out_finish(c);
  });
}

void Server::Impl::out_finish(const std::shared_ptr<OutConn>& c) {
  if (c->finished) return;
  c->finished = true;
  asio::error_code ignored;
  c->timer.cancel();
  if (c->connected) c->sock.shutdown(tcp::socket::shutdown_both, ignored);
  c->sock.close(ignored);
  if (!c->session.done()) {
    // The machine still waits for something: the connection is gone.
    const SimTime now = advance();
    engine.set_cause(c->cause);
    c->session.connection_lost(now, "connection closed");
    smtp::Output& o = c->session.output();
    for (Record& r : o.records) trace.emit(std::move(r));
    o.clear();
    c->cause = engine.cause();
  }
  advance();
  engine.set_cause(c->cause);
  const auto& results = c->session.results();
  for (size_t i = 0; i < c->jobs.size(); ++i) {
    RelayJob& job = c->jobs[i];
    smtp::Envelope retry_env = job.env;
    retry_env.recipients.clear();
    for (size_t k = 0; k < job.env.recipients.size(); ++k) {
      const smtp::Recipient& rc = job.env.recipients[k];
      smtp::RcptStatus st = smtp::RcptStatus::transient;
      std::string why = "no result";
      if (i < results.size() && k < results[i].recipients.size()) {
        st = results[i].recipients[k].status;
        why = results[i].recipients[k].reply.summary();
      }
      Record r;
      r.src = host->name;
      r.dst = opt.relay_to->to_string();
      r.with("msgid", job.qid).with("rcpt", rc.address).with("attempt", std::to_string(job.attempts));
      if (st == smtp::RcptStatus::delivered) {
        ++stats.relayed_ok;
        r.kind = Kind::message_relayed;
        r.text = job.qid + ": relayed to <" + rc.address + "> via " + r.dst + ": " + why;
      } else if (st == smtp::RcptStatus::permanent || job.attempts >= kRelayAttempts || stopping) {
        ++stats.relay_failed;
        r.kind = Kind::message_bounced;
        r.text = job.qid + ": <" + rc.address + "> failed" +
                 (st == smtp::RcptStatus::permanent ? " permanently: " : " after " + std::to_string(job.attempts) +
                                                                             " attempt(s): ") +
                 why + " (the bridge sends no DSN to an outside sender)";
        r.with("error", why);
      } else {
        r.kind = Kind::message_deferred;
        r.text = job.qid + ": <" + rc.address + "> deferred: " + why;
        r.with("error", why);
        retry_env.recipients.push_back(rc);
      }
      trace.emit(std::move(r));
    }
    if (!retry_env.recipients.empty()) {
      const auto delay = std::chrono::seconds(5 * job.attempts);
      Record r;
      r.kind = Kind::retry_scheduled;
      r.src = host->name;
      r.text = job.qid + ": next relay attempt in " + std::to_string(delay.count()) + " s";
      r.with("msgid", job.qid).with("next", std::to_string(delay.count()) + "s");
      trace.emit(std::move(r));
      job.env = std::move(retry_env);
      job.next_try = Clock::now() + delay;
      relay_bytes += job.content.size();
      relay_queue.push_back(std::move(job));
    }
  }
  outs.erase(c->id);
  asio::post(io, [this] { pump_relay(); });
  check_done();
}


// ---------------------------------------------------------------- lifetime

void Server::Impl::begin_shutdown(const std::string& why) {
  if (stopping) return;
  stopping = true;
  asio::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  stop_timer.cancel();
  sim_timer.cancel();
  relay_timer.cancel();
  accept_retry.cancel();
  advance();
  engine.set_cause(0);
  note("shutting down (" + why + "): " + std::to_string(conns.size()) + " open session(s) get 421");
  // RFC 5321 3.8: a server that must shut down answers 421 to the client.
  std::vector<std::shared_ptr<Conn>> open;
  for (auto& [id, c] : conns) open.push_back(c);
  for (auto& c : open)
    if (!c->session.closed()) drive(c, [&](SimTime now) { c->session.shutdown(now); });
  if (!relay_queue.empty()) {
    note(std::to_string(relay_queue.size()) + " message(s) still queued for relay are dropped at shutdown");
    relay_queue.clear();
    relay_bytes = 0;
  }
  grace_timer.expires_after(kShutdownGrace);
  grace_timer.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    std::vector<std::shared_ptr<Conn>> left;
    for (auto& [id, c] : conns) left.push_back(c);
    for (auto& c : left) finish(c);
    std::vector<std::shared_ptr<OutConn>> lo;
    for (auto& [id, c] : outs) lo.push_back(c);
    for (auto& c : lo) out_finish(c);
    io.stop();
  });
  check_done();
}

void Server::Impl::check_done() {
  if (stopping && conns.empty() && outs.empty()) {
    grace_timer.cancel();
    io.stop();
  }
}

// ---------------------------------------------------------------- Server

Server::Server(const Scenario& scenario, ServeOptions options, std::ostream& log, std::ostream& err)
    : impl_(std::make_unique<Impl>(scenario, std::move(options), log, err)) {}

Server::~Server() = default;

bool Server::bind(std::string* error) {
  Impl& s = *impl_;
  // Each session is one descriptor: raise the soft limit toward the hard one
  // so max_connections is reachable (a default soft limit is often 1024).
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    const rlim_t want = static_cast<rlim_t>(s.opt.max_connections) * 2 + 64;
    if (rl.rlim_cur < want) {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  asio::error_code ec;
  const auto addr = asio::ip::make_address(s.opt.listen.address, ec);
  if (ec) {
    if (error) *error = "--listen " + s.opt.listen.to_string() + ": " + ec.message();
    return false;
  }
  const tcp::endpoint ep(addr, s.opt.listen.port);
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    if (error) {
      if (ec == asio::error::address_in_use)
        *error = "cannot listen on " + s.opt.listen.to_string() + ": the port is already in use";
      else if (ec == asio::error::access_denied)
        *error = "cannot listen on " + s.opt.listen.to_string() + ": permission denied (ports below 1024 need root)";
      else
        *error = "cannot listen on " + s.opt.listen.to_string() + ": " + ec.message();
    }
    return false;
  }
  if (!s.opt.maildir.empty()) {
    s.maildir = std::make_unique<MaildirWriter>(s.opt.maildir, s.host->name, s.opt.maildir_sync);
    std::string why;
    if (!s.maildir->prepare(&why)) {
      if (error) *error = "--maildir: " + why;
      return false;
    }
    s.policy.set_maildir(s.maildir.get());
  }
  if (!s.opt.jsonl.empty()) {
    s.jsonl.open(s.opt.jsonl, std::ios::binary | std::ios::trunc);
    if (!s.jsonl) {
      if (error) *error = "--jsonl: cannot write " + s.opt.jsonl;
      return false;
    }
    s.trace.add_sink([&s](const Record& r) { s.jsonl << to_jsonl(r) << '\n'; });
  }
  s.bound = true;
  return true;
}

Endpoint Server::local_endpoint() const {
  Endpoint e = impl_->opt.listen;
  asio::error_code ec;
  const auto ep = impl_->acceptor.local_endpoint(ec);
  if (!ec) e.port = ep.port();
  return e;
}

int Server::run() {
  Impl& s = *impl_;
  if (!s.bound) return 1;
  s.world = std::make_unique<World>(s.scenario, s.engine, s.trace);
  s.world->start();
  s.world_server = s.world->mail_server(s.host->name);
  if (s.world_server) {
    // Real sessions talk to the simulated server itself: its config, its
    // policy (mailboxes, queue, relaying through the simulated network) and
    // its fault hooks, which the world switches on and off.
    s.cfg = bridge_server_config(s.world_server->mx_config(), s.opt);
    s.policy.set_inner(s.world_server);
    s.policy.set_maildir(nullptr);  // the world delivers; on_record writes the files
  }
  // Standalone (no simulated server for this host): scenario faults aimed
  // at its SMTP switch on and off at their simulated times here.
  for (const Fault& f : s.scenario.faults) {
    if (s.world_server) break;
    if (!f.enabled || f.host != s.host->name) continue;
    std::string why;
    auto sf = smtp::ServerFaults::from_scenario(f, &why);
    if (!sf) continue;
    auto handle = std::make_shared<uint64_t>(0);
    s.engine.at(f.at, [&s, fault = *sf, handle] { *handle = s.faults.add(fault); });
    if (f.until) s.engine.at(*f.until, [&s, handle] { s.faults.remove(*handle); });
  }
  s.pacer = RealTimePacer(1.0, s.engine.now());
  const Endpoint ep = local_endpoint();
  s.note("listening on " + ep.to_string() + " as " + s.host->name + " (real TCP; Ctrl-C ends)");
  s.signals.add(SIGINT);
  s.signals.add(SIGTERM);
  s.signals.async_wait([&s](const asio::error_code& ec, int sig) {
    if (!ec) s.begin_shutdown(sig == SIGINT ? "SIGINT" : "SIGTERM");
  });
  if (s.opt.duration_seconds) {
    s.stop_timer.expires_after(std::chrono::microseconds(static_cast<int64_t>(*s.opt.duration_seconds * 1e6)));
    s.stop_timer.async_wait([&s](const asio::error_code& ec) {
      if (!ec) s.begin_shutdown("--duration reached");
    });
  }
  s.accept_next();
  s.arm_sim_timer();
  s.io.run();
  s.log.flush();
  s.advance();
  s.engine.set_cause(0);
  s.world->finish();
  s.stats.deliveries = s.world_server ? s.world_deliveries : s.policy.delivered();
  s.err << "smtplab serve: " << s.stats.connections << " connection(s), " << s.stats.messages_accepted
        << " message(s) accepted, " << s.stats.deliveries << " local deliver" << (s.stats.deliveries == 1 ? "y" : "ies");
  if (s.opt.relay_to) s.err << ", " << s.stats.relayed_ok << " relayed, " << s.stats.relay_failed << " relay failure(s)";
  if (s.stats.refused_connections) s.err << ", " << s.stats.refused_connections << " refused (too many connections)";
  s.err << "\n";
  s.log.flush();
  if (s.jsonl.is_open()) s.jsonl.flush();
  return 0;
}

void Server::stop() {
  asio::post(impl_->io, [this] { impl_->begin_shutdown("stop requested"); });
}

ServeStats Server::stats() const { return impl_->stats; }

}  // namespace smtplab::bridge
