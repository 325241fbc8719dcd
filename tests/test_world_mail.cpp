// tests/test_world_mail.cpp: the scenario library, asserted on outcomes.
//
// Each scenario of the mail journey runs, and the test checks what a
// student is meant to see: who got what in which mailbox, which records
// (bounce, expiry, deferral, delay warning) happened, and the causes that
// lead from a bounce back to its fault.
#include <catch2/catch.hpp>

#include <map>

#include "sim/agents/mail_server.hpp"
#include "sim/agents/world.hpp"
#include "sim/mail/dsn.hpp"
#include "sim/mail/message.hpp"
#include "sim/mail/mime.hpp"
#include "sim/scenario/loader.hpp"
#include "sim/scenario/run.hpp"
#include "tests/test_helpers.hpp"

using namespace smtplab;

namespace {

struct Outcome {
  RunResult run;
  std::map<std::string, std::vector<std::string>> boxes;  // address -> stored messages
};

Outcome run_named(const std::string& name) {
  const std::string path = smtplab::testing::source_dir() + "/scenarios/" + name + ".json";
  auto loaded = load_scenario_file(path);
  REQUIRE(loaded.ok());
  Outcome o;
  RunOptions opt;
  opt.at_end = [&](World& w) {
    for (const auto& s : w.mail_servers())
      for (const auto& [addr, box] : s->mailboxes())
        for (const auto& m : box.messages()) o.boxes[addr].push_back(m.data);
  };
  o.run = run_scenario(*loaded.scenario, opt);
  return o;
}

size_t count(const Trace& t, Kind k) { return t.count(k); }

const Record* last_of(const Trace& t, Kind k) {
  const Record* found = nullptr;
  for (const Record& r : t.records())
    if (r.kind == k) found = &r;
  return found;
}

}  // namespace

TEST_CASE("bob-to-alice: submitted, relayed, delivered, fetched by POP3") {
  Outcome o = run_named("bob-to-alice");
  const Trace& t = o.run.trace;
  CHECK(count(t, Kind::message_queued) == 2);  // submission server, then the MX
  CHECK(count(t, Kind::message_relayed) == 1);
  CHECK(count(t, Kind::message_delivered) == 1);
  CHECK(count(t, Kind::message_fetched) == 1);
  CHECK(count(t, Kind::dsn_created) == 0);
  // POP3 download-and-delete: the mailbox is empty at the end.
  CHECK(o.boxes["alice@yahoo.test"].empty());
  // The relayed copy has two Received: lines and the submission server's Message-ID and Date.
  const Record* d = last_of(t, Kind::message_delivered);
  REQUIRE(d);
  const mail::Message m = mail::parse_message(d->wire);
  CHECK(mail::count_received(m) == 2);
  CHECK(m.has("Message-ID"));
  CHECK(m.has("Date"));
  // The 250 to the end of data comes after message-queued (RFC 5321 6.1).
  bool queued = false, ok = true;
  for (const Record& r : t.records()) {
    if (r.kind == Kind::message_queued) queued = true;
    if (r.kind == Kind::smtp_reply && r.text.find("queued as") != std::string::npos) ok = ok && queued;
  }
  CHECK(ok);
}

TEST_CASE("lone-dot: the dot line arrives intact; without stuffing the message is cut") {
  Outcome good = run_named("lone-dot");
  REQUIRE(good.run.trace.count(Kind::message_delivered) == 1);
  CHECK(last_of(good.run.trace, Kind::message_delivered)->wire.find("\r\n.\r\nand this line comes after it.") !=
        std::string::npos);
  Outcome bad = run_named("lone-dot-no-stuffing");
  const Record* d = last_of(bad.run.trace, Kind::message_delivered);
  REQUIRE(d);
  CHECK(d->wire.find("Notes from today:") != std::string::npos);
  CHECK(d->wire.find("Everything below the dot") == std::string::npos);
  int errors = 0;
  for (const Record& r : bad.run.trace.records())
    if (r.kind == Kind::smtp_reply && (r.attr("code") == "500" || r.attr("code") == "503")) ++errors;
  CHECK(errors >= 2);  // the rest of the body read as commands
}

TEST_CASE("server-down-retry-bounce: retries, one delay warning, expiry, a DSN leading back to the fault") {
  Outcome o = run_named("server-down-retry-bounce");
  const Trace& t = o.run.trace;
  CHECK(count(t, Kind::message_deferred) >= 5);
  CHECK(count(t, Kind::delay_warning) == 1);
  CHECK(count(t, Kind::message_expired) == 1);
  CHECK(count(t, Kind::dsn_created) == 1);
  CHECK(count(t, Kind::message_relayed) == 0);
  // Retries get further apart (postfix backoff) and never exceed max_backoff.
  std::vector<SimTime> attempts;
  for (const Record& r : t.records())
    if (r.kind == Kind::delivery_attempt) attempts.push_back(r.t);
  REQUIRE(attempts.size() >= 4);
  CHECK(attempts[2] - attempts[1] > attempts[1] - attempts[0]);
  // The bounce's causes reach the host-down fault.
  const Record* dsn = last_of(t, Kind::dsn_created);
  bool reaches_fault = false;
  for (const Record* r : t.cause_chain(dsn->seq)) reaches_fault = reaches_fault || r->kind == Kind::fault_injected;
  CHECK(reaches_fault);
  // The DSN is RFC 3464 and Bob fetched it (POP3: gone from the server).
  std::string error;
  const auto parsed = mail::parse_dsn(mail::parse_message(dsn->wire), &error);
  REQUIRE(parsed);
  REQUIRE(parsed->recipients.size() == 1);
  CHECK(parsed->recipients[0].action == "failed");
  CHECK(parsed->recipients[0].final_recipient == "alice@yahoo.test");
  CHECK(count(t, Kind::message_fetched) == 2);  // the delay warning, then the bounce
}

TEST_CASE("user-unknown and partial recipients: only the refused recipient bounces") {
  Outcome u = run_named("user-unknown-bounce");
  CHECK(count(u.run.trace, Kind::message_bounced) == 1);
  CHECK(count(u.run.trace, Kind::message_deferred) == 0);  // 5xx: no retry
  CHECK(last_of(u.run.trace, Kind::message_bounced)->attr("status") == "5.1.1");
  Outcome p = run_named("partial-recipients");
  CHECK(count(p.run.trace, Kind::message_bounced) == 1);
  CHECK(count(p.run.trace, Kind::message_relayed) == 2);
  CHECK(count(p.run.trace, Kind::message_delivered) == 3);  // alice, carol, and the DSN to bob
}

TEST_CASE("greylisting: deferred once, accepted on the retry") {
  Outcome o = run_named("greylisting");
  CHECK(count(o.run.trace, Kind::message_deferred) == 1);
  CHECK(last_of(o.run.trace, Kind::message_deferred)->attr("status") == "4.7.1");
  CHECK(count(o.run.trace, Kind::message_relayed) == 1);
}

TEST_CASE("relay-hops: three Received lines; same-domain: no relay at all") {
  Outcome r = run_named("relay-hops");
  const Record* d = last_of(r.run.trace, Kind::message_delivered);
  REQUIRE(d);
  CHECK(mail::count_received(mail::parse_message(d->wire)) == 3);
  Outcome s = run_named("same-domain");
  CHECK(count(s.run.trace, Kind::message_relayed) == 0);
  CHECK(count(s.run.trace, Kind::delivery_attempt) == 0);
  CHECK(count(s.run.trace, Kind::message_delivered) == 1);
  CHECK(s.boxes["carol@gmail.test"].size() == 1);  // IMAP leaves it on the server
}

TEST_CASE("pop3-vs-imap: IMAP devices share \\Seen, POP3 devices do not see each other's mail") {
  Outcome o = run_named("pop3-vs-imap");
  std::map<std::string, int> fetched;
  for (const Record& r : o.run.trace.records())
    if (r.kind == Kind::message_fetched) ++fetched[r.src];
  CHECK(fetched["alice-laptop"] == 1);
  CHECK(fetched["alice-phone"] == 0);  // already \Seen
  CHECK(fetched["dave-laptop"] == 1);
  CHECK(fetched["dave-phone"] == 0);   // downloaded and deleted by the laptop
  CHECK(o.boxes["alice@yahoo.test"].size() == 1);
  CHECK(o.boxes["dave@yahoo.test"].empty());
}

TEST_CASE("duplicate-delivery, open relay, DNS failure") {
  Outcome d = run_named("duplicate-delivery");
  CHECK(count(d.run.trace, Kind::message_delivered) == 2);
  CHECK(count(d.run.trace, Kind::message_fetched) == 2);
  Outcome r = run_named("open-relay-refused");
  bool refused = false;
  for (const Record& rec : r.run.trace.records())
    refused = refused || (rec.kind == Kind::smtp_reply && rec.attr("code") == "554" &&
                          rec.text.find("Relay access denied") != std::string::npos);
  CHECK(refused);
  CHECK(count(r.run.trace, Kind::message_relayed) == 0);
  CHECK(count(r.run.trace, Kind::message_delivered) == 1);  // its own domain still gets mail
  Outcome n = run_named("dns-failure");
  CHECK(count(n.run.trace, Kind::message_bounced) == 1);
  CHECK(last_of(n.run.trace, Kind::message_bounced)->attr("status") == "5.1.2");
  CHECK(count(n.run.trace, Kind::message_relayed) == 1);
  CHECK(count(n.run.trace, Kind::message_deferred) >= 2);
}

TEST_CASE("mail-loop: the hop limit stops the loop; the looping bounce is discarded, never bounced") {
  Outcome o = run_named("mail-loop");
  const Trace& t = o.run.trace;
  CHECK(count(t, Kind::loop_detected) == 2);      // the message, then its bounce
  CHECK(count(t, Kind::dsn_created) == 1);        // only about the original
  CHECK(count(t, Kind::message_discarded) == 1);  // the bounce's own failure
  CHECK(count(t, Kind::message_delivered) == 0);
}

TEST_CASE("eight-bit-legacy: MIME is converted to 7 bit for a server without 8BITMIME, raw 8-bit bounces (RFC 6152 3)") {
  Outcome o = run_named("eight-bit-legacy");
  const Trace& t = o.run.trace;
  // One conversion (the MIME message), named with its size cost.
  REQUIRE(count(t, Kind::message_converted) == 1);
  const Record* conv = last_of(t, Kind::message_converted);
  CHECK(conv->text.find("quoted-printable") != std::string::npos);
  CHECK(conv->attr("mx") == "mx.yahoo.test");
  // Alice's copy (as stored in her mailbox; POP3 has fetched it since) is
  // 7-bit and decodes to what Bob wrote.
  const Record* delivered = nullptr;
  for (const Record& r : t.records())
    if (r.kind == Kind::message_delivered && r.attr("rcpt") == "alice@yahoo.test") delivered = &r;
  REQUIRE(delivered != nullptr);
  const std::string& stored = delivered->wire;
  for (char c : stored) REQUIRE(static_cast<unsigned char>(c) < 128);
  mail::Message m = mail::parse_message(stored);
  CHECK(mail::iequals(m.get("Content-Transfer-Encoding").value_or(""), "quoted-printable"));
  const std::string text = mail::parse_mime(m).decoded();
  CHECK(text.find("Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbc" "nchen!") != std::string::npos);
  // The raw message cannot be converted: bounced with 5.6.3, and Bob's DSN says so.
  REQUIRE(count(t, Kind::message_bounced) == 1);
  const Record* b = last_of(t, Kind::message_bounced);
  CHECK(b->attr("status") == "5.6.3");
  CHECK(b->attr("error").find("without MIME") != std::string::npos);
  CHECK(count(t, Kind::dsn_created) == 1);
  const Record* dsn = last_of(t, Kind::dsn_created);
  REQUIRE(dsn != nullptr);
  CHECK(dsn->wire.find("5.6.3") != std::string::npos);

  // The same world with "eight_bit_relay": "bounce": both messages come back.
  auto loaded = load_scenario_file(smtplab::testing::source_dir() + "/scenarios/eight-bit-legacy.json");
  REQUIRE(loaded.ok());
  for (Host& h : loaded.scenario->hosts)
    if (h.name == "smtp.gmail.test") h.smtp.downgrade_8bit = false;
  RunResult r = run_scenario(*loaded.scenario, RunOptions{});
  CHECK(r.trace.count(Kind::message_converted) == 0);
  CHECK(r.trace.count(Kind::message_bounced) == 2);
  CHECK(r.trace.count(Kind::message_relayed) == 0);
}

TEST_CASE("a scenario fault switched off is left out of the run; the others keep their index") {
  const std::string path = smtplab::testing::source_dir() + "/scenarios/mx-fallback.json";
  auto loaded = load_scenario_file(path);
  REQUIRE(loaded.ok());
  const Scenario& sc = *loaded.scenario;
  REQUIRE(sc.faults.size() == 1);
  // What if the primary MX had not been down: the first attempt goes to it.
  RunOptions off;
  off.disabled_faults = {0};
  Fault extra;  // a fault added after the switched-off one keeps index 1
  extra.type = "host-down";
  extra.host = "alice-pc";
  extra.at = hours(1);
  off.extra_faults = {extra};
  const RunResult run = run_scenario(sc, off);
  std::vector<std::string> fault_indices;
  const Record* first_relay = nullptr;
  for (const Record& r : run.trace.records()) {
    if (r.kind == Kind::fault_injected) fault_indices.emplace_back(r.attr("fault"));
    if (r.kind == Kind::message_relayed && !first_relay) first_relay = &r;
  }
  CHECK(fault_indices == std::vector<std::string>{"1"});
  REQUIRE(first_relay);
  CHECK(first_relay->attr("mx") == "mx1.yahoo.test");
  CHECK(first_relay->attr("attempt") == "1");
  // As written, the backup takes it after the primary times out.
  const RunResult as_written = run_scenario(sc, RunOptions{});
  for (const Record& r : as_written.trace.records())
    if (r.kind == Kind::message_relayed) {
      CHECK(r.attr("mx") == "mx2.yahoo.test");
      break;
    }
  // An index past the scenario's faults is an error, not a silent no-op.
  RunOptions bad;
  bad.disabled_faults = {1};
  CHECK_THROWS_WITH(run_scenario(sc, bad), Catch::Contains("is not one of the scenario's 1 faults"));
}
