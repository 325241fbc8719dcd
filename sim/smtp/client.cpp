// sim/smtp/client.cpp: the SMTP client session.
//
// Commands sent and not yet answered sit in pending_ (oldest first): with
// PIPELINING the group MAIL, RCPT..., DATA goes out in one flush (RFC 2920
// 3.1) and the replies are matched in order; without it the group has one
// command. Each reply is handled by the handler of the state that sent the
// command, which decides what to send next.
//
// Must never: mark a recipient delivered without a 2yz to the end of data;
// send a body to a server that did not answer 354; send 8-bit content to a
// server that did not offer 8BITMIME (RFC 6152 3).
#include "sim/smtp/client.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "sim/smtp/command.hpp"
#include "sim/smtp/scan.hpp"

namespace smtplab::smtp {

namespace {

// RFC 5321 4.5.3.2: per-state timeouts of the client.
const std::array<ClientStateInfo, 14> kClientStates{{
    {ClientState::idle, "idle", "not connected yet", SimTime::max(), ""},
    {ClientState::greeting, "greeting", "waiting for the 220 greeting", minutes(5), "RFC 5321 4.5.3.2.1"},
    {ClientState::ehlo, "ehlo", "sending EHLO", minutes(5), "RFC 5321 4.5.3.2 (as MAIL)"},
    {ClientState::helo, "helo", "sending HELO (EHLO refused)", minutes(5), "RFC 5321 4.5.3.2 (as MAIL)"},
    {ClientState::starttls, "starttls", "sending STARTTLS", minutes(5), "RFC 3207 (as MAIL)"},
    {ClientState::auth, "auth", "authenticating (AUTH)", minutes(5), "RFC 4954 (as MAIL)"},
    {ClientState::probe, "probe", "asking before the mail (VRFY, EXPN, HELP, NOOP)", minutes(5),
     "RFC 5321 4.1.1.6-4.1.1.9 (as MAIL)"},
    {ClientState::mail, "mail", "sending MAIL FROM", minutes(5), "RFC 5321 4.5.3.2.2"},
    {ClientState::rcpt, "rcpt", "sending RCPT TO", minutes(5), "RFC 5321 4.5.3.2.3"},
    {ClientState::data, "data", "sending DATA, waiting for 354", minutes(2), "RFC 5321 4.5.3.2.4"},
    {ClientState::body, "body", "sent the message, waiting for the final reply", minutes(10), "RFC 5321 4.5.3.2.6"},
    {ClientState::rset, "rset", "sending RSET", minutes(5), "RFC 5321 4.5.3.2 (as MAIL)"},
    {ClientState::quit, "quit", "sending QUIT", minutes(5), "RFC 5321 4.5.3.2 (as MAIL)"},
    {ClientState::done, "done", "finished", SimTime::max(), ""},
}};

}  // namespace

std::span<const ClientStateInfo> client_states() { return kClientStates; }
const ClientStateInfo& client_state_info(ClientState s) { return kClientStates[static_cast<size_t>(s)]; }
std::string_view client_state_name(ClientState s) { return client_state_info(s).name; }

std::string_view rcpt_status_name(RcptStatus s) {
  switch (s) {
    case RcptStatus::pending: return "pending";
    case RcptStatus::delivered: return "delivered";
    case RcptStatus::transient: return "transient";
    case RcptStatus::permanent: return "permanent";
  }
  return "?";
}

namespace {

// Any octet >= 128? Eight octets at a time: the OR loop vectorises, where a
// byte loop with an early exit does not (a 2 KB body is the common case).
bool any_high_bit(const char* p, size_t n) {
  uint64_t acc = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<unsigned char>(p[i]);
  return (acc & 0x8080808080808080ull) != 0;
}

// Appends an unsigned decimal number without a temporary string.
void append_number(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, static_cast<size_t>(r.ptr - buf));
}

}  // namespace

bool has_8bit(std::string_view content) { return any_high_bit(content.data(), content.size()); }

void append_dot_stuffed(std::string& out, std::string_view content, bool stuff) {
  // Works on runs: bytes are copied in as few appends as possible, and a run
  // is cut only where the wire form differs from the content (a leading "."
  // doubled, a bare CR or LF normalised). Line ends are found 16 octets at a
  // time (scan.hpp).
  const char* p = content.data();
  const char* const end = p + content.size();
  out.reserve(out.size() + content.size() + content.size() / 64 + 8);
  const char* run = p;  // first byte not yet copied
  bool line_start = true;
  while (p < end) {
    if (line_start && stuff && *p == '.') {  // RFC 5321 4.5.2
      out.append(run, static_cast<size_t>(p - run));
      out.push_back('.');
      run = p;
    }
    const char* eol = scan::find_cr_or_lf(p, end);
    if (eol == end) {  // last line, no line end
      p = end;
      line_start = false;
      break;
    }
    if (*eol == '\r' && eol + 1 < end && eol[1] == '\n') {  // CRLF: already in wire form
      p = eol + 2;
      line_start = true;
      continue;
    }
    // Normalise a bare LF or a lone CR to CRLF (RFC 5321 2.3.8).
    out.append(run, static_cast<size_t>(eol - run));
    out += "\r\n";
    p = eol + 1;
    run = p;
    line_start = true;
  }
  out.append(run, static_cast<size_t>(p - run));
  if (!line_start) out += "\r\n";
  out += ".\r\n";
}

void append_bare_lf(std::string& out, std::string_view content, bool stuff) {
  const size_t start = out.size();
  out.reserve(out.size() + content.size() + content.size() / 64 + 8);
  bool line_start = true;
  for (size_t i = 0; i < content.size(); ++i) {
    const char ch = content[i];
    if (line_start && stuff && ch == '.') out.push_back('.');  // RFC 5321 4.5.2
    if (ch == '\r' || ch == '\n') {
      if (ch == '\r' && i + 1 < content.size() && content[i + 1] == '\n') ++i;  // CRLF: one line end
      out.push_back('\n');
      line_start = true;
      continue;
    }
    out.push_back(ch);
    line_start = false;
  }
  if (out.size() == start) {  // empty content: the terminator alone
    out += ".\r\n";
    return;
  }
  // The last line ends with the terminator's own CRLF (an LF before it would
  // add an empty line), then "." CRLF.
  if (out.back() == '\n') out.pop_back();
  out += "\r\n.\r\n";
}

namespace {

// The extensions the client acts on, as bits (looked up once per EHLO reply,
// not by string on every command).
enum ExtBit : uint32_t {
  kExtPipelining = 1,
  kExtSize = 2,
  kExt8bitmime = 4,
  kExtDsn = 8,
  kExtStarttls = 16,
  kExtAuth = 32,
};
static_assert(kExtAuth < (1u << 8), "ClientSession::ext_mask_ holds 8 bits");

uint32_t ext_bit(std::string_view keyword) {
  struct Known {
    std::string_view name;
    uint32_t bit;
  };
  static constexpr Known kKnown[] = {{"PIPELINING", kExtPipelining}, {"SIZE", kExtSize}, {"8BITMIME", kExt8bitmime},
                                     {"DSN", kExtDsn},  {"STARTTLS", kExtStarttls}, {"AUTH", kExtAuth}};
  for (const Known& k : kKnown)
    if (iequals(keyword, k.name)) return k.bit;
  return 0;
}

}  // namespace

struct ClientSession::Impl {
  using C = ClientSession;

  static void record(C& c, Kind kind, std::string text, std::string wire = {}, std::string_view verb = {}) {
    if (!c.tracing_) return;
    Record r;
    r.kind = kind;
    r.src = c.local_host();
    r.dst = c.peer_host();
    r.session = c.session_id_;
    r.text = std::move(text);
    r.wire = std::move(wire);
    if (!verb.empty()) r.with("verb", std::string(verb));
    c.out_->records.push_back(std::move(r));
  }

  static void set_state(C& c, ClientState to, std::string_view why = {}) {
    ClientState from = c.state_;
    c.state_ = to;
    if (from == to || !c.tracing_) return;
    Record r;
    r.kind = Kind::smtp_state;
    r.src = c.local_host();
    r.dst = c.peer_host();
    r.session = c.session_id_;
    r.text = "client " + std::string(client_state_name(from)) + " -> " + std::string(client_state_name(to));
    if (!why.empty()) r.text += " (" + std::string(why) + ")";
    r.with("machine", "client").with("state", std::string(client_state_name(to)))
        .with("prev", std::string(client_state_name(from)));
    c.out_->records.push_back(std::move(r));
  }

  // Sends one command line and expects one reply in `state`. `write`
  // appends the command (without CRLF) straight into the output, so no
  // temporary string is built per command; the trace record, when wanted,
  // copies it from there.
  template <class Write>
  static void send_with(C& c, ClientState state, std::string_view verb, size_t rcpt_index, Write&& write,
                        std::string_view shown = {}) {
    const size_t start = c.out_->bytes.size();
    write(c.out_->bytes);
    const size_t text_end = c.out_->bytes.size();
    c.out_->bytes += "\r\n";
    if (c.tracing_) {
      Record r;
      r.kind = Kind::smtp_command;
      r.src = c.local_host();
      r.dst = c.peer_host();
      r.session = c.session_id_;
      if (shown.empty()) r.text.assign(c.out_->bytes, start, text_end - start);
      else r.text.assign(shown);
      r.wire.assign(c.out_->bytes, start, std::string::npos);
      r.with("verb", std::string(verb));
      c.out_->records.push_back(std::move(r));
    }
    c.pending_.push_back(Pending{state, static_cast<uint32_t>(rcpt_index)});
    set_state(c, state);
  }

  static void send(C& c, ClientState state, std::string_view line, std::string_view verb, size_t rcpt_index = 0,
                   std::string_view shown = {}) {
    send_with(c, state, verb, rcpt_index, [&](std::string& out) { out += line; }, shown);
  }

  static void send_hello(C& c, ClientState state) {
    const bool ehlo = state == ClientState::ehlo;
    send_with(c, state, ehlo ? "EHLO" : "HELO", 0, [&](std::string& out) {
      out += ehlo ? "EHLO " : "HELO ";
      out += c.helo_name();
    });
  }

  static bool offered(const C& c, uint32_t bit) { return (c.ext_mask_ & bit) != 0; }

  static bool has_pending(const C& c) { return !c.pending_.empty(); }
  static void clear_pending(C& c) { c.pending_.clear(); }

  static void rearm(C& c) {
    if (c.state_ == ClientState::done || !has_pending(c)) {
      c.deadline_ = SimTime::max();
      return;
    }
    SimTime d = client_state_info(c.pending_.front().state).timeout;
    c.deadline_ = c.now_ > SimTime::max() - d ? SimTime::max() : c.now_ + d;  // saturate
  }

  static Reply synthetic(int code, std::string enh, std::string text) { return Reply{code, std::move(enh), std::move(text)}; }

  // `stage` is always a string literal (RecipientOutcome::stage keeps the view).
  // The result of transaction t, made (with every recipient pending) when
  // first needed.
  static TransactionResult& result(C& c, size_t t) {
    c.make_results(t + 1);
    return (*c.results_)[t];
  }

  static void set_outcome(RecipientOutcome& o, const Reply& r, std::string_view stage, bool synth) {
    o.reply = r;
    o.stage = stage;
    o.synthetic = synth;
    if (r.positive()) o.status = RcptStatus::delivered;
    else if (r.permanent()) o.status = RcptStatus::permanent;
    else o.status = RcptStatus::transient;  // 4yz, and anything odd: retry is the safe choice
  }

  static void finish_txn(C& c, bool accepted, const Reply& final_reply) {
    close_result(result(c, c.txn_), accepted, Reply(final_reply));
    announce_done(c, final_reply);
  }
  // A transaction's outcome is final (also for a kept end-of-data reply,
  // which make_results() applies later).
  static void close_result(TransactionResult& t, bool accepted, Reply final_reply) {
    t.accepted = accepted;
    t.final_reply = std::move(final_reply);
    t.done = true;
  }
  // Tells the driver transaction txn_ is over; the next one is current.
  static void announce_done(C& c, const Reply& final_reply) {
    c.out_->add_effect(Effect{EffectKind::transaction_done, c.txn_, final_reply.summary()});
    ++c.txn_;
  }

  // Fails every unfinished recipient of the current and later transactions.
  static void fail_all(C& c, const Reply& r, std::string_view stage, bool synth) {
    for (size_t t = c.txn_; t < c.txn_count_; ++t) {
      TransactionResult& res = result(c, t);
      for (RecipientOutcome& o : res.recipients)
        if (o.status == RcptStatus::pending) set_outcome(o, r, stage, synth);
      res.final_reply = r;
      res.done = true;
      c.out_->add_effect(Effect{EffectKind::transaction_done, t, r.summary()});
    }
    c.txn_ = static_cast<uint32_t>(c.txn_count_);
  }

  static void close(C& c, std::string_view why) {
    clear_pending(c);
    set_state(c, ClientState::done, why);
    if (!c.out_->closed) {
      c.out_->add_effect(Effect{EffectKind::close, 0, std::string(why)});
      c.out_->closed = true;
      if (c.tracing_) record(c, Kind::smtp_session_end, "client session ends: " + std::string(why));
    }
    c.deadline_ = SimTime::max();
  }

  static void quit(C& c) {
    c.quit_sent_ = true;
    send(c, ClientState::quit, "QUIT", "QUIT");
  }

  // After the greeting/EHLO: STARTTLS, then AUTH, then the transactions.
  static void after_hello(C& c) {
    if (c.esmtp_ && !c.tls_ && !c.tried_tls_ && c.cfg_.use_starttls && offered(c, kExtStarttls)) {
      c.tried_tls_ = true;
      send(c, ClientState::starttls, "STARTTLS", "STARTTLS");
      return;
    }
    if (!c.tls_ && c.cfg_.require_starttls) {
      fail_all(c, synthetic(421, "4.7.0", "TLS required but the server does not offer STARTTLS"), "STARTTLS", true);
      quit(c);
      return;
    }
    if (c.esmtp_ && !c.authenticated_ && !c.tried_auth_ && c.cfg_.use_auth && c.rare_ && !c.rare_->auth_user.empty() &&
        offered(c, kExtAuth)) {
      c.tried_auth_ = true;
      start_auth(c);
      return;
    }
    if (c.rare_ && c.rare_->probes_sent < c.rare_->probes.size()) {
      const std::string& line = c.rare_->probes[c.rare_->probes_sent++];
      send(c, ClientState::probe, line, ascii_upper(std::string_view(line).substr(0, line.find(' '))));
      return;
    }
    next_transaction(c);
  }

  static void start_auth(C& c) {
    if (c.cfg_.prefer_login) {
      c.auth_step_ = 1;
      send(c, ClientState::auth, "AUTH LOGIN", "AUTH");
    } else {
      std::string msg;
      msg.push_back('\0');
      msg += c.rare_->auth_user;
      msg.push_back('\0');
      msg += c.rare_->auth_password;
      c.auth_step_ = 3;
      // RFC 4954 4: the initial response saves a round trip.
      send(c, ClientState::auth, "AUTH PLAIN " + base64_encode(msg), "AUTH", 0, "AUTH PLAIN (credentials)");
    }
  }

  static void write_mail_command(C& c, const Transaction& t, int64_t wire_size, std::string& cmd) {
    cmd += "MAIL FROM:<";
    cmd += t.envelope.reverse_path;
    cmd += '>';
    if (c.cfg_.use_size && offered(c, kExtSize)) {
      cmd += " SIZE=";
      append_number(cmd, wire_size);
    }
    if (c.eight_bit_ && offered(c, kExt8bitmime)) cmd += " BODY=8BITMIME";
    if (c.cfg_.use_dsn && offered(c, kExtDsn)) {
      if (t.envelope.ret == DsnRet::full) cmd += " RET=FULL";
      if (t.envelope.ret == DsnRet::hdrs) cmd += " RET=HDRS";
      if (!t.envelope.envid.empty()) cmd += " ENVID=" + encode_xtext(t.envelope.envid);
    }
  }

  static void write_rcpt_command(C& c, const Recipient& r, std::string& cmd) {
    cmd += "RCPT TO:<";
    cmd += r.address;
    cmd += '>';
    if (c.cfg_.use_dsn && offered(c, kExtDsn)) {
      if (r.notify != kNotifyUnset) cmd += " NOTIFY=" + notify_to_string(r.notify);
      if (!r.orcpt.empty()) {
        size_t semi = r.orcpt.find(';');
        if (semi != std::string::npos)
          cmd += " ORCPT=" + r.orcpt.substr(0, semi + 1) + encode_xtext(r.orcpt.substr(semi + 1));
      }
    }
  }

  static void send_rcpt(C& c, size_t i) {
    const Recipient& r = c.txns_[c.txn_].envelope.recipients[i];
    send_with(c, ClientState::rcpt, "RCPT", i, [&](std::string& out) { write_rcpt_command(c, r, out); });
  }

  static void next_transaction(C& c) {
    while (c.txn_ < c.txn_count_) {
      const Transaction& t = c.txns_[c.txn_];
      if (t.envelope.recipients.empty()) {
        finish_txn(c, false, synthetic(554, "5.5.1", "No recipients"));
        continue;
      }
      // Its SIZE= value and whether it needs 8BITMIME (vectorised scans:
      // this runs over every body once per session).
      set_facts(c, facts(t.content));
      // RFC 6152 3: 8-bit data only to a server that offered 8BITMIME.
      // Otherwise convert it to 7-bit MIME when the host gave us a way
      // (downgrade_8bit), or fail the message so the queue returns it.
      if (c.eight_bit_ && !offered(c, kExt8bitmime)) {
        std::string why = "the server does not offer 8BITMIME";
        if (c.rare_ && c.rare_->downgrade_8bit) {
          if (std::optional<std::string> seven = c.rare_->downgrade_8bit(content(c), why)) {
            const TxnInfo f = facts(*seven);
            if (!f.eight_bit) {
              c.rare_->converted = std::move(*seven);
              c.rare_->converted_txn = c.txn_;
              set_facts(c, f);
            } else {
              why = "8-bit octets remain after conversion (in the header?)";
            }
          }
        }
        if (c.eight_bit_) {
          Reply r = synthetic(554, "5.6.3", "8-bit message not sent: " + why + " (RFC 6152 3)");
          for (RecipientOutcome& o : result(c, c.txn_).recipients) set_outcome(o, r, "MAIL", true);
          finish_txn(c, false, r);
          continue;
        }
      }
      const int64_t size = c.wire_size_;
      if (c.cfg_.use_size && c.server_size_limit_ > 0 && size > c.server_size_limit_) {
        // RFC 1870 5: do not send a message larger than the server's limit.
        Reply r = synthetic(552, "5.3.4", "Message too big for the server's SIZE limit");
        for (RecipientOutcome& o : result(c, c.txn_).recipients) set_outcome(o, r, "MAIL", true);
        finish_txn(c, false, r);
        continue;
      }
      c.mail_failed_ = false;
      c.data_failed_ = false;
      c.rcpt_accepted_ = 0;
      c.rcpt_ok_.assign(t.envelope.recipients.size());
      // One allocation for the pipelined group (MAIL, each RCPT, DATA) rather
      // than one per doubling; xtext may triple ENVID and ORCPT.
      size_t group = 64 + t.envelope.reverse_path.size() + 3 * t.envelope.envid.size();
      for (const Recipient& r : t.envelope.recipients) group += 48 + r.address.size() + 3 * r.orcpt.size();
      c.out_->bytes.reserve(c.out_->bytes.size() + group);
      send_with(c, ClientState::mail, "MAIL", 0, [&](std::string& out) { write_mail_command(c, t, size, out); });
      if (pipelining(c)) {
        // RFC 2920 3.1: MAIL, RCPTs and DATA in one group; DATA is last.
        for (size_t i = 0; i < t.envelope.recipients.size(); ++i) send_rcpt(c, i);
        send(c, ClientState::data, "DATA", "DATA");
      }
      return;
    }
    quit(c);
  }

  static TxnInfo facts(std::string_view content) {
    const scan::ContentFacts f = scan::content_facts(content);
    TxnInfo i;
    i.wire_size = f.crlf_size;
    i.eight_bit = f.eight_bit;
    i.wire_ready = f.crlf_clean && !f.dot_line;
    return i;
  }

  static void set_facts(C& c, const TxnInfo& f) {
    c.wire_size_ = f.wire_size;
    c.eight_bit_ = f.eight_bit;
    c.wire_ready_ = f.wire_ready;
  }

  static bool pipelining(const C& c) { return c.cfg_.use_pipelining && c.esmtp_ && offered(c, kExtPipelining); }

  // The current message: the caller's, or its 7-bit conversion.
  static std::string_view content(const C& c) {
    if (c.rare_ && c.rare_->converted_txn == c.txn_) return c.rare_->converted;
    return c.txns_[c.txn_].content;
  }

  static void send_body(C& c) {
    const std::string_view body = content(c);
    size_t start = c.out_->bytes.size();
    if (c.cfg_.bare_lf) {
      append_bare_lf(c.out_->bytes, body, c.cfg_.dot_stuffing);
    } else if (c.wire_ready_) {
      // Known from the constructor's scan: stuffing would change nothing, so
      // the body goes out as one copy (append_dot_stuffed gives the same bytes).
      std::string& out = c.out_->bytes;
      out.reserve(out.size() + body.size() + 5);
      out += body;
      if (!body.empty() && body.back() != '\n') out += "\r\n";
      out += ".\r\n";
    } else {
      append_dot_stuffed(c.out_->bytes, body, c.cfg_.dot_stuffing);
    }
    if (c.tracing_) {
      Record r;
      r.kind = Kind::smtp_data;
      r.src = c.local_host();
      r.dst = c.peer_host();
      r.session = c.session_id_;
      size_t n = c.out_->bytes.size() - start;
      r.text = "message content, " + std::to_string(n) + " octets" +
               (c.cfg_.dot_stuffing ? " (dot-stuffed)" : " (NOT dot-stuffed: fault)") +
               (c.cfg_.bare_lf ? " (lines end in a bare LF: fault)" : "");
      r.wire.assign(c.out_->bytes, start, std::string::npos);
      r.with("size", std::to_string(n));
      c.out_->records.push_back(std::move(r));
    }
    c.pending_.push_back(Pending{ClientState::body, 0});
    set_state(c, ClientState::body);
  }

  // ---- reply handlers

  static void on_reply(C& c, const Reply& r) {
    if (!has_pending(c)) {
      // RFC 5321 4.1.4: a reply nobody asked for. Note it and ignore it.
      if (c.tracing_) record(c, Kind::smtp_error, "unexpected reply " + r.summary());
      return;
    }
    const Pending p = c.pending_.front();
    c.pending_.pop_front();
    switch (p.state) {
      case ClientState::greeting: {
        if (r.code == 220) {
          c.esmtp_ = true;
          send_hello(c, ClientState::ehlo);
        } else {
          // RFC 5321 3.1: 554 greeting -> QUIT; 421 -> the server closes.
          fail_all(c, r, "CONNECT", false);
          if (r.code == 421) close(c, "421 greeting");
          else quit(c);
        }
        break;
      }
      case ClientState::ehlo: {
        if (r.code == 250) {
          c.ext_mask_ = 0;
          c.server_size_limit_ = 0;
          // Only what the client acts on is kept: bits and the SIZE limit.
          // Keywords are case-insensitive (RFC 5321 4.1.1.1).
          for (size_t i = 1; i < r.lines.size(); ++i) {
            const std::string_view e = r.lines[i];
            c.ext_mask_ |= ext_bit(e.substr(0, e.find(' ')));
            if (e.size() >= 5 && iequals(e.substr(0, 5), "SIZE ")) {
              const std::string_view v = e.substr(5);
              if (!v.empty() && v.size() < 19 && std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
                std::from_chars(v.data(), v.data() + v.size(), c.server_size_limit_);
            }
          }
          after_hello(c);
        } else if (r.code == 500 || r.code == 502) {
          // RFC 5321 3.2: an old server; fall back to HELO.
          c.esmtp_ = false;
          c.ext_mask_ = 0;
          send_hello(c, ClientState::helo);
        } else {
          fail_session(c, r, "EHLO");
        }
        break;
      }
      case ClientState::probe: {
        // Any answer is the point of asking (252, 502, 550, 214...); only a
        // closing server ends the session (RFC 5321 3.8).
        if (r.code == 421) fail_session(c, r, "PROBE");
        else after_hello(c);
        break;
      }
      case ClientState::helo: {
        if (r.code == 250) after_hello(c);
        else fail_session(c, r, "HELO");
        break;
      }
      case ClientState::starttls: {
        if (r.code == 220) {
          // RFC 3207 4.2: after the handshake, forget everything learnt and say EHLO again.
          c.tls_ = true;
          record(c, Kind::smtp_tls, "TLS handshake (simulated): TLS 1.3, no real cryptography");
          if (c.tracing_) c.out_->records.back().with("state", "established");
          c.out_->add_effect(Effect{EffectKind::tls_started, 0, "STARTTLS"});
          c.ext_mask_ = 0;
          send_hello(c, ClientState::ehlo);
        } else if (c.cfg_.require_starttls) {
          fail_session(c, r.failure() ? r : synthetic(421, "4.7.0", "STARTTLS refused"), "STARTTLS");
        } else {
          after_hello(c);  // go on in plaintext
        }
        break;
      }
      case ClientState::auth: {
        if (r.code == 334 && c.auth_step_ == 1) {
          c.auth_step_ = 2;
          send(c, ClientState::auth, base64_encode(c.rare_->auth_user), "AUTH", 0, "(AUTH LOGIN user name)");
        } else if (r.code == 334 && c.auth_step_ == 2) {
          c.auth_step_ = 4;
          send(c, ClientState::auth, base64_encode(c.rare_->auth_password), "AUTH", 0, "(AUTH LOGIN password)");
        } else if (r.code == 334) {
          // A challenge we have nothing for: cancel (RFC 4954 4).
          send(c, ClientState::auth, "*", "AUTH");
        } else if (r.code == 235) {
          c.authenticated_ = true;
          next_transaction(c);
        } else {
          fail_session(c, r.failure() ? r : synthetic(535, "5.7.8", "AUTH failed"), "AUTH");
        }
        break;
      }
      case ClientState::mail: {
        if (r.positive()) {
          if (!pipelining(c)) send_next_rcpt(c, 0);
        } else {
          c.mail_failed_ = true;
          TransactionResult& t = result(c, c.txn_);
          for (RecipientOutcome& o : t.recipients) set_outcome(o, r, "MAIL", false);
          t.final_reply = r;
          if (!pipelining(c)) {
            finish_txn(c, false, r);
            next_transaction(c);
          }
        }
        break;
      }
      case ClientState::rcpt: {
        if (!c.mail_failed_) {
          if (r.positive()) {
            c.rcpt_ok_.set(p.rcpt_index);
            ++c.rcpt_accepted_;
          } else {
            set_outcome(result(c, c.txn_).recipients[p.rcpt_index], r, "RCPT", false);
          }
        }
        if (!pipelining(c)) {
          if (p.rcpt_index + 1 < c.txns_[c.txn_].envelope.recipients.size()) {
            send_next_rcpt(c, p.rcpt_index + 1);
          } else if (c.rcpt_accepted_ > 0) {
            send(c, ClientState::data, "DATA", "DATA");
          } else {
            // Every recipient refused: nothing to send; end the transaction.
            finish_txn(c, false, r);
            send(c, ClientState::rset, "RSET", "RSET");
          }
        }
        break;
      }
      case ClientState::data: {
        if (r.code == 354) {
          if (c.mail_failed_ || c.rcpt_accepted_ == 0) {
            // RFC 2920 3.1: DATA accepted although no recipient was: send an
            // empty message so the server leaves the data state; its reply
            // will be ignored.
            c.data_failed_ = true;
            c.out_->bytes += ".\r\n";
            record(c, Kind::smtp_data, "empty data (no valid recipients)", ".\r\n");
            c.pending_.push_back(Pending{ClientState::body, 0});
            set_state(c, ClientState::body);
          } else {
            send_body(c);
          }
        } else {
          TransactionResult& t = result(c, c.txn_);
          if (!c.mail_failed_) {
            for (size_t i = 0; i < t.recipients.size(); ++i)
              if (c.rcpt_ok_.test(i) && t.recipients[i].status == RcptStatus::pending)
                set_outcome(t.recipients[i], r, "DATA", false);
          }
          Reply fin = c.mail_failed_ ? t.final_reply : r;
          finish_txn(c, false, fin);
          // After a pipelined group failed at MAIL the server has no transaction; otherwise reset it.
          if (c.mail_failed_) next_transaction(c);
          else send(c, ClientState::rset, "RSET", "RSET");
        }
        break;
      }
      case ClientState::body: {
        if (!c.data_failed_ && !c.results_made(c.txn_ + 1) &&
            c.rcpt_accepted_ == c.txns_[c.txn_].envelope.recipients.size()) {
          // The usual end: every recipient accepted at RCPT, none has an
          // outcome yet. Keep the reply; make_results() gives each
          // recipient this outcome ("EOD") when the result is asked for.
          c.make_results(c.txn_);
          c.eod_reply_ = std::make_unique<Reply>(r);
          announce_done(c, r);
          next_transaction(c);
          break;
        }
        TransactionResult& t = result(c, c.txn_);
        if (c.data_failed_) {
          finish_txn(c, false, t.final_reply.code ? t.final_reply : synthetic(554, "5.5.1", "No valid recipients"));
          next_transaction(c);
          break;
        }
        for (size_t i = 0; i < t.recipients.size(); ++i)
          if (c.rcpt_ok_.test(i) && t.recipients[i].status == RcptStatus::pending) set_outcome(t.recipients[i], r, "EOD", false);
        finish_txn(c, r.positive(), r);
        next_transaction(c);
        break;
      }
      case ClientState::rset: {
        next_transaction(c);
        break;
      }
      case ClientState::quit: {
        close(c, "QUIT answered");
        break;
      }
      default:
        break;
    }
  }

  static void send_next_rcpt(C& c, size_t i) { send_rcpt(c, i); }

  // A reply that ends the session before (or between) transactions.
  static void fail_session(C& c, const Reply& r, std::string_view stage) {
    fail_all(c, r, stage, false);
    if (r.code == 421) close(c, "421");  // RFC 5321 3.8: the server is closing
    else quit(c);
  }
};

// Counts the session keeps narrow: transactions in 32 bits, a recipient's
// index in the 28 bits a pending reply leaves it (PendingQueue::push_back).
static void check_sizes(std::span<const Transaction> txns) {
  if (txns.size() > UINT32_MAX) throw std::length_error("ClientSession: too many transactions");
  for (const Transaction& t : txns)
    if (t.envelope.recipients.size() >= (size_t{1} << 28))
      throw std::length_error("ClientSession: too many recipients in one transaction");
}

ClientSession::ClientSession(ClientConfig config, SessionInfo info, std::vector<Transaction> transactions)
    : ClientSession(std::move(config), std::move(info), std::span<const Transaction>{}) {
  check_sizes(transactions);
  owned_ = std::make_unique<std::vector<Transaction>>(std::move(transactions));
  txns_ = owned_->data();
  txn_count_ = static_cast<uint32_t>(owned_->size());
}

ClientSession::ClientSession(ClientConfig config, SessionInfo info, std::span<const Transaction> borrowed)
    : names_({info.local_host, info.peer_host,
              config.helo_name == info.local_host ? std::string_view() : std::string_view(config.helo_name)}),
      session_id_(info.session_id),
      txns_(borrowed.data()),
      cfg_{config.use_pipelining, config.use_starttls, config.require_starttls, config.use_auth, config.prefer_login,
           config.use_size, config.use_dsn, config.dot_stuffing, config.bare_lf},
      helo_is_local_(config.helo_name == info.local_host) {
  check_sizes(borrowed);
  txn_count_ = static_cast<uint32_t>(borrowed.size());
  if (!config.auth_user.empty() || !config.auth_password.empty() || config.downgrade_8bit || !config.probes.empty())
    rare_ = std::make_unique<Rare>(Rare{std::move(config.auth_user), std::move(config.auth_password),
                                        std::move(config.downgrade_8bit), {}, UINT32_MAX, std::move(config.probes), 0});
}

void ClientSession::make_results(size_t n) const {
  if (results_made(n)) return;
  // All at once: the vector never moves afterwards, so references into it
  // (here and the caller's) stay valid.
  if (!results_) results_ = std::make_unique<std::vector<TransactionResult>>();
  if (results_->capacity() < txn_count_) results_->reserve(txn_count_);
  while (results_->size() < n) {
    const std::vector<Recipient>& rcpts = txns_[results_->size()].envelope.recipients;
    TransactionResult& t = results_->emplace_back();
    t.recipients.reserve(rcpts.size());
    for (const Recipient& r : rcpts) t.recipients.push_back(RecipientOutcome{r.address, {}, {}, RcptStatus::pending, false});
    if (eod_reply_) {
      // Kept for this transaction (the first one results_ lacked): what the
      // end-of-data branch of on_reply would have written.
      for (RecipientOutcome& o : t.recipients) Impl::set_outcome(o, *eod_reply_, "EOD", false);
      const bool accepted = eod_reply_->positive();
      Impl::close_result(t, accepted, std::move(*eod_reply_));
      eod_reply_.reset();
    }
  }
}

void ClientSession::PendingQueue::push_back(Pending p) {
  if (size_ == cap_) {
    // Full: move the unanswered part to a larger heap block.
    const uint32_t live = size_ - head_;
    const uint32_t cap = std::max<uint32_t>(2 * live, 8);
    auto bigger = std::make_unique<uint32_t[]>(cap);
    std::copy(data() + head_, data() + size_, bigger.get());
    heap_ = std::move(bigger);
    head_ = 0;
    size_ = live;
    cap_ = cap;
  }
  // A transaction of 2^28 recipients would need gigabytes of envelope first.
  (heap_ ? heap_.get() : inline_)[size_++] = static_cast<uint32_t>(p.state) | p.rcpt_index << 4;
}

void ClientSession::start(SimTime now) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ != ClientState::idle) return;
  if (tracing_)
    Impl::record(*this, Kind::smtp_session_open, "client session opens (" + std::string(local_host()) + " -> " + std::string(peer_host()) + ")");
  pending_.push_back(Pending{ClientState::greeting, 0});
  Impl::set_state(*this, ClientState::greeting, "connected");
  Impl::rearm(*this);
}

void ClientSession::receive(SimTime now, std::string_view bytes) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ == ClientState::done || state_ == ClientState::idle) return;
  parser_.feed_borrowed(bytes);  // read in place: the loop below drains it
  // One scratch reply per thread, shared by every session: a reply is parsed
  // and handled within this call, so no session needs it between events,
  // and its buffers (an EHLO reply's line vector and strings) are allocated
  // once per thread, not once per session. Nothing below re-enters receive().
  static thread_local Reply scratch;
  Reply& r = scratch;
  std::string err;  // set only when the server speaks garbage
  for (;;) {
    ReplyParser::Status st = parser_.next(r, err);
    if (st == ReplyParser::Status::need_more) break;
    if (st == ReplyParser::Status::error) {
      Impl::record(*this, Kind::smtp_error, "unparseable reply: " + err);
      if (!quit_sent_) Impl::fail_all(*this, Impl::synthetic(451, "4.5.0", "Protocol error: " + err), "PROTOCOL", true);
      Impl::close(*this, "protocol error");
      break;
    }
    if (record_received_ && tracing_) {
      Record rec;
      rec.kind = Kind::smtp_reply;
      rec.src = peer_host();
      rec.dst = local_host();
      rec.session = session_id_;
      rec.text = r.summary();
      rec.wire = format_reply(r);
      rec.with("code", std::to_string(r.code));
      if (!r.enhanced.empty()) rec.with("enhanced", r.enhanced);
      out_->records.push_back(std::move(rec));
    }
    Impl::on_reply(*this, r);
    if (state_ == ClientState::done) break;
  }
  parser_.copy_unread();  // stopped early (done): nothing may point at `bytes` after this
  Impl::rearm(*this);
}

void ClientSession::on_timer(SimTime now) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ == ClientState::done || !Impl::has_pending(*this) || now < deadline_) return;
  const ClientStateInfo& si = client_state_info(pending_.front().state);
  Impl::record(*this, Kind::smtp_timeout,
               "client timeout: no reply while " + std::string(si.description) + " after " +
                   format_duration(si.timeout) + " (" + std::string(si.rfc) + ")");
  if (tracing_) out_->records.back().with("state", std::string(si.name));
  if (!quit_sent_) {
    // RFC 5321 4.5.4.1: a timeout is a temporary failure; the queue retries.
    Impl::fail_all(*this, Impl::synthetic(451, "4.4.2", "Timeout while " + std::string(si.description)), "TIMEOUT", true);
  }
  Impl::close(*this, "timeout");
}

void ClientSession::connection_lost(SimTime now, std::string_view why) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ == ClientState::done) return;
  if (!quit_sent_) {
    Impl::record(*this, Kind::smtp_error, "connection lost: " + std::string(why));
    // Recipients whose final reply never came may still have been accepted
    // (RFC 1047): transient, and the queue will retry (a possible duplicate).
    Impl::fail_all(*this, Impl::synthetic(451, "4.4.1", "Connection lost: " + std::string(why)), "LOST", true);
  }
  Impl::close(*this, why);
  deadline_ = SimTime::max();
}

}  // namespace smtplab::smtp
