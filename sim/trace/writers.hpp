// sim/trace/writers.hpp: exporters of the trace stream.
//
// JSON Lines: one record per line, {"v":1,"seq","t_us","layer","kind","src",
// "dst","text","cause"} always present; "session", "wire" (or "wire_hex" when
// the bytes are not UTF-8) and "attrs" when non-empty. Deterministic byte for
// byte: the same trace always gives the same file.
//
// Transcript: the style people know from swaks. Client lines "->", server
// lines "<-", notes "==", faults "**", errors "!!".
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "sim/trace/record.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab {

// Escapes a string for JSON; invalid UTF-8 bytes become \u00XX.
std::string json_quote(std::string_view s);
bool is_valid_utf8(std::string_view s);
// Offset of the first byte that is not valid UTF-8, or npos.
size_t utf8_error_offset(std::string_view s);

std::string to_jsonl(const Record& r);
void write_jsonl(std::ostream& out, const Trace& trace);

// Reads one JSON Lines record back (for golden diffs and loading traces).
// Returns std::nullopt and sets `error` on malformed input.
std::optional<Record> parse_jsonl(std::string_view line, std::string* error);

// Which layers a transcript shows; by default all but tcp and net.
struct TranscriptOptions {
  uint32_t layer_mask = ~((1u << static_cast<unsigned>(Layer::tcp)) | (1u << static_cast<unsigned>(Layer::net)));
  bool show_cause = false;
};
uint32_t layer_bit(Layer l);
// Parses "smtp,dns,tcp" or "all" into a mask; nullopt on an unknown name.
std::optional<uint32_t> parse_layer_mask(std::string_view list, std::string* error);

// Zero or more lines (a multi-line reply gives one line per reply line).
std::string to_transcript(const Record& r, const TranscriptOptions& opt = {});
// Appends `text` to `out` folded to `width` columns at blanks (runs of
// spaces and tabs count as one), the first line continuing at column `col`,
// every later one starting with `indent` spaces, then a newline. A word
// longer than a line stays whole. For the terminal: the run's summary of
// each message, a lesson's paragraphs.
void append_folded(std::string& out, std::string_view text, size_t col, size_t indent, size_t width);
void write_transcript(std::ostream& out, const Trace& trace, const TranscriptOptions& opt = {});

}  // namespace smtplab
