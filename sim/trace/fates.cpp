// sim/trace/fates.cpp: what happened to each message (see fates.hpp).
#include "sim/trace/fates.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <ostream>
#include <unordered_map>

#include "sim/trace/writers.hpp"

namespace smtplab {

std::string_view fate_state_name(FateState s) {
  switch (s) {
    case FateState::submitting: return "submitting";
    case FateState::queued: return "queued";
    case FateState::in_transit: return "in transit";
    case FateState::delivered: return "delivered";
    case FateState::bounced: return "bounced";
    case FateState::refused: return "refused";
    case FateState::discarded: return "discarded";
    case FateState::gave_up: return "gave up";
  }
  return "?";
}

std::string_view fate_state_key(FateState s) {
  switch (s) {
    case FateState::in_transit: return "in-transit";
    case FateState::gave_up: return "gave-up";
    default: return fate_state_name(s);
  }
}

std::optional<FateState> fate_state_from_key(std::string_view key) {
  for (FateState s : kFateStates)
    if (fate_state_key(s) == key) return s;
  return std::nullopt;
}

namespace {

bool settled(FateState s) {
  return s == FateState::delivered || s == FateState::bounced || s == FateState::refused ||
         s == FateState::discarded || s == FateState::gave_up;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// A decimal attribute ("message", "attempt"), or -1 when it is not one.
int64_t number(std::string_view v) {
  if (v.empty() || v.size() > 17 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) return -1;
  int64_t n = 0;
  for (char c : v) n = n * 10 + (c - '0');
  return n;
}

// The body of a message on the wire: what follows the first empty line
// (RFC 5322 2.1), or nullopt when there is none.
std::optional<std::string_view> body_of(std::string_view wire) {
  const size_t blank = wire.find("\r\n\r\n");
  if (blank == std::string_view::npos) return std::nullopt;
  return wire.substr(blank + 4);
}

// How `taken` (the body a queue took) falls short of `written` (the body the
// user agent wrote), when it is a proper prefix of it ending at a line end.
std::optional<RecipientFate::Cut> cut_of(std::string_view written, std::string_view taken) {
  if (taken.size() >= written.size() || written.substr(0, taken.size()) != taken) return std::nullopt;
  if (!taken.empty() && !taken.ends_with("\r\n")) return std::nullopt;
  auto lines = [](std::string_view b) {
    uint32_t n = 0;
    for (size_t at = b.find("\r\n"); at != std::string_view::npos; at = b.find("\r\n", at + 2)) ++n;
    return n;
  };
  RecipientFate::Cut c;
  c.arrived = lines(taken);
  c.written = lines(written);
  const std::string_view rest = written.substr(taken.size());
  c.next = rest.substr(0, rest.find("\r\n"));
  if (c.next.size() > 60) c.next = c.next.substr(0, 57) + "...";
  return c;
}

// Which message (and, for a notification, which of its recipients) a queue
// entry or a record belongs to.
struct Owner {
  int msg = -1;
  std::vector<int> about;  // a notification: the recipients it is about (one DSN may cover several)
  bool warning = false;    // a delay warning (its fate is not the bounce's)
  bool notification() const { return !about.empty(); }
};

class Folder {
 public:
  explicit Folder(std::span<const Record> recs) : recs_(recs) {}

  std::vector<MessageFate> run() {
    for (size_t i = 0; i < recs_.size(); ++i) step(i);
    return std::move(msgs_);
  }

  // The same fold, keeping every recipient's state after each record that
  // changed it (FateHistory).
  FateHistory run_with_history() {
    FateHistory h;
    history_ = true;
    for (size_t i = 0; i < recs_.size(); ++i) {
      const size_t before = msgs_.size();
      step(i);
      for (size_t k = before; k < msgs_.size(); ++k) {
        h.born.push_back(i);
        h.changes.emplace_back();
        for (size_t j = 0; j < msgs_[k].recipients.size(); ++j) dirty_.emplace_back(static_cast<int>(k), static_cast<int>(j));
      }
      std::sort(dirty_.begin(), dirty_.end());
      dirty_.erase(std::unique(dirty_.begin(), dirty_.end()), dirty_.end());
      for (auto [k, j] : dirty_) {
        auto& per = h.changes[static_cast<size_t>(k)];
        if (per.size() <= static_cast<size_t>(j)) per.resize(static_cast<size_t>(j) + 1);
        per[static_cast<size_t>(j)].emplace_back(i, msgs_[static_cast<size_t>(k)].recipients[static_cast<size_t>(j)]);
      }
      dirty_.clear();
    }
    h.end = std::move(msgs_);
    return h;
  }

 private:
  std::span<const Record> recs_;
  std::vector<MessageFate> msgs_;
  // The owner of each record that has one (composed, queued, dsn-created,
  // delay-warning): an index into owners_, or -1. A dense array, because
  // cause chains walk back record by record (a hash map here missed the
  // cache at every step of a million-record trace).
  std::vector<int32_t> owner_at_;
  std::vector<Owner> owners_;
  void own(size_t i, Owner o) {
    if (owner_at_.empty()) owner_at_.assign(recs_.size(), -1);
    owner_at_[i] = static_cast<int32_t>(owners_.size());
    owners_.push_back(std::move(o));
  }
  const Owner* owner_of(size_t i) const {
    return owner_at_.empty() || owner_at_[i] < 0 ? nullptr : &owners_[static_cast<size_t>(owner_at_[i])];
  }
  std::unordered_map<std::string, Owner> queues_;  // queue_key(host, queue id)
  static std::string queue_key(const Record& r) {
    std::string k = r.src;
    k += '\n';
    k += r.attr("msgid");
    return k;
  }
  std::unordered_map<int64_t, int> by_index_;                     // scenario message number -> msgs_
  std::vector<std::string_view> written_;  // per message: the body its user agent wrote (a view into recs_), or empty
  // For a trace recorded without the layers that link hops (RunOptions::
  // layer_mask of mail alone): the first queue of each Message-ID, and the
  // composed messages no queue has claimed yet.
  std::unordered_map<std::string, Owner> by_message_id_;
  std::vector<int> unclaimed_;
  bool history_ = false;
  std::vector<std::pair<int, int>> dirty_;  // (message, recipient) changed by this record

  size_t index_of_seq(uint64_t seq) const {
    if (seq >= 1 && seq <= recs_.size() && recs_[seq - 1].seq == seq) return static_cast<size_t>(seq - 1);
    auto it = std::lower_bound(recs_.begin(), recs_.end(), seq, [](const Record& r, uint64_t q) { return r.seq < q; });
    return it != recs_.end() && it->seq == seq ? static_cast<size_t>(it - recs_.begin()) : recs_.size();
  }

  int recipient(int msg, const std::string& address) {
    std::vector<RecipientFate>& rs = msgs_[static_cast<size_t>(msg)].recipients;
    for (size_t k = 0; k < rs.size(); ++k)
      if (rs[k].address == address) return static_cast<int>(k);
    RecipientFate f;
    f.address = address;
    f.state = FateState::queued;
    rs.push_back(std::move(f));
    return static_cast<int>(rs.size() - 1);
  }
  // Every change to a recipient goes through here (history: marked changed).
  RecipientFate& fate(int msg, int rcpt) {
    if (history_) dirty_.emplace_back(msg, rcpt);
    return msgs_[static_cast<size_t>(msg)].recipients[static_cast<size_t>(rcpt)];
  }

  // The owner of the nearest record on i's cause chain that has one.
  std::optional<Owner> traced_owner(size_t i) const {
    uint64_t c = recs_[i].cause;
    for (size_t guard = 0; c != 0 && guard < 1'000'000; ++guard) {
      const size_t k = index_of_seq(c);
      if (k >= i) break;  // causes point backwards; anything else is not a trace prefix
      if (const Owner* o = owner_of(k)) return *o;
      // A queue's own record (an attempt after a retry timer, whose cause
      // is the fault that made the first attempt fail).
      if (recs_[k].layer() == Layer::mail && recs_[k].has_attr("msgid"))
        if (const Owner* q = queue_owner(recs_[k])) return *q;
      c = recs_[k].cause;
    }
    return std::nullopt;
  }

  // The owner of a record that names its queue entry.
  const Owner* queue_owner(const Record& r) const {
    auto it = queues_.find(queue_key(r));
    return it == queues_.end() ? nullptr : &it->second;
  }

  static std::string address_of(const Record& r) {
    const std::string_view o = r.attr("original");
    return std::string(o.empty() ? r.attr("rcpt") : o);
  }

  void step(size_t i) {
    const Record& r = recs_[i];
    switch (r.kind) {
      case Kind::message_composed: composed(i); return;
      case Kind::message_queued: queued(i); return;
      case Kind::dsn_created:
      case Kind::delay_warning: notification(i); return;
      case Kind::note: user_agent_note(r); return;
      default: break;
    }
    if (r.layer() != Layer::mail || !r.has_attr("msgid") || (r.attr("rcpt").empty() && r.attr("original").empty())) return;
    const Owner* q = queue_owner(r);
    if (!q || q->msg < 0) return;
    if (q->notification()) {  // a notification's journey, told under the recipients it is about
      if (!q->warning)
        for (int k : q->about) bounce_step(fate(q->msg, k), r);
      return;
    }
    const int msg = q->msg;
    for (const std::string& a : split_list(address_of(r))) update(fate(msg, recipient(msg, a)), r);
  }

  static void update(RecipientFate& f, const Record& r) {
    switch (r.kind) {
      case Kind::delivery_attempt: {
        const int64_t n = std::clamp<int64_t>(number(r.attr("attempt")), 1, UINT32_MAX);
        f.attempts = std::max(f.attempts, static_cast<uint32_t>(n));
        break;
      }
      case Kind::message_deferred:
        if (settled(f.state)) break;
        set(f, FateState::queued, r, r.src);
        f.why = r.attr("error");
        break;
      case Kind::message_relayed:
        if (settled(f.state)) break;
        set(f, FateState::in_transit, r, std::string(r.attr("mx")));
        break;
      case Kind::message_delivered:
        f.deliveries.push_back(r.t);
        if (f.state == FateState::delivered) break;
        set(f, FateState::delivered, r, r.src);
        f.mailbox = r.attr("mailbox");
        f.why.clear();
        break;
      case Kind::message_bounced:
      case Kind::message_expired:
        if (settled(f.state)) break;
        set(f, FateState::bounced, r, r.src);
        f.why = r.attr("error");
        break;
      case Kind::message_discarded:
        if (settled(f.state)) break;
        set(f, FateState::discarded, r, r.src);
        f.why = r.attr("error");
        break;
      default:
        break;
    }
  }

  static void set(RecipientFate& f, FateState s, const Record& r, std::string host) {
    f.state = s;
    f.at = r.t;
    f.record = r.seq;
    f.host = std::move(host);
  }

  static void bounce_step(RecipientFate& f, const Record& r) {
    switch (r.kind) {
      case Kind::message_delivered:
        if (f.bounce_state == FateState::delivered) break;
        f.bounce_state = FateState::delivered;
        f.bounce_where = "the mailbox of " + std::string(r.attr("mailbox")) + " on " + r.src;
        f.bounce_at = r.t;
        break;
      case Kind::message_deferred:
        if (!settled(f.bounce_state)) f.bounce_where = r.src;
        break;
      case Kind::message_relayed:
        if (!settled(f.bounce_state)) {
          f.bounce_state = FateState::in_transit;
          f.bounce_where = r.attr("mx");
        }
        break;
      case Kind::message_bounced:
      case Kind::message_expired:
        if (!settled(f.bounce_state)) {
          f.bounce_state = FateState::bounced;
          f.bounce_where = r.src;
          f.bounce_at = r.t;
        }
        break;
      case Kind::message_discarded:
        if (f.bounce_state != FateState::delivered) {
          f.bounce_state = FateState::discarded;
          f.bounce_where = r.src;
          f.bounce_at = r.t;
        }
        break;
      default:
        break;
    }
  }

  void composed(size_t i) {
    const Record& r = recs_[i];
    MessageFate m;
    m.index = number(r.attr("message"));
    m.from = r.attr("from");
    // The text is `<from> writes "<subject>" to <recipients>` (user_agent.cpp).
    const size_t open = r.text.find(" writes \""), close = r.text.rfind("\" to ");
    if (open != std::string::npos && close != std::string::npos && close >= open + 9)
      m.subject = r.text.substr(open + 9, close - open - 9);
    m.host = r.src;
    m.written = r.t;
    m.composed = r.seq;
    for (std::string& a : split_list(r.attr("rcpt"))) {
      RecipientFate f;
      f.address = std::move(a);
      f.at = r.t;
      m.recipients.push_back(std::move(f));
    }
    msgs_.push_back(std::move(m));
    const int key = static_cast<int>(msgs_.size() - 1);
    written_.resize(msgs_.size());
    written_.back() = body_of(r.wire).value_or(std::string_view());
    own(i, Owner{key, {}, false});
    if (msgs_.back().index >= 0) by_index_[msgs_.back().index] = key;
    unclaimed_.push_back(key);
  }

  void queued(size_t i) {
    const Record& r = recs_[i];
    Owner o;
    const std::string message_id(r.attr("message-id"));
    // A Message-ID already seen names the message, whatever the chain says:
    // one SMTP session may carry several messages (its second transaction's
    // chain leads to the attempt that opened the session).
    if (auto m = by_message_id_.find(message_id); !message_id.empty() && m != by_message_id_.end()) {
      o = m->second;
    } else if (auto t = traced_owner(i)) {
      o = *t;
    } else if (int c = unclaimed_match(r); c >= 0) {
      o.msg = c;  // ... or the first unclaimed message of this sender to these recipients
    } else {  // arrived from outside (smtplab serve, a real client)
      MessageFate m;
      m.from = r.attr("sender");
      m.host = r.src;
      m.written = r.t;
      msgs_.push_back(std::move(m));
      o.msg = static_cast<int>(msgs_.size() - 1);
    }
    own(i, o);
    queues_[queue_key(r)] = o;
    if (o.msg < 0) return;
    msgs_[static_cast<size_t>(o.msg)].queues.emplace_back(r.src, r.attr("msgid"));
    if (!message_id.empty()) by_message_id_.emplace(message_id, o);
    if (o.notification()) {  // a notification reached a queue (its first, or the next hop's)
      for (int k : o.about) {
        RecipientFate& f = fate(o.msg, k);
        if (!o.warning && !settled(f.bounce_state)) {
          f.bounce_state = FateState::queued;
          f.bounce_where = r.src;
        }
      }
      return;
    }
    std::erase(unclaimed_, o.msg);
    std::optional<RecipientFate::Cut> cut;
    if (static_cast<size_t>(o.msg) < written_.size() && !written_[static_cast<size_t>(o.msg)].empty())
      if (auto taken = body_of(r.wire)) {
        cut = cut_of(written_[static_cast<size_t>(o.msg)], *taken);
        if (cut) cut->host = r.src;
      }
    for (const std::string& a : split_list(r.attr("rcpt"))) {
      RecipientFate& f = fate(o.msg, recipient(o.msg, a));
      ++f.hops;
      if (cut && !f.cut) f.cut = cut;
      if (settled(f.state)) continue;
      set(f, FateState::queued, r, r.src);
      f.why.clear();
    }
  }

  // A composed message no queue has claimed whose sender is the queue's and
  // which has one of its recipients, or -1.
  int unclaimed_match(const Record& r) {
    const std::vector<std::string> rcpts = split_list(r.attr("rcpt"));
    for (int m : unclaimed_) {
      const MessageFate& f = msgs_[static_cast<size_t>(m)];
      if (f.from != r.attr("sender")) continue;
      for (const RecipientFate& x : f.recipients)
        if (std::find(rcpts.begin(), rcpts.end(), x.address) != rcpts.end()) return m;
    }
    return -1;
  }

  void notification(size_t i) {
    const Record& r = recs_[i];
    const Owner* q = queue_owner(r);
    if (!q || q->msg < 0 || q->notification()) return;  // a notification about a notification: not followed
    const int msg = q->msg;
    Owner o{msg, {}, r.kind == Kind::delay_warning};
    for (const std::string& a : split_list(r.attr("rcpt"))) {
      const int k = recipient(msg, a);
      o.about.push_back(k);
      RecipientFate& f = fate(msg, k);
      if (o.warning) {
        f.delay_warned = true;
      } else {
        f.bounce = true;
        f.bounce_state = FateState::queued;
        f.bounce_to = r.attr("sender");
        f.bounce_where = r.src;
        f.bounce_at = r.t;
      }
    }
    if (!o.about.empty()) own(i, std::move(o));
  }

  // The user agent's notes about a submission (user_agent.cpp): attrs
  // "message" (the scenario's number), "outcome" (refused, gave-up, retry),
  // "rcpt" (comma-separated) and "error".
  void user_agent_note(const Record& r) {
    const std::string_view outcome = r.attr("outcome");
    if (outcome.empty()) return;
    auto it = by_index_.find(number(r.attr("message")));
    if (it == by_index_.end()) return;
    for (const std::string& a : split_list(r.attr("rcpt"))) {
      RecipientFate& f = fate(it->second, recipient(it->second, a));
      if (f.state != FateState::submitting) continue;  // a server has it (or it was refused already)
      if (outcome == "refused") set(f, FateState::refused, r, r.dst);
      else if (outcome == "gave-up") set(f, FateState::gave_up, r, r.src);
      else f.at = r.t;  // a retry: still submitting
      f.why = r.attr("error");
    }
  }
};

std::string when(SimTime t) { return format_duration(t); }

}  // namespace

std::vector<MessageFate> message_fates(std::span<const Record> records) { return Folder(records).run(); }

FateHistory fate_history(std::span<const Record> records) { return Folder(records).run_with_history(); }

size_t messages_at(const FateHistory& h, size_t n) {
  return static_cast<size_t>(std::partition_point(h.born.begin(), h.born.end(), [n](size_t b) { return b < n; }) -
                             h.born.begin());
}

MessageFate message_at(const FateHistory& h, size_t k, size_t n) {
  const MessageFate& e = h.end[k];
  MessageFate m;  // without `queues`, which only message_of() needs (on h.end)
  m.index = e.index;
  m.from = e.from;
  m.subject = e.subject;
  m.host = e.host;
  m.written = e.written;
  m.composed = e.composed;
  for (const auto& per : h.changes[k]) {
    // The last state recorded before record n.
    auto it = std::partition_point(per.begin(), per.end(), [n](const auto& c) { return c.first < n; });
    if (it != per.begin()) m.recipients.push_back(std::prev(it)->second);
  }
  return m;
}

std::vector<MessageFate> fates_at(const FateHistory& h, size_t n, size_t limit) {
  std::vector<MessageFate> out;
  const size_t count = std::min(messages_at(h, n), limit);
  out.reserve(count);
  for (size_t k = 0; k < count; ++k) out.push_back(message_at(h, k, n));
  return out;
}

const MessageFate* message_of(std::span<const MessageFate> fates, const Record& r) {
  if (r.layer() != Layer::mail) return nullptr;
  const std::string_view qid = r.attr("msgid");
  for (const MessageFate& m : fates) {
    if (r.kind == Kind::message_composed && m.composed == r.seq) return &m;
    if (qid.empty()) continue;
    for (const auto& [host, id] : m.queues)
      if (host == r.src && id == qid) return &m;
  }
  return nullptr;
}

std::string describe(const RecipientFate& f) {
  std::string s;
  const std::string tries = f.attempts > 1 ? " after " + std::to_string(f.attempts) + " attempts" : std::string();
  switch (f.state) {
    case FateState::submitting:
      s = "not taken by a server yet (the user agent is still submitting it)";
      if (!f.why.empty()) s += "; last error: " + f.why;
      break;
    case FateState::queued:
      s = "waiting in the queue of " + f.host;
      if (f.attempts) s += " (" + std::to_string(f.attempts) + (f.attempts == 1 ? " attempt" : " attempts") + " there so far)";
      if (!f.why.empty()) s += "; last error: " + f.why;
      break;
    case FateState::in_transit:
      s = "on its way: handed to " + f.host + " at " + when(f.at);
      break;
    case FateState::delivered:
      s = "delivered at " + when(f.at) + " to the mailbox of " + f.mailbox + " on " + f.host + tries;
      if (f.deliveries.size() > 1) {
        s += "; delivered " + std::to_string(f.deliveries.size()) + " times (a duplicate), also at";
        for (size_t k = 1; k < f.deliveries.size(); ++k) s += (k > 1 ? ", " : " ") + when(f.deliveries[k]);
      }
      break;
    case FateState::bounced:
      s = "BOUNCED at " + when(f.at) + " by " + f.host + tries + ": " + f.why;
      break;
    case FateState::refused:
      s = "REFUSED at " + when(f.at) + " by " + f.host + ", the server the user agent sent it to: " + f.why +
          " (the user saw an error; no bounce is sent)";
      break;
    case FateState::discarded:
      s = "discarded at " + when(f.at) + " by " + f.host + (f.why.empty() ? std::string() : ": " + f.why);
      break;
    case FateState::gave_up:
      s = "NOT SENT: the user agent gave up at " + when(f.at) + (f.why.empty() ? std::string() : " (" + f.why + ")") +
          "; it stays in the outbox";
      break;
  }
  if (std::string c = describe_cut(f); !c.empty()) s += "; but " + c;
  return s;
}

std::string describe_cut(const RecipientFate& f) {
  if (!f.cut) return {};
  const RecipientFate::Cut& c = *f.cut;
  std::string s = "CUT SHORT: only " + std::to_string(c.arrived) + " of " + std::to_string(c.written) +
                  " body lines reached " + c.host;
  if (c.next == ".")
    s += "; the next line was a lone \".\", which ends the data (RFC 5321 4.1.1.4), so the client should have sent it "
         "as \"..\" (dot-stuffing, 4.5.2)";
  else
    s += " (the first line missing: \"" + c.next + "\")";
  return s;
}

std::string describe_notice(const RecipientFate& f) {
  std::string s;
  if (f.delay_warned && f.state != FateState::delivered) s = "the sender was warned of the delay (a delay DSN)";
  if (f.bounce) {
    s += std::string(s.empty() ? "" : "; ") + "the bounce to " + (f.bounce_to.empty() ? std::string("the sender") : f.bounce_to) + " ";
    switch (f.bounce_state) {
      case FateState::delivered: s += "was delivered at " + when(f.bounce_at) + " to " + f.bounce_where; break;
      case FateState::discarded:
        s += "was discarded at " + when(f.bounce_at) + " by " + f.bounce_where + " (a bounce is never bounced)";
        break;
      case FateState::bounced: s += "failed at " + when(f.bounce_at) + " on " + f.bounce_where; break;
      case FateState::in_transit: s += "is on its way to " + f.bounce_where; break;
      default: s += "is in the queue of " + f.bounce_where; break;
    }
  }
  return s;
}


void write_fates(std::ostream& out, std::span<const MessageFate> fates, SimTime end, size_t width) {
  if (fates.empty()) return;
  out << "\nWhat happened to each message (at " << format_duration(end) << "):\n";
  std::string block;
  for (const MessageFate& m : fates) {
    block.clear();
    std::string head;
    if (m.index >= 0) head = "message " + std::to_string(m.index) + ": " + m.from + " \"" + m.subject + "\", written on " + m.host;
    else head = "a message from <" + m.from + ">, received by " + m.host;
    head += " at " + format_duration(m.written);
    block += "  ";
    append_folded(block, head, 2, 4, width);
    size_t w = 0;
    for (const RecipientFate& f : m.recipients) w = std::max(w, f.address.size());
    // Descriptions start in a column of their own unless the addresses are
    // so long that it would leave them no room: then under the address.
    const bool beside = 4 + w + 2 + 30 <= width;
    const size_t col = beside ? 4 + w + 2 : 8;
    for (const RecipientFate& f : m.recipients) {
      block += "    " + f.address;
      if (beside) block.append(w - f.address.size() + 2, ' ');
      else block += "\n" + std::string(col, ' ');
      append_folded(block, describe(f), col, col, width);
      if (std::string n = describe_notice(f); !n.empty()) {
        block.append(col, ' ');
        block += "-> ";
        append_folded(block, n, col + 3, col + 3, width);
      }
    }
    if (m.recipients.empty()) block += "    (no recipients)\n";
    out << block;
  }
}
}  // namespace smtplab
