// sim/smtp/server.hpp: the sans-IO SMTP server session (RFC 5321 + extensions).
//
// One ServerSession is one connection of a mail server. It takes `now` and
// bytes (or a timer tick, a shutdown, the peer going away) and produces bytes
// to send, trace records and effects (see session_io.hpp), plus its next
// deadline. The host plugs in its decisions through ServerPolicy: who may
// AUTH, which senders and recipients are accepted, and storing the message.
//
// Dispatch is a table of commands keyed by verb (server.cpp): a check
// (sequence and syntax: 503/501/530/555 ...) and a proceed, plus flags. The
// same table produces HELP output and server_commands() for lessons and the
// GUI. States and their legal transitions are tables too (server_states(),
// server_transitions()); every state change goes through one enter() that
// emits an smtp-state record.
//
// Must never: touch a socket, a clock, the engine or a random number; close
// the connection because of a bad command (RFC 5321 4.1.4: only QUIT, a 421
// or a fault closes); send 250 to the end of data before the policy has
// queued the message (RFC 5321 6.1); buffer without bound (lines are capped,
// DATA beyond the size limit is counted, not stored).
// Invariants: after an error reply the state is unchanged (RFC 5321 4.1.4);
// with ENHANCEDSTATUSCODES advertised, every reply after EHLO carries an
// enhanced code (RFC 2034 3).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/smtp/command.hpp"
#include "sim/smtp/envelope.hpp"
#include "sim/smtp/names.hpp"
#include "sim/smtp/reply.hpp"
#include "sim/smtp/session_io.hpp"

namespace smtplab::smtp {

// ---- fault hooks (the smtp-* types of sim/faults/catalog.hpp)

// Where a fault strikes. `eod` is the end of data (the final "."),
// `connect` the greeting.
enum class FaultVerb : uint8_t { connect, ehlo, helo, mail, rcpt, data, eod, rset, quit, vrfy, noop, auth, starttls };
std::string_view fault_verb_name(FaultVerb v);                   // "EOD"
std::optional<FaultVerb> fault_verb_from_name(std::string_view);  // case-insensitive

struct ServerFault {
  enum class Kind : uint8_t {
    reply,             // smtp-reply: answer `code` [`text`] instead of the normal reply
    delay,             // smtp-delay: hold the reply for `delay` (the client may time out)
    disconnect,        // smtp-disconnect: close without any reply
    shutdown,          // smtp-shutdown: 421 4.3.2 and close (RFC 5321 3.8)
    drop_final_reply,  // drop-final-reply: queue the message, then close before the 250 (RFC 1047)
  };
  Kind kind = Kind::reply;
  FaultVerb verb = FaultVerb::mail;  // drop_final_reply always uses eod
  int nth = 1;                       // 1-based occurrence since switched on; 0 = every one
  int code = 0;                      // reply: 200..599
  std::string text;                  // reply: "" = a standard text for the code
  std::string recipient;             // only RCPTs (and their counting) for this address, case-insensitive
  SimTime delay{0};
  std::string label;                 // shown in trace records, e.g. "fault #2 smtp-reply"
};

// The faults active on one server host, shared by all of its sessions
// (occurrences are counted per host, so "the 1st MAIL" is the first MAIL the
// host sees after the fault is switched on, whichever connection sends it).
// The world switches faults on and off at their times with add()/remove().
class ServerFaults {
 public:
  // Switches a fault on; returns its handle for remove().
  uint64_t add(ServerFault fault);
  // Switches it off; false when unknown (already removed).
  bool remove(uint64_t handle);
  void clear() { active_.clear(); }
  bool empty() const { return active_.empty(); }
  size_t size() const { return active_.size(); }

  // Called by sessions at every occurrence of `verb` (recipient: the RCPT
  // address). Counts the occurrence for each matching active fault and
  // returns the first (in order switched on) that strikes now, or nullptr.
  const ServerFault* strike(FaultVerb verb, std::string_view recipient = {});

  // Converts a scenario fault (types smtp-reply, smtp-delay, smtp-disconnect,
  // smtp-shutdown, drop-final-reply). nullopt with `error` for other types
  // or a bad verb/code.
  static std::optional<ServerFault> from_scenario(const Fault& f, std::string* error);

 private:
  struct Active {
    uint64_t handle;
    ServerFault fault;
    int seen = 0;
  };
  std::vector<Active> active_;
  uint64_t next_handle_ = 1;
};

// ---- configuration

// RFC 5321 4.5.3.2.7: a server SHOULD wait at least 5 minutes for the next
// command (and for each data block).
struct ServerTimeouts {
  SimTime command = minutes(5);
  SimTime data_block = minutes(5);
};

struct ServerConfig {
  std::string hostname = "localhost";  // in the greeting, EHLO reply and Received lines
  std::string banner;                  // greeting text after "220 "; "" = "<hostname> ESMTP smtplab"
  bool refuse = false;                 // greet with 554 (RFC 5321 3.1), then 503 to all but QUIT

  // Advertised extensions (RFC 5321 4.1.1.1 EHLO keywords).
  bool pipelining = true;           // RFC 2920
  bool size = true;                 // RFC 1870
  bool eightbitmime = true;         // RFC 6152
  bool enhanced_status = true;      // RFC 2034
  bool dsn = true;                  // RFC 3461
  bool starttls = true;             // RFC 3207
  bool auth = true;                 // RFC 4954 (PLAIN LOGIN)
  bool vrfy = true;                 // false: 502 (known but disabled)
  bool expn = false;                // false: 502; true: 252 (we never expand lists)

  // Behaviour.
  bool honour_pipelining = true;   // false: a command that arrives before the reply to the
                                   // previous one is discarded (a broken server; a lesson)
  bool auth_requires_tls = true;   // offer AUTH only after STARTTLS when STARTTLS is offered
  bool require_auth = false;       // submission (RFC 6409 4.3): MAIL needs AUTH, else 530
  bool require_tls = false;        // MAIL etc. before STARTTLS get 530 5.7.0 (RFC 3207 4)

  // Limits (RFC 5321 4.5.3.1).
  int64_t max_message_size = 10 * 1024 * 1024;  // 552 5.3.4 beyond it
  int max_recipients = 100;                     // 4.5.3.1.8: 452 4.5.3 beyond it
  size_t max_command_line = 512;                // 4.5.3.1.4, CRLF included: 500 5.5.2
  size_t max_text_line = 1000;                  // 4.5.3.1.6, CRLF included: 500 5.5.2 at end of data
  size_t max_auth_line = 12288;                 // RFC 4954 4: 12288 octets for an AUTH line

  ServerTimeouts timeouts;

  // Not owned; may be null. Shared by every session of the host.
  ServerFaults* faults = nullptr;

  // The greeting text actually used.
  std::string greeting_text() const { return banner.empty() ? hostname + " ESMTP smtplab" : banner; }
};

// Builds a config from a scenario host's SMTP personality. `submission`
// turns on require_auth (port 587, RFC 6409).
ServerConfig server_config_from(const SmtpPersonality& p, std::string_view hostname, bool submission = false);

// ---- policy: what the host decides

// What the policy may look at when deciding.
struct PolicyContext {
  SimTime now{0};
  // The session's SessionInfo, read in place ("", 0, false when unknown).
  std::string_view local_host;
  std::string_view peer_host;
  std::string_view peer_address;
  uint64_t session_id = 0;
  bool submission = false;
  std::string_view helo_name;  // as given in HELO/EHLO
  bool esmtp = false;          // EHLO (not HELO)
  bool tls = false;
  std::string_view auth_user;  // "" when not authenticated
};

class ServerPolicy {
 public:
  virtual ~ServerPolicy() = default;

  // AUTH PLAIN/LOGIN: true when the credentials are right (then 235).
  virtual bool authenticate(const PolicyContext& ctx, std::string_view authzid, std::string_view user,
                            std::string_view password);

  // MAIL FROM accepted syntactically. nullopt: 250 2.1.0; a Reply refuses
  // (e.g. 550 5.7.1, 451 4.7.1 greylisting, 553 5.1.8 bad sender domain).
  virtual std::optional<Reply> check_sender(const PolicyContext& ctx, const Envelope& envelope);

  // RCPT TO (recipient not yet in envelope.recipients). nullopt: 250 2.1.5.
  // Typical refusals: 550 5.1.1 no such user, 551 5.1.6 user not local,
  // 554 5.7.1 / 550 5.7.1 relay denied, 452 4.2.2 mailbox full, 451 4.7.1.
  virtual std::optional<Reply> check_recipient(const PolicyContext& ctx, const Envelope& envelope,
                                               const Recipient& rcpt) = 0;

  // End of data. The policy MUST have queued (taken responsibility for) the
  // message before returning a 2yz reply (RFC 5321 6.1); its text usually
  // names the queue id ("250 2.0.0 Ok: queued as 1A2B"). A 4yz/5yz reply
  // refuses the message (e.g. 552 5.2.2 mailbox full, 451 4.3.0).
  // `content` is un-stuffed, CRLF line ends, without the final ".".
  virtual Reply accept_message(const PolicyContext& ctx, const Envelope& envelope, std::string_view content) = 0;

  // VRFY argument. nullopt: 252 2.1.5 "Cannot VRFY user, but will accept
  // message and attempt delivery" (RFC 5321 3.5.3, the safe default).
  virtual std::optional<Reply> verify(const PolicyContext& ctx, std::string_view argument);
};

// A ready-made policy for tests, benchmarks and the bridge's simplest mode:
// local domains and mailboxes, optional catch-all, accepted messages kept in
// memory. Relaying is refused (never an open relay): 554 5.7.1.
class BasicPolicy : public ServerPolicy {
 public:
  struct Stored {
    Envelope envelope;
    std::string content;
    std::string queue_id;
  };
  std::vector<std::string> domains;    // lower-case
  std::vector<std::string> mailboxes;  // "alice@yahoo.test", lower-case
  std::vector<std::pair<std::string, std::string>> users;  // AUTH user -> password
  bool catch_all = false;
  bool keep_messages = true;           // false: count only (benchmarks)
  std::vector<Stored> stored;
  uint64_t accepted_count = 0;

  bool authenticate(const PolicyContext& ctx, std::string_view authzid, std::string_view user,
                    std::string_view password) override;
  std::optional<Reply> check_recipient(const PolicyContext& ctx, const Envelope& envelope,
                                       const Recipient& rcpt) override;
  Reply accept_message(const PolicyContext& ctx, const Envelope& envelope, std::string_view content) override;
};

// ---- states and the command table, as data (for HELP, lessons, the GUI)

enum class ServerState : uint8_t {
  idle,      // not started
  greeting,  // greeted with 220, waiting for EHLO/HELO
  refused,   // greeted with 554: only QUIT is useful (503 to everything else)
  ready,     // EHLO/HELO done, no transaction
  mail,      // MAIL accepted, no recipient yet
  rcpt,      // at least one RCPT accepted
  data,      // after 354: receiving the message
  auth,      // inside an AUTH exchange (334 challenges)
  closed,    // QUIT, 421, fault or peer gone
};
std::string_view server_state_name(ServerState s);

struct ServerStateInfo {
  ServerState state;
  std::string_view name;
  std::string_view description;
};
std::span<const ServerStateInfo> server_states();

struct ServerTransition {
  ServerState from;
  ServerState to;
  std::string_view trigger;  // "MAIL 250", "RSET", "EHLO", "end of data", ...
};
std::span<const ServerTransition> server_transitions();

// Command flags (RFC 2920 3.1 and policy).
enum CommandFlags : uint16_t {
  kCmdBeforeHelo = 1,     // allowed before EHLO/HELO
  kCmdBeforeTls = 2,      // allowed before STARTTLS when TLS is required (RFC 3207 4)
  kCmdBeforeAuth = 4,     // allowed before AUTH when AUTH is required (RFC 4954 6)
  kCmdGroupLast = 8,      // must be last in a pipelined group (RFC 2920 3.1)
  kCmdResetsTxn = 16,     // ends the current transaction (RSET, EHLO, HELO, STARTTLS)
  kCmdNeedsExtension = 32,// only when its extension is advertised
};

struct CommandInfo {
  Verb verb;
  std::string_view name;     // "MAIL"
  std::string_view syntax;   // "MAIL FROM:<reverse-path> [SP params]"
  std::string_view summary;  // one line for HELP
  std::string_view rfc;      // "RFC 5321 4.1.1.2"
  uint16_t flags;
};
std::span<const CommandInfo> server_commands();
const CommandInfo* find_server_command(Verb v);

// ---- the session

class ServerSession {
 public:
  // `config` and `policy` must outlive the session (they belong to the host).
  ServerSession(const ServerConfig& config, ServerPolicy& policy, SessionInfo info);

  // The connection is up: sends the greeting (or the 554 refusal).
  void start(SimTime now);
  // Bytes from the client.
  void receive(SimTime now, std::string_view bytes);
  // Call when now >= deadline(): a timeout (421 4.4.2 and close, RFC 5321
  // 4.5.3.2) or the end of a fault delay (the held reply goes out).
  void on_timer(SimTime now);
  // The server is shutting down: 421 4.3.2 and close (RFC 5321 3.8).
  void shutdown(SimTime now);
  // The client closed or the connection broke: the transaction is dropped
  // (no message accepted), no reply.
  void peer_closed(SimTime now);

  // What to send/emit/do; the driver clears it after acting.
  Output& output() { return *out_; }
  // The next time on_timer must be called (SimTime::max() when none).
  SimTime deadline() const { return deadline_; }

  ServerState state() const { return state_; }
  bool closed() const { return state_ == ServerState::closed; }
  bool tls() const { return tls_; }
  bool esmtp() const { return esmtp_; }
  std::string_view helo_name() const { return names_[3]; }
  const std::string& auth_user() const;  // "" until AUTH succeeds
  uint64_t messages_accepted() const { return accepted_; }
  // The SessionInfo given at construction (a copy: the session keeps it packed).
  SessionInfo info() const;
  std::string_view local_host() const { return names_[0]; }
  std::string_view peer_host() const { return names_[1]; }
  std::string_view peer_address() const { return names_[2]; }
  uint64_t session_id() const { return session_id_; }

  // Off: no trace records are built (benchmarks). On by default.
  void set_tracing(bool on) { tracing_ = on; }
  // Each machine records what it SENDS (replies, state changes). When the
  // peer is not a simulated machine (the bridge: a real client), turn this
  // on so the commands and data it receives are recorded too (as
  // smtp-command / smtp-data with src = the peer). Off by default.
  void set_record_received(bool on) { record_received_ = on; }

  // Implementation details (public for the command table in server.cpp).
  struct Impl;
  friend struct Impl;

 private:
  // Sizes: a session lives as long as its connection, so every byte here and
  // on the heap between events counts once per concurrent connection
  // (`smtplab bench smtp` prints the figures; docs/smtp.md). Rarely used
  // state lives in parts allocated when first needed: most sessions never
  // see a delay fault or an AUTH exchange, and between transactions (or
  // while the client reads the final reply) there is no envelope or body.
  struct Held {  // output held back by a delay fault
    std::string bytes;
    std::vector<Record> records;
    std::vector<Effect> effects;
    SimTime until = SimTime::max();  // release time (max: never, see holding())
    bool close_after = false;
  };
  struct Auth {
    std::string user;        // authenticated user ("" = not authenticated)
    std::string login_user;  // AUTH LOGIN: the user name, while the password is awaited
  };
  struct Txn {  // from MAIL to the end of the transaction (reset_txn)
    Envelope env;
    std::string body;
    int64_t body_size = 0;      // octets received (un-stuffed), even when not stored
    size_t body_line_len = 0;   // octets in the current data line so far
    uint8_t body_dot_state = 0; // progress through CRLF "." CRLF
    bool body_too_big = false;
    bool body_line_too_long = false;
    bool body_bad_line_end = false;
  };
  // A delay fault holds output back until held_->until.
  bool holding() const { return held_ && held_->until != SimTime::max(); }

  const ServerConfig& cfg_;
  ServerPolicy& policy_;
  // SessionInfo's names and the HELO name, packed (48 bytes, names.hpp):
  // local host, peer host, peer address, HELO name.
  PackedNames<4, 48> names_;
  static_assert(sizeof(PackedNames<4, 48>) == 48);
  uint64_t session_id_ = 0;
  OutputSlot out_;
  SimTime now_{0};
  SimTime deadline_ = SimTime::max();
  SimTime idle_deadline_ = SimTime::max();
  std::unique_ptr<Held> held_;  // non-null only while a delay fault holds output
  std::unique_ptr<Auth> auth_;  // non-null once an AUTH exchange began
  std::unique_ptr<Txn> txn_;    // non-null inside a mail transaction

  std::unique_ptr<std::string> in_;  // input left over between receive() calls (null: none)
  std::string_view in_view_;   // while processing: the input being read (see Impl::process)
  size_t in_pos_ = 0;          // while processing: read position in in_view_
  MailArg* parsed_ = nullptr;  // while MAIL/RCPT is dispatched: its argument, parsed by the
                               // check step for the proceed step (owned by Impl::dispatch)
  uint32_t accepted_ = 0;  // messages accepted (a connection cannot carry 2^32)

  ServerState state_ = ServerState::idle;
  ServerState auth_return_ = ServerState::ready;
  uint8_t auth_step_ = 0;  // 0 none; LOGIN: 1 = want user, 2 = want password; PLAIN: 3 = want response
  bool discarding_line_ : 1 = false;  // inside an over-long command line (500 once it ends)
  bool tracing_ : 1 = true;
  bool record_received_ : 1 = false;
  bool esmtp_ : 1 = false;
  bool tls_ : 1 = false;
  bool helo_seen_ : 1 = false;
  bool submission_ : 1 = false;  // SessionInfo::submission
};

}  // namespace smtplab::smtp
