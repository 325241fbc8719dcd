// sim/imap/imap.hpp: sans-IO IMAP4rev1 subset (RFC 3501), server and client.
//
// Server states (RFC 3501 3): not-authenticated -> authenticated ->
// selected -> logout. Commands (a table keyed by name: allowed states,
// handler): CAPABILITY, NOOP, LOGOUT (any state); LOGIN (not
// authenticated); SELECT, EXAMINE (authenticated or selected); FETCH,
// STORE, SEARCH, UID FETCH/STORE/SEARCH, EXPUNGE, CLOSE, CHECK (selected).
// Responses are untagged ("* ...") data plus one tagged OK/NO/BAD. Message
// bodies go out as literals "{n}" CR LF <n octets> (RFC 3501 4.3); the
// server also accepts synchronizing literals from the client, answering
// "+ " continuation requests.
//
// FETCH BODY[] / RFC822 set \Seen implicitly (RFC 3501 6.4.5); BODY.PEEK[]
// does not. Flags live in the shared mail::Mailbox, so a \Seen stored by one
// device is what the next device's session reports: IMAP keeps devices in
// step; POP3 (which downloads and usually deletes) does not.
//
// The client: LOGIN, SELECT INBOX, UID SEARCH UNSEEN, UID FETCH of those
// (BODY.PEEK[]), UID STORE +FLAGS (\Seen), LOGOUT. Messages stay on the server.
//
// Must never: touch a socket, the clock, the engine or randomness; accept a
// line or literal beyond its limits (BAD and, for absurd literals, close);
// crash on any input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/mail/mailbox.hpp"
#include "sim/mail/session_output.hpp"

namespace smtplab::imap {

using mail::SessionOutput;

class Backend {
 public:
  virtual ~Backend() = default;
  // The INBOX of (user, password), or nullptr. Only INBOX exists here.
  virtual mail::Mailbox* authenticate(std::string_view user, std::string_view password) = 0;
};

enum class ServerState { not_authenticated, authenticated, selected, logout };
std::string_view state_name(ServerState s);

struct ServerConfig {
  std::string host = "imap.example.test";
  SimTime autologout = SimTime{30LL * 60 * 1000000};  // RFC 3501 5.4: at least 30 minutes
  size_t max_line = 8192;
  size_t max_literal = 64 * 1024;  // from the client (LOGIN arguments etc.)
  int max_bad_commands = 10;
};

// A sequence set "1:3,5,7:*" resolved against a mailbox of `max` items.
// Returns the sorted, de-duplicated numbers, or nullopt when malformed.
// For UID sets `max` is the highest UID (and numbers not present are skipped by the caller).
std::optional<std::vector<uint32_t>> parse_sequence_set(std::string_view text, uint32_t max);

class Server {
 public:
  Server(Backend& backend, ServerConfig config = {}, mail::SessionInfo info = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  SessionOutput start(SimTime now);  // "* OK [CAPABILITY ...] <host> IMAP4rev1 ready"
  SessionOutput receive(SimTime now, std::string_view bytes);
  SessionOutput on_timeout(SimTime now);  // autologout: "* BYE", close
  SessionOutput on_close(SimTime now);

  ServerState state() const { return state_; }
  bool closed() const { return state_ == ServerState::logout; }

  struct CommandInfo {
    std::string_view name;
    std::string_view states;
    std::string_view syntax;
    std::string_view summary;
  };
  static std::vector<CommandInfo> commands();

 private:
  struct Token;
  struct Args;
  struct Entry;
  static const std::vector<Entry>& table();
  void handle_command(SessionOutput& out, std::string_view raw);
  void enter(ServerState next, SessionOutput& out, std::string_view why);
  // One response line; `wire` overrides the bytes when it carries literals.
  void respond(SessionOutput& out, std::string text, std::string_view verb, std::string_view tag = "*",
               std::string wire = {});
  void tagged(SessionOutput& out, std::string_view tag, std::string_view status, std::string_view text,
              std::string_view verb);
  bool bad_command(SessionOutput& out, std::string_view tag, std::string_view text, std::string_view verb);
  // Command handlers (the proceed half of each table entry). `uid` = under UID.
  void h_capability(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_noop(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_logout(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_login(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_select(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_examine(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_fetch(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_store(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_search(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_expunge(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_close(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_check(SessionOutput&, std::string_view tag, Args&, bool uid);
  void h_uid(SessionOutput&, std::string_view tag, Args&, bool uid);
  void do_select(SessionOutput&, std::string_view tag, Args&, bool read_only);
  // Resolves a sequence set (or UID set) to 0-based indexes into view_.
  std::optional<std::vector<size_t>> resolve(std::string_view set, bool uid);
  void sync(SessionOutput& out, bool allow_expunge);  // report changes made by other sessions
  std::string flags_of(size_t index) const;
  void release();
  Record make(Kind kind, std::string text) const;

  Backend& backend_;
  ServerConfig config_;
  mail::SessionInfo info_;
  ServerState state_ = ServerState::not_authenticated;
  std::string inbuf_;
  std::string pending_;          // a command being assembled across literals (raw, CR LF kept)
  size_t literal_left_ = 0;      // octets of a client literal still to read
  bool discarding_ = false;      // skipping the rest of an over-long line
  mail::Mailbox* box_ = nullptr;
  bool read_only_ = false;
  std::vector<uint32_t> view_;       // this session's sequence numbers -> UIDs (RFC 3501 2.3.1.2)
  std::vector<std::string> flags_view_;  // flags this session last reported, per sequence number
  std::vector<bool> recent_;         // \Recent as this session saw it
  int bad_ = 0;
  SimTime now_{0};
};

enum class ClientState { greeting, login, select, search, fetch, store, logout, done, failed };
std::string_view state_name(ClientState s);

struct ClientConfig {
  std::string user;
  std::string password;
  std::string mailbox = "INBOX";
  bool mark_seen = true;  // STORE +FLAGS (\Seen) after fetching
  SimTime timeout = SimTime{30LL * 60 * 1000000};
};

class Client {
 public:
  explicit Client(ClientConfig config, mail::SessionInfo info = {});

  SessionOutput start(SimTime now);
  SessionOutput receive(SimTime now, std::string_view bytes);
  SessionOutput on_timeout(SimTime now);
  SessionOutput on_close(SimTime now);

  ClientState state() const { return state_; }
  bool done() const { return state_ == ClientState::done || state_ == ClientState::failed; }
  bool ok() const { return state_ == ClientState::done; }
  const std::string& error() const { return error_; }
  uint32_t exists() const { return exists_; }
  uint32_t uidvalidity() const { return uidvalidity_; }
  const std::vector<uint32_t>& unseen_uids() const { return unseen_; }

 private:
  void on_response(SessionOutput& out);
  void on_tagged(SessionOutput& out, std::string_view status, std::string_view text);
  void on_untagged(SessionOutput& out, std::string_view text);
  void send_command(SessionOutput& out, std::string_view verb, std::string args, std::string shown = {});
  void enter(ClientState next, SessionOutput& out);
  void fail(SessionOutput& out, std::string why);

  ClientConfig config_;
  mail::SessionInfo info_;
  ClientState state_ = ClientState::greeting;
  std::string inbuf_;
  std::string line_;                 // response being assembled; literals appear as "{n}"
  std::vector<std::string> literals_;
  size_t literal_left_ = 0;
  std::string continuation_;         // literal octets to send after the server's "+"
  std::string current_tag_;
  int tag_counter_ = 0;
  bool failing_ = false;
  std::string error_;
  uint32_t exists_ = 0;
  uint32_t uidvalidity_ = 0;
  std::vector<uint32_t> unseen_;
  std::vector<uint32_t> fetched_uids_;
  SimTime now_{0};
};

// "1,2,3,5,7,8" -> "1:3,5,7:8" (sorted input).
std::string compress_set(const std::vector<uint32_t>& sorted);
// An astring as a client sends it: atom, "quoted", or a literal "{n}\r\n..." when needed.
std::string quote_astring(std::string_view s);

}  // namespace smtplab::imap
