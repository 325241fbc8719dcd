// sim/scenario/scenario.hpp: the scenario format (version 1) as plain data.
//
// A scenario is what a teacher writes: hosts, links, DNS, messages and timed
// faults. The loader (loader.hpp) turns JSON into these structs after full
// validation, so everything downstream may trust them: every reference names
// an existing host, every number is in range. Defaults live here, in one
// place, so the loader, the JSON Schema and the docs agree.
//
// Must never: depend on the engine, the network model or any protocol.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/engine/time.hpp"

namespace smtplab {

inline constexpr int kScenarioVersion = 1;

enum class HostRole { user_agent, mail_server, dns_server, router };

struct Mailbox {
  std::string user;                 // local part, e.g. "alice"
  std::string password = "secret";  // for AUTH, POP3 and IMAP
  int64_t quota = 0;                // bytes; 0 = unlimited (552 when exceeded)
};

// How a mail server speaks SMTP (issue: SMTP machines). Defaults follow a
// modern MTA: every extension on, RFC 5321 4.5.3.1 minimum limits.
struct SmtpPersonality {
  std::string banner;  // "" = "<host> ESMTP smtplab"
  std::vector<std::string> extensions{"PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "DSN", "STARTTLS", "AUTH"};
  int64_t max_message_size = 10 * 1024 * 1024;  // SIZE limit in octets
  int max_recipients = 100;                     // RFC 5321 4.5.3.1.8: at least 100
  bool honour_pipelining = true;
  bool greylisting = false;                     // 451 on the first try of a new triple
  SimTime greylist_delay = minutes(5);          // how long a triple must wait
  bool refuse_connections = false;              // 554 greeting (RFC 5321 3.1)
  // RFC 6152 3: when relaying 8-bit content to a server that does not offer
  // 8BITMIME, convert the MIME parts to quoted-printable/base64 (true,
  // "downgrade": Postfix's default) or return the message (false, "bounce").
  bool downgrade_8bit = true;
  // RFC 5321 3.5.3 / 7.3: VRFY may be disabled (502) and EXPN is best left
  // off (502), as most sites do against address harvesting; EXPN on answers
  // 252 here (this server never expands lists).
  bool vrfy = true;
  bool expn = false;
};

enum class RetrySchedule { postfix, fixed, quadratic };

// The queue's retry policy (issue: mail system). Postfix's defaults.
struct QueuePolicy {
  RetrySchedule schedule = RetrySchedule::postfix;
  SimTime min_backoff = minutes(5);   // postfix: minimal_backoff_time
  SimTime max_backoff = minutes(67);  // postfix: maximal_backoff_time (~4000 s)
  SimTime interval = minutes(30);     // fixed schedule
  SimTime lifetime = days(5);         // bounce after this long (RFC 5321 4.5.4.1: 4-5 days)
  SimTime delay_warning = hours(4);   // 0 = never
  int hop_limit = 25;                 // Received: headers before a loop is declared
};

enum class FetchProtocol { none, pop3, imap };

struct FetchPolicy {
  FetchProtocol protocol = FetchProtocol::none;
  SimTime every = minutes(5);  // polling interval (pull protocols)
  SimTime first = sec(30);     // first check after this time
  bool keep = false;           // POP3: leave messages on the server
};

struct Host {
  std::string name;  // also its DNS name, e.g. "mx.yahoo.test"
  HostRole role = HostRole::mail_server;
  std::string address;  // IPv4; "" = assigned by the builder
  std::string description;

  // mail-server
  std::vector<std::string> domains;
  std::vector<Mailbox> mailboxes;
  std::map<std::string, std::string> aliases;  // local part -> address or local part
  bool catch_all = false;
  std::string smarthost;                      // relay everything remote through this host
  std::vector<std::string> relay_domains;     // domains it relays for (backup MX)
  SmtpPersonality smtp;
  QueuePolicy queue;

  // user-agent
  std::string user;      // e.g. "bob@gmail.test"
  std::string password = "secret";
  std::string server;    // submission server (host name)
  FetchPolicy fetch;
  bool dot_stuffing = true;  // false: the client bug of the lone-dot lesson
  bool use_pipelining = true;
  bool use_starttls = true;
  bool use_auth = true;

  // dns-server: zone files, one record per string ("yahoo.test. 3600 IN MX 10 mx.yahoo.test.")
  struct Zone {
    std::string origin;
    std::vector<std::string> records;
  };
  std::vector<Zone> zones;
  bool auto_records = true;  // add A records for every host and MX for undeclared domains

  std::string resolver;  // DNS server this host asks ("" = the first dns-server)
};

struct Burst {  // Gilbert-Elliott two-state loss
  double p_good_to_bad = 0.0;
  double p_bad_to_good = 1.0;
  double loss_in_bad = 1.0;
};

struct Link {
  std::string a, b;  // host names (routers included)
  SimTime latency = msec(10);
  int64_t bandwidth_bps = 100'000'000;  // 0 = infinite
  double loss = 0.0;
  SimTime jitter{0};
  double reorder = 0.0;  // probability a packet takes an extra jitter-sized delay
  std::optional<Burst> burst;
  bool up = true;
};

struct Attachment {
  std::string name;
  std::string content_type = "application/octet-stream";
  std::string content;  // literal content, or
  int64_t size = 0;     // generated deterministic bytes of this size when content is empty
};

struct MessageSpec {
  std::string from;
  std::vector<std::string> to, cc, bcc;
  std::string subject;
  std::string body;  // lines separated by "\n"
  std::vector<Attachment> attachments;
  std::map<std::string, std::string> headers;  // extra headers
  SimTime at{0};
  std::string via;  // user-agent host that sends it ("" = the one whose user is `from`)
  // Commands the user agent sends after EHLO (and STARTTLS, AUTH), before
  // MAIL FROM, one at a time: "VRFY alice", "EXPN staff", "HELP", "NOOP"
  // (smtp::ClientConfig::probes). Checked by the loader.
  std::vector<std::string> probe;
};

// A timed fault. `type` is one of kFaultTypes (faults.hpp lists each type's
// parameters); parameters that a type does not use stay empty.
struct Fault {
  std::string type;
  SimTime at{0};
  std::optional<SimTime> until;  // for faults with a duration
  std::string host;
  std::vector<std::string> link;  // two host names
  std::string domain;
  std::string mode;       // dns-failure: nxdomain | servfail | timeout
  std::string verb;       // smtp-reply & co: EHLO MAIL RCPT DATA EOD QUIT ...
  int nth = 1;            // which occurrence of the verb (1-based); 0 = every one
  int code = 0;           // reply code
  std::string text;       // reply text
  std::string recipient;  // only for this recipient
  std::string mailbox;    // mailbox-full
  double loss = 0.0;      // link-loss
  SimTime delay{0};       // smtp-delay
  // Not in the file format: false leaves the fault out of a run while it
  // keeps its index (RunOptions::disabled_faults, the GUI's "what if it had
  // not happened"), so records still name every other fault by its place.
  bool enabled = true;
};

struct Scenario {
  std::string source;  // file name, or "<built-in>"
  std::string name;
  std::string description;
  uint64_t seed = 1;
  SimTime duration = hours(1);
  SimTime default_latency = msec(10);
  int64_t default_bandwidth_bps = 100'000'000;
  double default_loss = 0.0;
  std::vector<Host> hosts;
  std::vector<Link> links;  // explicit links; hosts in none attach to "internet"
  std::vector<MessageSpec> messages;
  std::vector<Fault> faults;

  const Host* find_host(const std::string& name) const {
    for (const Host& h : hosts)
      if (h.name == name) return &h;
    return nullptr;
  }
};

std::string role_name(HostRole r);

}  // namespace smtplab
