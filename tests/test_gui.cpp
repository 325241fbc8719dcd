// tests/test_gui.cpp: the GUI's logic, headless (no window, no OpenGL).
//
// Panels and view-models run in a bare ImGui context (gui/headless.hpp); the
// controller runs real scenarios. What a teacher relies on: the diagram shows
// the SMTP dialogue in order, stepping back moves cursor and selection
// together, injecting a fault keeps everything before the cursor identical.
#include <catch2/catch.hpp>
#include <imgui.h>

#include <filesystem>
#include <set>
#include <fstream>

#include "gui/controller.hpp"
#include "gui/explain.hpp"
#include "gui/gui_app.hpp"
#include "gui/headless.hpp"
#include "gui/panel_events.hpp"
#include "gui/panel_sequence.hpp"
#include "gui/scenario_writer.hpp"
#include "gui/sequence_model.hpp"
#include "gui/synthetic.hpp"
#include "gui/view_settings.hpp"
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
