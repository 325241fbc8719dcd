// sim/bridge/bridge_policy.hpp: the ServerPolicy of a mail server that real
// clients reach through `smtplab serve`.
//
// Two modes:
//  - with an inner policy (the world's simulated MailServer of that host,
//    sim/agents): every decision is the simulated server's own (mailboxes,
//    aliases, quotas, greylisting, faults), and accepted messages enter its
//    queue, so they are delivered or relayed by the simulation. Only the
//    recipients that --relay-to sends over a real socket are taken out first
//    (RecipientPolicy says "relay": a domain of another scenario server).
//  - without one (standalone): RCPT decisions come from RecipientPolicy
//    (local mailbox, relay to a scenario domain when an outbound route
//    exists, refuse everything else). At the end of data the message is
//    delivered to each local mailbox (counted, and written as a Maildir file
//    when a MaildirWriter is given) BEFORE the 250 goes out (RFC 5321 6.1:
//    the 250 means we own it).
// Relay recipients are handed to a RelaySink (the bridge's outbound queue).
//
// Mail-layer trace records (message-queued, message-delivered) are appended
// to the Output of the session being served, so they sit on the trace right
// between the data and the 250, where they happened.
//
// Must never: accept a recipient outside the scenario's domains (never an
// open relay); answer 250 to the end of data when a local delivery failed;
// keep message bodies in memory (only counts).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sim/bridge/local_policy.hpp"
#include "sim/bridge/maildir.hpp"
#include "sim/smtp/server.hpp"

namespace smtplab::bridge {

// Where relay recipients go: (queue id, envelope holding only the relay
// recipients, content). Returns false when the queue is full (452 4.3.1).
using RelaySink = std::function<bool(const std::string& queue_id, const smtp::Envelope& env, std::string_view content)>;

class BridgePolicy : public smtp::ServerPolicy {
 public:
  BridgePolicy(const Scenario& scenario, const Host& host, RecipientPolicyOptions options);

  void set_maildir(MaildirWriter* writer) { maildir_ = writer; }
  // The world's server for this host (not owned); null = standalone mode.
  void set_inner(smtp::ServerPolicy* inner) { inner_ = inner; }
  bool has_inner() const { return inner_ != nullptr; }
  void set_relay(RelaySink sink) { relay_ = std::move(sink); }
  // Trace records made during a policy call go to this Output (the calling
  // session's, whose id they carry); set before driving a session, cleared
  // after (nullptr).
  void set_output(smtp::Output* out, uint64_t session_id = 0) {
    out_ = out;
    session_ = session_id;
  }

  bool authenticate(const smtp::PolicyContext& ctx, std::string_view authzid, std::string_view user,
                    std::string_view password) override;
  std::optional<smtp::Reply> check_sender(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope) override;
  std::optional<smtp::Reply> verify(const smtp::PolicyContext& ctx, std::string_view argument) override;
  std::optional<smtp::Reply> check_recipient(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope,
                                             const smtp::Recipient& rcpt) override;
  smtp::Reply accept_message(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope,
                             std::string_view content) override;

  uint64_t accepted() const { return accepted_; }
  uint64_t delivered() const { return delivered_; }
  uint64_t relayed() const { return relayed_; }
  // Messages delivered per mailbox address.
  const std::map<std::string, uint64_t>& per_mailbox() const { return per_mailbox_; }
  const RecipientPolicy& recipients() const { return policy_; }

 private:
  void record(Record r);
  bool goes_out(std::string_view address) const;  // taken by --relay-to, not by the inner server
  smtp::Reply accept_standalone(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope,
                                std::string_view content);

  const Host& host_;
  RecipientPolicy policy_;
  MaildirWriter* maildir_ = nullptr;
  smtp::ServerPolicy* inner_ = nullptr;
  bool can_relay_ = false;
  RelaySink relay_;
  smtp::Output* out_ = nullptr;
  uint64_t session_ = 0;
  uint64_t accepted_ = 0;
  uint64_t delivered_ = 0;
  uint64_t relayed_ = 0;
  uint64_t relay_ids_ = 0;  // bridge queue ids handed out
  std::map<std::string, uint64_t> per_mailbox_;
};

// "B00001A": queue ids in the style of Postfix's short hex ids.
std::string bridge_queue_id(uint64_t n);

}  // namespace smtplab::bridge
