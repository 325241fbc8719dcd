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

struct Output {
  std::string bytes;            // to send to the peer, in order
  std::vector<Record> records;  // trace records, in order; emit them as they are
  std::vector<Effect> effects;  // in order
  bool closed = false;          // set together with an EffectKind::close

  bool empty() const { return bytes.empty() && records.empty() && effects.empty(); }
  // Drivers call this after every step. Small buffers are parked in the
  // thread's spares for the next step of any session, a large write (a
  // body) is released (see park_buffer): an idle session holds no output.
  void clear() {
    park_buffer(bytes, kKeptBufferCapacity);
    park_buffer(records, 4);
    park_buffer(effects, 2);
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
};

}  // namespace smtplab::smtp
