// gui/synthetic.cpp: hand-made traces (see synthetic.hpp).
#include "gui/synthetic.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace smtplab::gui {

Scenario synthetic_scenario() {
  Scenario sc;
  sc.name = "synthetic bob-to-alice";
  sc.source = "<synthetic>";
  auto host = [&](const char* name, HostRole role) {
    Host h;
    h.name = name;
    h.role = role;
    sc.hosts.push_back(h);
  };
  host("bob-pc", HostRole::user_agent);
  host("smtp.gmail.test", HostRole::mail_server);
  host("ns.test", HostRole::dns_server);
  host("mx.yahoo.test", HostRole::mail_server);
  host("alice-pc", HostRole::user_agent);
  sc.hosts[0].user = "bob@gmail.test";
  sc.hosts[4].user = "alice@yahoo.test";
  sc.hosts[1].domains = {"gmail.test"};
  sc.hosts[3].domains = {"yahoo.test"};
  return sc;
}

namespace {
struct Builder {
  RunResult run;
  int64_t t = 0;
  uint64_t last = 0;
  uint64_t rec(Kind k, const std::string& src, const std::string& dst, uint64_t session, const std::string& text,
               const std::string& wire = "", std::vector<Attr> attrs = {}) {
    Record r;
    r.kind = k;
    r.t = SimTime{t};
    r.src = src;
    r.dst = dst;
    r.session = session;
    r.text = text;
    r.wire = wire;
    r.cause = last;
    r.attrs = std::move(attrs);
    if (k == Kind::smtp_command || k == Kind::pop3_command) r.with("verb", text.substr(0, text.find(' ')));
    if (k == Kind::smtp_reply) r.with("code", text.substr(0, 3));
    last = run.trace.emit(std::move(r));
    return last;
  }
  void exchange(const std::string& c, const std::string& s, uint64_t session, const std::string& cmd, const std::string& reply) {
    t += 1000;
    rec(Kind::smtp_command, c, s, session, cmd, cmd + "\r\n");
    t += 1000;
    rec(Kind::smtp_reply, s, c, session, reply, reply + "\r\n");
  }
};
}  // namespace

RunResult synthetic_bob_to_alice() {
  Builder b;
  b.rec(Kind::run_start, "", "", 0, "synthetic run");
  b.t = 1'000'000;
  b.rec(Kind::message_composed, "bob-pc", "", 0, "bob@gmail.test writes \"Lunch on Friday?\" to alice@yahoo.test");
  b.rec(Kind::smtp_reply, "smtp.gmail.test", "bob-pc", 1, "220 smtp.gmail.test ESMTP");
  b.exchange("bob-pc", "smtp.gmail.test", 1, "EHLO bob-pc", "250 smtp.gmail.test");
  b.exchange("bob-pc", "smtp.gmail.test", 1, "MAIL FROM:<bob@gmail.test>", "250 2.1.0 Ok");
  b.exchange("bob-pc", "smtp.gmail.test", 1, "RCPT TO:<alice@yahoo.test>", "250 2.1.5 Ok");
  b.exchange("bob-pc", "smtp.gmail.test", 1, "DATA", "354 End data with <CR><LF>.<CR><LF>");
  b.t += 1000;
  b.rec(Kind::smtp_data, "bob-pc", "smtp.gmail.test", 1, "message content (58 bytes)",
        "Subject: Lunch on Friday?\r\n\r\nHi Alice,\r\n..see you\r\n.\r\n");
  b.t += 1000;
  b.rec(Kind::smtp_reply, "smtp.gmail.test", "bob-pc", 1, "250 2.0.0 Ok: queued as 4F2A1");
  b.rec(Kind::message_queued, "smtp.gmail.test", "", 0, "4F2A1 queued for alice@yahoo.test");
  b.exchange("bob-pc", "smtp.gmail.test", 1, "QUIT", "221 2.0.0 Bye");
  b.t += 1000;
  b.rec(Kind::dns_query, "smtp.gmail.test", "ns.test", 0, "yahoo.test MX?");
  b.t += 1000;
  b.rec(Kind::dns_answer, "ns.test", "smtp.gmail.test", 0, "yahoo.test MX 10 mx.yahoo.test");
  b.t += 1000;
  b.rec(Kind::smtp_reply, "mx.yahoo.test", "smtp.gmail.test", 2, "220 mx.yahoo.test ESMTP");
  b.exchange("smtp.gmail.test", "mx.yahoo.test", 2, "EHLO smtp.gmail.test", "250 mx.yahoo.test");
  b.exchange("smtp.gmail.test", "mx.yahoo.test", 2, "MAIL FROM:<bob@gmail.test>", "250 2.1.0 Ok");
  b.exchange("smtp.gmail.test", "mx.yahoo.test", 2, "RCPT TO:<alice@yahoo.test>", "250 2.1.5 Ok");
  b.exchange("smtp.gmail.test", "mx.yahoo.test", 2, "DATA", "354 Go ahead");
  b.t += 1000;
  b.rec(Kind::smtp_data, "smtp.gmail.test", "mx.yahoo.test", 2, "message content (58 bytes)",
        "Subject: Lunch on Friday?\r\n\r\nHi Alice,\r\n..see you\r\n.\r\n");
  b.t += 1000;
  b.rec(Kind::smtp_reply, "mx.yahoo.test", "smtp.gmail.test", 2, "250 2.0.0 Ok: queued as 77B2");
  b.rec(Kind::message_delivered, "mx.yahoo.test", "", 0, "77B2 delivered to alice", "", {Attr{"mailbox", "alice"}});
  b.exchange("smtp.gmail.test", "mx.yahoo.test", 2, "QUIT", "221 2.0.0 Bye");
  // Alice checks her mail half an hour later.
  b.t += 30LL * 60 * 1'000'000;
  b.rec(Kind::pop3_command, "alice-pc", "mx.yahoo.test", 3, "USER alice");
  b.t += 1000;
  b.rec(Kind::pop3_reply, "mx.yahoo.test", "alice-pc", 3, "+OK");
  b.t += 1000;
  b.rec(Kind::run_end, "", "", 0, "run ends");
  b.run.end = SimTime{b.t};
  return std::move(b.run);
}

RunResult synthetic_large(size_t n, SimTime span) {
  Builder b;
  const int64_t dt = n > 1 ? std::max<int64_t>(1, span.us / static_cast<int64_t>(n)) : 1;
  const char* hosts[] = {"bob-pc", "smtp.gmail.test", "ns.test", "mx.yahoo.test", "alice-pc"};
  static const char* const kCmds[] = {"EHLO bob-pc", "MAIL FROM:<b@g>", "RCPT TO:<a@y>", "DATA", "QUIT"};
  size_t i = 0;
  uint64_t session = 1;
  while (i < n) {
    for (size_t k = 0; k < 5 && i < n; ++k) {
      b.rec(Kind::smtp_command, hosts[0], hosts[1], session, kCmds[k]);
      b.t += dt;
      if (++i >= n) break;
      b.rec(Kind::smtp_reply, hosts[1], hosts[0], session, k == 3 ? "354 Go ahead" : "250 Ok");
      b.t += dt;
      ++i;
    }
    if (i < n) {
      b.rec(Kind::dns_query, hosts[1], hosts[2], 0, "yahoo.test MX?");
      b.t += dt;
      ++i;
    }
    if (i < n) {
      // One message per session, as a real queue names it (fates, the
      // Queues tab): a queue id, the Message-ID, the envelope.
      char id[32];
      std::snprintf(id, sizeof id, "Q%07llu", static_cast<unsigned long long>(session));
      b.rec(Kind::message_queued, hosts[3], "", 0, std::string(id) + ": queued",
            "", {Attr{"msgid", id}, Attr{"message-id", "<" + std::string(id) + "@synthetic>"}, Attr{"sender", "b@g"},
                 Attr{"rcpt", "a@y"}});
      b.t += dt;
      ++i;
    }
    b.last = 0;  // the next session is a chain of its own
    ++session;
  }
  b.run.end = SimTime{b.t};
  return std::move(b.run);
}

}  // namespace smtplab::gui
