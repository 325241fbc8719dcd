// tests/test_setting.cpp: `--set POINTER=VALUES` (sim/scenario/setting.hpp)
// and the sweep that compares the values of one setting.
//
// - values: JSON where they read as JSON, words as written, commas inside
//   quotes and brackets kept; every malformed form refused with a reason;
// - the document: a key added to an object, an array element replaced,
//   a missing parent or index refused;
// - 100,000 random strings: parsed consistently or refused, never a crash;
// - a comparison sweep: one line per value, the replay line of the rarest
//   outcome replays it.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>

#include "run_helpers.hpp"
#include "sim/scenario/setting.hpp"
#include "sim/scenario/sweep.hpp"

using namespace smtplab;
using json = nlohmann::json;

namespace {

Setting parsed(const std::string& text) {
  std::string why;
  auto s = parse_setting(text, &why);
  INFO(text << ": " << why);
  REQUIRE(s.has_value());
  return *s;
}

std::string refusal(const std::string& text) {
  std::string why;
  const auto s = parse_setting(text, &why);
  CHECK(!s.has_value());
  CHECK(!why.empty());
  return why;
}

}  // namespace

TEST_CASE("setting: values are JSON where they read as JSON, words otherwise", "[setting]") {
  Setting s = parsed("/links/0/loss=0.2");
  CHECK(s.pointer == "/links/0/loss");
  REQUIRE(s.values.size() == 1);
  CHECK(s.values[0] == json(0.2));
  s = parsed("/links/2/loss=0, 0.1 ,0.2,0.3");
  CHECK(s.values == std::vector<json>{0, 0.1, 0.2, 0.3});
  s = parsed("/duration=2h");
  CHECK(s.values == std::vector<json>{"2h"});
  CHECK(Setting::value_text(s.values[0]) == "2h");
  s = parsed("/x=true,null,\"a,b\",[1,2],{\"k\":[3,4]},mx.yahoo.test");
  REQUIRE(s.values.size() == 6);
  CHECK(s.values[0] == json(true));
  CHECK(s.values[1].is_null());
  CHECK(s.values[2] == json("a,b"));
  CHECK(s.values[3] == json::array({1, 2}));
  CHECK(s.values[4] == json{{"k", {3, 4}}});
  CHECK(s.values[5] == json("mx.yahoo.test"));
  CHECK(Setting::value_text(s.values[3]) == "[1,2]");
  // Written back so that it reads as the same value: quoted when a bare
  // word would read otherwise.
  CHECK(Setting::value_text(json("a,b")) == "\"a,b\"");
  CHECK(Setting::value_text(json("true")) == "\"true\"");
  CHECK(Setting::value_text(json("0.1")) == "\"0.1\"");
  CHECK(Setting::value_text(json(" x")) == "\" x\"");
  CHECK(Setting::value_text(json("")) == "\"\"");
  CHECK(Setting::value_text(json("20ms")) == "20ms");
  // The pointer's escapes (RFC 6901): ~1 is "/", ~0 is "~".
  CHECK(parsed("/a~1b/c~0d=1").pointer == "/a~1b/c~0d");
  // '=' in a value is part of the value.
  CHECK(parsed("/subject=a=b").values == std::vector<json>{"a=b"});
}

TEST_CASE("setting: every malformed form is refused with a reason", "[setting]") {
  CHECK(refusal("/links/0/loss").find("POINTER=VALUE") != std::string::npos);
  CHECK(refusal("links/0/loss=1").find("starts with /") != std::string::npos);
  CHECK(refusal("=1").find("starts with /") != std::string::npos);
  CHECK(refusal("/a~2=1").find("~ must be followed by 0") != std::string::npos);
  CHECK(refusal("/a=") == "no value after =");
  CHECK(refusal("/a=1,,2") == "value 2 of 3 is empty");
  CHECK(refusal("/a=1, ") == "value 2 of 2 is empty");
  CHECK(refusal("/a=\"open").find("not closed") != std::string::npos);
  CHECK(refusal("/a=[1,2").find("not closed") != std::string::npos);
  // A scenario is UTF-8 JSON: a byte that is not UTF-8 would break it (the fuzzer's find).
  CHECK(refusal("/a=[\"a,\xaa\"]") == "value 1 is not UTF-8 text");
  CHECK(refusal("/a=x,\xff") == "value 2 is not UTF-8 text");
  CHECK(refusal("/\xc3=1") == "the pointer is not UTF-8 text");
  CHECK(parsed("/subject=caf\xc3\xa9").values == std::vector<json>{"caf\xc3\xa9"});
  std::string many = "/a=0";
  for (size_t i = 1; i <= kMaxSettingValues; ++i) many += "," + std::to_string(i);
  CHECK(refusal(many) == "101 values; at most 100");
}

TEST_CASE("setting: applied where the pointer says, or refused", "[setting]") {
  const json base = json::parse(R"({"duration": "1h", "links": [{"a": "x", "b": "y"}, {"a": "y", "b": "z", "loss": 0.1}]})");
  std::string why;
  json doc = base;
  REQUIRE(apply_setting(doc, "/links/1/loss", 0.3, &why));
  CHECK(doc["links"][1]["loss"] == 0.3);
  REQUIRE(apply_setting(doc, "/links/0/loss", 0.2, &why));  // a key the link did not have
  CHECK(doc["links"][0]["loss"] == 0.2);
  REQUIRE(apply_setting(doc, "/duration", "2h", &why));
  CHECK(doc["duration"] == "2h");
  REQUIRE(apply_setting(doc, "/links/0", json{{"a", "p"}, {"b", "q"}}, &why));
  CHECK(doc["links"][0]["a"] == "p");

  doc = base;
  CHECK(!apply_setting(doc, "/links/2/loss", 0.3, &why));
  CHECK(why == "/links is a list of 2 elements (0 to 1); \"2\" is not one of them");
  CHECK(!apply_setting(doc, "/links//loss", 0.3, &why));  // an empty token is no index
  CHECK(why == "/links is a list of 2 elements (0 to 1); \"\" is not one of them");
  CHECK(!apply_setting(doc, "/links/0/a/b", 0.3, &why));
  CHECK(why == "/links/0/a holds a string, not an object or a list");
  CHECK(!apply_setting(doc, "/links/2", 0.3, &why));
  CHECK(why == "/links is a list of 2 elements (0 to 1); \"2\" is not one of them");
  CHECK(!apply_setting(doc, "/links/01", 0.3, &why));
  CHECK(!apply_setting(doc, "/links/-", 0.3, &why));
  CHECK(!apply_setting(doc, "/duration/x", 1, &why));
  CHECK(why == "/duration holds a string, not an object or a list");
  CHECK(!apply_setting(doc, "", 1, &why));
  CHECK(doc == base);  // refused settings change nothing
  // Objects missing on the way are made (the loader then checks their keys).
  nlohmann::json made = doc;
  REQUIRE(apply_setting(made, "/network/loss", 0.1, &why));
  CHECK(made["network"] == nlohmann::json{{"loss", 0.1}});
  REQUIRE(apply_setting(made, "/nosuch/x/y", 1, &why));
  CHECK(made["nosuch"]["x"]["y"] == 1);
  CHECK(!apply_setting(made, "/links/5/x/y", 1, &why));  // an index past the end is still refused
  // A document that keeps the file's key order keeps it (the lab saves it).
  nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(R"({"smtplab": 1, "name": "x", "links": [{"b": "y", "a": "x"}]})");
  REQUIRE(apply_setting(ordered, "/links/0/loss", 0.3, &why));
  REQUIRE(apply_setting(ordered, "/name", "y", &why));
  CHECK(ordered.dump() == R"({"smtplab":1,"name":"y","links":[{"b":"y","a":"x","loss":0.3}]})");
  CHECK(!apply_setting(ordered, "/links/1", 0.3, &why));
  CHECK(why == "/links is a list of 1 element (0 to 0); \"1\" is not one of them");
}

TEST_CASE("setting: arbitrary text is read consistently or refused", "[setting]") {
  std::mt19937_64 rng(20261202);
  const std::string alphabet = "/~01a=,\"[]{} .\\-tx";
  for (int i = 0; i < 100000; ++i) {
    std::string text;
    const size_t n = rng() % 24;
    for (size_t k = 0; k < n; ++k) text += alphabet[rng() % alphabet.size()];
    std::string why;
    const auto s = parse_setting(text, &why);
    if (!s) {
      REQUIRE(!why.empty());
      continue;
    }
    REQUIRE(s->pointer.front() == '/');
    REQUIRE(!s->values.empty());
    // Written back with each value as JSON, it reads the same.
    std::string again = s->pointer + "=";
    for (size_t k = 0; k < s->values.size(); ++k) again += (k ? "," : "") + s->values[k].dump();
    const auto t = parse_setting(again, &why);
    REQUIRE(t.has_value());
    REQUIRE(t->values == s->values);
    for (const json& v : s->values) {
      const auto one = parse_setting("/x=" + Setting::value_text(v), &why);
      REQUIRE(one.has_value());
      REQUIRE(one->values == std::vector<json>{v});
    }
  }
}

TEST_CASE("setting: a sweep per value, compared; the rarest outcome replays", "[setting][sweep]") {
  auto loaded = load_scenario_file(smtplab::testing::source_dir() + "/scenarios/lossy-link.json");
  REQUIRE(loaded.ok());
  std::ifstream in(smtplab::testing::source_dir() + "/scenarios/lossy-link.json");
  const json doc = json::parse(in);
  const Setting s = parsed("/links/2/loss=0,0.4");
  std::vector<Scenario> scenarios;
  std::vector<SweepSummary> sweeps;
  SweepOptions o;
  o.seeds = {1, 40};
  o.jobs = 2;
  for (const json& v : s.values) {
    json d = doc;
    std::string why;
    REQUIRE(apply_setting(d, s.pointer, v, &why));
    LoadResult r = load_scenario_text(d.dump(), "lossy-link");
    REQUIRE(r.ok());
    scenarios.push_back(*r.scenario);
    sweeps.push_back(sweep(scenarios.back(), o));
  }
  // More loss, fewer messages through and more segments lost.
  const auto delivered = [](const SweepSummary& x) {
    uint64_t n = 0;
    for (const SweepOutcome& out : x.recipients.at(0).outcomes)
      if (out.state == FateState::delivered) n += out.seeds.size();
    return n;
  };
  CHECK(delivered(sweeps[0]) > delivered(sweeps[1]));
  CHECK(SweepSummary::median(sweeps[0].lost) < SweepSummary::median(sweeps[1].lost));
  std::ostringstream out;
  write_sweep_compare(out, s.pointer, {"0", "0.4"}, sweeps, {"smtplab run x --set /links/2/loss=0", "smtplab run x --set /links/2/loss=0.4"});
  const std::string text = out.str();
  INFO(text);
  CHECK(text.find("over seeds 1-40 (40 runs each) for each /links/2/loss in 0, 0.4\n") != std::string::npos);
  // A column of values under the pointer, as wide as the pointer.
  CHECK(text.find("\n  /links/2/loss\n  0              delivered 100% (median ") != std::string::npos);
  CHECK(text.find("\n  0.4            delivered ") != std::string::npos);
  // The replay line names the value and the seed of the rarest outcome; that
  // run ends that way.
  const size_t at = text.find("smtplab run x --set /links/2/loss=0.4 --seed ");
  REQUIRE(at != std::string::npos);
  const uint64_t seed = std::stoull(text.substr(at + std::string("smtplab run x --set /links/2/loss=0.4 --seed ").size()));
  const size_t open = text.find("The rarest outcome ("), close = text.find(") came first with /links/2/loss = 0.4");
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  const std::string label = text.substr(open + 20, close - open - 20);
  const SweepRun run = run_seed(scenarios[1], seed);
  REQUIRE(run.fates.size() == 1);
  const RecipientFate& f = run.fates[0].recipients.at(0);
  const SweepOutcome replayed{f.state, static_cast<uint32_t>(f.deliveries.size()), f.cut.has_value(), {}, {}};
  CHECK(replayed.label() == label);
  // JSON: the pointer, then each value as JSON with its sweep.
  const nlohmann::ordered_json j = sweep_compare_json(s.pointer, s.values, sweeps);
  CHECK(j["set"] == "/links/2/loss");
  REQUIRE(j["values"].size() == 2);
  CHECK(j["values"][1]["value"] == 0.4);
  CHECK(j["values"][1]["sweep"]["runs"] == 40);
  // A grid's pairs: "pair" in the header and each pair in parentheses; in
  // JSON, both pointers and each pair as arrays.
  std::ostringstream grid;
  write_sweep_compare(grid, "/links/2/loss, /duration", {"0, 1min", "0.4, 1min"}, sweeps, {"a", "b"}, /*pairs=*/true);
  CHECK(grid.str().find("for each pair /links/2/loss, /duration in (0, 1min), (0.4, 1min)\n") != std::string::npos);
  const nlohmann::ordered_json g = sweep_compare_json(nlohmann::json::array({"/links/2/loss", "/duration"}),
                                                      {nlohmann::json::array({0, "1min"}), nlohmann::json::array({0.4, "1min"})},
                                                      sweeps);
  CHECK(g["set"][1] == "/duration");
  CHECK(g["values"][1]["value"][0] == 0.4);
}
