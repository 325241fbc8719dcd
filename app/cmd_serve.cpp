// app/cmd_serve.cpp: `smtplab serve`: a simulated mail server on a real TCP
// port (see sim/bridge/serve.hpp and docs/serve.md).
//
// Only wiring lives here: CLI11 options -> bridge::ServeArgs ->
// parse_serve_args / check_serve_options (unit-tested) -> bridge::Server.
// Exit codes: 0 clean shutdown, 1 the server failed while running, 2 bad
// usage (unparsable --listen, unknown --host, port in use, ...), each with
// one line on stderr.
#include <iostream>

#include "app/commands.hpp"
#include "sim/bridge/serve.hpp"
#include "sim/bridge/serve_args.hpp"

namespace smtplab::app {

namespace {

int do_serve(const bridge::ServeArgs& a, const std::string& scenario_path, std::ostream& out, std::ostream& err) {
  std::string why;
  auto parsed = bridge::parse_serve_args(a, &why);
  if (!parsed) {
    err << "smtplab serve: " << why << '\n';
    return kExitUsage;
  }
  auto sc = load_or_report(scenario_path, err);
  if (!sc) return kExitUsage;
  why = bridge::check_serve_options(*sc, parsed->options);
  if (!why.empty()) {
    err << "smtplab serve: " << why << '\n';
    return kExitUsage;
  }
  if (parsed->non_loopback) err << "smtplab serve: " << bridge::non_loopback_warning(parsed->options.listen) << '\n';
  bridge::Server server(*sc, parsed->options, out, err);
  if (!server.bind(&why)) {
    err << "smtplab serve: " << why << '\n';
    return kExitUsage;
  }
  err << "smtplab serve: " << parsed->options.host << " listening on " << server.local_endpoint().to_string()
      << std::endl;
  return server.run();
}

}  // namespace

void register_serve(CLI::App& app, Outcome& outcome) {
  auto args = std::make_shared<bridge::ServeArgs>();
  auto scenario = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "serve", "Run a scenario in real time with one simulated mail server on a real TCP port (telnet, swaks, smtplib)");
  sub->add_option("--listen", args->listen,
                  "Address to listen on, HOST:PORT (default 127.0.0.1:2525; port 0 picks a free one; "
                  "non-loopback addresses get a warning)");
  sub->add_option("--scenario", *scenario, "Scenario JSON file (default: the built-in bob-to-alice)");
  sub->add_option("--host", args->host,
                  "Which mail server of the scenario to serve (default: the receiving server, mx.yahoo.test)");
  sub->add_flag("--catch-all", args->catch_all, "Accept any local part of the server's domains");
  sub->add_option("--maildir", args->maildir, "Write each delivered message as a Maildir file DIR/<address>/new/...");
  sub->add_flag("--no-fsync", args->no_fsync, "Do not fsync Maildir files (faster, less durable; for benchmarks)");
  sub->add_option("--idle-timeout", args->idle_timeout,
                  "Close idle sessions with 421 after this many seconds (default: RFC 5321's 300)");
  sub->add_option("--relay-to", args->relay_to,
                  "Deliver mail for the scenario's other domains to this real SMTP server, HOST:PORT");
  sub->add_option("--max-connections", args->max_connections,
                  "Concurrent sessions; more get 421 and are closed (default 1000)");
  sub->add_option("--duration", args->duration, "Shut down by itself after this many seconds (default: never)");
  sub->add_flag("--quiet", args->quiet, "Do not print the live transcript");
  sub->add_option("--jsonl", args->jsonl, "Also write the trace as JSON Lines to this file");
  sub->add_flag("--all-layers", args->all_layers, "Transcript: show every layer (tcp connects and closes too)");
  sub->callback([args, scenario, &outcome] { outcome.code = do_serve(*args, *scenario, std::cout, std::cerr); });
}

}  // namespace smtplab::app
