// sim/mail/mime.hpp: MIME (RFC 2045, 2046): transfer encodings, multipart.
//
// Base64 (RFC 2045 6.8) for attachments, with lines of 76 characters;
// quoted-printable (RFC 2045 6.7) for 8-bit text on a 7-bit path; 8-bit
// detection; the size cost of each encoding; multipart/mixed building and a
// tolerant MIME tree parser; and the 8BITMIME downgrade (RFC 6152 3: a
// server that relays to a hop without 8BITMIME must convert or bounce).
//
// Must never: crash or loop on malformed input (decoders report errors;
// the parser stops at a depth and part limit).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/mail/message.hpp"

namespace smtplab::mail {

inline constexpr size_t kBase64LineLength = 76;  // RFC 2045 6.8: at most 76 characters per line
inline constexpr size_t kQpLineLength = 76;      // RFC 2045 6.7 rule 5

// Base64 with CR LF after every `line_length` characters (0 = one line, no CR LF).
std::string base64_encode(std::string_view data, size_t line_length = kBase64LineLength);
// Decodes base64, ignoring whitespace and line breaks (RFC 2045 6.8: other
// characters "must be ignored" too; we reject them so a student sees why).
// On error returns nullopt and says why in `error`.
std::optional<std::string> base64_decode(std::string_view text, std::string* error = nullptr);
// Exact size of base64_encode(data of n bytes, line_length), CR LF included.
size_t base64_encoded_size(size_t n, size_t line_length = kBase64LineLength);

// Quoted-printable for text: CR LF (or LF) in the input are hard line
// breaks and come out as CR LF; lines are soft-broken with "=" CR LF so none
// exceeds 76 characters; trailing whitespace is encoded (RFC 2045 6.7 rule 3).
std::string qp_encode(std::string_view text);
// Decodes QP; tolerant of lowercase hex, strict about bad "=" sequences
// (returns nullopt + error).
std::optional<std::string> qp_decode(std::string_view text, std::string* error = nullptr);

// True when any byte has the high bit set (needs 8BITMIME or an encoding).
bool has_8bit(std::string_view data);
// True when some line is longer than 998 octets (needs an encoding even with 8BITMIME).
bool has_long_line(std::string_view data);

// The size cost of an encoding, for the trace ("base64: 3000 -> 4108 bytes, +36.9%").
struct EncodingCost {
  std::string encoding;  // "base64", "quoted-printable", "7bit", "8bit"
  size_t before = 0;     // raw bytes
  size_t after = 0;      // encoded bytes (line breaks included)
  double overhead() const { return before == 0 ? 0.0 : static_cast<double>(after) / static_cast<double>(before) - 1.0; }
  std::string describe() const;
};
EncodingCost base64_cost(size_t raw_bytes);
EncodingCost qp_cost(std::string_view text);

// ---- Content-Type and friends -------------------------------------------
struct ContentType {
  std::string type = "text";     // lower case
  std::string subtype = "plain"; // lower case
  std::map<std::string, std::string> params;  // lower-case names, unquoted values
  std::string param(std::string_view name) const;
  std::string full() const { return type + "/" + subtype; }
};
// RFC 2045 5.1. Tolerant: a missing or garbled value gives text/plain (5.2 default).
ContentType parse_content_type(std::string_view value);
// Quotes a parameter value when it contains tspecials (RFC 2045 5.1).
std::string quote_param(std::string_view value);

// ---- The MIME tree --------------------------------------------------------
struct MimePart {
  std::vector<Header> headers;
  std::string body;              // raw (still encoded), CR LF line endings
  std::vector<MimePart> parts;   // children when multipart/*
  std::string preamble;          // multipart only: text before the first delimiter
  std::optional<std::string_view> get(std::string_view name) const;
  ContentType content_type() const;
  std::string transfer_encoding() const;  // lower case; "7bit" when absent
  std::string filename() const;           // from Content-Disposition or Content-Type name=
  // The body with its Content-Transfer-Encoding undone ("" + error on bad input).
  std::string decoded(std::string* error = nullptr) const;
};
// Parses a message's MIME structure (max depth 8, max 1000 parts; deeper
// content stays an opaque body).
MimePart parse_mime(const Message& m);
MimePart parse_mime_entity(std::string_view text);

// Deterministic boundary (no randomness): "=_smtplab_<hex>_<n>".
std::string make_boundary(std::string_view seed_text, int n = 0);

// A leaf part to put in a multipart body.
struct PartSpec {
  std::vector<Header> headers;  // Content-Type, Content-Transfer-Encoding, Content-Disposition ...
  std::string body;             // already encoded, CR LF line endings
};
// Joins parts with "--boundary" delimiters (RFC 2046 5.1.1) and a preamble line.
std::string multipart_body(const std::vector<PartSpec>& parts, std::string_view boundary,
                           std::string_view preamble = "This is a multi-part message in MIME format.");

// A text part for `text` (LF or CR LF lines): 7bit us-ascii, or 8bit utf-8
// when it has 8-bit bytes and `allow_8bit`, else quoted-printable utf-8.
PartSpec text_part(std::string_view text, bool allow_8bit = true);
// An attachment part: base64, Content-Disposition: attachment; filename=...
PartSpec attachment_part(std::string_view filename, std::string_view content_type, std::string_view bytes);

// ---- 8BITMIME downgrade (RFC 6152 3, RFC 1652) --------------------------
// Converts every 8bit (or long-line) text leaf to quoted-printable and
// everything else 8-bit to base64, rewriting Content-Transfer-Encoding.
// Returns the cost of each conversion (empty when the message was 7-bit
// already and nothing changed).
std::vector<EncodingCost> downgrade_to_7bit(Message& m);
// True when the message needs 8BITMIME as it stands (8-bit bytes anywhere).
bool needs_8bitmime(const Message& m);

}  // namespace smtplab::mail
