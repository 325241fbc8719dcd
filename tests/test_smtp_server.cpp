// tests/test_smtp_server.cpp: dialogue tests of the SMTP server machine.
//
// Every rule of RFC 5321 (sections 3, 4.1, 4.3, 4.5) and of the extensions
// the server implements, as table-driven dialogues that assert reply codes.
// A failing step prints the case, the step, what we got and what we wanted.
#include <catch2/catch.hpp>

#include "tests/test_smtp_harness.hpp"

using namespace smtptest;

namespace {

struct Step {
  std::string line;  // sent with CRLF
  int want;          // expected reply code
};

struct Case {
  std::string name;
  std::vector<Step> steps;
  void (*tweak)(ServerConfig&) = nullptr;
};

const std::string kBody = "Subject: hi\r\n\r\nhello\r\n.";

std::vector<Case> cases() {
  return {
      {"greeting then EHLO", {{"EHLO smtp.gmail.test", 250}}},
      {"HELO works", {{"HELO smtp.gmail.test", 250}}},
      {"EHLO needs an argument", {{"EHLO", 501}, {"EHLO ", 501}, {"EHLO a.b", 250}}},
      {"HELO needs an argument", {{"HELO", 501}}},
      {"unknown command 500, not closing", {{"FOO bar", 500}, {"EHLO x.test", 250}, {"XYZZY", 500}, {"NOOP", 250}}},
      {"verb glued to junk is unknown", {{"EHLOx", 500}, {"MAILFROM:<a@b.c>", 500}}},
      {"verbs are case-insensitive", {{"ehlo x.test", 250}, {"mail from:<a@b.test>", 250}, {"rcpt to:<alice@yahoo.test>", 250}}},
      {"MAIL before EHLO is 503", {{"MAIL FROM:<a@b.test>", 503}, {"RCPT TO:<alice@yahoo.test>", 503}, {"DATA", 503}}},
      {"RCPT before MAIL 503", {{"EHLO x.test", 250}, {"RCPT TO:<alice@yahoo.test>", 503}}},
      {"DATA before MAIL 503", {{"EHLO x.test", 250}, {"DATA", 503}}},
      {"DATA without accepted RCPT 554", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"DATA", 554}}},
      {"nested MAIL 503, transaction kept",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"MAIL FROM:<c@d.test>", 503}, {"RCPT TO:<alice@yahoo.test>", 250}}},
      {"RSET resets", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RSET", 250}, {"RCPT TO:<alice@yahoo.test>", 503}}},
      {"RSET with argument 501", {{"RSET now", 501}}},
      {"EHLO resets the transaction like RSET",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"EHLO x.test", 250}, {"RCPT TO:<alice@yahoo.test>", 503},
        {"MAIL FROM:<a@b.test>", 250}}},
      {"NOOP with argument ok", {{"NOOP hello there", 250}}},
      {"QUIT with argument 501", {{"QUIT now", 501}, {"QUIT", 221}}},
      {"VRFY 252", {{"EHLO x.test", 250}, {"VRFY alice", 252}, {"VRFY", 501}}},
      {"VRFY allowed before EHLO", {{"VRFY alice", 252}}},
      {"EXPN disabled 502", {{"EHLO x.test", 250}, {"EXPN staff", 502}}},
      {"EXPN enabled 252", {{"EHLO x.test", 250}, {"EXPN staff", 252}}, [](ServerConfig& c) { c.expn = true; }},
      {"VRFY disabled 502", {{"EHLO x.test", 250}, {"VRFY alice", 502}}, [](ServerConfig& c) { c.vrfy = false; }},
      {"HELP 214", {{"HELP", 214}, {"HELP MAIL", 214}, {"help rcpt", 214}, {"HELP FOO", 504}}},
      {"null reverse-path", {{"EHLO x.test", 250}, {"MAIL FROM:<>", 250}, {"RCPT TO:<alice@yahoo.test>", 250}}},
      {"null forward-path refused", {{"EHLO x.test", 250}, {"MAIL FROM:<>", 250}, {"RCPT TO:<>", 501}}},
      {"postmaster any case, no domain",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<postmaster>", 250}, {"RCPT TO:<PostMaster>", 250},
        {"RCPT TO:<POSTMASTER@yahoo.test>", 250}, {"RCPT TO:<Postmaster@Yahoo.Test>", 250}}},
      {"source routes accepted and ignored",
       {{"EHLO x.test", 250}, {"MAIL FROM:<@relay.test,@r2.test:a@b.test>", 250},
        {"RCPT TO:<@hop.test:alice@yahoo.test>", 250}}},
      {"path syntax 501",
       {{"EHLO x.test", 250},
        {"MAIL FROM:a@b.test", 501},
        {"MAIL FROM:<a@b.test", 501},
        {"MAIL FROM:<a>", 501},
        {"MAIL FROM:<a@>", 501},
        {"MAIL FROM:<@b.test>", 501},
        {"MAIL FROM:<a..b@b.test>", 501},
        {"MAIL FROM:<a@b..test>", 501},
        {"MAIL FROM:<a@-b.test>", 501},
        {"MAIL FROM:<a b@b.test>", 501},
        {std::string("MAIL FROM:<a\x01@b.test>"), 501},
        {std::string("MAIL FROM:<a@b\x7f.test>"), 501},
        {"MAIL FROM:<a@b.test> SIZE", 501},
        {"MAIL TO:<a@b.test>", 501},
        {"MAIL", 501},
        {"MAIL FROM:<\"quoted user\"@b.test>", 250}}},
      {"address literals",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@[192.0.2.1]>", 250}, {"RSET", 250}, {"MAIL FROM:<a@[IPv6:2001:db8::1]>", 250},
        {"RSET", 250}, {"MAIL FROM:<a@[300.1.1.1]>", 501}, {"MAIL FROM:<a@[foo]>", 501}}},
      {"space after colon tolerated", {{"EHLO x.test", 250}, {"MAIL FROM: <a@b.test>", 250}, {"RCPT TO: <alice@yahoo.test>", 250}}},
      {"unknown MAIL/RCPT parameters 555",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test> FOO=BAR", 555}, {"MAIL FROM:<a@b.test>", 250},
        {"RCPT TO:<alice@yahoo.test> XFOO", 555}}},
      {"SIZE parameter and 552",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test> SIZE=999999999", 552}, {"MAIL FROM:<a@b.test> SIZE=abc", 501},
        {"MAIL FROM:<a@b.test> SIZE=1000", 250}}},
      {"SIZE not advertised: parameter 555", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test> SIZE=1000", 555}},
       [](ServerConfig& c) { c.size = false; }},
      {"ESMTP parameters after HELO 555", {{"HELO x.test", 250}, {"MAIL FROM:<a@b.test> SIZE=10", 555}}},
      {"BODY 8BITMIME", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test> BODY=8BITMIME", 250}, {"RSET", 250},
                         {"MAIL FROM:<a@b.test> BODY=7BIT", 250}, {"RSET", 250}, {"MAIL FROM:<a@b.test> BODY=9BIT", 501}}},
      {"DSN params kept",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test> RET=HDRS ENVID=QQ314159", 250},
        {"RCPT TO:<alice@yahoo.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice+40yahoo.test", 250},
        {"RCPT TO:<carol@yahoo.test> NOTIFY=NEVER,SUCCESS", 501}, {"RCPT TO:<carol@yahoo.test> NOTIFY=SOMETIMES", 501},
        {"RCPT TO:<carol@yahoo.test> ORCPT=nosemicolon", 501}, {"RCPT TO:<carol@yahoo.test> NOTIFY=NEVER", 250}}},
      {"duplicate parameter 501", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test> RET=FULL RET=HDRS", 501}}},
      {"policy: unknown user 550, relay 554",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<nobody@yahoo.test>", 550},
        {"RCPT TO:<someone@elsewhere.test>", 554}, {"RCPT TO:<alice@yahoo.test>", 250}}},
      {"recipient limit 452",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 250},
        {"RCPT TO:<carol@yahoo.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 452}, {"DATA", 354}},
       [](ServerConfig& c) { c.max_recipients = 2; }},
      {"STARTTLS only after EHLO, not twice",
       {{"STARTTLS", 503}, {"EHLO x.test", 250}, {"STARTTLS now", 501}, {"STARTTLS", 220}, {"MAIL FROM:<a@b.test>", 503},
        {"EHLO x.test", 250}, {"STARTTLS", 503}}},
      {"STARTTLS not offered 502", {{"EHLO x.test", 250}, {"STARTTLS", 502}}, [](ServerConfig& c) { c.starttls = false; }},
      {"STARTTLS not inside a transaction", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"STARTTLS", 503}}},
      {"TLS required: 530 before STARTTLS",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 530}, {"STARTTLS", 220}, {"EHLO x.test", 250},
        {"MAIL FROM:<a@b.test>", 250}},
       [](ServerConfig& c) { c.require_tls = true; }},
      {"AUTH before TLS 538 when TLS offered", {{"EHLO x.test", 250}, {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 538}}},
      {"AUTH PLAIN initial response",
       {{"EHLO x.test", 250}, {"STARTTLS", 220}, {"EHLO x.test", 250}, {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235},
        {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 503}}},
      {"AUTH PLAIN wrong password 535",
       {{"EHLO x.test", 250}, {"STARTTLS", 220}, {"EHLO x.test", 250}, {"AUTH PLAIN AGFsaWNlAHdyb25n", 535}}},
      {"AUTH PLAIN challenge",
       {{"EHLO x.test", 250}, {"STARTTLS", 220}, {"EHLO x.test", 250}, {"AUTH PLAIN", 334}, {"AGFsaWNlAHNlY3JldA==", 235}}},
      {"AUTH LOGIN",
       {{"EHLO x.test", 250}, {"STARTTLS", 220}, {"EHLO x.test", 250}, {"AUTH LOGIN", 334}, {"YWxpY2U=", 334},
        {"c2VjcmV0", 235}}},
      {"AUTH LOGIN with initial user", {{"EHLO x.test", 250}, {"STARTTLS", 220}, {"EHLO x.test", 250}, {"AUTH LOGIN YWxpY2U=", 334}, {"c2VjcmV0", 235}}},
      {"AUTH cancelled and bad base64",
       {{"EHLO x.test", 250}, {"STARTTLS", 220}, {"EHLO x.test", 250}, {"AUTH LOGIN", 334}, {"*", 501}, {"AUTH PLAIN", 334},
        {"!!!", 501}, {"AUTH CRAM-MD5", 504}, {"AUTH", 501}, {"NOOP", 250}}},
      {"AUTH without TLS requirement", {{"EHLO x.test", 250}, {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235}},
       [](ServerConfig& c) { c.auth_requires_tls = false; }},
      {"submission: MAIL needs AUTH 530",
       {{"EHLO x.test", 250}, {"MAIL FROM:<alice@yahoo.test>", 530}, {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 235},
        {"MAIL FROM:<alice@yahoo.test>", 250}},
       [](ServerConfig& c) {
         c.require_auth = true;
         c.auth_requires_tls = false;
       }},
      {"AUTH not offered 502", {{"EHLO x.test", 250}, {"AUTH PLAIN AGFsaWNlAHNlY3JldA==", 502}}, [](ServerConfig& c) { c.auth = false; }},
      {"refused greeting: 503 to all but QUIT",
       {{"EHLO x.test", 503}, {"MAIL FROM:<a@b.test>", 503}, {"NOOP", 503}, {"HELP", 503}, {"QUIT", 221}},
       [](ServerConfig& c) { c.refuse = true; }},
      {"full transaction",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 250}, {"DATA", 354},
        {kBody, 250}, {"MAIL FROM:<a@b.test>", 250}, {"QUIT", 221}}},
      {"DATA with argument 501", {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 250}, {"DATA x", 501}, {"DATA", 354}}},
      {"message too big 552",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 250}, {"DATA", 354},
        {"Subject: a long message body that exceeds\r\n.", 552}, {"NOOP", 250}},
       [](ServerConfig& c) { c.max_message_size = 20; }},
      {"text line too long 500 at end of data",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 250}, {"DATA", 354},
        {std::string(1200, 'x') + "\r\n.", 500}}},
      {"1000-octet text line is fine",
       {{"EHLO x.test", 250}, {"MAIL FROM:<a@b.test>", 250}, {"RCPT TO:<alice@yahoo.test>", 250}, {"DATA", 354},
        {std::string(998, 'x') + "\r\n.", 250}}},
      {"512-octet command line limit",
       {{"NOOP " + std::string(505, 'x'), 250}, {"NOOP " + std::string(506, 'x'), 500}, {"NOOP", 250}}},
      {"bare LF in a command is refused, not split",
       {{"NOOP\nQUIT", 500}, {"NOOP", 250}}},
      {"bare CR in a command is refused", {{"NOOP\rQUIT", 500}, {"NOOP", 250}}},
      {"empty line 500", {{"", 500}}},
  };
}

}  // namespace

TEST_CASE("server dialogues: every rule, table-driven", "[smtp][server]") {
  for (const Case& c : cases()) {
    ServerConfig cfg = test_config();
    if (c.tweak) c.tweak(cfg);
    ServerDialogue d(cfg);
    std::string greeting = d.start();
    auto g = parse_all(greeting);
    REQUIRE(g.size() == 1);
    INFO("case: " << c.name);
    CHECK(g[0].code == (cfg.refuse ? 554 : 220));
    for (size_t i = 0; i < c.steps.size(); ++i) {
      const Step& st = c.steps[i];
      int got = d.code(st.line);
      INFO("step " << i << ": " << st.line.substr(0, 60) << " -> got " << got << ", want " << st.want);
      CHECK(got == st.want);
    }
    // No bad command may close the connection, unless QUIT was the last step.
    bool quit_last = !c.steps.empty() && c.steps.back().line == "QUIT";
    CHECK(d.s.closed() == quit_last);
  }
}

TEST_CASE("every reply after EHLO carries an enhanced code; none after HELO", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  Reply e = d.reply("EHLO x.test");
  CHECK(e.enhanced.empty());  // RFC 2034: not on EHLO replies
  for (const char* line : {"MAIL FROM:<a@b.test>", "RCPT TO:<nobody@yahoo.test>", "RCPT TO:<alice@yahoo.test>", "FOO",
                           "NOOP", "VRFY x", "EXPN y", "MAIL FROM:<x@y.test>", "RSET", "HELP"}) {
    Reply r = d.reply(line);
    INFO(line << " -> " << r.summary());
    CHECK(is_enhanced_status(r.enhanced));
    CHECK(r.enhanced[0] == static_cast<char>('0' + r.code / 100));
  }
  Reply q = d.reply("DATA");  // 503 here (RSET happened)
  CHECK(q.code == 503);
  CHECK(!q.enhanced.empty());
  ServerDialogue h;
  h.start();
  h.reply("HELO x.test");
  CHECK(h.reply("MAIL FROM:<a@b.test>").enhanced.empty());
  ServerConfig no = test_config();
  no.enhanced_status = false;
  ServerDialogue n(no);
  n.start();
  n.reply("EHLO x.test");
  CHECK(n.reply("NOOP").enhanced.empty());
}

TEST_CASE("EHLO advertises the personality's extensions", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  Reply r = d.reply("EHLO x.test");
  REQUIRE(r.code == 250);
  auto has = [&](std::string_view k) {
    for (auto& l : r.lines)
      if (l.rfind(k, 0) == 0) return true;
    return false;
  };
  CHECK(has("PIPELINING"));
  CHECK(has("SIZE 10485760"));
  CHECK(has("8BITMIME"));
  CHECK(has("ENHANCEDSTATUSCODES"));
  CHECK(has("DSN"));
  CHECK(has("STARTTLS"));
  CHECK_FALSE(has("AUTH"));  // only after TLS
  d.reply("STARTTLS");
  Reply t = d.reply("EHLO x.test");
  bool auth = false, starttls = false;
  for (auto& l : t.lines) {
    if (l.rfind("AUTH", 0) == 0) auth = true;
    if (l == "STARTTLS") starttls = true;
  }
  CHECK(auth);
  CHECK_FALSE(starttls);
  // HELO gets a single-line reply, never the EHLO list.
  ServerDialogue h;
  h.start();
  CHECK(h.reply("HELO x.test").lines.size() == 1);
  // From a personality.
  SmtpPersonality p;
  p.extensions = {"SIZE"};
  p.max_message_size = 1234;
  ServerConfig c = server_config_from(p, "mx.test");
  CHECK_FALSE(c.pipelining);
  CHECK(c.size);
  CHECK(c.max_message_size == 1234);
  CHECK(c.vrfy);  // the defaults: VRFY answered, EXPN disabled
  CHECK_FALSE(c.expn);
  p.vrfy = false;
  p.expn = true;
  c = server_config_from(p, "mx.test");
  CHECK_FALSE(c.vrfy);
  CHECK(c.expn);
}

TEST_CASE("data transparency: un-stuffing, only CRLF.CRLF ends, bare LF/CR refused", "[smtp][server]") {
  auto run = [](std::string body, bool bytewise) {
    ServerDialogue d;
    d.start();
    d.cmd("EHLO x.test");
    d.cmd("MAIL FROM:<a@b.test>");
    d.cmd("RCPT TO:<alice@yahoo.test>");
    d.cmd("DATA");
    std::string out = bytewise ? d.send_bytewise(body) : d.send_raw(body);
    return std::make_pair(parse_all(out), d.policy.stored);
  };
  for (bool bw : {false, true}) {
    INFO("bytewise " << bw);
    auto [r1, st1] = run("Subject: x\r\n\r\n..leading dot\r\n.\r\n", bw);
    REQUIRE(r1.size() == 1);
    CHECK(r1[0].code == 250);
    REQUIRE(st1.size() == 1);
    CHECK(st1[0].content == "Subject: x\r\n\r\n.leading dot\r\n");
    // Empty message.
    auto [r2, st2] = run(".\r\n", bw);
    CHECK(r2.at(0).code == 250);
    CHECK(st2.at(0).content.empty());
    // Smuggling: "\n.\n" and "\r.\r" never end the data; the message is refused at the real end.
    auto [r3, st3] = run("Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@x.test>\r\n.\r\n", bw);
    REQUIRE(r3.size() == 1);
    CHECK(r3[0].code == 554);
    CHECK(st3.empty());
    auto [r4, st4] = run("hi\r.\rQUIT\r\n.\r\n", bw);
    REQUIRE(r4.size() == 1);
    CHECK(r4[0].code == 554);
    auto [r5, st5] = run("hi\r\n.\nNOOP\r\n.\r\n", bw);
    REQUIRE(r5.size() == 1);
    CHECK(r5[0].code == 554);
    // ".." alone is a stuffed single dot line.
    auto [r6, st6] = run("..\r\n.\r\n", bw);
    CHECK(st6.at(0).content == ".\r\n");
  }
}

TEST_CASE("DSN parameters, SIZE and BODY are kept with the message", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  d.cmd("EHLO x.test");
  CHECK(d.code("MAIL FROM:<a@b.test> SIZE=30 BODY=8BITMIME RET=FULL ENVID=abc+2Bdef") == 250);
  CHECK(d.code("RCPT TO:<alice@yahoo.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;alice+40yahoo.test") == 250);
  CHECK(d.code("DATA") == 354);
  CHECK(d.code("x\r\n.") == 250);
  REQUIRE(d.policy.stored.size() == 1);
  const Envelope& e = d.policy.stored[0].envelope;
  CHECK(e.reverse_path == "a@b.test");
  CHECK(e.size == 30);
  CHECK(e.body == BodyType::eight_bit_mime);
  CHECK(e.ret == DsnRet::full);
  CHECK(e.envid == "abc+def");
  REQUIRE(e.recipients.size() == 1);
  CHECK(e.recipients[0].notify == (kNotifyFailure | kNotifyDelay));
  CHECK(e.recipients[0].orcpt == "rfc822;alice@yahoo.test");
}

TEST_CASE("pipelined commands in one chunk get all their replies, in order", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  d.cmd("EHLO x.test");
  std::string out = d.send_raw(
      "MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@yahoo.test>\r\nRCPT TO:<nobody@yahoo.test>\r\nDATA\r\n");
  auto rs = parse_all(out);
  REQUIRE(rs.size() == 4);
  CHECK(rs[0].code == 250);
  CHECK(rs[1].code == 250);
  CHECK(rs[2].code == 550);
  CHECK(rs[3].code == 354);
  // All recipients refused: DATA gets 554 (RFC 2920 3.1).
  ServerDialogue e;
  e.start();
  e.cmd("EHLO x.test");
  auto rs2 = parse_all(e.send_raw("MAIL FROM:<a@b.test>\r\nRCPT TO:<nobody@yahoo.test>\r\nDATA\r\n"));
  REQUIRE(rs2.size() == 3);
  CHECK(rs2[2].code == 554);
}

TEST_CASE("pipelining not honoured: input sent before a reply is lost", "[smtp][server]") {
  ServerConfig c = test_config();
  c.honour_pipelining = false;
  ServerDialogue d(c);
  d.start();
  d.cmd("EHLO x.test");
  auto rs = parse_all(d.send_raw("MAIL FROM:<a@b.test>\r\nRCPT TO:<alice@yahoo.test>\r\n"));
  CHECK(rs.size() == 1);
  CHECK(d.s.state() == ServerState::mail);
}

TEST_CASE("STARTTLS discards pipelined plaintext and resets the session", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  d.cmd("EHLO x.test");
  auto rs = parse_all(d.send_raw("STARTTLS\r\nMAIL FROM:<evil@x.test>\r\n"));
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].code == 220);
  CHECK(d.s.tls());
  CHECK(d.s.state() == ServerState::greeting);
  bool tls_record = false;
  for (auto& r : d.records)
    if (r.kind == Kind::smtp_tls) tls_record = true;
  CHECK(tls_record);
  CHECK(d.code("MAIL FROM:<a@b.test>") == 503);  // must EHLO again
}

TEST_CASE("timeouts: per-state deadline, 421 and close", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  CHECK(d.s.deadline() == minutes(5));
  d.now = minutes(4);
  d.cmd("EHLO x.test");
  CHECK(d.s.deadline() == minutes(9));
  d.now = minutes(9);
  d.s.on_timer(d.now);
  auto rs = parse_all(d.take());
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].code == 421);
  CHECK(d.s.closed());
  CHECK(d.s.deadline() == SimTime::max());
  bool timeout_rec = false;
  for (auto& r : d.records)
    if (r.kind == Kind::smtp_timeout) timeout_rec = true;
  CHECK(timeout_rec);
}

TEST_CASE("shutdown sends 421 and closes; peer_closed drops the transaction", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  d.cmd("EHLO x.test");
  d.s.shutdown(d.now);
  auto rs = parse_all(d.take());
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].code == 421);
  CHECK(rs[0].enhanced == "4.3.2");
  CHECK(d.s.output().closed);
  ServerDialogue e;
  e.start();
  e.cmd("EHLO x.test");
  e.cmd("MAIL FROM:<a@b.test>");
  e.cmd("RCPT TO:<alice@yahoo.test>");
  e.cmd("DATA");
  e.send_raw("partial body\r\n");
  e.s.peer_closed(e.now);
  CHECK(e.s.closed());
  CHECK(e.policy.stored.empty());
  // Bytes after close are ignored.
  e.s.receive(e.now, "NOOP\r\n");
  CHECK(e.take().empty());
}

TEST_CASE("an over-long command line costs bounded memory", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  std::string chunk(64 * 1024, 'A');
  for (int i = 0; i < 32; ++i) d.send_raw(chunk);  // 2 MB, no CRLF
  auto rs = parse_all(d.send_raw("\r\n"));
  REQUIRE(rs.size() == 1);
  CHECK(rs[0].code == 500);
  CHECK(d.code("NOOP") == 250);
}

TEST_CASE("endless DATA beyond the size limit is counted, not stored", "[smtp][server]") {
  ServerConfig c = test_config();
  c.max_message_size = 1000;
  ServerDialogue d(c);
  d.start();
  d.cmd("EHLO x.test");
  d.cmd("MAIL FROM:<a@b.test>");
  d.cmd("RCPT TO:<alice@yahoo.test>");
  d.cmd("DATA");
  std::string line(500, 'x');
  line += "\r\n";
  for (int i = 0; i < 2000; ++i) d.send_raw(line);
  CHECK(d.code(".") == 552);
  CHECK(d.policy.stored.empty());
}

// ---- fault hooks


TEST_CASE("fault hooks: reply at the nth verb, only for one recipient", "[smtp][server][faults]") {
  ServerFaults faults;
  ServerConfig c = test_config();
  c.faults = &faults;
  ServerFault f;
  f.kind = ServerFault::Kind::reply;
  f.verb = FaultVerb::rcpt;
  f.nth = 2;
  f.code = 451;
  uint64_t h = faults.add(f);
  ServerDialogue d(c);
  d.start();
  d.cmd("EHLO x.test");
  d.cmd("MAIL FROM:<a@b.test>");
  CHECK(d.code("RCPT TO:<alice@yahoo.test>") == 250);
  CHECK(d.code("RCPT TO:<carol@yahoo.test>") == 451);
  CHECK(d.code("RCPT TO:<carol@yahoo.test>") == 250);
  CHECK(faults.remove(h));
  CHECK_FALSE(faults.remove(h));

  ServerFault g;
  g.kind = ServerFault::Kind::reply;
  g.verb = FaultVerb::rcpt;
  g.nth = 0;
  g.code = 550;
  g.recipient = "Carol@yahoo.test";
  faults.add(g);
  ServerDialogue e(c);
  e.start();
  e.cmd("EHLO x.test");
  e.cmd("MAIL FROM:<a@b.test>");
  CHECK(e.code("RCPT TO:<alice@yahoo.test>") == 250);
  CHECK(e.code("RCPT TO:<carol@yahoo.test>") == 550);
  CHECK(e.code("RCPT TO:<carol@yahoo.test>") == 550);
  faults.clear();
  CHECK(e.code("RCPT TO:<carol@yahoo.test>") == 250);
}

TEST_CASE("fault hooks: counting is per host, across sessions", "[smtp][server][faults]") {
  ServerFaults faults;
  ServerConfig c = test_config();
  c.faults = &faults;
  ServerFault f;
  f.kind = ServerFault::Kind::reply;
  f.verb = FaultVerb::mail;
  f.nth = 1;
  f.code = 421;
  faults.add(f);
  ServerDialogue a(c);
  a.start();
  a.cmd("EHLO x.test");
  CHECK(a.code("MAIL FROM:<a@b.test>") == 421);
  CHECK(a.s.closed());  // 421 closes (RFC 5321 3.8)
  ServerDialogue b(c);
  b.start();
  b.cmd("EHLO x.test");
  CHECK(b.code("MAIL FROM:<a@b.test>") == 250);
}

TEST_CASE("fault hooks: disconnect, shutdown, delay, greeting", "[smtp][server][faults]") {
  ServerFaults faults;
  ServerConfig c = test_config();
  c.faults = &faults;
  {
    ServerFault f;
    f.kind = ServerFault::Kind::disconnect;
    f.verb = FaultVerb::data;
    uint64_t h = faults.add(f);
    ServerDialogue d(c);
    d.start();
    d.cmd("EHLO x.test");
    d.cmd("MAIL FROM:<a@b.test>");
    d.cmd("RCPT TO:<alice@yahoo.test>");
    CHECK(d.cmd("DATA").empty());
    CHECK(d.s.closed());
    faults.remove(h);
  }
  {
    ServerFault f;
    f.kind = ServerFault::Kind::shutdown;
    f.verb = FaultVerb::ehlo;
    uint64_t h = faults.add(f);
    ServerDialogue d(c);
    d.start();
    CHECK(d.code("EHLO x.test") == 421);
    CHECK(d.s.closed());
    faults.remove(h);
  }
  {
    ServerFault f;
    f.kind = ServerFault::Kind::delay;
    f.verb = FaultVerb::mail;
    f.delay = minutes(7);
    uint64_t h = faults.add(f);
    ServerDialogue d(c);
    d.start();
    d.cmd("EHLO x.test");
    CHECK(d.cmd("MAIL FROM:<a@b.test>").empty());
    CHECK(d.cmd("RCPT TO:<alice@yahoo.test>").empty());  // server busy: input waits
    CHECK(d.s.deadline() == d.now + minutes(7));
    d.now = minutes(7);
    d.s.on_timer(d.now);
    auto rs = parse_all(d.take());
    REQUIRE(rs.size() == 2);
    CHECK(rs[0].code == 250);
    CHECK(rs[1].code == 250);
    faults.remove(h);
  }
  {
    ServerFault f;
    f.kind = ServerFault::Kind::reply;
    f.verb = FaultVerb::connect;
    f.code = 554;
    uint64_t h = faults.add(f);
    ServerDialogue d(c);
    auto g = parse_all(d.start());
    REQUIRE(g.size() == 1);
    CHECK(g[0].code == 554);
    CHECK(d.code("EHLO x.test") == 503);
    CHECK(d.code("QUIT") == 221);
    faults.remove(h);
  }
}

TEST_CASE("fault hooks: drop-final-reply queues, then closes without the 250", "[smtp][server][faults]") {
  ServerFaults faults;
  ServerConfig c = test_config();
  c.faults = &faults;
  ServerFault f;
  f.kind = ServerFault::Kind::drop_final_reply;
  faults.add(f);
  ServerDialogue d(c);
  d.start();
  d.cmd("EHLO x.test");
  d.cmd("MAIL FROM:<a@b.test>");
  d.cmd("RCPT TO:<alice@yahoo.test>");
  d.cmd("DATA");
  CHECK(d.cmd("hello\r\n.").empty());
  CHECK(d.s.closed());
  CHECK(d.policy.stored.size() == 1);  // queued: it will be delivered (and duplicated by the retry)
  bool reply_rec = false;
  for (auto& r : d.records)
    if (r.kind == Kind::smtp_reply && r.attr("code") == "250" && r.attr("verb") == "EOD") reply_rec = true;
  CHECK_FALSE(reply_rec);
}

TEST_CASE("fault hooks from scenario faults", "[smtp][server][faults]") {
  Fault f;
  f.type = "smtp-reply";
  f.verb = "rcpt";
  f.code = 452;
  f.nth = 3;
  std::string err;
  auto s = ServerFaults::from_scenario(f, &err);
  REQUIRE(s);
  CHECK(s->verb == FaultVerb::rcpt);
  CHECK(s->nth == 3);
  f.code = 250;
  CHECK_FALSE(ServerFaults::from_scenario(f, &err));
  CHECK(err.find("400..559") != std::string::npos);
  f.type = "drop-final-reply";
  auto d = ServerFaults::from_scenario(f, &err);
  REQUIRE(d);
  CHECK(d->verb == FaultVerb::eod);
  f.type = "host-down";
  CHECK_FALSE(ServerFaults::from_scenario(f, &err));
  f.type = "smtp-delay";
  f.verb = "BOGUS";
  CHECK_FALSE(ServerFaults::from_scenario(f, &err));
}

TEST_CASE("command table drives HELP and lists states", "[smtp][server]") {
  CHECK(server_commands().size() == static_cast<size_t>(kVerbCount));
  for (const CommandInfo& c : server_commands()) {
    CHECK(!c.syntax.empty());
    CHECK(!c.summary.empty());
    CHECK(verb_from_name(c.name) == c.verb);
  }
  ServerDialogue d;
  d.start();
  Reply h = d.reply("HELP");
  CHECK(h.code == 214);
  std::string all = h.text();
  for (const CommandInfo& c : server_commands()) {
    if (c.verb == Verb::expn) continue;  // disabled in this personality: not listed
    INFO(c.name);
    CHECK(all.find(std::string(c.name)) != std::string::npos);
  }
  CHECK(server_states().size() == 9);
  for (const ServerTransition& t : server_transitions()) CHECK(!t.trigger.empty());
}

TEST_CASE("records: replies and state changes carry attributes", "[smtp][server]") {
  ServerDialogue d;
  d.start();
  d.cmd("EHLO x.test");
  d.cmd("MAIL FROM:<a@b.test>");
  bool saw_reply = false, saw_state = false;
  for (const Record& r : d.records) {
    CHECK(r.src == "mx.yahoo.test");
    CHECK(r.dst == "smtp.gmail.test");
    CHECK(r.session == 1);
    if (r.kind == Kind::smtp_reply && r.attr("verb") == "MAIL") {
      saw_reply = true;
      CHECK(r.attr("code") == "250");
      CHECK(r.attr("enhanced") == "2.1.0");
      CHECK(r.wire == "250 2.1.0 Ok\r\n");
    }
    if (r.kind == Kind::smtp_state && r.attr("state") == "mail") saw_state = true;
  }
  CHECK(saw_reply);
  CHECK(saw_state);
  // With record_received, commands from a real client are on the trace too.
  ServerDialogue b;
  b.s.set_record_received(true);
  b.start();
  b.cmd("EHLO real.client");
  bool cmd = false;
  for (const Record& r : b.records)
    if (r.kind == Kind::smtp_command && r.src == "smtp.gmail.test" && r.text == "EHLO real.client") cmd = true;
  CHECK(cmd);
}

// ---- regressions found by the fuzzers (tests/fuzz)

TEST_CASE("fuzz regression: a late timer with a held reply does not overflow the deadline", "[smtp][server][fuzz]") {
  // fuzz_server_session: on_timer(near SimTime::max()) released a delayed
  // reply and re-armed now + 5 min: signed overflow.
  ServerFaults faults;
  ServerConfig c = test_config();
  c.faults = &faults;
  ServerFault f;
  f.kind = ServerFault::Kind::delay;
  f.verb = FaultVerb::ehlo;
  f.delay = sec(30);
  faults.add(f);
  ServerDialogue d(c);
  d.start();
  d.cmd("EHLO x.test");
  d.s.on_timer(SimTime::max() - sec(1));
  CHECK(d.s.deadline() == SimTime::max());
  CHECK(parse_all(d.take()).size() == 1);
}
