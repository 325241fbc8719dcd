// sim/agents/retry.cpp: retry schedules and the per-recipient decision.
#include "sim/agents/retry.hpp"

#include <algorithm>

namespace smtplab {

namespace {

SimTime clamp_time(SimTime v, SimTime lo, SimTime hi) {
  if (hi < lo) hi = lo;  // a policy with max < min: min wins (never a zero delay)
  return std::clamp(v, lo, hi);
}

}  // namespace

SimTime retry_delay(const QueuePolicy& policy, SimTime age, int attempts) {
  const SimTime floor = std::max(policy.min_backoff, sec(1));
  switch (policy.schedule) {
    case RetrySchedule::postfix:
      // Postfix qmgr: the next delay is the message's age, so the gaps double
      // until they reach maximal_backoff_time.
      return clamp_time(age, floor, policy.max_backoff);
    case RetrySchedule::fixed:
      return std::max(policy.interval, sec(1));
    case RetrySchedule::quadratic: {
      const int64_t n = std::clamp(attempts, 1, 100000);
      // Saturate before multiplying so days-long backoffs never overflow.
      const int64_t cap = std::max(policy.max_backoff, floor).us;
      if (n * n > cap / floor.us) return SimTime{cap};
      return clamp_time(floor * (n * n), floor, policy.max_backoff);
    }
  }
  return floor;
}

std::optional<SimTime> next_retry(const QueuePolicy& policy, SimTime arrival, SimTime now, int attempts) {
  const SimTime expiry = arrival + policy.lifetime;
  // RFC 5321 4.5.4.1: give up after the lifetime; the attempt that ends at or
  // after expiry was the last one.
  if (now >= expiry) return std::nullopt;
  const SimTime next = now + retry_delay(policy, now - arrival, attempts);
  return std::min(next, expiry);
}

std::string_view outcome_name(AttemptOutcome o) {
  switch (o) {
    case AttemptOutcome::accepted: return "accepted";
    case AttemptOutcome::transient: return "transient";
    case AttemptOutcome::permanent: return "permanent";
    case AttemptOutcome::unreachable: return "unreachable";
    case AttemptOutcome::greeting_4xx: return "greeting-4xx";
  }
  return "?";
}

std::string_view action_name(QueueAction a) {
  switch (a) {
    case QueueAction::done: return "done";
    case QueueAction::try_next_mx: return "try-next-mx";
    case QueueAction::defer: return "defer";
    case QueueAction::bounce: return "bounce";
    case QueueAction::expire: return "expire";
  }
  return "?";
}

QueueDecision decide(const QueuePolicy& policy, AttemptOutcome outcome, bool more_mx, const RecipientHistory& h,
                     SimTime now) {
  QueueDecision d;
  switch (outcome) {
    case AttemptOutcome::accepted: d.action = QueueAction::done; return d;
    case AttemptOutcome::permanent: d.action = QueueAction::bounce; return d;
    case AttemptOutcome::unreachable:
    case AttemptOutcome::greeting_4xx:
      // RFC 5321 5.1: an unreachable host or a 4xx greeting sends the client
      // to the next MX in preference order before the message is deferred.
      if (more_mx) {
        d.action = QueueAction::try_next_mx;
        return d;
      }
      break;
    case AttemptOutcome::transient: break;  // 4xx within a transaction: defer (RFC 5321 4.2.1)
  }
  const auto next = next_retry(policy, h.arrival, now, h.attempts);
  if (!next) {
    d.action = QueueAction::expire;
    return d;
  }
  d.action = QueueAction::defer;
  d.next = *next;
  // RFC 3464 2.3.3 action "delayed": one warning once the message has waited
  // delay_warning (Postfix delay_warning_time); 0 turns it off.
  d.delay_warning = policy.delay_warning.us > 0 && !h.warned && now - h.arrival >= policy.delay_warning;
  return d;
}

}  // namespace smtplab
