// sim/agents/retry.hpp: retry schedules and the per-recipient queue decision.
//
// Pure functions of (policy, times, outcome): no engine, no trace, no state.
// The queue runner (mail_server.cpp) asks them what to do after every
// delivery attempt, and the tests (tests/test_agents_retry.cpp) pin each rule
// in a table, so a lesson can compare schedules side by side.
//
// Invariants:
//   - a retry time is always strictly after `now` and never after the
//     message's expiry (arrival + lifetime): the last attempt happens exactly
//     at the end of the lifetime, then a failure there expires the recipient;
//   - a delay warning is due at most once per message, only while it is still
//     queued (never together with a bounce or a delivery).
#pragma once

#include <optional>
#include <string_view>

#include "sim/engine/time.hpp"
#include "sim/scenario/scenario.hpp"

namespace smtplab {

// The delay before the next attempt, given the message's age at the failure
// and how many attempts have been made so far (1 after the first failure).
//   postfix:   the age, clamped to [min_backoff, max_backoff] (Postfix qmgr:
//              minimal_backoff_time / maximal_backoff_time), so retries come
//              quickly at first and settle at max_backoff;
//   fixed:     `interval` every time (the textbook "every 30 minutes");
//   quadratic: min_backoff * attempts^2, clamped to max_backoff.
SimTime retry_delay(const QueuePolicy& policy, SimTime age, int attempts);

// When to try again after a failed attempt at `now`; nullopt when the
// lifetime is over (the recipient expires). See the invariants above.
std::optional<SimTime> next_retry(const QueuePolicy& policy, SimTime arrival, SimTime now, int attempts);

// The outcome of one delivery attempt for one recipient, as the transport
// (SMTP client over TCP, or the local mailbox) reports it.
enum class AttemptOutcome {
  accepted,      // 250 after the final "." (relayed) or stored in the mailbox
  transient,     // 4xx to MAIL/RCPT/DATA/"." or a timeout mid-transaction (RFC 5321 4.2.1)
  permanent,     // 5xx for this recipient: bounce it
  unreachable,   // no connection (timeout, refused), the connection broke, or DNS failed temporarily
  greeting_4xx,  // the host answered 421/4xx at greeting or EHLO: try the next MX (RFC 5321 5.1)
};

std::string_view outcome_name(AttemptOutcome o);

enum class QueueAction {
  done,         // delivered or relayed: forget the recipient
  try_next_mx,  // same attempt, next MX host on the list
  defer,        // keep it queued until `next`
  bounce,       // permanent failure: DSN to the sender
  expire,       // lifetime over: DSN to the sender ("message expired")
};

std::string_view action_name(QueueAction a);

struct QueueDecision {
  QueueAction action = QueueAction::done;
  SimTime next{0};            // defer: when to retry
  bool delay_warning = false; // defer: a delay-warning DSN is due now
};

struct RecipientHistory {
  SimTime arrival{0};       // when the message was queued (250 given)
  int attempts = 0;         // attempts finished, including this one
  bool warned = false;      // a delay warning was already sent
};

// What the queue does with one recipient after an attempt's outcome.
// `more_mx` says whether another MX host (of equal or lower preference)
// remains to be tried in this attempt.
QueueDecision decide(const QueuePolicy& policy, AttemptOutcome outcome, bool more_mx, const RecipientHistory& h,
                     SimTime now);

}  // namespace smtplab
