// tests/test_pop3.cpp: POP3 (RFC 1939) dialogue tests: every command, every
// -ERR and state rule, the UPDATE state, and client and server machines
// wired together directly (no engine), with input split at every offset.
#include <catch2/catch.hpp>

#include <map>

#include "sim/mail/mailbox.hpp"
#include "sim/pop3/pop3.hpp"

using namespace smtplab;
using namespace smtplab::pop3;

namespace {

struct TestBackend : Backend {
  std::map<std::string, std::pair<std::string, mail::Mailbox*>> users;
  mail::Mailbox* authenticate(std::string_view user, std::string_view password) override {
    auto it = users.find(std::string(user));
    if (it == users.end() || it->second.first != password) return nullptr;
    return it->second.second;
  }
};

const std::string kMsg1 = "From: bob@gmail.test\r\nSubject: one\r\n\r\nhello\r\n.hidden dot line\r\n.\r\nend\r\n";
const std::string kMsg2 = "From: carol@gmail.test\r\nSubject: two\r\n\r\nsecond\r\n";

struct Fixture {
  mail::Mailbox box{"alice@yahoo.test"};
  TestBackend backend;
  Fixture() {
    box.append(kMsg1, sec(1), "bob@gmail.test");
    box.append(kMsg2, sec(2), "carol@gmail.test");
    backend.users["alice"] = {"secret", &box};
  }
};

// Sends one command line; returns the server's bytes.
std::string say(Server& s, const std::string& line) { return s.receive(SimTime{0}, line + "\r\n").send; }

bool ok(const std::string& r) { return r.starts_with("+OK"); }
bool err(const std::string& r) { return r.starts_with("-ERR"); }

void login(Server& s) {
  REQUIRE(ok(say(s, "USER alice")));
  REQUIRE(ok(say(s, "PASS secret")));
  REQUIRE(s.state() == ServerState::transaction);
}

// Runs client and server against each other until both stop.
struct Wired {
  std::string to_server, to_client;  // full byte streams, for replay tests
  std::vector<mail::FetchedMessage> fetched;
  std::vector<Record> records;
};

Wired run_wired(Server& server, Client& client) {
  Wired w;
  mail::SessionOutput so = server.start(SimTime{0});
  client.start(SimTime{0});
  for (int guard = 0; guard < 1000 && !(client.done() && server.closed()); ++guard) {
    for (auto& r : so.records) w.records.push_back(r);
    if (so.send.empty() && !so.close) break;
    w.to_client += so.send;
    mail::SessionOutput co = client.receive(SimTime{0}, so.send);
    for (auto& r : co.records) w.records.push_back(r);
    for (auto& f : co.fetched) w.fetched.push_back(f);
    if (so.close && !client.done()) {
      auto c = client.on_close(SimTime{0});
      for (auto& r : c.records) w.records.push_back(r);
    }
    w.to_server += co.send;
    if (co.send.empty()) {
      if (co.close && !server.closed()) server.on_close(SimTime{0});
      break;
    }
    so = server.receive(SimTime{0}, co.send);
  }
  return w;
}

}  // namespace

TEST_CASE("pop3 server: greeting, login and the TRANSACTION commands", "[pop3]") {
  Fixture f;
  Server s(f.backend, ServerConfig{"pop.yahoo.test"}, mail::SessionInfo{"pop.yahoo.test", "alice-pc", 9});
  auto g = s.start(SimTime{0});
  CHECK(g.send == "+OK pop.yahoo.test POP3 server ready\r\n");
  REQUIRE(g.records.size() == 1);
  CHECK(g.records[0].kind == Kind::pop3_reply);
  CHECK(g.records[0].src == "pop.yahoo.test");
  CHECK(g.records[0].dst == "alice-pc");
  CHECK(g.records[0].session == 9);
  CHECK(g.deadline == SimTime{0} + minutes(10));
  login(s);

  CHECK(say(s, "STAT") == "+OK 2 " + std::to_string(kMsg1.size() + kMsg2.size()) + "\r\n");
  CHECK(say(s, "LIST") == "+OK 2 messages (" + std::to_string(kMsg1.size() + kMsg2.size()) + " octets)\r\n1 " +
                              std::to_string(kMsg1.size()) + "\r\n2 " + std::to_string(kMsg2.size()) + "\r\n.\r\n");
  CHECK(say(s, "LIST 2") == "+OK 2 " + std::to_string(kMsg2.size()) + "\r\n");
  CHECK(say(s, "UIDL") == "+OK unique-id listing follows\r\n1 1.1\r\n2 1.2\r\n.\r\n");
  CHECK(say(s, "uidl 1") == "+OK 1 1.1\r\n");  // keywords are case-insensitive (RFC 1939 3)
  // RETR: byte-stuffed lines starting with ".", terminated by "." CR LF.
  CHECK(say(s, "RETR 1") == "+OK " + std::to_string(kMsg1.size()) +
                                " octets\r\nFrom: bob@gmail.test\r\nSubject: one\r\n\r\nhello\r\n..hidden dot line\r\n..\r\nend\r\n.\r\n");
  CHECK(f.box.find(1)->seen);
  CHECK(say(s, "TOP 2 0") == "+OK top of message follows\r\nFrom: carol@gmail.test\r\nSubject: two\r\n\r\n.\r\n");
  CHECK(say(s, "NOOP") == "+OK\r\n");
  CHECK(ok(say(s, "CAPA")));
  CHECK(say(s, "DELE 1") == "+OK message 1 deleted\r\n");
  CHECK(say(s, "DELE 1") == "-ERR message 1 already deleted\r\n");
  CHECK(say(s, "RETR 1") == "-ERR message 1 already deleted\r\n");
  CHECK(say(s, "LIST 1") == "-ERR message 1 already deleted\r\n");
  CHECK(say(s, "STAT") == "+OK 1 " + std::to_string(kMsg2.size()) + "\r\n");
  CHECK(say(s, "UIDL") == "+OK unique-id listing follows\r\n2 1.2\r\n.\r\n");
  CHECK(ok(say(s, "RSET")));
  CHECK(say(s, "STAT") == "+OK 2 " + std::to_string(kMsg1.size() + kMsg2.size()) + "\r\n");
  CHECK(ok(say(s, "DELE 2")));
  CHECK(f.box.count() == 2);  // only marked: nothing removed before UPDATE
  auto q = s.receive(SimTime{0}, "QUIT\r\n");
  CHECK(q.send.starts_with("+OK pop.yahoo.test POP3 server signing off (1 deleted, 1 left)"));
  CHECK(q.close);
  CHECK(s.closed());
  CHECK(f.box.count() == 1);
  CHECK(f.box.find(1) != nullptr);
  CHECK_FALSE(f.box.locked());
  // The state path is on the trace: TRANSACTION -> UPDATE -> CLOSED.
  int states = 0;
  for (const Record& r : q.records)
    if (r.kind == Kind::pop3_state) ++states;
  CHECK(states == 2);
}

TEST_CASE("pop3 server: -ERR cases and state rules", "[pop3]") {
  Fixture f;
  ServerConfig cfg;
  cfg.max_bad_commands = 100;  // this test makes many mistakes on purpose
  Server s(f.backend, cfg);
  s.start(SimTime{0});
  struct Row {
    std::string line;
    bool want_ok;
  };
  // AUTHORIZATION state.
  for (const Row& r : std::vector<Row>{{"STAT", false},
                                       {"LIST", false},
                                       {"RETR 1", false},
                                       {"DELE 1", false},
                                       {"NOOP", false},
                                       {"RSET", false},
                                       {"PASS secret", false},  // PASS without USER
                                       {"XYZZY", false},
                                       {"", false},
                                       {"USER", false},  // missing argument
                                       {"CAPA", true},
                                       {"USER alice", true},
                                       {"PASS wrong", false},
                                       {"PASS secret", false},  // the failed PASS consumed the USER
                                       {"USER nobody", true},
                                       {"PASS secret", false}}) {
    std::string got = say(s, r.line);
    INFO("command '" << r.line << "' got " << got);
    CHECK(ok(got) == r.want_ok);
    CHECK(s.state() == ServerState::authorization);
  }
  login(s);
  // TRANSACTION state.
  for (const Row& r : std::vector<Row>{{"USER alice", false},
                                       {"PASS secret", false},
                                       {"RETR", false},
                                       {"RETR 0", false},
                                       {"RETR 3", false},
                                       {"RETR abc", false},
                                       {"RETR -1", false},
                                       {"RETR 99999999999", false},
                                       {"LIST 1 2", false},
                                       {"TOP 1", false},
                                       {"TOP 1 x", false},
                                       {"NOOP extra", false},
                                       {"RETR 2", true}}) {
    std::string got = say(s, r.line);
    INFO("command '" << r.line << "' got " << got);
    CHECK(ok(got) == r.want_ok);
    CHECK((ok(got) || err(got)));
  }
  CHECK(s.state() == ServerState::transaction);
}

TEST_CASE("pop3 server: the maildrop is locked; sessions ending without QUIT delete nothing", "[pop3]") {
  Fixture f;
  Server a(f.backend);
  a.start(SimTime{0});
  login(a);
  REQUIRE(ok(say(a, "DELE 1")));
  Server b(f.backend);
  b.start(SimTime{0});
  REQUIRE(ok(say(b, "USER alice")));
  CHECK(say(b, "PASS secret") == "-ERR [IN-USE] maildrop already locked by another session\r\n");
  // The connection drops: no UPDATE (RFC 1939 6).
  auto c = a.on_close(sec(1));
  CHECK(a.closed());
  CHECK(f.box.count() == 2);
  CHECK_FALSE(f.box.locked());
  CHECK(c.records.back().text.find("no UPDATE") != std::string::npos);
  // Autologout: same, and no response is sent.
  Server t(f.backend);
  t.start(SimTime{0});
  login(t);
  REQUIRE(ok(say(t, "DELE 2")));
  auto to = t.on_timeout(minutes(10));
  CHECK(to.send.empty());
  CHECK(to.close);
  CHECK(f.box.count() == 2);
  // QUIT from AUTHORIZATION closes without UPDATE.
  Server u(f.backend);
  u.start(SimTime{0});
  CHECK(ok(say(u, "QUIT")));
  CHECK(u.closed());
  CHECK(say(u, "NOOP").empty());  // nothing after close
}

TEST_CASE("pop3 server: long lines and too many bad commands", "[pop3]") {
  Fixture f;
  ServerConfig cfg;
  cfg.max_bad_commands = 3;
  Server s(f.backend, cfg);
  s.start(SimTime{0});
  auto r = s.receive(SimTime{0}, std::string(300, 'A'));
  CHECK(r.send.starts_with("-ERR line too long"));
  // The rest of that line (up to LF) is discarded, not executed.
  CHECK(say(s, "NOOP tail").empty());
  CHECK(err(say(s, "BOGUS")));
  auto last = s.receive(SimTime{0}, "BOGUS\r\n");
  CHECK(last.send.find("too many bad commands") != std::string::npos);
  CHECK(last.close);
  CHECK(s.closed());
}

TEST_CASE("pop3 client and server wired: download and delete", "[pop3][wired]") {
  Fixture f;
  Server server(f.backend, ServerConfig{"pop.yahoo.test"}, mail::SessionInfo{"pop.yahoo.test", "alice-pc", 1});
  Client client(ClientConfig{"alice", "secret"}, mail::SessionInfo{"alice-pc", "pop.yahoo.test", 1});
  Wired w = run_wired(server, client);
  INFO(w.to_server);
  CHECK(client.ok());
  CHECK(client.state() == ClientState::done);
  REQUIRE(w.fetched.size() == 2);
  CHECK(w.fetched[0].data == kMsg1);  // lone "." and ".hidden" lines survive intact
  CHECK(w.fetched[1].data == kMsg2);
  CHECK(w.fetched[0].unique_id == "1.1");
  CHECK(f.box.count() == 0);  // download-and-delete
  CHECK(w.to_server == "USER alice\r\nPASS secret\r\nSTAT\r\nUIDL\r\nLIST\r\nRETR 1\r\nDELE 1\r\nRETR 2\r\nDELE 2\r\nQUIT\r\n");
  bool masked = false;
  for (const Record& r : w.records)
    if (r.kind == Kind::pop3_command && r.attr("verb") == "PASS") masked = r.text == "PASS ********";
  CHECK(masked);
  for (const Record& r : w.records) {
    CHECK((r.kind == Kind::pop3_command || r.kind == Kind::pop3_reply || r.kind == Kind::pop3_state));
    CHECK_FALSE(r.src.empty());
  }
}

TEST_CASE("pop3 client: keep mode leaves mail; known UIDLs are skipped", "[pop3][wired]") {
  Fixture f;
  ClientConfig cfg{"alice", "secret"};
  cfg.keep = true;
  {
    Server server(f.backend);
    Client client(cfg);
    Wired w = run_wired(server, client);
    CHECK(client.ok());
    CHECK(w.fetched.size() == 2);
    CHECK(f.box.count() == 2);
    CHECK(client.server_uidls() == std::vector<std::string>{"1.1", "1.2"});
  }
  f.box.append("Subject: three\r\n\r\nx\r\n", sec(3));
  cfg.known_uidls = {"1.1", "1.2"};
  Server server(f.backend);
  Client client(cfg);
  Wired w = run_wired(server, client);
  CHECK(client.ok());
  REQUIRE(w.fetched.size() == 1);
  CHECK(w.fetched[0].unique_id == "1.3");
}

TEST_CASE("pop3 client: empty maildrop, bad password, server closing", "[pop3][wired]") {
  mail::Mailbox empty("x@y");
  TestBackend be;
  be.users["x"] = {"pw", &empty};
  {
    Server server(be);
    Client client(ClientConfig{"x", "pw"});
    Wired w = run_wired(server, client);
    CHECK(client.ok());
    CHECK(w.to_server == "USER x\r\nPASS pw\r\nSTAT\r\nQUIT\r\n");
  }
  {
    Server server(be);
    Client client(ClientConfig{"x", "bad"});
    run_wired(server, client);
    CHECK(client.state() == ClientState::failed);
    CHECK(client.error().find("login failed") != std::string::npos);
  }
  {
    Client client(ClientConfig{"x", "pw"});
    client.start(SimTime{0});
    client.receive(SimTime{0}, "+OK hi\r\n");
    auto c = client.on_close(sec(1));
    CHECK(client.state() == ClientState::failed);
    CHECK(client.error().find("closed") != std::string::npos);
  }
  {
    Client client(ClientConfig{"x", "pw"});
    client.start(SimTime{0});
    client.receive(SimTime{0}, "garbage\r\n");
    CHECK(client.state() == ClientState::failed);
  }
  {
    Client client(ClientConfig{"x", "pw"});
    auto o = client.start(SimTime{0});
    REQUIRE(o.deadline);
    client.on_timeout(*o.deadline);
    CHECK(client.error().find("timed out") != std::string::npos);
  }
}

TEST_CASE("pop3: input split at every offset and one byte at a time", "[pop3][split]") {
  // Reference run.
  Fixture ref;
  Server rs(ref.backend);
  Client rc(ClientConfig{"alice", "secret"});
  Wired w = run_wired(rs, rc);
  REQUIRE(rc.ok());
  std::string ref_replies = w.to_client;

  // Server: the client's whole byte stream split in two at every offset.
  for (size_t k = 0; k <= w.to_server.size(); ++k) {
    Fixture f;
    Server s(f.backend);
    std::string got = s.start(SimTime{0}).send;
    got += s.receive(SimTime{0}, w.to_server.substr(0, k)).send;
    got += s.receive(SimTime{0}, w.to_server.substr(k)).send;
    INFO("split at " << k);
    REQUIRE(got == ref_replies);
    CHECK(f.box.count() == 0);
  }
  {
    Fixture f;
    Server s(f.backend);
    std::string got = s.start(SimTime{0}).send;
    for (char c : w.to_server) got += s.receive(SimTime{0}, std::string_view(&c, 1)).send;
    CHECK(got == ref_replies);
  }
  // Client: the server's whole byte stream split at every offset.
  for (size_t k = 0; k <= w.to_client.size(); ++k) {
    Client c(ClientConfig{"alice", "secret"});
    c.start(SimTime{0});
    auto a = c.receive(SimTime{0}, w.to_client.substr(0, k));
    auto b = c.receive(SimTime{0}, w.to_client.substr(k));
    INFO("split at " << k);
    REQUIRE(a.send + b.send == w.to_server);
    REQUIRE(a.fetched.size() + b.fetched.size() == 2);
    CHECK(c.ok());
  }
  Client c(ClientConfig{"alice", "secret"});
  c.start(SimTime{0});
  std::string sent;
  size_t fetched = 0;
  for (char ch : w.to_client) {
    auto o = c.receive(SimTime{0}, std::string_view(&ch, 1));
    sent += o.send;
    fetched += o.fetched.size();
  }
  CHECK(sent == w.to_server);
  CHECK(fetched == 2);
}

TEST_CASE("pop3: stuffing helpers and the command table", "[pop3]") {
  CHECK(stuff_multiline("a\r\n.b\r\n.\r\n") == "a\r\n..b\r\n..\r\n.\r\n");
  CHECK(stuff_multiline("") == ".\r\n");
  CHECK(unstuff_line("..b") == ".b");
  CHECK(unstuff_line(".") == ".");
  auto cmds = Server::commands();
  CHECK(cmds.size() >= 11);
  bool has_retr = false;
  for (auto& c : cmds) has_retr = has_retr || (c.verb == "RETR" && c.states == "TRANSACTION");
  CHECK(has_retr);
}
