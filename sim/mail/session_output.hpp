// sim/mail/session_output.hpp: what a sans-IO mailbox-access machine
// (POP3, IMAP) hands back to its driver after each input.
//
// The machines take `now` and bytes (or a timer, or "the peer closed") and
// return a SessionOutput: bytes to send, trace records to emit (ready for
// Trace::emit, which stamps time and seq), messages a client
// fetched, whether to close, and the next deadline. They never touch a
// socket, the clock, the engine or a random number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/trace/record.hpp"

namespace smtplab::mail {

// Who is talking to whom; copied into every record (src = this machine, dst
// = the peer, for what this machine sends). Each machine records only what
// it SENDS, so wiring a client to a server never records a line twice.
struct SessionInfo {
  std::string local_host;
  std::string peer_host;
  uint64_t session_id = 0;
};

// A message a client downloaded (driver: emit message-fetched, store it).
struct FetchedMessage {
  uint32_t number = 0;       // POP3 message number / IMAP sequence number
  uint32_t uid = 0;          // IMAP UID (0 for POP3)
  std::string unique_id;     // POP3 UIDL ("" for IMAP)
  std::string data;          // the message, CR LF, un-stuffed
};

struct SessionOutput {
  std::string send;                      // bytes for the peer
  std::vector<Record> records;           // kinds pop3_* / imap_*, src/dst/session filled from SessionInfo
  std::vector<FetchedMessage> fetched;   // client only
  bool close = false;                    // the machine is done; close the connection after sending
  std::optional<SimTime> deadline;       // call on_timeout(now) at this time unless more input comes first

  void append(SessionOutput&& o) {
    send += o.send;
    for (auto& r : o.records) records.push_back(std::move(r));
    for (auto& f : o.fetched) fetched.push_back(std::move(f));
    close = close || o.close;
    if (o.deadline) deadline = o.deadline;
  }
};

}  // namespace smtplab::mail
