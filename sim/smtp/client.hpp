// sim/smtp/client.hpp: the sans-IO SMTP client session (RFC 5321 + extensions).
//
// One ClientSession is one outgoing connection carrying one or more mail
// transactions. Entering a state sends its command; the reply picks the next
// state. Per-state data (the command, the RFC 5321 4.5.3.2 timeout, a
// description such as "sending RCPT TO") lives in client_states(), not in code.
//
// It uses EHLO and falls back to HELO on 500/502; honours what the server
// advertised (PIPELINING groups MAIL/RCPT/DATA, SIZE=, BODY=8BITMIME only to
// 8BITMIME servers, STARTTLS, AUTH PLAIN/LOGIN, DSN parameters); dot-stuffs
// the body (unless the no-dot-stuffing fault is on); records every
// recipient's outcome, classified for the queue: delivered (250 after the
// data), transient (4yz, timeout, connection lost) or permanent (5yz).
//
// Must never: touch a socket, a clock, the engine or a random number; report
// a recipient as delivered unless the server answered 2yz to the end of data.
// Invariants: every recipient of every transaction ends with an outcome once
// done() is true; after connection_lost() or a timeout, every unfinished
// recipient is transient (the message may still have arrived: RFC 1047).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/smtp/envelope.hpp"
#include "sim/smtp/names.hpp"
#include "sim/smtp/reply.hpp"
#include "sim/smtp/session_io.hpp"

namespace smtplab::smtp {

enum class ClientState : uint8_t {
  idle,       // not connected yet
  greeting,   // waiting for the 220
  ehlo,       // sent EHLO
  helo,       // sent HELO (fallback)
  starttls,   // sent STARTTLS
  auth,       // sent AUTH (and its continuation lines)
  probe,      // sent a probe command (VRFY, EXPN, HELP, NOOP) before the transactions
  mail,       // sent MAIL FROM
  rcpt,       // sent RCPT TO
  data,       // sent DATA, waiting for 354
  body,       // sent the message and ".", waiting for the final reply
  rset,       // sent RSET (between transactions after a failure)
  quit,       // sent QUIT
  done,       // finished (connection may be closed)
};
std::string_view client_state_name(ClientState s);

// RFC 5321 4.5.3.2: the client's per-command timeouts.
struct ClientStateInfo {
  ClientState state;
  std::string_view name;
  std::string_view description;  // "sending RCPT TO"
  SimTime timeout;               // SimTime::max() when the state waits for nothing
  std::string_view rfc;          // "RFC 5321 4.5.3.2.3"
};
std::span<const ClientStateInfo> client_states();
const ClientStateInfo& client_state_info(ClientState s);

struct ClientConfig {
  std::string helo_name = "localhost";  // our host name for EHLO/HELO
  bool use_pipelining = true;
  bool use_starttls = true;
  bool require_starttls = false;  // give up (transient) when STARTTLS is not offered
  bool use_auth = true;           // AUTH when offered and credentials are set
  std::string auth_user;          // "" = never AUTH
  std::string auth_password;
  bool prefer_login = false;      // AUTH LOGIN instead of PLAIN
  bool use_size = true;
  bool use_dsn = true;            // send NOTIFY/ORCPT/RET/ENVID when the server offers DSN
  bool dot_stuffing = true;       // false: the no-dot-stuffing fault (a lone "." ends the data early)
  bool bare_lf = false;           // the bare-lf fault: data lines end in LF alone (RFC 5321 2.3.8
                                  // forbids it); the final CRLF "." CRLF stays
  // RFC 6152 3: a relay holding 8-bit content for a server that did not
  // offer 8BITMIME must either return it (unset: the message fails with a
  // synthetic 554 5.6.3) or convert it to 7-bit MIME. When set, this is
  // called with the content and returns the 7-bit form to send instead, or
  // nullopt with `why` set when it cannot convert (no MIME structure). A
  // pure function: the host decides how to convert and what to record.
  std::function<std::optional<std::string>(std::string_view content, std::string& why)> downgrade_8bit;
  // Commands sent one at a time after EHLO (and STARTTLS, AUTH), before the
  // first MAIL FROM, each waiting for its reply, whatever it says: what a
  // teacher (or a harvester) asks a server with VRFY, EXPN, HELP or NOOP
  // (RFC 5321 4.1.1.6-4.1.1.9). Not pipelined: RFC 2920 3.1 lets VRFY, EXPN
  // and NOOP only end a group. Lines as given, without CR LF (the scenario
  // loader checks them); a 421 ends the session.
  std::vector<std::string> probes;
  // Data block timeout of 4.5.3.2.5 (3 min) applies per sent chunk; the
  // simulator sends the whole body at once, so it bounds the final reply wait.
};

// One message to send.
struct Transaction {
  Envelope envelope;    // reverse-path, recipients with DSN params, RET, ENVID
  std::string content;  // RFC 5322 message; "\n" or "\r\n" line ends (sent as CRLF)
};

enum class RcptStatus : uint8_t { pending, delivered, transient, permanent };
std::string_view rcpt_status_name(RcptStatus s);

// One per recipient of every transaction, held from the constructor to the
// end of the session: 120 bytes (the small fields after the large ones).
struct RecipientOutcome {
  std::string address;
  Reply reply;              // the reply that decided (a synthetic 4xx/5xx for timeouts/local decisions)
  std::string_view stage;   // "RCPT", "MAIL", "DATA", "EOD", "CONNECT", "EHLO", "TIMEOUT", "LOST", ...
                            // (always a string literal: valid for ever)
  RcptStatus status = RcptStatus::pending;
  bool synthetic = false;  // the reply was made up by the client (timeout, lost, local refusal)
};

struct TransactionResult {
  std::vector<RecipientOutcome> recipients;  // same order as the envelope
  bool accepted = false;  // the server answered 2yz to the end of data
  Reply final_reply;      // the reply to the end of data (or what failed the transaction)
  bool done = false;
};

class ClientSession {
 public:
  // `config` is copied. Transactions are sent in order; then QUIT.
  ClientSession(ClientConfig config, SessionInfo info, std::vector<Transaction> transactions);
  // The same, reading the caller's transactions instead of keeping copies,
  // as an MTA's delivery reads the message in its queue: they must stay alive
  // and unchanged as long as the session (results() included). A message
  // the session converts to 7 bits (downgrade_8bit) is converted into a copy
  // of its own.
  ClientSession(ClientConfig config, SessionInfo info, std::span<const Transaction> borrowed);

  // The TCP connection is established: wait for the greeting.
  void start(SimTime now);
  // Bytes from the server.
  void receive(SimTime now, std::string_view bytes);
  // Call when now >= deadline(): the state's timeout fired (RFC 5321 4.5.3.2):
  // unfinished recipients become transient and the client closes.
  void on_timer(SimTime now);
  // The connection broke (RST, FIN before QUIT's reply, refused): unfinished
  // recipients become transient with stage "LOST".
  void connection_lost(SimTime now, std::string_view why = "connection lost");

  Output& output() { return *out_; }
  SimTime deadline() const { return deadline_; }
  ClientState state() const { return state_; }
  bool done() const { return state_ == ClientState::done; }
  // One per transaction, in order, each recipient pending until decided.
  // Made when first needed (an outcome, the end of a transaction or this
  // call), so a session in the middle of its transaction holds none.
  const std::vector<TransactionResult>& results() const {
    make_results(txn_count_);
    static const std::vector<TransactionResult> none;
    return results_ ? *results_ : none;
  }
  bool tls() const { return tls_; }
  bool authenticated() const { return authenticated_; }

  void set_tracing(bool on) { tracing_ = on; }
  // Each machine records what it SENDS. When the server is not a simulated
  // machine (the outbound bridge to a real server), turn this on so the
  // replies it receives are recorded too (smtp-reply, src = the peer).
  void set_record_received(bool on) { record_received_ = on; }

  struct Impl;
  friend struct Impl;

 private:
  void make_results(size_t n) const;
  bool results_made(size_t n) const { return n == 0 || (results_ && results_->size() >= n); }

  // Sizes: a session lives as long as its connection, so every byte here and
  // on the heap between events counts once per concurrent connection
  // (`smtplab bench smtp` prints the figures; docs/smtp.md).
  struct Pending {
    ClientState state;
    uint32_t rcpt_index;  // for rcpt
  };
  static_assert(static_cast<int>(ClientState::done) < 16, "a state fits in the 4 low bits of a queued entry");
  // Commands sent, replies awaited, oldest first, each a Pending packed in
  // 32 bits (state in the low 4, recipient index above). A pipelined group
  // of one recipient (MAIL, RCPT, DATA) fits inline; a longer group spills
  // to the heap until the queue drains.
  class PendingQueue {
   public:
    bool empty() const { return head_ == size_; }
    Pending front() const {
      const uint32_t e = data()[head_];
      return Pending{static_cast<ClientState>(e & 15), e >> 4};
    }
    void pop_front() {
      if (++head_ == size_) clear();  // drained: back to the inline storage
    }
    void push_back(Pending p);
    void clear() {
      head_ = size_ = 0;
      cap_ = kInline;
      heap_.reset();
    }

   private:
    static constexpr uint32_t kInline = 3;
    const uint32_t* data() const { return heap_ ? heap_.get() : inline_; }
    uint32_t inline_[kInline]{};
    std::unique_ptr<uint32_t[]> heap_;
    uint32_t head_ = 0, size_ = 0, cap_ = kInline;
  };
  // One bit per recipient of the current transaction: its RCPT got 2yz.
  // One word: up to 63 recipients inline, the low bit set as the tag; a
  // larger transaction's bits live on the heap and the word holds their
  // (aligned, so low bit clear) address.
  class RcptBits {
   public:
    RcptBits() = default;
    RcptBits(const RcptBits&) = delete;
    RcptBits& operator=(const RcptBits&) = delete;
    RcptBits(RcptBits&& o) noexcept : v_(o.v_) { o.v_ = kEmpty; }
    RcptBits& operator=(RcptBits&& o) noexcept {
      if (this != &o) {
        release();
        v_ = o.v_;
        o.v_ = kEmpty;
      }
      return *this;
    }
    ~RcptBits() { release(); }
    void assign(size_t n) {
      release();
      if (n > 63) v_ = reinterpret_cast<uintptr_t>(new uint64_t[(n + 63) / 64]());
    }
    bool test(size_t i) const { return inline_bits() ? (v_ >> (i + 1)) & 1 : (words()[i / 64] >> (i % 64)) & 1; }
    void set(size_t i) {
      if (inline_bits()) v_ |= uintptr_t{1} << (i + 1);
      else words()[i / 64] |= uint64_t{1} << (i % 64);
    }

   private:
    static constexpr uintptr_t kEmpty = 1;
    bool inline_bits() const { return v_ & 1; }
    uint64_t* words() const { return reinterpret_cast<uint64_t*>(v_); }
    void release() {
      if (!inline_bits()) delete[] words();
      v_ = kEmpty;
    }
    uintptr_t v_ = kEmpty;
  };
  static_assert(sizeof(uintptr_t) == 8, "63 recipients fit inline");
  // What next_transaction() learns about the current message in one pass
  // over its content (only the current one is needed; kept in wire_size_,
  // eight_bit_ and wire_ready_).
  struct TxnInfo {
    int64_t wire_size = 0;       // octets with CRLF line ends (SIZE=, RFC 1870)
    bool eight_bit : 1 = false;  // content has octets >= 128 (needs 8BITMIME)
    bool wire_ready : 1 = false; // CRLF line ends only and no line starting with ".":
                                 // dot-stuffing leaves it as it is (one copy)
  };

  // What a session keeps of its ClientConfig: the HELO name (helo_name_),
  // these flags, and in rare_, allocated only when one of them is set (an
  // MX hop has none), the credentials and the 8-bit downgrade hook.
  struct Settings {
    bool use_pipelining : 1 = true;
    bool use_starttls : 1 = true;
    bool require_starttls : 1 = false;
    bool use_auth : 1 = true;
    bool prefer_login : 1 = false;
    bool use_size : 1 = true;
    bool use_dsn : 1 = true;
    bool dot_stuffing : 1 = true;
    bool bare_lf : 1 = false;
  };
  struct Rare {
    std::string auth_user;
    std::string auth_password;
    std::function<std::optional<std::string>(std::string_view content, std::string& why)> downgrade_8bit;
    std::string converted;                   // the current message after downgrade_8bit
    uint32_t converted_txn = UINT32_MAX;     // ... if it is transaction number converted_txn
    std::vector<std::string> probes;         // ClientConfig::probes
    uint32_t probes_sent = 0;
  };
  // What the trace records need of SessionInfo (the client makes no policy
  // decisions, so it keeps no peer address) and the HELO name, packed (40
  // bytes; names.hpp): local host, peer host, HELO name (kept once when it
  // is the local host's name: helo_is_local_).
  std::string_view local_host() const { return names_[0]; }
  std::string_view peer_host() const { return names_[1]; }
  std::string_view helo_name() const { return helo_is_local_ ? names_[0] : names_[2]; }

  PackedNames<3, 40> names_;
  static_assert(sizeof(PackedNames<3, 40>) == 40);
  uint64_t session_id_ = 0;
  std::unique_ptr<Rare> rare_;
  // The transactions: the caller's (borrowed) or owned_'s, allocated only
  // by the owning constructor.
  std::unique_ptr<std::vector<Transaction>> owned_;
  const Transaction* txns_ = nullptr;
  // results() and the handlers fill it up to transaction n (make_results).
  mutable std::unique_ptr<std::vector<TransactionResult>> results_;
  // The reply to the end of data of the next transaction results_ lacks,
  // when nothing else in that transaction had an outcome (every recipient
  // was accepted at RCPT): kept alone, and the TransactionResult made from
  // it when asked for. A session usually ends soon after its last
  // transaction, and the result's vectors and reply copies (about 400 bytes)
  // would be held until then.
  mutable std::unique_ptr<Reply> eod_reply_;
  OutputSlot out_;
  ReplyParser parser_;
  PendingQueue pending_;
  RcptBits rcpt_ok_;  // per recipient of the current transaction: RCPT got 2yz
  SimTime now_{0};
  SimTime deadline_ = SimTime::max();
  int64_t server_size_limit_ = 0;  // SIZE n advertised (0 = none or unlimited)
  int64_t wire_size_ = 0;          // of txns_[txn_] (TxnInfo)
  uint32_t txn_ = 0;               // current transaction
  uint32_t txn_count_ = 0;         // of txns_
  uint32_t rcpt_accepted_ = 0;
  Settings cfg_;
  ClientState state_ = ClientState::idle;
  uint8_t ext_mask_ = 0;  // the EHLO extensions we act on, as bits (see client.cpp)
  uint8_t auth_step_ = 0;
  bool esmtp_ : 1 = false;
  bool tls_ : 1 = false;
  bool authenticated_ : 1 = false;
  bool tried_tls_ : 1 = false;
  bool tried_auth_ : 1 = false;
  bool tracing_ : 1 = true;
  bool quit_sent_ : 1 = false;
  bool mail_failed_ : 1 = false;
  bool record_received_ : 1 = false;
  bool data_failed_ : 1 = false;
  bool eight_bit_ : 1 = false;   // of txns_[txn_] (TxnInfo)
  bool wire_ready_ : 1 = false;  // of txns_[txn_] (TxnInfo)
  bool helo_is_local_ : 1 = false;  // names_: the HELO name is the local host's
};

// Dot-stuffs a message for DATA (RFC 5321 4.5.2): normalises line ends to
// CRLF, doubles a leading "." on every line, appends "CRLF.CRLF" (after a
// final CRLF if the content lacks one). With stuff=false the leading dots
// are left alone (the fault).
void append_dot_stuffed(std::string& out, std::string_view content, bool stuff = true);
// The bare-lf fault's wire form: as append_dot_stuffed, but every line of the
// content ends in a bare LF (a CRLF or a lone CR becomes LF); only the final
// "CRLF.CRLF" keeps its CRs. A server that ended the data at LF "." LF would
// read what follows as new commands (SMTP smuggling).
void append_bare_lf(std::string& out, std::string_view content, bool stuff = true);
// Does the content need 8BITMIME (any octet >= 128)?
bool has_8bit(std::string_view content);

}  // namespace smtplab::smtp
