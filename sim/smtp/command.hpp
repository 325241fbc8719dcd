// sim/smtp/command.hpp: SMTP command lines, paths and ESMTP parameters.
//
// Parses what a client sends (RFC 5321 4.1.1 commands, 4.1.2 syntax of
// Reverse-path / Forward-path / Mailbox, 4.1.3 address literals) into values,
// and reports violations as the reply the server should give (500, 501,
// 553, 555) with a precise reason. Used by the server (and by the fuzzers).
//
// Must never: allocate without bound (inputs are capped by the line limit of
// the caller), accept control characters inside a path, or touch the trace.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smtplab::smtp {

enum class Verb : uint8_t {
  ehlo, helo, mail, rcpt, data, rset, noop, quit, vrfy, expn, help, starttls, auth,
  unknown,  // anything else: 500
};
inline constexpr int kVerbCount = 13;  // without unknown

std::string_view verb_name(Verb v);  // "EHLO"
// Case-insensitive (RFC 5321 2.4: verbs are case-insensitive).
Verb verb_from_name(std::string_view name);

// One command line split into verb and argument. `line` excludes the CRLF.
// The views point into the line given to split_command: a CommandLine lives
// no longer than that line (the server splits and dispatches in one go, so a
// command costs no copies).
struct CommandLine {
  Verb verb = Verb::unknown;
  std::string_view verb_text;  // as sent (for 500 messages, trace)
  std::string_view argument;   // after the first space, as sent (may be empty)
  bool had_separator = false;  // a space followed the verb
};
CommandLine split_command(std::string_view line);

// A parse failure with the reply the server should send.
struct SyntaxError {
  int code = 501;
  std::string enhanced = "5.5.4";
  std::string message;
};

struct Path {
  std::string mailbox;  // "local@domain" (or "postmaster"), "" for the null path <>
  std::string local;    // local part as written (quoted strings keep their quotes)
  std::string domain;   // domain or address literal "[192.0.2.1]"; "" for bare postmaster
  bool source_route = false;  // "@a,@b:" was present (RFC 5321 4.1.2: accepted, ignored)
};

struct Param {
  std::string keyword;  // upper-cased
  std::string value;    // as sent; "" when no "="
  bool has_value = false;
};

struct MailArg {
  Path path;
  std::vector<Param> params;
};

// "FROM:<path> [params]" for MAIL (reverse-path; <> allowed) and
// "TO:<path> [params]" for RCPT (forward-path; "<Postmaster>" without a
// domain allowed in any case, RFC 5321 4.1.1.3). Tolerates one space after
// the colon (deviation from the strict grammar, as every MTA does).
// Errors: 501 for syntax (missing FROM:/TO:, unbalanced <>, control chars,
// bad domain), 553 5.1.3 is never produced here (it is a policy reply).
std::optional<MailArg> parse_mail_from(std::string_view argument, SyntaxError* error);
std::optional<MailArg> parse_rcpt_to(std::string_view argument, SyntaxError* error);

// A path without the FROM:/TO: prefix: "<a@b>", "<@r1,@r2:a@b>", "<>".
std::optional<Path> parse_path(std::string_view text, bool allow_null, SyntaxError* error);

// RFC 5321 4.1.2 pieces, exposed for tests.
bool is_valid_domain(std::string_view d);          // sub-domain *("." sub-domain), or address literal
bool is_valid_address_literal(std::string_view d);  // "[1.2.3.4]" or "[IPv6:...]"
bool is_valid_local_part(std::string_view l);       // Dot-string / Quoted-string
// "alice@Yahoo.Test" -> true when it is a syntactically valid mailbox.
bool is_valid_mailbox(std::string_view m);

// RFC 3461 4: xtext ("+2B" hex escapes). nullopt when malformed.
std::optional<std::string> decode_xtext(std::string_view s);
std::string encode_xtext(std::string_view s);

// RFC 4648 4 base64 (for AUTH, RFC 4954). decode: nullopt on bad input
// (characters outside the alphabet, bad padding); whitespace is not allowed.
std::string base64_encode(std::string_view s);
std::optional<std::string> base64_decode(std::string_view s);

// Lower-cases ASCII.
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace smtplab::smtp
