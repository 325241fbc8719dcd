// sim/bridge/endpoint.hpp: "HOST:PORT" text <-> a socket endpoint, and the
// loopback test that keeps `smtplab serve` unreachable from other machines
// unless the user asks for it.
//
// Pure functions, no sockets: the command line and the unit tests use them.
// Accepted forms: "127.0.0.1:2525", "[::1]:2525", "localhost:2525" (means
// 127.0.0.1), ":2525" (means 127.0.0.1), "2525" (means 127.0.0.1).
// Host names other than "localhost" are refused: a bridge must never depend
// on a real DNS lookup to decide where it listens or relays.
// Invariants: a parsed endpoint has a numeric IPv4/IPv6 address and a port in
// 1..65535 (0 is allowed only where `allow_port_zero`, for "pick a free port").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtplab::bridge {

struct Endpoint {
  std::string address;  // numeric: "127.0.0.1" or "::1"
  uint16_t port = 0;
  bool v6 = false;

  // "127.0.0.1:2525" or "[::1]:2525"
  std::string to_string() const;
};

// Parses an endpoint; on failure returns nullopt and says why in `error`.
std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* error, bool allow_port_zero = false);

// True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z).
bool is_loopback(const Endpoint& e);

// Numeric address syntax checks (no resolver involved).
bool is_ipv4_literal(std::string_view s);
bool is_ipv6_literal(std::string_view s);

}  // namespace smtplab::bridge
