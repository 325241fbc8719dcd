// sim/agents/mail_server.cpp: listeners, policy, queue and queue runner.
#include "sim/agents/mail_server.hpp"

#include <algorithm>

#include "sim/mail/dsn.hpp"
#include "sim/mail/message.hpp"
#include "sim/mail/mime.hpp"

namespace smtplab::agents {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep = ",") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// The RFC 3463 code of a reply, or a class default ("4.0.0" / "5.0.0").
std::string status_of(const smtp::Reply& r) {
  if (!r.enhanced.empty()) return r.enhanced;
  return r.permanent() ? "5.0.0" : r.positive() ? "2.0.0" : "4.0.0";
}

// RFC 2045 4: a MIME message says "MIME-Version: 1.0" (comments aside).
bool is_mime(const mail::Message& m) {
  std::optional<std::string_view> v = m.get("MIME-Version");
  if (!v) return false;
  std::string_view t = *v;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  return t.substr(0, 3) == "1.0" && (t.size() == 3 || t[3] == ' ' || t[3] == '(' || t[3] == '\t');
}

// RFC 6152 3 / RFC 1652: the 7-bit form of an 8-bit MIME message, for a
// next hop without 8BITMIME. nullopt (and `why`) when it is not MIME: plain
// 8-bit text has no Content-Transfer-Encoding to rewrite, so it cannot be
// converted and must go back to the sender. `what` lists each conversion
// and its size cost.
std::optional<std::string> downgrade_for_relay(std::string_view content, std::string& why, std::string& what) {
  mail::Message m = mail::parse_message(content);
  if (!is_mime(m)) {
    why = "8-bit message without MIME (no \"MIME-Version: 1.0\"): it cannot be converted to 7 bit";
    return std::nullopt;
  }
  const std::vector<mail::EncodingCost> costs = mail::downgrade_to_7bit(m);
  if (costs.empty()) {
    why = "8-bit octets outside any MIME body part (in the header?): nothing to convert";
    return std::nullopt;
  }
  for (const mail::EncodingCost& c : costs) what += (what.empty() ? "" : "; ") + c.describe();
  return m.serialize();
}

bool greeting_stage(std::string_view stage) {
  return stage == "CONNECT" || stage == "GREETING" || stage == "EHLO" || stage == "HELO" || stage == "STARTTLS";
}

}  // namespace

struct MailServer::Attempt {
  std::string qid;
  std::vector<size_t> rcpts;  // indices into QueuedMessage::rcpts still being tried
  std::string target;         // recipient domain, or the smarthost
  bool smarthost = false;
  std::vector<MxCandidate> candidates;
  size_t next = 0;            // next candidate to try
  MxCandidate current;
};

MailServer::MailServer(Services& s, const Host& host, HostId id)
    : s_(s),
      host_(host),
      id_(id),
      cfg25_(smtp::server_config_from(host.smtp, host.name, false)),
      cfg587_(smtp::server_config_from(host.smtp, host.name, true)) {
  cfg25_.faults = &faults_;
  cfg587_.faults = &faults_;
  for (std::string& d : host_.domains) d = lower(d);
  for (std::string& d : host_.relay_domains) d = lower(d);
  for (const Mailbox& mb : host_.mailboxes) {
    const std::string addr = lower(mb.user) + "@" + primary_domain();
    boxes_.emplace(addr, mail::Mailbox(addr));
    box_info_[addr] = Box{mb.password, mb.quota};
  }
}

MailServer::~MailServer() {
  for (auto& [id, m] : queue_)
    if (m.timer.valid()) s_.engine.cancel(m.timer);
}

void MailServer::start() {
  for (uint16_t port : {kPortSmtp, kPortSubmission, kPortPop3, kPortImap}) s_.net.listen(id_, port, this);
}

std::string MailServer::primary_domain() const { return host_.domains.empty() ? lower(host_.name) : host_.domains[0]; }

bool MailServer::serves_domain(std::string_view domain) const {
  const std::string d = lower(domain);
  if (d == lower(host_.name)) return true;
  return std::find(host_.domains.begin(), host_.domains.end(), d) != host_.domains.end();
}

std::string MailServer::new_queue_id() {
  const uint64_t n = (*s_.next_queue_number)++;
  std::string digits = std::to_string(n);
  if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
  return "Q" + digits;
}

// A local part of one of our domains -> the mailbox address, following aliases
// (RFC 5321 3.9.1). Returns "" when unknown; an address outside our domains
// when an alias forwards elsewhere.
std::string MailServer::local_mailbox(std::string_view local_part, int depth) {
  const std::string local = lower(local_part);
  const std::string addr = local + "@" + primary_domain();
  if (boxes_.count(addr)) return addr;
  if (depth < 8) {
    for (const auto& [from, to] : host_.aliases) {
      if (lower(from) != local) continue;
      const std::string target = lower(to);
      const size_t at = target.rfind('@');
      if (at == std::string::npos) return local_mailbox(target, depth + 1);
      if (serves_domain(target.substr(at + 1))) return local_mailbox(target.substr(0, at), depth + 1);
      return target;  // forwarding to another domain
    }
  }
  // RFC 5321 4.5.1: postmaster must exist; it reaches the first mailbox.
  if (local == "postmaster" && !boxes_.empty()) return boxes_.begin()->first;
  if (host_.catch_all || local == "postmaster") {
    boxes_.emplace(addr, mail::Mailbox(addr));
    box_info_[addr] = Box{};
    return addr;
  }
  return {};
}

MailServer::RcptClass MailServer::classify(std::string_view address, bool may_relay, std::string* mailbox,
                                           smtp::Reply* refusal) {
  const std::string addr = lower(address);
  const size_t at = addr.rfind('@');
  const std::string local = at == std::string::npos ? addr : addr.substr(0, at);
  const std::string domain = at == std::string::npos ? primary_domain() : addr.substr(at + 1);
  if (serves_domain(domain)) {
    const std::string box = local_mailbox(local);
    if (box.empty()) {
      *refusal = smtp::Reply(550, "5.1.1", "<" + std::string(address) + ">: Recipient address rejected: User unknown");
      return RcptClass::refuse;
    }
    *mailbox = box;
    return boxes_.count(box) ? RcptClass::local : RcptClass::relay;
  }
  *mailbox = addr;
  // Relay rules (RFC 5321 3.6.2; no open relay): domains we back up, or
  // clients we serve (authenticated submission, smarthost users).
  if (std::find(host_.relay_domains.begin(), host_.relay_domains.end(), domain) != host_.relay_domains.end())
    return RcptClass::relay;
  if (may_relay) return RcptClass::relay;
  *refusal = smtp::Reply(554, "5.7.1", "<" + std::string(address) + ">: Relay access denied");
  return RcptClass::refuse;
}

// ---- policy

bool MailServer::authenticate(const smtp::PolicyContext&, std::string_view, std::string_view user,
                              std::string_view password) {
  return authenticate(user, password) != nullptr;
}

mail::Mailbox* MailServer::authenticate(std::string_view user, std::string_view password) {
  const std::string u = lower(user);
  const size_t at = u.rfind('@');
  if (at != std::string::npos && !serves_domain(u.substr(at + 1))) return nullptr;
  const std::string addr = (at == std::string::npos ? u : u.substr(0, at)) + "@" + primary_domain();
  auto it = boxes_.find(addr);
  auto info = box_info_.find(addr);
  if (it == boxes_.end() || info == box_info_.end() || info->second.password != password) return nullptr;
  return &it->second;
}

std::optional<smtp::Reply> MailServer::check_recipient(const smtp::PolicyContext& ctx, const smtp::Envelope& env,
                                                       const smtp::Recipient& rcpt) {
  bool may_relay = !ctx.auth_user.empty();
  if (!may_relay) {
    const HostId peer = s_.net.find_host(ctx.peer_host);
    may_relay = peer != kNoHost && relay_clients_.count(peer) > 0;
  }
  std::string box;
  smtp::Reply refusal;
  const RcptClass c = classify(rcpt.address, may_relay, &box, &refusal);
  if (c == RcptClass::refuse) return refusal;
  if (c == RcptClass::local) {
    const Box& info = box_info_[box];
    if (full_boxes_.count(box) || (info.quota > 0 && boxes_[box].total_bytes() >= info.quota))
      return smtp::Reply(552, "5.2.2", "<" + rcpt.address + ">: Mailbox full");
  }
  // Greylisting (a classic anti-spam trick): the first try of an unknown
  // (client address, sender, recipient) triple gets 451; a real MTA retries
  // after its backoff and gets through. Authenticated users are exempt.
  if ((host_.smtp.greylisting || greylist_fault_ > 0) && ctx.auth_user.empty()) {
    const std::string key =
        std::string(ctx.peer_address) + "|" + lower(env.reverse_path) + "|" + lower(rcpt.address);
    auto [it, fresh] = greylist_.emplace(key, ctx.now);
    if (fresh || ctx.now - it->second < host_.smtp.greylist_delay)
      return smtp::Reply(451, "4.7.1",
                         "<" + rcpt.address + ">: Recipient address rejected: Greylisted, try again in " +
                             format_duration(host_.smtp.greylist_delay - (ctx.now - it->second)));
  }
  return std::nullopt;
}

smtp::Reply MailServer::accept_message(const smtp::PolicyContext& ctx, const smtp::Envelope& env,
                                       std::string_view content) {
  mail::Message msg = mail::parse_message(content);
  std::string how = "smtp";
  const bool submission = ctx.submission;
  if (submission || !ctx.auth_user.empty()) {
    // RFC 6409 8.2, 8.3: the submission server completes Date and Message-ID.
    const auto added = mail::complete_for_submission(msg, ctx.now, (*s_.next_message_number)++, primary_domain());
    how = "submission by " + std::string(ctx.auth_user);
    if (!added.empty()) {
      std::string names;
      for (const std::string& n : added) names += (names.empty() ? "" : ", ") + n;
      how += " (added " + names + ")";
    }
  }
  // The queue id goes into the Received line, so draw it first.
  const uint64_t number = *s_.next_queue_number;
  std::string digits = std::to_string(number);
  if (digits.size() < 4) digits.insert(0, 4 - digits.size(), '0');
  mail::ReceivedInfo ri;
  ri.from_helo = std::string(ctx.helo_name);
  ri.from_host = std::string(ctx.peer_host);
  ri.from_address = std::string(ctx.peer_address);
  ri.by_host = host_.name;
  // RFC 3848: ESMTP, +S with TLS, +A when authenticated.
  ri.with = std::string(ctx.esmtp ? "ESMTP" : "SMTP") + (ctx.tls ? "S" : "") + (ctx.auth_user.empty() ? "" : "A");
  if (!ctx.esmtp && (ctx.tls || !ctx.auth_user.empty())) ri.with = "ESMTP" + ri.with.substr(4);
  ri.id = "Q" + digits;
  if (env.recipients.size() == 1) ri.for_rcpt = env.recipients[0].address;
  ri.when = ctx.now;
  mail::prepend_received(msg, ri);
  if (flush_.active) flush_.active->flush_records();
  std::vector<std::string> rcpts;
  for (const smtp::Recipient& r : env.recipients) rcpts.push_back(r.address);
  const std::string id = enqueue(env.reverse_path, rcpts, msg.serialize(), how);
  // RFC 5321 6.1: the message is queued; only now may the 250 go out.
  return smtp::Reply(250, "2.0.0", "Ok: queued as " + id);
}

// ---- connections

TcpHandler* MailServer::on_accept(TcpConn conn) {
  const HostId peer = conn.remote_host();
  const std::string peer_name = peer == kNoHost ? format_ipv4(conn.remote_address()) : s_.net.host_name(peer);
  const uint16_t port = conn.local_port();
  if (port == kPortSmtp || port == kPortSubmission) {
    smtp::SessionInfo info{host_.name, peer_name, format_ipv4(conn.remote_address()), conn.serial(),
                           port == kPortSubmission};
    auto* d = s_.conns.make<SmtpServerDriver>(port == kPortSmtp ? cfg25_ : cfg587_, *this, std::move(info));
    d->set_flush_slot(&flush_);
    d->set_conn(conn);
    return d;
  }
  if (port == kPortPop3) {
    pop3::ServerConfig c;
    c.host = host_.name;
    auto m = std::make_unique<pop3::Server>(static_cast<pop3::Backend&>(*this), c,
                                           mail::SessionInfo{host_.name, peer_name, conn.serial()});
    auto* d = s_.conns.make<MailAccessDriver<pop3::Server>>(std::move(m), host_.name, peer_name);
    d->set_conn(conn);
    return d;
  }
  if (port == kPortImap) {
    imap::ServerConfig c;
    c.host = host_.name;
    auto m = std::make_unique<imap::Server>(static_cast<imap::Backend&>(*this), c,
                                           mail::SessionInfo{host_.name, peer_name, conn.serial()});
    auto* d = s_.conns.make<MailAccessDriver<imap::Server>>(std::move(m), host_.name, peer_name);
    d->set_conn(conn);
    return d;
  }
  return nullptr;
}

// ---- faults

void MailServer::set_mailbox_full(const std::string& mailbox, bool on) {
  std::string addr = lower(mailbox);
  if (addr.find('@') == std::string::npos) addr += "@" + primary_domain();
  const size_t at = addr.rfind('@');
  if (serves_domain(addr.substr(at + 1))) addr = addr.substr(0, at) + "@" + primary_domain();
  if (on)
    full_boxes_.insert(addr);
  else
    full_boxes_.erase(addr);
}

void MailServer::set_up(bool up) {
  up_ = up;
  if (!up) return;
  std::vector<std::string> waiting;
  waiting.swap(waiting_for_up_);
  for (const std::string& id : waiting) {
    auto it = queue_.find(id);
    if (it != queue_.end()) schedule_run(it->second, s_.engine.now());
  }
}

// ---- queue

std::string MailServer::enqueue(std::string sender, const std::vector<std::string>& rcpts, std::string data,
                                std::string_view how) {
  const std::string id = new_queue_id();
  QueuedMessage& m = queue_[id];
  m.id = id;
  m.sender = std::move(sender);
  m.data = std::move(data);
  m.arrival = s_.engine.now();
  {
    const mail::Message parsed = mail::parse_message(m.data);
    if (auto v = parsed.get("Message-ID")) m.message_id = std::string(*v);
  }
  std::vector<std::string> shown;
  for (const std::string& a : rcpts) {
    QueuedRecipient r;
    r.original = a;
    std::string box;
    smtp::Reply refusal;
    // Already accepted at RCPT time: anything not local goes out by SMTP.
    r.local = classify(a, true, &box, &refusal) == RcptClass::local;
    r.address = box.empty() ? lower(a) : box;
    r.next = m.arrival;
    shown.push_back(r.address);
    m.rcpts.push_back(std::move(r));
  }
  if (s_.trace.enabled(Layer::mail)) {
    Record rec;
    rec.kind = Kind::message_queued;
    rec.src = host_.name;
    rec.text = id + ": queued " + (m.is_bounce() ? std::string("notification (DSN)") : "message") + " from <" + m.sender + "> to " +
               join(shown, ", ") + " (" + std::to_string(m.data.size()) + " bytes, " + std::string(how) + ")";
    rec.wire = m.data;
    rec.with("msgid", id)
        .with("message-id", m.message_id)
        .with("sender", m.sender)
        .with("rcpt", join(shown))
        .with("size", std::to_string(m.data.size()))
        .with("how", std::string(how));
    s_.trace.emit(std::move(rec));
  }
  schedule_run(m, s_.engine.now());
  return id;
}

void MailServer::schedule_run(QueuedMessage& m, SimTime at) {
  if (m.timer.valid()) s_.engine.cancel(m.timer);
  const uint64_t n = next_timer_++;
  timer_ids_[n] = m.id;
  m.timer = s_.engine.schedule_at(std::max(at, s_.engine.now()), &MailServer::run_thunk, this, n);
}

void MailServer::run_thunk(void* ctx, uint64_t n) {
  auto* self = static_cast<MailServer*>(ctx);
  auto it = self->timer_ids_.find(n);
  if (it == self->timer_ids_.end()) return;
  const std::string id = it->second;
  self->timer_ids_.erase(it);
  auto q = self->queue_.find(id);
  if (q == self->queue_.end()) return;
  q->second.timer = EventId{};
  self->run(id);
}

void MailServer::run(const std::string& id) {
  auto it = queue_.find(id);
  if (it == queue_.end()) return;
  QueuedMessage& m = it->second;
  if (!up_) {
    waiting_for_up_.push_back(id);
    return;
  }
  const SimTime now = s_.engine.now();
  if (!m.hop_checked) {
    m.hop_checked = true;
    const int hops = mail::count_received(m.data);
    if (hops > host_.queue.hop_limit) {
      // RFC 5321 6.3: a message that has passed too many relays is looping.
      Record rec;
      rec.kind = Kind::loop_detected;
      rec.src = host_.name;
      rec.text = id + ": " + std::to_string(hops) + " Received: headers, more than the hop limit of " +
                 std::to_string(host_.queue.hop_limit) + ": mail loop";
      rec.with("msgid", id).with("message-id", m.message_id).with("hops", std::to_string(hops));
      s_.trace.emit(std::move(rec));
      std::vector<size_t> failed;
      for (size_t i = 0; i < m.rcpts.size(); ++i) {
        QueuedRecipient& r = m.rcpts[i];
        r.last_error = "too many hops (" + std::to_string(hops) + "): mail forwarding loop";
        r.last_status = "5.4.6";
        Record b;
        b.kind = Kind::message_bounced;
        b.src = host_.name;
        b.text = id + ": <" + r.address + "> bounced: " + r.last_error;
        b.with("msgid", id).with("message-id", m.message_id).with("rcpt", r.address).with("error", r.last_error)
            .with("status", r.last_status);
        s_.trace.emit(std::move(b));
        r.finished = true;
        failed.push_back(i);
      }
      send_dsn(m, failed, false);
      maybe_forget(id);
      return;
    }
  }
  // Local recipients: straight into the mailbox, no SMTP hop.
  std::vector<size_t> failed;
  for (size_t i = 0; i < m.rcpts.size(); ++i) {
    QueuedRecipient& r = m.rcpts[i];
    if (r.local && !r.finished && !r.active && r.next <= now && !deliver_local(m, r)) failed.push_back(i);
  }
  if (!failed.empty()) send_dsn(m, failed, false);
  // Remote recipients due now, grouped by destination (one SMTP transaction
  // per domain, or all through the smarthost).
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < m.rcpts.size(); ++i) {
    const QueuedRecipient& r = m.rcpts[i];
    if (r.local || r.finished || r.active || r.next > now) continue;
    const size_t at = r.address.rfind('@');
    groups[host_.smarthost.empty() ? (at == std::string::npos ? r.address : r.address.substr(at + 1))
                                   : host_.smarthost]
        .push_back(i);
  }
  for (auto& [target, idx] : groups) start_attempt(m, idx, target);
  after_attempt(m);
}

bool MailServer::deliver_local(QueuedMessage& m, QueuedRecipient& r) {
  ++r.attempts;
  auto box = boxes_.find(r.address);
  const Box& info = box_info_[r.address];
  if (box == boxes_.end() || full_boxes_.count(r.address) ||
      (info.quota > 0 && box->second.total_bytes() + static_cast<int64_t>(m.data.size()) > info.quota)) {
    r.last_error = box == boxes_.end() ? "550 5.1.1 no such mailbox" : "552 5.2.2 mailbox full";
    r.last_status = box == boxes_.end() ? "5.1.1" : "5.2.2";
    r.remote_mta.clear();
    r.finished = true;
    Record b;
    b.kind = Kind::message_bounced;
    b.src = host_.name;
    b.text = m.id + ": <" + r.address + "> bounced: " + r.last_error;
    b.with("msgid", m.id).with("message-id", m.message_id).with("rcpt", r.address).with("error", r.last_error)
        .with("status", r.last_status).with("attempt", std::to_string(r.attempts));
    s_.trace.emit(std::move(b));
    return false;
  }
  // RFC 5321 4.4: the final delivery records the reverse-path as Return-Path.
  std::string stored = "Return-Path: <" + m.sender + ">\r\nDelivered-To: " + r.address + "\r\n" + m.data;
  const SimTime now = s_.engine.now();
  const uint32_t uid = box->second.append(stored, now, m.sender);
  r.finished = true;
  if (s_.trace.enabled(Layer::mail)) {
    Record d;
    d.kind = Kind::message_delivered;
    d.src = host_.name;
    d.text = m.id + ": delivered to the mailbox of " + r.address + " (uid " + std::to_string(uid) + ")";
    d.wire = std::move(stored);
    d.with("msgid", m.id)
        .with("message-id", m.message_id)
        .with("sender", m.sender)
        .with("rcpt", r.address)
        .with("original", r.original)
        .with("mailbox", r.address)
        .with("uid", std::to_string(uid))
        .with("attempt", std::to_string(r.attempts));
    s_.trace.emit(std::move(d));
  }
  return true;
}

void MailServer::start_attempt(QueuedMessage& m, std::vector<size_t> rcpts, const std::string& target) {
  auto a = std::make_shared<Attempt>();
  a->qid = m.id;
  a->target = target;
  a->smarthost = !host_.smarthost.empty();
  a->rcpts = std::move(rcpts);
  ++m.in_flight;
  for (size_t i : a->rcpts) {
    QueuedRecipient& r = m.rcpts[i];
    r.active = true;
    ++r.attempts;
    Record rec;
    rec.kind = Kind::delivery_attempt;
    rec.src = host_.name;
    rec.text = m.id + ": attempt " + std::to_string(r.attempts) + " for <" + r.address + "> via " +
               (a->smarthost ? "smarthost " + target : "MX of " + target);
    rec.with("msgid", m.id).with("message-id", m.message_id).with("rcpt", r.address)
        .with("attempt", std::to_string(r.attempts)).with("target", target);
    s_.trace.emit(std::move(rec));
  }
  s_.mx.lookup(id_, target, a->smarthost, [this, a](MxAnswer ans) { attempt_resolved(a, std::move(ans)); });
}

void MailServer::attempt_resolved(std::shared_ptr<Attempt> a, MxAnswer ans) {
  auto it = queue_.find(a->qid);
  if (it == queue_.end()) return;
  std::vector<std::pair<size_t, AttemptOutcome>> outcomes;
  std::vector<std::string> errors, statuses;
  auto all = [&](AttemptOutcome o, const std::string& err, const std::string& st) {
    for (size_t i : a->rcpts) {
      outcomes.emplace_back(i, o);
      errors.push_back(err);
      statuses.push_back(st);
    }
  };
  switch (ans.status) {
    case MxAnswer::Status::nxdomain:
      all(AttemptOutcome::permanent, "Host or domain name not found: " + a->target + " (" + ans.error + ")", "5.1.2");
      break;
    case MxAnswer::Status::null_mx:
      // RFC 7505 3: a null MX says the domain accepts no mail at all.
      all(AttemptOutcome::permanent, "Domain " + a->target + " does not accept mail (null MX)", "5.1.10");
      break;
    case MxAnswer::Status::temporary:
      all(AttemptOutcome::unreachable, "DNS lookup of " + a->target + " failed: " + ans.error, "4.4.3");
      break;
    case MxAnswer::Status::ok: {
      // RFC 5321 5.1: when we are one of the MX hosts, only hosts with a
      // better (lower) preference than ours may be used, or mail loops.
      std::vector<MxCandidate> c = ans.candidates;
      int mine = INT32_MAX;
      for (const MxCandidate& x : c)
        if (lower(x.host) == lower(host_.name)) mine = std::min(mine, x.preference);
      if (mine != INT32_MAX)
        c.erase(std::remove_if(c.begin(), c.end(), [&](const MxCandidate& x) { return x.preference >= mine; }),
                c.end());
      if (c.empty()) {
        all(AttemptOutcome::permanent,
            mine != INT32_MAX ? "mail for " + a->target + " loops back to myself" : "no MX host for " + a->target,
            mine != INT32_MAX ? "5.4.6" : "5.4.4");
        break;
      }
      a->candidates = std::move(c);
      try_candidate(a);
      return;
    }
  }
  settle(a, outcomes, errors, statuses);
}

void MailServer::try_candidate(std::shared_ptr<Attempt> a) {
  auto it = queue_.find(a->qid);
  if (it == queue_.end()) return;
  QueuedMessage& m = it->second;
  a->current = a->candidates[a->next++];
  {
    Record rec;
    rec.kind = Kind::mx_selected;
    rec.src = host_.name;
    rec.text = a->smarthost ? "smarthost " + a->current.host + " [" + format_ipv4(a->current.address) + "]"
                            : (a->current.preference < 0 ? std::string("implicit MX")  // RFC 5321 5.1: the A record
                                                         : "MX " + std::to_string(a->current.preference)) +
                                  " " + a->current.host + " [" +
                                  format_ipv4(a->current.address) + "] for " + a->target + " (" +
                                  std::to_string(a->next) + " of " + std::to_string(a->candidates.size()) + ")";
    rec.with("msgid", m.id).with("mx", a->current.host).with("preference", std::to_string(a->current.preference))
        .with("domain", a->target);
    s_.trace.emit(std::move(rec));
  }
  smtp::Transaction t;
  t.envelope.reverse_path = m.sender;
  for (size_t i : a->rcpts) t.envelope.recipients.push_back(smtp::Recipient{m.rcpts[i].address, 0, {}});
  t.content = m.data;
  smtp::ClientConfig cfg;
  cfg.helo_name = host_.name;
  cfg.use_auth = false;
  cfg.dot_stuffing = host_.dot_stuffing && no_stuffing_ <= 0;
  cfg.bare_lf = bare_lf_ > 0;
  if (host_.smtp.downgrade_8bit) {
    // RFC 6152 3: convert for a next hop without 8BITMIME (Postfix does by
    // default); only this copy changes, the queued message stays as it came.
    cfg.downgrade_8bit = [this, qid = m.id, message_id = m.message_id, mx = a->current.host](
                             std::string_view content, std::string& why) -> std::optional<std::string> {
      std::string what;
      std::optional<std::string> seven = downgrade_for_relay(content, why, what);
      if (seven && s_.trace.enabled(Layer::mail)) {
        Record rec;
        rec.kind = Kind::message_converted;
        rec.src = host_.name;
        rec.dst = mx;
        rec.text = qid + ": " + mx + " does not offer 8BITMIME: converted to 7 bit (" + what + ")";
        rec.with("msgid", qid).with("message-id", message_id).with("mx", mx).with("conversion", what);
        s_.trace.emit(std::move(rec));
      }
      return seven;
    };
  }
  const uint64_t serial = s_.net.next_serial();
  smtp::SessionInfo info{host_.name, a->current.host, format_ipv4(a->current.address), serial, false};
  std::vector<smtp::Transaction> txns;
  txns.push_back(std::move(t));
  auto* d = s_.conns.make<SmtpClientDriver>(
      cfg, std::move(info), std::move(txns),
      [this, a](const smtp::ClientSession& s, bool connected, CloseReason why) { attempt_done(a, s, connected, why); });
  d->set_conn(s_.net.connect(id_, a->current.address, kPortSmtp, d, serial));
}

void MailServer::attempt_done(std::shared_ptr<Attempt> a, const smtp::ClientSession& s, bool connected,
                              CloseReason why) {
  auto it = queue_.find(a->qid);
  if (it == queue_.end()) return;
  QueuedMessage& m = it->second;
  std::vector<std::pair<size_t, AttemptOutcome>> outcomes;
  std::vector<std::string> errors, statuses;
  const std::string where = a->current.host + " [" + format_ipv4(a->current.address) + "]";
  const smtp::TransactionResult* res = s.results().empty() ? nullptr : &s.results()[0];
  for (size_t k = 0; k < a->rcpts.size(); ++k) {
    const size_t i = a->rcpts[k];
    m.rcpts[i].remote_mta = a->current.host;
    if (!connected) {
      outcomes.emplace_back(i, AttemptOutcome::unreachable);
      errors.push_back("connect to " + where + ": " +
                       (why == CloseReason::refused ? std::string("connection refused") : "connection timed out"));
      statuses.push_back("4.4.1");
      continue;
    }
    const smtp::RecipientOutcome* o = res && k < res->recipients.size() ? &res->recipients[k] : nullptr;
    if (!o || o->status == smtp::RcptStatus::pending) {
      outcomes.emplace_back(i, AttemptOutcome::transient);
      errors.push_back("lost connection with " + where);
      statuses.push_back("4.4.2");
      continue;
    }
    const std::string said = (o->synthetic ? "" : where + " said: ") + o->reply.summary() +
                             (o->stage.empty() ? "" : " (in reply to " + std::string(o->stage) + ")");
    switch (o->status) {
      case smtp::RcptStatus::delivered:
        outcomes.emplace_back(i, AttemptOutcome::accepted);
        errors.push_back(res ? res->final_reply.summary() : o->reply.summary());
        statuses.push_back("2.0.0");
        break;
      case smtp::RcptStatus::permanent:
        outcomes.emplace_back(i, AttemptOutcome::permanent);
        errors.push_back(said);
        statuses.push_back(status_of(o->reply));
        break;
      default:
        outcomes.emplace_back(i, greeting_stage(o->stage) ? AttemptOutcome::greeting_4xx : AttemptOutcome::transient);
        errors.push_back(said);
        statuses.push_back(status_of(o->reply).substr(0, 1) == "2" ? "4.0.0" : status_of(o->reply));
        break;
    }
  }
  // RFC 5321 5.1: recipients that failed before any transaction (unreachable
  // host, 4xx greeting) move on to the next MX host within this attempt.
  if (a->next < a->candidates.size()) {
    std::vector<size_t> retry;
    std::vector<std::pair<size_t, AttemptOutcome>> keep;
    std::vector<std::string> keep_err, keep_st;
    for (size_t k = 0; k < outcomes.size(); ++k) {
      const QueuedRecipient& r = m.rcpts[outcomes[k].first];
      const QueueDecision d = decide(host_.queue, outcomes[k].second, true, {m.arrival, r.attempts, m.warned},
                                     s_.engine.now());
      if (d.action == QueueAction::try_next_mx) {
        retry.push_back(outcomes[k].first);
        Record rec;
        rec.kind = Kind::message_deferred;
        rec.src = host_.name;
        rec.text = m.id + ": <" + r.address + "> " + errors[k] + "; trying the next MX";
        rec.with("msgid", m.id).with("rcpt", r.address).with("error", errors[k]).with("status", statuses[k])
            .with("attempt", std::to_string(r.attempts)).with("next-mx", "1");
        s_.trace.emit(std::move(rec));
      } else {
        keep.push_back(outcomes[k]);
        keep_err.push_back(errors[k]);
        keep_st.push_back(statuses[k]);
      }
    }
    if (!retry.empty()) {
      auto b = std::make_shared<Attempt>(*a);
      b->rcpts = retry;
      a->rcpts.clear();
      for (const auto& o : keep) a->rcpts.push_back(o.first);
      if (!keep.empty()) {
        ++m.in_flight;  // settle() below closes `a`; `b` continues
        settle(a, keep, keep_err, keep_st);
      }
      try_candidate(b);
      return;
    }
  }
  settle(a, outcomes, errors, statuses);
}

void MailServer::settle(std::shared_ptr<Attempt> a, const std::vector<std::pair<size_t, AttemptOutcome>>& outcomes,
                        const std::vector<std::string>& errors, const std::vector<std::string>& statuses) {
  auto it = queue_.find(a->qid);
  if (it == queue_.end()) return;
  QueuedMessage& m = it->second;
  const SimTime now = s_.engine.now();
  std::vector<size_t> failed, delayed;
  for (size_t k = 0; k < outcomes.size(); ++k) {
    const size_t i = outcomes[k].first;
    QueuedRecipient& r = m.rcpts[i];
    r.active = false;
    const QueueDecision d = decide(host_.queue, outcomes[k].second, false, {m.arrival, r.attempts, m.warned}, now);
    Record rec;
    rec.src = host_.name;
    rec.with("msgid", m.id).with("message-id", m.message_id).with("rcpt", r.address)
        .with("attempt", std::to_string(r.attempts));
    if (d.action != QueueAction::done) {
      // A failure while a fault strikes the path: the fault is the cause; what
      // the protocol saw last (a timeout, a reply) stays reachable as "via".
      if (const uint64_t f = fault_cause(a->current.host, a->target)) {
        rec.with("via", std::to_string(s_.engine.cause()));
        rec.cause = f;
      }
    }
    switch (d.action) {
      case QueueAction::done:
        r.finished = true;
        rec.kind = Kind::message_relayed;
        rec.dst = a->current.host;
        rec.text = m.id + ": <" + r.address + "> relayed to " + a->current.host + ": " + errors[k];
        rec.with("mx", a->current.host).with("reply", errors[k]);
        s_.trace.emit(std::move(rec));
        break;
      case QueueAction::bounce:
      case QueueAction::expire:
        r.finished = true;
        r.last_error = errors[k];
        r.last_status = statuses[k];
        if (d.action == QueueAction::expire) {
          // RFC 5321 4.5.4.1: give up after the queue lifetime.
          r.last_error = "gave up after " + format_duration(now - m.arrival) + " in the queue; last error: " +
                         errors[k];
          if (r.last_status.empty() || r.last_status[0] != '5') r.last_status = "4.4.7";
          rec.kind = Kind::message_expired;
          rec.text = m.id + ": <" + r.address + "> expired: " + r.last_error;
        } else {
          rec.kind = Kind::message_bounced;
          rec.text = m.id + ": <" + r.address + "> bounced: " + r.last_error;
        }
        rec.with("error", r.last_error).with("status", r.last_status);
        s_.trace.emit(std::move(rec));
        failed.push_back(i);
        break;
      case QueueAction::defer:
      case QueueAction::try_next_mx:
        r.last_error = errors[k];
        r.last_status = statuses[k];
        r.next = d.next;
        rec.kind = Kind::message_deferred;
        rec.text = m.id + ": <" + r.address + "> deferred: " + r.last_error;
        rec.with("error", r.last_error).with("status", r.last_status);
        s_.trace.emit(std::move(rec));
        {
          Record n;
          n.kind = Kind::retry_scheduled;
          n.src = host_.name;
          n.text = m.id + ": next attempt for <" + r.address + "> in " + format_duration(d.next - now) + " (at " +
                   format_duration(d.next) + ")";
          n.with("msgid", m.id).with("rcpt", r.address).with("next", std::to_string(d.next.us))
              .with("attempt", std::to_string(r.attempts + 1));
          s_.trace.emit(std::move(n));
        }
        if (d.delay_warning) delayed.push_back(i);
        break;
    }
  }
  if (!failed.empty()) send_dsn(m, failed, false);
  if (!delayed.empty() && !m.warned) {
    m.warned = true;
    send_dsn(m, delayed, true);
  }
  --m.in_flight;
  after_attempt(m);
}

void MailServer::after_attempt(QueuedMessage& m) {
  if (m.in_flight > 0) return;
  bool all_done = true;
  SimTime next = SimTime::max();
  for (const QueuedRecipient& r : m.rcpts) {
    if (r.finished) continue;
    all_done = false;
    next = std::min(next, r.next);
  }
  if (all_done) {
    maybe_forget(m.id);
    return;
  }
  schedule_run(m, next);
}

void MailServer::send_dsn(QueuedMessage& m, const std::vector<size_t>& rcpts, bool delayed) {
  const SimTime now = s_.engine.now();
  if (m.is_bounce()) {
    if (delayed) return;
    // RFC 5321 6.2 / RFC 3461 6.2: never send a notification about a
    // notification; an undeliverable bounce is dropped, visibly.
    for (size_t i : rcpts) {
      Record rec;
      rec.kind = Kind::message_discarded;
      rec.src = host_.name;
      rec.text = m.id + ": the bounce to <" + m.rcpts[i].address + "> failed (" + m.rcpts[i].last_error +
                 "); a bounce is never bounced, so it is discarded";
      rec.with("msgid", m.id).with("message-id", m.message_id).with("rcpt", m.rcpts[i].address)
          .with("error", m.rcpts[i].last_error);
      s_.trace.emit(std::move(rec));
    }
    return;
  }
  mail::DsnSpec spec;
  spec.reporting_mta = host_.name;
  spec.to = m.sender;
  spec.arrival = m.arrival;
  spec.now = now;
  spec.sequence = (*s_.next_message_number)++;
  const mail::Message original = mail::parse_message(m.data);
  spec.original = &original;
  std::vector<std::string> who;
  for (size_t i : rcpts) {
    const QueuedRecipient& r = m.rcpts[i];
    mail::DsnRecipient d;
    d.recipient = r.address;
    if (lower(r.original) != r.address) d.original = r.original;
    d.action = delayed ? mail::DsnAction::delayed : mail::DsnAction::failed;
    d.status = r.last_status.empty() ? (delayed ? "4.0.0" : "5.0.0") : r.last_status;
    if (!delayed && d.status[0] == '4') d.status[0] = '5';  // RFC 3464 2.3.4: failed needs a 5.x.x
    d.remote_mta = r.remote_mta;
    d.diagnostic = r.last_error;
    d.last_attempt = now;
    if (delayed) d.will_retry_until = m.arrival + host_.queue.lifetime;
    spec.recipients.push_back(std::move(d));
    who.push_back(r.address);
  }
  const std::string text = mail::build_dsn(spec).serialize();
  {
    Record rec;
    rec.kind = delayed ? Kind::delay_warning : Kind::dsn_created;
    rec.src = host_.name;
    rec.text = m.id + ": " + (delayed ? "delay warning" : "bounce (RFC 3464 DSN)") + " to <" + m.sender +
               "> about " + join(who, ", ");
    rec.wire = text;
    rec.with("msgid", m.id).with("message-id", m.message_id).with("rcpt", join(who)).with("sender", m.sender)
        .with("action", delayed ? "delayed" : "failed");
    s_.trace.emit(std::move(rec));
  }
  enqueue("", {m.sender}, text, delayed ? "delay warning" : "bounce");
}

uint64_t MailServer::fault_cause(const std::string& host, const std::string& domain) const {
  for (const std::string& key : {host, domain}) {
    if (key.empty()) continue;
    auto it = s_.active_faults.find(lower(key));
    if (it != s_.active_faults.end()) return it->second;
  }
  return 0;
}

void MailServer::maybe_forget(const std::string& id) {
  auto it = queue_.find(id);
  if (it == queue_.end() || it->second.in_flight > 0) return;
  for (const QueuedRecipient& r : it->second.rcpts)
    if (!r.finished) return;
  if (it->second.timer.valid()) s_.engine.cancel(it->second.timer);
  queue_.erase(it);
}

}  // namespace smtplab::agents
