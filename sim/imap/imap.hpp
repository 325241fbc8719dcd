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
  Server(Backend& backend, ServerConfig config = {});
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
  struct Args;
  void handle_command(SessionOutput& out, std::string_view tag, std::string_view name, Args& args);
  void enter(ServerState next, SessionOutput& out, std::string_view why);
  void untagged(SessionOutput& out, std::string text, std::string_view verb, std::string literal = {},
                std::string tail = {});
  void tagged(SessionOutput& out, std::string_view tag, std::string_view status, std::string_view text,
              std::string_view verb);
  void cmd_select(SessionOutput&, std::string_view tag, Args&, bool read_only);
  void cmd_fetch(SessionOutput&, std::string_view tag, Args&, bool uid);
  void cmd_store(SessionOutput&, std::string_view tag, Args&, bool uid);
  void cmd_search(SessionOutput&, std::string_view tag, Args&, bool uid);
  void cmd_expunge(SessionOutput&, std::string_view tag, bool silent);
  void sync(SessionOutput& out, bool allow_expunge);  // report changes made by other sessions
  std::string flags_of(const mail::StoredMessage& m) const;
  long seq_of_uid(uint32_t uid) const;
  void release();

  Backend& backend_;
  ServerConfig config_;
  ServerState state_ = ServerState::not_authenticated;
  std::string inbuf_;
  std::string pending_;          // a command line being assembled across literals
  size_t literal_left_ = 0;      // octets of a client literal still to read
  bool literal_mode_ = false;
  mail::Mailbox* box_ = nullptr;
  bool read_only_ = false;
  std::vector<uint32_t> view_;       // this session's sequence numbers -> UIDs (RFC 3501 2.3.1.2)
  std::vector<std::string> flags_view_;  // last flags this session reported per sequence number
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
  explicit Client(ClientConfig config);

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
  struct Response;
  void handle_response(SessionOutput& out, Response& r);
  void send_command(SessionOutput& out, std::string_view verb, std::string command, std::string shown = {});
  void enter(ClientState next, SessionOutput& out);
  void fail(SessionOutput& out, std::string why);
  void on_tagged(SessionOutput& out, std::string_view status, std::string_view text);

  ClientConfig config_;
  ClientState state_ = ClientState::greeting;
  std::string inbuf_;
  std::string line_;                 // response line being assembled
  std::vector<std::string> literals_;
  size_t literal_left_ = 0;
  bool literal_mode_ = false;
  std::string current_tag_;
  int tag_counter_ = 0;
  std::string error_;
  uint32_t exists_ = 0;
  uint32_t uidvalidity_ = 0;
  std::vector<uint32_t> unseen_;
  size_t fetched_count_ = 0;
  SimTime now_{0};
};

}  // namespace smtplab::imap
