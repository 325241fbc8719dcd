// sim/agents/mail_server.hpp: a simulated mail server (an MTA with mailboxes).
//
// One MailServer per scenario host of role mail-server. It
//   - listens on port 25 (MX: mail for its domains, relaying only for
//     relay_domains and for hosts that use it as their smarthost), 587
//     (submission, RFC 6409: AUTH required, STARTTLS offered; authenticated
//     users may relay anywhere), 110 (POP3) and 143 (IMAP);
//   - queues every accepted message BEFORE the 250 that accepts it
//     (RFC 5321 6.1): accept_message() enqueues, then answers;
//   - runs the queue: local recipients go straight into the mailbox (no SMTP
//     hop), remote ones by MX lookup (or the smarthost) and an SMTP client
//     session over TCP; per-recipient outcomes go through decide()
//     (retry.hpp): next MX, defer with a retry time, bounce, expire, and a
//     one-time delay warning;
//   - writes bounces as RFC 3464 DSNs from <> to the sender; a DSN that
//     fails is discarded (message-discarded), never bounced (RFC 5321 6.2).
//
// Every step is a mail-layer trace record with attrs: msgid (queue id),
// message-id, sender, rcpt, attempt, next (us), error, mailbox, mx; message-
// delivered and dsn-created carry the whole message in `wire`, so the GUI's
// queue and mailbox panels can be rebuilt from the trace alone.
//
// Must never: answer 250 to the end of data before the message is queued;
// relay for an unauthenticated stranger to a domain it does not serve (no
// open relay); bounce a bounce; lose a queued recipient (each one ends
// relayed, delivered, bounced or expired, or is still queued at the end).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/agents/drivers.hpp"
#include "sim/agents/mx_lookup.hpp"
#include "sim/agents/retry.hpp"
#include "sim/imap/imap.hpp"
#include "sim/mail/mailbox.hpp"
#include "sim/net/network.hpp"
#include "sim/pop3/pop3.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/smtp/client.hpp"
#include "sim/smtp/server.hpp"

namespace smtplab::agents {

inline constexpr uint16_t kPortSmtp = 25;
inline constexpr uint16_t kPortSubmission = 587;
inline constexpr uint16_t kPortPop3 = 110;
inline constexpr uint16_t kPortImap = 143;

// What a server needs from the world around it.
struct Services {
  Engine& engine;
  Trace& trace;
  Network& net;
  ConnRegistry& conns;
  MxLookup& mx;
  const Scenario& scenario;
  uint64_t* next_queue_number;   // world-wide, so queue ids are unique in a run
  uint64_t* next_message_number; // for Message-IDs made by servers (DSNs, submission)
  // Active faults by the host or domain they strike: the seq of their
  // fault-injected record. A failure that meets one names it as its cause, so
  // a student can click a bounce and walk back to the fault.
  std::map<std::string, uint64_t> active_faults;
};

class MailServer;

// The queue as data (also what tests and the bridge may inspect).
struct QueuedRecipient {
  std::string address;   // where it goes now (after alias expansion)
  std::string original;  // as given in RCPT TO
  bool local = false;
  bool active = false;   // part of an attempt in flight
  bool finished = false; // relayed, delivered, bounced or expired
  int attempts = 0;
  SimTime next{0};
  std::string last_error;   // the reply or reason of the last failure
  std::string last_status;  // RFC 3463 code of the last failure
  std::string remote_mta;
};

struct QueuedMessage {
  std::string id;          // queue id, "Q0001"
  std::string sender;      // envelope reverse-path; "" = a bounce
  std::string data;        // the message as queued (Received: added), CRLF
  std::string message_id;  // its Message-ID header
  SimTime arrival{0};
  bool warned = false;
  bool hop_checked = false;
  int in_flight = 0;       // outbound attempts running
  EventId timer{};
  std::vector<QueuedRecipient> rcpts;
  bool is_bounce() const { return sender.empty(); }
};

class MailServer final : public smtp::ServerPolicy, public TcpAcceptor, public pop3::Backend, public imap::Backend {
 public:
  MailServer(Services& s, const Host& host, HostId id);
  ~MailServer() override;
  MailServer(const MailServer&) = delete;
  MailServer& operator=(const MailServer&) = delete;

  // Opens the listeners.
  void start();

  const Host& host() const { return host_; }
  HostId id() const { return id_; }
  const std::string& name() const { return host_.name; }
  bool serves_domain(std::string_view domain) const;
  // True when this server relays for `client` (its smarthost users).
  void add_relay_client(HostId client) { relay_clients_.insert(client); }

  // ---- smtp::ServerPolicy
  bool authenticate(const smtp::PolicyContext& ctx, std::string_view authzid, std::string_view user,
                    std::string_view password) override;
  std::optional<smtp::Reply> check_recipient(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope,
                                             const smtp::Recipient& rcpt) override;
  smtp::Reply accept_message(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope,
                             std::string_view content) override;

  // ---- TcpAcceptor
  TcpHandler* on_accept(TcpConn conn) override;

  // ---- pop3::Backend / imap::Backend
  mail::Mailbox* authenticate(std::string_view user, std::string_view password) override;

  // ---- queue
  // Queues a message and schedules its first attempt now; returns the queue id.
  // (The bridge calls accept_message() through a ServerSession instead.)
  std::string enqueue(std::string sender, const std::vector<std::string>& rcpts, std::string data,
                      std::string_view how);
  const std::map<std::string, QueuedMessage>& queue() const { return queue_; }

  // ---- mailboxes (address -> mailbox), for exports and tests
  const std::map<std::string, mail::Mailbox>& mailboxes() const { return boxes_; }

  // ---- faults and state switched by the world
  smtp::ServerFaults& faults() { return faults_; }
  void set_mailbox_full(const std::string& mailbox, bool on);
  void set_greylisting(bool on) { greylist_fault_ += on ? 1 : -1; }
  void set_dot_stuffing(bool on) { no_stuffing_ += on ? -1 : 1; }
  void set_bare_lf(bool on) { bare_lf_ += on ? 1 : -1; }
  // Host power: while down the queue waits; back up, due work runs at once.
  void set_up(bool up);

  // The SMTP configs (port 25 and 587), for a bridge that serves this host.
  const smtp::ServerConfig& mx_config() const { return cfg25_; }
  const smtp::ServerConfig& submission_config() const { return cfg587_; }

 private:
  struct Box {
    std::string password;
    int64_t quota = 0;
  };
  struct Route;      // where a group of recipients goes
  struct Attempt;    // one outbound attempt (a group, several MX hosts)
  enum class RcptClass { local, relay, refuse };

  // Resolves a recipient: local mailbox address, relay, or refusal reply.
  RcptClass classify(std::string_view address, bool may_relay, std::string* mailbox, smtp::Reply* refusal);
  std::string local_mailbox(std::string_view local_part, int depth = 0);
  std::string primary_domain() const;
  std::string new_queue_id();

  void schedule_run(QueuedMessage& m, SimTime at);
  static void run_thunk(void* ctx, uint64_t n);
  void run(const std::string& id);
  bool deliver_local(QueuedMessage& m, QueuedRecipient& r);  // false: bounced
  void start_attempt(QueuedMessage& m, std::vector<size_t> rcpts, const std::string& domain);
  void attempt_resolved(std::shared_ptr<Attempt> a, MxAnswer answer);
  void try_candidate(std::shared_ptr<Attempt> a);
  void attempt_done(std::shared_ptr<Attempt> a, const smtp::ClientSession& s, bool connected, CloseReason why);
  void settle(std::shared_ptr<Attempt> a, const std::vector<std::pair<size_t, AttemptOutcome>>& outcomes,
              const std::vector<std::string>& errors, const std::vector<std::string>& statuses);
  void after_attempt(QueuedMessage& m);
  void finish_rcpt(QueuedMessage& m, QueuedRecipient& r);
  void send_dsn(QueuedMessage& m, const std::vector<size_t>& rcpts, bool delayed);
  void maybe_forget(const std::string& id);
  // The fault record explaining a failure towards this host/domain, or 0.
  uint64_t fault_cause(const std::string& host, const std::string& domain) const;

  Services& s_;
  Host host_;
  HostId id_;
  smtp::ServerConfig cfg25_, cfg587_;
  smtp::ServerFaults faults_;
  std::map<std::string, mail::Mailbox> boxes_;  // "alice@yahoo.test" -> mailbox
  std::map<std::string, Box> box_info_;
  std::map<std::string, QueuedMessage> queue_;
  std::map<uint64_t, std::string> timer_ids_;   // run_thunk argument -> queue id
  uint64_t next_timer_ = 1;
  std::set<HostId> relay_clients_;
  std::map<std::string, SimTime> greylist_;      // triple -> first seen
  std::set<std::string> full_boxes_;
  int greylist_fault_ = 0;
  int no_stuffing_ = 0;
  int bare_lf_ = 0;  // bare-lf faults in force
  bool up_ = true;
  std::vector<std::string> waiting_for_up_;
  FlushSlot flush_;
};

}  // namespace smtplab::agents
