// sim/bridge/serve_args.cpp: checks for `smtplab serve` options.
#include "sim/bridge/serve_args.hpp"

#include <cctype>
#include <cstdlib>

namespace smtplab::bridge {

std::optional<SimTime> parse_seconds_arg(std::string_view text, std::string* error) {
  if (text.empty()) {
    if (error) *error = "empty value (expected seconds, e.g. 30 or 2min)";
    return std::nullopt;
  }
  bool plain = true;
  int dots = 0;
  for (char c : text) {
    if (c == '.')
      ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c)))
      plain = false;
  }
  std::optional<SimTime> t;
  if (plain && dots <= 1 && text != ".") {
    if (text.size() > 12) {
      if (error) *error = "\"" + std::string(text) + "\" is too large";
      return std::nullopt;
    }
    t = from_seconds(std::strtod(std::string(text).c_str(), nullptr));
  } else {
    std::string why;
    t = parse_duration(text, &why);
    if (!t) {
      if (error) *error = "\"" + std::string(text) + "\": " + (why.empty() ? "not a duration" : why) +
                          " (expected seconds, e.g. 30, or a duration such as 90s or 2min)";
      return std::nullopt;
    }
  }
  if (t->us <= 0) {
    if (error) *error = "\"" + std::string(text) + "\" must be more than 0";
    return std::nullopt;
  }
  return t;
}

std::string non_loopback_warning(const Endpoint& e) {
  return "WARNING: listening on " + e.to_string() +
         ", which is NOT a loopback address: other machines can reach this simulated mail server. "
         "It never relays outside the scenario's domains, but use 127.0.0.1 unless you mean it.";
}

std::optional<ParsedServeArgs> parse_serve_args(const ServeArgs& a, std::string* error) {
  ParsedServeArgs p;
  ServeOptions& o = p.options;
  std::string why;
  auto listen = parse_endpoint(a.listen, &why, /*allow_port_zero=*/true);
  if (!listen) {
    if (error) *error = "--listen " + a.listen + ": " + why;
    return std::nullopt;
  }
  o.listen = *listen;
  p.non_loopback = !is_loopback(o.listen);
  o.host = a.host;
  o.catch_all = a.catch_all;
  o.maildir = a.maildir;
  o.maildir_sync = !a.no_fsync;
  o.quiet = a.quiet;
  o.jsonl = a.jsonl;
  o.all_layers = a.all_layers;
  if (!a.idle_timeout.empty()) {
    auto t = parse_seconds_arg(a.idle_timeout, &why);
    if (!t) {
      if (error) *error = "--idle-timeout " + why;
      return std::nullopt;
    }
    if (t->us < 1000000 || *t > minutes(60)) {
      if (error) *error = "--idle-timeout " + a.idle_timeout + ": must be from 1 second to 3600 seconds";
      return std::nullopt;
    }
    o.idle_timeout = t;
  }
  if (!a.duration.empty()) {
    auto t = parse_seconds_arg(a.duration, &why);
    if (!t) {
      if (error) *error = "--duration " + why;
      return std::nullopt;
    }
    if (*t > days(7)) {
      if (error) *error = "--duration " + a.duration + ": at most 7 days";
      return std::nullopt;
    }
    o.duration_seconds = t->seconds();
  }
  if (!a.relay_to.empty()) {
    auto r = parse_endpoint(a.relay_to, &why);
    if (!r) {
      if (error) *error = "--relay-to " + a.relay_to + ": " + why;
      return std::nullopt;
    }
    o.relay_to = r;
  }
  if (!a.max_connections.empty()) {
    const std::string& m = a.max_connections;
    bool digits = m.size() <= 6;
    for (char c : m) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    const long v = digits ? std::strtol(m.c_str(), nullptr, 10) : -1;
    if (v < 1 || v > 100000) {
      if (error) *error = "--max-connections " + m + ": must be a number from 1 to 100000";
      return std::nullopt;
    }
    o.max_connections = static_cast<size_t>(v);
  }
  return p;
}

}  // namespace smtplab::bridge
