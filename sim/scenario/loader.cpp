// sim/scenario/loader.cpp: strict JSON -> Scenario with every error reported.
#include "sim/scenario/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sim/dns/zone_record.hpp"
#include "sim/faults/catalog.hpp"
#include "sim/scenario/json_text.hpp"
#include "sim/smtp/command.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab {

using json = nlohmann::json;

std::string ScenarioError::format() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line) + ":" + std::to_string(column);
  } else if (!pointer.empty()) {
    out += ": " + pointer;
  }
  out += ": " + message;
  return out;
}

std::string role_name(HostRole r) {
  switch (r) {
    case HostRole::user_agent: return "user-agent";
    case HostRole::mail_server: return "mail-server";
    case HostRole::dns_server: return "dns-server";
    case HostRole::router: return "router";
  }
  return "?";
}

namespace {

// ---- key tables (the JSON Schema test compares scenarios/schema.json to these)

const std::vector<std::string> kScenarioKeys{"smtplab", "name", "description", "seed", "duration",
                                             "network", "hosts", "links", "messages", "faults"};
const std::vector<std::string> kNetworkKeys{"latency", "bandwidth", "loss"};
const std::vector<std::string> kCommonHostKeys{"name", "role", "address", "description", "resolver"};
const std::vector<std::string> kMailServerKeys{"domains", "mailboxes", "aliases", "catch_all", "smarthost",
                                               "relay_domains", "smtp", "queue", "dot_stuffing"};
const std::vector<std::string> kUserAgentKeys{"user",       "password", "server",   "fetch",
                                              "dot_stuffing", "pipelining", "starttls", "auth"};
const std::vector<std::string> kDnsServerKeys{"zones", "auto_records"};
const std::vector<std::string> kMailboxKeys{"user", "password", "quota"};
const std::vector<std::string> kSmtpKeys{"banner",      "extensions",     "max_message_size",  "max_recipients",
                                         "pipelining", "greylisting", "greylist_delay", "refuse_connections",
                                         "eight_bit_relay", "vrfy", "expn"};
const std::vector<std::string> kQueueKeys{"schedule", "min_backoff",   "max_backoff", "interval",
                                          "lifetime", "delay_warning", "hop_limit"};
const std::vector<std::string> kFetchKeys{"protocol", "every", "first", "keep"};
const std::vector<std::string> kZoneKeys{"origin", "records"};
const std::vector<std::string> kLinkKeys{"a", "b", "latency", "bandwidth", "loss", "jitter", "reorder", "burst", "up"};
const std::vector<std::string> kBurstKeys{"p_good_to_bad", "p_bad_to_good", "loss_in_bad"};
const std::vector<std::string> kMessageKeys{"from",        "to",      "cc", "bcc", "subject", "body",
                                            "attachments", "headers", "at", "via", "probe"};
const std::vector<std::string> kAttachmentKeys{"name", "type", "content", "size"};
const std::vector<std::string> kFaultKeys{"type", "at",   "until", "host", "link",      "domain",  "mode", "verb",
                                          "nth",  "code", "text",  "loss", "recipient", "mailbox", "delay"};
const std::vector<std::string> kExtensions{"PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES",
                                           "DSN",        "STARTTLS", "AUTH"};

std::vector<std::string> all_host_keys() {
  std::vector<std::string> keys = kCommonHostKeys;
  for (const auto* list : {&kMailServerKeys, &kUserAgentKeys, &kDnsServerKeys})
    for (const std::string& k : *list)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  return keys;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const std::string& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

std::string child(const std::string& ptr, std::string_view key) { return ptr + "/" + escape_pointer_token(key); }
std::string child(const std::string& ptr, size_t index) { return ptr + "/" + std::to_string(index); }

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "true/false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

std::string show(const json& j) {
  std::string s = j.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string fmt_number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

// Collects errors and offers strict typed getters that report, never throw.
class Reader {
 public:
  Reader(std::string file, std::vector<ScenarioError>& errors) : file_(std::move(file)), errors_(errors) {}

  void error(const std::string& ptr, std::string message) {
    errors_.push_back(ScenarioError{file_, ptr.empty() ? "/" : ptr, 0, 0, std::move(message)});
  }

  // True if j is an object; reports unknown keys.
  bool object(const json& j, const std::string& ptr, const std::vector<std::string>& allowed, const char* what) {
    if (!j.is_object()) {
      error(ptr, std::string("expected ") + what + " (a JSON object), got " + type_name(j));
      return false;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
        error(child(ptr, it.key()), "unknown key \"" + it.key() + "\"; allowed keys: " + join(allowed));
    }
    return true;
  }

  const json* field(const json& obj, const char* key, const std::string& ptr, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) error(child(ptr, key), "required key is missing");
      return nullptr;
    }
    return &*it;
  }

  bool string(const json& obj, const char* key, const std::string& ptr, std::string& out, bool required = false) {
    const json* v = field(obj, key, ptr, required);
    if (!v) return false;
    if (!v->is_string()) {
      error(child(ptr, key), "expected a string, got " + type_name(*v));
      return false;
    }
    out = v->get<std::string>();
    return true;
  }

  void boolean(const json& obj, const char* key, const std::string& ptr, bool& out) {
    const json* v = field(obj, key, ptr, false);
    if (!v) return;
    if (!v->is_boolean()) {
      error(child(ptr, key), "expected true or false, got " + show(*v));
      return;
    }
    out = v->get<bool>();
  }

  template <class Int>
  bool integer(const json& obj, const char* key, const std::string& ptr, Int& out, int64_t lo, int64_t hi,
               bool required = false) {
    const json* v = field(obj, key, ptr, required);
    if (!v) return false;
    if (!v->is_number_integer()) {
      if (v->is_number())
        error(child(ptr, key), "must be a whole number, got " + show(*v));
      else
        error(child(ptr, key), "expected a whole number, got " + type_name(*v));
      return false;
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      error(child(ptr, key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + show(*v));
      return false;
    }
    const int64_t value = v->get<int64_t>();
    if (value < lo || value > hi) {
      error(child(ptr, key),
            "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + std::to_string(value));
      return false;
    }
    out = static_cast<Int>(value);
    return true;
  }

  bool number(const json& obj, const char* key, const std::string& ptr, double& out, double lo, double hi,
              bool required = false) {
    const json* v = field(obj, key, ptr, required);
    if (!v) return false;
    if (!v->is_number()) {
      error(child(ptr, key), "expected a number, got " + type_name(*v));
      return false;
    }
    const double value = v->get<double>();
    if (!(value >= lo && value <= hi)) {
      error(child(ptr, key), "must be between " + fmt_number(lo) + " and " + fmt_number(hi) + ", got " + show(*v));
      return false;
    }
    out = value;
    return true;
  }

  bool duration(const json& obj, const char* key, const std::string& ptr, SimTime& out, bool required = false) {
    const json* v = field(obj, key, ptr, required);
    if (!v) return false;
    if (v->is_number_integer() && v->get<int64_t>() == 0) {
      out = SimTime{0};
      return true;
    }
    if (!v->is_string()) {
      error(child(ptr, key), "expected a duration string such as \"10ms\", \"30min\" or \"5d\", got " + show(*v));
      return false;
    }
    std::string why;
    auto d = parse_duration(v->get<std::string>(), &why);
    if (!d) {
      error(child(ptr, key), "bad duration \"" + v->get<std::string>() + "\": " + why);
      return false;
    }
    if (d->us < 0) {
      error(child(ptr, key), "must not be negative");
      return false;
    }
    out = *d;
    return true;
  }

  bool bandwidth(const json& obj, const char* key, const std::string& ptr, int64_t& out) {
    const json* v = field(obj, key, ptr, false);
    if (!v) return false;
    if (v->is_number_integer() && v->get<int64_t>() >= 0) {
      out = v->get<int64_t>();
      return true;
    }
    if (!v->is_string()) {
      error(child(ptr, key), "expected a bandwidth such as \"100Mbit\" or \"56kbit\", got " + show(*v));
      return false;
    }
    std::string why;
    auto bps = parse_bandwidth(v->get<std::string>(), &why);
    if (!bps) {
      error(child(ptr, key), why);
      return false;
    }
    out = *bps;
    return true;
  }

  template <class E>
  bool enumeration(const json& obj, const char* key, const std::string& ptr, E& out,
                   const std::vector<std::pair<std::string, E>>& names, bool required = false) {
    std::string s;
    if (!string(obj, key, ptr, s, required)) return false;
    for (const auto& [n, e] : names) {
      if (n == s) {
        out = e;
        return true;
      }
    }
    std::vector<std::string> expected;
    for (const auto& [n, e] : names) expected.push_back(n);
    error(child(ptr, key), "unknown value \"" + s + "\"; expected one of: " + join(expected));
    return false;
  }

  // A string or an array of strings.
  bool string_list(const json& obj, const char* key, const std::string& ptr, std::vector<std::string>& out,
                   bool allow_single = true) {
    const json* v = field(obj, key, ptr, false);
    if (!v) return false;
    if (allow_single && v->is_string()) {
      out = {v->get<std::string>()};
      return true;
    }
    if (!v->is_array()) {
      error(child(ptr, key), std::string("expected ") + (allow_single ? "a string or " : "") + "an array of strings, got " + type_name(*v));
      return false;
    }
    out.clear();
    bool ok = true;
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        error(child(child(ptr, key), i), "expected a string, got " + type_name((*v)[i]));
        ok = false;
        continue;
      }
      out.push_back((*v)[i].get<std::string>());
    }
    return ok;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::vector<ScenarioError>& errors_;
};

bool valid_local_part(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.') return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) continue;
    if (std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) == std::string_view::npos) return false;
  }
  return s.find("..") == std::string_view::npos;
}

bool valid_address(std::string_view a) {
  const size_t at = a.rfind('@');
  if (at == std::string_view::npos) return false;
  return valid_local_part(a.substr(0, at)) && is_valid_hostname(a.substr(at + 1));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string domain_of(const std::string& address) {
  const size_t at = address.rfind('@');
  return at == std::string::npos ? "" : lower(address.substr(at + 1));
}

// ---- pass 1: structure, types, ranges

void read_mailboxes(Reader& rd, const json& obj, const std::string& ptr, Host& h) {
  const json* v = rd.field(obj, "mailboxes", ptr, false);
  if (!v) return;
  const std::string mptr = child(ptr, "mailboxes");
  if (!v->is_array()) {
    rd.error(mptr, "expected an array of mailboxes (\"alice\" or {\"user\": \"alice\", ...}), got " + type_name(*v));
    return;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const json& m = (*v)[i];
    const std::string p = child(mptr, i);
    Mailbox mb;
    if (m.is_string()) {
      mb.user = m.get<std::string>();
    } else if (rd.object(m, p, kMailboxKeys, "a mailbox")) {
      rd.string(m, "user", p, mb.user, true);
      rd.string(m, "password", p, mb.password);
      rd.integer(m, "quota", p, mb.quota, 0, INT64_MAX);
    } else {
      continue;
    }
    if (!mb.user.empty() && !valid_local_part(mb.user))
      rd.error(m.is_string() ? p : child(p, "user"), "\"" + mb.user + "\" is not a valid local part (the part before @)");
    h.mailboxes.push_back(mb);
  }
}

void read_smtp(Reader& rd, const json& obj, const std::string& ptr, SmtpPersonality& s) {
  const json* v = rd.field(obj, "smtp", ptr, false);
  if (!v) return;
  const std::string p = child(ptr, "smtp");
  if (!rd.object(*v, p, kSmtpKeys, "SMTP settings")) return;
  rd.string(*v, "banner", p, s.banner);
  if (rd.string_list(*v, "extensions", p, s.extensions, false)) {
    for (size_t i = 0; i < s.extensions.size(); ++i) {
      std::string& e = s.extensions[i];
      for (char& c : e) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (std::find(kExtensions.begin(), kExtensions.end(), e) == kExtensions.end())
        rd.error(child(child(p, "extensions"), i), "unknown extension \"" + e + "\"; expected one of: " + join(kExtensions));
    }
  }
  rd.integer(*v, "max_message_size", p, s.max_message_size, 1024, int64_t{1} << 40);
  rd.integer(*v, "max_recipients", p, s.max_recipients, 1, 100000);
  rd.boolean(*v, "pipelining", p, s.honour_pipelining);
  rd.boolean(*v, "greylisting", p, s.greylisting);
  rd.duration(*v, "greylist_delay", p, s.greylist_delay);
  rd.boolean(*v, "refuse_connections", p, s.refuse_connections);
  rd.enumeration(*v, "eight_bit_relay", p, s.downgrade_8bit, {{"downgrade", true}, {"bounce", false}});
  rd.boolean(*v, "vrfy", p, s.vrfy);
  rd.boolean(*v, "expn", p, s.expn);
}

void read_queue(Reader& rd, const json& obj, const std::string& ptr, QueuePolicy& q) {
  const json* v = rd.field(obj, "queue", ptr, false);
  if (!v) return;
  const std::string p = child(ptr, "queue");
  if (!rd.object(*v, p, kQueueKeys, "queue settings")) return;
  rd.enumeration(*v, "schedule", p, q.schedule,
                 {{"postfix", RetrySchedule::postfix}, {"fixed", RetrySchedule::fixed}, {"quadratic", RetrySchedule::quadratic}});
  rd.duration(*v, "min_backoff", p, q.min_backoff);
  rd.duration(*v, "max_backoff", p, q.max_backoff);
  rd.duration(*v, "interval", p, q.interval);
  rd.duration(*v, "lifetime", p, q.lifetime);
  rd.duration(*v, "delay_warning", p, q.delay_warning);
  rd.integer(*v, "hop_limit", p, q.hop_limit, 1, 1000);
  if (q.min_backoff.us <= 0) rd.error(child(p, "min_backoff"), "must be more than 0");
  if (q.interval.us <= 0) rd.error(child(p, "interval"), "must be more than 0");
  if (q.max_backoff < q.min_backoff)
    rd.error(child(p, "max_backoff"), "must not be less than min_backoff (" + format_duration(q.min_backoff) + ")");
}

void read_fetch(Reader& rd, const json& obj, const std::string& ptr, FetchPolicy& f) {
  const json* v = rd.field(obj, "fetch", ptr, false);
  if (!v) return;
  const std::string p = child(ptr, "fetch");
  if (!rd.object(*v, p, kFetchKeys, "fetch settings")) return;
  rd.enumeration(*v, "protocol", p, f.protocol, {{"pop3", FetchProtocol::pop3}, {"imap", FetchProtocol::imap}, {"none", FetchProtocol::none}},
                 true);
  rd.duration(*v, "every", p, f.every);
  rd.duration(*v, "first", p, f.first);
  rd.boolean(*v, "keep", p, f.keep);
  if (f.every.us <= 0) rd.error(child(p, "every"), "must be more than 0");
}

void read_zones(Reader& rd, const json& obj, const std::string& ptr, Host& h) {
  const json* v = rd.field(obj, "zones", ptr, false);
  if (!v) return;
  const std::string zptr = child(ptr, "zones");
  if (!v->is_array()) {
    rd.error(zptr, "expected an array of zones, got " + type_name(*v));
    return;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const json& z = (*v)[i];
    const std::string p = child(zptr, i);
    if (!rd.object(z, p, kZoneKeys, "a zone")) continue;
    Host::Zone zone;
    if (rd.string(z, "origin", p, zone.origin, true) && !is_valid_hostname(zone.origin))
      rd.error(child(p, "origin"), "\"" + zone.origin + "\" is not a valid domain name");
    if (rd.string_list(z, "records", p, zone.records, false)) {
      for (size_t k = 0; k < zone.records.size(); ++k) {
        std::string why;
        if (!parse_zone_record(zone.records[k], zone.origin, &why))
          rd.error(child(child(p, "records"), k), "bad record \"" + zone.records[k] + "\": " + why);
      }
    }
    h.zones.push_back(zone);
  }
}

void read_host(Reader& rd, const json& j, const std::string& ptr, Scenario& sc) {
  static const std::vector<std::string> kAll = all_host_keys();
  if (!rd.object(j, ptr, kAll, "a host")) return;
  Host h;
  rd.string(j, "name", ptr, h.name, true);
  if (!h.name.empty() && !is_valid_hostname(h.name))
    rd.error(child(ptr, "name"), "\"" + h.name + "\" is not a valid host name (letters, digits, hyphens and dots)");
  h.name = lower(h.name);
  const bool has_role = rd.enumeration(j, "role", ptr, h.role,
                                       {{"user-agent", HostRole::user_agent},
                                        {"mail-server", HostRole::mail_server},
                                        {"dns-server", HostRole::dns_server},
                                        {"router", HostRole::router}},
                                       true);
  if (rd.string(j, "address", ptr, h.address) && !is_valid_ipv4(h.address))
    rd.error(child(ptr, "address"), "\"" + h.address + "\" is not an IPv4 address such as \"192.0.2.10\"");
  rd.string(j, "description", ptr, h.description);
  rd.string(j, "resolver", ptr, h.resolver);
  h.resolver = lower(h.resolver);
  if (has_role) {
    // Keys that belong to another role are mistakes worth naming.
    const std::vector<std::string>* own = nullptr;
    switch (h.role) {
      case HostRole::mail_server: own = &kMailServerKeys; break;
      case HostRole::user_agent: own = &kUserAgentKeys; break;
      case HostRole::dns_server: own = &kDnsServerKeys; break;
      case HostRole::router: own = nullptr; break;
    }
    std::vector<std::string> allowed = kCommonHostKeys;
    if (own) allowed.insert(allowed.end(), own->begin(), own->end());
    for (auto it = j.begin(); it != j.end(); ++it) {
      const bool known = std::find(kAll.begin(), kAll.end(), it.key()) != kAll.end();
      if (known && std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
        rd.error(child(ptr, it.key()), "key \"" + it.key() + "\" does not apply to a " + role_name(h.role) +
                                           "; keys for this role: " + join(allowed));
    }
  }
  // mail-server
  if (rd.string_list(j, "domains", ptr, h.domains)) {
    for (size_t i = 0; i < h.domains.size(); ++i) {
      if (!is_valid_hostname(h.domains[i]))
        rd.error(child(child(ptr, "domains"), i), "\"" + h.domains[i] + "\" is not a valid domain name");
      h.domains[i] = lower(h.domains[i]);
    }
  }
  read_mailboxes(rd, j, ptr, h);
  if (const json* al = rd.field(j, "aliases", ptr, false)) {
    const std::string p = child(ptr, "aliases");
    if (!al->is_object()) {
      rd.error(p, "expected an object mapping a local part to an address, got " + type_name(*al));
    } else {
      for (auto it = al->begin(); it != al->end(); ++it) {
        if (!it.value().is_string()) {
          rd.error(child(p, it.key()), "expected a string (a local part or an address), got " + type_name(it.value()));
          continue;
        }
        if (!valid_local_part(it.key())) rd.error(child(p, it.key()), "\"" + it.key() + "\" is not a valid local part");
        h.aliases[lower(it.key())] = it.value().get<std::string>();
      }
    }
  }
  rd.boolean(j, "catch_all", ptr, h.catch_all);
  rd.string(j, "smarthost", ptr, h.smarthost);
  h.smarthost = lower(h.smarthost);
  if (rd.string_list(j, "relay_domains", ptr, h.relay_domains))
    for (std::string& d : h.relay_domains) d = lower(d);
  read_smtp(rd, j, ptr, h.smtp);
  read_queue(rd, j, ptr, h.queue);
  // user-agent
  if (rd.string(j, "user", ptr, h.user) && !valid_address(h.user))
    rd.error(child(ptr, "user"), "\"" + h.user + "\" is not an email address such as \"bob@gmail.test\"");
  rd.string(j, "password", ptr, h.password);
  rd.string(j, "server", ptr, h.server);
  h.server = lower(h.server);
  read_fetch(rd, j, ptr, h.fetch);
  rd.boolean(j, "dot_stuffing", ptr, h.dot_stuffing);
  rd.boolean(j, "pipelining", ptr, h.use_pipelining);
  rd.boolean(j, "starttls", ptr, h.use_starttls);
  rd.boolean(j, "auth", ptr, h.use_auth);
  // dns-server
  read_zones(rd, j, ptr, h);
  rd.boolean(j, "auto_records", ptr, h.auto_records);
  sc.hosts.push_back(std::move(h));
}

void read_link(Reader& rd, const json& j, const std::string& ptr, const Scenario& sc, Link& l) {
  if (!rd.object(j, ptr, kLinkKeys, "a link")) return;
  rd.string(j, "a", ptr, l.a, true);
  rd.string(j, "b", ptr, l.b, true);
  l.a = lower(l.a);
  l.b = lower(l.b);
  l.latency = sc.default_latency;
  l.bandwidth_bps = sc.default_bandwidth_bps;
  l.loss = sc.default_loss;
  rd.duration(j, "latency", ptr, l.latency);
  rd.bandwidth(j, "bandwidth", ptr, l.bandwidth_bps);
  rd.number(j, "loss", ptr, l.loss, 0.0, 1.0);
  rd.duration(j, "jitter", ptr, l.jitter);
  rd.number(j, "reorder", ptr, l.reorder, 0.0, 1.0);
  rd.boolean(j, "up", ptr, l.up);
  if (const json* b = rd.field(j, "burst", ptr, false)) {
    const std::string p = child(ptr, "burst");
    if (rd.object(*b, p, kBurstKeys, "burst-loss settings")) {
      Burst burst;
      rd.number(*b, "p_good_to_bad", p, burst.p_good_to_bad, 0.0, 1.0, true);
      rd.number(*b, "p_bad_to_good", p, burst.p_bad_to_good, 0.0, 1.0, true);
      rd.number(*b, "loss_in_bad", p, burst.loss_in_bad, 0.0, 1.0);
      l.burst = burst;
    }
  }
}

// A message's "probe" commands (MessageSpec::probe): what the user agent
// may ask before MAIL FROM. Returns why a line is not one, or "".
constexpr size_t kMaxProbes = 20;
std::string probe_problem(const std::string& line) {
  const std::string shown = "\"" + line + "\"";
  for (char c : line)
    if (c < 0x20 || c > 0x7e) {
      // Shown escaped (an error message is one line too), cut if long.
      std::string esc;
      for (char d : line.substr(0, 60)) {
        const auto u = static_cast<unsigned char>(d);
        if (d == '\r') esc += "\\r";
        else if (d == '\n') esc += "\\n";
        else if (u < 0x20 || u > 0x7e) esc += "\\x" + std::string(1, "0123456789abcdef"[u >> 4]) + "0123456789abcdef"[u & 15];
        else esc += d;
      }
      return "\"" + esc + (line.size() > 60 ? "...\"" : "\"") + " is not one line of printable ASCII (no control characters or CR LF)";
    }
  // RFC 5321 4.5.3.1.4: 512 octets with the CR LF.
  if (line.size() > 510) return "a probe command is at most 510 characters (RFC 5321 4.5.3.1.4), not " + std::to_string(line.size());
  const size_t sp = line.find(' ');
  const std::string verb = smtp::ascii_upper(std::string_view(line).substr(0, sp));
  const std::string arg = sp == std::string::npos ? std::string() : line.substr(sp + 1);
  if (verb != "VRFY" && verb != "EXPN" && verb != "HELP" && verb != "NOOP")
    return shown + " is not a probe: a probe is VRFY, EXPN, HELP or NOOP with its argument "
                   "(RFC 5321 4.1.1.6-4.1.1.9); the mail itself is the message's from/to";
  if ((verb == "VRFY" || verb == "EXPN") && arg.find_first_not_of(' ') == std::string::npos)
    return shown + ": " + verb + " needs an argument, such as \"" + verb + (verb == "VRFY" ? " alice" : " staff") +
           "\" (RFC 5321 4.1.1." + (verb == "VRFY" ? "6" : "7") + ")";
  return {};
}

void read_message(Reader& rd, const json& j, const std::string& ptr, MessageSpec& m) {
  if (!rd.object(j, ptr, kMessageKeys, "a message")) return;
  rd.string(j, "from", ptr, m.from, true);
  rd.string_list(j, "to", ptr, m.to);
  rd.string_list(j, "cc", ptr, m.cc);
  rd.string_list(j, "bcc", ptr, m.bcc);
  rd.string(j, "subject", ptr, m.subject);
  if (const json* b = rd.field(j, "body", ptr, false)) {
    if (b->is_string()) {
      m.body = b->get<std::string>();
    } else {
      std::vector<std::string> lines;
      if (rd.string_list(j, "body", ptr, lines)) m.body = join(lines, "\n");
    }
  }
  rd.duration(j, "at", ptr, m.at);
  rd.string(j, "via", ptr, m.via);
  m.via = lower(m.via);
  if (rd.string_list(j, "probe", ptr, m.probe, false)) {
    if (m.probe.size() > kMaxProbes)
      rd.error(child(ptr, "probe"), "at most " + std::to_string(kMaxProbes) + " probe commands, not " + std::to_string(m.probe.size()));
    for (size_t i = 0; i < m.probe.size(); ++i)
      if (std::string why = probe_problem(m.probe[i]); !why.empty()) rd.error(child(child(ptr, "probe"), i), why);
  }
  if (const json* hs = rd.field(j, "headers", ptr, false)) {
    const std::string p = child(ptr, "headers");
    if (!hs->is_object()) {
      rd.error(p, "expected an object of header names and values, got " + type_name(*hs));
    } else {
      for (auto it = hs->begin(); it != hs->end(); ++it) {
        bool name_ok = !it.key().empty();
        for (char c : it.key())
          if (c <= 32 || c >= 127 || c == ':') name_ok = false;  // RFC 5322 2.2 field-name
        if (!name_ok) rd.error(child(p, it.key()), "\"" + it.key() + "\" is not a valid header name (RFC 5322 2.2)");
        if (!it.value().is_string()) {
          rd.error(child(p, it.key()), "expected a string, got " + type_name(it.value()));
          continue;
        }
        m.headers[it.key()] = it.value().get<std::string>();
      }
    }
  }
  if (const json* as = rd.field(j, "attachments", ptr, false)) {
    const std::string p = child(ptr, "attachments");
    if (!as->is_array()) {
      rd.error(p, "expected an array of attachments, got " + type_name(*as));
    } else {
      for (size_t i = 0; i < as->size(); ++i) {
        const std::string ap = child(p, i);
        const json& a = (*as)[i];
        if (!rd.object(a, ap, kAttachmentKeys, "an attachment")) continue;
        Attachment att;
        rd.string(a, "name", ap, att.name, true);
        rd.string(a, "type", ap, att.content_type);
        rd.string(a, "content", ap, att.content);
        rd.integer(a, "size", ap, att.size, 1, 10 * 1024 * 1024);
        if (att.content.empty() && att.size == 0) rd.error(ap, "an attachment needs \"content\" or \"size\"");
        if (!att.content.empty() && att.size != 0) rd.error(child(ap, "size"), "give \"content\" or \"size\", not both");
        m.attachments.push_back(att);
      }
    }
  }
  auto check_addresses = [&](const std::vector<std::string>& list, const char* key) {
    for (size_t i = 0; i < list.size(); ++i)
      if (!valid_address(list[i]))
        rd.error(j.at(key).is_string() ? child(ptr, key) : child(child(ptr, key), i),
                 "\"" + list[i] + "\" is not an email address such as \"alice@yahoo.test\"");
  };
  if (!m.from.empty() && !valid_address(m.from))
    rd.error(child(ptr, "from"), "\"" + m.from + "\" is not an email address such as \"bob@gmail.test\"");
  check_addresses(m.to, "to");
  check_addresses(m.cc, "cc");
  check_addresses(m.bcc, "bcc");
  if (m.to.empty() && m.cc.empty() && m.bcc.empty()) rd.error(child(ptr, "to"), "a message needs at least one recipient");
}

void read_fault(Reader& rd, const json& j, const std::string& ptr, Fault& f) {
  if (!rd.object(j, ptr, kFaultKeys, "a fault")) return;
  if (!rd.string(j, "type", ptr, f.type, true)) return;
  const FaultType* ft = find_fault_type(f.type);
  if (!ft) {
    std::vector<std::string> names;
    for (const FaultType& t : fault_catalog()) names.emplace_back(t.name);
    rd.error(child(ptr, "type"), "unknown fault type \"" + f.type + "\"; expected one of: " + join(names));
    return;
  }
  rd.duration(j, "at", ptr, f.at, true);
  // Keys this fault type takes.
  std::vector<std::string> allowed{"type", "at"};
  for (auto k : ft->required) allowed.emplace_back(k);
  for (auto k : ft->optional) allowed.emplace_back(k);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(kFaultKeys.begin(), kFaultKeys.end(), it.key()) != kFaultKeys.end() &&
        std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      rd.error(child(ptr, it.key()), "key \"" + it.key() + "\" does not apply to a " + f.type + " fault; its keys: " + join(allowed));
  }
  for (auto k : ft->required) {
    if (!j.contains(std::string(k))) rd.error(child(ptr, k), "required key is missing for a " + f.type + " fault");
  }
  SimTime until{0};
  if (rd.duration(j, "until", ptr, until)) {
    f.until = until;
    if (until <= f.at) rd.error(child(ptr, "until"), "must be after \"at\" (" + format_duration(f.at) + ")");
  }
  rd.string(j, "host", ptr, f.host);
  f.host = lower(f.host);
  if (rd.string_list(j, "link", ptr, f.link, false)) {
    if (f.link.size() != 2) rd.error(child(ptr, "link"), "expected two host names, e.g. [\"mx.yahoo.test\", \"internet\"]");
    for (std::string& s : f.link) s = lower(s);
  }
  if (rd.string(j, "domain", ptr, f.domain)) {
    if (!is_valid_hostname(f.domain)) rd.error(child(ptr, "domain"), "\"" + f.domain + "\" is not a valid domain name");
    f.domain = lower(f.domain);
  }
  if (rd.string(j, "mode", ptr, f.mode) && f.mode != "nxdomain" && f.mode != "servfail" && f.mode != "timeout")
    rd.error(child(ptr, "mode"), "unknown value \"" + f.mode + "\"; expected one of: nxdomain, servfail, timeout");
  if (rd.string(j, "verb", ptr, f.verb)) {
    for (char& c : f.verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    bool ok = false;
    std::vector<std::string> verbs;
    for (auto v : fault_verbs()) {
      verbs.emplace_back(v);
      if (v == f.verb) ok = true;
    }
    if (!ok) rd.error(child(ptr, "verb"), "unknown verb \"" + f.verb + "\"; expected one of: " + join(verbs));
  }
  rd.integer(j, "nth", ptr, f.nth, 0, 1000000);
  rd.integer(j, "code", ptr, f.code, 400, 599);
  rd.string(j, "text", ptr, f.text);
  rd.string(j, "recipient", ptr, f.recipient);
  if (!f.recipient.empty() && !valid_address(f.recipient))
    rd.error(child(ptr, "recipient"), "\"" + f.recipient + "\" is not an email address");
  rd.string(j, "mailbox", ptr, f.mailbox);
  f.mailbox = lower(f.mailbox);
  rd.number(j, "loss", ptr, f.loss, 0.0, 1.0);
  rd.duration(j, "delay", ptr, f.delay);
}

// ---- pass 2: references between objects, and completion of defaults

void cross_check(Reader& rd, const json& root, Scenario& sc) {
  std::set<std::string> names;
  std::map<std::string, size_t> address_owner;
  bool declared_internet = false;
  for (size_t i = 0; i < sc.hosts.size(); ++i) {
    const Host& h = sc.hosts[i];
    const std::string p = child(std::string("/hosts"), i);
    if (h.name.empty()) continue;
    if (!names.insert(h.name).second) rd.error(child(p, "name"), "duplicate host name \"" + h.name + "\"");
    if (h.name == "internet") {
      if (h.role != HostRole::router)
        rd.error(child(p, "name"), "\"internet\" is the name of the shared network; only a router may take it");
      declared_internet = true;
    }
    if (!h.address.empty()) {
      auto [it, fresh] = address_owner.emplace(h.address, i);
      if (!fresh) rd.error(child(p, "address"), "address " + h.address + " is already used by " + sc.hosts[it->second].name);
    }
  }
  auto host_with_role = [&](const std::string& name, HostRole role) {
    const Host* h = sc.find_host(name);
    return h && h->role == role;
  };
  for (size_t i = 0; i < sc.hosts.size(); ++i) {
    Host& h = sc.hosts[i];
    const std::string p = child(std::string("/hosts"), i);
    if (!h.resolver.empty() && !host_with_role(h.resolver, HostRole::dns_server))
      rd.error(child(p, "resolver"), "\"" + h.resolver + "\" is not a dns-server host of this scenario");
    if (h.role == HostRole::mail_server) {
      std::set<std::string> seen;
      for (size_t k = 0; k < h.mailboxes.size(); ++k)
        if (!h.mailboxes[k].user.empty() && !seen.insert(lower(h.mailboxes[k].user)).second)
          rd.error(child(child(p, "mailboxes"), k), "duplicate mailbox \"" + h.mailboxes[k].user + "\"");
      if (!h.smarthost.empty() && (!host_with_role(h.smarthost, HostRole::mail_server) || h.smarthost == h.name))
        rd.error(child(p, "smarthost"), "\"" + h.smarthost + "\" is not another mail-server host of this scenario");
    }
    if (h.role == HostRole::user_agent) {
      if (h.user.empty() && !root.at("hosts")[i].contains("user")) rd.error(child(p, "user"), "required key is missing for a user-agent");
      if (h.server.empty()) {
        if (!root.at("hosts")[i].contains("server")) rd.error(child(p, "server"), "required key is missing for a user-agent (its mail server)");
      } else if (!host_with_role(h.server, HostRole::mail_server)) {
        rd.error(child(p, "server"), "\"" + h.server + "\" is not a mail-server host of this scenario");
      }
    }
  }
  // Every user agent whose server serves its domain gets a mailbox there.
  for (Host& ua : sc.hosts) {
    if (ua.role != HostRole::user_agent || ua.user.empty()) continue;
    for (Host& srv : sc.hosts) {
      if (srv.name != ua.server || srv.role != HostRole::mail_server) continue;
      const std::string dom = domain_of(ua.user);
      if (std::find(srv.domains.begin(), srv.domains.end(), dom) == srv.domains.end()) continue;
      const std::string local = lower(ua.user.substr(0, ua.user.rfind('@')));
      bool have = false;
      for (const Mailbox& mb : srv.mailboxes) have = have || lower(mb.user) == local;
      if (!have) srv.mailboxes.push_back(Mailbox{local, ua.password, 0});
    }
  }
  auto endpoint_ok = [&](const std::string& n) { return n == "internet" || sc.find_host(n) != nullptr; };
  std::set<std::pair<std::string, std::string>> link_pairs;
  std::set<std::string> linked;
  for (size_t i = 0; i < sc.links.size(); ++i) {
    const Link& l = sc.links[i];
    const std::string p = child(std::string("/links"), i);
    if (!l.a.empty() && !endpoint_ok(l.a)) rd.error(child(p, "a"), "no host named \"" + l.a + "\"");
    if (!l.b.empty() && !endpoint_ok(l.b)) rd.error(child(p, "b"), "no host named \"" + l.b + "\"");
    if (!l.a.empty() && l.a == l.b) rd.error(child(p, "b"), "a link needs two different ends");
    const auto key = std::minmax(l.a, l.b);
    if (!l.a.empty() && !l.b.empty() && !link_pairs.insert({key.first, key.second}).second)
      rd.error(p, "duplicate link between \"" + l.a + "\" and \"" + l.b + "\"");
    linked.insert(l.a);
    linked.insert(l.b);
  }
  (void)declared_internet;
  auto link_exists = [&](const std::string& a, const std::string& b) {
    const auto key = std::minmax(a, b);
    if (link_pairs.count({key.first, key.second})) return true;
    // Hosts in no explicit link hang off the implicit "internet" router.
    if (a == "internet" && sc.find_host(b) && !linked.count(b)) return true;
    if (b == "internet" && sc.find_host(a) && !linked.count(a)) return true;
    return false;
  };
  for (size_t i = 0; i < sc.messages.size(); ++i) {
    MessageSpec& m = sc.messages[i];
    const std::string p = child(std::string("/messages"), i);
    if (m.at > sc.duration)
      rd.error(child(p, "at"), "is after the end of the run (duration " + format_duration(sc.duration) + ")");
    if (!m.via.empty()) {
      if (!host_with_role(m.via, HostRole::user_agent)) rd.error(child(p, "via"), "\"" + m.via + "\" is not a user-agent host of this scenario");
    } else if (!m.from.empty()) {
      const Host* sender = nullptr;
      for (const Host& h : sc.hosts)
        if (h.role == HostRole::user_agent && lower(h.user) == lower(m.from)) sender = h.name.empty() ? nullptr : &h;
      if (!sender)
        rd.error(child(p, "from"), "no user-agent host has user \"" + m.from + "\"; add one, or name the sender with \"via\"");
      else
        m.via = sender->name;
    }
  }
  for (size_t i = 0; i < sc.faults.size(); ++i) {
    Fault& f = sc.faults[i];
    const std::string p = child(std::string("/faults"), i);
    const FaultType* ft = find_fault_type(f.type);
    if (!ft) continue;
    if (f.at > sc.duration) rd.error(child(p, "at"), "is after the end of the run (duration " + format_duration(sc.duration) + ")");
    if (!f.host.empty()) {
      const Host* h = sc.find_host(f.host);
      if (!h)
        rd.error(child(p, "host"), "no host named \"" + f.host + "\"");
      else if (ft->target == FaultTarget::mail_server && h->role != HostRole::mail_server)
        rd.error(child(p, "host"), "\"" + f.host + "\" is a " + role_name(h->role) + "; a " + f.type + " fault needs a mail-server");
      else if ((f.type == "no-dot-stuffing" || f.type == "bare-lf") && h->role != HostRole::user_agent &&
               h->role != HostRole::mail_server)
        rd.error(child(p, "host"), "\"" + f.host + "\" sends no mail; " + f.type + " needs a user-agent or mail-server");
      else if (f.type == "mailbox-full" && !f.mailbox.empty()) {
        bool found = false;
        for (const Mailbox& mb : h->mailboxes) found = found || lower(mb.user) == f.mailbox;
        if (!found) rd.error(child(p, "mailbox"), "\"" + f.host + "\" has no mailbox \"" + f.mailbox + "\"");
      }
    }
    if (f.link.size() == 2) {
      for (size_t k = 0; k < 2; ++k)
        if (!endpoint_ok(f.link[k])) rd.error(child(child(p, "link"), k), "no host named \"" + f.link[k] + "\"");
      if (endpoint_ok(f.link[0]) && endpoint_ok(f.link[1]) && !link_exists(f.link[0], f.link[1]))
        rd.error(child(p, "link"), "no link between \"" + f.link[0] + "\" and \"" + f.link[1] + "\"");
    }
  }
}

}  // namespace

const std::map<std::string, std::vector<std::string>>& scenario_allowed_keys() {
  static const std::map<std::string, std::vector<std::string>> kTable = {
      {"scenario", kScenarioKeys}, {"network", kNetworkKeys}, {"host", all_host_keys()},
      {"mailbox", kMailboxKeys},   {"smtp", kSmtpKeys},       {"queue", kQueueKeys},
      {"fetch", kFetchKeys},       {"zone", kZoneKeys},       {"link", kLinkKeys},
      {"burst", kBurstKeys},       {"message", kMessageKeys}, {"attachment", kAttachmentKeys},
      {"fault", kFaultKeys},
  };
  return kTable;
}

std::optional<int64_t> parse_bandwidth(std::string_view text, std::string* error) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  std::string unit(text.substr(i));
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  const std::string number(text.substr(0, i));
  double value = 0;
  try {
    size_t used = 0;
    value = number.empty() ? -1 : std::stod(number, &used);
    if (used != number.size()) value = -1;
  } catch (...) {
    value = -1;
  }
  double scale = 0;
  const std::string u = lower(unit);
  if (u == "bit" || u == "bps") scale = 1;
  else if (u == "kbit" || u == "kbps") scale = 1e3;
  else if (u == "mbit" || u == "mbps") scale = 1e6;
  else if (u == "gbit" || u == "gbps") scale = 1e9;
  if (value < 0 || scale == 0) {
    if (error) *error = "bad bandwidth \"" + std::string(text) + "\"; expected a number and bit, kbit, Mbit or Gbit, e.g. \"100Mbit\"";
    return std::nullopt;
  }
  const double bps = value * scale;
  if (bps < 1000 || bps > 1e12) {
    if (error) *error = "bandwidth must be between 1kbit and 1000Gbit, got \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  return static_cast<int64_t>(bps);
}

LoadResult load_scenario_text(std::string_view text, const std::string& source_name) {
  LoadResult result;
  static constexpr JsonDocumentKind kKind{"scenario", "{\"smtplab\": 1, \"hosts\": [...]}", kMaxScenarioBytes,
                                          kMaxScenarioDepth};
  std::optional<json> parsed = parse_json_document(text, source_name, kKind, result.errors);
  if (!parsed) return result;
  const json& root = *parsed;
  Reader rd(source_name, result.errors);
  Scenario sc;
  sc.source = source_name;
  if (!rd.object(root, "", kScenarioKeys, "a scenario")) return result;
  int version = 0;
  if (rd.integer(root, "smtplab", "", version, 0, 1000000, true) && version != kScenarioVersion)
    rd.error("/smtplab", "this is scenario format version " + std::to_string(version) + "; this smtplab reads version " +
                             std::to_string(kScenarioVersion));
  rd.string(root, "name", "", sc.name);
  rd.string(root, "description", "", sc.description);
  rd.integer(root, "seed", "", sc.seed, 0, INT64_MAX);
  rd.duration(root, "duration", "", sc.duration);
  if (sc.duration.us <= 0) rd.error("/duration", "must be more than 0");
  if (sc.duration > days(365)) rd.error("/duration", "must be at most 365d");
  if (const json* net = rd.field(root, "network", "", false)) {
    if (rd.object(*net, "/network", kNetworkKeys, "network defaults")) {
      rd.duration(*net, "latency", "/network", sc.default_latency);
      rd.bandwidth(*net, "bandwidth", "/network", sc.default_bandwidth_bps);
      rd.number(*net, "loss", "/network", sc.default_loss, 0.0, 1.0);
    }
  }
  auto each = [&](const char* key, bool required, auto&& fn) {
    const json* arr = rd.field(root, key, "", required);
    if (!arr) return;
    const std::string p = std::string("/") + key;
    if (!arr->is_array()) {
      rd.error(p, "expected an array, got " + type_name(*arr));
      return;
    }
    if (arr->size() > 100000) {
      rd.error(p, "too many entries (" + std::to_string(arr->size()) + "; at most 100000)");
      return;
    }
    for (size_t i = 0; i < arr->size(); ++i) fn((*arr)[i], child(p, i));
  };
  each("hosts", true, [&](const json& j, const std::string& p) { read_host(rd, j, p, sc); });
  if (root.contains("hosts") && root["hosts"].is_array() && root["hosts"].empty()) rd.error("/hosts", "a scenario needs at least one host");
  each("links", false, [&](const json& j, const std::string& p) {
    Link l;
    read_link(rd, j, p, sc, l);
    sc.links.push_back(l);
  });
  each("messages", false, [&](const json& j, const std::string& p) {
    MessageSpec m;
    read_message(rd, j, p, m);
    sc.messages.push_back(std::move(m));
  });
  each("faults", false, [&](const json& j, const std::string& p) {
    Fault f;
    read_fault(rd, j, p, f);
    sc.faults.push_back(std::move(f));
  });
  if (root.contains("hosts") && root["hosts"].is_array()) cross_check(rd, root, sc);
  if (result.errors.empty()) result.scenario = std::move(sc);
  return result;
}

LoadResult load_scenario_file(const std::string& path) {
  LoadResult result;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.errors.push_back(ScenarioError{path, "", 0, 0, "cannot open file"});
    return result;
  }
  std::string text;
  // Read at most one byte past the limit, so a huge file costs no memory.
  text.resize(kMaxScenarioBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxScenarioBytes) {
    result.errors.push_back(ScenarioError{path, "", 0, 0,
                                          "file is too large (over " + std::to_string(kMaxScenarioBytes / (1024 * 1024)) +
                                              " MiB); a scenario is a small JSON file"});
    return result;
  }
  return load_scenario_text(text, path);
}

LoadResult load_scenario_with_additions(const json& doc, const std::vector<json>& faults, const std::vector<json>& messages,
                                        const std::string& source, const std::string& base_prefix) {
  json all = doc;
  const auto count = [&](const char* key) { return all.contains(key) && all[key].is_array() ? all[key].size() : size_t{0}; };
  const size_t base_faults = count("faults"), base_messages = count("messages");
  for (const json& f : faults) all["faults"].push_back(f);
  for (const json& m : messages) all["messages"].push_back(m);
  LoadResult r = load_scenario_text(all.dump(), source);
  // Point errors at the additions, not at the combined document.
  for (ScenarioError& e : r.errors) {
    for (auto [key, base] : {std::pair<std::string, size_t>{"/faults/", base_faults}, {"/messages/", base_messages}}) {
      if (e.pointer.rfind(key, 0) != 0) continue;
      const size_t end = e.pointer.find('/', key.size());
      const std::string idx = e.pointer.substr(key.size(), end == std::string::npos ? std::string::npos : end - key.size());
      if (idx.empty() || idx.size() > 9 || !std::all_of(idx.begin(), idx.end(), [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      const size_t n = std::stoul(idx);
      if (n >= base)
        e.pointer = key + std::to_string(n - base) + (end == std::string::npos ? "" : e.pointer.substr(end));
      else
        e.pointer = base_prefix + " " + e.pointer;
    }
  }
  return r;
}

std::string_view default_scenario_text() {
  static const char kText[] =
#include "default_scenario.inc"
      ;
  return std::string_view(kText, sizeof(kText) - 1);
}

Scenario default_scenario() {
  LoadResult r = load_scenario_text(default_scenario_text(), "<built-in bob-to-alice>");
  if (!r.ok()) throw std::logic_error("the built-in scenario is invalid: " + r.errors.front().format());
  return *r.scenario;
}

}  // namespace smtplab
