// sim/agents/drivers.hpp: run sans-IO protocol sessions over the TCP model.
//
// A driver is the glue between one TCP connection (sim/net) and one sans-IO
// machine (sim/smtp, sim/pop3, sim/imap). It feeds the connection's bytes in,
// sends the machine's bytes out, emits the machine's trace records, acts on
// its effects (close, TLS, accepted message, finished transaction) and keeps
// one engine timer armed at the machine's deadline. It holds no protocol
// knowledge of its own.
//
// Lifetime: drivers are heap objects registered in a ConnRegistry. When the
// connection is over (on_closed), the driver retires itself: the registry
// deletes it in a later engine event, never inside a network callback, so
// no frame on the stack can point to freed memory. Whatever is still alive
// at the end of the run is deleted by the registry's destructor.
//
// Must never: interpret protocol bytes, read a clock, or draw randomness.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "sim/engine/engine.hpp"
#include "sim/mail/session_output.hpp"
#include "sim/net/network.hpp"
#include "sim/smtp/client.hpp"
#include "sim/smtp/server.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents {

class ConnRegistry;

// Base of every driver: a TCP handler with a timer and a retirement path.
class Driver : public TcpHandler {
 public:
  Driver(ConnRegistry& registry);
  ~Driver() override;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  TcpConn conn() const { return conn_; }
  void set_conn(TcpConn c) { conn_ = c; }

 protected:
  Engine& engine();
  Trace& trace();
  // Keeps exactly one timer armed at `deadline` (SimTime::max() = none).
  void arm(SimTime deadline);
  virtual void on_timer() = 0;
  // The connection is finished for us: delete this driver soon.
  void retire();
  bool retired() const { return retired_; }

  ConnRegistry& registry_;
  TcpConn conn_;

 private:
  static void timer_thunk(void* ctx, uint64_t gen);
  EventId timer_{};
  SimTime timer_at_ = SimTime::max();
  uint64_t timer_gen_ = 0;
  bool retired_ = false;
};

// Owns drivers; deletes retired ones from an engine event.
class ConnRegistry {
 public:
  ConnRegistry(Engine& engine, Trace& trace) : engine_(engine), trace_(trace) {}
  ~ConnRegistry();
  ConnRegistry(const ConnRegistry&) = delete;
  ConnRegistry& operator=(const ConnRegistry&) = delete;

  template <class D, class... Args>
  D* make(Args&&... args) {
    D* d = new D(*this, std::forward<Args>(args)...);
    live_.insert(d);
    return d;
  }
  void retire(Driver* d);
  size_t live() const { return live_.size(); }
  Engine& engine() { return engine_; }
  Trace& trace() { return trace_; }

 private:
  static void reap(void* ctx, uint64_t);
  Engine& engine_;
  Trace& trace_;
  std::unordered_set<Driver*> live_;
  std::vector<Driver*> dead_;
  bool reap_pending_ = false;
};

class SmtpServerDriver;
// Lets a host's policy emit the session's pending records before its own
// (so "message-queued" follows the data it queues, not the other way round).
struct FlushSlot {
  SmtpServerDriver* active = nullptr;
};

// ---- SMTP server side: one ServerSession per accepted connection.
class SmtpServerDriver final : public Driver {
 public:
  // `config` and `policy` belong to the host and outlive the driver.
  SmtpServerDriver(ConnRegistry& r, const smtp::ServerConfig& config, smtp::ServerPolicy& policy,
                   smtp::SessionInfo info);
  void on_connected(TcpConn c) override;
  void on_data(TcpConn c, std::string_view bytes) override;
  void on_peer_closed(TcpConn c) override;
  void on_closed(TcpConn c, CloseReason why) override;
  // The host shuts down (421 to the client, RFC 5321 3.8).
  void shutdown();
  void set_flush_slot(FlushSlot* slot) { slot_ = slot; }
  // Emits the records the session has produced so far.
  void flush_records();

 private:
  FlushSlot* slot_ = nullptr;
  void on_timer() override;
  void pump();
  smtp::ServerSession session_;
};

// ---- SMTP client side: connects, runs the transactions, reports once.
class SmtpClientDriver final : public Driver {
 public:
  // `connected`: whether TCP ever reached ESTABLISHED; `why`: close reason
  // when the connection failed before the session finished.
  using Done = std::function<void(const smtp::ClientSession& session, bool connected, CloseReason why)>;
  SmtpClientDriver(ConnRegistry& r, smtp::ClientConfig config, smtp::SessionInfo info,
                   std::vector<smtp::Transaction> txns, Done done);
  void on_connected(TcpConn c) override;
  void on_data(TcpConn c, std::string_view bytes) override;
  void on_peer_closed(TcpConn c) override;
  void on_closed(TcpConn c, CloseReason why) override;

 private:
  void on_timer() override;
  void pump();
  void finish(CloseReason why);
  smtp::ClientSession session_;
  Done done_;
  bool connected_ = false;
  bool reported_ = false;
};

// ---- POP3 / IMAP: the machines share mail::SessionOutput, so one template
// drives both, on either side. `Machine` has start/receive/on_timeout/on_close.
template <class Machine>
class MailAccessDriver final : public Driver {
 public:
  using Done = std::function<void(Machine& machine, bool connected)>;
  using Fetched = std::function<void(const mail::FetchedMessage& m)>;
  MailAccessDriver(ConnRegistry& r, std::unique_ptr<Machine> machine, std::string local, std::string peer,
                   Done done = {}, Fetched fetched = {})
      : Driver(r), m_(std::move(machine)), local_(std::move(local)), peer_(std::move(peer)), done_(std::move(done)),
        fetched_(std::move(fetched)) {}

  void on_connected(TcpConn c) override {
    conn_ = c;
    connected_ = true;
    handle(m_->start(engine().now()));
  }
  void on_data(TcpConn, std::string_view bytes) override { handle(m_->receive(engine().now(), bytes)); }
  void on_peer_closed(TcpConn c) override {
    handle(m_->on_close(engine().now()));
    c.close();
  }
  void on_closed(TcpConn, CloseReason) override {
    if (!closed_) {
      closed_ = true;
      (void)m_->on_close(engine().now());
    }
    report();
    arm(SimTime::max());
    retire();
  }

 private:
  void on_timer() override { handle(m_->on_timeout(engine().now())); }
  void handle(mail::SessionOutput out) {
    for (Record& r : out.records) {
      r.src = r.src.empty() ? local_ : r.src;
      r.dst = r.dst.empty() ? peer_ : r.dst;
      r.session = conn_.serial();
      trace().emit(std::move(r));
    }
    for (const mail::FetchedMessage& f : out.fetched)
      if (fetched_) fetched_(f);
    if (!out.send.empty() && conn_.valid()) conn_.send(out.send);
    if (out.close && !closed_) {
      closed_ = true;
      arm(SimTime::max());
      report();
      if (conn_.valid()) conn_.close();
      return;
    }
    arm(out.deadline ? *out.deadline : SimTime::max());
  }
  void report() {
    if (reported_) return;
    reported_ = true;
    if (done_) done_(*m_, connected_);
  }
  std::unique_ptr<Machine> m_;
  std::string local_, peer_;
  Done done_;
  Fetched fetched_;
  bool connected_ = false;
  bool closed_ = false;
  bool reported_ = false;
};

// Emits the records of an smtp::Output and clears them (shared by both SMTP drivers).
void emit_records(Trace& trace, smtp::Output& out);

}  // namespace smtplab::agents
