// tests/test_trace.cpp: the trace store, cause links and the writers.
#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "sim/trace/trace.hpp"
#include "sim/trace/writers.hpp"

using namespace smtplab;

namespace {
Record make(Kind k, std::string src, std::string dst, std::string text) {
  Record r;
  r.kind = k;
  r.src = std::move(src);
  r.dst = std::move(dst);
  r.text = std::move(text);
  return r;
}
}  // namespace

TEST_CASE("every kind has a layer, a unique name and a description", "[trace]") {
  std::set<std::string_view> names;
  for (int i = 0; i < kKindCount; ++i) {
    const Kind k = static_cast<Kind>(i);
    INFO("kind " << i);
    CHECK(names.insert(kind_name(k)).second);
    CHECK_FALSE(kind_description(k).empty());
    CHECK(kind_from_name(kind_name(k)) == k);
  }
  CHECK_FALSE(kind_from_name("no-such-kind"));
  CHECK(layer_of(Kind::smtp_command) == Layer::smtp);
  CHECK(layer_of(Kind::segment_lost) == Layer::tcp);
  CHECK(layer_from_name("dns") == Layer::dns);
}

TEST_CASE("emit assigns dense seqs, time and ambient causes from the engine", "[trace]") {
  Engine e;
  Trace t;
  t.attach(e);
  uint64_t first = 0, second = 0, third = 0;
  e.at(msec(5), [&] { first = t.emit(make(Kind::fault_injected, "mx", "", "host-down")); });
  e.at(msec(7), [&] {
    second = t.emit(make(Kind::note, "", "", "unrelated"));
  });
  e.at(msec(6), [&] {
    // Scheduled while the fault is the ambient cause? No: scheduled up front, cause 0.
    third = t.emit(make(Kind::note, "", "", "x"));
  });
  e.run();
  REQUIRE(t.count() == 3);
  CHECK(t.records()[0].seq == 1);
  CHECK(t.records()[0].t == msec(5));
  CHECK(t.records()[0].cause == 0);
  CHECK(t.records()[1].t == msec(6));
  CHECK(t.count(Kind::note) == 2);

  // A chain: the fault schedules a consequence, which schedules another.
  Engine e2;
  Trace t2;
  t2.attach(e2);
  e2.at(sec(1), [&] {
    t2.emit(make(Kind::host_down, "mx", "", "down"));
    e2.after(sec(1), [&] {
      t2.emit(make(Kind::tcp_timeout, "a", "mx", "timeout"));
      e2.after(sec(1), [&] { t2.emit(make(Kind::message_bounced, "a", "", "bounce")); });
    });
  });
  e2.run();
  REQUIRE(t2.count() == 3);
  auto chain = t2.cause_chain(3);
  REQUIRE(chain.size() == 3);
  CHECK(chain[0]->kind == Kind::message_bounced);
  CHECK(chain[1]->kind == Kind::tcp_timeout);
  CHECK(chain[2]->kind == Kind::host_down);
  (void)first;
  (void)second;
  (void)third;
}

TEST_CASE("an explicit cause wins over the ambient one; sinks see every record", "[trace]") {
  Trace t;
  std::vector<uint64_t> seen;
  t.add_sink([&](const Record& r) { seen.push_back(r.seq); });
  t.emit(make(Kind::note, "", "", "a"));
  Record r = make(Kind::note, "", "", "b");
  r.cause = 1;
  t.emit(std::move(r));
  Record bad = make(Kind::note, "", "", "c");
  bad.cause = 99;  // a cause from the future is dropped
  t.emit(std::move(bad));
  CHECK(t.records()[1].cause == 1);
  CHECK(t.records()[2].cause == 0);
  CHECK(seen == std::vector<uint64_t>{1, 2, 3});
  t.set_store(false);
  t.emit(make(Kind::note, "", "", "d"));
  CHECK(t.count() == 4);
  CHECK(t.records().size() == 3);
  CHECK(seen.size() == 4);
}

TEST_CASE("JSON Lines: fixed fields, escaping, attrs in order, and a round trip", "[trace][jsonl]") {
  Record r = make(Kind::smtp_command, "smtp.gmail.test", "mx.yahoo.test", "MAIL FROM:<bob@gmail.test>");
  r.seq = 7;
  r.t = msec(12);
  r.cause = 3;
  r.session = 2;
  r.wire = "MAIL FROM:<bob@gmail.test>\r\n";
  r.with("verb", "MAIL").with("code", "").with("a\"b", "tab\there");
  const std::string line = to_jsonl(r);
  CHECK(line ==
        "{\"v\":1,\"seq\":7,\"t_us\":12000,\"layer\":\"smtp\",\"kind\":\"smtp-command\",\"src\":\"smtp.gmail.test\","
        "\"dst\":\"mx.yahoo.test\",\"text\":\"MAIL FROM:<bob@gmail.test>\",\"cause\":3,\"session\":2,"
        "\"wire\":\"MAIL FROM:<bob@gmail.test>\\r\\n\",\"attrs\":{\"verb\":\"MAIL\",\"code\":\"\",\"a\\\"b\":\"tab\\there\"}}");
  std::string why;
  auto back = parse_jsonl(line, &why);
  REQUIRE(back);
  CHECK(to_jsonl(*back) == line);

  // The same record written by another JSON writer: spaces around colons,
  // an escape in a key. Found by fuzz_fates: a space before "attrs"' colon
  // threw past the reader's error handling. Attribute order is kept.
  const std::string spaced =
      "{\"v\": 1, \"seq\": 7, \"t_us\": 12000, \"layer\": \"smtp\", \"kind\": \"smtp-command\", \"src\": \"smtp.gmail.test\", "
      "\"dst\": \"mx.yahoo.test\", \"text\": \"MAIL FROM:<bob@gmail.test>\", \"cause\": 3, \"session\": 2, "
      "\"wire\": \"MAIL FROM:<bob@gmail.test>\\r\\n\", \"\\u0061ttrs\" : {\"verb\" : \"MAIL\", \"code\": \"\", \"a\\\"b\": \"tab\\there\"}}";
  auto spaced_back = parse_jsonl(spaced, &why);
  INFO(why);
  REQUIRE(spaced_back);
  CHECK(to_jsonl(*spaced_back) == line);

  Record bin = make(Kind::smtp_data, "a", "b", "body");
  bin.wire = std::string("caf\xe9\r\n\x01", 7);  // Latin-1, not UTF-8
  const std::string bl = to_jsonl(bin);
  CHECK(bl.find("\"wire_hex\":\"636166e90d0a01\"") != std::string::npos);
  auto bback = parse_jsonl(bl, &why);
  REQUIRE(bback);
  CHECK(bback->wire == bin.wire);
  CHECK(json_quote("\x01\x7f\xc3\xa9") == "\"\\u0001\\u007f\xc3\xa9\"");

  for (const char* bad : {"", "{", "[]", "{\"v\":2}", "{\"v\":1,\"seq\":1}",
                          "{\"v\":1,\"seq\":1,\"t_us\":0,\"layer\":\"smtp\",\"kind\":\"nope\",\"src\":\"\",\"dst\":\"\","
                          "\"text\":\"\",\"cause\":0}",
                          // Found by fuzz_jsonl: numbers that do not fit the field were UB to convert.
                          "{\"v\":1,\"seq\":888888888888888888888888,\"t_us\":0,\"layer\":\"smtp\",\"kind\":\"smtp-command\","
                          "\"src\":\"\",\"dst\":\"\",\"text\":\"\",\"cause\":0}",
                          "{\"v\":1,\"seq\":1,\"t_us\":1e300,\"layer\":\"smtp\",\"kind\":\"smtp-command\","
                          "\"src\":\"\",\"dst\":\"\",\"text\":\"\",\"cause\":0}",
                          "{\"v\":1,\"seq\":-1,\"t_us\":0,\"layer\":\"smtp\",\"kind\":\"smtp-command\","
                          "\"src\":\"\",\"dst\":\"\",\"text\":\"\",\"cause\":0}",
                          "{\"v\":1.5,\"seq\":1,\"t_us\":0,\"layer\":\"smtp\",\"kind\":\"smtp-command\","
                          "\"src\":\"\",\"dst\":\"\",\"text\":\"\",\"cause\":0}",
                          "{\"v\":1,\"seq\":1,\"t_us\":0,\"layer\":\"smtp\",\"kind\":\"smtp-command\","
                          "\"src\":\"\",\"dst\":\"\",\"text\":\"\",\"cause\":1e999}"}) {
    INFO(bad);
    CHECK_FALSE(parse_jsonl(bad, &why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("transcript: swaks-style markers, multi-line replies and layer filters", "[trace][transcript]") {
  Record cmd = make(Kind::smtp_command, "smtp.gmail.test", "mx.yahoo.test", "EHLO smtp.gmail.test");
  cmd.t = usec(105000);
  Record rep = make(Kind::smtp_reply, "mx.yahoo.test", "smtp.gmail.test", "250-mx.yahoo.test\n250 PIPELINING");
  rep.t = usec(125000);
  Record seg = make(Kind::segment_sent, "a", "b", "SYN seq=1");
  const std::string c = to_transcript(cmd);
  const std::string r = to_transcript(rep);
  CHECK(c == "    0.105000  smtp.gmail.test > mx.yahoo.test    -> EHLO smtp.gmail.test\n");
  CHECK(r ==
        "    0.125000  smtp.gmail.test < mx.yahoo.test    <- 250-mx.yahoo.test\n"
        "                                                 <- 250 PIPELINING\n");
  CHECK(to_transcript(seg).empty());  // tcp hidden by default
  TranscriptOptions all;
  all.layer_mask = ~0u;
  CHECK_FALSE(to_transcript(seg, all).empty());
  std::string why;
  CHECK(parse_layer_mask("smtp,dns", &why) == (layer_bit(Layer::smtp) | layer_bit(Layer::dns)));
  CHECK_FALSE(parse_layer_mask("smtp,http", &why));
  CHECK(why.find("http") != std::string::npos);
}

TEST_CASE("UTF-8 validation finds the first bad byte", "[trace]") {
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("caf\xc3\xa9"));
  CHECK(utf8_error_offset("ab\xff") == 2);
  CHECK(utf8_error_offset("\xc0\xaf") == 0);          // overlong "/"
  CHECK(utf8_error_offset("ok\xed\xa0\x80") == 2);    // surrogate
  CHECK(utf8_error_offset("x\xe2\x82") == 1);         // truncated
}
