// sim/smtp/server.cpp: the SMTP server session, its command table and its
// fault hooks.
//
// Structure (after OpenSMTPD's smtp_session.c): receive() splits input into
// command lines (CRLF only) or, in the data state, runs the data
// transparency decoder; dispatch() looks the verb up in kTable, applies the
// generic gates given by the entry's flags (before-HELO, before-STARTTLS,
// refused session), runs the entry's check (sequence/syntax: 501/503/555...),
// then the fault hooks, then the entry's proceed. A check that fails sends
// its reply and leaves every piece of state untouched (RFC 5321 4.1.4).
//
// Must never: end the data on anything but CRLF "." CRLF; end a command on
// a bare CR or LF; store more than max_message_size octets of a message;
// close the connection because of a bad command.
#include "sim/smtp/server.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "sim/smtp/scan.hpp"

namespace smtplab::smtp {

// ---------------------------------------------------------------- fault hooks

namespace {
constexpr std::array<std::string_view, 13> kFaultVerbNames{"CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "EOD",
                                                           "RSET", "QUIT", "VRFY", "NOOP", "AUTH", "STARTTLS"};
}

std::string_view fault_verb_name(FaultVerb v) { return kFaultVerbNames[static_cast<size_t>(v)]; }

std::optional<FaultVerb> fault_verb_from_name(std::string_view name) {
  for (size_t i = 0; i < kFaultVerbNames.size(); ++i)
    if (iequals(kFaultVerbNames[i], name)) return static_cast<FaultVerb>(i);
  return std::nullopt;
}

uint64_t ServerFaults::add(ServerFault fault) {
  if (fault.kind == ServerFault::Kind::drop_final_reply) fault.verb = FaultVerb::eod;
  active_.push_back(Active{next_handle_, std::move(fault), 0});
  return next_handle_++;
}

bool ServerFaults::remove(uint64_t handle) {
  auto it = std::find_if(active_.begin(), active_.end(), [&](const Active& a) { return a.handle == handle; });
  if (it == active_.end()) return false;
  active_.erase(it);
  return true;
}

const ServerFault* ServerFaults::strike(FaultVerb verb, std::string_view recipient) {
  const ServerFault* hit = nullptr;
  for (Active& a : active_) {
    if (a.fault.verb != verb) continue;
    if (!a.fault.recipient.empty() && !iequals(a.fault.recipient, recipient)) continue;
    ++a.seen;
    if (!hit && (a.fault.nth == 0 || a.fault.nth == a.seen)) hit = &a.fault;
  }
  return hit;
}

std::optional<ServerFault> ServerFaults::from_scenario(const Fault& f, std::string* error) {
  auto bad = [&](std::string why) -> std::optional<ServerFault> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  ServerFault s;
  if (f.type == "smtp-reply") s.kind = ServerFault::Kind::reply;
  else if (f.type == "smtp-delay") s.kind = ServerFault::Kind::delay;
  else if (f.type == "smtp-disconnect") s.kind = ServerFault::Kind::disconnect;
  else if (f.type == "smtp-shutdown") s.kind = ServerFault::Kind::shutdown;
  else if (f.type == "drop-final-reply") s.kind = ServerFault::Kind::drop_final_reply;
  else return bad("fault type \"" + f.type + "\" is not an SMTP server fault");
  if (s.kind == ServerFault::Kind::drop_final_reply) {
    s.verb = FaultVerb::eod;
  } else {
    auto v = fault_verb_from_name(f.verb);
    if (!v) return bad("unknown SMTP verb \"" + f.verb + "\" (expected one of: CONNECT EHLO HELO MAIL RCPT DATA EOD RSET QUIT VRFY NOOP AUTH STARTTLS)");
    s.verb = *v;
  }
  if (f.nth < 0) return bad("nth must be 0 (every) or a positive occurrence, got " + std::to_string(f.nth));
  s.nth = f.nth;
  if (s.kind == ServerFault::Kind::reply) {
    if (f.code < 400 || f.code > 559 || (f.code / 10) % 10 > 5)
      return bad("smtp-reply code must be a failure code 400..559, got " + std::to_string(f.code));
    s.code = f.code;
    s.text = f.text;
  }
  s.recipient = f.recipient;
  s.delay = f.delay;
  s.label = f.type + " " + std::string(fault_verb_name(s.verb));
  return s;
}

ServerConfig server_config_from(const SmtpPersonality& p, std::string_view hostname, bool submission) {
  ServerConfig c;
  c.hostname = std::string(hostname);
  c.banner = p.banner;
  c.refuse = p.refuse_connections;
  auto has = [&](std::string_view k) {
    return std::any_of(p.extensions.begin(), p.extensions.end(), [&](const std::string& e) { return iequals(e, k); });
  };
  c.pipelining = has("PIPELINING");
  c.size = has("SIZE");
  c.eightbitmime = has("8BITMIME");
  c.enhanced_status = has("ENHANCEDSTATUSCODES");
  c.dsn = has("DSN");
  c.starttls = has("STARTTLS");
  c.auth = has("AUTH");
  c.honour_pipelining = p.honour_pipelining;
  c.max_message_size = p.max_message_size;
  c.max_recipients = p.max_recipients;
  c.vrfy = p.vrfy;
  c.expn = p.expn;
  c.require_auth = submission && c.auth;
  return c;
}

// ---------------------------------------------------------------- policies

bool ServerPolicy::authenticate(const PolicyContext&, std::string_view, std::string_view, std::string_view) {
  return false;
}
std::optional<Reply> ServerPolicy::check_sender(const PolicyContext&, const Envelope&) { return std::nullopt; }
std::optional<Reply> ServerPolicy::verify(const PolicyContext&, std::string_view) { return std::nullopt; }

bool BasicPolicy::authenticate(const PolicyContext&, std::string_view, std::string_view user, std::string_view password) {
  for (const auto& [u, p] : users)
    if (u == user && p == password) return true;
  return false;
}

std::optional<Reply> BasicPolicy::check_recipient(const PolicyContext&, const Envelope&, const Recipient& rcpt) {
  const std::string addr = ascii_lower(rcpt.address);
  size_t at = addr.rfind('@');
  std::string local = at == std::string::npos ? addr : addr.substr(0, at);
  std::string domain = at == std::string::npos ? "" : addr.substr(at + 1);
  // RFC 5321 4.5.1: postmaster, any case, bare or at any of our domains.
  bool ours = domain.empty() || std::find(domains.begin(), domains.end(), domain) != domains.end();
  if (!ours) return Reply{554, "5.7.1", "Relay access denied: " + rcpt.address};
  if (local == "postmaster") return std::nullopt;
  if (catch_all) return std::nullopt;
  if (std::find(mailboxes.begin(), mailboxes.end(), addr) != mailboxes.end()) return std::nullopt;
  return Reply{550, "5.1.1", "<" + rcpt.address + ">: Recipient address rejected: User unknown"};
}

Reply BasicPolicy::accept_message(const PolicyContext&, const Envelope& envelope, std::string_view content) {
  ++accepted_count;
  std::string id = "Q" + std::to_string(accepted_count);
  if (keep_messages) stored.push_back(Stored{envelope, std::string(content), id});
  return Reply{250, "2.0.0", "Ok: queued as " + id};
}

// ---------------------------------------------------------------- tables

namespace {

constexpr std::array<ServerStateInfo, 9> kStates{{
    {ServerState::idle, "idle", "Connection not yet started"},
    {ServerState::greeting, "greeting", "Greeted with 220; waiting for EHLO or HELO"},
    {ServerState::refused, "refused", "Greeted with 554 (policy refusal): only QUIT is accepted, all else gets 503"},
    {ServerState::ready, "ready", "Client identified; no mail transaction in progress"},
    {ServerState::mail, "mail", "MAIL FROM accepted; waiting for RCPT TO"},
    {ServerState::rcpt, "rcpt", "At least one RCPT TO accepted; more RCPT or DATA"},
    {ServerState::data, "data", "After 354: receiving the message until CRLF.CRLF"},
    {ServerState::auth, "auth", "Inside an AUTH exchange: the client answers 334 challenges"},
    {ServerState::closed, "closed", "Connection closed (QUIT, 421, fault, timeout or peer gone)"},
}};

constexpr std::array<ServerTransition, 24> kTransitions{{
    {ServerState::idle, ServerState::greeting, "connect: 220 greeting"},
    {ServerState::idle, ServerState::refused, "connect: 554 greeting (policy refusal)"},
    {ServerState::idle, ServerState::closed, "connect: 421 greeting (fault)"},
    {ServerState::greeting, ServerState::ready, "EHLO/HELO 250"},
    {ServerState::ready, ServerState::ready, "EHLO/HELO/RSET 250 (transaction reset)"},
    {ServerState::ready, ServerState::greeting, "STARTTLS 220 (session reset, RFC 3207 4.2)"},
    {ServerState::ready, ServerState::auth, "AUTH 334"},
    {ServerState::auth, ServerState::ready, "AUTH 235/535/501"},
    {ServerState::ready, ServerState::mail, "MAIL 250"},
    {ServerState::mail, ServerState::rcpt, "RCPT 250"},
    {ServerState::rcpt, ServerState::rcpt, "RCPT 250"},
    {ServerState::rcpt, ServerState::data, "DATA 354"},
    {ServerState::data, ServerState::ready, "end of data: 250 (queued) or 4yz/5yz"},
    {ServerState::mail, ServerState::ready, "RSET/EHLO/HELO"},
    {ServerState::rcpt, ServerState::ready, "RSET/EHLO/HELO"},
    {ServerState::greeting, ServerState::closed, "QUIT 221"},
    {ServerState::ready, ServerState::closed, "QUIT 221"},
    {ServerState::mail, ServerState::closed, "QUIT 221"},
    {ServerState::rcpt, ServerState::closed, "QUIT 221"},
    {ServerState::refused, ServerState::closed, "QUIT 221"},
    {ServerState::data, ServerState::closed, "timeout 421 / peer gone"},
    {ServerState::auth, ServerState::closed, "timeout 421 / peer gone"},
    {ServerState::greeting, ServerState::greeting, "RSET/NOOP/HELP/VRFY"},
    {ServerState::refused, ServerState::refused, "any command but QUIT: 503"},
}};

constexpr std::array<CommandInfo, kVerbCount> kCommandInfo{{
    {Verb::ehlo, "EHLO", "EHLO <domain>", "Identify yourself and ask for the service extensions", "RFC 5321 4.1.1.1",
     kCmdBeforeHelo | kCmdBeforeTls | kCmdBeforeAuth | kCmdGroupLast | kCmdResetsTxn},
    {Verb::helo, "HELO", "HELO <domain>", "Identify yourself (no extensions)", "RFC 5321 4.1.1.1",
     kCmdBeforeHelo | kCmdBeforeTls | kCmdBeforeAuth | kCmdGroupLast | kCmdResetsTxn},
    {Verb::mail, "MAIL", "MAIL FROM:<reverse-path> [SIZE=n] [BODY=8BITMIME|7BIT] [RET=FULL|HDRS] [ENVID=x] [AUTH=x]",
     "Start a mail transaction with the sender's address (<> for bounces)", "RFC 5321 4.1.1.2", 0},
    {Verb::rcpt, "RCPT", "RCPT TO:<forward-path> [NOTIFY=NEVER|SUCCESS,FAILURE,DELAY] [ORCPT=rfc822;x]",
     "Add a recipient to the transaction", "RFC 5321 4.1.1.3", 0},
    {Verb::data, "DATA", "DATA", "Send the message, ended by a line with a single \".\"", "RFC 5321 4.1.1.4",
     kCmdGroupLast},
    {Verb::rset, "RSET", "RSET", "Abort the current transaction", "RFC 5321 4.1.1.5",
     kCmdBeforeHelo | kCmdBeforeTls | kCmdBeforeAuth | kCmdResetsTxn},
    {Verb::noop, "NOOP", "NOOP [string]", "Do nothing; the server answers 250", "RFC 5321 4.1.1.9",
     kCmdBeforeHelo | kCmdBeforeTls | kCmdBeforeAuth | kCmdGroupLast},
    {Verb::quit, "QUIT", "QUIT", "Close the session (221)", "RFC 5321 4.1.1.10",
     kCmdBeforeHelo | kCmdBeforeTls | kCmdBeforeAuth | kCmdGroupLast},
    {Verb::vrfy, "VRFY", "VRFY <user>", "Ask whether an address exists (usually 252: cannot verify)",
     "RFC 5321 4.1.1.6, 3.5.3", kCmdBeforeHelo | kCmdBeforeAuth | kCmdGroupLast},
    {Verb::expn, "EXPN", "EXPN <list>", "Ask for a mailing list's members (normally disabled: 502)",
     "RFC 5321 4.1.1.7", kCmdBeforeAuth | kCmdGroupLast},
    {Verb::help, "HELP", "HELP [command]", "List commands, or explain one", "RFC 5321 4.1.1.8",
     kCmdBeforeHelo | kCmdBeforeTls | kCmdBeforeAuth},
    {Verb::starttls, "STARTTLS", "STARTTLS", "Switch the connection to TLS (simulated); the session starts over",
     "RFC 3207 4", kCmdBeforeTls | kCmdBeforeAuth | kCmdGroupLast | kCmdResetsTxn | kCmdNeedsExtension},
    {Verb::auth, "AUTH", "AUTH PLAIN [initial-response] | AUTH LOGIN [initial-response]",
     "Authenticate (submission): 235 on success, 535 on bad credentials", "RFC 4954 4",
     kCmdBeforeAuth | kCmdGroupLast | kCmdNeedsExtension},
}};

}  // namespace

std::string_view server_state_name(ServerState s) { return kStates[static_cast<size_t>(s)].name; }
std::span<const ServerStateInfo> server_states() { return kStates; }
std::span<const ServerTransition> server_transitions() { return kTransitions; }
std::span<const CommandInfo> server_commands() { return kCommandInfo; }
const CommandInfo* find_server_command(Verb v) {
  size_t i = static_cast<size_t>(v);
  return i < kCommandInfo.size() ? &kCommandInfo[i] : nullptr;
}

// ---------------------------------------------------------------- the session

struct ServerSession::Impl {
  using S = ServerSession;
  // check: returns false after sending an error reply (state untouched).
  using Check = bool (*)(S&, const CommandLine&);
  using Proceed = void (*)(S&, const CommandLine&);
  struct Entry {
    Check check;
    Proceed proceed;
    FaultVerb fault;
  };

  // ---- output helpers

  // RFC 2034 3 (4): enhanced codes on all 2yz/4yz/5yz replies except the
  // greeting and replies to HELO/EHLO, once ENHANCEDSTATUSCODES was offered.
  static bool enhanced_on(const S& s) { return s.cfg_.enhanced_status && s.esmtp_; }

  static void record(S& s, Kind kind, std::string text, std::string wire = {}) {
    if (!s.tracing_) return;
    Record r;
    r.kind = kind;
    r.src = s.local_host();
    r.dst = s.peer_host();
    r.session = s.session_id_;
    r.text = std::move(text);
    r.wire = std::move(wire);
    s.out_->records.push_back(std::move(r));
  }

  // A one-line reply, written straight into the output; a Reply value is
  // built only for the trace record, when there is one.
  static void reply(S& s, int code, std::string_view enh, std::string_view text, std::string_view verb = {}) {
    if (!enhanced_on(s) || code / 100 == 3) enh = {};
    const size_t start = s.out_->bytes.size();
    append_reply_line(s.out_->bytes, code, true, enh, text);
    if (s.tracing_) record_reply(s, Reply(code, std::string(enh), std::string(text)), start, verb);
  }

  static void send_reply(S& s, const Reply& r, std::string_view verb) {
    const size_t start = s.out_->bytes.size();
    append_reply(s.out_->bytes, r);
    if (s.tracing_) record_reply(s, r, start, verb);
  }

  // The smtp-reply record for the bytes appended since `start`.
  static void record_reply(S& s, const Reply& r, size_t start, std::string_view verb) {
    Record rec;
    rec.kind = Kind::smtp_reply;
    rec.src = s.local_host();
    rec.dst = s.peer_host();
    rec.session = s.session_id_;
    rec.text = r.summary();
    rec.wire.assign(s.out_->bytes, start, std::string::npos);
    rec.with("code", std::to_string(r.code));
    if (!r.enhanced.empty()) rec.with("enhanced", r.enhanced);
    if (!verb.empty()) rec.with("verb", std::string(verb));
    s.out_->records.push_back(std::move(rec));
  }

  static void enter(S& s, ServerState to, std::string_view why) {
    ServerState from = s.state_;
    s.state_ = to;
    if (from == to || !s.tracing_) return;
    Record r;
    r.kind = Kind::smtp_state;
    r.src = s.local_host();
    r.dst = s.peer_host();
    r.session = s.session_id_;
    r.text = "server " + std::string(server_state_name(from)) + " -> " + std::string(server_state_name(to));
    if (!why.empty()) r.text += " (" + std::string(why) + ")";
    r.with("machine", "server").with("state", std::string(server_state_name(to)))
        .with("prev", std::string(server_state_name(from)));
    s.out_->records.push_back(std::move(r));
  }

  static void close(S& s, std::string_view why) {
    if (s.state_ == ServerState::closed) return;
    // Whatever input remains is never read (see process()).
    s.in_view_ = s.in_view_.substr(0, s.in_pos_);
    enter(s, ServerState::closed, why);
    s.out_->add_effect(Effect{EffectKind::close, 0, std::string(why)});
    s.out_->closed = true;
    s.idle_deadline_ = SimTime::max();
    if (s.txn_) {
      s.txn_->body.clear();
      s.txn_->body.shrink_to_fit();
    }
    if (s.in_) s.in_->clear();  // not freed: in_view_ may point into it until process() ends
    if (s.tracing_) record(s, Kind::smtp_session_end, "server session ends: " + std::string(why));
  }

  // The transaction's part: made by MAIL (or, defensively, by whatever needs
  // it first) and given up by reset_txn(). One emptied part is parked per
  // thread (spare_buffer, as the output buffers), so the next transaction of
  // any session reuses it: a session between transactions holds none, and a
  // transaction costs no allocation for it.
  static std::unique_ptr<S::Txn>& spare_txn() { return spare_buffer<std::unique_ptr<S::Txn>>(); }
  // The message is with the policy now: its buffer goes (clear_buffer).
  static void reset_txn(S& s) {
    if (!s.txn_) return;
    S::Txn& t = *s.txn_;
    t.env.clear();
    clear_buffer(t.body);
    t.body_size = 0;
    t.body_line_len = 0;
    t.body_dot_state = 0;
    t.body_too_big = t.body_line_too_long = t.body_bad_line_end = false;
    std::unique_ptr<S::Txn>& spare = spare_txn();
    if (!spare) spare = std::move(s.txn_);
    else s.txn_.reset();
  }
  static S::Txn& txn(S& s) {
    if (!s.txn_) {
      std::unique_ptr<S::Txn>& spare = spare_txn();
      s.txn_ = spare ? std::move(spare) : std::make_unique<S::Txn>();
    }
    return *s.txn_;
  }

  static PolicyContext ctx(const S& s) {
    PolicyContext c;
    c.now = s.now_;
    c.local_host = s.local_host();
    c.peer_host = s.peer_host();
    c.peer_address = s.peer_address();
    c.session_id = s.session_id_;
    c.submission = s.submission_;
    c.helo_name = s.helo_name();
    c.esmtp = s.esmtp_;
    c.tls = s.tls_;
    c.auth_user = s.auth_user();
    return c;
  }

  static bool in_txn(const S& s) { return s.state_ == ServerState::mail || s.state_ == ServerState::rcpt; }

  static bool has_control(std::string_view a) {
    for (char c : a) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 32 || u == 127) return true;
    }
    return false;
  }

  // ---- EHLO / HELO

  static bool check_helo(S& s, const CommandLine& c) {
    const bool ehlo = c.verb == Verb::ehlo;
    // deviation: RFC 5321 4.1.1.1 wants a Domain or address literal; like
    // Postfix we accept any printable name (clients send odd host names),
    // but never an empty one or one with control characters.
    if (c.argument.empty() || c.argument.find(' ') != std::string::npos || has_control(c.argument)) {
      reply(s, 501, "5.5.4", ehlo ? "Syntax: EHLO hostname" : "Syntax: HELO hostname", c.verb_text);
      return false;
    }
    return true;
  }

  static void proceed_helo(S& s, const CommandLine& c) {
    const bool ehlo = c.verb == Verb::ehlo;
    // RFC 5321 4.1.4: EHLO/HELO after a transaction began resets it, as RSET.
    reset_txn(s);
    s.helo_seen_ = true;
    s.names_.set(3, c.argument);
    s.esmtp_ = ehlo;
    // The lines as views (the extension keywords are constants), written
    // straight into the output: no Reply is built unless it is recorded.
    // "<hostname> Hello <argument>", composed on the stack when it fits
    // (with the default 512-octet line limit it always does).
    char hello_buf[640];
    std::string hello_heap;
    std::string_view hello;
    const size_t hello_size = s.cfg_.hostname.size() + 7 + c.argument.size();
    if (hello_size <= sizeof hello_buf) {
      char* w = std::copy(s.cfg_.hostname.begin(), s.cfg_.hostname.end(), hello_buf);
      w = std::copy_n(" Hello ", 7, w);
      std::copy(c.argument.begin(), c.argument.end(), w);
      hello = std::string_view(hello_buf, hello_size);
    } else {
      hello_heap.reserve(hello_size);
      hello_heap += s.cfg_.hostname;
      hello_heap += " Hello ";
      hello_heap += c.argument;
      hello = hello_heap;
    }
    char size_line[32] = "SIZE ";
    std::array<std::string_view, 9> lines;
    size_t n = 0;
    lines[n++] = hello;
    if (ehlo) {
      if (s.cfg_.pipelining) lines[n++] = "PIPELINING";
      if (s.cfg_.size) {
        auto res = std::to_chars(size_line + 5, size_line + sizeof size_line, s.cfg_.max_message_size);
        lines[n++] = std::string_view(size_line, static_cast<size_t>(res.ptr - size_line));
      }
      if (s.cfg_.eightbitmime) lines[n++] = "8BITMIME";
      if (s.cfg_.enhanced_status) lines[n++] = "ENHANCEDSTATUSCODES";
      if (s.cfg_.dsn) lines[n++] = "DSN";
      if (s.cfg_.starttls && !s.tls_) lines[n++] = "STARTTLS";
      if (auth_offered(s)) lines[n++] = "AUTH PLAIN LOGIN";
      lines[n++] = "HELP";
    }
    const size_t start = s.out_->bytes.size();
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) total += 6 + lines[i].size();  // "250-" text CRLF
    s.out_->bytes.reserve(start + total);  // one allocation for the whole reply
    for (size_t i = 0; i < n; ++i) append_reply_line(s.out_->bytes, 250, i + 1 == n, {}, lines[i]);
    if (s.tracing_) {
      Reply r;
      r.code = 250;
      for (size_t i = 0; i < n; ++i) r.lines.emplace_back(lines[i]);
      record_reply(s, r, start, c.verb_text);
    }
    enter(s, ServerState::ready, ehlo ? "EHLO" : "HELO");
  }

  static bool auth_offered(const S& s) {
    if (!s.cfg_.auth) return false;
    // RFC 4954 4 / RFC 3207 6: no plaintext passwords before TLS when TLS is on offer.
    if (s.cfg_.auth_requires_tls && s.cfg_.starttls && !s.tls_) return false;
    return true;
  }

  // ---- MAIL

  static bool check_mail(S& s, const CommandLine& c) {
    if (in_txn(s)) {
      reply(s, 503, "5.5.1", "Error: nested MAIL command", c.verb_text);
      return false;
    }
    if (s.cfg_.require_auth && s.auth_user().empty()) {
      // RFC 4954 6: 530 5.7.0 Authentication required (submission, RFC 6409 4.3)
      reply(s, 530, "5.7.0", "Authentication required", c.verb_text);
      return false;
    }
    SyntaxError e;
    std::optional<MailArg> a = parse_mail_from(c.argument, &e);
    if (!a) {
      reply(s, e.code, e.enhanced, e.message, c.verb_text);
      return false;
    }
    *s.parsed_ = std::move(*a);
    return true;
  }

  // Validates MAIL parameters into a fresh envelope; false after a reply.
  // A keyword seen before index i of the parameter list (lists are short:
  // the line limit bounds them, so a quadratic scan beats a set).
  static bool duplicate_param(const std::vector<Param>& params, size_t i) {
    for (size_t j = 0; j < i; ++j)
      if (params[j].keyword == params[i].keyword) return true;
    return false;
  }

  static bool mail_params(S& s, const CommandLine& c, Envelope& env) {
    const std::vector<Param>& params = s.parsed_->params;
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      if (duplicate_param(params, i)) {
        reply(s, 501, "5.5.4", "Duplicate parameter " + p.keyword, c.verb_text);
        return false;
      }
      if (p.keyword == "SIZE" && s.cfg_.size && s.esmtp_) {
        // RFC 1870 6: size-value = 1*20DIGIT
        if (!p.has_value || p.value.size() > 18 ||
            !std::all_of(p.value.begin(), p.value.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          reply(s, 501, "5.5.4", "Bad SIZE parameter", c.verb_text);
          return false;
        }
        env.size = std::stoll(p.value);
        if (env.size > s.cfg_.max_message_size) {
          // RFC 1870 6.1: 552 when the declared size exceeds the fixed limit
          reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size", c.verb_text);
          return false;
        }
      } else if (p.keyword == "BODY" && s.cfg_.eightbitmime && s.esmtp_) {
        if (iequals(p.value, "8BITMIME")) env.body = BodyType::eight_bit_mime;
        else if (iequals(p.value, "7BIT")) env.body = BodyType::seven_bit;
        else {
          reply(s, 501, "5.5.4", "BODY must be 7BIT or 8BITMIME (RFC 6152)", c.verb_text);
          return false;
        }
      } else if (p.keyword == "RET" && s.cfg_.dsn && s.esmtp_) {
        if (iequals(p.value, "FULL")) env.ret = DsnRet::full;
        else if (iequals(p.value, "HDRS")) env.ret = DsnRet::hdrs;
        else {
          reply(s, 501, "5.5.4", "RET must be FULL or HDRS (RFC 3461 4.3)", c.verb_text);
          return false;
        }
      } else if (p.keyword == "ENVID" && s.cfg_.dsn && s.esmtp_) {
        auto v = decode_xtext(p.value);
        if (!p.has_value || !v || p.value.size() > 100) {
          reply(s, 501, "5.5.4", "Bad ENVID (xtext, at most 100 characters, RFC 3461 4.4)", c.verb_text);
          return false;
        }
        env.envid = *v;
      } else if (p.keyword == "AUTH" && auth_offered(s) && s.esmtp_) {
        auto v = decode_xtext(p.value);  // RFC 4954 5: AUTH=<> or an xtext mailbox
        if (!p.has_value || !v) {
          reply(s, 501, "5.5.4", "Bad AUTH parameter", c.verb_text);
          return false;
        }
        env.auth = *v;
      } else {
        // RFC 5321 4.1.1.11 / 3.3: unrecognised or unimplemented parameters get 555.
        reply(s, 555, "5.5.4", "Unsupported parameter " + p.keyword, c.verb_text);
        return false;
      }
    }
    return true;
  }

  static void proceed_mail(S& s, const CommandLine& c) {
    Envelope env;
    env.reverse_path = std::move(s.parsed_->path.mailbox);
    if (!mail_params(s, c, env)) return;
    if (std::optional<Reply> no = s.policy_.check_sender(ctx(s), env)) {
      send_reply(s, with_enhanced(s, *no), c.verb_text);
      return;
    }
    txn(s).env = std::move(env);
    reply(s, 250, "2.1.0", "Ok", c.verb_text);
    enter(s, ServerState::mail, "MAIL");
  }

  // A policy reply, with the enhanced code stripped or defaulted to match the
  // session (RFC 2034: present on every reply, or on none).
  static Reply with_enhanced(const S& s, Reply r) {
    if (!enhanced_on(s) || r.code / 100 == 3) {
      r.enhanced.clear();
    } else if (r.enhanced.empty() || r.enhanced[0] != static_cast<char>('0' + r.code / 100)) {
      r.enhanced = r.code / 100 == 2 ? "2.0.0" : (r.code / 100 == 4 ? "4.0.0" : "5.0.0");
    }
    return r;
  }

  // ---- RCPT

  static bool check_rcpt(S& s, const CommandLine& c) {
    if (!in_txn(s)) {
      reply(s, 503, "5.5.1", "Error: need MAIL command", c.verb_text);
      return false;
    }
    SyntaxError e;
    std::optional<MailArg> a = parse_rcpt_to(c.argument, &e);
    if (!a) {
      reply(s, e.code, e.enhanced, e.message, c.verb_text);
      return false;
    }
    *s.parsed_ = std::move(*a);
    return true;
  }

  static void proceed_rcpt(S& s, const CommandLine& c) {
    Recipient r;
    r.address = std::move(s.parsed_->path.mailbox);
    const std::vector<Param>& params = s.parsed_->params;
    for (size_t i = 0; i < params.size(); ++i) {
      const Param& p = params[i];
      if (duplicate_param(params, i)) {
        reply(s, 501, "5.5.4", "Duplicate parameter " + p.keyword, c.verb_text);
        return;
      }
      if (p.keyword == "NOTIFY" && s.cfg_.dsn && s.esmtp_) {
        // RFC 3461 4.1: NEVER alone, or a list of SUCCESS, FAILURE, DELAY
        uint8_t n = 0;
        bool ok = p.has_value;
        std::string_view v = p.value;
        while (ok && !v.empty()) {
          size_t comma = v.find(',');
          std::string_view item = v.substr(0, comma);
          if (iequals(item, "NEVER")) n |= kNotifyNever;
          else if (iequals(item, "SUCCESS")) n |= kNotifySuccess;
          else if (iequals(item, "FAILURE")) n |= kNotifyFailure;
          else if (iequals(item, "DELAY")) n |= kNotifyDelay;
          else ok = false;
          if (comma == std::string_view::npos) break;
          v.remove_prefix(comma + 1);
          if (v.empty()) ok = false;
        }
        if (!ok || n == 0 || ((n & kNotifyNever) && n != kNotifyNever)) {
          reply(s, 501, "5.5.4", "Bad NOTIFY parameter (RFC 3461 4.1)", c.verb_text);
          return;
        }
        r.notify = n;
      } else if (p.keyword == "ORCPT" && s.cfg_.dsn && s.esmtp_) {
        // RFC 3461 4.2: addr-type ";" xtext
        auto v = decode_xtext(p.value);
        size_t semi = v ? v->find(';') : std::string::npos;
        if (!p.has_value || !v || semi == std::string::npos || semi == 0 || p.value.size() > 500) {
          reply(s, 501, "5.5.4", "Bad ORCPT parameter (RFC 3461 4.2)", c.verb_text);
          return;
        }
        r.orcpt = *v;
      } else {
        reply(s, 555, "5.5.4", "Unsupported parameter " + p.keyword, c.verb_text);
        return;
      }
    }
    // RFC 5321 4.5.3.1.10: "452 Too many recipients" beyond the limit.
    Envelope& envelope = txn(s).env;
    if (static_cast<int>(envelope.recipients.size()) >= s.cfg_.max_recipients) {
      reply(s, 452, "4.5.3", "Too many recipients", c.verb_text);
      return;
    }
    if (std::optional<Reply> no = s.policy_.check_recipient(ctx(s), envelope, r)) {
      send_reply(s, with_enhanced(s, *no), c.verb_text);
      return;
    }
    envelope.recipients.push_back(std::move(r));
    reply(s, 250, "2.1.5", "Ok", c.verb_text);
    enter(s, ServerState::rcpt, "RCPT");
  }

  // ---- DATA

  static bool check_data(S& s, const CommandLine& c) {
    if (!c.argument.empty()) {
      reply(s, 501, "5.5.4", "Syntax: DATA (no argument)", c.verb_text);
      return false;
    }
    if (s.state_ == ServerState::mail) {
      // RFC 5321 3.3 / RFC 2920 3.1: no valid recipients -> 554 (or 503).
      reply(s, 554, "5.5.1", "Error: no valid recipients", c.verb_text);
      return false;
    }
    if (s.state_ != ServerState::rcpt) {
      reply(s, 503, "5.5.1", "Error: need RCPT command", c.verb_text);
      return false;
    }
    return true;
  }

  static void proceed_data(S& s, const CommandLine& c) {
    S::Txn& t = txn(s);
    t.body.clear();
    // RFC 1870: the declared SIZE saves regrowing the buffer while the data
    // arrives. Capped, so a client that declares much and sends nothing
    // cannot make us hold memory for it.
    if (t.env.size > 0) t.body.reserve(static_cast<size_t>(std::min<int64_t>(t.env.size, 64 * 1024)));
    t.body_size = 0;
    t.body_too_big = false;
    t.body_line_too_long = false;
    t.body_bad_line_end = false;
    t.body_line_len = 0;
    t.body_dot_state = 0;
    reply(s, 354, "", "End data with <CR><LF>.<CR><LF>", c.verb_text);
    enter(s, ServerState::data, "DATA");
  }

  // ---- simple commands

  static bool check_no_arg(S& s, const CommandLine& c) {
    if (!c.argument.empty()) {
      reply(s, 501, "5.5.4", "Syntax: " + std::string(verb_name(c.verb)) + " (no argument)", c.verb_text);
      return false;
    }
    return true;
  }
  static bool check_any(S&, const CommandLine&) { return true; }

  static void proceed_rset(S& s, const CommandLine& c) {
    reset_txn(s);
    reply(s, 250, "2.0.0", "Ok", c.verb_text);
    if (in_txn(s)) enter(s, ServerState::ready, "RSET");
  }
  static void proceed_noop(S& s, const CommandLine& c) { reply(s, 250, "2.0.0", "Ok", c.verb_text); }
  static void proceed_quit(S& s, const CommandLine& c) {
    reply(s, 221, "2.0.0", "Bye", c.verb_text);
    close(s, "QUIT");
  }

  static bool check_vrfy(S& s, const CommandLine& c) {
    if (!(c.verb == Verb::vrfy ? s.cfg_.vrfy : s.cfg_.expn)) {
      reply(s, 502, "5.5.1", std::string(verb_name(c.verb)) + " command is disabled", c.verb_text);
      return false;
    }
    if (c.argument.empty() || has_control(c.argument)) {
      reply(s, 501, "5.5.4", "Syntax: " + std::string(verb_name(c.verb)) + " <address>", c.verb_text);
      return false;
    }
    return true;
  }
  static void proceed_vrfy(S& s, const CommandLine& c) {
    if (c.verb == Verb::vrfy) {
      if (std::optional<Reply> r = s.policy_.verify(ctx(s), c.argument)) {
        send_reply(s, with_enhanced(s, *r), c.verb_text);
        return;
      }
      // RFC 5321 3.5.3: 252 when the server will not confirm an address.
      reply(s, 252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery", c.verb_text);
    } else {
      reply(s, 252, "2.1.5", "Cannot EXPN list, but will accept message and attempt delivery", c.verb_text);
    }
  }

  static bool check_help(S& s, const CommandLine& c) {
    if (!c.argument.empty() && verb_from_name(c.argument) == Verb::unknown) {
      reply(s, 504, "5.5.4", "HELP topic \"" + std::string(c.argument.substr(0, 40)) + "\" unknown", c.verb_text);
      return false;
    }
    return true;
  }
  static void proceed_help(S& s, const CommandLine& c) {
    Reply r;
    r.code = 214;  // RFC 5321 4.2.2: 214 help message
    if (enhanced_on(s)) r.enhanced = "2.0.0";
    if (c.argument.empty()) {
      r.lines.emplace_back("Commands (RFC 5321 and extensions):");
      for (const CommandInfo& info : kCommandInfo) {
        if (!command_available(s, info.verb)) continue;
        r.lines.push_back("  " + std::string(info.name) + " - " + std::string(info.summary));
      }
      r.lines.emplace_back("HELP <command> for its syntax");
    } else {
      const CommandInfo* info = find_server_command(verb_from_name(c.argument));
      r.lines.push_back(std::string(info->syntax));
      r.lines.push_back(std::string(info->summary) + " (" + std::string(info->rfc) + ")");
    }
    send_reply(s, r, c.verb_text);
  }

  // Known but switched off in this personality -> 502.
  static bool command_available(const S& s, Verb v) {
    switch (v) {
      case Verb::starttls: return s.cfg_.starttls;
      case Verb::auth: return s.cfg_.auth;
      case Verb::vrfy: return s.cfg_.vrfy;
      case Verb::expn: return s.cfg_.expn;
      default: return true;
    }
  }

  // ---- STARTTLS (RFC 3207)

  static bool check_starttls(S& s, const CommandLine& c) {
    if (!c.argument.empty()) {
      reply(s, 501, "5.5.4", "Syntax: STARTTLS (no argument)", c.verb_text);
      return false;
    }
    if (s.tls_) {
      reply(s, 503, "5.5.1", "TLS already active", c.verb_text);
      return false;
    }
    if (!s.esmtp_) {
      reply(s, 503, "5.5.1", "Send EHLO first", c.verb_text);
      return false;
    }
    if (in_txn(s)) {
      reply(s, 503, "5.5.1", "Error: MAIL transaction in progress", c.verb_text);
      return false;
    }
    return true;
  }
  static void proceed_starttls(S& s, const CommandLine& c) {
    reply(s, 220, "2.0.0", "Ready to start TLS", c.verb_text);
    // RFC 3207 4.2: after the handshake the session starts over: forget the
    // EHLO, the transaction and any authentication.
    s.tls_ = true;
    s.helo_seen_ = false;
    s.esmtp_ = false;
    s.names_.set(3, {});
    s.auth_.reset();
    reset_txn(s);
    // RFC 3207 5 (and CVE-2011-0411): commands pipelined after STARTTLS
    // arrived in plaintext; executing them after the switch would let an
    // attacker inject commands into the protected session. Discard them.
    if (s.in_pos_ < s.in_view_.size()) {
      if (s.tracing_)
        record(s, Kind::smtp_error,
               "discarding " + std::to_string(s.in_view_.size() - s.in_pos_) +
                   " plaintext octets pipelined after STARTTLS (RFC 3207 5)");
      s.in_view_ = s.in_view_.substr(0, s.in_pos_);
    }
    record(s, Kind::smtp_tls, "TLS handshake (simulated): TLS 1.3, no real cryptography");
    if (s.tracing_) s.out_->records.back().with("state", "established");
    s.out_->add_effect(Effect{EffectKind::tls_started, 0, "STARTTLS"});
    enter(s, ServerState::greeting, "STARTTLS: session reset");
  }

  // ---- AUTH (RFC 4954)

  static bool check_auth(S& s, const CommandLine& c) {
    if (!s.esmtp_) {
      reply(s, 503, "5.5.1", "Send EHLO first", c.verb_text);
      return false;
    }
    if (!auth_offered(s)) {
      // RFC 4954 6: 538 when the mechanism needs an encrypted channel.
      reply(s, 538, "5.7.11", "Encryption required for requested authentication mechanism", c.verb_text);
      return false;
    }
    if (!s.auth_user().empty()) {
      reply(s, 503, "5.5.1", "Already authenticated", c.verb_text);
      return false;
    }
    if (in_txn(s)) {
      reply(s, 503, "5.5.1", "AUTH not allowed during a mail transaction", c.verb_text);
      return false;
    }
    size_t sp = c.argument.find(' ');
    std::string mech = ascii_upper(c.argument.substr(0, sp));
    if (mech.empty()) {
      reply(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]", c.verb_text);
      return false;
    }
    if (mech != "PLAIN" && mech != "LOGIN") {
      reply(s, 504, "5.5.4", "Unrecognized authentication type " + mech.substr(0, 20), c.verb_text);
      return false;
    }
    return true;
  }

  static void proceed_auth(S& s, const CommandLine& c) {
    size_t sp = c.argument.find(' ');
    std::string mech = ascii_upper(c.argument.substr(0, sp));
    std::string initial(sp == std::string_view::npos ? std::string_view() : c.argument.substr(sp + 1));
    s.auth_return_ = s.state_;
    if (!s.auth_) s.auth_ = std::make_unique<S::Auth>();
    if (mech == "PLAIN") {
      if (initial.empty()) {
        s.auth_step_ = 3;
        reply(s, 334, "", "", "AUTH");  // RFC 4954 4: empty challenge
        enter(s, ServerState::auth, "AUTH PLAIN");
        return;
      }
      finish_plain(s, initial);
    } else {
      if (initial.empty()) {
        s.auth_step_ = 1;
        reply(s, 334, "", "VXNlcm5hbWU6", "AUTH");  // "Username:"
        enter(s, ServerState::auth, "AUTH LOGIN");
        return;
      }
      auto user = initial == "=" ? std::optional<std::string>("") : base64_decode(initial);
      if (!user) {
        reply(s, 501, "5.5.2", "Cannot decode response (base64)", "AUTH");
        return;
      }
      s.auth_->login_user = *user;
      s.auth_step_ = 2;
      reply(s, 334, "", "UGFzc3dvcmQ6", "AUTH");  // "Password:"
      enter(s, ServerState::auth, "AUTH LOGIN");
    }
  }

  static void auth_done(S& s, bool ok, std::string_view user) {
    s.auth_step_ = 0;
    ServerState back = s.auth_return_;
    if (ok) {
      s.auth_->user.assign(user);
      reply(s, 235, "2.7.0", "Authentication successful", "AUTH");
    } else {
      reply(s, 535, "5.7.8", "Authentication credentials invalid", "AUTH");
    }
    if (s.state_ == ServerState::auth) enter(s, back, ok ? "AUTH 235" : "AUTH 535");
  }

  static void finish_plain(S& s, std::string_view b64) {
    // RFC 4616 2: message = [authzid] UTF8NUL authcid UTF8NUL passwd
    auto msg = b64 == "=" ? std::optional<std::string>("") : base64_decode(b64);
    if (!msg) {
      s.auth_step_ = 0;
      reply(s, 501, "5.5.2", "Cannot decode response (base64)", "AUTH");
      if (s.state_ == ServerState::auth) enter(s, s.auth_return_, "AUTH 501");
      return;
    }
    size_t a = msg->find('\0');
    size_t b = a == std::string::npos ? std::string::npos : msg->find('\0', a + 1);
    if (b == std::string::npos) {
      auth_done(s, false, {});
      return;
    }
    std::string_view all(*msg);
    std::string_view authzid = all.substr(0, a), user = all.substr(a + 1, b - a - 1), pass = all.substr(b + 1);
    bool ok = s.policy_.authenticate(ctx(s), authzid, user, pass);
    auth_done(s, ok, user);
  }

  static void auth_line(S& s, std::string_view line) {
    if (s.record_received_) record_received(s, Kind::smtp_command, "(AUTH response)", line, "AUTH");
    if (line == "*") {  // RFC 4954 4: the client cancels
      s.auth_step_ = 0;
      reply(s, 501, "5.7.0", "Authentication cancelled", "AUTH");
      enter(s, s.auth_return_, "AUTH cancelled");
      return;
    }
    if (s.auth_step_ == 3) {
      finish_plain(s, line);
    } else if (s.auth_step_ == 1) {
      auto user = base64_decode(line);
      if (!user) {
        s.auth_step_ = 0;
        reply(s, 501, "5.5.2", "Cannot decode response (base64)", "AUTH");
        enter(s, s.auth_return_, "AUTH 501");
        return;
      }
      s.auth_->login_user = *user;
      s.auth_step_ = 2;
      reply(s, 334, "", "UGFzc3dvcmQ6", "AUTH");
    } else {
      auto pass = base64_decode(line);
      if (!pass) {
        s.auth_step_ = 0;
        reply(s, 501, "5.5.2", "Cannot decode response (base64)", "AUTH");
        enter(s, s.auth_return_, "AUTH 501");
        return;
      }
      bool ok = s.policy_.authenticate(ctx(s), {}, s.auth_->login_user, *pass);
      auth_done(s, ok, s.auth_->login_user);
    }
  }

  static void record_received(S& s, Kind kind, std::string text, std::string_view wire, std::string_view verb) {
    if (!s.tracing_) return;
    Record r;
    r.kind = kind;
    r.src = s.peer_host();
    r.dst = s.local_host();
    r.session = s.session_id_;
    r.text = std::move(text);
    r.wire.assign(wire);
    if (!verb.empty()) r.with("verb", std::string(verb));
    s.out_->records.push_back(std::move(r));
  }

  static const Entry* entry(Verb v);

  // ---- fault application

  enum class FaultResult { none, handled, delay, drop_final };

  static FaultResult apply_fault(S& s, FaultVerb fv, std::string_view rcpt, std::string_view verb_text,
                                 const ServerFault** out) {
    if (!s.cfg_.faults || s.cfg_.faults->empty()) return FaultResult::none;
    const ServerFault* f = s.cfg_.faults->strike(fv, rcpt);
    if (!f) return FaultResult::none;
    *out = f;
    std::string label = f->label.empty() ? "fault at " + std::string(fault_verb_name(fv)) : f->label;
    switch (f->kind) {
      case ServerFault::Kind::reply: {
        record(s, Kind::smtp_error, label + ": injected reply " + std::to_string(f->code));
        Reply r;
        r.code = f->code;
        r.enhanced = f->code / 100 == 4 ? "4.0.0" : "5.0.0";
        r.lines.push_back(f->text.empty() ? std::string(f->code / 100 == 4 ? "Temporary failure (injected)"
                                                                           : "Permanent failure (injected)")
                                          : f->text);
        send_reply(s, with_enhanced(s, r), verb_text);
        // A 421 always closes (RFC 5321 3.8); a 554 greeting refuses.
        if (f->code == 421) close(s, "fault: 421");
        return FaultResult::handled;
      }
      case ServerFault::Kind::delay:
        record(s, Kind::smtp_error, label + ": reply delayed by " + format_duration(f->delay));
        return FaultResult::delay;
      case ServerFault::Kind::disconnect:
        record(s, Kind::smtp_error, label + ": connection closed without a reply");
        close(s, "fault: disconnect");
        return FaultResult::handled;
      case ServerFault::Kind::shutdown:
        record(s, Kind::smtp_error, label + ": 421 and close");
        reply(s, 421, "4.3.2", s.cfg_.hostname + " Service not available, closing transmission channel", verb_text);
        close(s, "fault: 421");
        return FaultResult::handled;
      case ServerFault::Kind::drop_final_reply:
        return FaultResult::drop_final;
    }
    return FaultResult::none;
  }

  // Marks the output so far; after processing, what was appended moves to
  // the held buffers (delay fault).
  struct Mark {
    size_t bytes, records, effects;
  };
  static Mark mark(const S& s) { return Mark{s.out_->bytes.size(), s.out_->records.size(), s.out_->effects.size()}; }

  static void hold_since(S& s, const Mark& m, SimTime delay) {
    if (!s.held_) s.held_ = std::make_unique<S::Held>();
    S::Held& h = *s.held_;
    h.bytes.append(s.out_->bytes, m.bytes, std::string::npos);
    s.out_->bytes.resize(m.bytes);
    for (size_t i = m.records; i < s.out_->records.size(); ++i) h.records.push_back(std::move(s.out_->records[i]));
    s.out_->records.resize(m.records);
    for (size_t i = m.effects; i < s.out_->effects.size(); ++i) h.effects.push_back(std::move(s.out_->effects[i]));
    s.out_->effects.resize(m.effects);
    if (s.out_->closed) {
      s.out_->closed = false;
      h.close_after = true;
    }
    h.until = later(s.now_, delay);
  }

  static void release(S& s) {
    if (s.held_) {
      S::Held& h = *s.held_;
      s.out_->bytes += h.bytes;
      for (Record& r : h.records) s.out_->records.push_back(std::move(r));
      for (Effect& e : h.effects) s.out_->add_effect(std::move(e));
      if (h.close_after) s.out_->closed = true;
      s.held_.reset();
    }
  }

  // Drop-final-reply: the 250 (already queued by the policy) never leaves.
  static void drop_since(S& s, const Mark& m) {
    s.out_->bytes.resize(m.bytes);
    std::vector<Record> keep;
    for (size_t i = m.records; i < s.out_->records.size(); ++i)
      if (s.out_->records[i].kind != Kind::smtp_reply) keep.push_back(std::move(s.out_->records[i]));
    s.out_->records.resize(m.records);
    for (Record& r : keep) s.out_->records.push_back(std::move(r));
    record(s, Kind::smtp_error, "drop-final-reply: message queued, connection breaks before the 250 is sent (RFC 1047)");
    close(s, "fault: drop-final-reply");
  }

  static FaultVerb fault_verb_of(Verb v) {
    switch (v) {
      case Verb::ehlo: return FaultVerb::ehlo;
      case Verb::helo: return FaultVerb::helo;
      case Verb::mail: return FaultVerb::mail;
      case Verb::rcpt: return FaultVerb::rcpt;
      case Verb::data: return FaultVerb::data;
      case Verb::rset: return FaultVerb::rset;
      case Verb::quit: return FaultVerb::quit;
      case Verb::vrfy: return FaultVerb::vrfy;
      case Verb::noop: return FaultVerb::noop;
      case Verb::auth: return FaultVerb::auth;
      case Verb::starttls: return FaultVerb::starttls;
      default: return FaultVerb::connect;  // never used for these
    }
  }

  // ---- dispatch

  static void dispatch(S& s, std::string_view line) {
    CommandLine c = split_command(line);
    if (s.record_received_ && s.tracing_)
      record_received(s, Kind::smtp_command, std::string(line), std::string(line) + "\r\n", c.verb_text);
    if (c.verb == Verb::unknown) {
      // RFC 5321 4.2.4: 500 for an unrecognised command (never closes).
      reply(s, 500, "5.5.2", line.empty() ? "Error: empty command" : "Error: command not recognized", c.verb_text);
      return;
    }
    if (!c.had_separator && line.size() > c.verb_text.size()) {
      reply(s, 500, "5.5.2", "Error: command not recognized", c.verb_text);
      return;
    }
    const CommandInfo& info = kCommandInfo[static_cast<size_t>(c.verb)];
    // RFC 5321 3.1: after a 554 greeting, 503 to everything but QUIT.
    if (s.state_ == ServerState::refused && c.verb != Verb::quit) {
      reply(s, 503, "5.5.1", "Error: no service here, only QUIT", c.verb_text);
      return;
    }
    if (!command_available(s, c.verb)) {
      reply(s, 502, "5.5.1", std::string(info.name) + " command not implemented here", c.verb_text);
      return;
    }
    if (!(info.flags & kCmdBeforeHelo) && !s.helo_seen_ && s.state_ != ServerState::refused) {
      reply(s, 503, "5.5.1", "Error: send HELO/EHLO first", c.verb_text);
      return;
    }
    if (!(info.flags & kCmdBeforeTls) && s.cfg_.require_tls && !s.tls_) {
      reply(s, 530, "5.7.0", "Must issue a STARTTLS command first", c.verb_text);
      return;
    }
    MailArg parsed;  // lives for this command only: no session keeps a parsed path between commands
    s.parsed_ = &parsed;
    run_entry(s, *entry(c.verb), c);
    s.parsed_ = nullptr;
  }

  // The entry's check, the fault hooks, then the entry's proceed.
  static void run_entry(S& s, const Entry& e, const CommandLine& c) {
    if (!e.check(s, c)) return;
    const ServerFault* f = nullptr;
    FaultResult fr = apply_fault(s, e.fault, c.verb == Verb::rcpt ? std::string_view(s.parsed_->path.mailbox) : "",
                                 c.verb_text, &f);
    if (fr == FaultResult::handled) return;
    Mark m = mark(s);
    e.proceed(s, c);
    if (fr == FaultResult::delay) hold_since(s, m, f->delay);
  }

  // ---- end of data

  static void end_of_data(S& s) {
    S::Txn& t = txn(s);
    if (s.record_received_ && s.tracing_) {
      Record r;
      r.kind = Kind::smtp_data;
      r.src = s.peer_host();
      r.dst = s.local_host();
      r.session = s.session_id_;
      r.text = "message content, " + std::to_string(t.body_size) + " octets";
      r.wire = t.body.size() <= 65536 ? t.body : t.body.substr(0, 65536);
      r.with("size", std::to_string(t.body_size));
      s.out_->records.push_back(std::move(r));
    }
    const ServerFault* f = nullptr;
    FaultResult fr = apply_fault(s, FaultVerb::eod, "", "EOD", &f);
    if (fr == FaultResult::handled) {
      if (s.state_ == ServerState::data) enter(s, ServerState::ready, "end of data (fault)");
      reset_txn(s);
      return;
    }
    Mark m = mark(s);
    if (t.body_bad_line_end) {
      // Smuggling defence (see receive_data): refuse the whole message.
      reply(s, 554, "5.6.0", "Message refused: bare CR or LF in data (RFC 5321 2.3.8; SMTP smuggling defence)", "EOD");
    } else if (t.body_too_big) {
      reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size", "EOD");  // RFC 1870 6.3
    } else if (t.body_line_too_long) {
      reply(s, 500, "5.5.2", "Line too long (RFC 5321 4.5.3.1.6: 1000 octets)", "EOD");
    } else {
      Reply r = s.policy_.accept_message(ctx(s), t.env, t.body);
      if (r.code < 200 || r.code > 599 || r.intermediate()) r = Reply{451, "4.3.0", "Error: policy gave no verdict"};
      // The effect names the reply as the policy gave it; the wire gets it
      // with the session's enhanced-code rule applied (r moves there).
      const bool accepted = r.positive();
      std::string detail = accepted ? r.summary() : std::string();
      send_reply(s, with_enhanced(s, std::move(r)), "EOD");
      if (accepted) {
        ++s.accepted_;
        s.out_->add_effect(Effect{EffectKind::message_accepted, s.accepted_, std::move(detail)});
      }
    }
    reset_txn(s);
    enter(s, ServerState::ready, "end of data");
    if (fr == FaultResult::delay) hold_since(s, m, f->delay);
    else if (fr == FaultResult::drop_final) drop_since(s, m);
  }

  // Data transparency decoder (RFC 5321 4.5.2). Consumes input from in_pos_;
  // returns after the end of data or when input runs out.
  //
  // Decision on bare CR / bare LF (RFC 5321 2.3.8 forbids them; the 2023
  // "SMTP smuggling" attacks hide "<LF>.<LF>" or "<CR>.<CR>" in a message so
  // one server sees the end of data and another does not): we REJECT. Only
  // CRLF "." CRLF ends the data, a bare CR or LF never starts a new line,
  // and a message containing one is refused with 554 at the end of data.
  // We chose rejecting over normalising because normalising means guessing
  // what the sender meant (and would store a message whose line structure
  // differs from what any other hop saw); no conforming client sends bare
  // line ends, so refusing costs nothing legitimate, and nothing ambiguous is
  // ever queued or relayed.
  static void receive_data(S& s) {
    S::Txn& t = txn(s);
    const char* const base = s.in_view_.data();
    const char* p = base + s.in_pos_;
    const char* end = base + s.in_view_.size();
    const int64_t limit = s.cfg_.max_message_size;
    const size_t max_text = s.cfg_.max_text_line >= 2 ? s.cfg_.max_text_line - 2 : 0;
    auto store = [&](const char* a, size_t n) {
      t.body_size += static_cast<int64_t>(n);
      if (t.body_size > limit) {
        t.body_too_big = true;
        return;
      }
      t.body.append(a, n);
    };
    auto line_octets = [&](size_t n) {
      t.body_line_len += n;
      if (t.body_line_len > max_text) t.body_line_too_long = true;
    };
    // Whole lines that end in CRLF are kept as they arrived: they join a run
    // [run, p) stored in one append, cut only where the stored message
    // differs from the wire (a removed dot, a bare CR or LF) or the input ends.
    const char* run = nullptr;
    auto flush = [&] {
      if (run) store(run, static_cast<size_t>(p - run));
      run = nullptr;
    };
    while (p < end) {
      switch (t.body_dot_state) {
        case 0: {  // at the start of a line
          if (*p == '.') {
            flush();
            t.body_dot_state = 1;
            ++p;
          } else {
            t.body_dot_state = 4;
          }
          break;
        }
        case 1: {  // "." at line start seen
          if (*p == '\r') {
            t.body_dot_state = 2;
            ++p;
          } else {
            // RFC 5321 4.5.2: the first "." of a line with more characters is
            // deleted (un-stuffing); a single-dot line never gets here.
            line_octets(1);
            t.body_dot_state = 4;
          }
          break;
        }
        case 2: {  // ".\r" at line start
          if (*p == '\n') {
            ++p;
            s.in_pos_ = static_cast<size_t>(p - base);
            end_of_data(s);
            return;
          }
          // ".\r" then something else: a bare CR.
          t.body_bad_line_end = true;
          flush();
          store("\r", 1);
          line_octets(2);
          t.body_dot_state = 4;
          break;
        }
        case 3: {  // CR seen in the middle of a line
          flush();
          if (*p == '\n') {
            store("\r\n", 2);
            ++p;
            t.body_line_len = 0;
            t.body_dot_state = 0;
          } else {
            t.body_bad_line_end = true;  // bare CR
            store("\r", 1);
            line_octets(1);
            t.body_dot_state = 4;
          }
          break;
        }
        default: {  // 4: inside a line: copy up to the next CR or LF in one go
          // The line end is found 16 octets at a time (scan.hpp); the common
          // CRLF is stored with its line in one append, back to state 0.
          const char* q = scan::find_cr_or_lf(p, end);
          if (q + 1 < end && q[0] == '\r' && q[1] == '\n') {
            line_octets(static_cast<size_t>(q - p));
            if (!run) run = p;
            p = q + 2;
            t.body_line_len = 0;
            t.body_dot_state = 0;
            break;
          }
          flush();
          if (q > p) {
            store(p, static_cast<size_t>(q - p));
            line_octets(static_cast<size_t>(q - p));
          }
          p = q;
          if (p < end) {
            if (*p == '\r') {
              t.body_dot_state = 3;
            } else {
              t.body_bad_line_end = true;  // bare LF: stays inside the line
              store("\n", 1);
              line_octets(1);
            }
            ++p;
          }
          break;
        }
      }
    }
    flush();
    s.in_pos_ = static_cast<size_t>(p - base);
  }

  // ---- input loop

  // Runs the machine over `data` (the caller's bytes when nothing was left
  // over, so the usual case copies nothing; else in_ with the new bytes
  // appended). While it runs, in_view_/in_pos_ are the input and the read
  // position; dropping the rest of the input (STARTTLS, a server that does
  // not honour pipelining, close) truncates in_view_. What is left unread at
  // the end (a partial line, input held back by a delay fault) is kept in in_.
  static void process(S& s, std::string_view data) {
    s.in_view_ = data;
    s.in_pos_ = 0;
    run(s);
    std::string_view rest = s.in_view_.substr(std::min(s.in_pos_, s.in_view_.size()));
    if (rest.empty()) s.in_.reset();
    else if (s.in_ && rest.data() >= s.in_->data() && rest.data() < s.in_->data() + s.in_->size())
      s.in_->erase(0, static_cast<size_t>(rest.data() - s.in_->data()));
    else if (s.in_) s.in_->assign(rest);
    else s.in_ = std::make_unique<std::string>(rest);
    s.in_view_ = {};
    s.in_pos_ = 0;
  }

  static void run(S& s) {
    while (s.state_ != ServerState::closed && !s.holding() && s.in_pos_ < s.in_view_.size()) {
      if (s.state_ == ServerState::data) {
        receive_data(s);
        continue;
      }
      const size_t limit = s.state_ == ServerState::auth ? s.cfg_.max_auth_line : s.cfg_.max_command_line;
      // A command ends only at CRLF (RFC 5321 2.3.8); bare CR/LF inside a
      // command line make it invalid (reply at the CRLF).
      size_t crlf = s.in_view_.find("\r\n", s.in_pos_);
      if (crlf == std::string_view::npos) {
        size_t have = s.in_view_.size() - s.in_pos_;
        if (have + 2 > limit || s.discarding_line_) {
          // RFC 5321 4.5.3.1.4: too long; drop it (keeping a trailing CR that
          // may start the CRLF) and answer when the line finally ends.
          if (!s.discarding_line_ && s.tracing_)
            record(s, Kind::smtp_error, "command line longer than " + std::to_string(limit) + " octets");
          s.discarding_line_ = true;
          const bool keep_cr = s.in_view_.back() == '\r';
          s.in_pos_ = s.in_view_.size() - (keep_cr ? 1 : 0);
        }
        break;
      }
      std::string_view line = s.in_view_.substr(s.in_pos_, crlf - s.in_pos_);
      s.in_pos_ = crlf + 2;
      if (s.discarding_line_) {
        s.discarding_line_ = false;
        reply(s, 500, "5.5.2", "Error: line too long", "");
        continue;
      }
      if (line.size() + 2 > limit) {
        if (s.tracing_) record(s, Kind::smtp_error, "command line longer than " + std::to_string(limit) + " octets");
        reply(s, 500, "5.5.2", "Error: line too long", "");
        continue;
      }
      if (scan::has_cr_or_lf(line)) {
        if (s.tracing_) record(s, Kind::smtp_error, "bare CR or LF inside a command line");
        reply(s, 500, "5.5.2", "Error: bare CR or LF in command (RFC 5321 2.3.8)", "");
        continue;
      }
      size_t before = s.in_pos_;
      if (s.state_ == ServerState::auth) auth_line(s, line);
      else dispatch(s, line);
      // A server that does not honour pipelining loses whatever the client
      // sent before seeing this reply (the lesson of RFC 2920 2).
      if (!s.cfg_.honour_pipelining && s.state_ != ServerState::data && s.state_ != ServerState::closed &&
          before == s.in_pos_ && s.in_pos_ < s.in_view_.size()) {
        if (s.tracing_)
          record(s, Kind::smtp_error,
                 "pipelining not honoured: discarding " + std::to_string(s.in_view_.size() - s.in_pos_) + " octets");
        s.in_view_ = s.in_view_.substr(0, s.in_pos_);
      }
    }
  }

  // now + d, saturating at SimTime::max() (found by fuzz_server_session:
  // a timer called very late must not overflow).
  static SimTime later(SimTime now, SimTime d) { return now > SimTime::max() - d ? SimTime::max() : now + d; }

  static void rearm(S& s) {
    if (s.state_ == ServerState::closed) {
      s.idle_deadline_ = SimTime::max();
    } else {
      s.idle_deadline_ = later(s.now_, s.state_ == ServerState::data ? s.cfg_.timeouts.data_block : s.cfg_.timeouts.command);
    }
    // While a delay fault holds a reply the server is "busy": its own idle
    // timer does not run (the client's may).
    s.deadline_ = s.holding() ? s.held_->until : s.idle_deadline_;
  }
};

namespace {
using I = ServerSession::Impl;
const I::Entry kEntries[kVerbCount] = {
    {&I::check_helo, &I::proceed_helo, FaultVerb::ehlo},          // EHLO
    {&I::check_helo, &I::proceed_helo, FaultVerb::helo},          // HELO
    {&I::check_mail, &I::proceed_mail, FaultVerb::mail},          // MAIL
    {&I::check_rcpt, &I::proceed_rcpt, FaultVerb::rcpt},          // RCPT
    {&I::check_data, &I::proceed_data, FaultVerb::data},          // DATA
    {&I::check_no_arg, &I::proceed_rset, FaultVerb::rset},        // RSET
    {&I::check_any, &I::proceed_noop, FaultVerb::noop},           // NOOP
    {&I::check_no_arg, &I::proceed_quit, FaultVerb::quit},        // QUIT
    {&I::check_vrfy, &I::proceed_vrfy, FaultVerb::vrfy},          // VRFY
    {&I::check_vrfy, &I::proceed_vrfy, FaultVerb::vrfy},          // EXPN
    {&I::check_help, &I::proceed_help, FaultVerb::noop},          // HELP (faults: as NOOP)
    {&I::check_starttls, &I::proceed_starttls, FaultVerb::starttls},  // STARTTLS
    {&I::check_auth, &I::proceed_auth, FaultVerb::auth},          // AUTH
};
}  // namespace

const ServerSession::Impl::Entry* ServerSession::Impl::entry(Verb v) { return &kEntries[static_cast<size_t>(v)]; }

ServerSession::ServerSession(const ServerConfig& config, ServerPolicy& policy, SessionInfo info)
    : cfg_(config),
      policy_(policy),
      names_({info.local_host, info.peer_host, info.peer_address, {}}),
      session_id_(info.session_id),
      submission_(info.submission) {}

SessionInfo ServerSession::info() const {
  SessionInfo i;
  i.local_host = local_host();
  i.peer_host = peer_host();
  i.peer_address = peer_address();
  i.session_id = session_id_;
  i.submission = submission_;
  return i;
}

const std::string& ServerSession::auth_user() const {
  static const std::string kNone;
  return auth_ ? auth_->user : kNone;
}

void ServerSession::start(SimTime now) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ != ServerState::idle) return;
  if (tracing_)
    Impl::record(*this, Kind::smtp_session_open, "server session opens (" + std::string(peer_host()) + " -> " + std::string(local_host()) + ")");
  const ServerFault* f = nullptr;
  Impl::Mark m = Impl::mark(*this);
  Impl::FaultResult fr = Impl::apply_fault(*this, FaultVerb::connect, "", "CONNECT", &f);
  if (fr == Impl::FaultResult::handled) {
    if (state_ == ServerState::idle) Impl::enter(*this, ServerState::refused, "greeting fault");
  } else if (cfg_.refuse) {
    // RFC 5321 3.1: a 554 greeting; the server then waits for QUIT.
    Impl::reply(*this, 554, "", cfg_.hostname + " No SMTP service here");
    Impl::enter(*this, ServerState::refused, "554 greeting");
  } else {
    Impl::reply(*this, 220, "", cfg_.greeting_text());
    Impl::enter(*this, ServerState::greeting, "220 greeting");
  }
  if (fr == Impl::FaultResult::delay) Impl::hold_since(*this, m, f->delay);
  Impl::rearm(*this);
}

void ServerSession::receive(SimTime now, std::string_view bytes) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ == ServerState::closed || state_ == ServerState::idle) return;
  if (!in_ || in_->empty()) {
    Impl::process(*this, bytes);  // nothing left over: read the caller's bytes in place
  } else {
    in_->append(bytes);
    Impl::process(*this, *in_);
  }
  Impl::rearm(*this);
}

void ServerSession::on_timer(SimTime now) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (holding() && now >= held_->until) {
    Impl::release(*this);
    if (state_ != ServerState::closed && in_ && !in_->empty()) Impl::process(*this, *in_);
    Impl::rearm(*this);
    return;
  }
  if (state_ != ServerState::closed && state_ != ServerState::idle && now >= idle_deadline_) {
    // RFC 5321 4.5.3.2.7 + 3.8: the server gives up with 421.
    Impl::record(*this, Kind::smtp_timeout,
                 "server timeout in state " + std::string(server_state_name(state_)) + " (RFC 5321 4.5.3.2.7)");
    if (tracing_) out_->records.back().with("state", std::string(server_state_name(state_)));
    Impl::reply(*this, 421, "4.4.2", cfg_.hostname + " Error: timeout exceeded");
    Impl::close(*this, "timeout");
  }
  Impl::rearm(*this);
}

void ServerSession::shutdown(SimTime now) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ == ServerState::closed) return;
  if (holding()) Impl::release(*this);
  if (state_ == ServerState::closed) return;
  // RFC 5321 3.8: 421 before closing when the service must shut down.
  Impl::reply(*this, 421, "4.3.2", cfg_.hostname + " Service not available, closing transmission channel");
  Impl::close(*this, "shutdown");
  Impl::rearm(*this);
}

void ServerSession::peer_closed(SimTime now) {
  now_ = now;
  out_->unpark(tracing_);  // parked output storage, if this step writes (see Output::clear)
  if (state_ == ServerState::closed) return;
  held_.reset();
  if (state_ == ServerState::data || state_ == ServerState::mail || state_ == ServerState::rcpt)
    Impl::record(*this, Kind::smtp_error, "client went away in a transaction: nothing accepted");
  Impl::reset_txn(*this);
  Impl::close(*this, "peer closed");
  Impl::rearm(*this);
}

std::string notify_to_string(uint8_t n) {
  if (n & kNotifyNever) return "NEVER";
  std::string s;
  auto add = [&](uint8_t bit, const char* name) {
    if (!(n & bit)) return;
    if (!s.empty()) s.push_back(',');
    s += name;
  };
  add(kNotifySuccess, "SUCCESS");
  add(kNotifyFailure, "FAILURE");
  add(kNotifyDelay, "DELAY");
  return s;
}

}  // namespace smtplab::smtp
