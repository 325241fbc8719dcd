// gui/trace_index.cpp: building the per-run indexes (see trace_index.hpp).
#include "gui/trace_index.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace smtplab::gui {

int reply_code(const Record& r) {
  std::string_view c = r.attr("code");
  if (c.empty()) c = std::string_view(r.text).substr(0, std::min<size_t>(3, r.text.size()));
  int v = 0;
  auto [p, ec] = std::from_chars(c.data(), c.data() + c.size(), v);
  if (ec != std::errc() || v < 100 || v > 599) return 0;
  return v;
}

bool is_failure(const Record& r) {
  switch (r.kind) {
    case Kind::fault_injected:
    case Kind::host_down:
    case Kind::link_down:
    case Kind::datagram_lost:
    case Kind::segment_lost:
    case Kind::segment_retransmit:
    case Kind::tcp_refused:
    case Kind::tcp_timeout:
    case Kind::tcp_reset:
    case Kind::dns_timeout:
    case Kind::smtp_timeout:
    case Kind::smtp_error:
    case Kind::message_deferred:
    case Kind::message_bounced:
    case Kind::dsn_created:
    case Kind::delay_warning:
    case Kind::message_expired:
    case Kind::loop_detected:
    case Kind::message_discarded:
      return true;
    case Kind::smtp_reply:
      return reply_code(r) >= 400;
    case Kind::pop3_reply:
      return r.text.rfind("-ERR", 0) == 0;
    case Kind::dns_answer: {
      std::string_view rc = r.attr("rcode");
      return !rc.empty() && rc != "NOERROR" && rc != "noerror";
    }
    default:
      return false;
  }
}

bool starts_exchange(const Record& r) {
  switch (r.kind) {
    case Kind::smtp_command:
    case Kind::pop3_command:
    case Kind::imap_command:
    case Kind::dns_query:
    case Kind::tcp_connect:
      return true;
    default:
      return false;
  }
}

namespace {
std::string key(std::string_view host, std::string_view role) {
  std::string k(host);
  k += '\n';
  k += role;
  return k;
}
bool client_to_server(Kind k) {
  return k == Kind::smtp_command || k == Kind::tcp_connect || k == Kind::pop3_command || k == Kind::imap_command;
}
}  // namespace

void TraceIndex::build(const std::vector<Record>* records, const Scenario* scenario) {
  records_ = records;
  times_.clear();
  lifelines_.clear();
  hosts_.clear();
  lane_by_key_.clear();
  session_client_.clear();
  exchanges_.clear();
  failures_.clear();
  if (!records_) return;
  const std::vector<Record>& recs = *records_;
  times_.reserve(recs.size());

  // Which hosts are SMTP clients and which servers (a relay is both).
  std::set<std::string, std::less<>> clients, servers, seen;
  for (size_t i = 0; i < recs.size(); ++i) {
    const Record& r = recs[i];
    times_.push_back(r.t.us);
    if (!r.src.empty()) seen.insert(r.src);
    if (!r.dst.empty()) seen.insert(r.dst);
    // Only a command says who is client: session records come from both ends.
    if (r.kind == Kind::smtp_command) {
      if (!r.src.empty()) clients.insert(r.src);
      if (!r.dst.empty()) servers.insert(r.dst);
    }
    if (client_to_server(r.kind) && !r.src.empty()) {
      if (r.session) session_client_.emplace(r.session, r.src);
      std::string_view conn = r.attr("conn");
      uint64_t c = 0;
      if (!conn.empty() && std::from_chars(conn.data(), conn.data() + conn.size(), c).ec == std::errc() && c)
        session_client_.emplace(c | (1ull << 63), r.src);
    }
    if (starts_exchange(r)) exchanges_.push_back(i);
    if (is_failure(r)) failures_.push_back(i);
  }

  // Lifelines in the scenario's host order (the teacher's order), then any
  // host the trace names that the scenario does not (a real bridged client).
  auto add_host = [&](const std::string& name, HostRole role) {
    hosts_.push_back(name);
    bool both = clients.count(name) && servers.count(name);
    if (both) {
      for (const char* rl : {"server", "client"}) {
        lane_by_key_[key(name, rl)] = static_cast<int>(lifelines_.size());
        lifelines_.push_back({name, rl, name + " (" + rl + ")", role});
      }
    } else {
      lane_by_key_[key(name, "")] = static_cast<int>(lifelines_.size());
      lifelines_.push_back({name, "", name, role});
    }
  };
  std::set<std::string, std::less<>> placed;
  if (scenario) {
    for (const Host& h : scenario->hosts) {
      if (h.role == HostRole::router) continue;
      add_host(h.name, h.role);
      placed.insert(h.name);
    }
  }
  for (const std::string& h : seen)
    if (!placed.count(h)) add_host(h, HostRole::user_agent);
}

int TraceIndex::lane_for(std::string_view host, std::string_view role) const {
  auto it = lane_by_key_.find(key(host, role));
  return it == lane_by_key_.end() ? -1 : it->second;
}

int TraceIndex::lane_of(const Record& r, std::string_view host) const {
  if (host.empty()) return -1;
  int plain = lane_for(host, "");
  if (plain >= 0) return plain;
  // A relay: which side of which session is this?
  const std::string* client = nullptr;
  if (r.session) {
    auto it = session_client_.find(r.session);
    if (it != session_client_.end()) client = &it->second;
  }
  if (!client) {
    std::string_view conn = r.attr("conn");
    uint64_t c = 0;
    if (!conn.empty() && std::from_chars(conn.data(), conn.data() + conn.size(), c).ec == std::errc() && c) {
      auto it = session_client_.find(c | (1ull << 63));
      if (it != session_client_.end()) client = &it->second;
    }
  }
  if (client) return lane_for(host, *client == host ? "client" : "server");
  // No session: a relay resolves names and runs its queue as a client; it
  // takes responsibility for incoming mail as a server.
  switch (r.kind) {
    case Kind::message_queued:
    case Kind::message_delivered:
    case Kind::message_bounced:
    case Kind::dsn_created:
    case Kind::loop_detected:
      return lane_for(host, "server");
    default:
      return lane_for(host, "client");
  }
}

size_t TraceIndex::lower_bound(int64_t us) const {
  return static_cast<size_t>(std::lower_bound(times_.begin(), times_.end(), us) - times_.begin());
}
size_t TraceIndex::upper_bound(int64_t us) const {
  return static_cast<size_t>(std::upper_bound(times_.begin(), times_.end(), us) - times_.begin());
}
size_t TraceIndex::index_of_seq(uint64_t seq) const {
  // seq is dense and 1-based in a stored trace, so this is usually direct.
  if (seq >= 1 && seq <= size() && (*records_)[seq - 1].seq == seq) return static_cast<size_t>(seq - 1);
  auto it = std::lower_bound(records_->begin(), records_->end(), seq,
                             [](const Record& r, uint64_t s) { return r.seq < s; });
  if (it != records_->end() && it->seq == seq) return static_cast<size_t>(it - records_->begin());
  return size();
}

}  // namespace smtplab::gui
