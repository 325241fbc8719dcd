// tests/test_imap.cpp: IMAP4rev1 subset (RFC 3501) dialogue tests: states,
// tagged/untagged responses, literals both ways, FETCH/STORE/SEARCH/UID,
// BAD/NO cases, two devices sharing \Seen, and input split at every offset.
#include <catch2/catch.hpp>

#include <map>

#include "sim/imap/imap.hpp"
#include "sim/mail/mailbox.hpp"
#include "sim/pop3/pop3.hpp"

using namespace smtplab;
using namespace smtplab::imap;

namespace {

struct TestBackend : Backend, pop3::Backend {
  std::map<std::string, std::pair<std::string, mail::Mailbox*>> users;
  mail::Mailbox* authenticate(std::string_view user, std::string_view password) override {
    auto it = users.find(std::string(user));
    if (it == users.end() || it->second.first != password) return nullptr;
    return it->second.second;
  }
};

const std::string kMsg1 = "From: bob@gmail.test\r\nSubject: one\r\n\r\nhello\r\n.\r\n";
const std::string kMsg2 = "From: carol@gmail.test\r\nSubject: two\r\n\r\nsecond\r\n";
const std::string kMsg3 = "From: dan@gmail.test\r\nSubject: three\r\n\r\nthird\r\n";

struct Fixture {
  mail::Mailbox box{"alice@yahoo.test", 42};
  TestBackend backend;
  Fixture() {
    box.append(kMsg1, sec(1));
    box.append(kMsg2, sec(2));
    box.append(kMsg3, sec(3));
    backend.users["alice"] = {"secret", &box};
  }
};

std::string say(Server& s, const std::string& line) { return s.receive(SimTime{0}, line + "\r\n").send; }

// The tagged line of a response (the last line starting with the tag).
std::string tagged_status(const std::string& resp, const std::string& tag) {
  size_t p = resp.rfind("\r\n" + tag + " ");
  if (p == std::string::npos) p = resp.starts_with(tag + " ") ? 0 : std::string::npos;
  else p += 2;
  if (p == std::string::npos) return "";
  std::string rest = resp.substr(p + tag.size() + 1);
  return rest.substr(0, rest.find(' '));
}

bool has(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

void login_select(Server& s) {
  REQUIRE(tagged_status(say(s, "a1 LOGIN alice secret"), "a1") == "OK");
  REQUIRE(tagged_status(say(s, "a2 SELECT INBOX"), "a2") == "OK");
}

struct Wired {
  std::string to_server, to_client;
  std::vector<mail::FetchedMessage> fetched;
  std::vector<Record> records;
};

Wired run_wired(Server& server, Client& client) {
  Wired w;
  mail::SessionOutput so = server.start(SimTime{0});
  client.start(SimTime{0});
  for (int guard = 0; guard < 1000; ++guard) {
    for (auto& r : so.records) w.records.push_back(r);
    if (so.send.empty()) break;
    w.to_client += so.send;
    mail::SessionOutput co = client.receive(SimTime{0}, so.send);
    for (auto& r : co.records) w.records.push_back(r);
    for (auto& f : co.fetched) w.fetched.push_back(f);
    if (co.send.empty()) break;
    w.to_server += co.send;
    so = server.receive(SimTime{0}, co.send);
  }
  return w;
}

}  // namespace

TEST_CASE("imap: sequence sets", "[imap]") {
  struct Row {
    std::string set;
    uint32_t max;
    std::optional<std::vector<uint32_t>> want;
  } rows[] = {
      {"1", 3, std::vector<uint32_t>{1}},
      {"1:3", 3, std::vector<uint32_t>{1, 2, 3}},
      {"3:1", 3, std::vector<uint32_t>{1, 2, 3}},
      {"2:*", 5, std::vector<uint32_t>{2, 3, 4, 5}},
      {"*", 5, std::vector<uint32_t>{5}},
      {"1,3,2,3", 5, std::vector<uint32_t>{1, 2, 3}},
      {"1:4294967295", 2, std::vector<uint32_t>{1, 2}},
      {"0", 3, std::nullopt},
      {"", 3, std::nullopt},
      {"a", 3, std::nullopt},
      {"1:", 3, std::nullopt},
      {"1,,2", 3, std::nullopt},
  };
  for (const Row& r : rows) {
    INFO("set '" << r.set << "' max " << r.max);
    CHECK(parse_sequence_set(r.set, r.max) == r.want);
  }
  CHECK(compress_set({1, 2, 3, 5, 7, 8}) == "1:3,5,7:8");
  CHECK(quote_astring("alice") == "alice");
  CHECK(quote_astring("with space") == "\"with space\"");
  CHECK(quote_astring("q\"") == "\"q\\\"\"");
  CHECK(quote_astring("caf\xC3\xA9") == "{5}\r\ncaf\xC3\xA9");
}

TEST_CASE("imap server: greeting, CAPABILITY, LOGIN, SELECT", "[imap]") {
  Fixture f;
  Server s(f.backend, ServerConfig{"imap.yahoo.test"}, mail::SessionInfo{"imap.yahoo.test", "phone", 3});
  auto g = s.start(SimTime{0});
  CHECK(g.send == "* OK [CAPABILITY IMAP4rev1] imap.yahoo.test IMAP4rev1 ready\r\n");
  CHECK(g.records[0].kind == Kind::imap_response);
  CHECK(g.records[0].src == "imap.yahoo.test");
  CHECK(say(s, "c1 CAPABILITY") == "* CAPABILITY IMAP4rev1\r\nc1 OK CAPABILITY completed\r\n");
  CHECK(say(s, "c2 NOOP") == "c2 OK NOOP completed\r\n");
  // Not authenticated: selected-state commands are BAD.
  CHECK(tagged_status(say(s, "c3 SELECT INBOX"), "c3") == "BAD");
  CHECK(tagged_status(say(s, "c4 FETCH 1 FLAGS"), "c4") == "BAD");
  CHECK(has(say(s, "c5 LOGIN alice wrong"), "c5 NO [AUTHENTICATIONFAILED]"));
  CHECK(tagged_status(say(s, "c6 LOGIN alice"), "c6") == "BAD");
  CHECK(s.state() == ServerState::not_authenticated);
  CHECK(tagged_status(say(s, "c7 LOGIN \"alice\" \"secret\""), "c7") == "OK");
  CHECK(s.state() == ServerState::authenticated);
  CHECK(tagged_status(say(s, "c8 LOGIN alice secret"), "c8") == "BAD");  // already authenticated
  CHECK(tagged_status(say(s, "c9 FETCH 1 FLAGS"), "c9") == "BAD");       // nothing selected
  CHECK(has(say(s, "c10 SELECT Drafts"), "c10 NO [NONEXISTENT]"));
  std::string sel = say(s, "c11 select inbox");
  CHECK(sel ==
        "* FLAGS (\\Seen \\Deleted)\r\n"
        "* OK [PERMANENTFLAGS (\\Seen \\Deleted)] Limited\r\n"
        "* 3 EXISTS\r\n"
        "* 3 RECENT\r\n"
        "* OK [UNSEEN 1] Message 1 is first unseen\r\n"
        "* OK [UIDVALIDITY 42] UIDs valid\r\n"
        "* OK [UIDNEXT 4] Predicted next UID\r\n"
        "c11 OK [READ-WRITE] SELECT completed\r\n");
  CHECK(s.state() == ServerState::selected);
  // \Recent went to this session; another session sees 0 RECENT.
  Server other(f.backend);
  other.start(SimTime{0});
  login_select(other);
  CHECK(has(say(other, "x NOOP"), "x OK"));
  Server third(f.backend);
  third.start(SimTime{0});
  say(third, "a1 LOGIN alice secret");
  CHECK(has(say(third, "a2 SELECT INBOX"), "* 0 RECENT"));
}

TEST_CASE("imap server: FETCH, literals and implicit \\Seen", "[imap]") {
  Fixture f;
  Server s(f.backend);
  s.start(SimTime{0});
  login_select(s);
  CHECK(say(s, "f1 FETCH 1 (FLAGS)") == "* 1 FETCH (FLAGS (\\Recent))\r\nf1 OK FETCH completed\r\n");
  CHECK(say(s, "f2 FETCH 2 RFC822.SIZE") == "* 2 FETCH (RFC822.SIZE " + std::to_string(kMsg2.size()) + ")\r\nf2 OK FETCH completed\r\n");
  // BODY.PEEK[] does not set \Seen.
  CHECK(say(s, "f3 FETCH 1 (BODY.PEEK[])") ==
        "* 1 FETCH (BODY[] {" + std::to_string(kMsg1.size()) + "}\r\n" + kMsg1 + ")\r\nf3 OK FETCH completed\r\n");
  CHECK_FALSE(f.box.find(1)->seen);
  // BODY[] does, and reports the new flags.
  std::string r = say(s, "f4 FETCH 1 BODY[]");
  CHECK(r == "* 1 FETCH (BODY[] {" + std::to_string(kMsg1.size()) + "}\r\n" + kMsg1 +
                 " FLAGS (\\Seen \\Recent))\r\nf4 OK FETCH completed\r\n");
  CHECK(f.box.find(1)->seen);
  CHECK(has(say(s, "f5 UID FETCH 2 (FLAGS)"), "* 2 FETCH (UID 2 FLAGS (\\Recent))"));
  CHECK(has(say(s, "f6 FETCH 1:* (UID)"), "* 3 FETCH (UID 3)"));
  CHECK(has(say(s, "f7 FETCH 2 (BODY.PEEK[HEADER])"), "BODY[HEADER] {40}\r\nFrom: carol@gmail.test\r\nSubject: two\r\n\r\n)"));
  CHECK(has(say(s, "f8 FETCH 2 (BODY.PEEK[TEXT])"), "BODY[TEXT] {8}\r\nsecond\r\n)"));
  CHECK(has(say(s, "f9 FETCH 1 FAST"), "INTERNALDATE \"23-Nov-2026 09:00:01 +0000\""));
  CHECK(has(say(s, "f10 FETCH 9 FLAGS"), "f10 BAD invalid sequence set"));
  CHECK(has(say(s, "f11 FETCH 1 ENVELOPE"), "f11 BAD unsupported fetch item ENVELOPE"));
  CHECK(tagged_status(say(s, "f12 FETCH 1 (FLAGS"), "f12") == "BAD");
  CHECK(tagged_status(say(s, "f13 FETCH"), "f13") == "BAD");
  CHECK(say(s, "f14 UID FETCH 99 FLAGS") == "f14 OK UID FETCH completed\r\n");  // no such UID: nothing, OK
  CHECK(tagged_status(say(s, "f15 UID EXPUNGE"), "f15") == "BAD");
}

TEST_CASE("imap server: STORE, SEARCH, EXPUNGE, EXAMINE, CLOSE, LOGOUT", "[imap]") {
  Fixture f;
  Server s(f.backend);
  s.start(SimTime{0});
  login_select(s);
  CHECK(say(s, "s1 SEARCH UNSEEN") == "* SEARCH 1 2 3\r\ns1 OK SEARCH completed\r\n");
  CHECK(say(s, "s2 STORE 2 +FLAGS (\\Seen)") == "* 2 FETCH (FLAGS (\\Seen \\Recent))\r\ns2 OK STORE completed\r\n");
  CHECK(say(s, "s3 UID SEARCH UNSEEN") == "* SEARCH 1 3\r\ns3 OK UID SEARCH completed\r\n");
  CHECK(say(s, "s4 SEARCH SEEN") == "* SEARCH 2\r\ns4 OK SEARCH completed\r\n");
  CHECK(say(s, "s5 SEARCH NOT SEEN") == "* SEARCH 1 3\r\ns5 OK SEARCH completed\r\n");
  CHECK(say(s, "s6 SEARCH ALL UNSEEN 2:3") == "* SEARCH 3\r\ns6 OK SEARCH completed\r\n");
  CHECK(say(s, "s7 UID STORE 3 +FLAGS.SILENT (\\Seen \\Deleted)") == "s7 OK UID STORE completed\r\n");
  CHECK(f.box.find(3)->deleted);
  CHECK(say(s, "s8 STORE 2 -FLAGS \\Seen") == "* 2 FETCH (FLAGS (\\Recent))\r\ns8 OK STORE completed\r\n");
  CHECK(say(s, "s9 STORE 1 FLAGS (\\Seen)") == "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\ns9 OK STORE completed\r\n");
  CHECK(has(say(s, "s10 STORE 1 +FLAGS (\\Flagged)"), "s10 NO [CANNOT]"));
  CHECK(tagged_status(say(s, "s11 STORE 1 +FLAGS (\\Recent)"), "s11") == "BAD");
  CHECK(tagged_status(say(s, "s12 STORE 1 SETFLAGS (\\Seen)"), "s12") == "BAD");
  CHECK(tagged_status(say(s, "s13 SEARCH FROM bob"), "s13") == "BAD");
  CHECK(tagged_status(say(s, "s14 SEARCH"), "s14") == "BAD");
  CHECK(has(say(s, "s15 SEARCH CHARSET KOI8-R ALL"), "s15 NO [BADCHARSET"));
  CHECK(say(s, "s16 SEARCH DELETED") == "* SEARCH 3\r\ns16 OK SEARCH completed\r\n");
  CHECK(say(s, "s17 EXPUNGE") == "* 3 EXPUNGE\r\ns17 OK EXPUNGE completed\r\n");
  CHECK(f.box.count() == 2);
  CHECK(say(s, "s18 UID SEARCH ALL") == "* SEARCH 1 2\r\ns18 OK UID SEARCH completed\r\n");
  // EXAMINE is read-only: STORE and EXPUNGE are refused.
  CHECK(has(say(s, "s19 EXAMINE INBOX"), "s19 OK [READ-ONLY] EXAMINE completed"));
  CHECK(has(say(s, "s20 STORE 1 +FLAGS (\\Deleted)"), "s20 NO [READ-ONLY]"));
  CHECK(has(say(s, "s21 EXPUNGE"), "s21 NO [READ-ONLY]"));
  CHECK(say(s, "s22 CLOSE") == "s22 OK CLOSE completed\r\n");
  CHECK(s.state() == ServerState::authenticated);
  auto out = s.receive(SimTime{0}, "s23 LOGOUT\r\n");
  CHECK(out.send.starts_with("* BYE "));
  CHECK(has(out.send, "s23 OK LOGOUT completed"));
  CHECK(out.close);
  CHECK(s.closed());
}

TEST_CASE("imap server: syntax errors, literals and limits", "[imap]") {
  Fixture f;
  ServerConfig cfg;
  cfg.max_literal = 100;
  cfg.max_bad_commands = 50;
  Server s(f.backend, cfg);
  s.start(SimTime{0});
  CHECK(has(say(s, ""), "* BAD"));
  CHECK(has(say(s, "nocommand"), "nocommand BAD missing command name"));
  CHECK(has(say(s, "t1 FROB"), "t1 BAD unknown command FROB"));
  CHECK(has(say(s, "t+ NOOP"), "* BAD"));
  CHECK(has(say(s, "t2 LOGIN \"unterminated"), "t2 BAD syntax error"));
  // A synchronizing literal: the server asks for it with "+".
  auto a = s.receive(SimTime{0}, "t3 LOGIN {5}\r\n");
  CHECK(a.send == "+ Ready for literal data\r\n");
  auto b = s.receive(SimTime{0}, "alice {6}\r\n");
  CHECK(b.send == "+ Ready for literal data\r\n");
  auto c = s.receive(SimTime{0}, "secret\r\n");
  CHECK(c.send == "t3 OK [CAPABILITY IMAP4rev1] LOGIN completed\r\n");
  // A literal over the limit is refused before it is sent.
  CHECK(has(say(s, "t4 SELECT {1000}"), "t4 BAD literal too large"));
  CHECK(s.state() == ServerState::authenticated);
  // Too many bad commands: BYE and close.
  ServerConfig tight;
  tight.max_bad_commands = 2;
  Server t(f.backend, tight);
  t.start(SimTime{0});
  say(t, "x FOO");
  auto last = t.receive(SimTime{0}, "y FOO\r\n");
  CHECK(has(last.send, "* BYE too many bad commands"));
  CHECK(last.close);
  // Autologout.
  Server u(f.backend);
  u.start(SimTime{0});
  auto to = u.on_timeout(minutes(30));
  CHECK(has(to.send, "* BYE autologout"));
  CHECK(u.closed());
}

TEST_CASE("imap server: NOOP reports other sessions' changes", "[imap]") {
  Fixture f;
  Server a(f.backend), b(f.backend);
  a.start(SimTime{0});
  b.start(SimTime{0});
  login_select(a);
  login_select(b);
  REQUIRE(has(say(b, "b1 STORE 1 +FLAGS (\\Seen)"), "b1 OK"));
  f.box.append("Subject: new\r\n\r\nx\r\n", sec(9));
  std::string n = say(a, "a3 NOOP");
  CHECK(has(n, "* 1 FETCH (FLAGS (\\Seen \\Recent))"));
  CHECK(has(n, "* 4 EXISTS"));
  CHECK(has(n, "* 4 RECENT"));  // this session holds \\Recent for all four
  REQUIRE(has(say(b, "b2 STORE 2 +FLAGS (\\Deleted)"), "b2 OK"));
  REQUIRE(has(say(b, "b3 EXPUNGE"), "* 2 EXPUNGE"));
  std::string e = say(a, "a4 NOOP");
  CHECK(has(e, "* 2 EXPUNGE"));
  CHECK(say(a, "a5 UID SEARCH ALL") == "* SEARCH 1 3 4\r\na5 OK UID SEARCH completed\r\n");
}

TEST_CASE("imap client and server wired: fetch unseen, mark \\Seen, keep on server", "[imap][wired]") {
  Fixture f;
  f.box.set_seen(2);
  Server server(f.backend, ServerConfig{"imap.yahoo.test"}, mail::SessionInfo{"imap.yahoo.test", "phone", 5});
  Client client(ClientConfig{"alice", "secret"}, mail::SessionInfo{"phone", "imap.yahoo.test", 5});
  Wired w = run_wired(server, client);
  INFO(w.to_server);
  CHECK(client.ok());
  CHECK(w.to_server ==
        "a1 LOGIN alice secret\r\na2 SELECT INBOX\r\na3 UID SEARCH UNSEEN\r\n"
        "a4 UID FETCH 1,3 (UID FLAGS RFC822.SIZE BODY.PEEK[])\r\na5 UID STORE 1,3 +FLAGS (\\Seen)\r\na6 LOGOUT\r\n");
  REQUIRE(w.fetched.size() == 2);
  CHECK(w.fetched[0].uid == 1);
  CHECK(w.fetched[0].data == kMsg1);
  CHECK(w.fetched[1].uid == 3);
  CHECK(w.fetched[1].data == kMsg3);
  CHECK(f.box.count() == 3);       // messages stay on the server
  CHECK(f.box.unseen_count() == 0);
  CHECK(client.uidvalidity() == 42);
  CHECK(client.exists() == 3);
  bool masked = false;
  for (const Record& r : w.records)
    if (r.kind == Kind::imap_command && r.attr("verb") == "LOGIN") masked = r.text == "a1 LOGIN alice ********";
  CHECK(masked);
}

TEST_CASE("two devices: IMAP keeps them in step, POP3 does not", "[imap][pop3][devices]") {
  SECTION("IMAP: the second device sees \\Seen and downloads nothing new") {
    Fixture f;
    Server s1(f.backend);
    Client phone(ClientConfig{"alice", "secret"});
    Wired w1 = run_wired(s1, phone);
    CHECK(w1.fetched.size() == 3);
    Server s2(f.backend);
    Client laptop(ClientConfig{"alice", "secret"});
    Wired w2 = run_wired(s2, laptop);
    CHECK(laptop.ok());
    CHECK(w2.fetched.empty());
    CHECK(laptop.unseen_uids().empty());
    CHECK(f.box.count() == 3);  // both devices can still read them all
  }
  SECTION("POP3 download-and-delete: the first device takes everything") {
    Fixture f;
    pop3::Server s1(f.backend);
    pop3::Client phone(pop3::ClientConfig{"alice", "secret"});
    // Drive by hand: POP3 wiring mirrors the IMAP helper.
    mail::SessionOutput so = s1.start(SimTime{0});
    size_t fetched1 = 0;
    for (int g = 0; g < 100 && !so.send.empty(); ++g) {
      auto co = phone.receive(SimTime{0}, so.send);
      fetched1 += co.fetched.size();
      if (co.send.empty()) break;
      so = s1.receive(SimTime{0}, co.send);
    }
    CHECK(fetched1 == 3);
    CHECK(f.box.count() == 0);
    pop3::Server s2(f.backend);
    pop3::Client laptop(pop3::ClientConfig{"alice", "secret"});
    so = s2.start(SimTime{0});
    size_t fetched2 = 0;
    for (int g = 0; g < 100 && !so.send.empty(); ++g) {
      auto co = laptop.receive(SimTime{0}, so.send);
      fetched2 += co.fetched.size();
      if (co.send.empty()) break;
      so = s2.receive(SimTime{0}, co.send);
    }
    CHECK(laptop.ok());
    CHECK(fetched2 == 0);  // the laptop never sees those messages
  }
}

TEST_CASE("imap: input split at every offset and one byte at a time", "[imap][split]") {
  Fixture ref;
  Server rs(ref.backend);
  Client rc(ClientConfig{"alice", "secret"});
  Wired w = run_wired(rs, rc);
  REQUIRE(rc.ok());
  for (size_t k = 0; k <= w.to_server.size(); ++k) {
    Fixture f;
    Server s(f.backend);
    std::string got = s.start(SimTime{0}).send;
    got += s.receive(SimTime{0}, w.to_server.substr(0, k)).send;
    got += s.receive(SimTime{0}, w.to_server.substr(k)).send;
    INFO("split at " << k);
    REQUIRE(got == w.to_client);
  }
  {
    Fixture f;
    Server s(f.backend);
    std::string got = s.start(SimTime{0}).send;
    for (char c : w.to_server) got += s.receive(SimTime{0}, std::string_view(&c, 1)).send;
    CHECK(got == w.to_client);
  }
  for (size_t k = 0; k <= w.to_client.size(); ++k) {
    Client c(ClientConfig{"alice", "secret"});
    c.start(SimTime{0});
    auto a = c.receive(SimTime{0}, w.to_client.substr(0, k));
    auto b = c.receive(SimTime{0}, w.to_client.substr(k));
    INFO("split at " << k);
    REQUIRE(a.send + b.send == w.to_server);
    REQUIRE(a.fetched.size() + b.fetched.size() == 3);
    CHECK(c.ok());
  }
  Client c(ClientConfig{"alice", "secret"});
  c.start(SimTime{0});
  std::string sent;
  for (char ch : w.to_client) sent += c.receive(SimTime{0}, std::string_view(&ch, 1)).send;
  CHECK(sent == w.to_server);
  CHECK(c.ok());
}

TEST_CASE("imap: the server survives garbage", "[imap][robust]") {
  Fixture f;
  uint64_t x = 99;
  for (int round = 0; round < 200; ++round) {
    Server s(f.backend);
    s.start(SimTime{0});
    std::string junk = "a1 LOGIN alice secret\r\na2 SELECT INBOX\r\n";
    for (int i = 0; i < 300; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      junk.push_back("a1 FETCH*:,(){}[]\"\\\r\nUIDBODY.PEEK9"[(x >> 33) % 34]);
    }
    auto o = s.receive(SimTime{0}, junk);
    CHECK(o.send.size() < 1'000'000);
    Client c(ClientConfig{"alice", "secret"});
    c.start(SimTime{0});
    c.receive(SimTime{0}, junk);
  }
}
