// tests/test_smtp_harness.hpp: helpers shared by the SMTP tests (no engine).
//
// A ServerDialogue feeds a ServerSession bytes and returns the reply codes it
// sent; wire_pair() runs a ClientSession against a ServerSession in memory,
// delivering every byte immediately (optionally one byte at a time).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/smtp/client.hpp"
#include "sim/smtp/reply.hpp"
#include "sim/smtp/server.hpp"

namespace smtptest {

using namespace smtplab;
using namespace smtplab::smtp;

inline ServerConfig test_config() {
  ServerConfig c;
  c.hostname = "mx.yahoo.test";
  c.starttls = true;
  c.auth = true;
  return c;
}

inline BasicPolicy test_policy() {
  BasicPolicy p;
  p.domains = {"yahoo.test"};
  p.mailboxes = {"alice@yahoo.test", "carol@yahoo.test"};
  p.users = {{"alice", "secret"}};
  return p;
}

// Splits wire bytes into replies (asserting they parse).
inline std::vector<Reply> parse_all(std::string_view wire, std::string* error = nullptr) {
  ReplyParser p;
  p.feed(wire);
  std::vector<Reply> out;
  Reply r;
  std::string err;
  while (p.next(r, err) == ReplyParser::Status::reply) out.push_back(r);
  if (error) *error = err;
  return out;
}

struct ServerDialogue {
  ServerConfig cfg = test_config();
  BasicPolicy policy = test_policy();
  ServerSession s;
  SimTime now{0};
  std::vector<Record> records;

  explicit ServerDialogue(ServerConfig c = test_config(), SessionInfo info = {"mx.yahoo.test", "smtp.gmail.test", "192.0.2.1", 1, false})
      : cfg(std::move(c)), s(cfg, policy, std::move(info)) {}

  std::string take() {
    std::string b = s.output().bytes;
    for (Record& r : s.output().records) records.push_back(r);
    s.output().clear();
    return b;
  }
  std::string start() {
    s.start(now);
    return take();
  }
  // Sends bytes (CRLF must be included by the caller); returns what came back.
  std::string send_raw(std::string_view bytes) {
    s.receive(now, bytes);
    return take();
  }
  std::string send_bytewise(std::string_view bytes) {
    std::string out;
    for (char c : bytes) {
      s.receive(now, std::string_view(&c, 1));
      out += take();
    }
    return out;
  }
  // One command line; returns the reply codes (usually one).
  std::vector<int> cmd(std::string_view line) {
    std::string out = send_raw(std::string(line) + "\r\n");
    std::vector<int> codes;
    for (const Reply& r : parse_all(out)) codes.push_back(r.code);
    return codes;
  }
  int code(std::string_view line) {
    auto c = cmd(line);
    return c.size() == 1 ? c[0] : (c.empty() ? -1 : -c.size());
  }
  Reply reply(std::string_view line) {
    auto rs = parse_all(send_raw(std::string(line) + "\r\n"));
    return rs.empty() ? Reply{} : rs.back();
  }
};

}  // namespace smtptest
