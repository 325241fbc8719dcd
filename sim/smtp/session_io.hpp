// sim/smtp/session_io.hpp: what a sans-IO SMTP session hands back to its driver.
//
// Both machines (server.hpp, client.hpp) are driven the same way:
//   1. call an input method (start, receive, on_timer, shutdown, ...) with `now`;
//   2. read session.output(): send `bytes`, emit each of `records` into the
//      Trace (which stamps time and seq), act on `effects`; then clear() it;
//   3. arm a timer for session.deadline() (SimTime::max() = none).
// A driver never needs to look inside the machine beyond that. Records already
// carry src/dst/session from the SessionInfo given at construction.
//
// Must never: touch sockets, clocks, the engine or random numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/smtp/buffers.hpp"
#include "sim/trace/record.hpp"

namespace smtplab::smtp {

// Who is talking to whom; copied into every trace record.
struct SessionInfo {
  std::string local_host;    // this machine's host name (record src for what it sends)
  std::string peer_host;     // the other end's host name or "127.0.0.1:54321" on the bridge
  std::string peer_address;  // IP address of the peer (for policy decisions), may be ""
  uint64_t session_id = 0;   // connection id, copied to Record::session
  bool submission = false;   // server: port 587 semantics (AUTH required, RFC 6409)
};

enum class EffectKind : uint8_t {
  close,             // close the connection after sending `bytes` (the machine is finished)
  tls_started,       // STARTTLS succeeded: the (simulated) TLS layer is now on; send
                     // later bytes "encrypted". Raised after the bytes that precede it.
  message_accepted,  // server: the policy queued a message and the 250 is in `bytes`
                     // (or was dropped by a drop-final-reply fault: see `detail`)
  transaction_done,  // client: one transaction finished; results()[index] holds outcomes
};

struct Effect {
  EffectKind kind = EffectKind::close;
  uint64_t index = 0;   // message_accepted: nth accepted message of this session (1-based);
                        // transaction_done: index into ClientSession::results()
  std::string detail;   // human note, e.g. "drop-final-reply: 250 not sent"
};

struct Output;

// Internal to OutputSlot: where a pooled Output is attached. Copying an
// Output copies its contents, never its attachment.
struct OutputOwner {
  Output** slot = nullptr;
  OutputOwner() = default;
  OutputOwner(const OutputOwner&) noexcept {}
  OutputOwner& operator=(const OutputOwner&) noexcept { return *this; }
};

struct Output {
  std::string bytes;            // to send to the peer, in order
  std::vector<Record> records;  // trace records, in order; emit them as they are
  std::vector<Effect> effects;  // in order
  bool closed = false;          // set together with an EffectKind::close
  OutputOwner owner;            // a machine's OutputSlot holding it, if any (see below)

  bool empty() const { return bytes.empty() && records.empty() && effects.empty(); }
  // Drivers call this after every step. Small buffers are parked in the
  // thread's spares for the next step of any session, a large write (a
  // body) is released (see park_buffer), `closed` is reset, and a machine's
  // Output goes back to the thread's pool: an idle session holds no output.
  // The reference the driver holds stays valid (pooled Outputs live as long
  // as the thread) but no longer belongs to the session: read nothing from
  // it after clear().
  void clear() {
    park_buffer(bytes, kKeptBufferCapacity);
    park_buffer(records, 4);
    park_buffer(effects, 2);
    closed = false;
    if (owner.slot) detach();
  }
  // Machines call this when a step begins: empty buffers take the parked
  // storage back (records only when the machine builds them; effects, rare,
  // in add_effect).
  void unpark(bool tracing) {
    unpark_buffer(bytes);
    if (tracing) unpark_buffer(records);
  }
  void add_effect(Effect e) {
    unpark_buffer(effects);
    effects.push_back(std::move(e));
  }

 private:
  void detach();
};

// A machine's Output, held only while a step's output waits for its driver:
// the first write of a step (or any call of output()) takes an Output from
// the thread's pool, the driver's clear() hands it back. Between events a
// session holds this one pointer, 8 bytes, instead of an 88-byte Output (two
// per SMTP session in flight: `smtplab bench net`). Like the parked buffers,
// pooled Outputs are per thread: a session is stepped and cleared on one
// thread at a time.
class OutputSlot {
 public:
  OutputSlot() = default;
  OutputSlot(const OutputSlot&) = delete;
  OutputSlot& operator=(const OutputSlot&) = delete;
  OutputSlot(OutputSlot&& o) noexcept : p_(o.p_) {
    o.p_ = nullptr;
    if (p_) p_->owner.slot = &p_;
  }
  OutputSlot& operator=(OutputSlot&& o) noexcept {
    if (this != &o) {
      if (p_) p_->clear();
      p_ = o.p_;
      o.p_ = nullptr;
      if (p_) p_->owner.slot = &p_;
    }
    return *this;
  }
  ~OutputSlot() {
    if (p_) p_->clear();
  }
  Output& operator*() { return p_ ? *p_ : attach(); }
  Output* operator->() { return &**this; }
  // Reading takes nothing from the pool: an idle session's output is empty.
  const Output& operator*() const {
    static const Output none;
    return p_ ? *p_ : none;
  }
  const Output* operator->() const { return &**this; }
  bool attached() const { return p_ != nullptr; }

 private:
  Output& attach();
  Output* p_ = nullptr;
};

namespace detail {
// The thread's idle Outputs: a driver clears each step's output before the
// next step, so a few are enough; beyond kMaxIdle, a returned Output is freed
// (a program that let thousands of sessions' outputs wait at once does not
// keep them all). A session destroyed after its thread's pool (during thread
// exit) frees its Output too.
struct OutputPool {
  static constexpr size_t kMaxIdle = 8;
  std::vector<Output*> idle;
  bool alive = true;
  ~OutputPool() {
    alive = false;
    for (Output* o : idle) delete o;
  }
};
inline OutputPool& output_pool() {
  thread_local OutputPool pool;
  return pool;
}
}  // namespace detail

inline Output& OutputSlot::attach() {
  detail::OutputPool& pool = detail::output_pool();
  if (pool.idle.empty()) {
    p_ = new Output;
  } else {
    p_ = pool.idle.back();
    pool.idle.pop_back();
  }
  p_->owner.slot = &p_;
  return *p_;
}

inline void Output::detach() {
  *owner.slot = nullptr;
  owner.slot = nullptr;
  detail::OutputPool& pool = detail::output_pool();
  if (pool.alive && pool.idle.size() < detail::OutputPool::kMaxIdle) pool.idle.push_back(this);
  else delete this;
}

}  // namespace smtplab::smtp
