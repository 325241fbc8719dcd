// sim/agents/user_agent.hpp: a user's mail program (MUA) on a device.
//
// It composes messages from the scenario (MessageSpec) at their time,
// submits them to its own server over SMTP (port 587, STARTTLS, AUTH PLAIN:
// RFC 6409), and fetches the user's mail on its FetchPolicy schedule: POP3
// (RFC 1939; download-and-delete, or keep with UIDL memory) or IMAP
// (RFC 3501; messages stay on the server, \Seen shared between devices).
//
// A device with "auth": false does not authenticate, so it cannot use port
// 587 (RFC 6409 4.3); it submits to port 25 as an unauthenticated client,
// where only mail for the server's own domains is accepted (no open relay).
//
// Deviations: the device knows its server's address from the scenario
// rather than looking it up in DNS (a configured submission server, as in a
// mail client's account settings). The message it writes has no Date or
// Message-ID: the submission server adds them (RFC 6409 8.2, 8.3), which the
// trace then shows. A submission that fails temporarily stays in the
// device's outbox and is retried every minute, up to kOutboxTries times.
//
// Must never: retry a message the server accepted; keep state that is not
// also on the trace (every fetched message is a message-fetched record).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/agents/mail_server.hpp"

namespace smtplab::agents {

class UserAgent {
 public:
  static constexpr int kOutboxTries = 5;

  UserAgent(Services& s, const Host& host, HostId id);
  UserAgent(const UserAgent&) = delete;
  UserAgent& operator=(const UserAgent&) = delete;

  // Schedules the fetch polling.
  void start();
  // Composes and submits message number `index` of the scenario (now).
  void compose(const MessageSpec& spec, size_t index);

  void set_dot_stuffing(bool on) { no_stuffing_ += on ? -1 : 1; }
  void set_bare_lf(bool on) { bare_lf_ += on ? 1 : -1; }
  const Host& host() const { return host_; }
  HostId id() const { return id_; }

  // What this device has downloaded (POP3) or seen (IMAP), in order.
  const std::vector<std::string>& fetched() const { return fetched_; }

 private:
  struct Outgoing {
    smtp::Transaction txn;
    std::vector<std::string> probes;  // MessageSpec::probe
    size_t index = 0;
    int tries = 0;
  };
  void submit(std::shared_ptr<Outgoing> out);
  void submitted(std::shared_ptr<Outgoing> out, const smtp::ClientSession& s, bool connected, CloseReason why);
  static void fetch_thunk(void* ctx, uint64_t);
  void fetch();
  void fetched(const std::string& protocol, uint32_t uid, const std::string& uidl, const std::string& data);
  void note(std::string text);
  // A note about submitting message `index` (read by message_fates():
  // outcome "refused", "gave-up" or "retry", the recipients, the error).
  void submission_note(std::string text, size_t index, std::string_view outcome, const std::string& rcpts,
                       const std::string& error);

  Services& s_;
  Host host_;
  HostId id_;
  HostId server_ = kNoHost;
  Ipv4 server_addr_ = 0;
  int no_stuffing_ = 0;
  int bare_lf_ = 0;  // bare-lf faults in force
  bool fetching_ = false;
  std::vector<std::string> known_uidls_;  // POP3 with keep: what this device already has
  std::vector<std::string> fetched_;
};

}  // namespace smtplab::agents
