// sim/agents/user_agent.cpp: compose, submit, fetch.
#include "sim/agents/user_agent.hpp"

#include "sim/mail/message.hpp"

namespace smtplab::agents {

UserAgent::UserAgent(Services& s, const Host& host, HostId id) : s_(s), host_(host), id_(id) {
  server_ = s_.net.find_host(host_.server);
  if (server_ != kNoHost) server_addr_ = s_.net.host_address(server_);
}

void UserAgent::note(std::string text) {
  Record r;
  r.kind = Kind::note;
  r.src = host_.name;
  r.text = std::move(text);
  s_.trace.emit(std::move(r));
}

void UserAgent::submission_note(std::string text, size_t index, std::string_view outcome, const std::string& rcpts,
                                const std::string& error) {
  Record r;
  r.kind = Kind::note;
  r.src = host_.name;
  r.dst = host_.server;
  r.text = std::move(text);
  r.with("message", std::to_string(index)).with("outcome", std::string(outcome)).with("rcpt", rcpts).with("error", error);
  s_.trace.emit(std::move(r));
}

void UserAgent::start() {
  if (host_.fetch.protocol == FetchProtocol::none || server_ == kNoHost) return;
  s_.engine.schedule_at(host_.fetch.first, &UserAgent::fetch_thunk, this);
}

void UserAgent::compose(const MessageSpec& spec, size_t index) {
  mail::BuildOptions opt;
  opt.now = s_.engine.now();
  opt.sequence = (*s_.next_message_number)++;
  // Leave Date and Message-ID to the submission server (RFC 6409 8.2, 8.3).
  opt.add_date = false;
  opt.add_message_id = false;
  const mail::Message msg = mail::build_message(spec, opt);
  const mail::Envelope env = mail::envelope_of(spec);
  auto out = std::make_shared<Outgoing>();
  out->index = index;
  out->txn.envelope.reverse_path = env.mail_from;
  for (const std::string& a : env.rcpt_to) out->txn.envelope.recipients.push_back(smtp::Recipient{a, 0, {}});
  out->txn.content = msg.serialize();
  out->probes = spec.probe;
  {
    Record r;
    r.kind = Kind::message_composed;
    r.src = host_.name;
    std::string rcpts;
    for (const std::string& a : env.rcpt_to) rcpts += (rcpts.empty() ? "" : ", ") + a;
    r.text = spec.from + " writes \"" + spec.subject + "\" to " + rcpts;
    r.wire = out->txn.content;
    r.with("message", std::to_string(index)).with("from", spec.from).with("rcpt", rcpts)
        .with("size", std::to_string(out->txn.content.size()));
    s_.trace.emit(std::move(r));
  }
  submit(std::move(out));
}

void UserAgent::submit(std::shared_ptr<Outgoing> out) {
  ++out->tries;
  smtp::ClientConfig cfg;
  cfg.helo_name = host_.name;
  cfg.use_pipelining = host_.use_pipelining;
  cfg.use_starttls = host_.use_starttls;
  cfg.use_auth = host_.use_auth;
  cfg.auth_user = host_.use_auth ? host_.user : std::string();
  cfg.auth_password = host_.password;
  cfg.dot_stuffing = host_.dot_stuffing && no_stuffing_ <= 0;
  cfg.bare_lf = bare_lf_ > 0;
  cfg.probes = out->probes;
  const uint64_t serial = s_.net.next_serial();
  smtp::SessionInfo info{host_.name, host_.server, format_ipv4(server_addr_), serial, false};
  std::vector<smtp::Transaction> txns{out->txn};
  auto* d = s_.conns.make<SmtpClientDriver>(
      cfg, std::move(info), std::move(txns),
      [this, out](const smtp::ClientSession& s, bool connected, CloseReason why) { submitted(out, s, connected, why); });
  // A client that does not authenticate cannot use submission (RFC 6409 4.3:
  // 530 without AUTH); it talks to port 25 like any stranger (or a spam bot).
  d->set_conn(s_.net.connect(id_, server_addr_, host_.use_auth ? kPortSubmission : kPortSmtp, d, serial));
}

void UserAgent::submitted(std::shared_ptr<Outgoing> out, const smtp::ClientSession& s, bool connected,
                          CloseReason why) {
  const smtp::TransactionResult* res = s.results().empty() ? nullptr : &s.results()[0];
  std::vector<smtp::Recipient> retry;
  std::string problem;
  if (!connected) {
    problem = std::string("cannot connect to ") + host_.server + ": " + std::string(close_reason_name(why));
    retry = out->txn.envelope.recipients;
  } else if (res) {
    for (size_t k = 0; k < res->recipients.size() && k < out->txn.envelope.recipients.size(); ++k) {
      const smtp::RecipientOutcome& o = res->recipients[k];
      if (o.status == smtp::RcptStatus::permanent) {
        // A refusal at submission time is shown to the user at once; the
        // server never took responsibility, so there is no bounce (RFC 6409
        // 4.1).
        submission_note(host_.name + ": the server refused " + o.address + ": " + o.reply.summary() +
                            " (the user sees an error)",
                        out->index, "refused", o.address, o.reply.summary());
      } else if (o.status != smtp::RcptStatus::delivered) {
        retry.push_back(out->txn.envelope.recipients[k]);
        problem = o.reply.summary();
      }
    }
  } else {
    problem = "the session ended before the message was sent";
    retry = out->txn.envelope.recipients;
  }
  if (retry.empty()) return;
  std::string rcpts;
  for (const smtp::Recipient& r : retry) rcpts += (rcpts.empty() ? "" : ",") + r.address;
  if (out->tries >= kOutboxTries) {
    submission_note(host_.name + ": giving up on message " + std::to_string(out->index) + " after " +
                        std::to_string(out->tries) + " tries (" + problem + "); it stays in the outbox",
                    out->index, "gave-up", rcpts, problem);
    return;
  }
  submission_note(host_.name + ": submission failed (" + problem + "); retrying in 1 min", out->index, "retry", rcpts,
                  problem);
  out->txn.envelope.recipients = std::move(retry);
  s_.engine.after(minutes(1), [this, out] { submit(out); });
}

void UserAgent::fetch_thunk(void* ctx, uint64_t) {
  auto* self = static_cast<UserAgent*>(ctx);
  self->fetch();
  self->s_.engine.schedule_in(std::max(self->host_.fetch.every, sec(1)), &UserAgent::fetch_thunk, self);
}

void UserAgent::fetched(const std::string& protocol, uint32_t uid, const std::string& uidl, const std::string& data) {
  fetched_.push_back(data);
  if (!s_.trace.enabled(Layer::mail)) return;
  const mail::Message m = mail::parse_message(data);
  Record r;
  r.kind = Kind::message_fetched;
  r.src = host_.name;
  r.dst = host_.server;
  const std::string subject = m.get("Subject") ? std::string(*m.get("Subject")) : std::string();
  r.text = host_.name + " fetched \"" + subject + "\" by " + protocol + (uid ? " (uid " + std::to_string(uid) + ")" : "");
  r.wire = data;
  r.with("mailbox", host_.user).with("protocol", protocol).with("device", host_.name);
  if (auto id = m.get("Message-ID")) r.with("message-id", std::string(*id));
  if (uid) r.with("uid", std::to_string(uid));
  if (!uidl.empty()) r.with("uidl", uidl);
  s_.trace.emit(std::move(r));
}

void UserAgent::fetch() {
  if (fetching_) return;  // the previous check is still running
  fetching_ = true;
  const uint64_t serial = s_.net.next_serial();
  if (host_.fetch.protocol == FetchProtocol::pop3) {
    pop3::ClientConfig c;
    c.user = host_.user;
    c.password = host_.password;
    c.keep = host_.fetch.keep;
    c.known_uidls = known_uidls_;
    auto m = std::make_unique<pop3::Client>(c, mail::SessionInfo{host_.name, host_.server, serial});
    auto* d = s_.conns.make<MailAccessDriver<pop3::Client>>(
        std::move(m), host_.name, host_.server,
        [this](pop3::Client& cl, bool) {
          fetching_ = false;
          if (host_.fetch.keep && cl.ok()) known_uidls_ = cl.server_uidls();
        },
        [this](const mail::FetchedMessage& f) { fetched("POP3", 0, f.unique_id, f.data); });
    d->set_conn(s_.net.connect(id_, server_addr_, kPortPop3, d, serial));
  } else {
    imap::ClientConfig c;
    c.user = host_.user;
    c.password = host_.password;
    auto m = std::make_unique<imap::Client>(c, mail::SessionInfo{host_.name, host_.server, serial});
    auto* d = s_.conns.make<MailAccessDriver<imap::Client>>(
        std::move(m), host_.name, host_.server, [this](imap::Client&, bool) { fetching_ = false; },
        [this](const mail::FetchedMessage& f) { fetched("IMAP", f.uid, {}, f.data); });
    d->set_conn(s_.net.connect(id_, server_addr_, kPortImap, d, serial));
  }
}

}  // namespace smtplab::agents
