// sim/bridge/serve.hpp: `smtplab serve`: one simulated mail server on a real
// TCP listener.
//
// The scenario runs in real time (RealTimePacer maps the wall clock to
// simulated time); real clients (telnet, swaks, smtplib, smtp-source) hold
// real SMTP sessions with the same smtp::ServerSession the simulator uses.
// Every session's records go onto the one Trace, printed live as a
// transcript. Outbound mail (--relay-to) uses the same smtp::ClientSession.
//
// Threading: one asio::io_context run on the calling thread; the engine,
// the world, the trace and every session live on that thread only, so the
// deterministic core never sees a second thread.
//
// Must never: listen on a non-loopback address without a loud warning;
// relay for a domain the scenario does not serve; let a peer grow memory
// without bound (fixed read buffer, capped write backlog, the session's own
// line and size limits); leave a session without a 421 at shutdown.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/bridge/endpoint.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/smtp/server.hpp"

namespace smtplab::bridge {

struct ServeOptions {
  Endpoint listen{"127.0.0.1", 2525, false};
  std::string host;               // "" = default_serve_host()
  bool catch_all = false;
  std::string maildir;            // "" = keep no message files
  bool maildir_sync = true;       // fsync each Maildir file before rename
  std::optional<SimTime> idle_timeout;  // shortens RFC 5321 4.5.3.2.7's 5 minutes
  std::optional<Endpoint> relay_to;
  size_t max_connections = 1000;  // beyond it: 421 4.7.0 and close
  std::optional<double> duration_seconds;  // stop by itself after this long (tests)
  bool quiet = false;             // no live transcript
  std::string jsonl;              // also write the trace as JSON Lines here
  bool all_layers = false;        // transcript shows every layer
};

// Validated options; "" or an error message (the CLI prints it, exit 2).
std::string check_serve_options(const Scenario& scenario, ServeOptions& options);

// The mail server a bridge binds to by default: the one serving the domain of
// the first recipient of the scenario's first message, else the first mail
// server with mailboxes, else the first mail server; "" when there is none.
std::string default_serve_host(const Scenario& scenario);

// The server config a real socket gets: the simulated host's own, minus
// STARTTLS (no real TLS on the bridge), with --idle-timeout applied.
smtp::ServerConfig bridge_server_config(const smtp::ServerConfig& base, const ServeOptions& options);

// Reading pauses while this many reply bytes wait to be sent (back-pressure
// against a client that pipelines and never reads).
inline constexpr size_t kMaxReplyBacklog = 256 * 1024;
// Bytes read from a socket at once (the only input buffer the bridge owns).
inline constexpr size_t kReadBufferSize = 16 * 1024;
// True when the bridge may read more from a peer with this much unsent output.
inline bool may_read_more(size_t unsent_reply_bytes) { return unsent_reply_bytes <= kMaxReplyBacklog; }

// Names of the scenario's mail servers, comma-separated (for error messages).
std::string mail_server_names(const Scenario& scenario);

struct ServeStats {
  uint64_t connections = 0;
  uint64_t refused_connections = 0;  // over max_connections
  uint64_t messages_accepted = 0;
  uint64_t deliveries = 0;
  uint64_t relayed_ok = 0;
  uint64_t relay_failed = 0;
};

class Server {
 public:
  // `log` receives the live transcript, `err` warnings and the summary.
  Server(const Scenario& scenario, ServeOptions options, std::ostream& log, std::ostream& err);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listener; false with a one-line reason (port in use ...).
  bool bind(std::string* error);
  // The bound endpoint (the real port when 0 was asked for).
  Endpoint local_endpoint() const;
  // Runs until SIGINT/SIGTERM, the duration, or stop(). Returns an exit code.
  int run();
  // Thread-safe: asks run() to shut down as SIGTERM would.
  void stop();

  ServeStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtplab::bridge
