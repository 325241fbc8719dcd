// sim/pop3/pop3.hpp: sans-IO POP3 server and client (RFC 1939).
//
// The server walks AUTHORIZATION -> TRANSACTION -> UPDATE (RFC 1939 3):
// USER/PASS in AUTHORIZATION; STAT, LIST, UIDL, RETR, DELE, NOOP, RSET in
// TRANSACTION; QUIT in either (only QUIT from TRANSACTION enters UPDATE and
// removes the messages marked deleted). A connection that drops without
// QUIT never reaches UPDATE: nothing is deleted (RFC 1939 6). Multi-line
// responses end with "." CR LF and lines starting with "." are byte-stuffed
// (RFC 1939 3). Commands are a table keyed by verb: the states that allow
// it, its argument count, and its handler.
//
// The client logs in with USER/PASS, runs STAT, UIDL (when offered), LIST,
// RETRs every message, DELEs each unless `keep`, and QUITs.
//
// Must never: touch a socket, the clock, the engine or randomness; buffer
// without bound (a command line longer than 255 octets is refused: RFC 1939
// 3 allows 255 for a response line, we use the same for commands, and 40
// for arguments); crash on any input.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/mail/mailbox.hpp"
#include "sim/mail/session_output.hpp"

namespace smtplab::pop3 {

using mail::SessionOutput;

// What the mail server implements so a POP3 session can reach a mailbox.
class Backend {
 public:
  virtual ~Backend() = default;
  // Returns the mailbox for (user, password), or nullptr. `user` is what the
  // client sent after USER: a local part or a full address.
  virtual mail::Mailbox* authenticate(std::string_view user, std::string_view password) = 0;
};

enum class ServerState { authorization, transaction, update, closed };
std::string_view state_name(ServerState s);

struct ServerConfig {
  std::string host = "pop.example.test";        // named in the greeting
  SimTime autologout = SimTime{10LL * 60 * 1000000};  // RFC 1939 3: at least 10 minutes
  size_t max_line = 255;
  int max_bad_commands = 10;  // then -ERR and close
};

class Server {
 public:
  Server(Backend& backend, ServerConfig config = {}, mail::SessionInfo info = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The greeting "+OK <host> POP3 server ready".
  SessionOutput start(SimTime now);
  SessionOutput receive(SimTime now, std::string_view bytes);
  // The inactivity (autologout) timer fired: close WITHOUT entering UPDATE.
  SessionOutput on_timeout(SimTime now);
  // The peer closed the connection: no UPDATE, release the mailbox lock.
  SessionOutput on_close(SimTime now);

  ServerState state() const { return state_; }
  bool closed() const { return state_ == ServerState::closed; }

  // The verbs this server knows, with the states that accept them (docs, lessons).
  struct CommandInfo {
    std::string_view verb;
    std::string_view states;  // "AUTHORIZATION", "TRANSACTION" or both
    std::string_view syntax;  // "RETR msg"
    std::string_view summary;
  };
  static std::vector<CommandInfo> commands();

 private:
  struct Cmd;
  struct Entry;
  static const std::vector<Entry>& table();
  void handle_line(SessionOutput& out, std::string_view line);
  void enter(ServerState next, SessionOutput& out, std::string_view why);
  void reply(SessionOutput& out, bool ok, std::string_view text, std::string_view verb);
  void reply_multi(SessionOutput& out, std::string_view first, std::string_view body_crlf, std::string_view verb);
  // Command handlers: the proceed half of each table entry.
  void h_user(SessionOutput&, const Cmd&);
  void h_pass(SessionOutput&, const Cmd&);
  void h_quit(SessionOutput&, const Cmd&);
  void h_stat(SessionOutput&, const Cmd&);
  void h_list(SessionOutput&, const Cmd&);
  void h_uidl(SessionOutput&, const Cmd&);
  void h_retr(SessionOutput&, const Cmd&);
  void h_top(SessionOutput&, const Cmd&);
  void h_dele(SessionOutput&, const Cmd&);
  void h_noop(SessionOutput&, const Cmd&);
  void h_rset(SessionOutput&, const Cmd&);
  void h_capa(SessionOutput&, const Cmd&);
  // Message-number argument -> index into the snapshot, or an -ERR already sent.
  std::optional<size_t> message_arg(SessionOutput& out, std::string_view arg, std::string_view verb);
  Record make(Kind kind, std::string text) const;
  void release();

  Backend& backend_;
  ServerConfig config_;
  mail::SessionInfo info_;
  ServerState state_ = ServerState::authorization;
  std::string inbuf_;
  bool discarding_ = false;  // skipping the rest of an over-long line
  std::string user_;         // accepted USER name, waiting for PASS
  mail::Mailbox* box_ = nullptr;
  // Snapshot of the maildrop at login: message numbers stay fixed for the
  // session (RFC 1939 5) even if mail arrives meanwhile.
  std::vector<uint32_t> uids_;
  std::vector<bool> deleted_;
  int bad_ = 0;
  SimTime now_{0};
};

enum class ClientState {
  greeting, user, pass, stat, uidl, list, retr, dele, quit, done, failed
};
std::string_view state_name(ClientState s);

struct ClientConfig {
  std::string user;      // as sent after USER
  std::string password;
  bool keep = false;     // leave messages on the server (no DELE)
  bool skip_seen_uidls = true;  // with keep: do not download a UIDL seen before
  std::vector<std::string> known_uidls = {};  // UIDLs this device already has
  SimTime timeout = SimTime{10LL * 60 * 1000000};
};

class Client {
 public:
  explicit Client(ClientConfig config, mail::SessionInfo info = {});

  // Nothing to send yet: the server speaks first. Sets the deadline.
  SessionOutput start(SimTime now);
  SessionOutput receive(SimTime now, std::string_view bytes);
  SessionOutput on_timeout(SimTime now);
  SessionOutput on_close(SimTime now);

  ClientState state() const { return state_; }
  bool done() const { return state_ == ClientState::done || state_ == ClientState::failed; }
  bool ok() const { return state_ == ClientState::done; }
  const std::string& error() const { return error_; }
  // UIDLs the server listed (so the user agent can remember them with keep).
  const std::vector<std::string>& server_uidls() const { return uidls_; }
  size_t message_count() const { return count_; }

 private:
  void enter(ClientState next, SessionOutput& out);
  void send_command(SessionOutput& out, std::string_view verb, std::string_view line, std::string_view shown);
  void fail(SessionOutput& out, std::string why);
  void next_retrieval(SessionOutput& out);
  void on_line(SessionOutput& out, std::string_view line);
  void on_status(SessionOutput& out, bool ok, std::string_view line);
  void on_multiline_done(SessionOutput& out);
  bool expects_multiline() const;

  ClientConfig config_;
  mail::SessionInfo info_;
  ClientState state_ = ClientState::greeting;
  std::string inbuf_;
  std::string error_;
  bool failing_ = false;     // QUIT sent after an error: end in `failed`
  bool in_multi_ = false;    // reading the body of a multi-line response
  std::string multi_;        // that body, un-stuffed, CR LF
  size_t count_ = 0;
  std::vector<uint32_t> numbers_;     // from LIST
  std::vector<std::string> uidls_;    // from UIDL, indexed by number-1
  std::vector<uint32_t> to_fetch_;
  size_t cursor_ = 0;
  uint32_t current_ = 0;
  SimTime now_{0};
};

// RFC 1939 3: byte-stuff a multi-line body (lines starting with "." get
// another "."), CR LF endings, and the terminating "." CR LF.
std::string stuff_multiline(std::string_view body_crlf);
// The inverse for one received line: removes the stuffed leading ".".
std::string_view unstuff_line(std::string_view line);

}  // namespace smtplab::pop3
