// sim/trace/kinds.hpp: the fixed, versioned vocabulary of trace records.
//
// Every observable thing in a run is one of these kinds. Each kind belongs to
// exactly one layer and carries a one-line description (shown by the GUI's
// inspector and `smtplab run --help-kinds`). Adding a kind is a vocabulary
// change: append it (never reorder: numeric values are not exported, but the
// wire names are) and bump kTraceVersion only if a name changes meaning.
//
// Attribute conventions (Record::attrs), so readers need not parse text:
//   smtp/pop3/imap: "verb", "code", "enhanced", "state", "from", "to"
//   tcp: "flags", "seq", "ack", "len", "port", "conn"
//   dns: "qname", "qtype", "rcode"
//   mail: "msgid" (queue id), "message-id", "rcpt", "sender", "attempt", "next", "error", "mailbox"
//   fault: "fault" (index in the scenario's fault list), "type"
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace smtplab {

inline constexpr int kTraceVersion = 1;

enum class Layer : uint8_t { engine, net, tcp, dns, smtp, pop3, imap, mail, fault };
inline constexpr int kLayerCount = 9;

// X(identifier, layer, "wire-name", "description")
#define SMTPLAB_TRACE_KINDS(X)                                                                              \
  X(run_start, engine, "run-start", "The run begins: scenario, seed and duration")                           \
  X(run_end, engine, "run-end", "The run ends: simulated time reached or nothing left to do")               \
  X(note, engine, "note", "A remark from the simulator itself")                                              \
  X(host_up, net, "host-up", "A host is (again) powered on and answering")                                  \
  X(host_down, net, "host-down", "A host stops answering anything at all")                                  \
  X(link_up, net, "link-up", "A link carries packets again")                                                 \
  X(link_down, net, "link-down", "A link drops every packet")                                                \
  X(link_changed, net, "link-changed", "A link's loss, latency or bandwidth changed")                        \
  X(datagram_sent, net, "datagram-sent", "A UDP datagram leaves a host")                                     \
  X(datagram_delivered, net, "datagram-delivered", "A UDP datagram arrives at its destination")            \
  X(datagram_lost, net, "datagram-lost", "A UDP datagram is lost on a link or at a down host")              \
  X(tcp_connect, tcp, "tcp-connect", "An application asks TCP to open a connection")                        \
  X(segment_sent, tcp, "segment-sent", "A TCP segment leaves a host")                                        \
  X(segment_delivered, tcp, "segment-delivered", "A TCP segment arrives at the other end")                  \
  X(segment_lost, tcp, "segment-lost", "A TCP segment is lost: on a lossy or down link, or at a down host")  \
  X(segment_retransmit, tcp, "segment-retransmit", "The retransmission timer fired; a segment is sent again") \
  X(tcp_established, tcp, "tcp-established", "The three-way handshake completed")                           \
  X(tcp_refused, tcp, "tcp-refused", "Connection refused: the host answered RST (no listener on the port)")  \
  X(tcp_timeout, tcp, "tcp-timeout", "The connection attempt or connection timed out after retries")        \
  X(tcp_closed, tcp, "tcp-closed", "The connection closed (FIN exchange)")                                   \
  X(tcp_reset, tcp, "tcp-reset", "The connection was reset (RST)")                                           \
  X(dns_query, dns, "dns-query", "A resolver asks a DNS server a question")                                  \
  X(dns_answer, dns, "dns-answer", "A DNS server answers (records, NXDOMAIN or SERVFAIL)")                    \
  X(dns_timeout, dns, "dns-timeout", "A DNS query got no answer in time")                                    \
  X(dns_cache_hit, dns, "dns-cache-hit", "A resolver answered from its cache (TTL not expired)")             \
  X(dns_result, dns, "dns-result", "What a resolver finally tells the mail server")                          \
  X(mx_selected, dns, "mx-selected", "The mail server picks the next MX host to try (RFC 5321 5.1)")         \
  X(smtp_session_open, smtp, "smtp-session", "An SMTP session starts over a connection")                     \
  X(smtp_command, smtp, "smtp-command", "An SMTP client sends a command line")                               \
  X(smtp_reply, smtp, "smtp-reply", "An SMTP server sends a reply (possibly multi-line)")                    \
  X(smtp_data, smtp, "smtp-data", "Message content sent after DATA/354, as it travels (dot-stuffed)")       \
  X(smtp_state, smtp, "smtp-state", "An SMTP client or server machine changes state")                       \
  X(smtp_tls, smtp, "smtp-tls", "A (simulated) TLS handshake after STARTTLS")                               \
  X(smtp_timeout, smtp, "smtp-timeout", "An SMTP timeout of RFC 5321 4.5.3.2 fired")                         \
  X(smtp_error, smtp, "smtp-error", "A protocol violation or transport failure in an SMTP session")         \
  X(smtp_session_end, smtp, "smtp-session-end", "An SMTP session ends")                                      \
  X(pop3_command, pop3, "pop3-command", "A POP3 client sends a command")                                     \
  X(pop3_reply, pop3, "pop3-reply", "A POP3 server answers +OK or -ERR")                                    \
  X(pop3_state, pop3, "pop3-state", "A POP3 session changes state")                                          \
  X(imap_command, imap, "imap-command", "An IMAP client sends a tagged command")                            \
  X(imap_response, imap, "imap-response", "An IMAP server sends an untagged or tagged response")            \
  X(imap_state, imap, "imap-state", "An IMAP session changes state")                                         \
  X(message_composed, mail, "message-composed", "A user writes a message in a user agent")                  \
  X(message_queued, mail, "message-queued", "A server takes responsibility for a message (RFC 5321 6.1)")   \
  X(delivery_attempt, mail, "delivery-attempt", "The queue runner tries to deliver to some recipients")     \
  X(message_deferred, mail, "message-deferred", "A temporary failure: the recipient stays queued")          \
  X(retry_scheduled, mail, "retry-scheduled", "The queue schedules the next delivery attempt")              \
  X(message_relayed, mail, "message-relayed", "The next hop accepted the message (250 after DATA)")         \
  X(message_delivered, mail, "message-delivered", "The message is stored in a local mailbox")                \
  X(message_bounced, mail, "message-bounced", "A recipient failed permanently; a bounce will be sent")      \
  X(dsn_created, mail, "dsn-created", "A delivery status notification (RFC 3464) is generated")             \
  X(delay_warning, mail, "delay-warning", "A delay-warning DSN: the message is still queued")                \
  X(message_expired, mail, "message-expired", "The queue lifetime ran out; the recipient bounces")          \
  X(loop_detected, mail, "loop-detected", "Too many Received: hops; the message bounces")                   \
  X(message_fetched, mail, "message-fetched", "A user agent downloads a message (POP3 RETR or IMAP FETCH)")  \
  X(message_discarded, mail, "message-discarded", "A message is dropped on purpose (a bounce that bounced)") \
  X(fault_injected, fault, "fault-injected", "A scheduled fault takes effect")                              \
  X(fault_cleared, fault, "fault-cleared", "A scheduled fault ends")                                        \
  X(message_converted, mail, "message-converted", "8-bit MIME parts re-encoded to 7 bit for a next hop without 8BITMIME (RFC 6152 3)")

enum class Kind : uint16_t {
#define SMTPLAB_KIND_ENUM(id, layer, name, desc) id,
  SMTPLAB_TRACE_KINDS(SMTPLAB_KIND_ENUM)
#undef SMTPLAB_KIND_ENUM
};

inline constexpr int kKindCount = 0
#define SMTPLAB_KIND_COUNT(id, layer, name, desc) +1
    SMTPLAB_TRACE_KINDS(SMTPLAB_KIND_COUNT)
#undef SMTPLAB_KIND_COUNT
    ;

Layer layer_of(Kind k);
std::string_view kind_name(Kind k);
std::string_view kind_description(Kind k);
std::optional<Kind> kind_from_name(std::string_view name);

std::string_view layer_name(Layer l);
std::optional<Layer> layer_from_name(std::string_view name);

}  // namespace smtplab
