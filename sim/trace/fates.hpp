// sim/trace/fates.hpp: what happened to each message, read from the trace.
//
// A student reading a failure asks one question first: did Alice get it, and
// if not, why? The answer is spread over many mail-layer records on several
// hosts (queued, attempted, deferred, relayed, delivered, bounced, the
// bounce's own journey). message_fates() folds them into one line per
// recipient of each message, from the records alone (the GUI, `smtplab run`
// and tests see the same trace, DESIGN.md).
//
// How records are tied to a message: a message-composed record starts one
// (its "message" index); a message-queued record belongs to the message of
// its Message-ID when an earlier queue had it (one SMTP session may carry
// several messages), else to the message its cause chain leads to (a submission leads to the composition, the next hop
// of a relay to the previous hop's queue, a bounce's queue to its
// dsn-created record: the bounce is then shown under the recipient it is
// about). Other mail records name their queue entry (host, "msgid"). A
// message that only arrived from outside (smtplab serve) starts at its first
// queue. In a trace recorded without the layers in between (a run with the
// mail layer alone), a queue whose chain is broken belongs to the message
// of its Message-ID, else to the first message of its sender to one of its
// recipients that no queue has claimed yet. Recipients are matched by their original address ("original", else
// "rcpt"), so an alias still reads as the address the sender wrote.
//
// Must never: guess. A recipient with no decisive record is "on its way" or
// "in a queue", with the last thing the trace says about it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/trace/record.hpp"

namespace smtplab {

enum class FateState : uint8_t {
  submitting,  // written, not yet taken by a server (or still retrying the submission)
  queued,      // in a server's queue: waiting for an attempt, or deferred (4yz, a timeout)
  in_transit,  // handed to the next hop, whose queue has not recorded it yet
  delivered,   // stored in a mailbox (deliveries > 1: duplicates)
  bounced,     // failed permanently, or expired in a queue; a bounce was (or was to be) sent
  refused,     // refused at submission: the user saw an error, nobody sends a bounce
  discarded,   // dropped on purpose (a bounce that bounced)
  gave_up,     // the user agent gave up submitting it; it stays in the outbox
};
std::string_view fate_state_name(FateState s);  // "in transit"
// The name in files (lessons' "fate" checks): "in-transit", "gave-up" ...
std::string_view fate_state_key(FateState s);
std::optional<FateState> fate_state_from_key(std::string_view key);
inline constexpr FateState kFateStates[] = {FateState::submitting, FateState::queued,  FateState::in_transit,
                                            FateState::delivered,  FateState::bounced, FateState::refused,
                                            FateState::discarded,  FateState::gave_up};

struct RecipientFate {
  std::string address;      // as the sender wrote it
  FateState state = FateState::submitting;
  std::string host;         // where: the mailbox's server, the queue, the bouncing server
  std::string mailbox;      // delivered: the mailbox it went into
  std::string why;          // the error (bounced, refused, queued after a deferral)
  SimTime at{0};            // when the state was reached (first delivery for delivered)
  std::vector<SimTime> deliveries;  // every delivery into a mailbox (2+: a duplicate)
  uint32_t attempts = 0;    // the most delivery attempts any one hop made (2+: it was retried)
  uint32_t hops = 0;        // queues it went through
  uint64_t record = 0;      // seq of the record that decided the state (0: none)
  // The bounce (DSN) about this recipient, when one was made: its own fate
  // (delivered to the sender's mailbox, discarded, still queued ...).
  bool bounce = false;
  FateState bounce_state = FateState::queued;
  std::string bounce_to, bounce_where;
  SimTime bounce_at{0};
  bool delay_warned = false;  // a delay-warning DSN was sent
  // The body a queue took for it was a proper prefix of the body its user
  // agent wrote, cut at a line end (a lone "." that was not dot-stuffed, RFC
  // 5321 4.5.2): told even when it was then delivered. Set at the first
  // queue that shows it; later hops carry the same cut body.
  struct Cut {
    uint32_t arrived = 0, written = 0;  // body lines
    std::string host;                   // the server whose queue took the cut body
    std::string next;                   // the first line that did not arrive
  };
  std::optional<Cut> cut;
};

struct MessageFate {
  int64_t index = -1;       // the scenario's message number (-1: arrived from outside)
  std::string from, subject;
  std::string host;         // the user agent that wrote it, or the first server that queued it
  SimTime written{0};
  std::vector<RecipientFate> recipients;
  uint64_t composed = 0;  // seq of its message-composed record (0: none)
  // Every queue entry (host, queue id) it went through, bounces about it
  // included: a mail record names one with its src and "msgid".
  std::vector<std::pair<std::string, std::string>> queues;
};

// The message a mail-layer record is about (its composition, one of its
// queues, or a bounce about it), or nullptr.
const MessageFate* message_of(std::span<const MessageFate> fates, const Record& r);

// Every message of the records (in order of composition), each recipient's
// fate at the last record given. Records must be a trace prefix (seq 1..n).
std::vector<MessageFate> message_fates(std::span<const Record> records);

// The fold kept at every step, for a view that moves through the run (the
// GUI's cursor): fates_at(h, n) equals message_fates() of the first n
// records, in O(messages x recipients x log changes) instead of O(n).
struct FateHistory {
  std::vector<MessageFate> end;  // message_fates() of the whole trace
  std::vector<size_t> born;      // per message: the index of the record that started it
  // Per message, per recipient: (record index, its state after that record),
  // in record order, one entry per record that changed it.
  std::vector<std::vector<std::vector<std::pair<size_t, RecipientFate>>>> changes;
};
FateHistory fate_history(std::span<const Record> records);
// The first `limit` messages (in order of their first record) at n; their
// `queues` stay empty (message_of() reads them on h.end).
std::vector<MessageFate> fates_at(const FateHistory& h, size_t n, size_t limit = SIZE_MAX);
// How many messages exist before record n; message k (< that) at n.
size_t messages_at(const FateHistory& h, size_t n);
MessageFate message_at(const FateHistory& h, size_t k, size_t n);

// One line per recipient, for a terminal: "delivered at 1.340 s to the
// mailbox of alice@yahoo.test on mx.yahoo.test".
std::string describe(const RecipientFate& f);
// What the sender was told about it, or "": "the bounce to bob@gmail.test
// was delivered at ..." (with a delay warning, if one was sent).
std::string describe_notice(const RecipientFate& f);
// "CUT SHORT: only 3 of 8 body lines arrived ...", or "" when it was not.
std::string describe_cut(const RecipientFate& f);
// The block `smtplab run` prints after the transcript, folded to `width`
// columns (a description continues under its own first column).
void write_fates(std::ostream& out, std::span<const MessageFate> fates, SimTime end, size_t width = 80);

}  // namespace smtplab
