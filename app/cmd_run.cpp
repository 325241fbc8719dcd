// app/cmd_run.cpp: `smtplab run SCENARIO`: a headless run that writes the trace.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/commands.hpp"
#include "sim/pcap/pcap_file.hpp"
#include "sim/agents/mail_server.hpp"
#include "sim/agents/world.hpp"
#include "sim/mail/export.hpp"
#include "sim/scenario/run.hpp"
#include "sim/trace/writers.hpp"

namespace smtplab::app {

namespace {

struct RunArgs {
  std::string scenario;
  std::optional<uint64_t> seed;
  std::string until;
  std::string format = "transcript";
  std::string out;
  std::string layers;
  bool causes = false;
  std::string maildir;  // every mailbox as DIR/<address>/{tmp,new,cur}
  std::string mbox;     // every mailbox as DIR/<address>.mbox
  std::string eml;      // every stored message as DIR/<address>/<uid>.eml
  std::string pcap;       // the segments and datagrams as a pcap file
  std::string pcap_host;  // ... as this host's interface sees them
  std::vector<std::string> faults;  // --fault JSON, added to the scenario's
  std::vector<std::string> sets;    // --set POINTER=VALUE, a value of the scenario changed
};

// Writes the mailboxes of every simulated server at the end of the run.
// Returns "" or the first error.
std::string export_mailboxes(World& world, const RunArgs& a) {
  namespace fs = std::filesystem;
  for (const auto& server : world.mail_servers())
    for (const auto& [address, box] : server->mailboxes()) {
      if (!a.maildir.empty()) {
        std::string why = mail::write_maildir(a.maildir, box);
        if (!why.empty()) return why;
      }
      if (!a.mbox.empty()) {
        std::error_code ec;
        fs::create_directories(a.mbox, ec);
        if (ec) return "cannot create " + a.mbox + ": " + ec.message();
        std::string why = mail::write_mbox((fs::path(a.mbox) / (mail::safe_name(address) + ".mbox")).string(), box);
        if (!why.empty()) return why;
      }
      if (!a.eml.empty()) {
        const fs::path dir = fs::path(a.eml) / mail::safe_name(address);
        std::error_code ec;
        fs::create_directories(dir, ec);
        if (ec) return "cannot create " + dir.string() + ": " + ec.message();
        for (const mail::StoredMessage& m : box.messages()) {
          std::string why = mail::write_eml((dir / (std::to_string(m.uid) + ".eml")).string(), m);
          if (!why.empty()) return why;
        }
      }
    }
  return {};
}

// The run's packets as a pcap file (sim/capture/packets.hpp).
int write_capture(const Trace& trace, const RunArgs& a, std::ostream& err) {
  const Capture c = capture_packets(trace.records(), CaptureOptions{a.pcap_host});
  std::string why;
  if (!write_pcap(a.pcap, c.packets, why)) {
    err << "smtplab run: --pcap: " << why << '\n';
    return kExitFailed;
  }
  err << "smtplab run: " << c.packets.size() << " packets in " << (a.pcap == "-" ? std::string("stdout") : a.pcap) << " ("
      << (a.pcap_host.empty() ? std::string("each as its sender sent it") : "as " + a.pcap_host + "'s interface saw them")
      << ")\n";
  if (c.skipped) err << "smtplab run: " << c.skipped << " records left out of the capture; the first: " << c.first_problem << '\n';
  return kExitOk;
}

int do_run(const RunArgs& a, std::ostream& out, std::ostream& err) {
  RunOptions opt;
  opt.seed = a.seed;
  if (!read_until(a.until, "smtplab run", opt.until, err)) return kExitUsage;
  TranscriptOptions topt;
  topt.show_cause = a.causes;
  if (!a.layers.empty()) {
    std::string why;
    auto mask = parse_layer_mask(a.layers, &why);
    if (!mask) {
      err << "smtplab run: --layers: " << why << '\n';
      return kExitUsage;
    }
    topt.layer_mask = *mask;
  }
  if (a.pcap == "-" && a.out.empty()) {
    err << "smtplab run: --pcap - writes the capture to stdout, where the trace goes too; send the trace elsewhere "
           "with --out (e.g. --out /dev/null)\n";
    return kExitUsage;
  }
  std::vector<Setting> sets;
  if (!read_settings(a.sets, "smtplab run", /*lists=*/0, sets, err)) return kExitUsage;
  auto sc = load_or_report(a.scenario, err, a.faults, sets);
  if (!sc) return kExitUsage;
  if (!a.pcap_host.empty()) {
    std::string names;
    bool known = false, router = false;
    for (const Host& h : sc->hosts) {
      if (h.role == HostRole::router) {
        router = router || h.name == a.pcap_host;
        continue;
      }
      known = known || h.name == a.pcap_host;
      names += (names.empty() ? "" : ", ") + h.name;
    }
    if (a.pcap.empty()) {
      err << "smtplab run: --pcap-host goes with --pcap (where the capture is taken)\n";
      return kExitUsage;
    }
    if (router) {
      err << "smtplab run: --pcap-host " << a.pcap_host
          << ": a router forwards packets, but the trace records each packet at its two ends, not at the routers "
             "between; capture at an end host (" << names << ") or, without --pcap-host, at every sender\n";
      return kExitUsage;
    }
    if (!known) {
      err << "smtplab run: --pcap-host " << a.pcap_host << ": no such host in the scenario; hosts: " << names << '\n';
      return kExitUsage;
    }
  }
  std::string export_error;
  if (!a.maildir.empty() || !a.mbox.empty() || !a.eml.empty())
    opt.at_end = [&](World& w) { export_error = export_mailboxes(w, a); };
  RunResult result = run_scenario(*sc, opt);
  if (!export_error.empty()) {
    err << "smtplab run: " << export_error << '\n';
    return kExitFailed;
  }
  std::ofstream file;
  std::ostream* dest = &out;
  if (!a.out.empty()) {
    file.open(a.out, std::ios::binary | std::ios::trunc);
    if (!file) {
      err << "smtplab run: cannot write " << a.out << '\n';
      return kExitFailed;
    }
    dest = &file;
  }
  if (a.format == "jsonl")
    write_jsonl(*dest, result.trace);
  else
    write_story(*dest, result.trace, topt);
  dest->flush();
  if (!*dest) {
    err << "smtplab run: writing the trace failed\n";
    return kExitFailed;
  }
  if (!a.pcap.empty()) return write_capture(result.trace, a, err);
  return kExitOk;
}

}  // namespace

void register_run(CLI::App& app, Outcome& outcome) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand("run", "Run a scenario headless and write its trace (stdout by default)");
  sub->add_option("scenario", args->scenario, "Scenario JSON file (default: the built-in bob-to-alice)");
  sub->add_option("--seed", args->seed, "Random seed (overrides the scenario's)");
  sub->add_option("--until", args->until, "Simulated time to stop at, e.g. 90s, 30min, 5d (overrides the duration)");
  sub->add_option("--format", args->format, "transcript (swaks-style, default) or jsonl (one record per line)")
      ->check(CLI::IsMember({"transcript", "jsonl"}));
  sub->add_option("--out", args->out, "Write the trace to this file instead of stdout");
  sub->add_option("--layers", args->layers,
                  "Transcript layers, comma-separated: engine,net,tcp,dns,smtp,pop3,imap,mail,fault or all "
                  "(default: all but tcp and net)");
  sub->add_option("--maildir", args->maildir,
                  "At the end, write every mailbox as a Maildir: DIR/<address>/{tmp,new,cur}");
  sub->add_option("--mbox", args->mbox, "At the end, write every mailbox as DIR/<address>.mbox (mboxrd)");
  sub->add_option("--eml", args->eml, "At the end, write every stored message as DIR/<address>/<uid>.eml");
  sub->add_flag("--causes", args->causes, "Transcript: show each record's number and its cause");
  sub->add_option("--fault", args->faults,
                  "Add a fault, a JSON object in the scenario format (repeatable), e.g. "
                  "'{\"type\": \"host-down\", \"at\": \"30s\", \"host\": \"mx.yahoo.test\"}'")
      ->allow_extra_args(false);
  sub->add_option("--set", args->sets,
                  "Change one value of the scenario, POINTER=VALUE with a JSON pointer into the file (repeatable), "
                  "e.g. /links/0/loss=0.3 or /duration=2h")
      ->allow_extra_args(false);
  sub->add_option("--pcap", args->pcap,
                  "Also write the run's TCP segments and UDP datagrams (DNS) as a pcap file for Wireshark or tcpdump "
                  "(- : to stdout, with the trace sent elsewhere by --out)");
  sub->add_option("--pcap-host", args->pcap_host,
                  "With --pcap: capture on this host's interface (what it sends and receives) instead of at every sender");
  sub->callback([args, &outcome] { outcome.code = do_run(*args, std::cout, std::cerr); });
}

}  // namespace smtplab::app
