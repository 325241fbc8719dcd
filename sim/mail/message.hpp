// sim/mail/message.hpp: RFC 5322 Internet messages: ordered headers + body.
//
// A Message is what travels after DATA: header fields in order, then a body.
// Header values are kept UNFOLDED (no CR LF inside); serialize() folds them
// at whitespace so every line stays within 78 characters where possible and
// never exceeds 998 (RFC 5322 2.1.1, 2.2.3). The body is kept in canonical
// form: lines end with CR LF.
//
// The envelope (MAIL FROM / RCPT TO) is NOT part of a Message: it lives in
// Envelope, apart from the headers, which is what makes Bcc work (RFC 5321
// 3.3; RFC 5322 3.6.3: Bcc recipients never appear in the transmitted
// headers).
//
// Must never: know about SMTP transport, sockets or the clock; crash or loop
// on any input (the parser is tolerant and total).
// Invariants: header names contain no ':' and no whitespace; header values
// contain no CR or LF; body lines end with CR LF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/engine/time.hpp"

namespace smtplab {
struct MessageSpec;
struct Attachment;
}  // namespace smtplab

namespace smtplab::mail {

// RFC 5322 2.1.1: "Each line of characters MUST be no more than 998
// characters, and SHOULD be no more than 78 characters, excluding the CRLF."
inline constexpr size_t kMaxLine = 998;
inline constexpr size_t kFoldAt = 78;

struct Header {
  std::string name;   // as written, e.g. "Subject"
  std::string value;  // unfolded, leading whitespace after ':' removed
};

// The SMTP envelope: kept apart from the message headers.
struct Envelope {
  std::string mail_from;               // "" = the null reverse-path <>
  std::vector<std::string> rcpt_to;    // every recipient: To + Cc + Bcc
};

class Message {
 public:
  std::vector<Header> headers;
  std::string body;  // canonical: CR LF line endings (may be empty)

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // Replaces the first header of that name (keeping its position), or appends.
  void set(std::string_view name, std::string_view value);
  void add(std::string_view name, std::string_view value);      // append at the end
  void prepend(std::string_view name, std::string_view value);  // insert at the top (trace fields)
  size_t remove(std::string_view name);                          // removes all; returns how many

  // The whole message as it goes on the wire (before dot-stuffing): folded
  // headers, CR LF, body. Always CR LF line endings.
  std::string serialize() const;
  // serialize().size() without building it.
  size_t size() const;
};

// Folds one header field into "Name: value" lines separated by CR LF
// (with a trailing CR LF). Folds only at whitespace (RFC 5322 2.2.3); a word
// longer than 998 is hard-split as a last resort (never produced by us).
std::string fold_header(std::string_view name, std::string_view value);
// RFC 5322 2.2.3: unfolding = removing every CR LF that precedes WSP.
std::string unfold(std::string_view folded);

// Parses a message (CR LF or bare LF line endings). Tolerant: a line that is
// not a header and not a continuation ends the header block (it and the rest
// become the body), with a warning. Never fails, never throws.
Message parse_message(std::string_view text, std::vector<std::string>* warnings = nullptr);

// Any mix of LF / CR LF line endings -> CR LF, ending with CR LF when non-empty.
std::string to_crlf(std::string_view text);

// Case-insensitive ASCII comparison, used for header names and MIME tokens.
bool iequals(std::string_view a, std::string_view b);

// ---- Dates ---------------------------------------------------------------
// The simulator's epoch: t = 0 is Mon, 23 Nov 2026 09:00:00 +0000. Fixed so
// runs are deterministic; a Date header depends only on the simulated time.
inline constexpr int64_t kEpochUnixSeconds = 1795424400;  // 2026-11-23T09:00:00Z
// RFC 5322 3.3 date-time: "Mon, 23 Nov 2026 09:00:00 +0000".
std::string format_rfc5322_date(SimTime t);
// asctime-style for mbox From_ lines: "Mon Nov 23 09:00:00 2026".
std::string format_ctime(SimTime t);
// Unix seconds of a simulated instant.
inline int64_t unix_seconds(SimTime t) { return kEpochUnixSeconds + t.us / 1000000; }

// ---- Addresses -----------------------------------------------------------
// "Bob <bob@gmail.test>" -> "bob@gmail.test"; "bob@gmail.test" unchanged.
std::string address_of(std::string_view mailbox);
// "bob@gmail.test" -> "gmail.test" ("" when there is no '@').
std::string domain_of(std::string_view address);
std::string local_part_of(std::string_view address);

// ---- Building from a scenario ------------------------------------------
struct BuildOptions {
  SimTime now{0};          // Date: header
  uint64_t sequence = 0;   // makes the Message-ID unique within a run
  std::string id_domain;   // right side of Message-ID; "" = the sender's domain
  bool add_date = true;        // a user agent normally adds Date and Message-ID;
  bool add_message_id = true;  // false leaves it to the submission server
};

// Deterministic Message-ID: "<20261123090000.42.smtplab@gmail.test>".
std::string make_message_id(SimTime now, uint64_t sequence, std::string_view domain);

// Builds the message a user agent would write: Date, From, To, Cc (never
// Bcc), Subject, Message-ID, MIME-Version, then the extra headers of the
// spec (a spec header replaces a generated one of the same name). A body with
// 8-bit characters is labelled 8bit/utf-8; attachments make it
// multipart/mixed with base64 parts (see mime.hpp).
Message build_message(const MessageSpec& spec, const BuildOptions& options);
// Envelope of a spec: MAIL FROM = from, RCPT TO = to + cc + bcc (addresses only, de-duplicated).
Envelope envelope_of(const MessageSpec& spec);

// Submission (RFC 6409 8.2, 8.3): adds Date and Message-ID when missing.
// Returns the names of the headers it added.
std::vector<std::string> complete_for_submission(Message& m, SimTime now, uint64_t sequence,
                                                 std::string_view id_domain);

// The bytes of an attachment: its literal content, or `size` deterministic
// pseudo-random bytes derived from its name (same name + size, same bytes).
std::string attachment_bytes(const Attachment& a);

// ---- Trace fields (RFC 5321 4.4) ----------------------------------------
struct ReceivedInfo {
  std::string from_helo;     // what the client said in EHLO/HELO
  std::string from_host;     // the client's host name as the server knows it ("" = omit)
  std::string from_address;  // the client's IP ("" = omit)
  std::string by_host;       // the receiving server
  std::string with = "ESMTP";  // SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, LMTP, LOCAL (RFC 3848)
  std::string id;            // queue id ("" = omit)
  std::string for_rcpt;      // only when there is exactly one recipient ("" = omit)
  SimTime when{0};
};
// The value (no "Received:" name): "from gmail.test (smtp.gmail.test [10.0.0.2])
// by mx.yahoo.test with ESMTP id 1A2B for <alice@yahoo.test>; Mon, 23 Nov 2026 09:00:01 +0000"
std::string received_value(const ReceivedInfo& r);
void prepend_received(Message& m, const ReceivedInfo& r);
// Number of Received: headers: the hop count used for loop detection
// (RFC 5321 6.3: a hop limit of 100 is suggested; ours comes from the queue policy).
int count_received(const Message& m);
// Hop count straight from serialized message bytes (without a full parse).
int count_received(std::string_view message_text);

}  // namespace smtplab::mail
