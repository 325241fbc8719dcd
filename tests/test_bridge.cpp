// tests/test_bridge.cpp: the parts of `smtplab serve` that need no socket:
// endpoint parsing and the loopback rule, option checks, Maildir naming and
// writing, the recipient policy (never an open relay) and delivery before 250.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/bridge/bridge_policy.hpp"
#include "sim/bridge/endpoint.hpp"
#include "sim/bridge/local_policy.hpp"
#include "sim/bridge/maildir.hpp"
#include "sim/bridge/serve.hpp"
#include "sim/bridge/serve_args.hpp"
#include "sim/scenario/loader.hpp"
#include "test_helpers.hpp"

using namespace smtplab;
using namespace smtplab::bridge;

namespace {

std::string temp_dir(const char* tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string("smtplab-") + tag + "-XXXXXX")).string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

Scenario two_domain_scenario() {
  LoadResult r = load_scenario_text(R"({
    "smtplab": 1, "name": "t",
    "hosts": [
      { "name": "bob-pc", "role": "user-agent", "user": "bob@gmail.test", "server": "smtp.gmail.test" },
      { "name": "smtp.gmail.test", "role": "mail-server", "domains": ["gmail.test"] },
      { "name": "ns.test", "role": "dns-server" },
      { "name": "mx.yahoo.test", "role": "mail-server", "domains": ["yahoo.test", "yahoo.example"],
        "mailboxes": ["carol"], "aliases": {"info": "carol", "fwd": "bob@gmail.test"} },
      { "name": "alice-pc", "role": "user-agent", "user": "alice@yahoo.test", "server": "mx.yahoo.test" }
    ],
    "messages": [ { "from": "bob@gmail.test", "to": "alice@yahoo.test", "at": "1s", "subject": "s", "body": "b" } ]
  })",
                                    "<test>");
  for (const auto& e : r.errors) INFO(e.format());
  REQUIRE(r.ok());
  return *r.scenario;
}

}  // namespace

TEST_CASE("parse_endpoint accepts loopback forms and rejects junk with a reason", "[bridge]") {
  struct Case {
    const char* text;
    bool ok;
    const char* address;
    int port;
  };
  const Case cases[] = {
      {"127.0.0.1:2525", true, "127.0.0.1", 2525},
      {"localhost:25", true, "127.0.0.1", 25},
      {":2526", true, "127.0.0.1", 2526},
      {"2527", true, "127.0.0.1", 2527},
      {"[::1]:2525", true, "::1", 2525},
      {"0.0.0.0:2525", true, "0.0.0.0", 2525},
      {"127.0.0.1:0", true, "127.0.0.1", 0},
      {"", false, "", 0},
      {"127.0.0.1", false, "", 0},  // no port
      {"127.0.0.1:", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:-1", false, "", 0},
      {"127.0.0.1:25x", false, "", 0},
      {"mail.example.com:25", false, "", 0},
      {"1.2.3:25", false, "", 0},
      {"::1:25", false, "", 0},
      {"[::1]", false, "", 0},
      {"[::1:25", false, "", 0},
      {"[nothex]:25", false, "", 0},
      {"127.0.0.1:99999999999999", false, "", 0},
  };
  for (const Case& c : cases) {
    std::string why;
    auto e = parse_endpoint(c.text, &why, /*allow_port_zero=*/true);
    INFO("input \"" << c.text << "\": got " << (e ? e->to_string() : "error: " + why));
    REQUIRE(e.has_value() == c.ok);
    if (c.ok) {
      CHECK(e->address == c.address);
      CHECK(e->port == c.port);
    } else {
      CHECK_FALSE(why.empty());
    }
  }
  std::string why;
  CHECK_FALSE(parse_endpoint("127.0.0.1:0", &why, /*allow_port_zero=*/false));
}

TEST_CASE("is_loopback: only 127/8 and ::1", "[bridge]") {
  auto lo = [](const char* t) {
    std::string why;
    auto e = parse_endpoint(t, &why, true);
    REQUIRE(e);
    return is_loopback(*e);
  };
  CHECK(lo("127.0.0.1:1"));
  CHECK(lo("127.255.0.9:1"));
  CHECK(lo("[::1]:1"));
  CHECK(lo("[::ffff:127.0.0.1]:1"));
  CHECK_FALSE(lo("0.0.0.0:1"));
  CHECK_FALSE(lo("10.0.0.1:1"));
  CHECK_FALSE(lo("128.0.0.1:1"));
  CHECK_FALSE(lo("[::]:1"));
  CHECK_FALSE(lo("[::ffff:10.0.0.1]:1"));
}

TEST_CASE("parse_serve_args: every bad value is one specific error", "[bridge]") {
  struct Case {
    const char* what;
    ServeArgs args;
    const char* error_has;  // "" = must parse
  };
  auto with = [](auto f) {
    ServeArgs a;
    f(a);
    return a;
  };
  const Case cases[] = {
      {"defaults", ServeArgs{}, ""},
      {"bad listen", with([](ServeArgs& a) { a.listen = "nonsense"; }), "--listen nonsense"},
      {"host name listen", with([](ServeArgs& a) { a.listen = "example.com:25"; }), "not a numeric IP"},
      {"idle 0", with([](ServeArgs& a) { a.idle_timeout = "0"; }), "--idle-timeout"},
      {"idle junk", with([](ServeArgs& a) { a.idle_timeout = "soon"; }), "--idle-timeout"},
      {"idle too long", with([](ServeArgs& a) { a.idle_timeout = "2h"; }), "3600"},
      {"idle 1.5", with([](ServeArgs& a) { a.idle_timeout = "1.5"; }), ""},
      {"idle 2min", with([](ServeArgs& a) { a.idle_timeout = "2min"; }), ""},
      {"duration junk", with([](ServeArgs& a) { a.duration = "-3"; }), "--duration"},
      {"duration ok", with([](ServeArgs& a) { a.duration = "5"; }), ""},
      {"relay bad", with([](ServeArgs& a) { a.relay_to = "127.0.0.1"; }), "--relay-to"},
      {"relay port 0", with([](ServeArgs& a) { a.relay_to = "127.0.0.1:0"; }), "--relay-to"},
      {"max 0", with([](ServeArgs& a) { a.max_connections = "0"; }), "--max-connections"},
      {"max huge", with([](ServeArgs& a) { a.max_connections = "99999999"; }), "--max-connections"},
      {"max text", with([](ServeArgs& a) { a.max_connections = "ten"; }), "--max-connections"},
      {"max ok", with([](ServeArgs& a) { a.max_connections = "600"; }), ""},
  };
  for (const Case& c : cases) {
    std::string why;
    auto p = parse_serve_args(c.args, &why);
    INFO(c.what << ": got " << (p ? "ok" : why));
    if (std::string(c.error_has).empty()) {
      CHECK(p.has_value());
    } else {
      REQUIRE_FALSE(p.has_value());
      CHECK(why.find(c.error_has) != std::string::npos);
      CHECK(why.find('\n') == std::string::npos);
    }
  }
  std::string why;
  auto p = parse_serve_args(with([](ServeArgs& a) { a.idle_timeout = "1.5"; }), &why);
  REQUIRE(p);
  CHECK(p->options.idle_timeout->us == 1500000);
  CHECK_FALSE(p->non_loopback);
  p = parse_serve_args(with([](ServeArgs& a) { a.listen = "0.0.0.0:2525"; }), &why);
  REQUIRE(p);
  CHECK(p->non_loopback);
  CHECK(non_loopback_warning(p->options.listen).find("WARNING") != std::string::npos);
}

TEST_CASE("check_serve_options: default host, unknown host, wrong role", "[bridge]") {
  const Scenario sc = default_scenario();
  CHECK(default_serve_host(sc) == "mx.yahoo.test");
  ServeOptions o;
  CHECK(check_serve_options(sc, o).empty());
  CHECK(o.host == "mx.yahoo.test");
  o.host = "nope.test";
  std::string e = check_serve_options(sc, o);
  CHECK(e.find("no such host") != std::string::npos);
  CHECK(e.find("mx.yahoo.test") != std::string::npos);  // lists the choices
  o.host = "bob-pc";
  CHECK(check_serve_options(sc, o).find("not a mail server") != std::string::npos);
  o.host = "smtp.gmail.test";
  CHECK(check_serve_options(sc, o).empty());
  o.relay_to = o.listen;
  CHECK(check_serve_options(sc, o).find("mail loop") != std::string::npos);
}

TEST_CASE("maildir_folder_name never escapes the root and is injective on odd bytes", "[bridge]") {
  struct Case {
    const char* in;
    const char* want;
  };
  const Case cases[] = {
      {"alice@yahoo.test", "alice@yahoo.test"},
      {"Alice@Yahoo.TEST", "alice@yahoo.test"},
      {"../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd"},
      {".", "%2E"},
      {"..", "%2E."},
      {"", "%00"},
      {"a/b@x", "a%2Fb@x"},
      {"a%2Fb@x", "a%252fb@x"},
      {"\"sp ace\"@x", "\"sp%20ace\"@x"},
      {"ctl\x01@x", "ctl%01@x"},
      {"\xc3\xa9@x", "%C3%A9@x"},
      {"back\\slash@x", "back%5Cslash@x"},
  };
  for (const Case& c : cases) {
    const std::string got = maildir_folder_name(c.in);
    INFO("input \"" << c.in << "\": got " << got << ", want " << c.want);
    CHECK(got == c.want);
    CHECK(got.find('/') == std::string::npos);
    CHECK(got != ".");
    CHECK(got != "..");
  }
}

TEST_CASE("maildir_unique_name follows the time.MusecPpidQn.host form", "[bridge]") {
  CHECK(maildir_unique_name(1700000000, 42, 123, 7, "mx.yahoo.test") == "1700000000.M42P123Q7.mx.yahoo.test");
  CHECK(maildir_unique_name(1, 2, 3, 4, "a/b:c") == "1.M2P3Q4.a\\057b\\072c");
}

TEST_CASE("maildir_message_text: Return-Path first, CRLF to LF, dots and bare CR kept", "[bridge]") {
  const std::string got = maildir_message_text("bob@gmail.test", "alice@yahoo.test",
                                               "Subject: x\r\n\r\n.\r\n..two\r\nbare\rcr\r\n");
  CHECK(got == "Return-Path: <bob@gmail.test>\nDelivered-To: alice@yahoo.test\nSubject: x\n\n.\n..two\nbare\rcr\n");
  CHECK(maildir_message_text("", "p@x", "") == "Return-Path: <>\nDelivered-To: p@x\n");
}

TEST_CASE("MaildirWriter: tmp then new, unique names, nothing left in tmp", "[bridge]") {
  const std::string root = temp_dir("maildir");
  MaildirWriter w(root + "/md", "mx.yahoo.test", /*sync=*/true);
  std::string why;
  REQUIRE(w.prepare(&why));
  const std::string p1 = w.deliver("alice@yahoo.test", "bob@gmail.test", "Subject: 1\r\n\r\nhello\r\n", &why);
  const std::string p2 = w.deliver("alice@yahoo.test", "bob@gmail.test", "Subject: 2\r\n\r\nhello\r\n", &why);
  REQUIRE_FALSE(p1.empty());
  REQUIRE_FALSE(p2.empty());
  CHECK(p1 != p2);
  CHECK(p1.find(root + "/md/alice@yahoo.test/new/") == 0);
  namespace fs = std::filesystem;
  size_t in_new = 0, in_tmp = 0;
  for (auto& e : fs::directory_iterator(root + "/md/alice@yahoo.test/new")) in_new += e.is_regular_file();
  for (auto& e : fs::directory_iterator(root + "/md/alice@yahoo.test/tmp")) in_tmp += e.is_regular_file();
  CHECK(in_new == 2);
  CHECK(in_tmp == 0);
  CHECK(fs::is_directory(root + "/md/alice@yahoo.test/cur"));
  CHECK(testing::read_file(p1) == "Return-Path: <bob@gmail.test>\nDelivered-To: alice@yahoo.test\nSubject: 1\n\nhello\n");
  // A hostile address stays inside the root.
  const std::string p3 = w.deliver("../../escape@x", "", "x\r\n", &why);
  REQUIRE_FALSE(p3.empty());
  CHECK(p3.find(root + "/md/%2E.%2F..%2Fescape@x/new/") == 0);
  CHECK_FALSE(fs::exists(root + "/escape@x"));
  // A root that cannot be created is an error, not a crash.
  MaildirWriter bad("/proc/definitely/not/here", "h");
  CHECK_FALSE(bad.prepare(&why));
  CHECK_FALSE(why.empty());
  fs::remove_all(root);
}

TEST_CASE("RecipientPolicy: local, alias, postmaster, catch-all, relay and never an open relay", "[bridge]") {
  const Scenario sc = two_domain_scenario();
  const Host& mx = *sc.find_host("mx.yahoo.test");
  using A = RecipientVerdict::Action;
  struct Case {
    const char* rcpt;
    bool catch_all;
    bool can_relay;
    A want;
    const char* mailbox_or_enh;
  };
  const Case cases[] = {
      {"alice@yahoo.test", false, false, A::deliver, "alice@yahoo.test"},  // from the user agent
      {"ALICE@YAHOO.TEST", false, false, A::deliver, "alice@yahoo.test"},
      {"alice@yahoo.test.", false, false, A::deliver, "alice@yahoo.test"},
      {"carol@yahoo.example", false, false, A::deliver, "carol@yahoo.example"},
      {"carol@mx.yahoo.test", false, false, A::deliver, "carol@mx.yahoo.test"},
      {"info@yahoo.test", false, false, A::deliver, "carol@yahoo.test"},  // alias
      {"postmaster@yahoo.test", false, false, A::deliver, "postmaster@yahoo.test"},
      {"Postmaster", false, false, A::deliver, "postmaster@yahoo.test"},
      {"nobody@yahoo.test", false, false, A::refuse, "5.1.1"},
      {"nobody@yahoo.test", true, false, A::deliver, "nobody@yahoo.test"},
      {"nobody", false, false, A::refuse, "5.1.3"},
      {"bob@gmail.test", false, false, A::refuse, "5.7.1"},  // scenario domain, but no route out
      {"bob@gmail.test", false, true, A::relay, "bob@gmail.test"},
      {"fwd@yahoo.test", false, true, A::refuse, "5.1.1"},  // alias to a remote address is not followed
      {"victim@example.com", false, false, A::refuse, "5.7.1"},
      {"victim@example.com", true, true, A::refuse, "5.7.1"},  // never an open relay, whatever the flags
      {"x@gmail.test.evil.com", false, true, A::refuse, "5.7.1"},
      {"x@[127.0.0.1]", false, true, A::refuse, "5.7.1"},
  };
  for (const Case& c : cases) {
    RecipientPolicy p(sc, mx, RecipientPolicyOptions{c.catch_all, c.can_relay});
    const RecipientVerdict v = p.classify(c.rcpt);
    INFO(c.rcpt << " catch_all=" << c.catch_all << " relay=" << c.can_relay << ": got action "
                << static_cast<int>(v.action) << " " << v.mailbox << v.enhanced << " " << v.text);
    CHECK(v.action == c.want);
    if (c.want == A::refuse) {
      CHECK(v.code / 100 == 5);
      CHECK(v.enhanced == c.mailbox_or_enh);
      CHECK_FALSE(v.text.empty());
    } else {
      CHECK(v.mailbox == c.mailbox_or_enh);
    }
  }
}

TEST_CASE("BridgePolicy delivers to the Maildir before the 250 and refuses other domains", "[bridge]") {
  const Scenario sc = two_domain_scenario();
  const Host& mx = *sc.find_host("mx.yahoo.test");
  const std::string root = temp_dir("policy");
  MaildirWriter w(root, mx.name, false);
  std::string why;
  REQUIRE(w.prepare(&why));
  BridgePolicy p(sc, mx, RecipientPolicyOptions{false, true});
  p.set_maildir(&w);
  std::vector<std::string> relayed;
  p.set_relay([&](const std::string& qid, const smtp::Envelope& env, std::string_view) {
    for (const auto& r : env.recipients) relayed.push_back(qid + " " + r.address);
    return true;
  });
  smtp::Output out;
  p.set_output(&out, 9);
  smtp::PolicyContext ctx;
  smtp::Envelope env;
  env.reverse_path = "someone@outside.test";
  CHECK_FALSE(p.check_recipient(ctx, env, smtp::Recipient{"alice@yahoo.test", 0, ""}).has_value());
  auto refused = p.check_recipient(ctx, env, smtp::Recipient{"victim@example.com", 0, ""});
  REQUIRE(refused.has_value());
  CHECK(refused->code == 550);
  CHECK(refused->enhanced == "5.7.1");
  env.recipients = {smtp::Recipient{"alice@yahoo.test", 0, ""}, smtp::Recipient{"bob@gmail.test", 0, ""}};
  const smtp::Reply r = p.accept_message(ctx, env, "Subject: hi\r\n\r\n.lonely dot line\r\n");
  CHECK(r.code == 250);
  CHECK(r.text().find("B000001") != std::string::npos);
  CHECK(p.delivered() == 1);
  REQUIRE(relayed.size() == 1);
  CHECK(relayed[0] == "B000001 bob@gmail.test");
  bool queued = false, delivered = false;
  for (const Record& rec : out.records) {
    queued = queued || rec.kind == Kind::message_queued;
    delivered = delivered || (rec.kind == Kind::message_delivered && rec.attr("mailbox") == "alice@yahoo.test");
    CHECK(rec.session == 9);
  }
  CHECK(queued);
  CHECK(delivered);
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(root + "/alice@yahoo.test/new")) {
    ++files;
    CHECK(testing::read_file(e.path().string()).find("\n.lonely dot line\n") != std::string::npos);
  }
  CHECK(files == 1);
  // A full relay queue is a 452, never a silent drop.
  p.set_relay([](const std::string&, const smtp::Envelope&, std::string_view) { return false; });
  env.recipients = {smtp::Recipient{"bob@gmail.test", 0, ""}};
  CHECK(p.accept_message(ctx, env, "x\r\n").code == 452);
  std::filesystem::remove_all(root);
}

TEST_CASE("BridgePolicy: a Maildir that cannot be written gives 451, not 250", "[bridge]") {
  const Scenario sc = two_domain_scenario();
  const Host& mx = *sc.find_host("mx.yahoo.test");
  const std::string root = temp_dir("ro");
  MaildirWriter w(root, mx.name, false);
  std::string why;
  REQUIRE(w.prepare(&why));
  // A file where the mailbox folder should be.
  { std::ofstream(root + "/alice@yahoo.test") << "in the way"; }
  BridgePolicy p(sc, mx, RecipientPolicyOptions{});
  p.set_maildir(&w);
  smtp::PolicyContext ctx;
  smtp::Envelope env;
  env.recipients = {smtp::Recipient{"alice@yahoo.test", 0, ""}};
  const smtp::Reply r = p.accept_message(ctx, env, "x\r\n");
  CHECK(r.code == 451);
  CHECK(p.accepted() == 0);
  std::filesystem::remove_all(root);
}

namespace {

// Drives a ServerSession the way the bridge does: input in read-buffer-sized
// chunks; collects the reply lines.
struct Driven {
  smtp::ServerConfig cfg;
  smtp::BasicPolicy policy;
  smtp::ServerSession session;
  std::string wire;
  explicit Driven(const smtp::ServerConfig& c) : cfg(c), session(cfg, policy, smtp::SessionInfo{"mx.yahoo.test", "127.0.0.1:1", "127.0.0.1", 1, false}) {
    policy.domains = {"yahoo.test"};
    policy.mailboxes = {"alice@yahoo.test"};
    policy.keep_messages = false;
    session.start(SimTime{0});
    take();
  }
  void take() {
    wire += session.output().bytes;
    session.output().clear();
  }
  void feed(std::string_view bytes) {
    while (!bytes.empty()) {
      const size_t n = std::min(bytes.size(), kReadBufferSize);
      session.receive(SimTime{1}, bytes.substr(0, n));
      take();
      // Whatever a peer sends, what the bridge must hold for it stays small.
      REQUIRE(may_read_more(wire.size()));
      bytes.remove_prefix(n);
    }
  }
  std::vector<std::string> replies() {  // final lines of each reply, in order
    std::vector<std::string> out;
    size_t pos = 0;
    while (true) {
      const size_t e = wire.find("\r\n", pos);
      if (e == std::string::npos) break;
      const std::string line = wire.substr(pos, e - pos);
      if (line.size() < 4 || line[3] != '-') out.push_back(line);
      pos = e + 2;
    }
    return out;
  }
};

}  // namespace

TEST_CASE("bridge_server_config: no STARTTLS on a real socket, --idle-timeout applied", "[bridge]") {
  smtp::ServerConfig base;
  base.starttls = true;
  base.require_tls = true;
  ServeOptions o;
  smtp::ServerConfig c = bridge_server_config(base, o);
  CHECK_FALSE(c.starttls);
  CHECK_FALSE(c.require_tls);
  CHECK(c.timeouts.command == minutes(5));  // RFC 5321 4.5.3.2.7 by default
  o.idle_timeout = sec(7);
  c = bridge_server_config(base, o);
  CHECK(c.timeouts.command == sec(7));
  CHECK(c.timeouts.data_block == sec(7));
  Driven d(c);
  d.feed("EHLO x\r\n");
  CHECK(d.wire.find("STARTTLS") == std::string::npos);
  CHECK(d.session.deadline() == SimTime{1} + sec(7));
}

TEST_CASE("buffer caps: 1 MB lines and endless DATA in bridge-sized reads stay bounded", "[bridge]") {
  smtp::ServerConfig cfg = bridge_server_config(smtp::ServerConfig{}, ServeOptions{});
  cfg.max_message_size = 1024 * 1024;
  Driven d(cfg);
  d.feed("EHLO x\r\n");
  d.feed("NOOP " + std::string(1 << 20, 'A') + "\r\n");  // RFC 5321 4.5.3.1.4
  d.feed("NOOP\r\n");
  d.feed("MAIL FROM:<a@outside.test>\r\nRCPT TO:<alice@yahoo.test>\r\nDATA\r\n");
  const std::string line(998, 'y');
  for (int i = 0; i < 4000; ++i) d.feed(line + "\r\n");  // ~4 MB, 4x the size limit
  d.feed(".\r\n");
  d.feed("RSET\r\n");
  auto r = d.replies();
  REQUIRE(r.size() == 9);
  CHECK(r[0].rfind("220", 0) == 0);
  CHECK(r[1].rfind("250", 0) == 0);
  CHECK(r[2].rfind("500 5.5.2", 0) == 0);
  CHECK(r[3].rfind("250", 0) == 0);  // still in business
  CHECK(r[6].rfind("354", 0) == 0);
  CHECK(r[7].rfind("552", 0) == 0);  // RFC 5321 4.5.3.1.10 / RFC 1870
  CHECK(r[8].rfind("250", 0) == 0);
  CHECK(d.policy.accepted_count == 0);
  CHECK(may_read_more(kMaxReplyBacklog));
  CHECK_FALSE(may_read_more(kMaxReplyBacklog + 1));
}
