// gui/explain.cpp: tables of explanations (RFC 5321, RFC 3463).
#include "gui/explain.hpp"

#include <cctype>
#include <cstdio>

#include "gui/trace_index.hpp"

namespace smtplab::gui {

std::string explain_reply_code(int code) {
  // RFC 5321 4.2.2 and 4.2.3 (the codes in numeric order), plus 530/535/454 (RFC 4954), 220 TLS (RFC 3207).
  switch (code) {
    case 211: return "System status, or system help reply";
    case 214: return "Help message for a human reader";
    case 220: return "Service ready: the server greets the client (or is ready to start TLS)";
    case 221: return "Service closing the transmission channel: goodbye";
    case 235: return "Authentication succeeded (RFC 4954)";
    case 250: return "Requested mail action okay, completed";
    case 251: return "User not local; the server will forward the message";
    case 252: return "Cannot verify the user, but will accept the message and attempt delivery";
    case 334: return "Continue the authentication exchange (RFC 4954)";
    case 354: return "Start mail input; end the data with <CRLF>.<CRLF>";
    case 421: return "Service not available, closing the channel: try again later";
    case 450: return "Mailbox unavailable right now (busy, or blocked for policy): try again later";
    case 451: return "Local error in processing (or greylisting): try again later";
    case 452: return "Insufficient system storage, or too many recipients: try again later";
    case 454: return "Temporary authentication or TLS failure";
    case 455: return "Server unable to accommodate parameters now";
    case 500: return "Syntax error, command unrecognized (or line too long)";
    case 501: return "Syntax error in parameters or arguments";
    case 502: return "Command not implemented";
    case 503: return "Bad sequence of commands (e.g. RCPT before MAIL)";
    case 504: return "Command parameter not implemented";
    case 530: return "Authentication required (RFC 4954)";
    case 535: return "Authentication credentials invalid (RFC 4954)";
    case 550: return "Mailbox unavailable: no such user, or refused for policy. Do not retry";
    case 551: return "User not local; the client should try another path";
    case 552: return "Exceeded storage allocation: mailbox full or message too big";
    case 553: return "Mailbox name not allowed (bad address syntax)";
    case 554: return "Transaction failed (or, as a greeting: no SMTP service here)";
    case 555: return "MAIL FROM/RCPT TO parameters not recognized or not implemented";
    default: return "";
  }
}

std::string explain_reply_class(int code) {
  switch (code / 100) {
    case 2: return "2xx: positive completion. The action succeeded.";
    case 3: return "3xx: positive intermediate. Send the next part (e.g. the message after DATA).";
    case 4: return "4xx: transient negative. Nothing happened; the client keeps the message and retries later.";
    case 5: return "5xx: permanent negative. Do not retry this; a relay must send a bounce (DSN) to the sender.";
    default: return "";
  }
}

std::string find_enhanced(std::string_view text) {
  // "250-2.1.0 ..." or "550 5.1.1 ...": after the code and separator.
  if (text.size() < 9) return "";
  std::string_view rest = text.substr(4);
  size_t end = rest.find(' ');
  std::string_view cand = rest.substr(0, end);
  int dots = 0;
  for (char c : cand) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) return "";
  }
  if (dots != 2 || cand.empty() || (cand[0] != '2' && cand[0] != '4' && cand[0] != '5')) return "";
  return std::string(cand);
}

std::string explain_enhanced(std::string_view status) {
  int cls = 0, subject = 0, detail = 0;
  if (std::sscanf(std::string(status).c_str(), "%d.%d.%d", &cls, &subject, &detail) != 3) return "";
  std::string out = cls == 2 ? "success" : cls == 4 ? "persistent transient failure" : cls == 5 ? "permanent failure" : "";
  if (out.empty()) return "";
  // RFC 3463 section 3 (subjects) and its common details.
  const char* subjects[] = {"other or undefined status", "addressing status", "mailbox status", "mail system status",
                            "network and routing status", "mail delivery protocol status", "message content or media status",
                            "security or policy status"};
  if (subject >= 0 && subject <= 7) out += std::string(": ") + subjects[subject];
  struct D { int s, d; const char* text; };
  static const D kDetails[] = {
      {0, 0, "other undefined status"},          {1, 0, "other address status"},
      {1, 1, "bad destination mailbox address"}, {1, 2, "bad destination system address"},
      {1, 3, "bad destination mailbox address syntax"}, {1, 5, "destination address valid"},
      {1, 6, "destination mailbox has moved"},   {1, 8, "bad sender's system address"},
      {2, 0, "other or undefined mailbox status"}, {2, 1, "mailbox disabled, not accepting messages"},
      {2, 2, "mailbox full"},                    {2, 3, "message length exceeds administrative limit"},
      {3, 0, "other or undefined mail system status"}, {3, 1, "mail system full"},
      {3, 4, "message too big for system"},      {4, 1, "no answer from host"},
      {4, 2, "bad connection"},                  {4, 3, "directory server failure (DNS)"},
      {4, 4, "unable to route"},                 {4, 6, "routing loop detected"},
      {4, 7, "delivery time expired"},           {5, 0, "other or undefined protocol status"},
      {5, 1, "invalid command"},                 {5, 2, "syntax error"},
      {5, 3, "too many recipients"},             {5, 4, "invalid command arguments"},
      {6, 0, "other or undefined media error"},  {7, 0, "other or undefined security status"},
      {7, 1, "delivery not authorized, message refused"}, {7, 8, "authentication credentials invalid"},
      {7, 26, "multiple authentication checks failed"},
  };
  for (const D& d : kDetails)
    if (d.s == subject && d.d == detail) return out + ", " + d.text;
  return out;
}

std::string governing_rfc(const Record& r) {
  std::string_view verb = r.attr("verb");
  if (verb.empty() && (r.kind == Kind::smtp_command)) verb = std::string_view(r.text).substr(0, r.text.find(' '));
  switch (r.kind) {
    case Kind::smtp_command:
    case Kind::smtp_reply: {
      std::string v(verb);
      for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (r.kind == Kind::smtp_reply && v.empty()) return "RFC 5321 4.2 (SMTP replies)";
      if (v == "EHLO" || v == "HELO") return "RFC 5321 4.1.1.1 (extended HELLO)";
      if (v == "MAIL") return "RFC 5321 4.1.1.2 (MAIL)";
      if (v == "RCPT") return "RFC 5321 4.1.1.3 (RECIPIENT)";
      if (v == "DATA") return "RFC 5321 4.1.1.4 (DATA)";
      if (v == "EOD" || v == ".") return "RFC 5321 4.1.1.4 and 4.5.2 (end of data, transparency)";
      if (v == "RSET") return "RFC 5321 4.1.1.5 (RESET)";
      if (v == "VRFY") return "RFC 5321 4.1.1.6 (VERIFY) and 7.3 (why 252)";
      if (v == "EXPN") return "RFC 5321 4.1.1.7 (EXPAND) and 7.3";
      if (v == "HELP") return "RFC 5321 4.1.1.8 (HELP)";
      if (v == "NOOP") return "RFC 5321 4.1.1.9 (NOOP)";
      if (v == "QUIT") return "RFC 5321 4.1.1.10 (QUIT)";
      if (v == "STARTTLS") return "RFC 3207 (STARTTLS)";
      if (v == "AUTH") return "RFC 4954 (AUTH)";
      if (v == "CONNECT" || v == "GREETING") return "RFC 5321 3.1 (session initiation) and 4.2";
      return r.kind == Kind::smtp_reply ? "RFC 5321 4.2 (SMTP replies)" : "RFC 5321 4.1 (SMTP commands)";
    }
    case Kind::smtp_data: return "RFC 5321 4.5.2 (transparency: dot-stuffing) and RFC 5322 (message format)";
    case Kind::smtp_state: return "RFC 5321 4.3 (sequencing of commands and replies)";
    case Kind::smtp_timeout: return "RFC 5321 4.5.3.2 (timeouts)";
    case Kind::smtp_tls: return "RFC 3207 (SMTP over TLS)";
    case Kind::smtp_session_open:
    case Kind::smtp_session_end: return "RFC 5321 3.1 and 3.8 (session initiation and termination)";
    case Kind::smtp_error: return "RFC 5321 4.3.2 and 4.1.4 (command sequencing, syntax)";
    case Kind::dns_query:
    case Kind::dns_answer:
    case Kind::dns_timeout:
    case Kind::dns_cache_hit:
    case Kind::dns_result: return "RFC 1035 (DNS) and RFC 5321 5.1 (locating the target host)";
    case Kind::mx_selected: return "RFC 5321 5.1 (MX preference order, then A record)";
    case Kind::pop3_command:
    case Kind::pop3_reply:
    case Kind::pop3_state: return "RFC 1939 (POP3)";
    case Kind::imap_command:
    case Kind::imap_response:
    case Kind::imap_state: return "RFC 9051 (IMAP4rev2)";
    case Kind::message_queued:
    case Kind::message_relayed: return "RFC 5321 6.1 (reliable delivery: the server now owns the message)";
    case Kind::delivery_attempt:
    case Kind::message_deferred:
    case Kind::retry_scheduled: return "RFC 5321 4.5.4.1 (sending strategy, retry intervals)";
    case Kind::message_bounced:
    case Kind::dsn_created:
    case Kind::delay_warning: return "RFC 5321 6.1 and RFC 3464 (delivery status notifications)";
    case Kind::message_expired: return "RFC 5321 4.5.4.1 (give up after 4-5 days)";
    case Kind::loop_detected: return "RFC 5321 6.3 (loop detection, Received: count)";
    case Kind::message_delivered: return "RFC 5321 4.4 (trace information: Received:, Return-Path:)";
    case Kind::message_discarded: return "RFC 5321 6.2 (a bounce that cannot be delivered is dropped)";
    case Kind::tcp_connect:
    case Kind::segment_sent:
    case Kind::segment_delivered:
    case Kind::segment_lost:
    case Kind::segment_retransmit:
    case Kind::tcp_established:
    case Kind::tcp_refused:
    case Kind::tcp_timeout:
    case Kind::tcp_closed:
    case Kind::tcp_reset: return "RFC 9293 (TCP); RFC 6298 (retransmission timer)";
    case Kind::datagram_sent:
    case Kind::datagram_delivered:
    case Kind::datagram_lost: return "RFC 768 (UDP)";
    case Kind::fault_injected:
    case Kind::fault_cleared: return "a fault from the scenario (see Failures)";
    default: return "";
  }
}

std::vector<WireLine> wire_lines(std::string_view w) {
  std::vector<WireLine> out;
  size_t i = 0;
  while (i < w.size()) {
    size_t j = w.find_first_of("\r\n", i);
    if (j == std::string_view::npos) {
      out.push_back({std::string(w.substr(i)), ""});
      break;
    }
    WireLine l{std::string(w.substr(i, j - i)), ""};
    if (w[j] == '\r' && j + 1 < w.size() && w[j + 1] == '\n') {
      l.ending = "\\r\\n";
      i = j + 2;
    } else {
      l.ending = w[j] == '\r' ? "\\r" : "\\n";
      i = j + 1;
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::string unstuff(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find("\r\n", i);
    std::string_view line = s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    // The first lone "." ends the data, wherever it is: that is exactly the
    // lone-dot bug when the sender forgot to stuff.
    if (line == ".") break;
    if (!line.empty() && line[0] == '.') line.remove_prefix(1);
    out += line;
    if (j == std::string_view::npos) break;
    out += "\r\n";
    i = j + 2;
  }
  return out;
}

std::string stuff(std::string_view s) {
  std::string out;
  bool at_line_start = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (at_line_start && s[i] == '.') out += '.';
    out += s[i];
    at_line_start = s[i] == '\n';
  }
  return out;
}

}  // namespace smtplab::gui
