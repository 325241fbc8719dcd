// sim/agents/drivers.cpp: sans-IO sessions over TCP connections.
#include "sim/agents/drivers.hpp"

namespace smtplab::agents {

// ---- Driver

Driver::Driver(ConnRegistry& registry) : registry_(registry) {}

Driver::~Driver() {
  if (timer_.valid()) registry_.engine().cancel(timer_);
}

Engine& Driver::engine() { return registry_.engine(); }
Trace& Driver::trace() { return registry_.trace(); }

void Driver::timer_thunk(void* ctx, uint64_t gen) {
  Driver* d = static_cast<Driver*>(ctx);
  if (gen != d->timer_gen_ || d->retired_) return;
  d->timer_ = EventId{};
  d->timer_at_ = SimTime::max();
  d->on_timer();
}

void Driver::arm(SimTime deadline) {
  if (deadline == timer_at_ && (timer_at_ == SimTime::max() || engine().is_pending(timer_))) return;
  if (timer_.valid()) engine().cancel(timer_);
  timer_ = EventId{};
  timer_at_ = deadline;
  if (deadline == SimTime::max() || retired_) return;
  // A deadline already in the past fires now (the machine asked for it).
  const SimTime at = deadline < engine().now() ? engine().now() : deadline;
  timer_ = engine().schedule_at(at, &Driver::timer_thunk, this, ++timer_gen_);
}

void Driver::retire() {
  if (retired_) return;
  arm(SimTime::max());
  retired_ = true;
  registry_.retire(this);
}

// ---- ConnRegistry

ConnRegistry::~ConnRegistry() {
  for (Driver* d : live_) delete d;
  for (Driver* d : dead_) delete d;
}

void ConnRegistry::retire(Driver* d) {
  if (live_.erase(d) == 0) return;
  dead_.push_back(d);
  if (!reap_pending_) {
    reap_pending_ = true;
    // Later, from the engine loop: never free a handler inside its own callback.
    engine_.schedule_in(SimTime{0}, &ConnRegistry::reap, this);
  }
}

void ConnRegistry::reap(void* ctx, uint64_t) {
  auto* self = static_cast<ConnRegistry*>(ctx);
  self->reap_pending_ = false;
  std::vector<Driver*> dead;
  dead.swap(self->dead_);
  for (Driver* d : dead) delete d;
}

void emit_records(Trace& trace, smtp::Output& out) {
  for (Record& r : out.records) trace.emit(std::move(r));
  out.records.clear();
}

// ---- SmtpServerDriver

SmtpServerDriver::SmtpServerDriver(ConnRegistry& r, const smtp::ServerConfig& config, smtp::ServerPolicy& policy,
                                   smtp::SessionInfo info)
    : Driver(r), session_(config, policy, std::move(info)) {
  session_.set_tracing(r.trace().enabled(Layer::smtp));  // no records built when nobody keeps them
}

void SmtpServerDriver::on_connected(TcpConn c) {
  conn_ = c;
  session_.start(engine().now());
  pump();
}

void SmtpServerDriver::on_data(TcpConn, std::string_view bytes) {
  if (session_.closed()) return;
  if (slot_) slot_->active = this;
  session_.receive(engine().now(), bytes);
  if (slot_) slot_->active = nullptr;
  pump();
}

void SmtpServerDriver::flush_records() { emit_records(trace(), session_.output()); }

void SmtpServerDriver::on_peer_closed(TcpConn c) {
  if (!session_.closed()) {
    session_.peer_closed(engine().now());
    pump();
  }
  c.close();
}

void SmtpServerDriver::on_closed(TcpConn, CloseReason) {
  if (!session_.closed()) {
    session_.peer_closed(engine().now());
    smtp::Output& out = session_.output();
    emit_records(trace(), out);
    out.clear();
  }
  retire();
}

void SmtpServerDriver::shutdown() {
  if (session_.closed()) return;
  session_.shutdown(engine().now());
  pump();
}

void SmtpServerDriver::on_timer() {
  session_.on_timer(engine().now());
  pump();
}

void SmtpServerDriver::pump() {
  smtp::Output& out = session_.output();
  emit_records(trace(), out);
  if (!out.bytes.empty() && conn_.valid()) conn_.send(out.bytes);
  bool close = out.closed;
  for (const smtp::Effect& e : out.effects)
    if (e.kind == smtp::EffectKind::close) close = true;
  out.clear();  // also resets `closed`; `out` is not the session's any more
  if (close) {
    arm(SimTime::max());
    if (conn_.valid()) conn_.close();
    return;
  }
  arm(session_.deadline());
}

// ---- SmtpClientDriver

SmtpClientDriver::SmtpClientDriver(ConnRegistry& r, smtp::ClientConfig config, smtp::SessionInfo info,
                                   std::vector<smtp::Transaction> txns, Done done)
    : Driver(r), session_(std::move(config), std::move(info), std::move(txns)), done_(std::move(done)) {
  session_.set_tracing(r.trace().enabled(Layer::smtp));
}

void SmtpClientDriver::on_connected(TcpConn c) {
  conn_ = c;
  connected_ = true;
  session_.start(engine().now());
  pump();
}

void SmtpClientDriver::on_data(TcpConn, std::string_view bytes) {
  if (reported_) return;
  session_.receive(engine().now(), bytes);
  pump();
}

void SmtpClientDriver::on_peer_closed(TcpConn c) {
  if (!reported_ && !session_.done()) {
    session_.connection_lost(engine().now(), "the server closed the connection");
    pump();
  }
  c.close();
}

void SmtpClientDriver::on_closed(TcpConn, CloseReason why) {
  if (!reported_ && !session_.done() && connected_) {
    session_.connection_lost(engine().now(), close_reason_name(why));
    smtp::Output& out = session_.output();
    emit_records(trace(), out);
    out.clear();
  }
  finish(why);
  retire();
}

void SmtpClientDriver::on_timer() {
  if (reported_) return;
  session_.on_timer(engine().now());
  pump();
}

void SmtpClientDriver::pump() {
  smtp::Output& out = session_.output();
  emit_records(trace(), out);
  if (!out.bytes.empty() && conn_.valid()) conn_.send(out.bytes);
  bool close = out.closed;
  for (const smtp::Effect& e : out.effects)
    if (e.kind == smtp::EffectKind::close) close = true;
  out.clear();  // also resets `closed`; `out` is not the session's any more
  if (close || session_.done()) {
    arm(SimTime::max());
    if (conn_.valid()) conn_.close();
    if (session_.done()) finish(CloseReason::normal);
    return;
  }
  arm(session_.deadline());
}

void SmtpClientDriver::finish(CloseReason why) {
  if (reported_) return;
  reported_ = true;
  arm(SimTime::max());
  if (done_) {
    Done d = std::move(done_);
    done_ = nullptr;
    d(session_, connected_, why);
  }
}

}  // namespace smtplab::agents
