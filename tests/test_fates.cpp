// tests/test_fates.cpp: "what happened to each message", folded from the
// trace of real scenario runs: delivered, bounced (and the bounce's own
// journey), refused at submission, duplicates, retries, loops, and a run cut
// short. Every scenario's messages are found, none invented.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "sim/scenario/loader.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/fates.hpp"
#include "run_helpers.hpp"
#include "test_helpers.hpp"

using namespace smtplab;

namespace {

RunResult run_file(const std::string& name) { return testing::run_scenario_file(name); }

std::vector<MessageFate> fates_of(const std::string& name) {
  const RunResult r = run_file(name);
  return message_fates(r.trace.records());
}

const RecipientFate& rcpt(const MessageFate& m, const std::string& address) {
  for (const RecipientFate& f : m.recipients)
    if (f.address == address) return f;
  FAIL("no recipient " << address);
  return m.recipients.front();
}

// Everything a fold says, as text, to compare two folds.
std::string dump(const std::vector<MessageFate>& fates) {
  std::ostringstream o;
  for (const MessageFate& m : fates) {
    o << m.index << '|' << m.from << '|' << m.subject << '|' << m.host << '|' << m.written.us << '|' << m.composed << '\n';
    for (const RecipientFate& f : m.recipients) {
      o << "  " << f.address << '|' << fate_state_name(f.state) << '|' << f.host << '|' << f.mailbox << '|' << f.why << '|'
        << f.at.us << '|' << f.attempts << '|' << f.hops << '|' << f.record << '|' << f.bounce << '|'
        << fate_state_name(f.bounce_state) << '|' << f.bounce_to << '|' << f.bounce_where << '|' << f.bounce_at.us << '|'
        << f.delay_warned << '|' << describe_cut(f) << '|';
      for (SimTime t : f.deliveries) o << t.us << ',';
      o << '\n';
    }
  }
  return o.str();
}

}  // namespace

TEST_CASE("fates: the history gives, at every record, what folding the prefix gives", "[fates]") {
  // The GUI moves its cursor every frame while playing: it reads
  // fates_at(history, cursor) instead of folding the prefix again.
  for (const char* name : {"partial-recipients.json", "mail-loop.json", "duplicate-delivery.json", "open-relay-refused.json",
                           "server-down-retry-bounce.json"}) {
    INFO(name);
    const RunResult r = run_file(name);
    const auto& recs = r.trace.records();
    const FateHistory h = fate_history(recs);
    CHECK(dump(h.end) == dump(message_fates(recs)));
    size_t checked = 0;
    for (size_t n = 0; n <= recs.size(); n += (n < 400 ? 1 : 5)) {
      INFO("first " << n << " records");
      REQUIRE(dump(fates_at(h, n)) == dump(message_fates(std::span(recs).first(n))));
      ++checked;
    }
    CHECK(checked > 100);
    CHECK(dump(fates_at(h, recs.size())) == dump(h.end));
    CHECK(fates_at(h, recs.size(), 0).empty());
    CHECK(messages_at(h, recs.size()) == h.end.size());
    CHECK(messages_at(h, 0) == 0);
  }
}

TEST_CASE("fates: Bob to Alice is one message, delivered to her mailbox on mx.yahoo.test", "[fates]") {
  const auto fates = fates_of("bob-to-alice.json");
  REQUIRE(fates.size() == 1);
  CHECK(fates[0].index == 0);
  CHECK(fates[0].from == "bob@gmail.test");
  CHECK(fates[0].subject == "Lunch on Friday?");
  CHECK(fates[0].host == "bob-pc");
  REQUIRE(fates[0].recipients.size() == 1);
  const RecipientFate& a = fates[0].recipients[0];
  CHECK(a.address == "alice@yahoo.test");
  CHECK(a.state == FateState::delivered);
  CHECK(a.host == "mx.yahoo.test");
  CHECK(a.mailbox == "alice@yahoo.test");
  CHECK(a.deliveries.size() == 1);
  CHECK(a.hops == 2);  // the submission server's queue, then the MX's
  CHECK(a.attempts == 1);
  CHECK_FALSE(a.bounce);
  CHECK(a.record != 0);
  CHECK(describe(a).rfind("delivered at 1.641 s to the mailbox of alice@yahoo.test on mx.yahoo.test", 0) == 0);
}

TEST_CASE("fates: a bounce names the server, the reply and its stage, and where the bounce went", "[fates]") {
  const auto fates = fates_of("partial-recipients.json");
  REQUIRE(fates.size() == 1);
  CHECK(rcpt(fates[0], "alice@yahoo.test").state == FateState::delivered);
  CHECK(rcpt(fates[0], "carol@yahoo.test").state == FateState::delivered);
  const RecipientFate& n = rcpt(fates[0], "nobody@yahoo.test");
  CHECK(n.state == FateState::bounced);
  CHECK(n.host == "smtp.gmail.test");
  CHECK(n.why.find("550 5.1.1") != std::string::npos);
  CHECK(n.why.find("RCPT") != std::string::npos);
  CHECK(n.bounce);
  CHECK(n.bounce_to == "bob@gmail.test");
  CHECK(n.bounce_state == FateState::delivered);
  CHECK(n.bounce_where == "the mailbox of bob@gmail.test on smtp.gmail.test");
  CHECK(describe_notice(n).find("the bounce to bob@gmail.test was delivered") == 0);
}

TEST_CASE("fates: every mail record of a run leads back to its message, bounces included", "[fates]") {
  const RunResult r = run_file("partial-recipients.json");
  const auto fates = message_fates(r.trace.records());
  REQUIRE(fates.size() == 1);
  CHECK(fates[0].composed != 0);
  CHECK(fates[0].queues.size() == 3);  // the submission queue, the MX's, the bounce's
  size_t mail = 0;
  for (const Record& x : r.trace.records()) {
    if (x.layer() != Layer::mail || x.kind == Kind::message_fetched) continue;
    ++mail;
    INFO("#" << x.seq << " " << x.text);
    CHECK(message_of(fates, x) == &fates[0]);
  }
  CHECK(mail > 10);
  Record other;
  other.kind = Kind::message_queued;
  other.src = "elsewhere.test";
  other.with("msgid", "Q0001");
  CHECK(message_of(fates, other) == nullptr);
}

TEST_CASE("fates: a dead destination is retried, warned about, then bounced", "[fates]") {
  const auto fates = fates_of("server-down-retry-bounce.json");
  REQUIRE(fates.size() == 1);
  const RecipientFate& a = rcpt(fates[0], "alice@yahoo.test");
  CHECK(a.state == FateState::bounced);
  CHECK(a.attempts == 8);
  CHECK(a.delay_warned);
  CHECK(a.why.find("connection timed out") != std::string::npos);
  CHECK(a.bounce_state == FateState::delivered);
  CHECK(describe(a).find("after 8 attempts") != std::string::npos);
}

TEST_CASE("fates: a lost 250 makes a duplicate: two deliveries of one message", "[fates]") {
  const auto fates = fates_of("duplicate-delivery.json");
  REQUIRE(fates.size() == 1);  // the second copy is the same message, not one from outside
  const RecipientFate& a = rcpt(fates[0], "alice@yahoo.test");
  CHECK(a.state == FateState::delivered);
  CHECK(a.deliveries.size() == 2);
  CHECK(a.attempts == 2);
  CHECK(describe(a).find("delivered 2 times (a duplicate)") != std::string::npos);
}

TEST_CASE("fates: a mail loop bounces at the hop limit and its bounce is discarded", "[fates]") {
  const auto fates = fates_of("mail-loop.json");
  REQUIRE(fates.size() == 1);
  REQUIRE(fates[0].recipients.size() == 1);
  const RecipientFate& c = fates[0].recipients[0];
  CHECK(c.address == "carol@example.test");
  CHECK(c.state == FateState::bounced);
  CHECK(c.host == "relay2.test");
  CHECK(c.hops == 7);
  CHECK(c.why.find("mail forwarding loop") != std::string::npos);
  CHECK(c.bounce_state == FateState::discarded);
  CHECK(c.bounce_where == "relay1.test");
}

TEST_CASE("fates: a recipient refused at submission is the user's error, not a bounce", "[fates]") {
  const auto fates = fates_of("open-relay-refused.json");
  REQUIRE(fates.size() == 1);
  const RecipientFate& b = rcpt(fates[0], "bob@gmail.test");
  CHECK(b.state == FateState::refused);
  CHECK(b.host == "mx.yahoo.test");
  CHECK(b.why.find("554 5.7.1") != std::string::npos);
  CHECK_FALSE(b.bounce);
  CHECK(rcpt(fates[0], "alice@yahoo.test").state == FateState::delivered);
}

TEST_CASE("fates: a DNS failure defers until it clears; a typo'd domain bounces at once", "[fates]") {
  const auto fates = fates_of("dns-failure.json");
  REQUIRE(fates.size() == 2);
  const RecipientFate& a = rcpt(fates[0], "alice@yahoo.test");
  CHECK(a.state == FateState::delivered);
  CHECK(a.attempts == 4);
  const RecipientFate& t = rcpt(fates[1], "alice@yahooo.test");
  CHECK(t.state == FateState::bounced);
  CHECK(t.why.find("NXDOMAIN") != std::string::npos);
}

TEST_CASE("fates: at a cut of the run, a message is where the trace last saw it", "[fates]") {
  const RunResult r = run_file("server-down-retry-bounce.json");
  const auto& recs = r.trace.records();
  // Before any server took it: still with the user agent.
  size_t composed = 0, deferred = 0;
  for (size_t i = 0; i < recs.size(); ++i) {
    if (!composed && recs[i].kind == Kind::message_composed) composed = i + 1;
    if (!deferred && recs[i].kind == Kind::message_deferred) deferred = i + 1;
  }
  REQUIRE(composed);
  REQUIRE(deferred);
  auto early = message_fates(std::span(recs).first(composed));
  REQUIRE(early.size() == 1);
  CHECK(early[0].recipients[0].state == FateState::submitting);
  auto later = message_fates(std::span(recs).first(deferred));
  REQUIRE(later.size() == 1);
  const RecipientFate& q = later[0].recipients[0];
  CHECK(q.state == FateState::queued);
  CHECK(q.host == "smtp.gmail.test");
  CHECK(q.why.find("connection timed out") != std::string::npos);
  CHECK(describe(q).find("waiting in the queue of smtp.gmail.test (1 attempt there so far)") == 0);
  // Every prefix folds without trouble, and never finds more than one message.
  for (size_t n = 0; n <= recs.size(); n += 7) CHECK(message_fates(std::span(recs).first(n)).size() <= 1);
}

TEST_CASE("fates: a body cut at a lone dot reads as delivered but cut short, where and why", "[fates]") {
  // lone-dot-no-stuffing: the user agent does not dot-stuff, so the
  // submission server ends the data at the lone "." (RFC 5321 4.5.2).
  const auto fates = fates_of("lone-dot-no-stuffing.json");
  REQUIRE(fates.size() == 1);
  const RecipientFate& a = rcpt(fates[0], "alice@yahoo.test");
  CHECK(a.state == FateState::delivered);
  REQUIRE(a.cut);
  CHECK(a.cut->arrived == 3);  // "Hi Alice,", "", "Notes from today:"
  CHECK(a.cut->written == 8);
  CHECK(a.cut->host == "smtp.gmail.test");  // the first queue, not the MX that delivered it
  CHECK(a.cut->next == ".");
  CHECK(describe(a).find("; but CUT SHORT: only 3 of 8 body lines reached smtp.gmail.test; the next line was a lone \".\"") !=
        std::string::npos);
  // The same body, dot-stuffed, arrives whole; a body converted to 7 bits on
  // the way (quoted-printable) differs but is not cut; nor are bounces or
  // messages to several recipients.
  for (const char* name : {"lone-dot.json", "eight-bit-legacy.json", "attachment-7bit.json", "partial-recipients.json",
                           "server-down-retry-bounce.json", "relay-hops.json"}) {
    INFO(name);
    for (const MessageFate& m : fates_of(name))
      for (const RecipientFate& f : m.recipients) {
        CHECK_FALSE(f.cut);
        CHECK(describe(f).find("CUT SHORT") == std::string::npos);
      }
  }
}

TEST_CASE("fates: a cut is told from the bodies alone, only for a proper prefix at a line end", "[fates]") {
  auto rec = [](uint64_t seq, Kind k, std::string src, std::string wire, std::vector<std::pair<std::string, std::string>> attrs,
                uint64_t cause) {
    Record r;
    r.seq = seq;
    r.t = SimTime{static_cast<int64_t>(seq) * 1000};
    r.kind = k;
    r.src = std::move(src);
    r.text = k == Kind::message_composed ? "a@x.test writes \"s\" to b@y.test" : "queued";
    r.wire = std::move(wire);
    r.cause = cause;
    for (auto& [key, v] : attrs) r.with(key, v);
    return r;
  };
  const std::string head = "From: a@x.test\r\nTo: b@y.test\r\n\r\n";
  auto fold = [&](const std::string& written, const std::string& taken) {
    std::vector<Record> recs;
    recs.push_back(rec(1, Kind::message_composed, "pc", head + written, {{"message", "0"}, {"from", "a@x.test"}, {"rcpt", "b@y.test"}}, 0));
    recs.push_back(rec(2, Kind::message_queued, "mx", "Received: by mx\r\n" + head + taken,
                       {{"msgid", "Q1"}, {"sender", "a@x.test"}, {"rcpt", "b@y.test"}}, 1));
    auto fates = message_fates(recs);
    REQUIRE(fates.size() == 1);
    REQUIRE(fates[0].recipients.size() == 1);
    return fates[0].recipients[0].cut;
  };
  CHECK_FALSE(fold("one\r\ntwo\r\n", "one\r\ntwo\r\n"));  // whole
  CHECK_FALSE(fold("one\r\ntwo\r\n", "one\r\ntw"));         // not at a line end
  CHECK_FALSE(fold("one\r\ntwo\r\n", "one\r\nTWO\r\n"));  // changed, not cut
  CHECK_FALSE(fold("one\r\n", "one\r\nmore\r\n"));          // longer
  auto c = fold("one\r\n.\r\nthree\r\n", "one\r\n");
  REQUIRE(c);
  CHECK(c->arrived == 1);
  CHECK(c->written == 3);
  CHECK(c->host == "mx");
  CHECK(c->next == ".");
  c = fold(std::string(100, 'x') + "\r\ntwo\r\n", "");  // nothing arrived; a long line is shortened
  REQUIRE(c);
  CHECK(c->arrived == 0);
  CHECK(c->next == std::string(57, 'x') + "...");
}

TEST_CASE("fates: the summary is folded to 80 columns, descriptions under their own column", "[fates]") {
  for (const char* name : {"partial-recipients.json", "server-down-retry-bounce.json", "lone-dot-no-stuffing.json",
                           "mail-loop.json", "dns-failure.json"}) {
    INFO(name);
    const RunResult r = run_file(name);
    std::ostringstream out;
    write_fates(out, message_fates(r.trace.records()), r.trace.records().back().t);
    std::istringstream in(out.str());
    size_t lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
      INFO(line);
      CHECK(line.size() <= 80);
      CHECK((line.empty() || line.back() != ' '));
    }
    CHECK(lines > 3);
  }
  // Every word of the descriptions is still there, in order.
  const RunResult r = run_file("partial-recipients.json");
  const auto fates = message_fates(r.trace.records());
  std::ostringstream out;
  write_fates(out, fates, r.trace.records().back().t, 40);
  std::string joined, word;
  std::istringstream in(out.str());
  while (in >> word) joined += word + ' ';
  for (const RecipientFate& f : fates[0].recipients) {
    std::string want;
    std::istringstream d(describe(f));
    while (d >> word) want += word + ' ';
    CHECK(joined.find(want) != std::string::npos);
  }
}

TEST_CASE("fates: every scenario's messages are found, each recipient named, none from outside", "[fates]") {
  for (const auto& e : std::filesystem::directory_iterator(testing::source_dir() + "/scenarios")) {
    if (e.path().extension() != ".json" || e.path().filename() == "schema.json") continue;
    INFO(e.path().filename().string());
    auto loaded = load_scenario_file(e.path().string());
    REQUIRE(loaded.ok());
    const RunResult r = run_scenario(*loaded.scenario, RunOptions{});
    const auto fates = message_fates(r.trace.records());
    CHECK(fates.size() == loaded.scenario->messages.size());
    for (const MessageFate& m : fates) {
      CHECK(m.index >= 0);
      CHECK_FALSE(m.recipients.empty());
      for (const RecipientFate& f : m.recipients) {
        CHECK_FALSE(f.address.empty());
        CHECK_FALSE(describe(f).empty());
      }
    }
    std::ostringstream out;
    write_fates(out, fates, r.trace.records().back().t);
    CHECK(out.str().find("What happened to each message") != std::string::npos);
  }
}
