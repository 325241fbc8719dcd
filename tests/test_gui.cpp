// tests/test_gui.cpp: the GUI's logic, headless (no window, no OpenGL).
//
// Panels and view-models run in a bare ImGui context (gui/headless.hpp); the
// controller runs real scenarios. What a teacher relies on: the diagram shows
// the SMTP dialogue in order, stepping back moves cursor and selection
// together, injecting a fault keeps everything before the cursor identical.
#include <catch2/catch.hpp>
#include <imgui.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cfloat>
#include <filesystem>
#include <set>
#include <fstream>
#include <thread>

#include "gui/controller.hpp"
#include "gui/explain.hpp"
#include "gui/gui_app.hpp"
#include "gui/headless.hpp"
#include "gui/panel_events.hpp"
#include "gui/panel_lesson.hpp"
#include "gui/panel_sequence.hpp"
#include "gui/scenario_writer.hpp"
#include "gui/sequence_model.hpp"
#include "gui/synthetic.hpp"
#include "gui/topology_layout.hpp"
#include "gui/value_candidates.hpp"
#include "gui/view_settings.hpp"
#include "gui/widgets.hpp"
#include "sim/capture/packets.hpp"
#include "sim/scenario/loader.hpp"
#include "test_helpers.hpp"

using namespace smtplab;
using namespace smtplab::gui;

namespace {

// Every arrow of the diagram, top to bottom, for a viewport tall enough for all.
std::vector<SeqItem> all_items(const TraceIndex& index, const SeqFilter& f, SeqModel& model) {
  model.build(index, f);
  SeqViewport vp;
  vp.scale = TimeScale::rows;
  vp.row_px = 20;
  vp.height = static_cast<float>(model.total_rows() * 20 + 100);
  return layout_visible(model, index, vp);
}

std::vector<std::string> smtp_arrows(const TraceIndex& index, const std::vector<SeqItem>& items) {
  std::vector<std::string> out;
  for (const SeqItem& it : items) {
    if (it.type != SeqItemType::arrow) continue;
    const Record& r = index.records()[it.record];
    if (r.kind == Kind::smtp_command || r.kind == Kind::smtp_reply) out.push_back(r.text);
  }
  return out;
}

void frame(HeadlessImGui& ui, GuiApp& app) {
  ui.new_frame();
  app.frame(1.0 / 60);
  ui.end_frame();
}

// `host` down from the start of the run, as the Failures panel injects it.
Fault host_down_from_start(const std::string& host) {
  Fault f;
  f.type = "host-down";
  f.host = host;
  f.at = SimTime{0};
  return f;
}

// What a window's frames do for background work, without drawing: apply
// the pending commands (which takes a finished sweep) while `running()`,
// a minute at most.
template <class Running>
void poll_while(GuiApp& app, Running running) {
  for (int i = 0; i < 60000 && running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    app.controller().apply_pending();
  }
}

}  // namespace

TEST_CASE("synthetic bob-to-alice: the diagram has its SMTP arrows in order, client to server", "[gui][sequence]") {
  RunResult run = synthetic_bob_to_alice();
  Scenario sc = synthetic_scenario();
  TraceIndex index;
  index.build(&run.trace.records(), &sc);
  SeqModel model;
  auto items = all_items(index, SeqFilter{}, model);
  const std::vector<std::string> want{
      "220 smtp.gmail.test ESMTP", "EHLO bob-pc", "250 smtp.gmail.test", "MAIL FROM:<bob@gmail.test>", "250 2.1.0 Ok",
      "RCPT TO:<alice@yahoo.test>", "250 2.1.5 Ok", "DATA", "354 End data with <CR><LF>.<CR><LF>",
      "250 2.0.0 Ok: queued as 4F2A1", "QUIT", "221 2.0.0 Bye",
      "220 mx.yahoo.test ESMTP", "EHLO smtp.gmail.test", "250 mx.yahoo.test", "MAIL FROM:<bob@gmail.test>", "250 2.1.0 Ok",
      "RCPT TO:<alice@yahoo.test>", "250 2.1.5 Ok", "DATA", "354 Go ahead", "250 2.0.0 Ok: queued as 77B2", "QUIT",
      "221 2.0.0 Bye"};
  CHECK(smtp_arrows(index, items) == want);

  // The relay plays both roles: two lifelines; its commands leave the client one.
  const auto& lanes = index.lifelines();
  REQUIRE(lanes.size() == 6);
  CHECK(lanes[1].label == "smtp.gmail.test (server)");
  CHECK(lanes[2].label == "smtp.gmail.test (client)");
  float last_y = -1;
  for (const SeqItem& it : items) {
    CHECK(it.y > last_y);  // strictly top to bottom
    last_y = it.y;
    if (it.type != SeqItemType::arrow) continue;
    const Record& r = index.records()[it.record];
    INFO(r.text);
    CHECK(lanes[static_cast<size_t>(it.from)].host == r.src);
    CHECK(lanes[static_cast<size_t>(it.to)].host == r.dst);
    if (r.kind == Kind::smtp_command && r.src == "smtp.gmail.test") CHECK(lanes[static_cast<size_t>(it.from)].role == "client");
    if (r.kind == Kind::smtp_command && r.dst == "smtp.gmail.test") CHECK(lanes[static_cast<size_t>(it.to)].role == "server");
  }
}

TEST_CASE("the idle half hour before Alice's fetch is folded and labelled", "[gui][sequence]") {
  RunResult run = synthetic_bob_to_alice();
  Scenario sc = synthetic_scenario();
  TraceIndex index;
  index.build(&run.trace.records(), &sc);
  SeqModel model;
  auto items = all_items(index, SeqFilter{}, model);
  std::vector<std::string> gaps;
  for (const SeqItem& it : items)
    if (it.type == SeqItemType::gap) gaps.push_back(gap_label(it.gap_us));
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].find("30 min") != std::string::npos);
  CHECK(gaps[0].rfind("... ", 0) == 0);
}

TEST_CASE("the real bob-to-alice run: SMTP arrows follow the trace, from client lane to server lane", "[gui][sequence][real]") {
  Scenario sc = default_scenario();
  RunResult run = run_scenario(sc);
  TraceIndex index;
  index.build(&run.trace.records(), &sc);
  std::vector<std::string> want;
  for (const Record& r : run.trace.records())
    if ((r.kind == Kind::smtp_command || r.kind == Kind::smtp_reply) && is_message(r)) want.push_back(r.text);
  SeqModel model;
  auto items = all_items(index, SeqFilter{}, model);
  CHECK(smtp_arrows(index, items) == want);
  // Once the simulator speaks SMTP (it does now), Bob's client opens with EHLO.
  size_t commands = run.trace.count(Kind::smtp_command);
  if (commands > 0) {
    auto it = std::find_if(run.trace.records().begin(), run.trace.records().end(),
                           [](const Record& r) { return r.kind == Kind::smtp_command; });
    CHECK((it->text.rfind("EHLO", 0) == 0 || it->text.rfind("HELO", 0) == 0));
    for (const SeqItem& s : items) {
      if (s.type != SeqItemType::arrow) continue;
      const Record& r = index.records()[s.record];
      if (r.kind != Kind::smtp_command) continue;
      CHECK(index.lifelines()[static_cast<size_t>(s.from)].host == r.src);
      CHECK(index.lifelines()[static_cast<size_t>(s.to)].host == r.dst);
    }
    // Bob's submission, then the relay to Alice's MX, in this order, each
    // from the client's lifeline to the server's (the relay's own client side).
    struct Want { const char* prefix; const char* from; const char* to; const char* from_role; };
    const Want path[] = {{"EHLO", "bob-pc", "smtp.gmail.test", ""},
                         {"MAIL FROM:<bob@gmail.test>", "bob-pc", "smtp.gmail.test", ""},
                         {"RCPT TO:<alice@yahoo.test>", "bob-pc", "smtp.gmail.test", ""},
                         {"DATA", "bob-pc", "smtp.gmail.test", ""},
                         {"EHLO", "smtp.gmail.test", "mx.yahoo.test", "client"},
                         {"MAIL FROM:<bob@gmail.test>", "smtp.gmail.test", "mx.yahoo.test", "client"},
                         {"RCPT TO:<alice@yahoo.test>", "smtp.gmail.test", "mx.yahoo.test", "client"},
                         {"DATA", "smtp.gmail.test", "mx.yahoo.test", "client"}};
    size_t next = 0;
    for (const SeqItem& s : items) {
      if (next == std::size(path) || s.type != SeqItemType::arrow) continue;
      const Record& r = index.records()[s.record];
      const Want& w = path[next];
      if (r.kind == Kind::smtp_command && r.text.rfind(w.prefix, 0) == 0 && r.src == w.from && r.dst == w.to) {
        CHECK(index.lifelines()[static_cast<size_t>(s.from)].role == w.from_role);
        ++next;
      }
    }
    INFO("matched " << next << " of the expected commands in order");
    CHECK(next == std::size(path));
  }
}

TEST_CASE("a frame costs what is visible: a million records fold into a bounded number of marks", "[gui][sequence][perf]") {
  RunResult run = synthetic_large(200000, sec(10));
  Scenario sc = synthetic_scenario();
  TraceIndex index;
  index.build(&run.trace.records(), &sc);
  SeqModel model;
  model.build(index, SeqFilter{});
  SECTION("proportional, zoomed out: everything in view, few marks, nothing lost") {
    SeqViewport vp;
    vp.scale = TimeScale::proportional;
    vp.height = 800;
    vp.px_per_us = 800.0 / 10e6;
    vp.min_px = 4;
    auto items = layout_visible(model, index, vp);
    CHECK(items.size() <= 800 / 4 + 2);
    size_t covered = 0;
    for (const SeqItem& it : items) covered += it.type == SeqItemType::fold ? it.count : 1;
    CHECK(covered == model.size());
  }
  SECTION("rows, thinner than a pixel: folded by stride") {
    SeqViewport vp;
    vp.scale = TimeScale::rows;
    vp.height = 800;
    vp.row_px = 0.01;
    auto items = layout_visible(model, index, vp);
    CHECK(items.size() <= 800 / 4 + 2);
  }
  SECTION("rows, readable: one screen of rows, wherever we are") {
    SeqViewport vp;
    vp.scale = TimeScale::rows;
    vp.height = 800;
    vp.row_px = 20;
    vp.row_top = model.total_rows() / 2;
    auto items = layout_visible(model, index, vp);
    CHECK(items.size() <= 800 / 20 + 4);
    CHECK(items.size() >= 800 / 20 - 2);
  }
}

TEST_CASE("stepping back one event moves the cursor and the selection", "[gui][playback]") {
  Controller c;
  c.adopt(synthetic_bob_to_alice(), synthetic_scenario());
  for (int i = 0; i < 5; ++i) c.apply(cmd::Step{+1, StepUnit::event});
  REQUIRE(c.cursor() == 5);
  CHECK(c.selected() == c.records()[5].seq);
  c.apply(cmd::Step{-1, StepUnit::event});
  CHECK(c.cursor() == 4);
  CHECK(c.selected() == c.records()[4].seq);
  CHECK(c.now() == c.records()[4].t.us);

  SECTION("by exchange: to the next command") {
    c.apply(cmd::Step{+1, StepUnit::exchange});
    CHECK(c.cursor_record()->kind == Kind::smtp_command);
    size_t at = c.cursor();
    c.apply(cmd::Step{+1, StepUnit::exchange});
    CHECK(c.cursor() > at);
    c.apply(cmd::Step{-1, StepUnit::exchange});
    CHECK(c.cursor() == at);
  }
  SECTION("the keyboard does the same through the whole app") {
    HeadlessImGui ui(1280, 800);
    GuiApp app(false);
    app.controller().adopt(synthetic_bob_to_alice(), synthetic_scenario());
    ImGuiIO& io = ImGui::GetIO();
    io.KeyMap[ImGuiKey_RightArrow] = 262;
    io.KeyMap[ImGuiKey_LeftArrow] = 263;
    frame(ui, app);
    for (int i = 0; i < 3; ++i) {
      io.KeysDown[262] = true;
      frame(ui, app);
      io.KeysDown[262] = false;
      frame(ui, app);
    }
    CHECK(app.controller().cursor() == 3);
    io.KeysDown[263] = true;
    frame(ui, app);
    io.KeysDown[263] = false;
    frame(ui, app);
    CHECK(app.controller().cursor() == 2);
    CHECK(app.controller().selected() == app.controller().records()[2].seq);
  }
}

TEST_CASE("stepping to the next failure lands on a failure", "[gui][playback]") {
  Controller c;
  RunResult run = synthetic_bob_to_alice();
  Record bad;
  bad.kind = Kind::smtp_reply;
  bad.t = SimTime{run.end.us + 10};
  bad.src = "mx.yahoo.test";
  bad.dst = "smtp.gmail.test";
  bad.text = "451 4.7.1 Greylisted, try again later";
  bad.with("code", "451");
  run.trace.emit(bad);
  c.adopt(std::move(run), synthetic_scenario());
  c.apply(cmd::Step{+1, StepUnit::failure});
  REQUIRE(c.cursor_record());
  CHECK(c.cursor_record()->text.rfind("451", 0) == 0);
  c.apply(cmd::Step{+1, StepUnit::failure});
  CHECK(c.status() == "no failure after the cursor");
}

TEST_CASE("injecting a fault at the cursor reruns with the prefix identical", "[gui][failures]") {
  Controller c;
  REQUIRE(c.open(""));
  const std::vector<Record> before = c.records();
  c.apply(cmd::Seek{sec(3).us});
  const int64_t cursor_time = c.now();
  Fault f;
  f.type = "host-down";
  f.host = "mx.yahoo.test";
  f.at = SimTime{-1};  // at the cursor
  c.apply(cmd::InjectFault{f});
  INFO(c.status());
  REQUIRE(c.added_faults().size() == 1);
  CHECK(c.added_faults()[0].at.us == cursor_time);
  CHECK(c.now() == cursor_time);  // the cursor stays where it was
  const std::vector<Record>& after = c.records();
  size_t same = 0;
  for (; same < before.size() && same < after.size(); ++same) {
    const Record &a = before[same], &b = after[same];
    if (a.t != b.t || a.kind != b.kind || a.text != b.text || a.src != b.src || a.dst != b.dst || a.wire != b.wire) break;
  }
  // Everything strictly before the fault's time is the same run.
  for (size_t i = 0; i < before.size() && before[i].t.us < cursor_time; ++i) CHECK(i < same);
  bool injected = false;
  for (const Record& r : after)
    if (r.kind == Kind::fault_injected && r.t.us == cursor_time) injected = true;
  CHECK(injected);

  SECTION("removing it gives the original run back") {
    c.apply(cmd::RemoveFault{0});
    REQUIRE(c.records().size() == before.size());
    for (size_t i = 0; i < before.size(); ++i) CHECK(c.records()[i].text == before[i].text);
  }
  SECTION("a fault the loader would reject is refused with its reason") {
    Fault bad;
    bad.type = "host-down";
    bad.host = "no-such-host";
    bad.at = SimTime{-1};
    c.apply(cmd::InjectFault{bad});
    CHECK(c.added_faults().size() == 1);
    CHECK(c.status().find("fault not injected") == 0);
    CHECK(c.status().find("no-such-host") != std::string::npos);
  }
  SECTION("the run saves as a scenario file that loads, with its fault") {
    std::string path = (std::filesystem::temp_directory_path() / "smtplab-gui-test-saved.json").string();
    c.apply(cmd::SaveScenario{path});
    LoadResult r = load_scenario_file(path);
    REQUIRE(r.ok());
    REQUIRE(r.scenario->faults.size() == 1);
    CHECK(r.scenario->faults[0].type == "host-down");
    CHECK(r.scenario->faults[0].at.us == cursor_time);
    std::filesystem::remove(path);
  }
  SECTION("the run's packets export as a capture file, at every sender or at one host") {
    const std::string path = (std::filesystem::temp_directory_path() / "smtplab-gui-test.pcap").string();
    c.apply(cmd::ExportCapture{path, ""});
    const Capture all = capture_packets(c.records());
    REQUIRE(!all.packets.empty());
    CHECK(c.status() == "capture: " + std::to_string(all.packets.size()) + " packets in " + path + " (at every sender)");
    const std::string bytes = testing::read_file(path);
    REQUIRE(bytes.size() > 24);
    CHECK(bytes.substr(0, 4) == std::string("\xd4\xc3\xb2\xa1", 4));  // pcap, microseconds, little-endian
    size_t payload = 0;
    for (const Packet& p : all.packets) payload += 16 + p.bytes.size();
    CHECK(bytes.size() == 24 + payload);
    c.apply(cmd::ExportCapture{path, "mx.yahoo.test"});
    CHECK(c.status().find("(mx.yahoo.test's interface)") != std::string::npos);
    std::filesystem::remove(path);
    c.apply(cmd::ExportCapture{"/nonexistent-dir/x.pcap", ""});
    CHECK(c.status().rfind("capture not written: cannot write /nonexistent-dir/x.pcap", 0) == 0);
  }
  SECTION("compare: the pinned baseline stays while the current run changes") {
    c.apply(cmd::PinBaseline{});
    c.apply(cmd::RemoveFault{0});
    REQUIRE(c.baseline());
    CHECK(c.baseline()->index.size() == after.size());
    CHECK(c.records().size() == before.size());
  }
}

TEST_CASE("a scenario with errors keeps the previous one and lists every error", "[gui][scenarios]") {
  Controller c;
  REQUIRE(c.open(""));
  size_t n = c.size();
  std::string path = (std::filesystem::temp_directory_path() / "smtplab-gui-test-bad.json").string();
  {
    std::ofstream out(path);
    out << R"({"smtplab": 1, "hosts": [{"name": "a", "role": "bogus"}], "links": [{"a": "a", "b": "zz", "loss": 1.5}]})";
  }
  CHECK_FALSE(c.open(path));
  CHECK(c.errors().size() >= 2);
  CHECK(c.size() == n);
  CHECK(c.open("/definitely/not/here.json") == false);
  CHECK(c.errors().at(0).message == "no such file");
  std::filesystem::remove(path);
}

TEST_CASE("the whole lab draws headless, every panel open, both themes, and clicking a row selects it", "[gui][app]") {
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  for (const char* id : {"states", "queues", "compose", "compare", "scenarios", "gallery"}) app.set_panel_open(id, true);
  for (Theme t : {Theme::dark, Theme::light}) {
    app.settings().theme = t;
    for (TimeScale s : {TimeScale::rows, TimeScale::proportional}) {
      app.settings().scale = s;
      app.settings().show_tcp = s == TimeScale::proportional;
      frame(ui, app);
      frame(ui, app);
      ImDrawData* dd = ImGui::GetDrawData();
      REQUIRE(dd);
      CHECK(dd->TotalVtxCount > 1000);
    }
  }
  // Selecting in the event list selects everywhere and moves the cursor.
  auto* events = dynamic_cast<EventsPanel*>(app.panel("events"));
  REQUIRE(events);
  const Record& r = app.controller().records()[7];
  app.controller().post(cmd::Select{r.seq, true});
  frame(ui, app);
  CHECK(app.controller().selected() == r.seq);
  CHECK(app.controller().cursor() == 7);
  // The event list submits only visible rows.
  CHECK(events->drawn_rows > 0);
  CHECK(events->drawn_rows < 60);
  // A mail record: the inspector adds where its message is at the cursor
  // (the fold of the trace up to it), in both themes.
  const auto& recs = app.controller().records();
  const auto q = std::find_if(recs.begin(), recs.end(), [](const Record& x) { return x.kind == Kind::message_queued; });
  REQUIRE(q != recs.end());
  app.controller().post(cmd::Select{q->seq, true});
  for (Theme t : {Theme::dark, Theme::light}) {
    app.settings().theme = t;
    frame(ui, app);
    CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
  }
  CHECK(app.controller().selected() == q->seq);
}

TEST_CASE("event list filters by layer, host and text", "[gui][events]") {
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  app.controller().adopt(synthetic_bob_to_alice(), synthetic_scenario());
  auto* events = dynamic_cast<EventsPanel*>(app.panel("events"));
  REQUIRE(events);
  ViewSettings& s = app.settings();
  s.layer_mask = 1u << static_cast<unsigned>(Layer::smtp);
  events->refilter(app.controller(), s);
  for (uint32_t i : events->rows) CHECK(app.controller().records()[i].layer() == Layer::smtp);
  size_t smtp_rows = events->rows.size();
  s.host_filter = "mx.yahoo.test";
  events->refilter(app.controller(), s);
  CHECK(events->rows.size() < smtp_rows);
  for (uint32_t i : events->rows) {
    const Record& r = app.controller().records()[i];
    CHECK((r.src == "mx.yahoo.test" || r.dst == "mx.yahoo.test"));
  }
  s.text_filter = "quit";
  events->refilter(app.controller(), s);
  CHECK(events->rows.size() == 1);
}

TEST_CASE("inspector explanations", "[gui][inspector]") {
  struct Case { int code; const char* has; };
  for (Case k : {Case{250, "okay"}, Case{354, "<CRLF>.<CRLF>"}, Case{451, "try again later"}, Case{550, "Do not retry"}}) {
    INFO(k.code);
    CHECK(explain_reply_code(k.code).find(k.has) != std::string::npos);
  }
  CHECK(explain_reply_class(452).find("retries") != std::string::npos);
  CHECK(find_enhanced("550 5.1.1 <x@y>: no such user") == "5.1.1");
  CHECK(find_enhanced("250-mx.yahoo.test") == "");
  CHECK(explain_enhanced("5.2.2").find("mailbox full") != std::string::npos);
  CHECK(explain_enhanced("4.7.1").find("security") != std::string::npos);
  Record r;
  r.kind = Kind::smtp_command;
  r.text = "RCPT TO:<alice@yahoo.test>";
  r.with("verb", "RCPT");
  CHECK(governing_rfc(r) == "RFC 5321 4.1.1.3 (RECIPIENT)");
  // The probes a scenario's message can ask (and their replies, by verb).
  for (auto [line, want] : {std::pair{"EXPN staff", "4.1.1.7"}, {"help", "4.1.1.8"}, {"VRFY bob", "4.1.1.6"}}) {
    Record c;
    c.kind = Kind::smtp_command;
    c.text = line;
    CHECK(governing_rfc(c).find(want) != std::string::npos);
  }

  auto lines = wire_lines("EHLO x\r\nbare\nlast");
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].ending == "\\r\\n");
  CHECK(lines[1].ending == "\\n");
  CHECK(lines[2].ending.empty());
  // RFC 5321 4.5.2 both ways.
  std::string content = "Hi\r\n.hidden\r\n..two\r\n";
  CHECK(stuff(content) == "Hi\r\n..hidden\r\n...two\r\n");
  CHECK(unstuff(stuff(content) + ".\r\n") == content);
  // The lone-dot bug: an unstuffed "." ends the data early.
  CHECK(unstuff("Hi\r\n.\r\nRCPT TO:<x@y>\r\n.\r\n") == "Hi\r\n");
}

TEST_CASE("view settings round-trip, and bad values are ignored with a warning", "[gui][settings]") {
  ViewSettings s;
  s.font_size = 30;
  s.theme = Theme::light;
  s.scale = TimeScale::proportional;
  s.show_tcp = true;
  s.panels["gallery"] = true;
  s.host_filter = "mx.yahoo.test";
  ViewSettings back;
  std::string warning;
  REQUIRE(settings_from_json(settings_to_json(s), back, &warning));
  CHECK(warning.empty());
  CHECK(back.font_size == 30);
  CHECK(back.theme == Theme::light);
  CHECK(back.scale == TimeScale::proportional);
  CHECK(back.show_tcp);
  CHECK(back.panels.at("gallery"));
  CHECK(back.host_filter == "mx.yahoo.test");
  ViewSettings d;
  CHECK(settings_from_json(R"({"font_size": 5000, "theme": "purple", "speed": "fast"})", d, &warning));
  CHECK(d.font_size == ViewSettings{}.font_size);
  CHECK(d.theme == Theme::dark);
  CHECK(warning.find("font_size") != std::string::npos);
  CHECK_FALSE(settings_from_json("[1,2]", d, &warning));
}

TEST_CASE("faults and messages written by the GUI load back", "[gui][writer]") {
  CHECK(duration_text(msec(250)) == "250ms");
  CHECK(duration_text(minutes(30)) == "30min");
  CHECK(duration_text(usec(1500)) == "1500us");
  Fault f;
  f.type = "smtp-reply";
  f.host = "mx.yahoo.test";
  f.verb = "RCPT";
  f.code = 451;
  f.at = sec(2);
  MessageSpec m;
  m.from = "bob@gmail.test";
  m.to = {"alice@yahoo.test"};
  m.subject = "Again";
  m.body = "Hi\n.\nlone dot";
  m.at = sec(5);
  m.probe = {"VRFY alice", "HELP"};
  std::string err;
  std::string text = scenario_with_additions(default_scenario_text(), {f}, {m}, &err);
  INFO(err);
  REQUIRE_FALSE(text.empty());
  LoadResult r = load_scenario_text(text, "saved");
  REQUIRE(r.ok());
  REQUIRE(r.scenario->faults.size() == 1);
  CHECK(r.scenario->faults[0].code == 451);
  CHECK(r.scenario->faults[0].verb == "RCPT");
  CHECK(r.scenario->messages.back().body == m.body);
  CHECK(r.scenario->messages.back().probe == m.probe);
  // A probe the loader refuses is refused with its reason, by pointer.
  m.probe = {"MAIL FROM:<x@y.test>"};
  CHECK(scenario_with_additions(default_scenario_text(), {}, {m}, &err).empty());
  CHECK(err.find("/probe/0") != std::string::npos);
  CHECK(err.find("is not a probe") != std::string::npos);
}

TEST_CASE("playback advances simulated time at the chosen speed and stops at the end", "[gui][playback]") {
  Controller c;
  c.adopt(synthetic_bob_to_alice(), synthetic_scenario());
  c.apply(cmd::SetSpeed{10});
  c.apply(cmd::Play{true});
  REQUIRE(c.playing());
  c.tick(0.1);  // 0.1 s of wall time at 10x: 1 s of simulated time
  CHECK(c.now() == 1'000'000);
  CHECK(c.cursor_record()->t.us <= c.now());
  c.apply(cmd::SetSpeed{5000});
  CHECK(c.speed() == 1000);  // clamped to the slider's range
  for (int i = 0; i < 100 && c.playing(); ++i) c.tick(1.0);
  CHECK_FALSE(c.playing());
  CHECK(c.cursor() == c.size() - 1);
  c.apply(cmd::JumpNext{});  // at the end: stays
  CHECK(c.cursor() == c.size() - 1);
}

TEST_CASE("compare draws both runs; Ctrl + and Ctrl - change the text size", "[gui][app]") {
  HeadlessImGui ui(1600, 900);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  app.set_panel_open("compare", true);
  app.set_panel_open("sequence", false);
  frame(ui, app);
  app.controller().post(cmd::PinBaseline{});
  app.controller().post(cmd::Seek{sec(2).us});
  Fault f;
  f.type = "host-down";
  f.host = "mx.yahoo.test";
  f.at = SimTime{-1};
  app.controller().post(cmd::InjectFault{f});
  frame(ui, app);
  frame(ui, app);
  REQUIRE(app.controller().baseline());
  CHECK(app.controller().added_faults().size() == 1);
  CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);

  ImGuiIO& io = ImGui::GetIO();
  const float before = app.wanted_font_size(900);
  io.KeyCtrl = true;
  io.KeysDown[61] = true;  // GLFW_KEY_EQUAL
  frame(ui, app);
  io.KeysDown[61] = false;
  frame(ui, app);
  CHECK(app.wanted_font_size(900) == before + 2);
  io.KeysDown[45] = true;  // GLFW_KEY_MINUS
  frame(ui, app);
  io.KeysDown[45] = false;
  io.KeyCtrl = false;
  frame(ui, app);
  CHECK(app.wanted_font_size(900) == before);
}

TEST_CASE("every panel has a unique id and a title", "[gui][panels]") {
  GuiApp app(false);
  std::set<std::string> ids;
  for (const char* id : {"playback", "topology", "failures", "compose", "scenarios", "sequence", "compare", "states",
                         "inspector", "queues", "events", "gallery"}) {
    Panel* p = app.panel(id);
    INFO(id);
    REQUIRE(p);
    CHECK_FALSE(p->title().empty());
    CHECK(ids.insert(std::string(p->id())).second);
  }
}

TEST_CASE("the open scenario reloads when its file changes; a broken edit keeps the last good run", "[gui][scenarios]") {
  namespace fs = std::filesystem;
  std::string path = (fs::temp_directory_path() / "smtplab-gui-test-reload.json").string();
  std::string text(default_scenario_text());
  { std::ofstream(path) << text; }
  Controller c;
  REQUIRE(c.open(path));
  const size_t reruns = c.reruns();
  // A new name, written with a later modification time.
  std::string renamed = text;
  renamed.replace(renamed.find("Bob sends a message to Alice"), 28, "Bob writes to Alice again");
  { std::ofstream(path) << renamed; }
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(2));
  c.tick(1.1);
  CHECK(c.reruns() == reruns + 1);
  CHECK(c.scenario().name == "Bob writes to Alice again");
  CHECK(c.status().find("reloaded") == 0);
  { std::ofstream(path) << "{ not json"; }
  fs::last_write_time(path, fs::last_write_time(path) + std::chrono::seconds(4));
  c.tick(1.1);
  CHECK_FALSE(c.errors().empty());
  CHECK(c.scenario().name == "Bob writes to Alice again");
  CHECK(c.size() > 0);
  fs::remove(path);
}

// ---------------------------------------------------------------------------
// Interactive paths, driven as a user would: through the whole app in a
// headless ImGui context, asserting on what the controller and the diagram
// hold afterwards (cursor, selection, the rows the sequence model draws).

namespace {

std::string scenario_file(const char* name) { return smtplab::testing::source_dir() + "/scenarios/" + name; }

// A scenario from scenarios/, run for real and indexed as the GUI holds it.
// The index points into the run and the scenario, so the object stays put.
struct IndexedRun {
  LoadResult lr;
  RunResult run;
  TraceIndex index;
  explicit IndexedRun(const char* name)
      : lr(load_scenario_file(scenario_file(name))), run([this] {
          REQUIRE(lr.ok());
          return run_scenario(*lr.scenario);
        }()) {
    index.build(&run.trace.records(), &*lr.scenario);
  }
  IndexedRun(const IndexedRun&) = delete;
  IndexedRun& operator=(const IndexedRun&) = delete;
};

SequencePanel& sequence_panel(GuiApp& app) {
  auto* p = dynamic_cast<SequencePanel*>(app.panel("sequence"));
  REQUIRE(p);
  return *p;
}

// The records the diagram holds, as record indices.
std::set<size_t> model_records(const SeqModel& m) { return {m.items().begin(), m.items().end()}; }

void click(HeadlessImGui& ui, GuiApp& app, ImVec2 at) {
  ImGuiIO& io = ImGui::GetIO();
  io.MousePos = at;
  frame(ui, app);
  io.MouseDown[0] = true;
  frame(ui, app);
  io.MouseDown[0] = false;
  frame(ui, app);
  io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
}

}  // namespace

TEST_CASE("TCP segments slant from send to arrival; a lost one is one arrow ending in a cross", "[gui][sequence][tcp]") {
  IndexedRun real("lossy-link.json");
  const TraceIndex& index = real.index;
  SeqModel model;
  SeqFilter f;
  f.tcp = true;
  model.build(index, f);
  const auto& recs = index.records();
  size_t delivered = 0, lost = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    const Record& r = recs[model.items()[i]];
    INFO(r.seq << " " << r.text);
    CHECK(r.kind != Kind::segment_delivered);  // an arrival is the end of an arrow, not a row
    if (r.kind != Kind::segment_sent && r.kind != Kind::segment_retransmit) continue;
    if (model.fate(i) == Fate::delivered) {
      ++delivered;
      CHECK(model.end_time(i) > model.times()[i]);  // latency: the arrow goes down
      CHECK(model.end_row(i) >= model.row_of(i));
    } else if (model.fate(i) == Fate::lost) {
      ++lost;
      const uint32_t loss = model.loss_record(i);
      REQUIRE(loss != ~0u);
      CHECK(recs[loss].kind == Kind::segment_lost);
      CHECK(recs[loss].text.rfind(r.text, 0) == 0);  // the same packet
      CHECK(model.item_drawing(loss) == i);          // selecting the loss highlights this arrow
      CHECK(model.end_time(i) >= model.times()[i]);
    }
  }
  CHECK(delivered > 20);
  CHECK(lost > 0);
  // Every loss in the trace is drawn (as the cross of its packet's arrow).
  for (size_t i = 0; i < recs.size(); ++i)
    if (recs[i].kind == Kind::segment_lost) CHECK(model.item_drawing(i) < model.size());
  // Laid out one row per event around the first loss: arrows end below
  // where they start, at the row where their arrival falls.
  size_t first_loss = 0;
  while (first_loss < recs.size() && recs[first_loss].kind != Kind::segment_lost) ++first_loss;
  REQUIRE(first_loss < recs.size());
  SeqViewport vp;
  vp.scale = TimeScale::rows;
  vp.height = 800;
  vp.row_px = 20;
  vp.row_top = model.row_of(model.item_drawing(first_loss)) - 10;
  size_t slanted = 0, crosses = 0;
  for (const SeqItem& it : layout_visible(model, index, vp)) {
    if (it.type != SeqItemType::arrow) continue;
    slanted += it.fate == Fate::delivered && it.y_end > it.y + 1 ? 1 : 0;
    if (it.fate == Fate::lost) {
      ++crosses;
      CHECK(it.end_frac > 0);
      CHECK(it.end_frac <= 1);
      CHECK(it.y_end >= it.y);
    }
  }
  CHECK(slanted > 5);
  CHECK(crosses > 0);
  // SMTP commands end where the segment carrying them arrived: never above
  // their start, and never "instant" when TCP was traced.
  for (size_t i = 0; i < model.size(); ++i)
    if (recs[model.items()[i]].kind == Kind::smtp_command) {
      CHECK(model.fate(i) != Fate::instant);
      CHECK(model.end_time(i) >= model.times()[i]);
    }
  CHECK(diagram_label(recs[model.items()[0]]).find(" > ") == std::string_view::npos);
}

TEST_CASE("toggling the TCP layer adds and removes exactly the packet rows", "[gui][sequence][tcp]") {
  HeadlessImGui ui(1600, 1000);
  GuiApp app(false);
  REQUIRE(app.controller().open(scenario_file("lossy-link.json")));
  frame(ui, app);
  SequencePanel& seq = sequence_panel(app);
  const std::set<size_t> without = model_records(seq.view.model);
  for (size_t i : without) CHECK(app.controller().records()[i].layer() != Layer::tcp);
  app.settings().show_tcp = true;  // what the "TCP" checkbox does
  frame(ui, app);
  const std::set<size_t> with = model_records(seq.view.model);
  CHECK(with.size() > without.size() + 100);
  for (size_t i : without) CHECK(with.count(i) == 1);
  size_t tcp_rows = 0;
  for (size_t i : with) tcp_rows += app.controller().records()[i].layer() == Layer::tcp ? 1 : 0;
  CHECK(tcp_rows == with.size() - without.size() -
                        std::count_if(with.begin(), with.end(), [&](size_t i) {
                          return app.controller().records()[i].kind == Kind::datagram_sent ||
                                 app.controller().records()[i].kind == Kind::datagram_lost;
                        }));
  app.settings().show_tcp = false;
  frame(ui, app);
  CHECK(model_records(seq.view.model) == without);
}

TEST_CASE("clicking an arrow in the diagram selects its record and moves the cursor there", "[gui][sequence][mouse]") {
  HeadlessImGui ui(1600, 1000);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  app.controller().post(cmd::Seek{sec(1).us});
  frame(ui, app);
  frame(ui, app);
  SequencePanel& seq = sequence_panel(app);
  const SeqItem* target = nullptr;
  for (const SeqItem& it : seq.view.items) {
    if (it.type != SeqItemType::arrow) continue;
    const Record& r = app.controller().records()[it.record];
    if (r.kind == Kind::smtp_command && r.text.rfind("EHLO", 0) == 0) {
      target = &it;
      break;
    }
  }
  REQUIRE(target);
  const size_t want = target->record;
  const float x = seq.view.lanes_x + (static_cast<float>(target->from + target->to) * 0.5f + 0.5f) * seq.view.lane_w;
  click(ui, app, ImVec2(x, seq.view.body_min.y + target->y));
  CHECK(app.controller().selected() == app.controller().records()[want].seq);
  CHECK(app.controller().cursor() == want);
  // Right arrow (the keyboard) then steps on from the clicked record.
  ImGuiIO& io = ImGui::GetIO();
  io.KeyMap[ImGuiKey_RightArrow] = 262;
  io.KeysDown[262] = true;
  frame(ui, app);
  io.KeysDown[262] = false;
  frame(ui, app);
  CHECK(app.controller().cursor() == want + 1);
}

TEST_CASE("seeking, Home and End move the cursor to the last record at or before the time", "[gui][playback]") {
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(scenario_file("server-down-retry-bounce.json")));
  Controller& c = app.controller();
  for (int64_t t : {int64_t{0}, sec(1).us, sec(90).us, minutes(10).us, c.end_time() / 2}) {
    INFO("seek to " << t);
    c.post(cmd::Seek{t});
    frame(ui, app);
    CHECK(c.now() == t);
    CHECK(c.records()[c.cursor()].t.us <= t);
    if (c.cursor() + 1 < c.size()) CHECK(c.records()[c.cursor() + 1].t.us > t);
  }
  ImGuiIO& io = ImGui::GetIO();
  io.KeyMap[ImGuiKey_End] = 269;
  io.KeyMap[ImGuiKey_Home] = 268;
  io.KeysDown[269] = true;
  frame(ui, app);
  io.KeysDown[269] = false;
  frame(ui, app);
  CHECK(c.cursor() == c.size() - 1);
  io.KeysDown[268] = true;
  frame(ui, app);
  io.KeysDown[268] = false;
  frame(ui, app);
  CHECK(c.now() == 0);
  // The diagram follows the cursor: the cursor's row (or the last drawn one
  // before it) is in view after every move.
  c.post(cmd::Seek{minutes(31).us});
  frame(ui, app);
  frame(ui, app);
  SequencePanel& seq = sequence_panel(app);
  bool cursor_row_visible = false;
  const size_t want_item = seq.view.model.item_of_record(c.cursor() + 1);
  for (const SeqItem& it : seq.view.items)
    if (it.type != SeqItemType::gap && want_item > 0 && it.record == seq.view.model.items()[want_item - 1])
      cursor_row_visible = true;
  CHECK(cursor_row_visible);
}

TEST_CASE("selecting a bounce highlights its cause chain back to the fault", "[gui][sequence][causes]") {
  HeadlessImGui ui(1600, 1000);
  GuiApp app(false);
  Controller& c = app.controller();
  REQUIRE(c.open(scenario_file("server-down-retry-bounce.json")));
  const Record* bounce = nullptr;
  for (const Record& r : c.records())
    if (r.kind == Kind::dsn_created && r.text.find("bounce") != std::string::npos) bounce = &r;
  REQUIRE(bounce);
  const uint64_t seq_bounce = bounce->seq;
  c.post(cmd::Select{seq_bounce, true});
  frame(ui, app);
  frame(ui, app);
  SequencePanel& seq = sequence_panel(app);
  const auto want = c.current().run->trace.cause_chain(seq_bounce);
  REQUIRE(want.size() >= 2);
  REQUIRE(seq.view.chain.size() == want.size());
  // Root first in the view, newest first in the trace's chain.
  for (size_t k = 0; k < want.size(); ++k) CHECK(c.records()[seq.view.chain[k]].seq == want[want.size() - 1 - k]->seq);
  CHECK(c.records()[seq.view.chain.back()].seq == seq_bounce);
  const Record& root = c.records()[seq.view.chain.front()];
  CHECK((root.kind == Kind::fault_injected || root.kind == Kind::host_down));
  // Every step of the chain is a row of the diagram (notes are shown).
  for (size_t i : seq.view.chain) CHECK(seq.view.model.item_drawing(i) < seq.view.model.size());
  // The fault is far above the bounce: the view offers to scroll to it, and
  // clicking that shows the root cause's row.
  bool root_visible = false;
  for (const SeqItem& it : seq.view.items) root_visible |= it.type != SeqItemType::gap && it.record == seq.view.chain.front();
  if (!root_visible) {
    // The hint sits just above the body, over the time column (in the
    // header's empty corner, where it hides no row's label).
    click(ui, app, ImVec2(seq.view.body_min.x + ImGui::GetFontSize(), seq.view.body_min.y - ImGui::GetFontSize() * 0.5f - 3));
    CHECK(seq.view.scrolled_to_cause);
    for (const SeqItem& it : seq.view.items) root_visible |= it.type != SeqItemType::gap && it.record == seq.view.chain.front();
    CHECK(c.selected() == seq_bounce);  // scrolling to a cause keeps the selection
  }
  CHECK(root_visible);
  // Selecting the root itself: no causes.
  c.post(cmd::Select{root.seq, true});
  frame(ui, app);  // applies the selection
  frame(ui, app);  // draws it
  CHECK(seq.view.chain.size() == 1);
}

TEST_CASE("injecting a fault from the GUI re-runs: the diagram's rows after the cursor change, before it not", "[gui][failures]") {
  HeadlessImGui ui(1600, 1000);
  GuiApp app(false);
  Controller& c = app.controller();
  REQUIRE(c.open(scenario_file("bob-to-alice.json")));
  frame(ui, app);
  SequencePanel& seq = sequence_panel(app);
  auto rows = [&] {
    std::vector<std::string> out;
    for (uint32_t i : seq.view.model.items()) {
      const Record& r = c.records()[i];
      out.push_back(format_duration(r.t) + " " + std::string(kind_name(r.kind)) + " " + r.text);
    }
    return out;
  };
  auto delivered_to_alice = [&] {
    for (const Record& r : c.records())
      if (r.kind == Kind::message_delivered && r.text.find("alice") != std::string::npos) return true;
    return false;
  };
  const std::vector<std::string> before = rows();
  REQUIRE(delivered_to_alice());
  // Alice's server goes down just before Bob's relay reaches it.
  c.post(cmd::Seek{msec(1200).us});
  frame(ui, app);
  const int64_t at = c.now();
  Fault f;
  f.type = "host-down";
  f.host = "mx.yahoo.test";
  f.at = SimTime{-1};
  c.post(cmd::InjectFault{f});
  frame(ui, app);
  frame(ui, app);
  INFO(c.status());
  REQUIRE(c.added_faults().size() == 1);
  const std::vector<std::string> after = rows();
  CHECK(after != before);
  CHECK_FALSE(delivered_to_alice());
  // Rows strictly before the fault's time are the same rows.
  size_t same = 0;
  while (same < before.size() && same < after.size() && before[same] == after[same]) ++same;
  for (size_t i = 0; i < seq.view.model.size() && seq.view.model.times()[i] < at; ++i) CHECK(i < same);
  // The fault is a row of the diagram, and stepping to the next failure from
  // the start lands on it or after it.
  bool fault_row = false;
  for (uint32_t i : seq.view.model.items()) fault_row |= c.records()[i].kind == Kind::fault_injected && c.records()[i].t.us == at;
  CHECK(fault_row);
  c.post(cmd::Seek{at});
  c.post(cmd::Step{+1, StepUnit::failure});
  frame(ui, app);
  CHECK(is_failure(*c.cursor_record()));
  CHECK(c.now() >= at);
  // Removing it from the GUI gives back the first run's rows.
  c.post(cmd::RemoveFault{0});
  frame(ui, app);
  frame(ui, app);
  CHECK(rows() == before);
}

TEST_CASE("stepping forward and back through the playback panel's path keeps cursor, selection and time together", "[gui][playback]") {
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  Controller& c = app.controller();
  REQUIRE(c.open(""));
  frame(ui, app);
  const size_t start = c.cursor();
  std::vector<size_t> seen;
  for (int i = 0; i < 12; ++i) {
    c.post(cmd::Step{+1, StepUnit::exchange});
    frame(ui, app);
    seen.push_back(c.cursor());
    CHECK(starts_exchange(*c.cursor_record()));
    CHECK(c.selected() == c.cursor_record()->seq);
    CHECK(c.now() == c.cursor_record()->t.us);
  }
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] > seen[i - 1]);
  for (int i = 11; i > 0; --i) {
    c.post(cmd::Step{-1, StepUnit::exchange});
    frame(ui, app);
    CHECK(c.cursor() == seen[static_cast<size_t>(i - 1)]);
  }
  c.post(cmd::Step{-1, StepUnit::event});
  frame(ui, app);
  CHECK(c.cursor() == seen[0] - 1);
  CHECK(c.cursor() >= start);
}

TEST_CASE("opening a lesson from the app opens its scenario at the first pause, in front", "[gui][lesson]") {
  HeadlessImGui ui(1600, 1000);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  std::string why;
  CHECK_FALSE(app.open_lesson("no-such-lesson", &why));
  CHECK(why.find("no-such-lesson") != std::string::npos);
  REQUIRE(app.open_lesson("08", &why));
  frame(ui, app);
  frame(ui, app);
  CHECK(app.panel_open(*app.panel("lesson")));
  auto* lp = dynamic_cast<LessonPanel*>(app.panel("lesson"));
  REQUIRE(lp);
  REQUIRE(lp->lesson());
  CHECK(lp->lesson()->id.rfind("08", 0) == 0);
  CHECK(app.controller().scenario().name == lp->lesson()->scenario.name);
  CHECK(app.controller().errors().empty());
  REQUIRE(!lp->plans().empty());
  if (lp->plans()[0].pause) {
    CHECK(app.controller().selected() == lp->plans()[0].pause);
    CHECK(app.controller().cursor() == app.controller().index().index_of_seq(lp->plans()[0].pause));
  }
  CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
}

TEST_CASE("an SMTP reply's arrow ends when the segment that carried it arrived", "[gui][sequence][arrivals]") {
  IndexedRun real("bob-to-alice.json");
  const TraceIndex& index = real.index;
  const auto& recs = index.records();
  // The oracle, straight from the trace: the first data segment the server
  // sends on that connection after the reply, and its segment-delivered
  // (whose cause is that segment-sent).
  auto carried_at = [&](size_t reply) -> int64_t {
    const Record& r = recs[reply];
    for (size_t j = reply + 1; j < recs.size(); ++j) {
      const Record& s = recs[j];
      if (s.kind != Kind::segment_sent || s.session != r.session || s.src != r.src || s.attr("len") == "0") continue;
      for (size_t k = j + 1; k < recs.size(); ++k)
        if (recs[k].kind == Kind::segment_delivered && recs[k].cause == s.seq) return recs[k].t.us;
      return -1;
    }
    return -1;
  };
  for (const bool tcp : {false, true}) {
    SeqFilter f;
    f.tcp = tcp;
    SeqModel model;
    model.build(index, f);
    size_t replies = 0, drawn = 0;
    for (size_t i = 0; i < model.size(); ++i) {
      const size_t ri = model.items()[i];
      const Record& r = recs[ri];
      if (r.kind != Kind::smtp_reply) continue;
      INFO("tcp shown " << tcp << ": #" << r.seq << " " << r.text);
      const int64_t want = carried_at(ri);
      REQUIRE(want > 0);
      CHECK(model.fate(i) == Fate::delivered);
      CHECK(model.end_time(i) == want);
      CHECK(model.end_time(i) > model.times()[i]);  // latency: it slants down
      CHECK(model.end_row(i) > model.row_of(i));
      ++replies;
      // Proportional scale: the arrow's end is drawn at the arrival time.
      // (Records of one instant fold into one mark there: pipelined
      // replies, and a reply with the segment that carries it.)
      SeqViewport vp;
      vp.scale = TimeScale::proportional;
      vp.px_per_us = 0.05;
      vp.min_px = 1;
      vp.t_top = r.t.us - 1000;
      vp.height = 2000;
      for (const SeqItem& it : layout_visible(model, index, vp)) {
        if (it.record != ri || it.type != SeqItemType::arrow) continue;
        ++drawn;
        CHECK(it.y_end == Approx(static_cast<double>(want - vp.t_top) * vp.px_per_us).margin(0.01));
        CHECK(it.y_end > it.y + 10);
      }
    }
    CHECK(replies >= 10);
    if (!tcp) CHECK(drawn >= 4);
    // One row per event, TCP hidden: the 250 to Bob's EHLO lands on the row
    // where Bob answers it (STARTTLS is sent the instant the reply arrives).
    if (!tcp) {
      size_t ehlo_reply = model.size(), starttls = model.size();
      for (size_t i = 0; i < model.size(); ++i) {
        const Record& r = recs[model.items()[i]];
        if (ehlo_reply == model.size() && r.kind == Kind::smtp_reply && r.text.rfind("250 ", 0) == 0 && r.dst == "bob-pc")
          ehlo_reply = i;
        if (starttls == model.size() && r.kind == Kind::smtp_command && r.text == "STARTTLS") starttls = i;
      }
      REQUIRE(ehlo_reply < starttls);
      REQUIRE(starttls < model.size());
      CHECK(model.end_time(ehlo_reply) == model.times()[starttls]);
      CHECK(model.end_row(ehlo_reply) == model.row_of(starttls));
    }
  }
}

TEST_CASE("a command whose segment was lost ends at the retransmission that got through", "[gui][sequence][arrivals]") {
  IndexedRun real("lossy-link.json");
  const TraceIndex& index = real.index;
  const auto& recs = index.records();
  SeqModel model;
  model.build(index, SeqFilter{});
  size_t checked = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    const size_t ri = model.items()[i];
    const Record& r = recs[ri];
    if (r.kind != Kind::smtp_command || r.wire.empty()) continue;
    // The first copy of these bytes that was delivered, on this connection.
    int64_t first_lost = -1, delivered = -1;
    for (size_t j = ri + 1; j < recs.size() && delivered < 0; ++j) {
      const Record& s = recs[j];
      if (s.session != r.session || s.src != r.src || s.wire != r.wire) continue;
      if (s.kind == Kind::segment_lost && first_lost < 0) first_lost = s.t.us;
      if (s.kind == Kind::segment_delivered) delivered = s.t.us;
    }
    if (first_lost < 0 || delivered < 0) continue;  // only the commands that had to be sent again
    INFO("#" << r.seq << " " << r.text);
    CHECK(model.fate(i) == Fate::delivered);
    CHECK(model.end_time(i) == delivered);
    CHECK(model.end_time(i) > first_lost);
    ++checked;
  }
  CHECK(checked > 0);
  // Nothing the diagram shows ends above where it starts.
  for (size_t i = 0; i < model.size(); ++i) {
    CHECK(model.end_time(i) >= model.times()[i]);
    CHECK(model.end_row(i) >= model.row_of(i));
  }
}

TEST_CASE("topology: host boxes never overlap each other or the cloud, at any panel size", "[gui][topology]") {
  const float fs = 18;
  size_t layouts = 0;
  for (const auto& e : std::filesystem::directory_iterator(scenario_file(""))) {
    if (e.path().extension() != ".json" || e.path().filename() == "schema.json") continue;
    LoadResult lr = load_scenario_file(e.path().string());
    if (!lr.ok()) continue;
    // Box sizes as the panel measures them (about 0.55 font sizes a character).
    std::vector<TopoBoxSize> sizes;
    for (const Host& h : lr.scenario->hosts) {
      const size_t chars = std::max(h.name.size(), h.domains.empty() ? h.user.size() : h.domains.front().size());
      sizes.push_back({fs * 0.55f * static_cast<float>(std::max<size_t>(chars, 11)) + fs * 0.8f, fs * 2.3f});
    }
    // The topology slot at 1600x900 and 1280x720, a large window, and small ones.
    for (auto [w, h] : {std::pair{364.0f, 390.0f}, {290.0f, 300.0f}, {600.0f, 520.0f}, {200.0f, 160.0f}, {120.0f, 90.0f}}) {
      const TopoLayout lay = layout_topology(sizes, 10, 20, w, h, fs);
      INFO(e.path().filename().string() << " at " << w << "x" << h << ": " << lay.rows << " rows, scale " << lay.scale);
      REQUIRE(lay.boxes.size() == sizes.size());
      const TopoRect panel{10, 20, 10 + w, 20 + h};
      for (size_t i = 0; i < lay.boxes.size(); ++i) {
        const TopoRect& a = lay.boxes[i];
        CHECK(a.inside(panel));
        CHECK_FALSE(a.overlaps(lay.cloud));
        for (size_t j = i + 1; j < lay.boxes.size(); ++j) CHECK_FALSE(a.overlaps(lay.boxes[j]));
      }
      CHECK(lay.scale >= 0.55f);
      CHECK(lay.scale <= 0.9f);
      // A label next to an envelope between two boxes covers none of them.
      std::vector<TopoRect> avoid(lay.boxes);
      avoid.push_back(lay.cloud);
      const TopoRect env{lay.cloud.cx() - 14, lay.cloud.y1 + 1, lay.cloud.cx() + 14, lay.cloud.y1 + 19};
      TopoRect at;
      if (place_label(env, 300, fs + 2, 60, avoid, panel, &at)) {
        CHECK(at.inside(panel));
        CHECK_FALSE(at.overlaps(env));
        for (const TopoRect& b : avoid) CHECK_FALSE(at.overlaps(b));
      }
      // A message crossing the internet passes off the word "internet"
      // (fs tall at the layout's scale, centred in the cloud), off every box
      // and inside the panel, at every size here, the smallest included.
      const float tfs = fs * lay.scale, ew = tfs * 1.6f, eh = ew * 0.65f;
      const TopoRect word{lay.cloud.cx() - tfs * 2.2f, lay.cloud.cy() - tfs * 0.5f, lay.cloud.cx() + tfs * 2.2f,
                          lay.cloud.cy() + tfs * 0.5f};
      const TopoRect via = cloud_crossing(lay.cloud, tfs, ew, eh, lay.boxes, panel);
      CHECK_FALSE(via.overlaps(word));
      for (const TopoRect& b : lay.boxes) CHECK_FALSE(via.overlaps(b));
      CHECK(via.inside(panel));
      ++layouts;
    }
  }
  CHECK(layouts >= 5 * 15);
  // At the topology slot's size the names are readable: 5 hosts at 0.7 or more.
  const std::vector<TopoBoxSize> five(5, TopoBoxSize{fs * 0.55f * 16 + fs * 0.8f, fs * 2.3f});
  CHECK(layout_topology(five, 0, 0, 364, 390, fs).scale >= 0.7f);
}

TEST_CASE("the diagram draws at every zoom: thin rows drop their labels, they do not crash", "[gui][sequence][zoom]") {
  // Rows between min_px and a line of text draw without labels; an empty
  // label used to reach ImGui as a null C string (a crash when zooming out).
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  app.settings().scale = TimeScale::rows;
  for (float rh : {8.0f, 1.2f, 0.9f, 0.6f, 0.3f, 0.1f, 0.05f}) {
    INFO("row height " << rh);
    app.settings().row_height = rh;
    frame(ui, app);
    CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
  }
  app.settings().scale = TimeScale::proportional;
  for (double pps : {40000.0, 4000.0, 400.0, 40.0, 4.0, 0.01}) {
    INFO("px per second " << pps);
    app.settings().px_per_second = pps;
    frame(ui, app);
    CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
  }
}

TEST_CASE("proportional scale: a small crowd keeps its arrows, one per pair of lifelines", "[gui][sequence]") {
  // At 400 px per second, Bob's session is 20 ms hops of 8 px: closer than
  // min_px, a reply and the state change it causes fold into one crowd. The
  // crowd draws its arrows and counts the rest; nothing is lost or counted
  // twice.
  IndexedRun real("bob-to-alice.json");
  const TraceIndex& index = real.index;
  SeqModel model;
  model.build(index, SeqFilter{});
  SeqViewport vp;
  vp.scale = TimeScale::proportional;
  vp.px_per_us = 400e-6;
  vp.min_px = 12;
  vp.height = 1e6;  // all of it
  const auto items = layout_visible(model, index, vp);
  size_t covered = 0, arrows = 0, beside = 0, bars = 0;
  for (const SeqItem& it : items) {
    if (it.type == SeqItemType::fold) {
      covered += it.count;
      (it.beside ? beside : bars) += 1;
    } else if (it.type != SeqItemType::gap) {
      ++covered;
      arrows += it.type == SeqItemType::arrow;
    }
  }
  CHECK(covered == model.size());
  CHECK(beside > 0);  // crowds with arrows and a rest happened
  // Every SMTP command is an arrow, unless it was pipelined: then the arrow
  // of the command sent with it, on the same pair of lifelines, stands for
  // it (one line on top of another would show nothing more).
  const auto& recs = index.records();
  const int64_t crowd_us = static_cast<int64_t>(std::ceil(vp.min_px / vp.px_per_us));
  std::vector<size_t> drawn;
  for (const SeqItem& it : items)
    if (it.type == SeqItemType::arrow) drawn.push_back(it.record);
  size_t commands = 0, as_arrow = 0, pipelined = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    const size_t ri = model.items()[i];
    const Record& r = recs[ri];
    if (r.kind != Kind::smtp_command) continue;
    ++commands;
    if (std::find(drawn.begin(), drawn.end(), ri) != drawn.end()) {
      ++as_arrow;
      continue;
    }
    INFO("#" << r.seq << " " << r.text);
    const bool stood_for = std::any_of(drawn.begin(), drawn.end(), [&](size_t d) {
      const Record& o = recs[d];
      return o.src == r.src && o.dst == r.dst && std::llabs(o.t.us - r.t.us) < crowd_us;
    });
    CHECK(stood_for);
    pipelined += stood_for;
  }
  CHECK(commands >= 10);
  CHECK(as_arrow + pipelined == commands);
  CHECK(as_arrow > pipelined);
  // Before, any two records within min_px became one bar: the arrows vanished.
  CHECK(arrows > items.size() / 2);
  // A "+N" knows which records it counts (its tooltip lists them, a click
  // selects the first): exactly the crowd's records that are not drawn.
  for (const SeqItem& it : items) {
    if (it.type != SeqItemType::fold || !it.beside) continue;
    CHECK(static_cast<uint32_t>(std::popcount(it.rest)) == it.count);
    CHECK(it.first_item < model.size());
    CHECK(model.items()[it.first_item] == it.record);
    for (size_t b = 0; b < 8; ++b) {
      if (!(it.rest >> b & 1u)) continue;
      REQUIRE(it.first_item + b < model.size());
      const size_t ri = model.items()[it.first_item + b];
      CHECK(std::find(drawn.begin(), drawn.end(), ri) == drawn.end());
      CHECK(std::llabs(recs[ri].t.us - recs[it.record].t.us) < crowd_us);
    }
  }
}

TEST_CASE("switching to the proportional scale zooms in until the events at the cursor are readable", "[gui][sequence]") {
  // 40 px a second (the saved default) puts Bob's 20 ms hops under a pixel:
  // the switch zooms in so the median step near the cursor is a line of
  // text, and the cursor's time is in view.
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  app.settings().scale = TimeScale::rows;
  app.settings().px_per_second = 40;
  frame(ui, app);
  app.controller().post(cmd::Seek{sec(1).us + msec(500).us});
  frame(ui, app);
  app.settings().scale = TimeScale::proportional;
  frame(ui, app);
  frame(ui, app);
  SequenceView& v = sequence_panel(app).view;
  CHECK(app.settings().px_per_second > 200);
  const int64_t cursor_t = app.controller().index().times()[app.controller().cursor()];
  CHECK(v.vp.t_top <= cursor_t);
  CHECK(cursor_t <= v.vp.t_top + static_cast<int64_t>(v.vp.height / v.vp.px_per_us));
  size_t arrows = 0, bars = 0;
  for (const SeqItem& it : v.items) {
    arrows += it.type == SeqItemType::arrow;
    bars += it.type == SeqItemType::fold && !it.beside;
  }
  CHECK(arrows >= 6);
  CHECK(arrows > 2 * bars);
  // A zoom the user chose that already reads well is kept.
  app.settings().scale = TimeScale::rows;
  frame(ui, app);
  app.settings().px_per_second = 20000;
  app.settings().scale = TimeScale::proportional;
  frame(ui, app);
  CHECK(app.settings().px_per_second == 20000);
}

TEST_CASE("a scenario's own fault can be switched off and back on; a saved run leaves it out", "[gui][failures]") {
  Controller c;
  REQUIRE(c.open(smtplab::testing::source_dir() + "/scenarios/mx-fallback.json"));
  auto relayed_to = [&] {
    for (const Record& r : c.records())
      if (r.kind == Kind::message_relayed) return std::string(r.attr("mx"));
    return std::string();
  };
  const size_t as_written = c.size();
  CHECK(relayed_to() == "mx2.yahoo.test");
  CHECK(c.scenario_fault_on(0));
  c.apply(cmd::SetScenarioFault{0, false});
  CHECK(c.status() == "the scenario's host-down on mx1.yahoo.test is switched off; the run was recomputed");
  CHECK_FALSE(c.scenario_fault_on(0));
  CHECK(c.disabled_faults() == std::vector<size_t>{0});
  CHECK(relayed_to() == "mx1.yahoo.test");  // what if the primary had been up
  CHECK(c.current().label.find("1 scenario fault(s) switched off") != std::string::npos);
  CHECK(c.records().end() == std::find_if(c.records().begin(), c.records().end(),
                                          [](const Record& r) { return r.kind == Kind::fault_injected; }));
  c.apply(cmd::SetScenarioFault{7, false});  // no such fault: nothing happens
  CHECK(c.disabled_faults() == std::vector<size_t>{0});
  // Saved, the file has no faults left, and it loads.
  const std::string path = (std::filesystem::temp_directory_path() / "smtplab-test-switched-off.json").string();
  c.apply(cmd::SaveScenario{path});
  LoadResult saved = load_scenario_file(path);
  REQUIRE(saved.ok());
  CHECK(saved.scenario->faults.empty());
  std::filesystem::remove(path);
  // Back on: the run as written, record for record.
  c.apply(cmd::SetScenarioFault{0, true});
  CHECK(c.disabled_faults().empty());
  CHECK(c.size() == as_written);
  CHECK(relayed_to() == "mx2.yahoo.test");
  // The Failures panel draws the switch, on and off.
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(smtplab::testing::source_dir() + "/scenarios/mx-fallback.json"));
  app.set_panel_open("failures", true);
  frame(ui, app);
  app.controller().post(cmd::SetScenarioFault{0, false});
  frame(ui, app);
  frame(ui, app);
  CHECK_FALSE(app.controller().scenario_fault_on(0));
  CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
}

TEST_CASE("the run's seed can be changed: the run is the one `smtplab run --seed` gives, and it is saved", "[gui][seeds]") {
  const std::string file = smtplab::testing::source_dir() + "/scenarios/very-lossy-link.json";
  Controller c;
  REQUIRE(c.open(file));
  const uint64_t own = c.scenario().seed;
  CHECK(c.seed() == own);
  CHECK_FALSE(c.seed_overridden());
  auto trace_with = [&](uint64_t seed) {
    RunOptions opt;
    opt.seed = seed;
    return run_scenario(c.scenario(), opt).trace.records();
  };
  auto same = [](const std::vector<Record>& a, const std::vector<Record>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (a[i].kind != b[i].kind || a[i].t != b[i].t || a[i].text != b[i].text) return false;
    return true;
  };
  const std::vector<Record> own_run = c.records();
  c.apply(cmd::Seek{minutes(30).us});
  c.apply(cmd::SetSeed{40});
  CHECK(c.seed() == 40);
  CHECK(c.seed_overridden());
  CHECK(c.status() == "seed 40: the run was recomputed");
  CHECK(c.current().label.find(", seed 40") != std::string::npos);
  CHECK(c.now() == minutes(30).us);  // the cursor keeps its time
  CHECK(same(c.records(), trace_with(40)));
  CHECK_FALSE(same(c.records(), own_run));
  // The scenario's own seed is no override.
  c.apply(cmd::SetSeed{own});
  CHECK_FALSE(c.seed_overridden());
  CHECK(same(c.records(), own_run));
  c.apply(cmd::SetSeed{40});
  // Saved with the seed, and loads back with it.
  const std::string path = (std::filesystem::temp_directory_path() / "smtplab-test-seed.json").string();
  c.apply(cmd::SaveScenario{path});
  LoadResult saved = load_scenario_file(path);
  REQUIRE(saved.ok());
  CHECK(saved.scenario->seed == 40);
  std::filesystem::remove(path);
  // Back to the scenario's own; opening another scenario forgets the seed.
  c.apply(cmd::SetSeed{std::nullopt});
  CHECK(c.seed() == own);
  CHECK(same(c.records(), own_run));
  c.apply(cmd::SetSeed{41});
  REQUIRE(c.open(smtplab::testing::source_dir() + "/scenarios/lossy-link.json"));
  CHECK_FALSE(c.seed_overridden());
  CHECK(c.seed() == c.scenario().seed);
  // The Seeds panel draws the seed, the scenario's own and the way back.
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(file));
  app.set_panel_open("seeds", true);
  app.focus_panel("seeds");
  frame(ui, app);
  app.controller().post(cmd::SetSeed{40});
  frame(ui, app);
  frame(ui, app);
  CHECK(app.controller().seed() == 40);
  CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
}

TEST_CASE("a sweep of the setup on screen: the same as `smtplab sweep`, kept across seeds, dropped on a change", "[gui][seeds]") {
  const std::string file = smtplab::testing::source_dir() + "/scenarios/very-lossy-link.json";
  Controller c;
  REQUIRE(c.open(file));
  CHECK(c.sweep_result() == nullptr);
  c.apply(cmd::Sweep{30});
  // It runs on threads of its own: the controller returns at once.
  CHECK(c.status() == "sweeping seeds 1-30 ...");
  if (const auto run = c.sweep_running()) CHECK(run->total == 30);
  c.wait_sweep();
  CHECK(!c.sweep_running());
  REQUIRE(c.sweep_result() != nullptr);
  CHECK(c.status().rfind("swept seeds 1-30 in ", 0) == 0);
  SweepOptions o;
  o.seeds = {1, 30};
  CHECK(sweep_json(*c.sweep_result()) == sweep_json(sweep(c.scenario(), o)));
  // Watching one of its seeds keeps the sweep: it covers seeds.
  const SweepOutcome& rare = c.sweep_result()->recipients.at(0).outcomes.back();
  c.apply(cmd::SetSeed{rare.seeds.front()});
  REQUIRE(c.sweep_result() != nullptr);
  const std::vector<MessageFate> fates = message_fates(c.records());
  REQUIRE(fates.size() == 1);
  CHECK(fates[0].recipients.at(0).state == rare.state);
  CHECK(fates[0].recipients.at(0).deliveries.size() == rare.deliveries);
  // A fault added changes the setup: the old sweep no longer describes it.
  c.apply(cmd::InjectFault{host_down_from_start("mx.yahoo.test")});
  CHECK(c.sweep_result() == nullptr);
  // ... and a sweep now includes the fault: nothing reaches Alice.
  c.apply(cmd::Sweep{5});
  c.wait_sweep();
  REQUIRE(c.sweep_result() != nullptr);
  for (const SweepOutcome& out : c.sweep_result()->recipients.at(0).outcomes) CHECK(out.state != FateState::delivered);
  // Out-of-range counts are clamped, not refused.
  c.apply(cmd::Sweep{0});
  c.wait_sweep();
  CHECK(c.sweep_result()->runs == 1);
  c.apply(cmd::Sweep{kMaxLabSweep + 1});
  REQUIRE(c.sweep_running());
  CHECK(c.sweep_running()->total == kMaxLabSweep);
  // Cancel stops it; the last finished sweep stays.
  c.apply(cmd::CancelSweep{});
  CHECK(!c.sweep_running());
  CHECK(c.status().rfind("sweep cancelled after ", 0) == 0);
  CHECK(c.status().find(" of 10000 seeds") != std::string::npos);
  REQUIRE(c.sweep_result() != nullptr);
  CHECK(c.sweep_result()->runs == 1);
  // A change of setup drops a sweep still running: it would describe a setup that is gone.
  c.apply(cmd::Sweep{kMaxLabSweep});
  REQUIRE(c.sweep_running());
  c.apply(cmd::RemoveFault{0});
  CHECK(!c.sweep_running());
  CHECK(c.sweep_result() == nullptr);
  // Opening another scenario drops it.
  REQUIRE(c.open(smtplab::testing::source_dir() + "/scenarios/bob-to-alice.json"));
  CHECK(c.sweep_result() == nullptr);
  // The panel draws a sweep, and a click on a seed's button posts SetSeed:
  // here through the controller, as the button does.
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(file));
  app.set_panel_open("seeds", true);
  app.focus_panel("seeds");
  app.controller().post(cmd::Sweep{20});
  frame(ui, app);
  // The panel draws while the sweep runs (a progress bar and Cancel), and
  // a frame takes the summary once it is done.
  frame(ui, app);
  app.controller().wait_sweep();
  frame(ui, app);
  frame(ui, app);
  REQUIRE(app.controller().sweep_result() != nullptr);
  CHECK(ImGui::GetDrawData()->TotalVtxCount > 1000);
  // A sweep left running: a frame polls it, and one that finishes between frames is taken.
  app.controller().post(cmd::Sweep{3});
  frame(ui, app);
  poll_while(app, [&] { return app.controller().sweep_running().has_value(); });
  CHECK(!app.controller().sweep_running());
  REQUIRE(app.controller().sweep_result() != nullptr);
  CHECK(app.controller().sweep_result()->runs == 3);
}

TEST_CASE("a note's label that does not fit right of its dot ends at the dot, whole, when the left has room", "[gui][sequence]") {
  // The rightmost lifelines' notes (a bounce on the last relay) were cut by
  // the panel's edge; they now read right to left from the dot.
  HeadlessImGui ui(1280, 720);
  ui.new_frame();
  ImDrawList* dl = ImGui::GetForegroundDrawList();
  const std::string text = "Q0007: bounce (RFC 3464 DSN) to <bob@gmail.test>";
  float full = 0;
  widgets::fit(text, FLT_MAX, &full);
  REQUIRE(full > 200);
  const ImU32 col = IM_COL32(255, 200, 0, 255);
  const float r = std::max(4.0f, ImGui::GetFontSize() * 0.25f);
  // Draws one note and returns its vertices' x range and count.
  struct Span { float lo = FLT_MAX, hi = -FLT_MAX; int n = 0; };
  auto draw = [&](float x, float right, float left) {
    const int v0 = dl->VtxBuffer.Size;
    widgets::note(dl, x, 300, col, text, right, left);
    Span s;
    for (int i = v0; i < dl->VtxBuffer.Size; ++i) {
      s.lo = std::min(s.lo, dl->VtxBuffer[i].pos.x);
      s.hi = std::max(s.hi, dl->VtxBuffer[i].pos.x);
    }
    s.n = dl->VtxBuffer.Size - v0;
    return s;
  };
  const Span whole = draw(100, 2000, 0);  // room on the right: the usual place
  CHECK(whole.lo >= 100 - r - 1);
  CHECK(whole.hi > 100 + full);
  const Span left = draw(1000, 80, 900);  // 80 px right of the dot, 900 left
  CHECK(left.hi <= 1000 + r + 1);          // nothing right of the dot
  CHECK(left.lo < 1000 - full);
  CHECK(left.n == whole.n);                // the whole text, no "..."
  const Span cut_left = draw(1000, 80, 150);  // more room left, but not enough
  CHECK(cut_left.hi <= 1000 + r + 1);
  CHECK(cut_left.lo >= 1000 - 150 - 3);
  CHECK(cut_left.n < whole.n);
  const Span cut_right = draw(1000, 150, 80);  // more room right: cut there as before
  CHECK(cut_right.lo >= 1000 - r - 1);
  CHECK(cut_right.hi <= 1000 + r + 4 + 150 + 3);
  CHECK(draw(1000, 80, 0).lo >= 1000 - r - 1);  // no room_left given: always right
  ui.end_frame();
}

TEST_CASE("clicking a crowd's \"+N\" selects the first record it counts", "[gui][sequence][mouse]") {
  // The "+N" beside a crowd's arrows used to say only what kinds of record
  // it might count; it now knows them: its tooltip lists them and a click
  // selects the first, so the inspector and the event list show it.
  HeadlessImGui ui(1600, 1000);
  GuiApp app(false);
  REQUIRE(app.controller().open(""));
  app.settings().scale = TimeScale::proportional;
  app.controller().post(cmd::Seek{sec(1).us});
  frame(ui, app);
  app.settings().px_per_second = 400;  // Bob's 20 ms hops 8 px apart: crowds
  frame(ui, app);
  frame(ui, app);
  SequencePanel& seq = sequence_panel(app);
  const SeqItem* plus = nullptr;
  for (const SeqItem& it : seq.view.items)
    if (it.type == SeqItemType::fold && it.beside && it.y > 40 && it.y < 600) {
      plus = &it;
      break;
    }
  REQUIRE(plus);
  REQUIRE(plus->rest != 0);
  const SeqModel& model = seq.view.model;
  const size_t first = model.items()[plus->first_item + static_cast<size_t>(std::countr_zero(plus->rest))];
  const uint64_t want = app.controller().records()[first].seq;
  click(ui, app, ImVec2(seq.view.body_max.x - 6, seq.view.body_min.y + plus->y));
  CHECK(app.controller().selected() == want);
}

TEST_CASE("what if: the settings a class may vary, with values to try", "[gui][values]") {
  const std::string text = smtplab::testing::read_file(smtplab::testing::source_dir() + "/scenarios/lossy-link.json");
  const std::vector<ValueCandidate> cs = value_candidates(text);
  auto find = [&](const std::string& p) -> const ValueCandidate* {
    for (const ValueCandidate& c : cs)
      if (c.pointer == p) return &c;
    return nullptr;
  };
  const ValueCandidate* loss = find("/links/2/loss");
  REQUIRE(loss != nullptr);
  CHECK(loss->current == 0.2);
  CHECK(loss->label == "loss = 0.2 (link edge.gmail.test - internet)");
  CHECK(loss->suggestion == "0, 0.05, 0.1, 0.2, 0.3");
  const ValueCandidate* latency = find("/links/2/latency");
  REQUIRE(latency != nullptr);
  CHECK(latency->suggestion == "10ms, 20ms, 40ms, 80ms, 160ms");
  // A link with no loss of its own offers one; the file's version, seed and texts are not offered.
  const ValueCandidate* none = find("/links/0/loss");
  REQUIRE(none != nullptr);
  CHECK(none->current.is_null());
  CHECK(none->label == "loss, none set (link bob-pc - smtp.gmail.test)");
  CHECK(find("/seed") == nullptr);
  CHECK(find("/smtplab") == nullptr);
  CHECK(find("/messages/0/subject") == nullptr);
  CHECK(find("/hosts/0/name") == nullptr);
  CHECK(find("/links/2/burst/p_good_to_bad") != nullptr);
  CHECK(find("/messages/0/attachments/0/size") != nullptr);
  CHECK(find("/network/bandwidth") != nullptr);
  // Suggestions of each kind.
  CHECK(suggested_values(true, "dot_stuffing") == "false, true");
  CHECK(suggested_values(0.15, "loss") == "0, 0.05, 0.1, 0.15, 0.2, 0.3");
  CHECK(suggested_values(3, "attempts") == "3, 6, 12");
  CHECK(suggested_values(0, "size") == "0, 1, 2, 5");
  CHECK(suggested_values("2.5Mbit", "bandwidth") == "0.625Mbit, 1.25Mbit, 2.5Mbit, 5Mbit, 10Mbit");
  // Keys with "/" or "~" are escaped as RFC 6901 says.
  const std::vector<ValueCandidate> odd = value_candidates(R"({"a/b": {"c~d": 1}})");
  REQUIRE(odd.size() == 2);  // and the network's loss, which it does not set
  CHECK(odd[0].pointer == "/a~1b/c~0d");
  // lossy-link sets the network's loss; a scenario without links or a network block gets it offered.
  CHECK(find("/network/loss")->current == 0);
  const std::vector<ValueCandidate> bare =
      value_candidates(smtplab::testing::read_file(smtplab::testing::source_dir() + "/scenarios/implicit-mx.json"));
  REQUIRE(!bare.empty());
  CHECK(bare.back().pointer == "/network/loss");
  CHECK(bare.back().current.is_null());
  CHECK(bare.back().suggestion == "0, 0.05, 0.1, 0.2, 0.3");
  CHECK(value_candidates("[1, 2]").empty());
  CHECK(value_candidates("not json").empty());
  // In every shipped scenario, every candidate's values read as `--set` reads them and fit the file.
  for (const auto& entry : std::filesystem::directory_iterator(smtplab::testing::source_dir() + "/scenarios")) {
    if (entry.path().extension() != ".json") continue;
    const std::string t = smtplab::testing::read_file(entry.path().string());
    nlohmann::json doc = nlohmann::json::parse(t);
    for (const ValueCandidate& c : value_candidates(t)) {
      INFO(entry.path().filename().string() << " " << c.pointer << " = " << c.suggestion);
      std::string why;
      const std::optional<Setting> s = parse_setting(c.pointer + "=" + c.suggestion, &why);
      REQUIRE(s.has_value());
      nlohmann::json copy = doc;
      CHECK(apply_setting(copy, s->pointer, s->values.front(), &why));
    }
  }
}

TEST_CASE("what if: values compared over seeds, as `smtplab sweep --set` compares them; one watched", "[gui][values]") {
  const std::string file = smtplab::testing::source_dir() + "/scenarios/lossy-link.json";
  Controller c;
  REQUIRE(c.open(file));
  CHECK(c.comparison() == nullptr);
  const std::vector<nlohmann::json> values = {0, 0.3};
  c.apply(cmd::CompareValues{"/links/2/loss", values, 12});
  CHECK(c.status() == "comparing 2 values of /links/2/loss, seeds 1-12 each ...");
  if (const auto run = c.compare_running()) {
    CHECK(run->values == 2);
    CHECK(run->seeds == 12);
  }
  c.wait_compare();
  CHECK(!c.compare_running());
  REQUIRE(c.comparison() != nullptr);
  CHECK(c.status().rfind("compared 2 values of /links/2/loss, seeds 1-12 each, in ", 0) == 0);
  const Controller::Comparison& cmp = *c.comparison();
  REQUIRE(cmp.sweeps.size() == 2);
  // Each value's sweep is the sweep of the file with that value.
  for (size_t k = 0; k < 2; ++k) {
    nlohmann::json doc = nlohmann::json::parse(smtplab::testing::read_file(file));
    doc["links"][2]["loss"] = values[k];
    LoadResult r = load_scenario_text(doc.dump(), "test");
    REQUIRE(r.ok());
    SweepOptions o;
    o.seeds = {1, 12};
    const SweepSummary expect = sweep(*r.scenario, o);
    CHECK(sweep_json(cmp.sweeps[k])["recipients"] == sweep_json(expect)["recipients"]);
    CHECK(cmp.sweeps[k].lost == expect.lost);
  }
  CHECK(SweepSummary::median(cmp.sweeps[0].lost) < SweepSummary::median(cmp.sweeps[1].lost));
  // Watching a value: the run is the file's with that value, the title says so, the comparison stays.
  const std::string own_name = c.scenario().name;
  c.apply(cmd::SetValue{"/links/2/loss", 0.3});
  REQUIRE(c.value().has_value());
  CHECK(c.value()->value == 0.3);
  CHECK(c.scenario().name == own_name + " (/links/2/loss = 0.3)");
  CHECK(c.current().label.find("(/links/2/loss = 0.3)") != std::string::npos);
  CHECK(c.status() == "/links/2/loss = 0.3: the run was recomputed");
  REQUIRE(c.comparison() != nullptr);
  const uint64_t seed = cmp.sweeps[1].recipients.at(0).outcomes.back().seeds.front();
  c.apply(cmd::SetSeed{seed});
  REQUIRE(c.comparison() != nullptr);
  const std::vector<MessageFate> fates = message_fates(c.records());
  REQUIRE(fates.size() == 1);
  CHECK(fates[0].recipients.at(0).state == cmp.sweeps[1].recipients.at(0).outcomes.back().state);
  // A seed sweep of the file's value does not describe this one.
  // Saved, the file has the value.
  const std::string saved = (std::filesystem::temp_directory_path() / "smtplab-gui-test-value.json").string();
  c.apply(cmd::SaveScenario{saved});
  CHECK(nlohmann::json::parse(smtplab::testing::read_file(saved))["links"][2]["loss"] == 0.3);
  std::filesystem::remove(saved);
  // Refused values change nothing and say why, as `--set` would.
  c.apply(cmd::SetValue{"/links/2/loss", 2});
  CHECK(c.status() == "value not set: --set /links/2/loss=2: /links/2/loss: must be between 0 and 1, got 2");
  CHECK(c.value()->value == 0.3);
  c.apply(cmd::SetValue{"/links/9/loss", 0.1});
  CHECK(c.status().rfind("value not set: --set /links/9/loss=0.1: ", 0) == 0);
  CHECK(c.status().find("list of 3 elements") != std::string::npos);
  // A value at another pointer hides the comparison (it did not vary that); the file's value again shows it.
  c.apply(cmd::SetValue{"/links/2/latency", "5ms"});
  CHECK(c.value()->pointer == "/links/2/latency");
  CHECK(c.scenario().name == own_name + " (/links/2/latency = 5ms)");
  CHECK(c.comparison() == nullptr);
  c.apply(cmd::SetValue{"/links/2/latency", std::nullopt});
  CHECK(!c.value());
  CHECK(c.scenario().name == own_name);
  CHECK(c.comparison() != nullptr);
  // A comparison made with a value set elsewhere describes that setup.
  c.apply(cmd::SetValue{"/links/2/latency", "5ms"});
  c.apply(cmd::CompareValues{"/links/2/loss", {0.1}, 3});
  c.wait_compare();
  REQUIRE(c.comparison() != nullptr);
  CHECK(c.comparison()->base->pointer == "/links/2/latency");
  c.apply(cmd::SetValue{"/links/2/latency", std::nullopt});
  CHECK(c.comparison() == nullptr);
  // A fault added changes the setup: the comparison is dropped, and so is one running.
  c.apply(cmd::CompareValues{"/links/2/loss", values, 5});
  c.wait_compare();
  REQUIRE(c.comparison() != nullptr);
  c.apply(cmd::InjectFault{host_down_from_start("mx.yahoo.test")});
  CHECK(c.comparison() == nullptr);
  c.apply(cmd::CompareValues{"/links/2/loss", values, kMaxLabSweep});
  REQUIRE(c.compare_running());
  CHECK(c.compare_running()->seeds == kMaxLabSweep / 2);  // at most kMaxLabSweep runs in all
  c.apply(cmd::RemoveFault{0});
  CHECK(!c.compare_running());
  // Cancel stops one; refused lists change nothing.
  c.apply(cmd::CompareValues{"/links/2/loss", values, kMaxLabSweep});
  c.apply(cmd::CancelCompare{});
  CHECK(!c.compare_running());
  CHECK(c.status() == "comparison cancelled at value 1 of 2");
  c.apply(cmd::CompareValues{"/links/2/loss", {0.1, -1}, 5});
  CHECK(c.status() == "not compared: --set /links/2/loss=-1: /links/2/loss: must be between 0 and 1, got -1");
  CHECK(c.compare_error() == c.status());  // the tab shows it beside its inputs
  CHECK(!c.compare_running());
  c.apply(cmd::CompareValues{"/links/2/loss", {}, 5});
  CHECK(c.status() == "not compared: give 1 to 100 values");
  c.apply(cmd::CompareValues{"/links/2/loss", {0.1}, 1});
  CHECK(c.compare_error().empty());
  c.apply(cmd::CancelCompare{});
  // A value that changes who is sent to: each recipient of any value is listed once, in order.
  c.apply(cmd::CompareValues{"/messages/0/to", {"alice@yahoo.test", "nobody@yahoo.test"}, 2});
  c.wait_compare();
  REQUIRE(c.comparison() != nullptr);
  const auto keys = compared_recipients(c.comparison()->sweeps);
  REQUIRE(keys.size() == 2);
  CHECK(keys[0].second == "alice@yahoo.test");
  CHECK(keys[1].second == "nobody@yahoo.test");
  CHECK(c.comparison()->sweeps[1].recipients.at(0).outcomes.at(0).state == FateState::bounced);
  // Opening a scenario forgets the value.
  c.apply(cmd::SetValue{"/links/2/loss", 0.1});
  REQUIRE(c.open(file));
  CHECK(!c.value());
}

TEST_CASE("what if: a value set in the lab stays when the file changes on disk, unless it no longer fits", "[gui][values]") {
  namespace fs = std::filesystem;
  const std::string path = (fs::temp_directory_path() / "smtplab-gui-test-value-reload.json").string();
  const std::string original = smtplab::testing::read_file(smtplab::testing::source_dir() + "/scenarios/lossy-link.json");
  auto write = [&](const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  };
  write(original);
  Controller c;
  REQUIRE(c.open(path));
  c.apply(cmd::SetValue{"/links/2/loss", 0.05});
  nlohmann::json doc = nlohmann::json::parse(original);
  doc["duration"] = "40min";
  write(doc.dump(2));
  c.apply(cmd::Reload{});
  CHECK(c.value().has_value());
  CHECK(c.scenario().links.at(2).loss == Approx(0.05));
  CHECK(c.scenario().duration.us == 40LL * 60 * 1000000);
  doc["links"].erase(2);
  write(doc.dump(2));
  c.apply(cmd::Reload{});
  CHECK(!c.value());
  CHECK(c.status().find("/links/2/loss = 0.05 no longer fits") != std::string::npos);
  fs::remove(path);
}

TEST_CASE("what if: the tab draws its controls, a comparison running and one done", "[gui][values]") {
  HeadlessImGui ui(1280, 720);
  GuiApp app(false);
  REQUIRE(app.controller().open(smtplab::testing::source_dir() + "/scenarios/lossy-link.json"));
  app.set_panel_open("values", true);
  app.focus_panel("values");
  frame(ui, app);
  frame(ui, app);
  app.controller().post(cmd::CompareValues{"/links/2/loss", {0, 0.2, 0.4}, 20});
  frame(ui, app);
  frame(ui, app);
  app.controller().wait_compare();
  frame(ui, app);
  frame(ui, app);
  REQUIRE(app.controller().comparison() != nullptr);
  const int three = ImGui::GetDrawData()->TotalVtxCount;
  // A comparison that finishes between frames is taken by the next one.
  app.controller().post(cmd::CompareValues{"/links/2/loss", {0.1}, 2});
  frame(ui, app);
  poll_while(app, [&] { return app.controller().compare_running().has_value(); });
  CHECK(!app.controller().compare_running());
  REQUIRE(app.controller().comparison() != nullptr);
  CHECK(app.controller().comparison()->values.size() == 1);
  frame(ui, app);
  frame(ui, app);
  CHECK(ImGui::GetDrawData()->TotalVtxCount + 80 < three);  // two bars fewer, with their labels
}
