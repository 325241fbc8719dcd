// tests/test_smtp_client.cpp: the client machine wired to the server machine
// directly (no engine, no network), with and without pipelining, plus the
// parsers fed one byte at a time and split at every offset.
#include <catch2/catch.hpp>
#include <utility>

#include "sim/smtp/command.hpp"
#include "sim/smtp/names.hpp"
#include "sim/smtp/scan.hpp"
#include "tests/test_smtp_harness.hpp"

using namespace smtptest;

namespace {

struct Pair {
  ServerConfig scfg;
  BasicPolicy policy = test_policy();
  std::vector<Record> records;
  std::string client_wire, server_wire;  // everything each side sent
  size_t round_trips = 0;
};

// Runs client and server against each other until the client is done.
// `chunk` > 0 delivers bytes in pieces of that size. `borrow`: the client
// reads `txns` where they are instead of keeping its own copies.
std::vector<TransactionResult> run_pair(Pair& p, ClientConfig ccfg, std::vector<Transaction> txns, size_t chunk = 0,
                                        bool borrow = false) {
  ServerSession s(p.scfg, p.policy, {"mx.yahoo.test", "smtp.gmail.test", "", 7, false});
  std::optional<ClientSession> session;
  if (borrow)
    session.emplace(std::move(ccfg), SessionInfo{"smtp.gmail.test", "mx.yahoo.test", "", 7, false},
                    std::span<const Transaction>(txns));
  else
    session.emplace(std::move(ccfg), SessionInfo{"smtp.gmail.test", "mx.yahoo.test", "", 7, false}, std::move(txns));
  ClientSession& c = *session;
  SimTime now{0};
  c.start(now);
  s.start(now);
  auto deliver = [&](auto& to, const std::string& bytes) {
    if (chunk == 0) {
      to.receive(now, bytes);
    } else {
      for (size_t i = 0; i < bytes.size(); i += chunk) to.receive(now, std::string_view(bytes).substr(i, chunk));
    }
  };
  for (int guard = 0; guard < 1000 && !c.done(); ++guard) {
    now += msec(1);
    std::string sb = s.output().bytes;
    for (auto& r : s.output().records) p.records.push_back(r);
    bool s_closed = s.output().closed;
    s.output().clear();
    std::string cb = c.output().bytes;
    for (auto& r : c.output().records) p.records.push_back(r);
    bool c_closed = c.output().closed;
    c.output().clear();
    p.server_wire += sb;
    p.client_wire += cb;
    if (sb.empty() && cb.empty()) {
      if (s_closed || s.closed()) {
        c.connection_lost(now, "server closed");
        break;
      }
      if (c_closed) break;
      // Nothing moves: fire the earliest timer.
      SimTime t = std::min(s.deadline(), c.deadline());
      if (t == SimTime::max()) break;
      now = t;
      if (s.deadline() <= now) s.on_timer(now);
      if (c.deadline() <= now) c.on_timer(now);
      continue;
    }
    ++p.round_trips;
    if (!sb.empty()) deliver(c, sb);
    if (!cb.empty()) deliver(s, cb);
    if (s_closed && !c.done()) c.connection_lost(now, "server closed");
  }
  return c.results();
}

// The server fault "452 to RCPT for this recipient" (every time).
ServerFault rcpt_452(const char* recipient) {
  ServerFault f;
  f.kind = ServerFault::Kind::reply;
  f.verb = FaultVerb::rcpt;
  f.nth = 0;
  f.code = 452;
  f.recipient = recipient;
  return f;
}

// The server fault "`code` to every `verb`".
ServerFault reply_fault(FaultVerb verb, int code) {
  ServerFault f;
  f.kind = ServerFault::Kind::reply;
  f.verb = verb;
  f.code = code;
  return f;
}

// The server accepts every local recipient and runs `faults`.
void catch_all(Pair& p, ServerFaults& faults) {
  p.scfg = test_config();
  p.policy.catch_all = true;
  p.scfg.faults = &faults;
}

Transaction txn(std::vector<std::string> rcpts, std::string body = "Subject: test\n\nHello.\n") {
  Transaction t;
  t.envelope.reverse_path = "bob@gmail.test";
  for (auto& r : rcpts) t.envelope.recipients.push_back(Recipient{r, kNotifyUnset, ""});
  t.content = std::move(body);
  return t;
}

}  // namespace

TEST_CASE("client and server: one transaction, with and without pipelining", "[smtp][client]") {
  size_t trips[2] = {0, 0};
  for (bool pipe : {true, false}) {
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}}) {
      INFO("pipelining " << pipe << " chunk " << chunk);
      Pair p;
      p.scfg = test_config();
      ClientConfig cc;
      cc.helo_name = "smtp.gmail.test";
      cc.use_pipelining = pipe;
      auto res = run_pair(p, cc, {txn({"alice@yahoo.test"})}, chunk);
      REQUIRE(res.size() == 1);
      CHECK(res[0].accepted);
      CHECK(res[0].recipients[0].status == RcptStatus::delivered);
      REQUIRE(p.policy.stored.size() == 1);
      CHECK(p.policy.stored[0].content == "Subject: test\r\n\r\nHello.\r\n");
      CHECK(p.client_wire.find("STARTTLS") != std::string::npos);
      // Pipelining groups MAIL, RCPT and DATA in one flush: fewer round trips.
      if (chunk == 0) trips[pipe] = p.round_trips;
    }
  }
  // Pipelining groups MAIL, RCPT and DATA in one flush: fewer exchanges.
  INFO("round trips: pipelined " << trips[1] << ", not " << trips[0]);
  CHECK(trips[1] < trips[0]);
}

// The client keeps the RCPT verdicts of the first 64 recipients in one word
// and the rest on the heap, and a pipelined group of more than one recipient
// spills its pending replies to the heap: both past their inline sizes here.
// Results are made when first needed; results() shows them all the same,
// from the start, every recipient pending until decided.
TEST_CASE("borrowed transactions: the same dialogue as owned copies, and a 7-bit conversion leaves them alone",
          "[smtp][client]") {
  const std::vector<Transaction> msgs{txn({"alice@yahoo.test", "carol@yahoo.test"}),
                                      txn({"carol@yahoo.test"}, "Subject: two\n\n.leading dot\n")};
  Pair owned, borrowed;
  owned.scfg = borrowed.scfg = test_config();
  ClientConfig cc;
  cc.helo_name = "smtp.gmail.test";
  const auto a = run_pair(owned, cc, msgs);
  const auto b = run_pair(borrowed, cc, msgs, 0, true);
  CHECK(borrowed.client_wire == owned.client_wire);
  CHECK(borrowed.server_wire == owned.server_wire);
  REQUIRE(b.size() == 2);
  REQUIRE(a.size() == 2);
  for (size_t t = 0; t < 2; ++t) {
    CHECK(b[t].accepted == a[t].accepted);
    CHECK(b[t].recipients.size() == msgs[t].envelope.recipients.size());
  }
  REQUIRE(borrowed.policy.stored.size() == 2);
  CHECK(borrowed.policy.stored[1].content == "Subject: two\r\n\r\n.leading dot\r\n");

  // A server without 8BITMIME: the session converts its own copy; the
  // caller's message (as in a queue, to be retried elsewhere) is unchanged.
  const std::string body = "MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n";
  const std::string seven = "MIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nd=C3=A9j=C3=A0 vu\r\n";
  std::vector<Transaction> queue{txn({"alice@yahoo.test"}, body), txn({"carol@yahoo.test"})};
  Pair p;
  p.scfg = test_config();
  p.scfg.eightbitmime = false;
  ClientConfig dc;
  dc.downgrade_8bit = [&](std::string_view, std::string&) -> std::optional<std::string> { return seven; };
  const auto res = run_pair(p, dc, queue, 0, true);
  REQUIRE(res.size() == 2);
  CHECK(res[0].accepted);
  CHECK(res[1].accepted);
  REQUIRE(p.policy.stored.size() == 2);
  CHECK(p.policy.stored[0].content == seven);
  CHECK(p.policy.stored[1].content == "Subject: test\r\n\r\nHello.\r\n");  // the conversion was the first message's only
  CHECK(queue[0].content == body);
}

TEST_CASE("a machine's Output is pooled: held while a step's output waits, handed back by clear()",
          "[smtp][client]") {
  OutputSlot a, b;
  CHECK_FALSE(a.attached());
  CHECK(std::as_const(a)->empty());  // reading an idle slot takes nothing from the pool
  CHECK_FALSE(a.attached());
  a->bytes = "220 ready\r\n";
  a->closed = true;
  REQUIRE(a.attached());
  Output* first = &*a;
  // Another machine writing at the same time gets an Output of its own.
  b->bytes = "EHLO c\r\n";
  CHECK(&*b != first);
  CHECK(a->bytes == "220 ready\r\n");
  // A copy carries the contents, not the attachment.
  Output copy = *a;
  CHECK(copy.bytes == "220 ready\r\n");
  copy.clear();
  CHECK(a.attached());
  a->clear();
  CHECK_FALSE(a.attached());
  // The next step of any machine reuses the pooled Output, empty, not closed.
  OutputSlot c;
  CHECK(&*c == first);
  CHECK(c->empty());
  CHECK_FALSE(c->closed);
  // Moving a slot moves the attachment: clear() detaches the new owner.
  OutputSlot d(std::move(c));
  CHECK_FALSE(c.attached());
  REQUIRE(d.attached());
  d->clear();
  CHECK_FALSE(d.attached());
  b->clear();
  // Many outputs waiting at once are not all kept once handed back.
  {
    std::vector<OutputSlot> many(50);
    for (OutputSlot& m : many) m->bytes = "x";
    for (OutputSlot& m : many) m->clear();
  }
  CHECK(detail::output_pool().idle.size() <= detail::OutputPool::kMaxIdle);
}

TEST_CASE("an idle session holds no Output between steps", "[smtp][client]") {
  Pair p;
  ServerSession s(p.scfg, p.policy, {"mx.yahoo.test", "smtp.gmail.test", "", 7, false});
  ClientConfig ccfg;
  ccfg.helo_name = "smtp.gmail.test";
  ccfg.use_starttls = false;
  ccfg.use_auth = false;
  ClientSession c(ccfg, {"smtp.gmail.test", "mx.yahoo.test", "", 7, false}, std::vector<Transaction>{});
  s.start(SimTime{0});
  Output& greeting = s.output();
  CHECK(greeting.bytes.rfind("220 ", 0) == 0);
  c.start(SimTime{0});
  c.receive(SimTime{1}, greeting.bytes);
  greeting.clear();
  // Each machine's waiting output is its own; once cleared, the server's
  // is empty until it writes again.
  Output& ehlo = c.output();
  CHECK(ehlo.bytes.rfind("EHLO smtp.gmail.test", 0) == 0);
  CHECK(s.output().empty());
  s.output().clear();
  ehlo.clear();
  CHECK(c.output().empty());
  c.output().clear();
}

TEST_CASE("results() lists every transaction before any outcome", "[smtp][client]") {
  ClientSession c(ClientConfig{}, {"smtp.gmail.test", "mx.yahoo.test", "", 7, false},
                  {txn({"alice@yahoo.test", "carol@yahoo.test"}), txn({"alice@yahoo.test"})});
  c.start(SimTime{0});
  const std::vector<TransactionResult>& res = c.results();
  REQUIRE(res.size() == 2);
  REQUIRE(res[0].recipients.size() == 2);
  CHECK(res[0].recipients[1].address == "carol@yahoo.test");
  CHECK(res[0].recipients[1].status == RcptStatus::pending);
  CHECK_FALSE(res[1].done);
  c.connection_lost(SimTime{1}, "gone");
  CHECK(&c.results() == &res);
  CHECK(res[1].recipients[0].status == RcptStatus::transient);
  CHECK(res[1].recipients[0].stage == "LOST");
}

TEST_CASE("a transaction every recipient of which was accepted keeps only its end-of-data reply until asked",
          "[smtp][client]") {
  // Three transactions: all accepted; one recipient refused at RCPT (its
  // result is made at once, which first makes the kept one before it); all
  // accepted again, the last one kept until results() at the end.
  for (bool pipe : {true, false}) {
    INFO("pipelining " << pipe);
    Pair p;
    ServerFaults faults;
    catch_all(p, faults);
    faults.add(rcpt_452("carol@yahoo.test"));
    ClientConfig cc;
    cc.use_pipelining = pipe;
    auto res = run_pair(p, cc,
                        {txn({"alice@yahoo.test", "dave@yahoo.test"}), txn({"alice@yahoo.test", "carol@yahoo.test"}),
                         txn({"erin@yahoo.test"})});
    REQUIRE(res.size() == 3);
    for (size_t t : {size_t{0}, size_t{2}}) {
      INFO("transaction " << t);
      CHECK(res[t].done);
      CHECK(res[t].accepted);
      CHECK(res[t].final_reply.code == 250);
      for (const RecipientOutcome& o : res[t].recipients) {
        CHECK(o.status == RcptStatus::delivered);
        CHECK(o.stage == "EOD");
        CHECK_FALSE(o.synthetic);
        CHECK(o.reply == res[t].final_reply);
      }
    }
    CHECK(res[0].recipients[1].address == "dave@yahoo.test");
    CHECK(res[1].accepted);
    CHECK(res[1].recipients[0].status == RcptStatus::delivered);
    CHECK(res[1].recipients[0].stage == "EOD");
    CHECK(res[1].recipients[1].status == RcptStatus::transient);
    CHECK(res[1].recipients[1].stage == "RCPT");
    CHECK(res[1].recipients[1].reply.code == 452);
  }
}

TEST_CASE("a kept end-of-data reply becomes the result when the connection is lost before QUIT's reply",
          "[smtp][client]") {
  Pair p;
  p.scfg = test_config();
  p.policy.catch_all = true;
  ServerSession s(p.scfg, p.policy, {"mx.yahoo.test", "smtp.gmail.test", "", 7, false});
  ClientSession c(ClientConfig{}, {"smtp.gmail.test", "mx.yahoo.test", "", 7, false},
                  std::vector<Transaction>{txn({"alice@yahoo.test"})});
  c.start(SimTime{0});
  s.start(SimTime{0});
  bool quit_seen = false;
  for (int guard = 0; guard < 50 && !quit_seen; ++guard) {
    const std::string sb = s.output().bytes, cb = c.output().bytes;
    s.output().clear();
    c.output().clear();
    if (cb.find("QUIT") != std::string::npos) quit_seen = true;  // the server never answers it
    if (!sb.empty()) c.receive(SimTime{guard}, sb);
    if (!cb.empty() && !quit_seen) s.receive(SimTime{guard}, cb);
  }
  REQUIRE(quit_seen);
  c.connection_lost(SimTime{100}, "gone");
  const std::vector<TransactionResult>& res = c.results();
  REQUIRE(res.size() == 1);
  CHECK(res[0].done);
  CHECK(res[0].accepted);
  CHECK(res[0].recipients[0].status == RcptStatus::delivered);
  CHECK(res[0].recipients[0].stage == "EOD");
  c.output().clear();
}

TEST_CASE("many recipients: outcomes past the inline RCPT bits and pending queue", "[smtp][client]") {
  for (bool pipe : {true, false}) {
    Pair p;
    ServerFaults faults;
    catch_all(p, faults);
    faults.add(rcpt_452("r70@yahoo.test"));
    std::vector<std::string> rcpts;
    for (int i = 0; i < 80; ++i) rcpts.push_back("r" + std::to_string(i) + "@yahoo.test");
    rcpts[3] = "someone@elsewhere.test";  // relaying refused: 554
    ClientConfig cc;
    cc.use_pipelining = pipe;
    auto res = run_pair(p, cc, {txn(rcpts)});
    REQUIRE(res.size() == 1);
    INFO("pipelining " << pipe);
    CHECK(res[0].accepted);
    REQUIRE(res[0].recipients.size() == 80);
    for (size_t i = 0; i < 80; ++i) {
      INFO("recipient " << i);
      if (i == 3) {
        CHECK(res[0].recipients[i].status == RcptStatus::permanent);
        CHECK(res[0].recipients[i].stage == "RCPT");
      } else if (i == 70) {
        CHECK(res[0].recipients[i].status == RcptStatus::transient);
        CHECK(res[0].recipients[i].reply.code == 452);
      } else {
        CHECK(res[0].recipients[i].status == RcptStatus::delivered);
        CHECK(res[0].recipients[i].stage == "EOD");
      }
    }
    REQUIRE(p.policy.stored.size() == 1);
    CHECK(p.policy.stored[0].envelope.recipients.size() == 78);
  }
}

TEST_CASE("partial recipient failure: per-recipient outcomes", "[smtp][client]") {
  for (bool pipe : {true, false}) {
    Pair p;
    p.scfg = test_config();
    ServerFaults faults;
    faults.add(rcpt_452("carol@yahoo.test"));
    p.scfg.faults = &faults;
    ClientConfig cc;
    cc.use_pipelining = pipe;
    auto res = run_pair(p, cc, {txn({"alice@yahoo.test", "nobody@yahoo.test", "carol@yahoo.test"})});
    REQUIRE(res.size() == 1);
    INFO("pipelining " << pipe);
    CHECK(res[0].accepted);
    CHECK(res[0].recipients[0].status == RcptStatus::delivered);
    CHECK(res[0].recipients[1].status == RcptStatus::permanent);
    CHECK(res[0].recipients[1].reply.code == 550);
    CHECK(res[0].recipients[1].stage == "RCPT");
    CHECK(res[0].recipients[2].status == RcptStatus::transient);
    CHECK(res[0].recipients[2].reply.code == 452);
    REQUIRE(p.policy.stored.size() == 1);
    CHECK(p.policy.stored[0].envelope.recipients.size() == 1);
  }
}

TEST_CASE("all recipients refused, then a second transaction on the same connection", "[smtp][client]") {
  for (bool pipe : {true, false}) {
    INFO("pipelining " << pipe);
    Pair p;
    p.scfg = test_config();
    ClientConfig cc;
    cc.use_pipelining = pipe;
    auto res = run_pair(p, cc, {txn({"nobody@yahoo.test"}), txn({"carol@yahoo.test"})});
    REQUIRE(res.size() == 2);
    CHECK_FALSE(res[0].accepted);
    CHECK(res[0].recipients[0].status == RcptStatus::permanent);
    CHECK(res[1].accepted);
    CHECK(res[1].recipients[0].status == RcptStatus::delivered);
    CHECK(p.policy.stored.size() == 1);
  }
}

TEST_CASE("EHLO refused: HELO fallback, no extensions used", "[smtp][client]") {
  Pair p;
  p.scfg = test_config();
  ServerFaults faults;
  faults.add(reply_fault(FaultVerb::ehlo, 502));
  p.scfg.faults = &faults;
  auto res = run_pair(p, ClientConfig{}, {txn({"alice@yahoo.test"})});
  CHECK(res.at(0).accepted);
  CHECK(p.client_wire.find("HELO localhost") != std::string::npos);
  CHECK(p.client_wire.find("SIZE=") == std::string::npos);
  CHECK(p.client_wire.find("STARTTLS") == std::string::npos);
}

TEST_CASE("probes: VRFY, EXPN, HELP and NOOP one at a time after EHLO, before MAIL, whatever they are answered",
          "[smtp][client]") {
  for (bool pipe : {true, false}) {
    for (size_t chunk : {size_t{0}, size_t{1}}) {
      INFO("pipelining " << pipe << " chunk " << chunk);
      ClientConfig cc;
      cc.use_pipelining = pipe;
      Pair plain;
      plain.scfg = test_config();
      run_pair(plain, cc, {txn({"alice@yahoo.test"})}, chunk);
      Pair p;
      p.scfg = test_config();
      cc.probes = {"VRFY alice", "expn staff", "HELP", "NOOP"};
      auto res = run_pair(p, cc, {txn({"alice@yahoo.test"})}, chunk);
      REQUIRE(res.size() == 1);
      CHECK(res[0].accepted);  // the 502 to EXPN fails nothing
      // In order, after STARTTLS's second EHLO, before MAIL FROM.
      const std::string& w = p.client_wire;
      const size_t tls = w.find("STARTTLS\r\n"), vrfy = w.find("VRFY alice\r\n"), expn = w.find("expn staff\r\n"),
                   help = w.find("HELP\r\n"), noop = w.find("NOOP\r\n"), mail = w.find("MAIL FROM:");
      REQUIRE(mail != std::string::npos);
      CHECK(tls < vrfy);
      CHECK(w.find("EHLO", tls) < vrfy);
      CHECK(vrfy < expn);
      CHECK(expn < help);
      CHECK(help < noop);
      CHECK(noop < mail);
      // What the server said to each (RFC 5321 7.3: VRFY 252; EXPN off: 502).
      CHECK(p.server_wire.find("252 2.1.5") != std::string::npos);
      CHECK(p.server_wire.find("502 5.5.1") != std::string::npos);
      CHECK(p.server_wire.find("214") != std::string::npos);
      // One at a time: each probe costs an exchange of its own (the harness
      // counts the command's flush and the reply's: two steps each).
      if (chunk == 0) CHECK(p.round_trips == plain.round_trips + 2 * 4);
      // On the trace with their verbs, as commands.
      size_t probes = 0;
      for (const Record& r : p.records)
        if (r.kind == Kind::smtp_command && r.src == "smtp.gmail.test") {
          const std::string_view v = r.attr("verb");
          probes += v == "VRFY" || v == "EXPN" || v == "HELP" || v == "NOOP";
        }
      CHECK(probes == 4);
    }
  }
  CHECK(client_state_info(ClientState::probe).timeout == minutes(5));
  CHECK(client_state_name(ClientState::probe) == "probe");
}

TEST_CASE("a 421 to a probe ends the session: the message stays queued (transient)", "[smtp][client]") {
  Pair p;
  p.scfg = test_config();
  ServerFaults faults;
  faults.add(reply_fault(FaultVerb::vrfy, 421));
  p.scfg.faults = &faults;
  ClientConfig cc;
  cc.probes = {"VRFY alice", "HELP"};
  auto res = run_pair(p, cc, {txn({"alice@yahoo.test"})});
  REQUIRE(res.size() == 1);
  CHECK_FALSE(res[0].accepted);
  CHECK(res[0].recipients[0].status == RcptStatus::transient);
  CHECK(res[0].recipients[0].stage == "PROBE");
  CHECK(p.client_wire.find("HELP") == std::string::npos);
  CHECK(p.client_wire.find("MAIL FROM") == std::string::npos);
  CHECK(p.policy.stored.empty());
}

TEST_CASE("transient and permanent classification: MAIL, DATA, EOD, timeout, lost", "[smtp][client]") {
  struct C {
    FaultVerb verb;
    ServerFault::Kind kind;
    int code;
    RcptStatus want;
    std::string stage;
  };
  std::vector<C> cases = {
      {FaultVerb::mail, ServerFault::Kind::reply, 451, RcptStatus::transient, "MAIL"},
      {FaultVerb::mail, ServerFault::Kind::reply, 553, RcptStatus::permanent, "MAIL"},
      {FaultVerb::data, ServerFault::Kind::reply, 452, RcptStatus::transient, "DATA"},
      {FaultVerb::eod, ServerFault::Kind::reply, 554, RcptStatus::permanent, "EOD"},
      {FaultVerb::eod, ServerFault::Kind::reply, 451, RcptStatus::transient, "EOD"},
      {FaultVerb::rcpt, ServerFault::Kind::disconnect, 0, RcptStatus::transient, "LOST"},
      {FaultVerb::eod, ServerFault::Kind::drop_final_reply, 0, RcptStatus::transient, "LOST"},
      {FaultVerb::mail, ServerFault::Kind::shutdown, 0, RcptStatus::transient, "MAIL"},
      {FaultVerb::eod, ServerFault::Kind::delay, 0, RcptStatus::transient, "TIMEOUT"},
      {FaultVerb::connect, ServerFault::Kind::reply, 554, RcptStatus::permanent, "CONNECT"},
  };
  for (bool pipe : {true, false}) {
    for (const C& k : cases) {
      Pair p;
      p.scfg = test_config();
      ServerFaults faults;
      ServerFault f;
      f.kind = k.kind;
      f.verb = k.verb;
      f.code = k.code;
      f.delay = minutes(11);  // beyond the 10-minute DATA termination timeout
      faults.add(f);
      p.scfg.faults = &faults;
      ClientConfig cc;
      cc.use_pipelining = pipe;
      auto res = run_pair(p, cc, {txn({"alice@yahoo.test"})});
      INFO("pipelining " << pipe << " verb " << fault_verb_name(k.verb) << " kind " << static_cast<int>(k.kind)
                         << " code " << k.code << ": got " << rcpt_status_name(res.at(0).recipients[0].status) << " at "
                         << res[0].recipients[0].stage << ", want " << rcpt_status_name(k.want) << " at " << k.stage);
      CHECK(res.at(0).recipients[0].status == k.want);
      CHECK(res.at(0).recipients[0].stage == k.stage);
      CHECK_FALSE(res[0].accepted);
    }
  }
}

TEST_CASE("dot-stuffing, and the no-dot-stuffing fault truncates at a lone dot", "[smtp][client]") {
  std::string body = "Subject: dots\n\n.hidden\n.\nafter the dot\n";
  {
    Pair p;
    p.scfg = test_config();
    auto res = run_pair(p, ClientConfig{}, {txn({"alice@yahoo.test"}, body)});
    CHECK(res.at(0).accepted);
    REQUIRE(p.policy.stored.size() == 1);
    CHECK(p.policy.stored[0].content == "Subject: dots\r\n\r\n.hidden\r\n.\r\nafter the dot\r\n");
  }
  {
    Pair p;
    p.scfg = test_config();
    ClientConfig cc;
    cc.dot_stuffing = false;
    auto res = run_pair(p, cc, {txn({"alice@yahoo.test"}, body)});
    REQUIRE(p.policy.stored.size() == 1);
    // The server saw the end of data at the lone "."; the rest became commands (500s).
    CHECK(p.policy.stored[0].content == "Subject: dots\r\n\r\nhidden\r\n");
    CHECK(p.server_wire.find("500 5.5.2") != std::string::npos);
  }
}

TEST_CASE("the bare-lf fault: data lines end in LF alone, and the server refuses them with 554 5.6.0", "[smtp][client]") {
  // The wire form: every line end becomes LF, dots are still stuffed, only
  // the final CRLF "." CRLF keeps its CRs.
  std::string w;
  append_bare_lf(w, "Subject: x\r\n\r\nline\n.\nlast", true);
  CHECK(w == "Subject: x\n\nline\n..\nlast\r\n.\r\n");
  w.clear();
  append_bare_lf(w, "a\r\n.\r\nMAIL FROM:<ceo@yahoo.test>\r\n", false);
  CHECK(w == "a\n.\nMAIL FROM:<ceo@yahoo.test>\r\n.\r\n");
  w = "DATA\r\n";  // bytes already queued stay as they are
  append_bare_lf(w, "", true);
  CHECK(w == "DATA\r\n.\r\n");
  // The smuggling attempt against the conforming server: LF . LF does not end
  // the data, the whole message is refused at the real end, nothing is stored.
  std::string body = "Subject: lunch\n\nsee you\n.\nMAIL FROM:<ceo@yahoo.test>\nRCPT TO:<alice@yahoo.test>\nDATA\n"
                     "Subject: invoice\n\npay now\n.\nBob\n";
  Pair p;
  p.scfg = test_config();
  ClientConfig cc;
  cc.bare_lf = true;
  cc.dot_stuffing = false;
  auto res = run_pair(p, cc, {txn({"alice@yahoo.test"}, body)});
  CHECK_FALSE(res.at(0).accepted);
  CHECK(res.at(0).final_reply.code == 554);
  CHECK(res.at(0).final_reply.enhanced == "5.6.0");
  CHECK(p.policy.stored.empty());
  CHECK(p.client_wire.find("see you\n.\nMAIL FROM:<ceo@yahoo.test>\n") != std::string::npos);
}

TEST_CASE("8-bit content: BODY=8BITMIME when offered, refused locally otherwise", "[smtp][client]") {
  std::string body = "Subject: caf\xc3\xa9\n\nd\xc3\xa9j\xc3\xa0 vu\n";
  {
    Pair p;
    p.scfg = test_config();
    auto res = run_pair(p, ClientConfig{}, {txn({"alice@yahoo.test"}, body)});
    CHECK(res.at(0).accepted);
    CHECK(p.client_wire.find("BODY=8BITMIME") != std::string::npos);
    CHECK(p.policy.stored.at(0).envelope.body == BodyType::eight_bit_mime);
  }
  {
    Pair p;
    p.scfg = test_config();
    p.scfg.eightbitmime = false;
    auto res = run_pair(p, ClientConfig{}, {txn({"alice@yahoo.test"}, body)});
    CHECK_FALSE(res.at(0).accepted);
    CHECK(res[0].recipients[0].status == RcptStatus::permanent);
    CHECK(res[0].recipients[0].synthetic);
    CHECK(p.policy.stored.empty());
    CHECK(p.client_wire.find("DATA") == std::string::npos);
  }
}

TEST_CASE("AUTH PLAIN and LOGIN after STARTTLS on a submission server", "[smtp][client]") {
  for (bool login : {false, true}) {
    Pair p;
    p.scfg = test_config();
    p.scfg.require_auth = true;
    ClientConfig cc;
    cc.auth_user = "alice";
    cc.auth_password = "secret";
    cc.prefer_login = login;
    auto res = run_pair(p, cc, {txn({"carol@yahoo.test"})});
    INFO("login " << login);
    CHECK(res.at(0).accepted);
    // Wrong password: 535, permanent.
    Pair q;
    q.scfg = test_config();
    q.scfg.require_auth = true;
    cc.auth_password = "wrong";
    auto bad = run_pair(q, cc, {txn({"carol@yahoo.test"})});
    CHECK(bad.at(0).recipients[0].status == RcptStatus::permanent);
    CHECK(bad[0].recipients[0].reply.code == 535);
  }
}

TEST_CASE("DSN parameters travel from client to server", "[smtp][client]") {
  Pair p;
  p.scfg = test_config();
  Transaction t = txn({"alice@yahoo.test"});
  t.envelope.ret = DsnRet::hdrs;
  t.envelope.envid = "id+1 x";
  t.envelope.recipients[0].notify = kNotifySuccess | kNotifyFailure;
  t.envelope.recipients[0].orcpt = "rfc822;alice@yahoo.test";
  auto res = run_pair(p, ClientConfig{}, {t});
  REQUIRE(res.at(0).accepted);
  const Envelope& e = p.policy.stored.at(0).envelope;
  CHECK(e.ret == DsnRet::hdrs);
  CHECK(e.envid == "id+1 x");
  CHECK(e.recipients[0].notify == (kNotifySuccess | kNotifyFailure));
  CHECK(e.recipients[0].orcpt == "rfc822;alice@yahoo.test");
}

TEST_CASE("SIZE: the client does not send what the server cannot take", "[smtp][client]") {
  Pair p;
  p.scfg = test_config();
  p.scfg.max_message_size = 10;
  auto res = run_pair(p, ClientConfig{}, {txn({"alice@yahoo.test"})});
  CHECK(res.at(0).recipients[0].status == RcptStatus::permanent);
  CHECK(res[0].recipients[0].reply.code == 552);
  CHECK(p.client_wire.find("MAIL") == std::string::npos);
}

TEST_CASE("client timeouts come from the table of RFC 5321 4.5.3.2", "[smtp][client]") {
  CHECK(client_state_info(ClientState::greeting).timeout == minutes(5));
  CHECK(client_state_info(ClientState::mail).timeout == minutes(5));
  CHECK(client_state_info(ClientState::rcpt).timeout == minutes(5));
  CHECK(client_state_info(ClientState::data).timeout == minutes(2));
  CHECK(client_state_info(ClientState::body).timeout == minutes(10));
  ClientSession c(ClientConfig{}, {}, {txn({"alice@yahoo.test"})});
  c.start(SimTime{0});
  CHECK(c.deadline() == minutes(5));
  c.on_timer(minutes(5));
  CHECK(c.done());
  CHECK(c.results()[0].recipients[0].status == RcptStatus::transient);
  CHECK(c.results()[0].recipients[0].stage == "TIMEOUT");
}

// ---- parsers, byte by byte and at every split

TEST_CASE("reply parser: multi-line, validation, every split", "[smtp][parser]") {
  std::string wire = "250-mx.yahoo.test Hello\r\n250-PIPELINING\r\n250 SIZE 100\r\n550 5.1.1 No such user\r\n";
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    ReplyParser p;
    std::vector<Reply> got;
    Reply r;
    std::string err;
    p.feed(std::string_view(wire).substr(0, cut));
    while (p.next(r, err) == ReplyParser::Status::reply) got.push_back(r);
    p.feed(std::string_view(wire).substr(cut));
    while (p.next(r, err) == ReplyParser::Status::reply) got.push_back(r);
    INFO("cut " << cut);
    REQUIRE(got.size() == 2);
    CHECK(got[0].code == 250);
    CHECK(got[0].lines.size() == 3);
    CHECK(got[1].enhanced == "5.1.1");
    CHECK(got[1].lines[0] == "No such user");
  }
  // Borrowed input: each piece lives only until the parser asks for more, so
  // the partial reply it keeps must be its own copy.
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    ReplyParser p;
    std::vector<Reply> got;
    Reply r;
    std::string err;
    for (std::string piece : {wire.substr(0, cut), wire.substr(cut)}) {
      p.feed_borrowed(piece);
      while (p.next(r, err) == ReplyParser::Status::reply) got.push_back(r);
      piece.assign(piece.size(), 'X');  // the caller reuses its buffer
    }
    INFO("borrowed, cut " << cut);
    REQUIRE(got.size() == 2);
    CHECK(got[0].lines.size() == 3);
    CHECK(got[0].lines[2] == "SIZE 100");
    CHECK(got[1].lines[0] == "No such user");
    CHECK(p.buffered() == 0);
  }
  ReplyParser b;
  std::vector<Reply> got;
  for (char c : wire) {
    b.feed(std::string_view(&c, 1));
    Reply r;
    std::string err;
    while (b.next(r, err) == ReplyParser::Status::reply) got.push_back(r);
  }
  CHECK(got.size() == 2);

  struct Bad {
    std::string wire;
    std::string why;
  };
  for (const Bad& bad : std::vector<Bad>{{"25 x\r\n", "three-digit"},
                                         {"250-a\r\n251 b\r\n", "changes code"},
                                         {"250*x\r\n", "separator"},
                                         {"650 x\r\n", "outside"},
                                         {"abc\r\n", "three-digit"},
                                         {std::string(3000, '2'), "longer"}}) {
    std::string err;
    auto r = parse_reply(bad.wire, &err);
    INFO(bad.wire.substr(0, 20) << " -> " << err << ", want " << bad.why);
    CHECK_FALSE(r);
    CHECK(err.find(bad.why) != std::string::npos);
  }
  // Round trip.
  Reply r{421, "4.3.2", std::vector<std::string>{"line one", "line\r\ntwo"}};
  auto back = parse_reply(format_reply(r));
  REQUIRE(back);
  CHECK(back->code == 421);
  CHECK(back->enhanced == "4.3.2");
  CHECK(back->lines[1] == "line  two");  // CR LF never smuggled into a reply
  CHECK(format_reply(Reply{354, "", "go"}) == "354 go\r\n");
}

TEST_CASE("path parser: table of valid and invalid paths", "[smtp][parser]") {
  struct P {
    std::string text;
    bool ok;
    std::string mailbox;
  };
  std::vector<P> cases = {
      {"<a@b.test>", true, "a@b.test"},
      {"<>", true, ""},
      {"<@r.test:a@b.test>", true, "a@b.test"},
      {"<@r.test,@s.test:a@b.test>", true, "a@b.test"},
      {"<\"a b\"@b.test>", true, "\"a b\"@b.test"},
      {"<a.b-c+d@x-y.test>", true, "a.b-c+d@x-y.test"},
      {"<a@[10.0.0.1]>", true, "a@[10.0.0.1]"},
      {"<a@[IPv6:::1]>", true, "a@[IPv6:::1]"},
      {"a@b.test", false, ""},
      {"<a@b.test", false, ""},
      {"<a>", false, ""},
      {"<.a@b.test>", false, ""},
      {"<a.@b.test>", false, ""},
      {"<a@b_.test>", false, ""},
      {"<a@b.test.>", false, ""},
      {"<@r.test a@b.test>", false, ""},
      {"<@:a@b.test>", false, ""},
      {"<" + std::string(65, 'x') + "@b.test>", false, ""},
      {"<a@" + std::string(64, 'x') + ".test>", false, ""},
      {std::string("<a\0b@c.test>", 12), false, ""},
      {"<a\tb@c.test>", false, ""},
      {"<caf\xc3\xa9@b.test>", false, ""},
  };
  for (const P& c : cases) {
    SyntaxError e;
    auto p = parse_path(c.text, true, &e);
    INFO(c.text << ": got " << (p ? "ok" : "error: " + e.message) << ", want " << (c.ok ? "ok" : "error"));
    CHECK(p.has_value() == c.ok);
    if (p && c.ok) CHECK(p->mailbox == c.mailbox);
    if (!p) CHECK(e.code == 501);
  }
}

TEST_CASE("base64 and xtext", "[smtp][parser]") {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0alice\0secret", 13)}) {
    auto d = base64_decode(base64_encode(s));
    REQUIRE(d);
    CHECK(*d == s);
  }
  CHECK_FALSE(base64_decode("abc"));
  CHECK_FALSE(base64_decode("a==="));
  CHECK_FALSE(base64_decode("ab=c"));
  CHECK(decode_xtext("a+2Bb").value() == "a+b");
  CHECK_FALSE(decode_xtext("a+2"));
  CHECK_FALSE(decode_xtext("a+zz"));
  CHECK(decode_xtext(encode_xtext("x=y+z w")).value() == "x=y+z w");
}

TEST_CASE("server session split at every offset gives the same replies", "[smtp][server][split]") {
  std::string script =
      "EHLO x.test\r\nMAIL FROM:<a@b.test> SIZE=40\r\nRCPT TO:<alice@yahoo.test>\r\nRCPT TO:<nobody@yahoo.test>\r\n"
      "DATA\r\nSubject: x\r\n\r\n..dot\r\nbare\nlf\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<carol@yahoo.test>\r\nDATA\r\n"
      "hello\r\n.\r\nFOO\r\nVRFY x\r\nQUIT\r\n";
  auto run = [&](size_t a, size_t b) {
    ServerDialogue d;
    std::string out = d.start();
    out += d.send_raw(std::string_view(script).substr(0, a));
    out += d.send_raw(std::string_view(script).substr(a, b - a));
    out += d.send_raw(std::string_view(script).substr(b));
    return std::make_pair(out, d.policy.stored.size());
  };
  auto [whole, n] = run(script.size(), script.size());
  CHECK(n == 1);  // the bare-LF message is refused, the second accepted
  auto rs = parse_all(whole);
  REQUIRE(rs.size() == 14);
  CHECK(rs[6].code == 554);
  for (size_t a = 0; a <= script.size(); ++a) {
    auto [out, m] = run(a, script.size());
    INFO("split at " << a);
    REQUIRE(out == whole);
  }
  for (size_t a = 0; a + 40 <= script.size(); a += 13) {
    auto [out, m] = run(a, a + 40);
    REQUIRE(out == whole);
  }
  ServerDialogue d;
  std::string out = d.start();
  out += d.send_bytewise(script);
  CHECK(out == whole);
}

namespace {

std::string testing_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '\r') out += "\\r";
    else if (ch == '\n') out += "\\n";
    else if (static_cast<unsigned char>(ch) >= 128) out += "\\x..";
    else out.push_back(ch);
  }
  return out;
}

// The byte-at-a-time forms the fast scanners replaced (scan.hpp), kept here
// as the reference: same bytes out, for every input.
std::string reference_dot_stuffed(std::string_view content, bool stuff) {
  std::string out;
  bool line_start = true;
  size_t i = 0;
  const size_t n = content.size();
  while (i < n) {
    if (line_start && stuff && content[i] == '.') out.push_back('.');
    size_t j = i;
    while (j < n && content[j] != '\n' && content[j] != '\r') ++j;
    out.append(content.data() + i, j - i);
    if (j == n) {
      line_start = false;
      break;
    }
    out += "\r\n";
    j += content[j] == '\r' && j + 1 < n && content[j + 1] == '\n' ? 2 : 1;
    i = j;
    line_start = true;
  }
  if (!line_start) out += "\r\n";
  out += ".\r\n";
  return out;
}

// Inputs that put CR, LF, "." and 8-bit octets at every position around the
// 16-octet blocks of the scanners.
std::vector<std::string> tricky_contents() {
  std::vector<std::string> v{"", ".", "\r", "\n", "\r\n", ".\r\n", "a\rb", "a\nb", "x\r\n.\r\n", "\r\r\n", "\n\r"};
  const char alphabet[] = {'a', 'b', '.', '\r', '\n', '\r', '\n', ' ', static_cast<char>(0xC3)};
  uint32_t seed = 12345;
  for (int k = 0; k < 400; ++k) {
    std::string s;
    size_t len = k % 70;
    for (size_t i = 0; i < len; ++i) {
      seed = seed * 1103515245u + 12345u;
      // Mostly plain text (runs the 16-octet fast path), sometimes a special octet.
      s.push_back((seed >> 16) % 4 == 0 ? alphabet[(seed >> 8) % sizeof alphabet] : static_cast<char>('a' + (seed >> 20) % 26));
    }
    v.push_back(s);
    v.push_back(std::string(32, 'x') + s + std::string(17, 'y'));  // specials past the first blocks
  }
  return v;
}

}  // namespace

TEST_CASE("fast scanners agree with the byte-at-a-time reference", "[smtp][client][scan]") {
  for (const std::string& c : tricky_contents()) {
    INFO("content: " << testing_escape(c));
    for (bool stuff : {true, false}) {
      std::string got;
      append_dot_stuffed(got, c, stuff);
      CHECK(got == reference_dot_stuffed(c, stuff));
    }
    // content_facts: SIZE= value, 8-bit, and "stuffing changes nothing".
    const scan::ContentFacts f = scan::content_facts(c);
    int64_t want_size = static_cast<int64_t>(c.size());
    bool want_high = false;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c[i] == '\n' && (i == 0 || c[i - 1] != '\r')) ++want_size;
      if (static_cast<unsigned char>(c[i]) >= 128) want_high = true;
    }
    CHECK(f.crlf_size == want_size);
    CHECK(f.eight_bit == want_high);
    CHECK(has_8bit(c) == want_high);
    if (f.crlf_clean && !f.dot_line) {
      // The client's one-copy path must give the stuffed bytes exactly.
      std::string one = c;
      if (!c.empty() && c.back() != '\n') one += "\r\n";
      one += ".\r\n";
      CHECK(one == reference_dot_stuffed(c, true));
    }
    size_t want_eol = c.find_first_of("\r\n");
    if (want_eol == std::string::npos) want_eol = c.size();
    CHECK(static_cast<size_t>(scan::find_cr_or_lf(c.data(), c.data() + c.size()) - c.data()) == want_eol);
  }
}

TEST_CASE("the server stores exactly what the client stuffed, for every tricky body and split", "[smtp][client][scan]") {
  size_t k = 0;
  for (const std::string& c : tricky_contents()) {
    if (++k % 7 != 0) continue;  // a sample keeps the test quick
    const std::string body = "Subject: t\r\n\r\n" + c;
    for (size_t chunk : {size_t{0}, size_t{1}, size_t{7}, size_t{16}}) {
      Pair p;
      p.scfg = test_config();
      auto res = run_pair(p, ClientConfig{}, {txn({"alice@yahoo.test"}, body)}, chunk);
      INFO("content: " << testing_escape(c) << " chunk " << chunk);
      {
        // The client normalises bare CR and LF to CRLF, so the server sees a
        // clean message and stores the un-stuffed wire form.
        REQUIRE(res.at(0).accepted);
        // Un-stuff the reference wire form line by line, up to the final ".".
        const std::string wire = reference_dot_stuffed(body, true);
        std::string want;
        for (size_t i = 0; i < wire.size() - 3;) {
          const size_t e = wire.find("\r\n", i);
          std::string_view line(wire.data() + i, e - i);
          if (!line.empty() && line[0] == '.') line.remove_prefix(1);
          want.append(line);
          want += "\r\n";
          i = e + 2;
        }
        CHECK(p.policy.stored.at(0).content == want);
      }
    }
  }
}

TEST_CASE("8-bit content to a server without 8BITMIME: the host's downgrade, or 554 5.6.3", "[smtp][client][8bitmime]") {
  const std::string body = "MIME-Version: 1.0\r\nContent-Transfer-Encoding: 8bit\r\n\r\nd\xc3\xa9j\xc3\xa0 vu\r\n";
  const std::string seven = "MIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nd=C3=A9j=C3=A0 vu\r\n";
  {
    // Converted: the 7-bit form goes out with no BODY= and is what the server stores.
    Pair p;
    p.scfg = test_config();
    p.scfg.eightbitmime = false;
    ClientConfig cc;
    int calls = 0;
    cc.downgrade_8bit = [&](std::string_view content, std::string&) -> std::optional<std::string> {
      ++calls;
      CHECK(content == body);
      return seven;
    };
    auto res = run_pair(p, cc, {txn({"alice@yahoo.test"}, body)});
    CHECK(calls == 1);
    REQUIRE(res.at(0).accepted);
    CHECK(res[0].recipients[0].status == RcptStatus::delivered);
    CHECK(p.client_wire.find("BODY=") == std::string::npos);
    CHECK(p.client_wire.find("SIZE=" + std::to_string(seven.size())) != std::string::npos);
    REQUIRE(p.policy.stored.size() == 1);
    CHECK(p.policy.stored[0].content == seven);
  }
  {
    // Offered 8BITMIME: the hook is never asked.
    Pair p;
    p.scfg = test_config();
    ClientConfig cc;
    cc.downgrade_8bit = [&](std::string_view, std::string&) -> std::optional<std::string> {
      FAIL("downgrade asked although the server offers 8BITMIME");
      return std::nullopt;
    };
    auto res = run_pair(p, cc, {txn({"alice@yahoo.test"}, body)});
    CHECK(res.at(0).accepted);
    CHECK(p.client_wire.find("BODY=8BITMIME") != std::string::npos);
  }
  struct Case {
    const char* name;
    bool set;
    std::optional<std::string> result;
    const char* want_text;
  };
  const Case cases[] = {
      {"no downgrade configured (bounce)", false, std::nullopt, "does not offer 8BITMIME"},
      {"cannot convert", true, std::nullopt, "no MIME here"},
      {"still 8-bit after conversion", true, std::string("Subject: \xc3\xa9\r\n\r\nx\r\n"), "remain"},
  };
  for (const Case& k : cases) {
    INFO(k.name);
    Pair p;
    p.scfg = test_config();
    p.scfg.eightbitmime = false;
    ClientConfig cc;
    if (k.set)
      cc.downgrade_8bit = [&](std::string_view, std::string& why) {
        why = "no MIME here";
        return k.result;
      };
    auto res = run_pair(p, cc, {txn({"alice@yahoo.test"}, body)});
    CHECK_FALSE(res.at(0).accepted);
    const RecipientOutcome& o = res[0].recipients[0];
    CHECK(o.status == RcptStatus::permanent);
    CHECK(o.synthetic);
    CHECK(o.reply.code == 554);
    CHECK(o.reply.enhanced == "5.6.3");
    CHECK(o.reply.text().find(k.want_text) != std::string::npos);
    CHECK(p.client_wire.find("MAIL FROM") == std::string::npos);  // nothing of it was sent
    CHECK(p.policy.stored.empty());
  }
}

TEST_CASE("PackedNames: inline and heap, replacing one name, copies and moves", "[smtp][names]") {
  using Names = smtplab::smtp::PackedNames<3, 40>;
  static_assert(sizeof(Names) == 40);
  Names a({"c1.test", "mx.bench.test", ""});
  CHECK(a[0] == "c1.test");
  CHECK(a[1] == "mx.bench.test");
  CHECK(a[2].empty());
  const std::string longname(100, 'x');
  a.set(2, longname);  // spills to the heap
  CHECK(a[0] == "c1.test");
  CHECK(a[1] == "mx.bench.test");
  CHECK(a[2] == longname);
  a.set(1, a[2]);  // a view into the object itself
  CHECK(a[1] == longname);
  CHECK(a[2] == longname);
  Names b = a;
  a.set(1, "short");
  a.set(2, "");  // back inline
  CHECK(a[1] == "short");
  CHECK(a[2].empty());
  CHECK(b[1] == longname);
  Names c = std::move(b);
  CHECK(c[0] == "c1.test");
  CHECK(c[2] == longname);
  c = a;
  CHECK(c[1] == "short");
  Names e;
  CHECK(e[0].empty());
  CHECK(e[2].empty());
}
