// sim/bridge/serve_args.hpp: the command-line text of `smtplab serve` turned
// into checked ServeOptions.
//
// Kept apart from the CLI11 wiring (app/cmd_serve.cpp) so the unit tests can
// reach every rule: each bad value yields one specific line for stderr and
// exit code 2, never a half-configured server.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sim/bridge/serve.hpp"

namespace smtplab::bridge {

// Flags and values as typed (empty string = option not given).
struct ServeArgs {
  std::string listen = "127.0.0.1:2525";
  std::string host;
  bool catch_all = false;
  std::string maildir;
  bool no_fsync = false;
  std::string idle_timeout;  // "30", "30s", "2min"
  std::string relay_to;
  std::string max_connections;  // "" = default
  std::string duration;         // seconds, as idle_timeout
  bool quiet = false;
  std::string jsonl;
  bool all_layers = false;
};

struct ParsedServeArgs {
  ServeOptions options;
  bool non_loopback = false;  // the caller must warn loudly
};

// Parses everything that does not need the scenario. nullopt + `error`
// ("--listen 1.2.3: ...") on the first bad value.
std::optional<ParsedServeArgs> parse_serve_args(const ServeArgs& args, std::string* error);

// "30" (seconds), "1.5", "30s", "2min" -> a positive duration; nullopt + why.
std::optional<SimTime> parse_seconds_arg(std::string_view text, std::string* error);

// The warning printed when the listener is reachable from other machines.
std::string non_loopback_warning(const Endpoint& e);

}  // namespace smtplab::bridge
