// sim/imap/imap.cpp: the IMAP4rev1 subset: server command table, tokenizer,
// FETCH/STORE/SEARCH, and the client that fetches unseen mail.
//
// Must never: send an EXPUNGE response during FETCH, STORE or SEARCH (RFC
// 3501 7.4.1); renumber this session's view except through EXPUNGE
// responses; buffer a literal beyond ServerConfig::max_literal.
#include "sim/imap/imap.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "sim/mail/message.hpp"

namespace smtplab::imap {

namespace {

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return r;
}

std::optional<uint64_t> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A trailing "{n}" (synchronizing literal) on a line: its size.
std::optional<size_t> trailing_literal(std::string_view line) {
  if (line.size() < 3 || line.back() != '}') return std::nullopt;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  auto n = parse_number(line.substr(open + 1, line.size() - open - 2));
  if (!n) return std::nullopt;
  return static_cast<size_t>(*n);
}

const char* state_upper(ServerState s) {
  switch (s) {
    case ServerState::not_authenticated: return "NOT-AUTHENTICATED";
    case ServerState::authenticated: return "AUTHENTICATED";
    case ServerState::selected: return "SELECTED";
    case ServerState::logout: return "LOGOUT";
  }
  return "?";
}

bool atom_char(char c) {
  // RFC 3501 9: ATOM-CHAR excludes atom-specials "(" ")" "{" SP CTL list-wildcards quoted-specials resp-specials.
  auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) return false;
  return c != '(' && c != ')' && c != '{' && c != '%' && c != '*' && c != '"' && c != '\\' && c != ']';
}

}  // namespace

std::string_view state_name(ServerState s) {
  switch (s) {
    case ServerState::not_authenticated: return "not-authenticated";
    case ServerState::authenticated: return "authenticated";
    case ServerState::selected: return "selected";
    case ServerState::logout: return "logout";
  }
  return "?";
}

std::string_view state_name(ClientState s) {
  switch (s) {
    case ClientState::greeting: return "greeting";
    case ClientState::login: return "login";
    case ClientState::select: return "select";
    case ClientState::search: return "search";
    case ClientState::fetch: return "fetch";
    case ClientState::store: return "store";
    case ClientState::logout: return "logout";
    case ClientState::done: return "done";
    case ClientState::failed: return "failed";
  }
  return "?";
}

std::optional<std::vector<uint32_t>> parse_sequence_set(std::string_view text, uint32_t max) {
  // RFC 3501 9: sequence-set = (seq-number / seq-range) *("," sequence-set); "*" = the largest.
  std::vector<uint32_t> out;
  if (text.empty()) return std::nullopt;
  auto num = [&](std::string_view s) -> std::optional<uint32_t> {
    if (s == "*") return max;
    auto n = parse_number(s);
    if (!n || *n == 0 || *n > 0xFFFFFFFFull) return std::nullopt;
    return static_cast<uint32_t>(*n);
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      auto n = num(item);
      if (!n) return std::nullopt;
      if (*n >= 1 && *n <= max) out.push_back(*n);
    } else {
      auto a = num(item.substr(0, colon)), b = num(item.substr(colon + 1));
      if (!a || !b) return std::nullopt;
      uint32_t lo = std::min(*a, *b), hi = std::min(std::max(*a, *b), max);
      // Bounded by `max`, so "1:4294967295" on a small mailbox costs nothing.
      for (uint32_t k = lo; k >= 1 && k <= hi; ++k) {
        out.push_back(k);
        if (k == 0xFFFFFFFFu) break;
      }
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string compress_set(const std::vector<uint32_t>& v) {
  std::string s;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j + 1 < v.size() && v[j + 1] == v[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(v[i]);
    if (j > i) s += ":" + std::to_string(v[j]);
    i = j + 1;
  }
  return s;
}

std::string quote_astring(std::string_view s) {
  bool atom = !s.empty();
  bool quotable = true;
  for (char c : s) {
    atom = atom && atom_char(c);
    auto u = static_cast<unsigned char>(c);
    quotable = quotable && u >= 32 && u < 127;
  }
  if (atom) return std::string(s);
  if (quotable) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') q.push_back('\\');
      q.push_back(c);
    }
    return q + "\"";
  }
  return "{" + std::to_string(s.size()) + "}\r\n" + std::string(s);
}

// ============================================================================
// Server: tokenizer
// ============================================================================

struct Server::Token {
  enum Kind { atom, string, lparen, rparen } kind = atom;
  std::string text;
};

struct Server::Args {
  std::vector<Token> toks;
  size_t pos = 0;
  std::string error;  // tokenizer error, reported as BAD
  bool done() const { return pos >= toks.size(); }
  const Token* peek() const { return done() ? nullptr : &toks[pos]; }
  const Token* next() { return done() ? nullptr : &toks[pos++]; }
  // An astring (atom, quoted or literal).
  std::optional<std::string> astring() {
    const Token* t = peek();
    if (!t || (t->kind != Token::atom && t->kind != Token::string)) return std::nullopt;
    ++pos;
    return t->text;
  }
  std::optional<std::string> atom_tok() {
    const Token* t = peek();
    if (!t || t->kind != Token::atom) return std::nullopt;
    ++pos;
    return t->text;
  }
};

namespace {

// Splits the raw command text after the tag and name into tokens. Literals
// "{n}" CR LF <n octets> become string tokens (the octets were already
// gathered by receive()). Brackets in an atom ("BODY[HEADER.FIELDS (A B)]")
// are kept together.
template <typename Args, typename Token>
void tokenize(std::string_view s, Args& a) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    if (c == '(') {
      a.toks.push_back(Token{Token::lparen, "("});
      ++i;
      continue;
    }
    if (c == ')') {
      a.toks.push_back(Token{Token::rparen, ")"});
      ++i;
      continue;
    }
    if (c == '"') {
      std::string v;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          v.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        if (s[i] == '"') {
          closed = true;
          ++i;
          break;
        }
        if (s[i] == '\r' || s[i] == '\n') break;
        v.push_back(s[i++]);
      }
      if (!closed) {
        a.error = "unterminated quoted string";
        return;
      }
      a.toks.push_back(Token{Token::string, std::move(v)});
      continue;
    }
    if (c == '{') {
      size_t close = s.find('}', i);
      auto n = close == std::string_view::npos ? std::nullopt : parse_number(s.substr(i + 1, close - i - 1));
      size_t data = close == std::string_view::npos ? s.size() : close + 1;
      if (data + 1 < s.size() && s[data] == '\r' && s[data + 1] == '\n') data += 2;
      else if (data < s.size() && s[data] == '\n') data += 1;
      if (!n || data + *n > s.size()) {
        a.error = "malformed literal";
        return;
      }
      a.toks.push_back(Token{Token::string, std::string(s.substr(data, static_cast<size_t>(*n)))});
      i = data + static_cast<size_t>(*n);
      continue;
    }
    // Atom, keeping "[...]" sections (which may hold spaces and parentheses) whole.
    size_t j = i;
    int depth = 0;
    while (j < s.size()) {
      char d = s[j];
      if (d == '[') ++depth;
      else if (d == ']' && depth > 0) --depth;
      else if (depth == 0 && (d == ' ' || d == '(' || d == ')' || d == '\r' || d == '\n' || d == '"' || d == '{')) break;
      ++j;
    }
    if (j == i) {
      a.error = "unexpected character";
      return;
    }
    a.toks.push_back(Token{Token::atom, std::string(s.substr(i, j - i))});
    i = j;
  }
}

}  // namespace

// ============================================================================
// Server: command table
// ============================================================================

constexpr unsigned kNotAuth = 1, kAuth = 2, kSel = 4, kAny = 7;

struct Server::Entry {
  std::string_view name;
  unsigned states;
  void (Server::*proceed)(SessionOutput&, std::string_view, Args&, bool);
  std::string_view syntax, summary;
};

const std::vector<Server::Entry>& Server::table() {
  // RFC 3501 6.1-6.4: which state allows which command.
  static const std::vector<Entry> t = {
      {"CAPABILITY", kAny, &Server::h_capability, "CAPABILITY", "list what the server supports"},
      {"NOOP", kAny, &Server::h_noop, "NOOP", "do nothing; the server reports new mail and flag changes"},
      {"LOGOUT", kAny, &Server::h_logout, "LOGOUT", "end the session (* BYE, then OK)"},
      {"LOGIN", kNotAuth, &Server::h_login, "LOGIN user password", "authenticate with a name and a password"},
      {"SELECT", kAuth | kSel, &Server::h_select, "SELECT mailbox", "open a mailbox read-write (EXISTS, RECENT, UIDVALIDITY, FLAGS)"},
      {"EXAMINE", kAuth | kSel, &Server::h_examine, "EXAMINE mailbox", "open a mailbox read-only"},
      {"FETCH", kSel, &Server::h_fetch, "FETCH set items", "read FLAGS, UID, RFC822.SIZE, BODY[], BODY.PEEK[] ..."},
      {"STORE", kSel, &Server::h_store, "STORE set [+|-]FLAGS[.SILENT] (flags)", "change \\Seen or \\Deleted"},
      {"SEARCH", kSel, &Server::h_search, "SEARCH keys", "find messages: ALL, SEEN, UNSEEN, DELETED, UNDELETED, NEW, UID set ..."},
      {"EXPUNGE", kSel, &Server::h_expunge, "EXPUNGE", "remove every \\Deleted message"},
      {"CLOSE", kSel, &Server::h_close, "CLOSE", "expunge silently and leave the selected state"},
      {"CHECK", kSel, &Server::h_check, "CHECK", "checkpoint the mailbox"},
      {"UID", kSel, &Server::h_uid, "UID FETCH|STORE|SEARCH ...", "the same commands with UIDs instead of sequence numbers"},
  };
  return t;
}

std::vector<Server::CommandInfo> Server::commands() {
  std::vector<CommandInfo> v;
  for (const Entry& e : table()) {
    std::string_view st = e.states == kAny               ? "any"
                          : e.states == kNotAuth         ? "not authenticated"
                          : e.states == (kAuth | kSel)   ? "authenticated, selected"
                                                         : "selected";
    v.push_back(CommandInfo{e.name, st, e.syntax, e.summary});
  }
  return v;
}

Server::Server(Backend& backend, ServerConfig config, mail::SessionInfo info)
    : backend_(backend), config_(std::move(config)), info_(std::move(info)) {}

Server::~Server() { release(); }

void Server::release() {
  box_ = nullptr;
  view_.clear();
  flags_view_.clear();
  recent_.clear();
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
  Record r = make(Kind::imap_state, std::string(state_upper(state_)) + " -> " + state_upper(next) +
                                        (why.empty() ? "" : ": " + std::string(why)));
  r.with("state", std::string(state_name(next))).with("from", std::string(state_name(state_))).with("role", "server");
  out.records.push_back(std::move(r));
  state_ = next;
}

void Server::respond(SessionOutput& out, std::string text, std::string_view verb, std::string_view tag, std::string wire) {
  Record r = make(Kind::imap_response, std::string(tag) + " " + text);
  r.wire = wire.empty() ? r.text + "\r\n" : std::move(wire);
  r.with("tag", std::string(tag)).with("verb", std::string(verb));
  out.send += r.wire;
  out.records.push_back(std::move(r));
}

void Server::tagged(SessionOutput& out, std::string_view tag, std::string_view status, std::string_view text,
                    std::string_view verb) {
  respond(out, std::string(status) + " " + std::string(text), verb, tag);
  out.records.back().with("code", std::string(status)).with("state", std::string(state_name(state_)));
}

bool Server::bad_command(SessionOutput& out, std::string_view tag, std::string_view text, std::string_view verb) {
  tagged(out, tag, "BAD", text, verb);
  if (++bad_ >= config_.max_bad_commands) {
    respond(out, "BYE too many bad commands", verb);
    release();
    enter(ServerState::logout, out, "too many bad commands");
    out.close = true;
    return true;
  }
  return false;
}

SessionOutput Server::start(SimTime now) {
  now_ = now;
  SessionOutput out;
  // RFC 3501 7.1.1: an OK greeting puts the session in not-authenticated.
  respond(out, "OK [CAPABILITY IMAP4rev1] " + config_.host + " IMAP4rev1 ready", "greeting");
  out.deadline = now + config_.autologout;
  return out;
}

SessionOutput Server::receive(SimTime now, std::string_view bytes) {
  now_ = now;
  SessionOutput out;
  if (closed()) return out;
  inbuf_.append(bytes);
  size_t pos = 0;
  while (!closed() && pos < inbuf_.size()) {
    if (literal_left_ > 0) {
      size_t take = std::min(literal_left_, inbuf_.size() - pos);
      pending_.append(inbuf_, pos, take);
      pos += take;
      literal_left_ -= take;
      continue;  // the rest of the command line follows the literal
    }
    size_t nl = inbuf_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(inbuf_.data() + pos, nl - pos);
    pos = nl + 1;
    if (discarding_) {
      discarding_ = false;
      pending_.clear();
      continue;
    }
    std::string_view bare = line;
    if (!bare.empty() && bare.back() == '\r') bare.remove_suffix(1);
    pending_.append(bare);
    pending_ += "\r\n";
    if (auto n = trailing_literal(bare)) {
      if (*n > config_.max_literal) {
        // Refuse before the client sends it: no "+" continuation, so it must not.
        std::string tag = pending_.substr(0, std::min(pending_.find(' '), pending_.size()));
        pending_.clear();
        if (bad_command(out, tag.empty() ? "*" : tag, "literal too large (at most " + std::to_string(config_.max_literal) + " octets)", ""))
          break;
        continue;
      }
      // RFC 3501 4.3 / 7.5: a synchronizing literal waits for our "+".
      literal_left_ = *n;
      respond(out, "Ready for literal data", "continuation", "+");
      continue;
    }
    std::string cmd = std::move(pending_);
    pending_.clear();
    handle_command(out, cmd);
  }
  inbuf_.erase(0, pos);
  if (!closed() && literal_left_ == 0 && inbuf_.size() + pending_.size() > config_.max_line + config_.max_literal) {
    inbuf_.clear();
    pending_.clear();
    discarding_ = true;
    bad_command(out, "*", "command line too long", "");
  }
  if (closed()) {
    inbuf_.clear();
    pending_.clear();
  } else {
    out.deadline = now + config_.autologout;
  }
  return out;
}

void Server::handle_command(SessionOutput& out, std::string_view raw) {
  // tag SP command [SP arguments] CRLF (RFC 3501 2.2.1)
  std::string_view s = raw;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  size_t sp = s.find(' ');
  std::string_view tag = s.substr(0, sp);
  bool tag_ok = !tag.empty() && tag.size() <= 64;
  for (char c : tag) tag_ok = tag_ok && atom_char(c) && c != '+';
  if (!tag_ok) {
    bad_command(out, "*", s.empty() ? "empty command line" : "missing or invalid tag", "");
    return;
  }
  if (sp == std::string_view::npos) {
    bad_command(out, tag, "missing command name", "");
    return;
  }
  std::string_view rest = s.substr(sp + 1);
  size_t sp2 = rest.find(' ');
  std::string name = upper(rest.substr(0, sp2));
  std::string_view argtext = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
  const Entry* e = nullptr;
  for (const Entry& t : table())
    if (t.name == name) e = &t;
  if (!e) {
    bad_command(out, tag, "unknown command " + name.substr(0, 20), name);
    return;
  }
  unsigned mask = state_ == ServerState::not_authenticated ? kNotAuth
                  : state_ == ServerState::authenticated   ? kAuth
                  : state_ == ServerState::selected        ? kSel
                                                           : 0;
  if (!(e->states & mask)) {
    std::string hint = state_ == ServerState::not_authenticated ? " (LOGIN first)"
                       : state_ == ServerState::authenticated   ? " (SELECT a mailbox first)"
                                                                : "";
    bad_command(out, tag, name + " is not allowed in the " + state_upper(state_) + " state" + hint, name);
    return;
  }
  Args args;
  tokenize<Args, Token>(argtext, args);
  if (!args.error.empty()) {
    bad_command(out, tag, "syntax error: " + args.error, name);
    return;
  }
  (this->*(e->proceed))(out, tag, args, false);
}

// ---- handlers ------------------------------------------------------------------

void Server::h_capability(SessionOutput& out, std::string_view tag, Args&, bool) {
  respond(out, "CAPABILITY IMAP4rev1", "CAPABILITY");
  tagged(out, tag, "OK", "CAPABILITY completed", "CAPABILITY");
}

void Server::h_noop(SessionOutput& out, std::string_view tag, Args&, bool) {
  if (state_ == ServerState::selected) sync(out, true);
  tagged(out, tag, "OK", "NOOP completed", "NOOP");
}

void Server::h_logout(SessionOutput& out, std::string_view tag, Args&, bool) {
  // RFC 3501 6.1.3: BYE first, then the tagged OK, then the server closes.
  respond(out, "BYE " + config_.host + " IMAP4rev1 server logging out", "LOGOUT");
  release();
  enter(ServerState::logout, out, "LOGOUT");
  tagged(out, tag, "OK", "LOGOUT completed", "LOGOUT");
  out.close = true;
}

void Server::h_login(SessionOutput& out, std::string_view tag, Args& a, bool) {
  auto user = a.astring();
  auto pass = a.astring();
  if (!user || !pass || !a.done()) {
    bad_command(out, tag, "syntax: LOGIN user password", "LOGIN");
    return;
  }
  mail::Mailbox* box = backend_.authenticate(*user, *pass);
  if (!box) return tagged(out, tag, "NO", "[AUTHENTICATIONFAILED] invalid user name or password", "LOGIN");
  box_ = box;
  enter(ServerState::authenticated, out, "logged in as " + *user);
  tagged(out, tag, "OK", "[CAPABILITY IMAP4rev1] LOGIN completed", "LOGIN");
}

void Server::h_select(SessionOutput& out, std::string_view tag, Args& a, bool) { do_select(out, tag, a, false); }
void Server::h_examine(SessionOutput& out, std::string_view tag, Args& a, bool) { do_select(out, tag, a, true); }

void Server::do_select(SessionOutput& out, std::string_view tag, Args& a, bool read_only) {
  const char* verb = read_only ? "EXAMINE" : "SELECT";
  auto name = a.astring();
  if (!name || !a.done()) {
    bad_command(out, tag, std::string("syntax: ") + verb + " mailbox", verb);
    return;
  }
  // RFC 3501 6.3.1: SELECT while selected first deselects (a failed SELECT leaves none selected).
  if (state_ == ServerState::selected) {
    view_.clear();
    flags_view_.clear();
    recent_.clear();
    enter(ServerState::authenticated, out, std::string(verb) + " of another mailbox");
  }
  // RFC 3501 5.1: INBOX is case-insensitive; it is the only mailbox here.
  if (!mail::iequals(*name, "INBOX")) return tagged(out, tag, "NO", "[NONEXISTENT] no mailbox named " + name->substr(0, 40) + " (only INBOX)", verb);
  read_only_ = read_only;
  view_.clear();
  recent_.clear();
  flags_view_.clear();
  size_t first_unseen = 0, recent = 0;
  for (const mail::StoredMessage& m : box_->messages()) {
    view_.push_back(m.uid);
    recent_.push_back(m.recent);
    if (m.recent) ++recent;
    if (!m.seen && first_unseen == 0) first_unseen = view_.size();
  }
  // RFC 3501 2.3.2: \Recent belongs to the first session that sees the message.
  // EXAMINE must not change it (6.3.2).
  if (!read_only) box_->clear_recent();
  for (size_t i = 0; i < view_.size(); ++i) flags_view_.push_back(flags_of(i));
  respond(out, "FLAGS (\\Seen \\Deleted)", verb);
  respond(out, "OK [PERMANENTFLAGS (" + std::string(read_only ? "" : "\\Seen \\Deleted") + ")] Limited", verb);
  respond(out, std::to_string(view_.size()) + " EXISTS", verb);
  respond(out, std::to_string(recent) + " RECENT", verb);
  if (first_unseen) respond(out, "OK [UNSEEN " + std::to_string(first_unseen) + "] Message " + std::to_string(first_unseen) + " is first unseen", verb);
  respond(out, "OK [UIDVALIDITY " + std::to_string(box_->uidvalidity()) + "] UIDs valid", verb);
  respond(out, "OK [UIDNEXT " + std::to_string(box_->next_uid()) + "] Predicted next UID", verb);
  enter(ServerState::selected, out, std::string(verb) + " INBOX");
  tagged(out, tag, "OK", std::string(read_only ? "[READ-ONLY] " : "[READ-WRITE] ") + verb + " completed", verb);
}

std::string Server::flags_of(size_t i) const {
  std::string f;
  const mail::StoredMessage* m = box_ ? box_->find(view_[i]) : nullptr;
  auto add = [&](const char* s) {
    if (!f.empty()) f += ' ';
    f += s;
  };
  if (m && m->seen) add("\\Seen");
  if (m && m->deleted) add("\\Deleted");
  if (i < recent_.size() && recent_[i]) add("\\Recent");
  return "(" + f + ")";
}

std::optional<std::vector<size_t>> Server::resolve(std::string_view set, bool uid) {
  std::vector<size_t> idx;
  if (uid) {
    uint32_t max = view_.empty() ? 0 : view_.back();
    // RFC 3501 6.4.8: "*" in a UID set is the largest UID in use; with none, "*" matches nothing.
    auto uids = parse_sequence_set(set, std::max<uint32_t>(max, 1));
    if (!uids) return std::nullopt;
    for (uint32_t u : *uids) {
      auto it = std::lower_bound(view_.begin(), view_.end(), u);
      if (it != view_.end() && *it == u) idx.push_back(static_cast<size_t>(it - view_.begin()));
    }
    return idx;
  }
  auto nums = parse_sequence_set(set, static_cast<uint32_t>(view_.size()));
  if (!nums) return std::nullopt;
  // parse_sequence_set drops numbers beyond `max`; RFC 3501 wants BAD for those.
  // Re-check the explicit numbers so "FETCH 9" on 3 messages is an error.
  size_t pos = 0;
  while (pos <= set.size()) {
    size_t comma = set.find(',', pos);
    std::string_view item = set.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    for (std::string_view part : {item.substr(0, item.find(':')),
                                  item.find(':') == std::string_view::npos ? std::string_view{} : item.substr(item.find(':') + 1)}) {
      if (part.empty() || part == "*") continue;
      auto n = parse_number(part);
      if (n && *n > view_.size()) return std::nullopt;
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (view_.empty() && set.find('*') != std::string_view::npos) return std::nullopt;
  for (uint32_t n : *nums) idx.push_back(n - 1);
  return idx;
}

void Server::h_fetch(SessionOutput& out, std::string_view tag, Args& a, bool uid) {
  const char* verb = uid ? "UID FETCH" : "FETCH";
  auto set = a.atom_tok();
  if (!set) {
    bad_command(out, tag, std::string("syntax: ") + verb + " set items", verb);
    return;
  }
  // Items: one atom, or a parenthesised list of atoms.
  std::vector<std::string> items;
  if (a.peek() && a.peek()->kind == Token::lparen) {
    a.next();
    while (a.peek() && a.peek()->kind == Token::atom) items.push_back(upper(a.next()->text));
    if (!a.peek() || a.peek()->kind != Token::rparen) {
      bad_command(out, tag, "syntax: fetch items must be atoms inside ( )", verb);
      return;
    }
    a.next();
  } else if (auto it = a.atom_tok()) {
    items.push_back(upper(*it));
  }
  if (items.empty() || !a.done()) {
    bad_command(out, tag, std::string("syntax: ") + verb + " set items", verb);
    return;
  }
  // Macros (RFC 3501 6.4.5); ALL and FULL need ENVELOPE/BODY, which we do not build.
  if (items.size() == 1 && items[0] == "FAST") items = {"FLAGS", "INTERNALDATE", "RFC822.SIZE"};
  static const std::vector<std::string_view> kKnown = {"UID", "FLAGS", "RFC822.SIZE", "INTERNALDATE", "RFC822",
                                                       "RFC822.HEADER", "RFC822.TEXT", "BODY[]", "BODY.PEEK[]",
                                                       "BODY[HEADER]", "BODY.PEEK[HEADER]", "BODY[TEXT]", "BODY.PEEK[TEXT]"};
  for (const std::string& it : items)
    if (std::find(kKnown.begin(), kKnown.end(), it) == kKnown.end()) {
      bad_command(out, tag, "unsupported fetch item " + it.substr(0, 40) +
                                " (this server knows UID FLAGS RFC822.SIZE INTERNALDATE RFC822 BODY[] BODY.PEEK[] BODY[HEADER] BODY[TEXT])",
                  verb);
      return;
    }
  if (uid && std::find(items.begin(), items.end(), "UID") == items.end()) items.insert(items.begin(), "UID");
  auto idx = resolve(*set, uid);
  if (!idx) {
    bad_command(out, tag, "invalid sequence set \"" + set->substr(0, 40) + "\" (mailbox has " + std::to_string(view_.size()) + " messages)", verb);
    return;
  }
  for (size_t i : *idx) {
    mail::StoredMessage* m = box_->find(view_[i]);
    if (!m) continue;  // expunged by another session; reported on the next NOOP
    bool sets_seen = false;
    for (const std::string& it : items)
      sets_seen = sets_seen || it == "RFC822" || it == "RFC822.TEXT" || it == "BODY[]" || it == "BODY[TEXT]" || it == "BODY[HEADER]";
    bool flags_changed = false;
    // RFC 3501 6.4.5: BODY[...] (not BODY.PEEK) sets \Seen implicitly.
    if (sets_seen && !read_only_ && !m->seen) {
      m->seen = true;
      flags_changed = true;
    }
    size_t hdr_end = m->data.find("\r\n\r\n");
    size_t split = hdr_end == std::string::npos ? m->data.size() : hdr_end + 4;
    std::string text = std::to_string(i + 1) + " FETCH (";
    std::string wire = "* " + text;
    bool first = true;
    auto item = [&](const std::string& s) {
      if (!first) {
        text += ' ';
        wire += ' ';
      }
      first = false;
      text += s;
      wire += s;
    };
    auto literal = [&](const std::string& name, std::string_view data) {
      item(name + " {" + std::to_string(data.size()) + "}");
      wire += "\r\n";
      wire.append(data);
    };
    bool flags_done = false;
    for (const std::string& it : items) {
      if (it == "UID") item("UID " + std::to_string(m->uid));
      else if (it == "FLAGS") {
        item("FLAGS " + flags_of(i));
        flags_done = true;
      } else if (it == "RFC822.SIZE") item("RFC822.SIZE " + std::to_string(m->data.size()));
      else if (it == "INTERNALDATE") {
        // RFC 3501 date-time "23-Nov-2026 09:00:00 +0000" from our RFC 5322 date.
        std::string d = mail::format_rfc5322_date(m->internal_date);  // "Mon, 23 Nov 2026 09:00:00 +0000"
        std::string day = d.substr(5, d.find(' ', 5) - 5);
        std::string rest = d.substr(d.find(' ', 5) + 1);  // "Nov 2026 09:00:00 +0000"
        if (day.size() == 1) day = " " + day;
        item("INTERNALDATE \"" + day + "-" + rest.substr(0, 3) + "-" + rest.substr(4) + "\"");
      } else if (it == "RFC822" || it == "BODY[]" || it == "BODY.PEEK[]") {
        literal(it == "BODY.PEEK[]" ? "BODY[]" : it, m->data);
      } else if (it == "RFC822.HEADER" || it == "BODY[HEADER]" || it == "BODY.PEEK[HEADER]") {
        literal(it == "BODY.PEEK[HEADER]" ? "BODY[HEADER]" : it, std::string_view(m->data).substr(0, split));
      } else if (it == "RFC822.TEXT" || it == "BODY[TEXT]" || it == "BODY.PEEK[TEXT]") {
        literal(it == "BODY.PEEK[TEXT]" ? "BODY[TEXT]" : it, std::string_view(m->data).substr(split));
      }
    }
    if (flags_changed && !flags_done) item("FLAGS " + flags_of(i));
    text += ")";
    wire += ")\r\n";
    if (i < flags_view_.size()) flags_view_[i] = flags_of(i);
    respond(out, text, verb, "*", wire);
  }
  sync(out, false);
  tagged(out, tag, "OK", std::string(verb) + " completed", verb);
}

void Server::h_store(SessionOutput& out, std::string_view tag, Args& a, bool uid) {
  const char* verb = uid ? "UID STORE" : "STORE";
  auto set = a.atom_tok();
  auto what = a.atom_tok();
  if (!set || !what) {
    bad_command(out, tag, std::string("syntax: ") + verb + " set [+|-]FLAGS[.SILENT] (flags)", verb);
    return;
  }
  std::string w = upper(*what);
  int mode = 0;  // 0 replace, +1 add, -1 remove
  if (!w.empty() && (w[0] == '+' || w[0] == '-')) {
    mode = w[0] == '+' ? 1 : -1;
    w.erase(0, 1);
  }
  bool silent = w == "FLAGS.SILENT";
  if (w != "FLAGS" && !silent) {
    bad_command(out, tag, "STORE data item must be FLAGS, +FLAGS or -FLAGS (optionally .SILENT)", verb);
    return;
  }
  std::vector<std::string> flags;
  if (a.peek() && a.peek()->kind == Token::lparen) {
    a.next();
    while (a.peek() && a.peek()->kind == Token::atom) flags.push_back(a.next()->text);
    if (!a.peek() || a.peek()->kind != Token::rparen) {
      bad_command(out, tag, "syntax: flag list must be ( \\Flag ... )", verb);
      return;
    }
    a.next();
  } else {
    while (a.peek() && a.peek()->kind == Token::atom) flags.push_back(a.next()->text);
  }
  if (!a.done()) {
    bad_command(out, tag, "syntax: unexpected text after the flag list", verb);
    return;
  }
  bool seen = false, deleted = false;
  for (const std::string& f : flags) {
    if (mail::iequals(f, "\\Seen")) seen = true;
    else if (mail::iequals(f, "\\Deleted")) deleted = true;
    else if (mail::iequals(f, "\\Recent")) {
      bad_command(out, tag, "\\Recent cannot be stored (RFC 3501 2.3.2)", verb);
      return;
    } else
      return tagged(out, tag, "NO", "[CANNOT] this server stores only \\Seen and \\Deleted, not " + f.substr(0, 30), verb);
  }
  if (read_only_) return tagged(out, tag, "NO", "[READ-ONLY] mailbox was opened with EXAMINE", verb);
  auto idx = resolve(*set, uid);
  if (!idx) {
    bad_command(out, tag, "invalid sequence set \"" + set->substr(0, 40) + "\"", verb);
    return;
  }
  for (size_t i : *idx) {
    mail::StoredMessage* m = box_->find(view_[i]);
    if (!m) continue;
    if (mode == 0) {
      m->seen = seen;
      m->deleted = deleted;
    } else {
      if (seen) m->seen = mode > 0;
      if (deleted) m->deleted = mode > 0;
    }
    std::string now_flags = flags_of(i);
    if (i < flags_view_.size()) flags_view_[i] = now_flags;
    // RFC 3501 6.4.6: without .SILENT, the server answers with the new flags.
    if (!silent)
      respond(out, std::to_string(i + 1) + " FETCH (" + (uid ? "UID " + std::to_string(m->uid) + " " : std::string()) +
                       "FLAGS " + now_flags + ")",
              verb);
  }
  sync(out, false);
  tagged(out, tag, "OK", std::string(verb) + " completed", verb);
}

void Server::h_search(SessionOutput& out, std::string_view tag, Args& a, bool uid) {
  const char* verb = uid ? "UID SEARCH" : "SEARCH";
  // Every key narrows the result (RFC 3501 6.4.4: keys are ANDed).
  std::vector<bool> match(view_.size(), true);
  const Token* t = a.peek();
  if (t && t->kind == Token::atom && upper(t->text) == "CHARSET") {
    a.next();
    auto cs = a.astring();
    if (!cs || !(mail::iequals(*cs, "US-ASCII") || mail::iequals(*cs, "UTF-8")))
      return tagged(out, tag, "NO", "[BADCHARSET (US-ASCII UTF-8)] unsupported charset", verb);
  }
  if (a.done()) {
    bad_command(out, tag, std::string("syntax: ") + verb + " keys (ALL, SEEN, UNSEEN, DELETED, UNDELETED, NEW, OLD, RECENT, UID set, set)", verb);
    return;
  }
  bool negate = false;
  while (!a.done()) {
    const Token* k = a.next();
    if (k->kind != Token::atom) {
      bad_command(out, tag, "unsupported search key (parenthesised groups are not supported)", verb);
      return;
    }
    std::string key = upper(k->text);
    if (key == "NOT") {
      negate = !negate;
      continue;
    }
    std::vector<bool> hit(view_.size(), false);
    if (key == "UID" || (!key.empty() && (std::isdigit(static_cast<unsigned char>(key[0])) || key[0] == '*'))) {
      std::string set = key == "UID" ? (a.peek() && a.peek()->kind == Token::atom ? a.next()->text : std::string()) : k->text;
      auto idx = resolve(set, key == "UID");
      if (!idx) {
        bad_command(out, tag, "invalid set in SEARCH: \"" + set.substr(0, 40) + "\"", verb);
        return;
      }
      for (size_t i : *idx) hit[i] = true;
    } else {
      for (size_t i = 0; i < view_.size(); ++i) {
        const mail::StoredMessage* m = box_->find(view_[i]);
        if (!m) continue;
        bool r = i < recent_.size() && recent_[i];
        if (key == "ALL") hit[i] = true;
        else if (key == "SEEN") hit[i] = m->seen;
        else if (key == "UNSEEN") hit[i] = !m->seen;
        else if (key == "DELETED") hit[i] = m->deleted;
        else if (key == "UNDELETED") hit[i] = !m->deleted;
        else if (key == "RECENT") hit[i] = r;
        else if (key == "OLD") hit[i] = !r;
        else if (key == "NEW") hit[i] = r && !m->seen;
        else {
          bad_command(out, tag, "unsupported search key " + key.substr(0, 30), verb);
          return;
        }
      }
    }
    for (size_t i = 0; i < match.size(); ++i) match[i] = match[i] && (negate ? !hit[i] : hit[i]);
    negate = false;
  }
  std::string res = "SEARCH";
  for (size_t i = 0; i < match.size(); ++i)
    if (match[i] && box_->find(view_[i])) res += " " + std::to_string(uid ? view_[i] : static_cast<uint32_t>(i + 1));
  respond(out, res, verb);
  sync(out, false);
  tagged(out, tag, "OK", std::string(verb) + " completed", verb);
}

void Server::h_expunge(SessionOutput& out, std::string_view tag, Args& a, bool) {
  if (!a.done()) {
    bad_command(out, tag, "syntax: EXPUNGE takes no arguments", "EXPUNGE");
    return;
  }
  if (read_only_) return tagged(out, tag, "NO", "[READ-ONLY] mailbox was opened with EXAMINE", "EXPUNGE");
  box_->expunge();
  sync(out, true);  // reports each removal as "* n EXPUNGE"
  tagged(out, tag, "OK", "EXPUNGE completed", "EXPUNGE");
}

void Server::h_close(SessionOutput& out, std::string_view tag, Args&, bool) {
  // RFC 3501 6.4.2: CLOSE expunges silently (unless read-only) and deselects.
  if (!read_only_) box_->expunge();
  view_.clear();
  flags_view_.clear();
  recent_.clear();
  enter(ServerState::authenticated, out, "CLOSE");
  tagged(out, tag, "OK", "CLOSE completed", "CLOSE");
}

void Server::h_check(SessionOutput& out, std::string_view tag, Args&, bool) {
  sync(out, true);
  tagged(out, tag, "OK", "CHECK completed", "CHECK");
}

void Server::h_uid(SessionOutput& out, std::string_view tag, Args& a, bool) {
  auto sub = a.atom_tok();
  std::string s = sub ? upper(*sub) : std::string();
  if (s == "FETCH") return h_fetch(out, tag, a, true);
  if (s == "STORE") return h_store(out, tag, a, true);
  if (s == "SEARCH") return h_search(out, tag, a, true);
  bad_command(out, tag, "UID must be followed by FETCH, STORE or SEARCH", "UID");
}

void Server::sync(SessionOutput& out, bool allow_expunge) {
  if (!box_ || state_ != ServerState::selected) return;
  // Removals by another session (RFC 3501 7.4.1), highest number first so
  // the numbers we send stay valid as each one is applied.
  if (allow_expunge) {
    for (size_t i = view_.size(); i-- > 0;) {
      if (box_->find(view_[i])) continue;
      respond(out, std::to_string(i + 1) + " EXPUNGE", "EXPUNGE");
      view_.erase(view_.begin() + static_cast<long>(i));
      flags_view_.erase(flags_view_.begin() + static_cast<long>(i));
      recent_.erase(recent_.begin() + static_cast<long>(i));
    }
  }
  // Flag changes made elsewhere (another device's STORE, a POP3 RETR).
  for (size_t i = 0; i < view_.size(); ++i) {
    if (!box_->find(view_[i])) continue;
    std::string f = flags_of(i);
    if (f != flags_view_[i]) {
      flags_view_[i] = f;
      respond(out, std::to_string(i + 1) + " FETCH (FLAGS " + f + ")", "FETCH");
    }
  }
  // New mail (RFC 3501 7.3.1: EXISTS).
  size_t before = view_.size();
  uint32_t last = view_.empty() ? 0 : view_.back();
  for (const mail::StoredMessage& m : box_->messages()) {
    if (m.uid <= last) continue;
    view_.push_back(m.uid);
    bool r = m.recent;
    recent_.push_back(r);
    if (!read_only_) box_->find(m.uid)->recent = false;
    flags_view_.push_back(flags_of(view_.size() - 1));
  }
  if (view_.size() != before) {
    respond(out, std::to_string(view_.size()) + " EXISTS", "EXISTS");
    size_t rc = static_cast<size_t>(std::count(recent_.begin(), recent_.end(), true));
    respond(out, std::to_string(rc) + " RECENT", "RECENT");
  }
}

SessionOutput Server::on_timeout(SimTime now) {
  now_ = now;
  SessionOutput out;
  if (closed()) return out;
  // RFC 3501 5.4: the autologout timer; a BYE tells the client why.
  respond(out, "BYE autologout; idle for too long", "autologout");
  release();
  enter(ServerState::logout, out, "autologout timer expired");
  out.close = true;
  return out;
}

SessionOutput Server::on_close(SimTime now) {
  now_ = now;
  SessionOutput out;
  if (closed()) return out;
  release();
  enter(ServerState::logout, out, "connection closed by the client");
  return out;
}

// ============================================================================
// Client
// ============================================================================

Client::Client(ClientConfig config, mail::SessionInfo info) : config_(std::move(config)), info_(std::move(info)) {}

void Client::enter(ClientState next, SessionOutput& out) {
  if (next == state_) return;
  Record r;
  r.kind = Kind::imap_state;
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

void Client::send_command(SessionOutput& out, std::string_view verb, std::string args, std::string shown) {
  current_tag_ = "a" + std::to_string(++tag_counter_);
  std::string line = current_tag_ + " " + std::string(verb) + (args.empty() ? "" : " " + args);
  // A synchronizing literal: send up to "{n}" CR LF, the rest after "+".
  size_t lit = line.find("}\r\n");
  std::string now_part = line, later;
  if (lit != std::string::npos && trailing_literal(std::string_view(line).substr(0, lit + 1))) {
    now_part = line.substr(0, lit + 3);
    later = line.substr(lit + 3) + "\r\n";
  } else {
    now_part += "\r\n";
  }
  continuation_ = later;
  Record r;
  r.kind = Kind::imap_command;
  r.src = info_.local_host;
  r.dst = info_.peer_host;
  r.session = info_.session_id;
  r.text = shown.empty() ? current_tag_ + " " + std::string(verb) + (args.empty() ? "" : " " + args) : current_tag_ + " " + shown;
  r.wire = now_part;
  r.with("verb", std::string(verb)).with("tag", current_tag_);
  out.send += now_part;
  out.records.push_back(std::move(r));
}

void Client::fail(SessionOutput& out, std::string why) {
  if (error_.empty()) error_ = std::move(why);
  if (state_ == ClientState::greeting || state_ == ClientState::logout) {
    enter(ClientState::failed, out);
    out.close = true;
    return;
  }
  failing_ = true;
  send_command(out, "LOGOUT", "");
  enter(ClientState::logout, out);
}

SessionOutput Client::start(SimTime now) {
  now_ = now;
  SessionOutput out;
  out.deadline = now + config_.timeout;
  return out;
}

SessionOutput Client::receive(SimTime now, std::string_view bytes) {
  now_ = now;
  SessionOutput out;
  if (done()) return out;
  inbuf_.append(bytes);
  size_t pos = 0;
  while (!done() && pos < inbuf_.size()) {
    if (literal_left_ > 0) {
      size_t take = std::min(literal_left_, inbuf_.size() - pos);
      literals_.back().append(inbuf_, pos, take);
      pos += take;
      literal_left_ -= take;
      continue;
    }
    size_t nl = inbuf_.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(inbuf_.data() + pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line_.append(line);
    if (auto n = trailing_literal(line)) {
      if (*n > (64u << 20)) {
        fail(out, "server announced a literal larger than 64 MiB");
        break;
      }
      literals_.emplace_back();
      literals_.back().reserve(*n);
      literal_left_ = *n;
      continue;
    }
    on_response(out);
    line_.clear();
    literals_.clear();
  }
  inbuf_.erase(0, pos);
  if (!done() && inbuf_.size() + line_.size() > (1u << 20)) fail(out, "server sent a response line longer than 1 MiB");
  if (done()) inbuf_.clear();
  else out.deadline = now + config_.timeout;
  return out;
}

void Client::on_response(SessionOutput& out) {
  std::string_view l = line_;
  if (l.starts_with("+")) {
    if (continuation_.empty()) return fail(out, "unexpected continuation request");
    Record r;
    r.kind = Kind::imap_command;
    r.src = info_.local_host;
    r.dst = info_.peer_host;
    r.session = info_.session_id;
    r.text = "(literal, " + std::to_string(continuation_.size()) + " octets)";
    r.wire = continuation_;
    r.with("verb", "literal").with("tag", current_tag_);
    out.send += continuation_;
    out.records.push_back(std::move(r));
    continuation_.clear();
    return;
  }
  if (l.starts_with("* ")) return on_untagged(out, l.substr(2));
  size_t sp = l.find(' ');
  if (sp == std::string_view::npos) return fail(out, "malformed response \"" + std::string(l.substr(0, 60)) + "\"");
  std::string_view tag = l.substr(0, sp);
  std::string_view rest = l.substr(sp + 1);
  size_t sp2 = rest.find(' ');
  std::string status = upper(rest.substr(0, sp2));
  std::string_view text = sp2 == std::string_view::npos ? std::string_view{} : rest.substr(sp2 + 1);
  if (tag != current_tag_) return fail(out, "response for unknown tag " + std::string(tag.substr(0, 20)));
  if (status != "OK" && status != "NO" && status != "BAD") return fail(out, "malformed tagged status " + status.substr(0, 20));
  on_tagged(out, status, text);
}

void Client::on_untagged(SessionOutput& out, std::string_view text) {
  std::string up = upper(text.substr(0, std::min<size_t>(text.size(), 64)));
  if (state_ == ClientState::greeting) {
    if (up.starts_with("OK") || up.starts_with("PREAUTH")) {
      send_command(out, "LOGIN", quote_astring(config_.user) + " " + quote_astring(config_.password),
                   "LOGIN " + quote_astring(config_.user) + " ********");
      return enter(ClientState::login, out);
    }
    return fail(out, "server refused the session: " + std::string(text.substr(0, 120)));
  }
  if (up.starts_with("BYE")) {
    if (state_ == ClientState::logout) return;  // expected; the tagged OK follows
    if (error_.empty()) error_ = "server said " + std::string(text.substr(0, 120));
    return;
  }
  if (up.starts_with("OK [UIDVALIDITY ")) {
    auto n = parse_number(text.substr(16, text.find(']') == std::string_view::npos ? 0 : text.find(']') - 16));
    if (n) uidvalidity_ = static_cast<uint32_t>(*n);
    return;
  }
  if (up.starts_with("SEARCH")) {
    unseen_.clear();
    std::string_view rest = text.substr(6);
    size_t i = 0;
    while (i < rest.size()) {
      while (i < rest.size() && rest[i] == ' ') ++i;
      size_t j = i;
      while (j < rest.size() && rest[j] != ' ') ++j;
      if (j > i)
        if (auto n = parse_number(rest.substr(i, j - i)); n && *n > 0) unseen_.push_back(static_cast<uint32_t>(*n));
      i = j;
    }
    std::sort(unseen_.begin(), unseen_.end());
    return;
  }
  // "<n> EXISTS" / "<n> FETCH (...)"
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return;
  auto n = parse_number(text.substr(0, sp));
  std::string_view what = text.substr(sp + 1);
  if (!n) return;
  if (upper(what.substr(0, 6)) == "EXISTS") {
    exists_ = static_cast<uint32_t>(*n);
    return;
  }
  if (upper(what.substr(0, 5)) == "FETCH" && state_ == ClientState::fetch) {
    // Find "UID <n>" and the literal that carries BODY[].
    std::string u = upper(what);
    uint32_t uid = 0;
    size_t p = u.find("UID ");
    if (p != std::string::npos) {
      size_t q = p + 4;
      size_t e = q;
      while (e < u.size() && u[e] >= '0' && u[e] <= '9') ++e;
      if (auto v = parse_number(std::string_view(u).substr(q, e - q))) uid = static_cast<uint32_t>(*v);
    }
    if (u.find("BODY[]") == std::string::npos || literals_.empty()) return;  // a flags-only update
    mail::FetchedMessage f;
    f.number = static_cast<uint32_t>(*n);
    f.uid = uid;
    f.data = std::move(literals_.front());
    fetched_uids_.push_back(uid);
    out.fetched.push_back(std::move(f));
  }
}

void Client::on_tagged(SessionOutput& out, std::string_view status, std::string_view text) {
  bool ok = status == "OK";
  std::string why = std::string(status) + " " + std::string(text.substr(0, 160));
  switch (state_) {
    case ClientState::login:
      if (!ok) return fail(out, "login failed: " + why);
      send_command(out, "SELECT", quote_astring(config_.mailbox));
      return enter(ClientState::select, out);
    case ClientState::select:
      if (!ok) return fail(out, "SELECT failed: " + why);
      send_command(out, "UID SEARCH", "UNSEEN");
      return enter(ClientState::search, out);
    case ClientState::search:
      if (!ok) return fail(out, "SEARCH failed: " + why);
      if (unseen_.empty()) {
        send_command(out, "LOGOUT", "");
        return enter(ClientState::logout, out);
      }
      // BODY.PEEK[] leaves \Seen alone; the explicit STORE that follows marks
      // exactly what arrived (a message that failed to download stays unseen).
      send_command(out, "UID FETCH", compress_set(unseen_) + " (UID FLAGS RFC822.SIZE BODY.PEEK[])");
      return enter(ClientState::fetch, out);
    case ClientState::fetch:
      if (!ok) return fail(out, "FETCH failed: " + why);
      if (config_.mark_seen && !fetched_uids_.empty()) {
        std::vector<uint32_t> u = fetched_uids_;
        std::sort(u.begin(), u.end());
        u.erase(std::unique(u.begin(), u.end()), u.end());
        send_command(out, "UID STORE", compress_set(u) + " +FLAGS (\\Seen)");
        return enter(ClientState::store, out);
      }
      send_command(out, "LOGOUT", "");
      return enter(ClientState::logout, out);
    case ClientState::store:
      if (!ok) return fail(out, "STORE failed: " + why);
      send_command(out, "LOGOUT", "");
      return enter(ClientState::logout, out);
    case ClientState::logout:
      if (failing_ || !ok) {
        if (error_.empty()) error_ = "LOGOUT failed: " + why;
        enter(ClientState::failed, out);
      } else {
        enter(ClientState::done, out);
      }
      out.close = true;
      return;
    default:
      return fail(out, "unexpected tagged response " + why);
  }
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
  if (error_.empty()) error_ = "connection closed by the server (" + std::string(state_name(state_)) + ")";
  enter(ClientState::failed, out);
  return out;
}

}  // namespace smtplab::imap
