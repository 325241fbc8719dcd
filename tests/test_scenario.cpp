// tests/test_scenario.cpp: the scenario loader, every error class with its
// exact message, and the JSON Schema kept in step with the loader.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "sim/dns/zone_record.hpp"
#include "sim/faults/catalog.hpp"
#include "sim/scenario/loader.hpp"
#include "test_helpers.hpp"

using namespace smtplab;

namespace {

// A small valid scenario; tests patch it with one mistake at a time.
const char* kBase = R"({
  "smtplab": 1,
  "hosts": [
    { "name": "bob-pc", "role": "user-agent", "user": "bob@gmail.test", "server": "smtp.gmail.test" },
    { "name": "smtp.gmail.test", "role": "mail-server", "domains": ["gmail.test"] },
    { "name": "mx.yahoo.test", "role": "mail-server", "domains": ["yahoo.test"], "mailboxes": ["alice"] }
  ],
  "messages": [ { "from": "bob@gmail.test", "to": "alice@yahoo.test", "subject": "Hi", "body": "Hello" } ]
})";

nlohmann::json base() { return nlohmann::json::parse(kBase); }

std::vector<std::string> errors_of(const std::string& text) {
  LoadResult r = load_scenario_text(text, "x.json");
  std::vector<std::string> out;
  for (const ScenarioError& e : r.errors) out.push_back(e.format());
  if (!r.errors.empty()) CHECK_FALSE(r.scenario.has_value());
  return out;
}

std::vector<std::string> errors_of(const nlohmann::json& j) { return errors_of(j.dump()); }

bool has(const std::vector<std::string>& errors, const std::string& want) {
  for (const std::string& e : errors)
    if (e == want) return true;
  return false;
}

}  // namespace

TEST_CASE("the base scenario loads with defaults filled in", "[scenario]") {
  LoadResult r = load_scenario_text(kBase, "x.json");
  INFO((r.errors.empty() ? "" : r.errors.front().format()));
  REQUIRE(r.ok());
  const Scenario& sc = *r.scenario;
  CHECK(sc.seed == 1);
  CHECK(sc.duration == hours(1));
  REQUIRE(sc.hosts.size() == 3);
  CHECK(sc.hosts[0].role == HostRole::user_agent);
  // Bob's mailbox is created on his server because it serves his domain.
  const Host* gmail = sc.find_host("smtp.gmail.test");
  REQUIRE(gmail);
  REQUIRE(gmail->mailboxes.size() == 1);
  CHECK(gmail->mailboxes[0].user == "bob");
  CHECK(sc.messages[0].via == "bob-pc");
  CHECK(sc.messages[0].to == std::vector<std::string>{"alice@yahoo.test"});
  CHECK(gmail->queue.max_backoff == minutes(67));
  CHECK(gmail->smtp.max_recipients == 100);
}

TEST_CASE("the built-in default scenario is valid and is bob-to-alice", "[scenario]") {
  Scenario sc = default_scenario();
  CHECK(sc.name == "Bob sends a message to Alice");
  CHECK(sc.find_host("mx.yahoo.test") != nullptr);
  const std::string file = testing::read_file(testing::source_dir() + "/scenarios/bob-to-alice.json");
  CHECK(file == std::string(default_scenario_text()));
}

TEST_CASE("every file in scenarios/ validates", "[scenario]") {
  namespace fs = std::filesystem;
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(testing::source_dir()) / "scenarios")) {
    if (e.path().extension() != ".json" || e.path().filename() == "schema.json") continue;
    LoadResult r = load_scenario_file(e.path().string());
    INFO(e.path().string() << ": " << (r.errors.empty() ? "" : r.errors.front().format()));
    CHECK(r.ok());
    ++n;
  }
  CHECK(n >= 1);
}

TEST_CASE("type, range and enum errors name the pointer and the reason", "[scenario][errors]") {
  struct Case {
    const char* pointer;  // JSON pointer to patch
    nlohmann::json value;
    const char* want;
  };
  const Case cases[] = {
      {"/seed", -3, "x.json: /seed: must be between 0 and 9223372036854775807, got -3"},
      {"/seed", "one", "x.json: /seed: expected a whole number, got a string"},
      {"/seed", 1.5, "x.json: /seed: must be a whole number, got 1.5"},
      {"/duration", "soon", "x.json: /duration: bad duration \"soon\": expected a number at \"soon\""},
      {"/duration", "10", "x.json: /duration: bad duration \"10\": missing unit after 10; use us, ms, s, min, h or d (for example \"10s\")"},
      {"/duration", 5, "x.json: /duration: expected a duration string such as \"10ms\", \"30min\" or \"5d\", got 5"},
      {"/duration", "400d", "x.json: /duration: must be at most 365d"},
      {"/smtplab", 2, "x.json: /smtplab: this is scenario format version 2; this smtplab reads version 1"},
      {"/hosts/1/role", "mailserver",
       "x.json: /hosts/1/role: unknown value \"mailserver\"; expected one of: user-agent, mail-server, dns-server, router"},
      {"/hosts/1/name", "bad name!", "x.json: /hosts/1/name: \"bad name!\" is not a valid host name (letters, digits, hyphens and dots)"},
      {"/hosts/1/address", "10.0.0.300", "x.json: /hosts/1/address: \"10.0.0.300\" is not an IPv4 address such as \"192.0.2.10\""},
      {"/hosts/1/smtp", nlohmann::json{{"extensions", {"PIPELINING", "CHUNKY"}}},
       "x.json: /hosts/1/smtp/extensions/1: unknown extension \"CHUNKY\"; expected one of: PIPELINING, SIZE, 8BITMIME, "
       "ENHANCEDSTATUSCODES, DSN, STARTTLS, AUTH"},
      {"/hosts/1/smtp", nlohmann::json{{"vrfy", "no"}}, "x.json: /hosts/1/smtp/vrfy: expected true or false, got \"no\""},
      {"/hosts/1/queue", nlohmann::json{{"min_backoff", "1h"}, {"max_backoff", "10min"}},
       "x.json: /hosts/1/queue/max_backoff: must not be less than min_backoff (1 h)"},
      {"/hosts/1/queue", nlohmann::json{{"schedule", "weekly"}},
       "x.json: /hosts/1/queue/schedule: unknown value \"weekly\"; expected one of: postfix, fixed, quadratic"},
      {"/messages/0/to", "not-an-address",
       "x.json: /messages/0/to: \"not-an-address\" is not an email address such as \"alice@yahoo.test\""},
      {"/messages/0/to", nlohmann::json::array({"alice@yahoo.test", "x@"}),
       "x.json: /messages/0/to/1: \"x@\" is not an email address such as \"alice@yahoo.test\""},
      {"/messages/0/at", "2h", "x.json: /messages/0/at: is after the end of the run (duration 1 h)"},
      {"/messages/0/body", 42, "x.json: /messages/0/body: expected a string or an array of strings, got a number"},
      {"/messages/0/probe", "VRFY alice", "x.json: /messages/0/probe: expected an array of strings, got a string"},
      {"/messages/0/probe", nlohmann::json::array({"VRFY alice", 7}), "x.json: /messages/0/probe/1: expected a string, got a number"},
      {"/messages/0/probe", nlohmann::json::array({"HELP", "MAIL FROM:<x@y.test>"}),
       "x.json: /messages/0/probe/1: \"MAIL FROM:<x@y.test>\" is not a probe: a probe is VRFY, EXPN, HELP or NOOP with its "
       "argument (RFC 5321 4.1.1.6-4.1.1.9); the mail itself is the message's from/to"},
      {"/messages/0/probe", nlohmann::json::array({"vrfy  "}),
       "x.json: /messages/0/probe/0: \"vrfy  \": VRFY needs an argument, such as \"VRFY alice\" (RFC 5321 4.1.1.6)"},
      {"/messages/0/probe", nlohmann::json::array({"EXPN"}),
       "x.json: /messages/0/probe/0: \"EXPN\": EXPN needs an argument, such as \"EXPN staff\" (RFC 5321 4.1.1.7)"},
      {"/messages/0/probe", nlohmann::json::array({"VRFY alice\r\nDATA"}),
       "x.json: /messages/0/probe/0: \"VRFY alice\\r\\nDATA\" is not one line of printable ASCII (no control characters or CR LF)"},
      {"/messages/0/probe", nlohmann::json::array({"VRFY " + std::string(600, 'a')}),
       "x.json: /messages/0/probe/0: a probe command is at most 510 characters (RFC 5321 4.5.3.1.4), not 605"},
      {"/messages/0/probe", nlohmann::json(std::vector<std::string>(21, "NOOP")),
       "x.json: /messages/0/probe: at most 20 probe commands, not 21"},
      {"/hosts", nlohmann::json::array(), "x.json: /hosts: a scenario needs at least one host"},
      {"/network", nlohmann::json{{"loss", 1.5}}, "x.json: /network/loss: must be between 0 and 1, got 1.5"},
      {"/network", nlohmann::json{{"bandwidth", "fast"}},
       "x.json: /network/bandwidth: bad bandwidth \"fast\"; expected a number and bit, kbit, Mbit or Gbit, e.g. \"100Mbit\""},
  };
  for (const Case& c : cases) {
    nlohmann::json j = base();
    j[nlohmann::json::json_pointer(c.pointer)] = c.value;
    const auto errs = errors_of(j);
    INFO("patched " << c.pointer << " = " << c.value.dump() << "\ngot: " << (errs.empty() ? "(no error)" : errs.front()));
    CHECK(has(errs, c.want));
  }
}

TEST_CASE("unknown keys are rejected with the allowed list", "[scenario][errors]") {
  nlohmann::json j = base();
  j["colour"] = "blue";
  j["hosts"][1]["mailbox"] = "typo";
  auto errs = errors_of(j);
  CHECK(has(errs,
            "x.json: /colour: unknown key \"colour\"; allowed keys: smtplab, name, description, seed, duration, network, "
            "hosts, links, messages, faults"));
  CHECK(errs.size() == 2);
  CHECK(errs[1].rfind("x.json: /hosts/1/mailbox: unknown key \"mailbox\"; allowed keys: name, role,", 0) == 0);

  // A key of another role is named as such.
  j = base();
  j["hosts"][0]["domains"] = {"gmail.test"};
  errs = errors_of(j);
  CHECK(has(errs,
            "x.json: /hosts/0/domains: key \"domains\" does not apply to a user-agent; keys for this role: name, role, "
            "address, description, resolver, user, password, server, fetch, dot_stuffing, pipelining, starttls, auth"));
}

TEST_CASE("missing required keys and dangling references", "[scenario][errors]") {
  nlohmann::json j = base();
  j.erase("smtplab");
  j["hosts"][0].erase("server");
  j["hosts"].push_back({{"name", "mx.yahoo.test"}, {"role", "mail-server"}});
  j["messages"][0]["from"] = "carol@gmail.test";
  j["links"] = {{{"a", "bob-pc"}, {"b", "nowhere"}}};
  j["hosts"][1]["smarthost"] = "relay.test";
  j["faults"] = {{{"type", "host-down"}, {"at", "10s"}, {"host", "ghost.test"}},
                 {{"type", "smtp-reply"}, {"at", "1s"}, {"host", "bob-pc"}, {"verb", "RCPT"}, {"code", 451}},
                 {{"type", "link-down"}, {"at", "1s"}, {"link", {"smtp.gmail.test", "mx.yahoo.test"}}}};
  const auto errs = errors_of(j);
  const std::vector<std::string> want = {
      "x.json: /smtplab: required key is missing",
      "x.json: /hosts/3/name: duplicate host name \"mx.yahoo.test\"",
      "x.json: /hosts/0/server: required key is missing for a user-agent (its mail server)",
      "x.json: /hosts/1/smarthost: \"relay.test\" is not another mail-server host of this scenario",
      "x.json: /links/0/b: no host named \"nowhere\"",
      "x.json: /messages/0/from: no user-agent host has user \"carol@gmail.test\"; add one, or name the sender with \"via\"",
      "x.json: /faults/0/host: no host named \"ghost.test\"",
      "x.json: /faults/1/host: \"bob-pc\" is a user-agent; a smtp-reply fault needs a mail-server",
      "x.json: /faults/2/link: no link between \"smtp.gmail.test\" and \"mx.yahoo.test\"",
  };
  for (const std::string& w : want) {
    INFO("want: " << w);
    CHECK(has(errs, w));
  }
  // Every error is reported, not just the first.
  CHECK(errs.size() >= want.size());
}

TEST_CASE("fault vocabulary: types, keys and values", "[scenario][faults]") {
  auto with_fault = [](nlohmann::json f) {
    nlohmann::json j = base();
    j["faults"] = nlohmann::json::array({f});
    return errors_of(j);
  };
  CHECK(has(with_fault({{"type", "meteor"}, {"at", "1s"}}),
            "x.json: /faults/0/type: unknown fault type \"meteor\"; expected one of: host-down, host-up, link-down, "
            "link-up, link-loss, dns-failure, smtp-reply, smtp-delay, smtp-disconnect, smtp-shutdown, drop-final-reply, "
            "mailbox-full, greylisting, no-dot-stuffing, bare-lf"));
  CHECK(has(with_fault({{"type", "host-down"}, {"at", "1s"}}),
            "x.json: /faults/0/host: required key is missing for a host-down fault"));
  CHECK(has(with_fault({{"type", "host-down"}, {"at", "1s"}, {"host", "mx.yahoo.test"}, {"code", 451}}),
            "x.json: /faults/0/code: key \"code\" does not apply to a host-down fault; its keys: type, at, host, until"));
  CHECK(has(with_fault({{"type", "host-down"}, {"at", "10s"}, {"host", "mx.yahoo.test"}, {"until", "5s"}}),
            "x.json: /faults/0/until: must be after \"at\" (10.000 s)"));
  CHECK(has(with_fault({{"type", "smtp-reply"}, {"at", "1s"}, {"host", "mx.yahoo.test"}, {"verb", "RCTP"}, {"code", 451}}),
            "x.json: /faults/0/verb: unknown verb \"RCTP\"; expected one of: CONNECT, EHLO, HELO, MAIL, RCPT, DATA, EOD, "
            "RSET, QUIT"));
  CHECK(has(with_fault({{"type", "smtp-reply"}, {"at", "1s"}, {"host", "mx.yahoo.test"}, {"verb", "RCPT"}, {"code", 250}}),
            "x.json: /faults/0/code: must be between 400 and 599, got 250"));
  CHECK(has(with_fault({{"type", "dns-failure"}, {"at", "1s"}, {"domain", "yahoo.test"}, {"mode", "flaky"}}),
            "x.json: /faults/0/mode: unknown value \"flaky\"; expected one of: nxdomain, servfail, timeout"));
  CHECK(has(with_fault({{"type", "mailbox-full"}, {"at", "1s"}, {"host", "mx.yahoo.test"}, {"mailbox", "zed"}}),
            "x.json: /faults/0/mailbox: \"mx.yahoo.test\" has no mailbox \"zed\""));
  CHECK(with_fault({{"type", "smtp-reply"}, {"at", "1s"}, {"host", "mx.yahoo.test"}, {"verb", "rcpt"}, {"nth", 2}, {"code", 451}})
            .empty());
  CHECK(with_fault({{"type", "link-down"}, {"at", "1s"}, {"link", {"mx.yahoo.test", "internet"}}, {"until", "1min"}}).empty());
}

TEST_CASE("DNS zone records are checked where they are written", "[scenario][dns]") {
  nlohmann::json j = base();
  j["hosts"].push_back({{"name", "ns.test"},
                        {"role", "dns-server"},
                        {"zones", {{{"origin", "yahoo.test"},
                                    {"records", {"@ 3600 IN MX 10 mx.yahoo.test.", "mx IN A 192.0.2.5", "@ IN TXT hi",
                                                 "@ MX ten mx"}}}}}});
  const auto errs = errors_of(j);
  CHECK(has(errs, "x.json: /hosts/3/zones/0/records/2: bad record \"@ IN TXT hi\": record type \"TXT\" is not supported; "
                  "expected one of: A, MX, CNAME"));
  CHECK(has(errs, "x.json: /hosts/3/zones/0/records/3: bad record \"@ MX ten mx\": MX preference \"ten\" is not a number"));
  CHECK(errs.size() == 2);
}

TEST_CASE("malformed files get one clear error with a position, never a crash", "[scenario][errors]") {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"", "x.json: file is empty; a scenario is a JSON object such as {\"smtplab\": 1, \"hosts\": [...]}"},
      {"   \n\t ", "x.json: file is empty; a scenario is a JSON object such as {\"smtplab\": 1, \"hosts\": [...]}"},
      {"{\n  \"smtplab\": 1,\n  \"hosts\": [ }\n",
       "x.json:3:14: JSON syntax error: syntax error while parsing value - unexpected '}'; expected '[', '{', or a literal"},
      {"{\"smtplab\": 1,}", "x.json:1:15: JSON syntax error: syntax error while parsing object key - unexpected '}'; expected string literal"},
      {std::string("{\"a\":\x00}", 7), "x.json:1:6: this looks like a binary file (NUL byte), not a JSON scenario"},
      {"{\"name\": \"caf\xe9\"}", "x.json:1:14: text is not valid UTF-8 (save the file as UTF-8)"},
      {"[1, 2]", "x.json: /: expected a scenario (a JSON object), got an array"},
      {"\"just a string\"", "x.json: /: expected a scenario (a JSON object), got a string"},
      {std::string(40, '[') + std::string(40, ']'),
       "x.json:1:33: nesting deeper than 32 levels; a scenario never needs that"},
      // Found by fuzz_scenario: a number beyond a double used to abort.
      {"9999E99999ro9ell", "x.json:1:1: JSON error: number overflow parsing '9999E99999' (too large for a number)"},
      {"{\"smtplab\": 1,\n \"seed\": 1E400}",
       "x.json:2:10: JSON error: number overflow parsing '1E400' (too large for a number)"},
  };
  for (const Case& c : cases) {
    const auto errs = errors_of(c.text);
    INFO("input: " << nlohmann::json(c.text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    REQUIRE(errs.size() == 1);
    CHECK(errs[0] == c.want);
  }
  // Too large: rejected before parsing, with no memory blow-up.
  const std::string huge(kMaxScenarioBytes + 10, ' ');
  const auto errs = errors_of(huge);
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].find("file is too large") != std::string::npos);
  // A missing file.
  LoadResult missing = load_scenario_file("/nonexistent/dir/x.json");
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].format() == "/nonexistent/dir/x.json: cannot open file");
}

TEST_CASE("bandwidths parse with units", "[scenario]") {
  std::string why;
  CHECK(parse_bandwidth("100Mbit", &why) == 100'000'000);
  CHECK(parse_bandwidth("56kbit", &why) == 56'000);
  CHECK(parse_bandwidth("1Gbit", &why) == 1'000'000'000);
  CHECK(parse_bandwidth("1.5Mbit", &why) == 1'500'000);
  CHECK_FALSE(parse_bandwidth("10", &why));
  CHECK_FALSE(parse_bandwidth("10 furlongs", &why));
  CHECK_FALSE(parse_bandwidth("1bit", &why));  // below 1kbit
}

TEST_CASE("scenarios/schema.json lists exactly the keys the loader accepts", "[scenario][schema]") {
  const std::string text = testing::read_file(testing::source_dir() + "/scenarios/schema.json");
  REQUIRE_FALSE(text.empty());
  const nlohmann::json schema = nlohmann::json::parse(text);
  const auto& defs = schema.at("$defs");
  for (const auto& [name, keys] : scenario_allowed_keys()) {
    INFO("schema definition \"" << name << "\"");
    const nlohmann::json* props = nullptr;
    if (name == "scenario")
      props = &schema.at("properties");
    else {
      REQUIRE(defs.contains(name));
      props = &defs.at(name).at("properties");
    }
    std::set<std::string> in_schema, in_loader(keys.begin(), keys.end());
    for (auto it = props->begin(); it != props->end(); ++it) in_schema.insert(it.key());
    CHECK(in_schema == in_loader);
    const nlohmann::json& def = name == "scenario" ? schema : defs.at(name);
    if (name != "mailbox") CHECK(def.value("additionalProperties", true) == false);
  }
  // The fault types in the schema are the catalog's.
  std::set<std::string> schema_types;
  for (const auto& t : defs.at("fault").at("properties").at("type").at("enum")) schema_types.insert(t.get<std::string>());
  std::set<std::string> catalog_types;
  for (const FaultType& f : fault_catalog()) catalog_types.insert(std::string(f.name));
  CHECK(schema_types == catalog_types);
}

TEST_CASE("zone records: names that outgrow 253 characters with the origin are rejected (fuzz_zone)", "[scenario][dns]") {
  // 62 labels of "ab" (185 characters) are a valid relative name, but with a
  // 70-character origin the qualified name passes the limit.
  std::string rel;
  for (int i = 0; i < 62; ++i) rel += (i ? ".ab" : "ab");
  const std::string origin = std::string(60, 'o') + ".yahoo.test";
  std::string why;
  REQUIRE(parse_zone_record(rel + " IN A 192.0.2.1", "", &why));
  CHECK_FALSE(parse_zone_record(rel + " IN A 192.0.2.1", origin, &why));
  CHECK(why.find("is too long once qualified with the origin (at most 253 characters, RFC 1035 2.3.4)") !=
        std::string::npos);
  CHECK_FALSE(parse_zone_record("@ IN MX 10 " + rel, origin, &why));
  CHECK_FALSE(parse_zone_record("www IN CNAME " + rel, origin, &why));
  // Whatever parses prints as text that parses to the same text.
  for (const std::string& text : {std::string("mail 300 IN MX 5 mx"), rel + " IN A 192.0.2.1"}) {
    auto r = parse_zone_record(text, "yahoo.test.", &why);
    if (!r) continue;
    auto again = parse_zone_record(r->to_text(), "yahoo.test.", &why);
    REQUIRE(again);
    CHECK(again->to_text() == r->to_text());
  }
}
