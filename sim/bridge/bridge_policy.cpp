// sim/bridge/bridge_policy.cpp: RCPT checks and delivery for bridged sessions.
#include "sim/bridge/bridge_policy.hpp"

#include <cstdio>

namespace smtplab::bridge {

std::string bridge_queue_id(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "B%06llX", static_cast<unsigned long long>(n));
  return buf;
}

BridgePolicy::BridgePolicy(const Scenario& scenario, const Host& host, RecipientPolicyOptions options)
    : host_(host), policy_(scenario, host, options), can_relay_(options.can_relay) {}

bool BridgePolicy::goes_out(std::string_view address) const {
  return can_relay_ && policy_.classify(address).action == RecipientVerdict::Action::relay;
}

std::optional<smtp::Reply> BridgePolicy::check_sender(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope) {
  return inner_ ? inner_->check_sender(ctx, envelope) : smtp::ServerPolicy::check_sender(ctx, envelope);
}

std::optional<smtp::Reply> BridgePolicy::verify(const smtp::PolicyContext& ctx, std::string_view argument) {
  return inner_ ? inner_->verify(ctx, argument) : smtp::ServerPolicy::verify(ctx, argument);
}

void BridgePolicy::record(Record r) {
  if (!out_) return;
  r.src = host_.name;
  r.session = session_;
  out_->records.push_back(std::move(r));
}

bool BridgePolicy::authenticate(const smtp::PolicyContext& ctx, std::string_view authzid, std::string_view user,
                                std::string_view password) {
  if (inner_) return inner_->authenticate(ctx, authzid, user, password);
  // Mailbox users of this host, by local part or full address (RFC 4954).
  auto [local, domain] = split_address(user);
  if (!domain.empty() && !policy_.serves_domain(domain)) return false;
  const std::string l = lower_ascii(local);
  for (const Mailbox& mb : host_.mailboxes)
    if (lower_ascii(mb.user) == l && mb.password == password) return true;
  return false;
}

std::optional<smtp::Reply> BridgePolicy::check_recipient(const smtp::PolicyContext& ctx, const smtp::Envelope& env,
                                                         const smtp::Recipient& rcpt) {
  if (inner_) {
    if (goes_out(rcpt.address)) return std::nullopt;
    return inner_->check_recipient(ctx, env, rcpt);
  }
  const RecipientVerdict v = policy_.classify(rcpt.address);
  if (v.action == RecipientVerdict::Action::refuse) return smtp::Reply(v.code, v.enhanced, v.text);
  return std::nullopt;
}

smtp::Reply BridgePolicy::accept_message(const smtp::PolicyContext& ctx, const smtp::Envelope& envelope,
                                         std::string_view content) {
  if (!inner_) return accept_standalone(ctx, envelope, content);
  smtp::Envelope out_env = envelope;
  smtp::Envelope in_env = envelope;
  out_env.recipients.clear();
  in_env.recipients.clear();
  for (const smtp::Recipient& r : envelope.recipients) (goes_out(r.address) ? out_env : in_env).recipients.push_back(r);
  smtp::Reply reply(250, "2.0.0", "Ok");
  if (!in_env.recipients.empty()) {
    // The simulated server queues it (and answers with its queue id); its
    // records go straight onto the trace.
    reply = inner_->accept_message(ctx, in_env, content);
    if (!reply.positive()) return reply;
    ++accepted_;
  }
  if (!out_env.recipients.empty()) {
    const std::string qid = bridge_queue_id(++relay_ids_);
    if (!relay_ || !relay_(qid, out_env, content)) {
      // deviation: when the simulated server already queued its share, the
      // client still sees this 452 and may send again (a duplicate, the
      // documented RFC 1047 kind); refusing the whole message is the only
      // answer SMTP has for "part of it could not be queued".
      return smtp::Reply(452, "4.3.1", "insufficient system storage: the relay queue is full");
    }
    if (in_env.recipients.empty()) ++accepted_;
    relayed_ += out_env.recipients.size();
    Record q;
    q.kind = Kind::message_queued;
    q.text = qid + ": " + std::to_string(out_env.recipients.size()) + " recipient(s) queued for the real relay";
    q.with("msgid", qid).with("sender", envelope.reverse_path);
    record(std::move(q));
    if (in_env.recipients.empty()) reply = smtp::Reply(250, "2.0.0", "Ok: queued as " + qid);
  }
  return reply;
}

smtp::Reply BridgePolicy::accept_standalone(const smtp::PolicyContext&, const smtp::Envelope& envelope,
                                            std::string_view content) {
  const std::string qid = bridge_queue_id(relay_ids_ + 1);
  smtp::Envelope relay_env = envelope;
  relay_env.recipients.clear();
  std::vector<std::pair<std::string, std::string>> local;  // (rcpt as sent, mailbox)
  for (const smtp::Recipient& r : envelope.recipients) {
    const RecipientVerdict v = policy_.classify(r.address);
    if (v.action == RecipientVerdict::Action::deliver)
      local.emplace_back(r.address, v.mailbox);
    else if (v.action == RecipientVerdict::Action::relay)
      relay_env.recipients.push_back(r);
    // refuse: cannot happen (RCPT already refused it); nothing to deliver.
  }
  // Local delivery first: a failure here must turn into a 451, not a 250.
  std::vector<std::string> paths;
  for (const auto& [rcpt, mailbox] : local) {
    if (maildir_) {
      std::string error;
      std::string path = maildir_->deliver(mailbox, envelope.reverse_path, content, &error);
      if (path.empty()) {
        Record e;
        e.kind = Kind::smtp_error;
        e.text = "local delivery to " + mailbox + " failed: " + error;
        record(std::move(e));
        return smtp::Reply(451, "4.3.0", "local delivery failed, try again later");
      }
      paths.push_back(std::move(path));
    }
  }
  if (!relay_env.recipients.empty() && (!relay_ || !relay_(qid, relay_env, content)))
    return smtp::Reply(452, "4.3.1", "insufficient system storage: the relay queue is full");

  ++accepted_;
  ++relay_ids_;
  Record q;
  q.kind = Kind::message_queued;
  q.text = qid + ": from <" + envelope.reverse_path + ">, " + std::to_string(content.size()) + " octets, " +
           std::to_string(envelope.recipients.size()) + " recipient(s)";
  q.with("msgid", qid).with("sender", envelope.reverse_path);
  record(std::move(q));
  for (size_t i = 0; i < local.size(); ++i) {
    ++delivered_;
    ++per_mailbox_[local[i].second];
    Record d;
    d.kind = Kind::message_delivered;
    d.text = qid + ": delivered to mailbox " + local[i].second + (maildir_ ? " (" + paths[i] + ")" : "");
    d.with("msgid", qid).with("rcpt", local[i].first).with("mailbox", local[i].second);
    record(std::move(d));
  }
  relayed_ += relay_env.recipients.size();
  return smtp::Reply(250, "2.0.0", "Ok: queued as " + qid);
}

}  // namespace smtplab::bridge
