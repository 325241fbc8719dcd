// sim/pop3/pop3.cpp: the POP3 server command table and the fetching client.
//
// Must never: grow a buffer without bound; delete a message outside the
// UPDATE state (RFC 1939 6); renumber messages within a session (RFC 1939 5).
#include "sim/pop3/pop3.hpp"

#include <charconv>

namespace smtplab::pop3 {

namespace {

constexpr size_t kMaxArg = 40;                    // RFC 1939 3: arguments up to 40 characters
constexpr size_t kClientMaxLine = 64 * 1024;      // content lines may exceed 512; cap anyway
constexpr size_t kClientMaxMessage = 64u << 20;   // refuse to buffer more than 64 MiB

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return r;
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> w;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) w.push_back(s.substr(i, j - i));
    i = j;
  }
  return w;
}

std::optional<uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

const char* state_upper(ServerState s) {
  switch (s) {
    case ServerState::authorization: return "AUTHORIZATION";
    case ServerState::transaction: return "TRANSACTION";
    case ServerState::update: return "UPDATE";
    case ServerState::closed: return "CLOSED";
  }
  return "?";
}

}  // namespace

std::string_view state_name(ServerState s) {
  switch (s) {
    case ServerState::authorization: return "authorization";
    case ServerState::transaction: return "transaction";
    case ServerState::update: return "update";
    case ServerState::closed: return "closed";
  }
  return "?";
}

std::string_view state_name(ClientState s) {
  switch (s) {
    case ClientState::greeting: return "greeting";
    case ClientState::user: return "user";
    case ClientState::pass: return "pass";
    case ClientState::stat: return "stat";
    case ClientState::uidl: return "uidl";
    case ClientState::list: return "list";
    case ClientState::retr: return "retr";
    case ClientState::dele: return "dele";
    case ClientState::quit: return "quit";
    case ClientState::done: return "done";
    case ClientState::failed: return "failed";
  }
  return "?";
}

std::string stuff_multiline(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 64 + 8);
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // RFC 1939 3: "If any line of the multi-line response begins with the
    // termination octet, the line is byte-stuffed by pre-pending" one.
    if (!line.empty() && line.front() == '.') out.push_back('.');
    out.append(line);
    out += "\r\n";
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  out += ".\r\n";
  return out;
}

std::string_view unstuff_line(std::string_view line) {
  if (line.size() >= 2 && line[0] == '.') line.remove_prefix(1);
  return line;
}

// ============================================================================
// Server
// ============================================================================

struct Server::Cmd {
  std::string verb;                     // upper case
  std::vector<std::string_view> args;   // space-separated words
  std::string_view rest;                // everything after the verb and one space (PASS)
};

constexpr unsigned kAuth = 1, kTrans = 2;

struct Server::Entry {
  std::string_view verb;
  unsigned states;
  int min_args, max_args;  // -1 max: the rest of the line is one argument
  void (Server::*proceed)(SessionOutput&, const Cmd&);
  std::string_view syntax, summary;
};

const std::vector<Server::Entry>& Server::table() {
  // RFC 1939 4-7 (and RFC 2449 for CAPA). One row per verb: where it is
  // allowed, how many arguments it takes, what it does.
  static const std::vector<Entry> t = {
      {"USER", kAuth, 1, 1, &Server::h_user, "USER name", "name the mailbox to open"},
      {"PASS", kAuth, 1, -1, &Server::h_pass, "PASS string", "the password (after USER); opens and locks the maildrop"},
      {"QUIT", kAuth | kTrans, 0, 0, &Server::h_quit, "QUIT", "end the session; in TRANSACTION, enter UPDATE and remove deleted messages"},
      {"STAT", kTrans, 0, 0, &Server::h_stat, "STAT", "number of messages and total size"},
      {"LIST", kTrans, 0, 1, &Server::h_list, "LIST [msg]", "size of one or every message"},
      {"UIDL", kTrans, 0, 1, &Server::h_uidl, "UIDL [msg]", "unique id of one or every message"},
      {"RETR", kTrans, 1, 1, &Server::h_retr, "RETR msg", "the whole message (multi-line, byte-stuffed)"},
      {"TOP", kTrans, 2, 2, &Server::h_top, "TOP msg n", "the headers and the first n body lines"},
      {"DELE", kTrans, 1, 1, &Server::h_dele, "DELE msg", "mark a message deleted (removed at QUIT)"},
      {"NOOP", kTrans, 0, 0, &Server::h_noop, "NOOP", "do nothing, reply +OK"},
      {"RSET", kTrans, 0, 0, &Server::h_rset, "RSET", "unmark every message marked deleted"},
      {"CAPA", kAuth | kTrans, 0, 0, &Server::h_capa, "CAPA", "list the capabilities (RFC 2449)"},
  };
  return t;
}

std::vector<Server::CommandInfo> Server::commands() {
  std::vector<CommandInfo> v;
  for (const Entry& e : table()) {
    std::string_view st = e.states == (kAuth | kTrans) ? "AUTHORIZATION, TRANSACTION"
                          : e.states == kAuth          ? "AUTHORIZATION"
                                                       : "TRANSACTION";
    v.push_back(CommandInfo{e.verb, st, e.syntax, e.summary});
  }
  return v;
}

Server::Server(Backend& backend, ServerConfig config, mail::SessionInfo info)
    : backend_(backend), config_(std::move(config)), info_(std::move(info)) {}

Server::~Server() { release(); }

void Server::release() {
  if (box_) box_->unlock();
  box_ = nullptr;
}

Record Server::make(Kind kind, std::string text) const {
  Record r;
  r.kind = kind;
  r.src = info_.local_host;
  r.dst = info_.peer_host;
  r.session = info_.session_id;
  r.text = std::move(text);
  return r;
}

void Server::enter(ServerState next, SessionOutput& out, std::string_view why) {
  if (next == state_) return;
  Record r = make(Kind::pop3_state, std::string(state_upper(state_)) + " -> " + state_upper(next) +
                                        (why.empty() ? "" : ": " + std::string(why)));
  r.with("state", std::string(state_name(next))).with("from", std::string(state_name(state_))).with("role", "server");
  out.records.push_back(std::move(r));
  state_ = next;
}

void Server::reply(SessionOutput& out, bool ok, std::string_view text, std::string_view verb) {
  std::string line = std::string(ok ? "+OK" : "-ERR") + (text.empty() ? "" : " " + std::string(text));
  Record r = make(Kind::pop3_reply, line);
  r.wire = line + "\r\n";
  r.with("code", ok ? "+OK" : "-ERR").with("verb", std::string(verb)).with("state", std::string(state_name(state_)));
  out.send += r.wire;
  out.records.push_back(std::move(r));
}

void Server::reply_multi(SessionOutput& out, std::string_view first, std::string_view body, std::string_view verb) {
  std::string wire = "+OK" + (first.empty() ? std::string() : " " + std::string(first)) + "\r\n" + stuff_multiline(body);
  Record r = make(Kind::pop3_reply, "+OK" + (first.empty() ? std::string() : " " + std::string(first)));
  r.with("code", "+OK").with("verb", std::string(verb)).with("state", std::string(state_name(state_)));
  r.with("multiline", "1");
  out.send += wire;
  r.wire = std::move(wire);
  out.records.push_back(std::move(r));
}

SessionOutput Server::start(SimTime now) {
  now_ = now;
  SessionOutput out;
  // RFC 1939 4: the greeting puts the session in the AUTHORIZATION state.
  reply(out, true, config_.host + " POP3 server ready", "greeting");
  out.deadline = now + config_.autologout;
  return out;
}

SessionOutput Server::receive(SimTime now, std::string_view bytes) {
  now_ = now;
  SessionOutput out;
  if (closed()) return out;
  inbuf_.append(bytes);
  size_t pos = 0;
  while (!closed()) {
    size_t nl = inbuf_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(inbuf_.data() + pos, nl - pos);
    pos = nl + 1;
    if (discarding_) {  // the tail of a line already refused as too long
      discarding_ = false;
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    handle_line(out, line);
  }
  inbuf_.erase(0, pos);
  if (!closed() && inbuf_.size() > config_.max_line) {
    inbuf_.clear();
    discarding_ = true;
    reply(out, false, "line too long (at most " + std::to_string(config_.max_line) + " octets)", "");
    if (++bad_ >= config_.max_bad_commands) {
      reply(out, false, "too many bad commands, closing", "");
      release();
      enter(ServerState::closed, out, "too many bad commands");
      out.close = true;
    }
  }
  if (closed()) inbuf_.clear();
  if (!closed()) out.deadline = now + config_.autologout;
  return out;
}

void Server::handle_line(SessionOutput& out, std::string_view line) {
  size_t sp = line.find(' ');
  Cmd cmd;
  cmd.verb = upper(line.substr(0, sp));
  if (sp != std::string_view::npos) cmd.rest = line.substr(sp + 1);
  cmd.args = split_words(cmd.rest);

  auto bad = [&](std::string why) {
    reply(out, false, why, cmd.verb);
    if (++bad_ >= config_.max_bad_commands) {
      reply(out, false, "too many bad commands, closing", cmd.verb);
      release();
      enter(ServerState::closed, out, "too many bad commands");
      out.close = true;
    }
  };

  const Entry* e = nullptr;
  for (const Entry& t : table())
    if (t.verb == cmd.verb) e = &t;
  if (!e) return bad(cmd.verb.empty() ? "empty command" : "unknown command " + cmd.verb.substr(0, 16));
  unsigned mask = state_ == ServerState::authorization ? kAuth : state_ == ServerState::transaction ? kTrans : 0;
  if (!(e->states & mask))
    return bad(cmd.verb + " is not allowed in the " + state_upper(state_) + " state" +
               (state_ == ServerState::authorization ? " (log in with USER and PASS first)" : ""));
  int n = static_cast<int>(cmd.args.size());
  if (n < e->min_args || (e->max_args >= 0 && n > e->max_args)) return bad("syntax: " + std::string(e->syntax));
  if (e->max_args >= 0)
    for (std::string_view a : cmd.args)
      if (a.size() > kMaxArg) return bad("argument too long (at most 40 characters)");
  (this->*(e->proceed))(out, cmd);
}

std::optional<size_t> Server::message_arg(SessionOutput& out, std::string_view arg, std::string_view verb) {
  auto n = parse_number(arg);
  if (!n) {
    reply(out, false, "invalid message number \"" + std::string(arg.substr(0, 16)) + "\"", verb);
    return std::nullopt;
  }
  if (*n == 0 || *n > uids_.size()) {
    reply(out, false, "no such message, only " + std::to_string(uids_.size()) + " messages in maildrop", verb);
    return std::nullopt;
  }
  size_t i = static_cast<size_t>(*n - 1);
  // RFC 1939 5: a message marked deleted may not be referred to.
  if (deleted_[i] || !box_->find(uids_[i])) {
    reply(out, false, "message " + std::to_string(*n) + " already deleted", verb);
    return std::nullopt;
  }
  return i;
}

void Server::h_user(SessionOutput& out, const Cmd& c) {
  user_ = std::string(c.args[0]);
  reply(out, true, "send PASS for " + user_, "USER");
}

void Server::h_pass(SessionOutput& out, const Cmd& c) {
  if (user_.empty()) return reply(out, false, "send USER first", "PASS");
  std::string user = std::move(user_);
  user_.clear();
  mail::Mailbox* box = backend_.authenticate(user, c.rest);
  // RFC 1939 7: do not reveal whether the name or the password was wrong.
  if (!box) return reply(out, false, "[AUTH] invalid user name or password", "PASS");
  // RFC 1939 8: exclusive access to the maildrop while the session lasts.
  if (!box->try_lock()) return reply(out, false, "[IN-USE] maildrop already locked by another session", "PASS");
  box_ = box;
  uids_.clear();
  for (const mail::StoredMessage& m : box_->messages()) uids_.push_back(m.uid);
  deleted_.assign(uids_.size(), false);
  int64_t octets = box_->total_bytes();
  enter(ServerState::transaction, out, "logged in as " + user);
  reply(out, true, user + "'s maildrop has " + std::to_string(uids_.size()) + " messages (" + std::to_string(octets) + " octets)",
        "PASS");
}

void Server::h_quit(SessionOutput& out, const Cmd&) {
  if (state_ == ServerState::authorization) {
    reply(out, true, config_.host + " POP3 server signing off", "QUIT");
    enter(ServerState::closed, out, "QUIT");
    out.close = true;
    return;
  }
  // RFC 1939 6: QUIT in TRANSACTION enters UPDATE: remove the marked messages.
  enter(ServerState::update, out, "QUIT: removing messages marked deleted");
  size_t removed = 0, failed = 0;
  for (size_t i = 0; i < uids_.size(); ++i)
    if (deleted_[i]) (box_->remove(uids_[i]) ? removed : failed)++;
  size_t left = box_->count();
  release();
  if (failed)
    reply(out, false, "some deleted messages not removed", "QUIT");
  else
    reply(out, true, config_.host + " POP3 server signing off (" + std::to_string(removed) + " deleted, " +
                         std::to_string(left) + " left)",
          "QUIT");
  enter(ServerState::closed, out, "");
  out.close = true;
}

void Server::h_stat(SessionOutput& out, const Cmd&) {
  size_t n = 0;
  int64_t octets = 0;
  for (size_t i = 0; i < uids_.size(); ++i)
    if (!deleted_[i])
      if (const auto* m = box_->find(uids_[i])) {
        ++n;
        octets += static_cast<int64_t>(m->data.size());
      }
  // RFC 1939 5: "+OK nn mm", nothing else on the line matters to a client.
  reply(out, true, std::to_string(n) + " " + std::to_string(octets), "STAT");
}

void Server::h_list(SessionOutput& out, const Cmd& c) {
  if (!c.args.empty()) {
    auto i = message_arg(out, c.args[0], "LIST");
    if (!i) return;
    reply(out, true, std::to_string(*i + 1) + " " + std::to_string(box_->find(uids_[*i])->data.size()), "LIST");
    return;
  }
  std::string body;
  size_t n = 0;
  int64_t octets = 0;
  for (size_t i = 0; i < uids_.size(); ++i) {
    if (deleted_[i]) continue;
    const auto* m = box_->find(uids_[i]);
    if (!m) continue;
    ++n;
    octets += static_cast<int64_t>(m->data.size());
    body += std::to_string(i + 1) + " " + std::to_string(m->data.size()) + "\r\n";
  }
  reply_multi(out, std::to_string(n) + " messages (" + std::to_string(octets) + " octets)", body, "LIST");
}

void Server::h_uidl(SessionOutput& out, const Cmd& c) {
  if (!c.args.empty()) {
    auto i = message_arg(out, c.args[0], "UIDL");
    if (!i) return;
    reply(out, true, std::to_string(*i + 1) + " " + box_->find(uids_[*i])->unique_id(), "UIDL");
    return;
  }
  std::string body;
  for (size_t i = 0; i < uids_.size(); ++i) {
    if (deleted_[i]) continue;
    if (const auto* m = box_->find(uids_[i])) body += std::to_string(i + 1) + " " + m->unique_id() + "\r\n";
  }
  reply_multi(out, "unique-id listing follows", body, "UIDL");
}

void Server::h_retr(SessionOutput& out, const Cmd& c) {
  auto i = message_arg(out, c.args[0], "RETR");
  if (!i) return;
  mail::StoredMessage* m = box_->find(uids_[*i]);
  reply_multi(out, std::to_string(m->data.size()) + " octets", m->data, "RETR");
  // Like common servers (Dovecot), a retrieved message counts as read; IMAP
  // sessions of the same mailbox will see \Seen.
  m->seen = true;
}

void Server::h_top(SessionOutput& out, const Cmd& c) {
  auto i = message_arg(out, c.args[0], "TOP");
  if (!i) return;
  auto lines = parse_number(c.args[1]);
  if (!lines) return reply(out, false, "syntax: TOP msg n (n a non-negative number)", "TOP");
  const std::string& data = box_->find(uids_[*i])->data;
  size_t hdr_end = data.find("\r\n\r\n");
  size_t cut = hdr_end == std::string::npos ? data.size() : hdr_end + 4;
  uint64_t left = *lines;
  while (left > 0 && cut < data.size()) {
    size_t nl = data.find('\n', cut);
    cut = nl == std::string::npos ? data.size() : nl + 1;
    --left;
  }
  reply_multi(out, "top of message follows", std::string_view(data).substr(0, cut), "TOP");
}

void Server::h_dele(SessionOutput& out, const Cmd& c) {
  auto i = message_arg(out, c.args[0], "DELE");
  if (!i) return;
  deleted_[*i] = true;  // only marked: removal waits for UPDATE (RFC 1939 6)
  reply(out, true, "message " + std::to_string(*i + 1) + " deleted", "DELE");
}

void Server::h_noop(SessionOutput& out, const Cmd&) { reply(out, true, "", "NOOP"); }

void Server::h_rset(SessionOutput& out, const Cmd&) {
  deleted_.assign(uids_.size(), false);
  reply(out, true, "maildrop has " + std::to_string(uids_.size()) + " messages", "RSET");
}

void Server::h_capa(SessionOutput& out, const Cmd&) {
  reply_multi(out, "capability list follows", "USER\r\nUIDL\r\nTOP\r\nIMPLEMENTATION smtplab\r\n", "CAPA");
}

SessionOutput Server::on_timeout(SimTime now) {
  now_ = now;
  SessionOutput out;
  if (closed()) return out;
  // RFC 1939 3: an autologout timer closes the connection "without removing
  // any messages or sending any response".
  release();
  enter(ServerState::closed, out, "autologout timer expired (no UPDATE)");
  out.close = true;
  return out;
}

SessionOutput Server::on_close(SimTime now) {
  now_ = now;
  SessionOutput out;
  if (closed()) return out;
  // RFC 1939 6: a session that ends without QUIT does not enter UPDATE.
  release();
  enter(ServerState::closed, out, "connection closed by the client without QUIT (no UPDATE)");
  return out;
}

// ============================================================================
// Client
// ============================================================================

Client::Client(ClientConfig config, mail::SessionInfo info) : config_(std::move(config)), info_(std::move(info)) {}

void Client::enter(ClientState next, SessionOutput& out) {
  if (next == state_) return;
  Record r;
  r.kind = Kind::pop3_state;
  r.src = info_.local_host;
  r.dst = info_.peer_host;
  r.session = info_.session_id;
  r.text = "client " + std::string(state_name(state_)) + " -> " + std::string(state_name(next));
  if (next == ClientState::failed && !error_.empty()) r.text += ": " + error_;
  r.with("state", std::string(state_name(next))).with("from", std::string(state_name(state_))).with("role", "client");
  if (next == ClientState::failed) r.with("error", error_);
  out.records.push_back(std::move(r));
  state_ = next;
}

void Client::send_command(SessionOutput& out, std::string_view verb, std::string_view line, std::string_view shown) {
  Record r;
  r.kind = Kind::pop3_command;
  r.src = info_.local_host;
  r.dst = info_.peer_host;
  r.session = info_.session_id;
  r.text = std::string(shown.empty() ? line : shown);
  r.wire = std::string(line) + "\r\n";
  r.with("verb", std::string(verb));
  out.send += r.wire;
  out.records.push_back(std::move(r));
}

void Client::fail(SessionOutput& out, std::string why) {
  if (error_.empty()) error_ = std::move(why);
  if (state_ == ClientState::greeting || state_ == ClientState::quit) {
    enter(ClientState::failed, out);
    out.close = true;
    return;
  }
  // Leave politely; the error decides the final state.
  failing_ = true;
  send_command(out, "QUIT", "QUIT", "");
  enter(ClientState::quit, out);
}

SessionOutput Client::start(SimTime now) {
  now_ = now;
  SessionOutput out;
  out.deadline = now + config_.timeout;
  return out;
}

bool Client::expects_multiline() const {
  return state_ == ClientState::uidl || state_ == ClientState::list || state_ == ClientState::retr;
}

SessionOutput Client::receive(SimTime now, std::string_view bytes) {
  now_ = now;
  SessionOutput out;
  if (done()) return out;
  inbuf_.append(bytes);
  size_t pos = 0;
  while (!done()) {
    size_t nl = inbuf_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(inbuf_.data() + pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(out, line);
  }
  inbuf_.erase(0, pos);
  if (!done() && inbuf_.size() > kClientMaxLine) fail(out, "server sent a line longer than 64 KiB");
  if (done()) inbuf_.clear();
  if (!done()) out.deadline = now + config_.timeout;
  return out;
}

void Client::on_line(SessionOutput& out, std::string_view line) {
  if (in_multi_) {
    if (line == ".") {
      in_multi_ = false;
      on_multiline_done(out);
      multi_.clear();
      return;
    }
    std::string_view l = unstuff_line(line);
    if (multi_.size() + l.size() > kClientMaxMessage) return fail(out, "multi-line response larger than 64 MiB");
    multi_.append(l);
    multi_ += "\r\n";
    return;
  }
  bool ok = line.starts_with("+OK");
  bool err = line.starts_with("-ERR");
  if (!ok && !err) return fail(out, "unexpected response \"" + std::string(line.substr(0, 60)) + "\"");
  if (ok && expects_multiline()) {
    in_multi_ = true;
    multi_.clear();
    return;
  }
  on_status(out, ok, line);
}

void Client::on_status(SessionOutput& out, bool ok, std::string_view line) {
  std::string text(line.substr(ok ? 3 : 4));
  if (!text.empty() && text.front() == ' ') text.erase(0, 1);
  switch (state_) {
    case ClientState::greeting:
      if (!ok) return fail(out, "server refused the session: " + text);
      send_command(out, "USER", "USER " + config_.user, "");
      return enter(ClientState::user, out);
    case ClientState::user:
      if (!ok) return fail(out, "USER refused: " + text);
      // The password crosses the wire in the clear (that is POP3 without TLS);
      // the trace text masks it, the wire shows the truth.
      send_command(out, "PASS", "PASS " + config_.password, "PASS ********");
      return enter(ClientState::pass, out);
    case ClientState::pass:
      if (!ok) return fail(out, "login failed: " + text);
      send_command(out, "STAT", "STAT", "");
      return enter(ClientState::stat, out);
    case ClientState::stat: {
      if (!ok) return fail(out, "STAT failed: " + text);
      auto words = split_words(text);
      auto n = words.empty() ? std::nullopt : parse_number(words[0]);
      if (!n) return fail(out, "STAT reply has no message count: \"" + text + "\"");
      count_ = static_cast<size_t>(*n);
      if (count_ == 0) {
        send_command(out, "QUIT", "QUIT", "");
        return enter(ClientState::quit, out);
      }
      send_command(out, "UIDL", "UIDL", "");
      return enter(ClientState::uidl, out);
    }
    case ClientState::uidl:
      // -ERR: UIDL is optional (RFC 1939 7); carry on without it.
      uidls_.clear();
      send_command(out, "LIST", "LIST", "");
      return enter(ClientState::list, out);
    case ClientState::list:
      return fail(out, "LIST failed: " + text);
    case ClientState::retr:
      return fail(out, "RETR " + std::to_string(current_) + " failed: " + text);
    case ClientState::dele:
      if (!ok) return fail(out, "DELE " + std::to_string(current_) + " failed: " + text);
      return next_retrieval(out);
    case ClientState::quit:
      if (failing_ || !ok) {
        if (error_.empty()) error_ = "QUIT failed: " + text;
        enter(ClientState::failed, out);
      } else {
        enter(ClientState::done, out);
      }
      out.close = true;
      return;
    case ClientState::done:
    case ClientState::failed:
      return;
  }
}

void Client::on_multiline_done(SessionOutput& out) {
  auto each_line = [&](auto&& fn) {
    size_t pos = 0;
    while (pos < multi_.size()) {
      size_t nl = multi_.find("\r\n", pos);
      if (nl == std::string::npos) nl = multi_.size();
      fn(std::string_view(multi_).substr(pos, nl - pos));
      pos = nl + 2;
    }
  };
  switch (state_) {
    case ClientState::uidl:
      each_line([&](std::string_view l) {
        auto w = split_words(l);
        if (w.size() < 2) return;
        auto n = parse_number(w[0]);
        if (!n || *n == 0 || *n > count_ + 1000000) return;
        if (uidls_.size() < *n) uidls_.resize(static_cast<size_t>(*n));
        uidls_[static_cast<size_t>(*n - 1)] = std::string(w[1]);
      });
      send_command(out, "LIST", "LIST", "");
      return enter(ClientState::list, out);
    case ClientState::list: {
      numbers_.clear();
      each_line([&](std::string_view l) {
        auto w = split_words(l);
        if (auto n = w.empty() ? std::nullopt : parse_number(w[0]); n && *n > 0) numbers_.push_back(static_cast<uint32_t>(*n));
      });
      to_fetch_.clear();
      for (uint32_t n : numbers_) {
        bool known = false;
        if (config_.keep && config_.skip_seen_uidls && n <= uidls_.size() && !uidls_[n - 1].empty())
          for (const std::string& k : config_.known_uidls) known = known || k == uidls_[n - 1];
        if (!known) to_fetch_.push_back(n);
      }
      cursor_ = 0;
      return next_retrieval(out);
    }
    case ClientState::retr: {
      mail::FetchedMessage f;
      f.number = current_;
      if (current_ <= uidls_.size()) f.unique_id = uidls_[current_ - 1];
      f.data = std::move(multi_);
      out.fetched.push_back(std::move(f));
      if (!config_.keep) {
        send_command(out, "DELE", "DELE " + std::to_string(current_), "");
        return enter(ClientState::dele, out);
      }
      return next_retrieval(out);
    }
    default:
      return fail(out, "unexpected multi-line response");
  }
}

void Client::next_retrieval(SessionOutput& out) {
  if (cursor_ < to_fetch_.size()) {
    current_ = to_fetch_[cursor_++];
    send_command(out, "RETR", "RETR " + std::to_string(current_), "");
    // Re-entering retr from retr (keep mode) is not a state change; record nothing.
    return enter(ClientState::retr, out);
  }
  send_command(out, "QUIT", "QUIT", "");
  enter(ClientState::quit, out);
}

SessionOutput Client::on_timeout(SimTime now) {
  now_ = now;
  SessionOutput out;
  if (done()) return out;
  error_ = "timed out waiting for the server (" + std::string(state_name(state_)) + ")";
  enter(ClientState::failed, out);
  out.close = true;
  return out;
}

SessionOutput Client::on_close(SimTime now) {
  now_ = now;
  SessionOutput out;
  if (done()) return out;
  if (state_ == ClientState::quit && !failing_) {
    // The +OK to QUIT may be lost with the connection; the server still ran UPDATE
    // only if it processed QUIT, which we cannot know: report it honestly.
    error_ = "connection closed before the reply to QUIT";
  } else if (error_.empty()) {
    error_ = "connection closed by the server (" + std::string(state_name(state_)) + ")";
  }
  enter(ClientState::failed, out);
  return out;
}

}  // namespace smtplab::pop3
