// gui/explain.hpp: plain-words explanations for the inspector.
//
// Reply codes (RFC 5321 4.2), enhanced status codes (RFC 3463), the RFC
// section that governs a record, and the DATA transparency codec's two
// forms (RFC 5321 4.5.2). Pure functions: tested directly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/trace/record.hpp"

namespace smtplab::gui {

// "250": "Requested mail action okay, completed". "" for an unknown code.
std::string explain_reply_code(int code);
// What the first digit means, for any code (RFC 5321 4.2.1).
std::string explain_reply_class(int code);
// "5.2.2": "permanent failure: mailbox full". "" when not X.Y.Z.
std::string explain_enhanced(std::string_view status);
// The enhanced status code inside a reply text ("250 2.1.0 Ok" -> "2.1.0"), or "".
std::string find_enhanced(std::string_view reply_text);
// "RFC 5321 4.1.1.1 (EHLO)": the section that governs this record.
std::string governing_rfc(const Record& r);

// Wire bytes split in lines, each with its line ending made visible:
// {"EHLO x", "\\r\\n"}. A final piece without an ending has "".
struct WireLine {
  std::string text;
  std::string ending;  // "\\r\\n", "\\n" (a bare LF: a protocol error), "\\r" or ""
};
std::vector<WireLine> wire_lines(std::string_view wire);

// RFC 5321 4.5.2: the receiver removes the first "." of every line that
// starts with one, and the first line holding a lone "." ends the data.
// Returns the content the receiver sees (without the terminator).
std::string unstuff(std::string_view dot_stuffed);
// The sender side: a "." is added before every line that starts with ".".
std::string stuff(std::string_view content);

}  // namespace smtplab::gui
