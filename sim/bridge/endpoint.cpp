// sim/bridge/endpoint.cpp: endpoint parsing without a resolver.
#include "sim/bridge/endpoint.hpp"

#include <arpa/inet.h>

#include <cctype>

namespace smtplab::bridge {

namespace {

std::optional<uint16_t> parse_port(std::string_view s, std::string* error, bool allow_zero) {
  if (s.empty()) {
    if (error) *error = "missing port number";
    return std::nullopt;
  }
  if (s.size() > 5) {
    if (error) *error = "port \"" + std::string(s) + "\" is not a number from 1 to 65535";
    return std::nullopt;
  }
  uint32_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      if (error) *error = "port \"" + std::string(s) + "\" is not a number from 1 to 65535";
      return std::nullopt;
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535 || (v == 0 && !allow_zero)) {
    if (error) *error = "port " + std::string(s) + " is out of range (1 to 65535)";
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

}  // namespace

std::string Endpoint::to_string() const {
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

bool is_ipv4_literal(std::string_view s) {
  if (s.empty() || s.size() > 15) return false;
  in_addr a{};
  return inet_pton(AF_INET, std::string(s).c_str(), &a) == 1;
}

bool is_ipv6_literal(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  in6_addr a{};
  return inet_pton(AF_INET6, std::string(s).c_str(), &a) == 1;
}

std::optional<Endpoint> parse_endpoint(std::string_view text, std::string* error, bool allow_port_zero) {
  Endpoint e;
  std::string_view host;
  std::string_view port;
  if (text.empty()) {
    if (error) *error = "empty address (expected HOST:PORT, e.g. 127.0.0.1:2525)";
    return std::nullopt;
  }
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      if (error) *error = "\"" + std::string(text) + "\": missing ']' after the IPv6 address";
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      if (error) *error = "\"" + std::string(text) + "\": expected [ADDRESS]:PORT";
      return std::nullopt;
    }
    port = rest.substr(1);
    if (!is_ipv6_literal(host)) {
      if (error) *error = "\"" + std::string(host) + "\" is not an IPv6 address";
      return std::nullopt;
    }
    e.v6 = true;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      if (text.find_first_not_of("0123456789") != std::string_view::npos) {
        if (error) *error = "\"" + std::string(text) + "\": expected HOST:PORT, e.g. 127.0.0.1:2525";
        return std::nullopt;
      }
      host = "";
      port = text;
    } else {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (host.find(':') != std::string_view::npos) {
        if (error) *error = "\"" + std::string(text) + "\": write an IPv6 address in brackets, e.g. [::1]:2525";
        return std::nullopt;
      }
    }
    if (host.empty() || host == "localhost") {
      host = "127.0.0.1";
    } else if (!is_ipv4_literal(host)) {
      if (error)
        *error = "\"" + std::string(host) + "\" is not a numeric IP address (use 127.0.0.1, [::1] or localhost)";
      return std::nullopt;
    }
  }
  auto p = parse_port(port, error, allow_port_zero);
  if (!p) return std::nullopt;
  e.address = std::string(host);
  e.port = *p;
  return e;
}

bool is_loopback(const Endpoint& e) {
  if (!e.v6) {
    in_addr a{};
    if (inet_pton(AF_INET, e.address.c_str(), &a) != 1) return false;
    return (ntohl(a.s_addr) >> 24) == 127;
  }
  in6_addr a{};
  if (inet_pton(AF_INET6, e.address.c_str(), &a) != 1) return false;
  static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  bool loop = true;
  for (int i = 0; i < 16; ++i) loop = loop && a.s6_addr[i] == kLoop[i];
  if (loop) return true;
  // ::ffff:127.x.y.z, an IPv4-mapped loopback address.
  bool mapped = true;
  for (int i = 0; i < 10; ++i) mapped = mapped && a.s6_addr[i] == 0;
  return mapped && a.s6_addr[10] == 0xff && a.s6_addr[11] == 0xff && a.s6_addr[12] == 127;
}

}  // namespace smtplab::bridge
