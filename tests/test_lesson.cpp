// tests/test_lesson.cpp: the lesson format, the matcher language and the
// lesson checker.
//
// - loader: every class of error, with its exact message and JSON pointer;
// - matchers and checks: table-driven over a hand-built trace;
// - the checker: it catches a question that claims a record the simulator
//   does not produce, and an exercise whose non-solution passes;
// - lessons/: every lesson file loads, its scenario runs and --check passes
//   (revealed answers match the simulator, solutions pass, non-solutions fail);
// - lessons/schema.json lists exactly the keys the loader accepts.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sim/lesson/check.hpp"
#include "sim/lesson/lesson.hpp"
#include "sim/lesson/matcher.hpp"
#include "tests/test_helpers.hpp"

using namespace smtplab;
using smtplab::testing::read_file;
using smtplab::testing::source_dir;
using json = nlohmann::json;

namespace {

// A tiny scenario the current simulator runs in full: it only needs
// run-start, message-composed, fault-injected and run-end records.
const char* kScenario = R"({"smtplab": 1, "name": "tiny", "duration": "10min",
  "hosts": [
    {"name": "bob-pc", "role": "user-agent", "user": "bob@gmail.test", "server": "smtp.gmail.test"},
    {"name": "smtp.gmail.test", "role": "mail-server", "domains": ["gmail.test"]},
    {"name": "mx.yahoo.test", "role": "mail-server", "domains": ["yahoo.test"]}],
  "messages": [{"from": "bob@gmail.test", "to": "alice@yahoo.test", "at": "1s", "subject": "Hi", "body": "Hello"}]})";

json base_lesson() {
  json j;
  j["smtplab_lesson"] = 1;
  j["title"] = "A test lesson";
  j["summary"] = "One line.";
  j["scenario"] = json::parse(kScenario);
  j["steps"] = json::array({json{{"title", "Start"}, {"text", "Bob writes."}}});
  return j;
}

LessonLoad load(const json& j) { return load_lesson_text(j.dump(), "t.json", "t", source_dir() + "/scenarios"); }

std::vector<std::string> errors_of(const json& j) {
  std::vector<std::string> out;
  for (const ScenarioError& e : load(j).errors) out.push_back(e.format());
  return out;
}

}  // namespace

TEST_CASE("lesson loader: a minimal lesson loads", "[lesson][loader]") {
  LessonLoad l = load(base_lesson());
  INFO((l.errors.empty() ? "" : l.errors.front().format()));
  REQUIRE(l.ok());
  CHECK(l.lesson->id == "t");
  CHECK(l.lesson->steps.size() == 1);
  CHECK(l.lesson->scenario.hosts.size() == 3);
}

TEST_CASE("lesson loader: error classes with exact messages", "[lesson][loader]") {
  struct Case {
    const char* name;
    std::function<void(json&)> edit;
    std::string want;  // one of the reported errors, exactly
  };
  const std::vector<Case> cases = {
      {"unknown top-level key", [](json& j) { j["titel"] = "x"; },
       "t.json: /titel: unknown key \"titel\"; allowed keys: smtplab_lesson, title, summary, scenario, steps"},
      {"missing version", [](json& j) { j.erase("smtplab_lesson"); },
       "t.json: /smtplab_lesson: required key is missing (the lesson format version, 1)"},
      {"future version", [](json& j) { j["smtplab_lesson"] = 2; },
       "t.json: /smtplab_lesson: this is lesson format version 2; this smtplab reads version 1"},
      {"missing title", [](json& j) { j.erase("title"); }, "t.json: /title: required key is missing"},
      {"empty steps", [](json& j) { j["steps"] = json::array(); },
       "t.json: /steps: expected an array of 1 to 200 steps, got 0 steps"},
      {"unknown step key", [](json& j) { j["steps"][0]["pause_at"] = 1; },
       "t.json: /steps/0/pause_at: unknown key \"pause_at\"; allowed keys: title, text, terms, myths, rfc, pause, "
       "highlight, show, expect, question, exercise"},
      {"unknown kind", [](json& j) { j["steps"][0]["pause"] = {{"kind", "smtp-replies"}}; },
       "t.json: /steps/0/pause/kind: unknown record kind \"smtp-replies\"; expected one of: "},
      {"unknown layer", [](json& j) { j["steps"][0]["pause"] = {{"layer", "udp"}}; },
       "t.json: /steps/0/pause/layer: unknown layer \"udp\"; expected one of: engine, net, tcp, dns, smtp, pop3, imap, "
       "mail, fault"},
      {"bad regex", [](json& j) { j["steps"][0]["pause"] = {{"text_regex", "(250"}}; },
       "t.json: /steps/0/pause/text_regex: bad regular expression /(250/: "},
      {"within without after", [](json& j) { j["steps"][0]["pause"] = {{"kind", "run-end"}, {"within", "1s"}}; },
       "t.json: /steps/0/pause/within: \"within\" needs \"after\" (the record it is measured from)"},
      {"unknown host in matcher", [](json& j) { j["steps"][0]["highlight"] = {{"src", "mx.yahoo.tset"}}; },
       "t.json: /steps/0/highlight/src: no host named \"mx.yahoo.tset\" in the lesson's scenario; hosts: bob-pc, "
       "smtp.gmail.test, mx.yahoo.test"},
      {"check with two operators",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"exists", json::object()}, {"absent", json::object()}}}); },
       "t.json: /steps/0/expect/0: a check has exactly one of exists, absent, count, order, all, any, not, fate; this "
       "one has exists, absent"},
      {"fate with an unknown state",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "alice@yahoo.test"}, {"state", {"delivered", "lost"}}}}}}); },
       "t.json: /steps/0/expect/0/fate/state/1: unknown state \"lost\"; expected one of: submitting, queued, in-transit, "
       "delivered, bounced, refused, discarded, gave-up"},
      {"fate without a recipient", [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"state", "bounced"}}}}}); },
       "t.json: /steps/0/expect/0/fate/rcpt: required key is missing"},
      {"fate of a recipient that is not an address",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "alice"}}}}}); },
       "t.json: /steps/0/expect/0/fate/rcpt: expected a recipient's address as the message names it, e.g. "
       "\"alice@yahoo.test\""},
      {"fate with a cut that is not a boolean",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "a@b.test"}, {"cut", "yes"}}}}}); },
       "t.json: /steps/0/expect/0/fate/cut: expected true or false, got a string"},
      {"fate with an unknown key",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "a@b.test"}, {"status", "delivered"}}}}}); },
       "t.json: /steps/0/expect/0/fate/status: unknown key \"status\"; allowed keys: rcpt, message, state, cut, "
       "duplicate, at"},
      {"fate at a time that is not a duration",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "a@b.test"}, {"at", "soon"}}}}}); },
       "t.json: /steps/0/expect/0/fate/at: bad duration \"soon\": "},
      {"fate at a number",
       [](json& j) { j["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "a@b.test"}, {"at", 60}}}}}); },
       "t.json: /steps/0/expect/0/fate/at: expected a duration string such as \"30s\" or \"5min\", got a number"},
      {"count without bounds", [](json& j) { j["steps"][0]["expect"] = json::array({{{"count", {{"kind", "run-end"}}}}}); },
       "t.json: /steps/0/expect/0: \"count\" needs \"min\", \"max\" or both"},
      {"answer out of range",
       [](json& j) {
         j["steps"][0]["question"] = {{"prompt", "?"},
                                      {"choices", {"x", {{"text", "y"}, {"match", {{"kind", "run-end"}}}}}},
                                      {"answer", "c"},
                                      {"reveal", {{"kind", "run-end"}}},
                                      {"explain", "."}};
       },
       "t.json: /steps/0/question/answer: unknown answer \"c\"; expected one of: a, b"},
      {"answer without match",
       [](json& j) {
         j["steps"][0]["question"] = {
             {"prompt", "?"}, {"choices", {"x", "y"}}, {"answer", "a"}, {"reveal", {{"kind", "run-end"}}}, {"explain", "."}};
       },
       "t.json: /steps/0/question/choices/0/match: the right choice needs a \"match\": how the revealing record looks, "
       "so the checker can verify the simulator really does this"},
      {"exercise without teacher section",
       [](json& j) { j["steps"][0]["exercise"] = {{"task", "t"}, {"check", {{"exists", {{"kind", "run-end"}}}}}}; },
       "t.json: /steps/0/exercise/teacher: required key is missing"},
      {"solution fault the scenario rejects",
       [](json& j) {
         j["steps"][0]["exercise"] = {
             {"task", "t"},
             {"check", {{"exists", {{"kind", "fault-injected"}}}}},
             {"teacher",
              {{"solution", {{"faults", json::array({{{"type", "host-down"}, {"at", "1s"}, {"host", "nowhere"}}})}}},
               {"non_solution", json::object()}}}};
       },
       "t.json: /steps/0/exercise/teacher/solution/faults/0/host: no host named \"nowhere\""},
      {"scenario file missing", [](json& j) { j["scenario"] = "no-such-scenario.json"; },
       "t.json: /scenario: scenario \"no-such-scenario.json\": "},
      {"scenario path escapes scenarios/", [](json& j) { j["scenario"] = "../lessons/x.json"; },
       "t.json: /scenario: expected a file name in scenarios/ such as \"bob-to-alice.json\", got \"../lessons/x.json\""},
      {"inline scenario error is pointed into the lesson", [](json& j) { j["scenario"]["hosts"][0]["role"] = "laptop"; },
       "t.json: /scenario/hosts/0/role: unknown value \"laptop\"; expected one of: "},
      {"myth without citation", [](json& j) { j["steps"][0]["myths"] = json::array({{{"claim", "c"}, {"truth", "t"}}}); },
       "t.json: /steps/0/myths/0/cite: required key is missing"},
      {"rfc citation shape", [](json& j) { j["steps"][0]["rfc"] = json::array({"5321"}); },
       "t.json: /steps/0/rfc/0: expected a citation such as \"RFC 5321 4.5.2\", got \"5321\""},
  };
  for (const Case& c : cases) {
    json j = base_lesson();
    c.edit(j);
    const auto errs = errors_of(j);
    bool found = false;
    for (const std::string& e : errs) found = found || e.rfind(c.want, 0) == 0;
    std::string got;
    for (const std::string& e : errs) got += "\n  " + e;
    INFO(c.name << ": want an error starting with\n  " << c.want << "\ngot:" << got);
    CHECK(found);
  }
}

TEST_CASE("lesson loader: raw text problems", "[lesson][loader]") {
  auto first = [](std::string_view text) {
    LessonLoad l = load_lesson_text(text, "x.json", "x", source_dir() + "/scenarios");
    return l.errors.empty() ? std::string() : l.errors.front().format();
  };
  CHECK(first("") == "x.json: file is empty; a lesson is a JSON object such as {\"smtplab_lesson\": 1, \"steps\": [...]}");
  CHECK(first("{\n  \"title\": ,\n}").rfind("x.json:2:12: JSON syntax error: ", 0) == 0);
  CHECK(first(std::string("{\"a\":\0}", 7)).rfind("x.json:1:6: this looks like a binary file", 0) == 0);
  CHECK(first("{\"a\": \"\xff\"}") == "x.json:1:8: text is not valid UTF-8 (save the file as UTF-8)");
  CHECK(first(std::string(40, '[') + std::string(40, ']')).find("nesting deeper than 32 levels") != std::string::npos);
  CHECK(first("[]") == "x.json: /: expected a lesson (a JSON object), got an array");
}

// ---- matchers over a hand-built trace

namespace {

Trace sample_trace() {
  Trace t;
  auto add = [&](int64_t ms, Kind k, std::string src, std::string dst, std::string text,
                 std::vector<Attr> attrs = {}, uint64_t cause = 0) {
    Record r;
    r.t = msec(ms);
    r.kind = k;
    r.src = std::move(src);
    r.dst = std::move(dst);
    r.text = std::move(text);
    r.attrs = std::move(attrs);
    r.cause = cause;
    t.emit(std::move(r));
  };
  add(0, Kind::run_start, "", "", "scenario");                                                           // 1
  add(10, Kind::fault_injected, "", "", "host-down mx", {{"fault", "0"}, {"type", "host-down"}});       // 2
  add(20, Kind::fault_injected, "", "", "smtp-reply", {{"fault", "1"}, {"type", "smtp-reply"}});        // 3
  add(30, Kind::smtp_command, "smtp.gmail.test", "mx.yahoo.test", "DATA", {{"verb", "DATA"}}, 3);       // 4
  add(40, Kind::smtp_reply, "mx.yahoo.test", "smtp.gmail.test", "354 End data with <CR><LF>.<CR><LF>",
      {{"code", "354"}}, 4);                                                                             // 5
  add(50, Kind::smtp_reply, "mx.yahoo.test", "smtp.gmail.test", "250 2.0.0 Ok: queued",
      {{"code", "250"}, {"enhanced", "2.0.0"}}, 5);                                                      // 6
  add(5000, Kind::smtp_reply, "mx.yahoo.test", "smtp.gmail.test", "221 Bye", {{"code", "221"}});         // 7
  add(6000, Kind::message_delivered, "smtp.gmail.test", "", "bounce to bob",
      {{"mailbox", "bob@gmail.test"}}, 6);                                                               // 8
  return t;
}

RecordMatcher m(const json& j) {
  json lesson = base_lesson();
  lesson["scenario"]["hosts"] = json::array(
      {{{"name", "bob-pc"}, {"role", "user-agent"}, {"user", "bob@gmail.test"}, {"server", "smtp.gmail.test"}},
       {{"name", "smtp.gmail.test"}, {"role", "mail-server"}, {"domains", {"gmail.test"}}},
       {{"name", "mx.yahoo.test"}, {"role", "mail-server"}, {"domains", {"yahoo.test"}}}});
  lesson["steps"][0]["pause"] = j;
  LessonLoad l = load(lesson);
  if (!l.ok()) FAIL("matcher does not load: " << l.errors.front().format());
  return *l.lesson->steps[0].pause;
}

}  // namespace

TEST_CASE("matchers: table of semantics", "[lesson][matcher]") {
  const Trace trace = sample_trace();
  struct Case {
    json matcher;
    std::vector<uint64_t> want;  // every matching seq
  };
  const std::vector<Case> cases = {
      {json::object(), {1, 2, 3, 4, 5, 6, 7, 8}},
      {{{"kind", "smtp-reply"}}, {5, 6, 7}},
      {{{"kind", {"smtp-command", "run-start"}}}, {1, 4}},
      {{{"layer", "mail"}}, {8}},
      {{{"layer", "smtp"}, {"src", "mx.yahoo.test"}}, {5, 6, 7}},
      {{{"dst", "mx.yahoo.test"}}, {4}},
      {{{"host", "smtp.gmail.test"}}, {4, 5, 6, 7, 8}},
      {{{"text", "queued"}}, {6}},
      {{{"text", "QUEUED"}}, {}},  // contains is case-sensitive
      {{{"text_regex", "^2[0-9]{2} "}}, {6, 7}},
      {{{"attrs", {{"code", "354"}}}}, {5}},
      {{{"attrs", {{"code", 354}}}}, {5}},  // a number reads as its text
      {{{"attrs", {{"code", "354"}, {"verb", "DATA"}}}}, {}},
      {{{"attrs_regex", {{"code", "^[45]"}}}}, {}},
      {{{"attrs_regex", {{"code", "^2"}}}}, {6, 7}},
      {{{"attrs", {{"enhanced", "2.0.0"}}}}, {6}},
      {{{"kind", "smtp-reply"}, {"after", {{"attrs", {{"code", "354"}}}}}}, {6, 7}},
      {{{"kind", "smtp-reply"}, {"after", {{"kind", "smtp-command"}}}, {"within", "15ms"}}, {5}},
      {{{"kind", "smtp-reply"}, {"before", {{"text", "Bye"}}}}, {5, 6}},
      {{{"kind", "smtp-reply"}, {"after", {{"kind", "dns-query"}}}}, {}},  // anchor missing: never
      {{{"caused_by", {{"kind", "fault-injected"}}}}, {4, 5, 6, 8}},
      {{{"caused_by", {{"kind", "fault-injected"}, {"attrs", {{"type", "host-down"}}}}}}, {}},
      {{{"caused_by", {{"attrs", {{"verb", "DATA"}}}}}}, {5, 6, 8}},  // the chain, not the record itself
      {{{"student_fault", true}}, {3}},                                   // base_faults = 1 below
      {{{"caused_by", {{"student_fault", true}}}}, {4, 5, 6, 8}},
  };
  for (const Case& c : cases) {
    RecordMatcher rm = m(c.matcher);
    MatchContext ctx(trace, 1);
    std::vector<uint64_t> got;
    for (const Record* r : ctx.find_all(rm)) got.push_back(r->seq);
    INFO(c.matcher.dump() << " = " << rm.describe());
    CHECK(got == c.want);
  }
}

TEST_CASE("matchers: nth and find after a cursor", "[lesson][matcher]") {
  const Trace trace = sample_trace();
  MatchContext ctx(trace, 0);
  RecordMatcher replies = m({{"kind", "smtp-reply"}});
  REQUIRE(ctx.find(replies) != nullptr);
  CHECK(ctx.find(replies)->seq == 5);
  CHECK(ctx.find(replies, 5)->seq == 6);
  CHECK(ctx.find(replies, 7) == nullptr);
  RecordMatcher second = m({{"kind", "smtp-reply"}, {"nth", 2}});
  CHECK(ctx.find(second)->seq == 6);
  CHECK(ctx.find(second, 5)->seq == 7);
  RecordMatcher fourth = m({{"kind", "smtp-reply"}, {"nth", 4}});
  CHECK(ctx.find(fourth) == nullptr);
}

TEST_CASE("checks: table of semantics", "[lesson][check]") {
  const Trace trace = sample_trace();
  struct Case {
    json check;
    bool want;
    std::string why;  // start of the failure explanation
  };
  const std::vector<Case> cases = {
      {{{"exists", {{"attrs", {{"code", "354"}}}}}}, true, ""},
      {{{"exists", {{"attrs", {{"code", "550"}}}}}}, false, "expected a record with code=550, found none"},
      {{{"exists", {{"kind", "smtp-reply"}, {"nth", 3}}}}, true, ""},
      {{{"exists", {{"kind", "smtp-reply"}, {"nth", 4}}}}, false, "expected a smtp-reply [match #4], found none"},
      {{{"absent", {{"kind", "smtp-error"}}}}, true, ""},
      {{{"absent", {{"kind", "smtp-reply"}}}}, false, "expected no smtp-reply, found 3, first #5 smtp-reply \"354 End"},
      {{{"count", {{"kind", "smtp-reply"}}}, {"min", 3}, {"max", 3}}, true, ""},
      {{{"count", {{"kind", "smtp-reply"}}}, {"min", 4}}, false, "expected at least 4 x smtp-reply, found 3"},
      {{{"count", {{"kind", "smtp-reply"}}}, {"max", 2}}, false, "expected between 0 and 2 x smtp-reply, found 3"},
      {{{"order", {{{"attrs", {{"code", "354"}}}}, {{"attrs", {{"code", "250"}}}}, {{"text", "Bye"}}}}}, true, ""},
      {{{"order", {{{"attrs", {{"code", "250"}}}}, {{"attrs", {{"code", "354"}}}}}}}, false,
       "expected in order: 1) record with code=250 2) record with code=354; step 2 (record with code=354) not found "
       "after #6"},
      {{{"all", {{{"exists", {{"kind", "run-start"}}}}, {{"absent", {{"kind", "run-end"}}}}}}}, true, ""},
      {{{"all", {{{"exists", {{"kind", "run-start"}}}}, {{"exists", {{"kind", "run-end"}}}}}}}, false,
       "expected a run-end, found none"},
      {{{"any", {{{"exists", {{"kind", "run-end"}}}}, {{"exists", {{"text", "Bye"}}}}}}}, true, ""},
      {{{"any", {{{"exists", {{"kind", "run-end"}}}}, {{"exists", {{"kind", "dns-query"}}}}}}}, false,
       "none of the alternatives holds: expected a run-end, found none; and expected a dns-query, found none"},
      {{{"not", {{"exists", {{"kind", "run-end"}}}}}}, true, ""},
      {{{"not", {{"exists", {{"kind", "run-start"}}}}}}, false, "expected not (a run-start), but it holds"},
  };
  for (const Case& c : cases) {
    json lesson = base_lesson();
    lesson["steps"][0]["expect"] = json::array({c.check});
    LessonLoad l = load(lesson);
    REQUIRE(l.ok());
    MatchContext ctx(trace, 0);
    CheckResult r = evaluate(l.lesson->steps[0].expect[0], ctx);
    INFO(c.check.dump() << "\n got: " << r.why);
    CHECK(r.ok == c.want);
    if (!c.want) CHECK(r.why.rfind(c.why, 0) == 0);
  }
}

TEST_CASE("checks: a fate is what the run's summary says happened to a recipient", "[lesson][check]") {
  // The base lesson's scenario with Alice's user agent (so mx.yahoo.test
  // knows her mailbox): Bob's one message to Alice, delivered.
  json lesson = base_lesson();
  lesson["scenario"]["hosts"].push_back(
      {{"name", "alice-pc"}, {"role", "user-agent"}, {"user", "alice@yahoo.test"}, {"server", "mx.yahoo.test"}});
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"rcpt", "alice@yahoo.test"}, {"state", "delivered"}}, ""},
      {{{"rcpt", "alice@yahoo.test"}, {"message", 0}, {"state", {"bounced", "delivered"}}, {"cut", false}, {"duplicate", false}},
       ""},
      {{{"rcpt", "alice@yahoo.test"}}, ""},
      {{{"rcpt", "alice@yahoo.test"}, {"state", "bounced"}},
       "expected alice@yahoo.test bounced, but message 0 to alice@yahoo.test was delivered at "},
      {{{"rcpt", "alice@yahoo.test"}, {"duplicate", true}},
       "expected alice@yahoo.test, delivered more than once, but message 0 to alice@yahoo.test was delivered at "},
      {{{"rcpt", "alice@yahoo.test"}, {"cut", true}}, "expected alice@yahoo.test, cut short, but message 0 to "},
      {{{"rcpt", "alice@yahoo.test"}, {"message", 1}, {"state", "delivered"}},
       "expected alice@yahoo.test (message 1) delivered, but no message of the run was for alice@yahoo.test"},
      {{{"rcpt", "carol@yahoo.test"}, {"state", "delivered"}},
       "expected carol@yahoo.test delivered, but no message of the run was for carol@yahoo.test"},
  };
  for (const auto& [fate, why] : cases) {
    lesson["steps"][0]["expect"] = json::array({{{"fate", fate}}});
    LessonLoad l = load(lesson);
    REQUIRE(l.ok());
    const RunResult run = run_scenario(l.lesson->scenario);
    MatchContext ctx(run.trace, 0);
    const CheckResult r = evaluate(l.lesson->steps[0].expect[0], ctx);
    INFO(fate.dump() << "\n got: " << r.why);
    CHECK(r.ok == why.empty());
    if (!why.empty()) CHECK(r.why.rfind(why, 0) == 0);
  }
  // A run that ends while the message still waits in a queue.
  lesson["scenario"]["faults"] = json::array({{{"type", "host-down"}, {"at", "0s"}, {"host", "mx.yahoo.test"}}});
  lesson["steps"][0]["expect"] = json::array({{{"fate", {{"rcpt", "alice@yahoo.test"}, {"state", "queued"}}}},
                                              {{"fate", {{"rcpt", "alice@yahoo.test"}, {"state", "delivered"}}}}});
  LessonLoad l = load(lesson);
  REQUIRE(l.ok());
  const RunResult run = run_scenario(l.lesson->scenario);
  MatchContext ctx(run.trace, 0);
  CHECK(evaluate(l.lesson->steps[0].expect[0], ctx).ok);
  const CheckResult r = evaluate(l.lesson->steps[0].expect[1], ctx);
  CHECK_FALSE(r.ok);
  CHECK(r.why.find("but message 0 to alice@yahoo.test was waiting in the queue of smtp.gmail.test") != std::string::npos);
}

TEST_CASE("checks: a fate \"at\" a time is what the summary said then", "[lesson][check]") {
  // Alice's server is down for the first minute: the first attempt times out
  // at 1 min 4 s, the second (at 6 min 4 s) delivers.
  json lesson = base_lesson();
  lesson["scenario"]["hosts"].push_back(
      {{"name", "alice-pc"}, {"role", "user-agent"}, {"user", "alice@yahoo.test"}, {"server", "mx.yahoo.test"}});
  lesson["scenario"]["faults"] = json::array({{{"type", "host-down"}, {"at", "0s"}, {"host", "mx.yahoo.test"}},
                                              {{"type", "host-up"}, {"at", "1min"}, {"host", "mx.yahoo.test"}}});
  const json alice = {{"rcpt", "alice@yahoo.test"}};
  auto with = [&](json extra) {
    json f = alice;
    f.update(extra);
    return f;
  };
  const std::vector<std::pair<json, std::string>> cases = {
      {with({{"at", "500ms"}}), "expected alice@yahoo.test at 500.000 ms into the run, but at 500.000 ms no message to "
                                "alice@yahoo.test had been written yet"},
      {with({{"at", "3min"}, {"state", "queued"}}), ""},
      {with({{"at", "3min"}, {"state", "delivered"}}),
       "expected alice@yahoo.test delivered at 3 min into the run, but at 3 min message 0 to alice@yahoo.test was "
       "waiting in the queue of smtp.gmail.test"},
      {with({{"at", "7min"}, {"state", "delivered"}, {"duplicate", false}}), ""},
      {with({{"at", "10min"}, {"state", "delivered"}}), ""},
      {with({{"state", "delivered"}}), ""},
      {with({{"at", "11min"}, {"state", "delivered"}}),
       "expected alice@yahoo.test delivered at 11 min into the run, but the run ended at 10 min, before 11 min"},
  };
  LessonLoad l0 = load(lesson);
  REQUIRE(l0.ok());
  const RunResult run = run_scenario(l0.lesson->scenario);
  MatchContext ctx(run.trace, 0);  // one context for every case: the folds per time are cached
  for (const auto& [fate, why] : cases) {
    lesson["steps"][0]["expect"] = json::array({{{"fate", fate}}});
    LessonLoad l = load(lesson);
    REQUIRE(l.ok());
    const CheckResult r = evaluate(l.lesson->steps[0].expect[0], ctx);
    INFO(fate.dump() << "\n got: " << r.why);
    CHECK(r.ok == why.empty());
    if (!why.empty()) CHECK(r.why.rfind(why, 0) == 0);
  }
  // The fold at a time is the fold of the records up to it.
  const std::vector<Record>& all = run.trace.records();
  const auto upto = std::partition_point(all.begin(), all.end(), [](const Record& r) { return r.t <= minutes(3); });
  const std::vector<MessageFate> want = message_fates(std::span<const Record>(all.data(), size_t(upto - all.begin())));
  const std::vector<MessageFate>& got = ctx.fates(minutes(3));
  REQUIRE(got.size() == want.size());
  REQUIRE(got[0].recipients.size() == 1);
  CHECK(got[0].recipients[0].state == FateState::queued);
  CHECK(got[0].recipients[0].record == want[0].recipients[0].record);
  CHECK(ctx.fates().at(0).recipients.at(0).state == FateState::delivered);
}

// ---- the checker on lessons the current simulator can run

namespace {

json checked_lesson() {
  json j = base_lesson();
  j["steps"] = json::array({
      {{"title", "Start"},
       {"text", "The run starts."},
       {"pause", {{"kind", "run-start"}}},
       {"question",
        {{"prompt", "Who writes first?"},
         {"choices", {{{"text", "Bob"}, {"match", {{"kind", "message-composed"}, {"src", "bob-pc"}}}},
                      {{"text", "Nobody"}, {"match", {{"kind", "run-end"}}}}}},
         {"answer", "a"},
         {"reveal", {{"layer", {"mail", "engine"}}}},
         {"explain", "Bob's user agent composes at 1 s."}}}},
      {{"title", "Break it"},
       {"text", "Take the server down."},
       {"exercise",
        {{"task", "Take smtp.gmail.test down."},
         {"check", {{"exists", {{"kind", "fault-injected"}, {"student_fault", true}, {"attrs", {{"type", "host-down"}}}}}}},
         {"teacher",
          {{"solution", {{"faults", json::array({{{"type", "host-down"}, {"at", "0s"}, {"host", "smtp.gmail.test"}}})}}},
           {"non_solution",
            {{"faults", json::array({{{"type", "greylisting"}, {"at", "0s"}, {"host", "smtp.gmail.test"}}})}}}}}}}},
  });
  return j;
}

}  // namespace

TEST_CASE("checker: a truthful lesson passes", "[lesson][check]") {
  LessonLoad l = load(checked_lesson());
  REQUIRE(l.ok());
  LessonReport rep = check_lesson(*l.lesson);
  std::string got;
  for (const auto& f : rep.failures) got += "\n" + f.format();
  INFO(got);
  CHECK(rep.ok());
  CHECK(rep.checks >= 5);
}

TEST_CASE("checker: a question claiming what the simulator does not do fails", "[lesson][check]") {
  json j = checked_lesson();
  j["steps"][0]["question"]["answer"] = "b";  // claims the run ends before Bob writes
  LessonLoad l = load(j);
  REQUIRE(l.ok());
  LessonReport rep = check_lesson(*l.lesson);
  REQUIRE(rep.failures.size() == 2);
  const std::string f0 = rep.failures[0].format();
  CHECK(f0.rfind("t.json: /steps/0/question/choices/1: the simulator reveals #", 0) == 0);
  CHECK(f0.find(" message-composed \"bob@gmail.test writes \"Hi\" to alice@yahoo.test\", but the answer (b) expects "
                "run-end") != std::string::npos);
  CHECK(rep.failures[1].format().find("wrong choice (a) also matches the revealing record") != std::string::npos);
}

TEST_CASE("checker: a reveal that never happens fails", "[lesson][check]") {
  json j = checked_lesson();
  j["steps"][0]["question"]["reveal"] = {{"kind", "smtp-reply"}, {"attrs", {{"code", "999"}}}};
  LessonLoad l = load(j);
  REQUIRE(l.ok());
  LessonReport rep = check_lesson(*l.lesson);
  REQUIRE_FALSE(rep.ok());
  CHECK(rep.failures[0].format() ==
        "t.json: /steps/0/question: no record after the pause (#1) reveals the answer: smtp-reply with code=999");
}

TEST_CASE("checker: pauses must find a record and go forward", "[lesson][check]") {
  json j = checked_lesson();
  j["steps"][1]["pause"] = {{"kind", "run-start"}};
  j["steps"].push_back({{"title", "x"}, {"text", "y"}, {"pause", {{"kind", "dns-query"}}}});
  LessonLoad l = load(j);
  REQUIRE(l.ok());
  LessonReport rep = check_lesson(*l.lesson);
  REQUIRE(rep.failures.size() == 2);
  CHECK(rep.failures[0].format().rfind("t.json: /steps/1/pause: #1 run-start \"scenario", 0) == 0);
  CHECK(rep.failures[1].format() == "t.json: /steps/2/pause: no record matches: dns-query");
}

TEST_CASE("checker: an exercise whose non-solution passes, or solution fails, is reported", "[lesson][check]") {
  json j = checked_lesson();
  j["steps"][1]["exercise"]["teacher"]["non_solution"] = j["steps"][1]["exercise"]["teacher"]["solution"];
  j["steps"][1]["exercise"]["teacher"]["solution"] = json::object();
  LessonLoad l = load(j);
  REQUIRE(l.ok());
  LessonReport rep = check_lesson(*l.lesson);
  REQUIRE(rep.failures.size() == 2);
  CHECK(rep.failures[0].format().rfind(
            "t.json: /steps/1/exercise/teacher/solution: the teacher's solution does not pass: expected a fault-injected "
            "of a fault the student added",
            0) == 0);
  CHECK(rep.failures[1].format().rfind(
            "t.json: /steps/1/exercise/teacher/non_solution: the non-solution passes the check", 0) == 0);
}

TEST_CASE("exercise: a student's additions are validated like a scenario's", "[lesson][check]") {
  LessonLoad l = load(checked_lesson());
  REQUIRE(l.ok());
  const Exercise& e = *l.lesson->steps[1].exercise;
  ScenarioAdditions bad;
  bad.faults = json::array({{{"type", "host-dwn"}, {"at", "0s"}}});
  ExerciseResult r = try_exercise(*l.lesson, e, bad);
  REQUIRE_FALSE(r.errors.empty());
  CHECK(r.errors[0].pointer == "/faults/0/type");
  CHECK(r.errors[0].message.rfind("unknown fault type \"host-dwn\"; expected one of: host-down", 0) == 0);
  ScenarioAdditions good;
  good.faults = json::array({{{"type", "host-down"}, {"at", "2s"}, {"host", "smtp.gmail.test"}}});
  r = try_exercise(*l.lesson, e, good);
  CHECK(r.errors.empty());
  CHECK(r.passed);
}

TEST_CASE("exercise: switching off one of the scenario's own faults (what if it had not happened)", "[lesson][check]") {
  // mx-fallback.json: the primary MX is down, the backup takes the mail.
  json j = base_lesson();
  j["scenario"] = "mx-fallback.json";
  j["steps"].push_back(json{
      {"title", "What if"},
      {"text", "The primary was down."},
      {"exercise",
       {{"task", "Make the primary MX take the mail at the first attempt."},
        {"check", {{"exists", {{"kind", "message-relayed"}, {"attrs", {{"mx", "mx1.yahoo.test"}, {"attempt", "1"}}}}}}},
        {"teacher", {{"solution", {{"switch_off", {0}}}}, {"non_solution", json::object()}}}}}});
  LessonLoad l = load(j);
  REQUIRE(l.ok());
  LessonReport rep = check_lesson(*l.lesson);
  for (const ScenarioError& e : rep.failures) INFO(e.format());
  CHECK(rep.failures.empty());
  const Exercise& e = *l.lesson->steps[1].exercise;
  CHECK(e.solution.switch_off == std::vector<size_t>{0});
  CHECK(e.solution.describe() == "switch off fault 0");
  // A fault the scenario does not have.
  ScenarioAdditions none;
  none.switch_off = {1};
  ExerciseResult r = try_exercise(*l.lesson, e, none);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].pointer == "/switch_off/0");
  CHECK(r.errors[0].message == "the lesson's scenario has 1 fault, so there is no fault 1 to switch off");
  // Bad values, each at its own pointer.
  std::vector<ScenarioError> errs;
  CHECK_FALSE(read_additions(json{{"switch_off", "0"}}, "t.json", "/x", errs));
  CHECK_FALSE(read_additions(json{{"switch_off", {0, -1, 0, 2.5}}}, "t.json", "/x", errs));
  std::vector<std::string> got;
  for (const ScenarioError& e2 : errs) got.push_back(e2.format());
  CHECK(got == std::vector<std::string>{
                   "t.json: /x/switch_off: expected an array of fault indices (from 0), got a string",
                   "t.json: /x/switch_off/1: expected the index (from 0) of one of the scenario's faults, got -1",
                   "t.json: /x/switch_off/2: fault 0 is already switched off",
                   "t.json: /x/switch_off/3: expected the index (from 0) of one of the scenario's faults, got 2.5"});
}

// ---- the lessons in the repository

TEST_CASE("lessons/: every lesson loads, runs and passes its checks", "[lesson][files]") {
  const std::string dir = source_dir() + "/lessons";
  const auto files = lesson_files(dir);
  for (const std::string& f : files) {
    LessonLoad l = load_lesson_file(f, source_dir() + "/scenarios");
    std::string errs;
    for (const auto& e : l.errors) errs += "\n" + e.format();
    INFO(f << errs);
    REQUIRE(l.ok());
    LessonReport rep = check_lesson(*l.lesson);
    std::string fails;
    for (const auto& e : rep.failures) fails += "\n" + e.format();
    INFO(fails);
    CHECK(rep.ok());
    CHECK(rep.checks > 0);
    // Every question and every exercise contributes, so a lesson file that
    // asks nothing is suspicious but allowed; one that checks nothing is not.
  }
}

TEST_CASE("lessons/: file names keep teaching order", "[lesson][files]") {
  for (const std::string& f : lesson_files(source_dir() + "/lessons")) {
    const std::string id = lesson_id_of(f);
    INFO(id);
    CHECK(id.size() > 3);
    CHECK(std::isdigit(static_cast<unsigned char>(id[0])));
    CHECK(std::isdigit(static_cast<unsigned char>(id[1])));
    CHECK(id[2] == '-');
  }
}

TEST_CASE("lessons/schema.json lists exactly the keys the loader accepts", "[lesson][schema]") {
  const json schema = json::parse(read_file(source_dir() + "/lessons/schema.json"));
  const auto& table = lesson_allowed_keys();
  REQUIRE(schema.contains("$defs"));
  for (const auto& [type, keys] : table) {
    INFO("schema type " << type);
    json node = type == "lesson" ? schema : schema["$defs"][type];
    REQUIRE(node.contains("properties"));
    std::vector<std::string> got;
    for (auto it = node["properties"].begin(); it != node["properties"].end(); ++it) got.push_back(it.key());
    std::vector<std::string> want = keys;
    std::sort(got.begin(), got.end());
    std::sort(want.begin(), want.end());
    CHECK(got == want);
    CHECK(node.value("additionalProperties", true) == false);
  }
  // The record kinds an editor offers are exactly the trace vocabulary.
  std::vector<std::string> kinds;
  for (const auto& k : schema["$defs"]["matcher"]["properties"]["kind"]["oneOf"][0]["enum"]) kinds.push_back(k);
  std::vector<std::string> want;
  for (int i = 0; i < kKindCount; ++i) want.emplace_back(kind_name(static_cast<Kind>(i)));
  CHECK(kinds == want);
}

TEST_CASE("lessons/drafts/: every draft at least loads", "[lesson][files]") {
  // Drafts wait for the simulator to produce the records their checks need
  // (lessons/drafts/README.md), but they must stay valid lesson files.
  for (const std::string& f : lesson_files(source_dir() + "/lessons/drafts")) {
    LessonLoad l = load_lesson_file(f, source_dir() + "/scenarios");
    std::string errs;
    for (const auto& e : l.errors) errs += "\n" + e.format();
    INFO(f << errs);
    CHECK(l.ok());
  }
}

TEST_CASE("lessons/drafts/: check them on request (SMTPLAB_CHECK_DRAFTS=1)", "[lesson][files][drafts]") {
  // Drafts wait for simulator features, so they do not fail the suite; a
  // lesson author runs this to see which drafts are ready to move up.
  const char* want = std::getenv("SMTPLAB_CHECK_DRAFTS");
  if (!want || std::string(want) != "1") return;
  for (const std::string& f : lesson_files(source_dir() + "/lessons/drafts")) {
    LessonLoad l = load_lesson_file(f, source_dir() + "/scenarios");
    REQUIRE(l.ok());
    LessonReport rep = check_lesson(*l.lesson);
    std::string fails;
    for (const auto& e : rep.failures) fails += "\n" + e.format();
    INFO(f << fails);
    CHECK(rep.ok());
  }
}
