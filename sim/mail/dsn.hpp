// sim/mail/dsn.hpp: delivery status notifications (bounces and delay warnings).
//
// RFC 3464 (message/delivery-status) inside RFC 6522 (formerly 3462)
// multipart/report; report-type=delivery-status, with three parts:
//   1. text/plain: what happened, for a person (which recipient, what the
//      remote server said, what it means, what to do);
//   2. message/delivery-status: per-message fields (Reporting-MTA,
//      Arrival-Date) then one block per recipient (Final-Recipient, Action,
//      Status, Remote-MTA, Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until);
//   3. text/rfc822-headers: the original message's headers.
// A DSN is sent with the null reverse-path MAIL FROM:<> (RFC 5321 4.5.5), so
// it is never bounced itself: the mail system checks is_dsn()/the envelope.
//
// Must never: know about transport; crash on a malformed DSN (parse_dsn
// returns an error instead).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"
#include "sim/mail/message.hpp"

namespace smtplab::mail {

enum class DsnAction { failed, delayed, delivered, relayed, expanded };
std::string_view dsn_action_name(DsnAction a);

struct DsnRecipient {
  std::string recipient;    // final recipient address, e.g. "nobody@yahoo.test"
  std::string original;     // original recipient when it differs (alias), else ""
  DsnAction action = DsnAction::failed;
  std::string status;       // RFC 3463 enhanced code: "5.1.1", "4.4.1" ...
  std::string remote_mta;   // host that answered ("" = none, e.g. never connected)
  std::string diagnostic;   // the server's reply, e.g. "550 5.1.1 <nobody@yahoo.test>: user unknown"
  std::string reason;       // our own words when there was no reply: "connection refused"...
  std::optional<SimTime> last_attempt;
  std::optional<SimTime> will_retry_until;  // delay warnings
};

struct DsnSpec {
  std::string reporting_mta;    // the server writing the report
  std::string to;               // the original sender (envelope MAIL FROM)
  SimTime arrival{0};           // when the original was accepted
  SimTime now{0};               // the DSN's Date
  uint64_t sequence = 0;        // for the Message-ID
  std::vector<DsnRecipient> recipients;
  const Message* original = nullptr;  // headers returned in part 3 (may be null)
  std::string original_envid;   // RFC 3461 ENVID when known
};

// A human sentence for an enhanced status code: "5.1.1" -> "the mailbox does
// not exist" (RFC 3463 subject/detail table).
std::string explain_status(std::string_view status);

// Builds the DSN message. From: "Mail Delivery System <MAILER-DAEMON@reporting_mta>".
// Subject: "Undelivered Mail Returned to Sender" (failed) or
// "Delayed Mail (still being retried)" (delayed only).
Message build_dsn(const DsnSpec& spec);

// True for a multipart/report; report-type=delivery-status message.
bool is_dsn(const Message& m);

// The DSN read back (tests, the GUI's inspector, the property checker).
struct ParsedDsn {
  std::string human_text;        // part 1, decoded
  std::string reporting_mta;     // without the "dns;" type
  std::string arrival_date;
  struct Rcpt {
    std::string final_recipient;  // address without "rfc822;"
    std::string action;
    std::string status;
    std::string remote_mta;
    std::string diagnostic;       // without "smtp;"
  };
  std::vector<Rcpt> recipients;
  std::string returned_headers;  // part 3 text
};
std::optional<ParsedDsn> parse_dsn(const Message& m, std::string* error = nullptr);

}  // namespace smtplab::mail
