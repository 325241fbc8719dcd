// sim/faults/catalog.cpp: the fault vocabulary table.
#include "sim/faults/catalog.hpp"

#include <array>

namespace smtplab {

namespace {

const std::vector<FaultType>& table() {
  static const std::vector<FaultType> kTable = {
      {"host-down", "The host stops answering anything (no RST, no reply) until \"until\" or a host-up",
       FaultTarget::host, {"host"}, {"until"}},
      {"host-up", "The host comes back", FaultTarget::host, {"host"}, {}},
      {"link-down", "The link drops every packet until \"until\" or a link-up", FaultTarget::link, {"link"}, {"until"}},
      {"link-up", "The link carries packets again", FaultTarget::link, {"link"}, {}},
      {"link-loss", "The link's loss probability becomes \"loss\" (until \"until\")", FaultTarget::link,
       {"link", "loss"}, {"until"}},
      {"dns-failure", "Lookups of \"domain\" fail with \"mode\": nxdomain, servfail or timeout", FaultTarget::domain,
       {"domain", "mode"}, {"until"}},
      {"smtp-reply", "The server answers \"code\" (and \"text\") to the nth \"verb\", or to every one when nth is 0",
       FaultTarget::mail_server, {"host", "verb", "code"}, {"nth", "text", "recipient", "until"}},
      {"smtp-delay", "The server waits \"delay\" before answering the nth \"verb\"", FaultTarget::mail_server,
       {"host", "verb", "delay"}, {"nth", "until"}},
      {"smtp-disconnect", "The server closes the connection without answering the nth \"verb\"",
       FaultTarget::mail_server, {"host", "verb"}, {"nth", "until"}},
      {"smtp-shutdown", "The server answers 421 to the nth \"verb\" and closes (RFC 5321 3.8)",
       FaultTarget::mail_server, {"host", "verb"}, {"nth", "until"}},
      {"drop-final-reply",
       "The server stores the nth message, then the connection breaks before its 250 arrives: the client retries "
       "and the message is delivered twice (RFC 1047)",
       FaultTarget::mail_server, {"host"}, {"nth", "until"}},
      {"mailbox-full", "The mailbox refuses new mail with 552 (RFC 5321 4.2.2)", FaultTarget::mail_server,
       {"host", "mailbox"}, {"until"}},
      {"greylisting", "The server answers 451 to the first try of every new (client, sender, recipient)",
       FaultTarget::mail_server, {"host"}, {"until"}},
      {"no-dot-stuffing", "The host's SMTP client forgets to dot-stuff (RFC 5321 4.5.2): a lone \".\" ends the data",
       FaultTarget::host, {"host"}, {"until"}},
      {"bare-lf",
       "The host's SMTP client ends each data line with LF alone, not CR LF (RFC 5321 2.3.8 forbids it): a server "
       "that took LF . LF for the end of the data could be fooled into a second message (SMTP smuggling)",
       FaultTarget::host, {"host"}, {"until"}},
  };
  return kTable;
}

constexpr std::array<std::string_view, 9> kVerbs{"CONNECT", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "EOD", "RSET", "QUIT"};

}  // namespace

std::span<const FaultType> fault_catalog() { return table(); }

const FaultType* find_fault_type(std::string_view name) {
  for (const FaultType& f : table())
    if (f.name == name) return &f;
  return nullptr;
}

std::span<const std::string_view> fault_verbs() { return kVerbs; }

}  // namespace smtplab
