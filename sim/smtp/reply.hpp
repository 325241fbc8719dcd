// sim/smtp/reply.hpp: SMTP replies as values, their wire format and parser.
//
// A Reply is a plain value: a three-digit code (RFC 5321 4.2), an optional
// enhanced status code (RFC 3463, "2.1.0"), and one or more text lines. One
// function turns it into wire bytes (multi-line with "250-" continuation
// lines and a final "250 " line, RFC 5321 4.2.1); one incremental parser turns
// wire bytes back into Replies for the client, validating codes and
// separators.
//
// Must never: touch a socket, a clock or the trace; allocate without bound
// (the parser caps line length and lines per reply).
// Invariants: a Reply built by format_reply always parses back to itself
// (enhanced code included when the text starts with one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smtplab::smtp {

// "2.1.0" -> true. RFC 3463 2: class "." subject "." detail, class in {2,4,5},
// subject 1-3 digits, detail 1-3 digits.
bool is_enhanced_status(std::string_view s);

struct Reply {
  int code = 0;                    // 200..599 (RFC 5321 4.2: first digit 2..5)
  std::string enhanced;            // "2.1.0", or "" when none
  std::vector<std::string> lines;  // text of each line, without code or enhanced code

  Reply() = default;
  Reply(int c, std::string enh, std::string text) : code(c), enhanced(std::move(enh)), lines{std::move(text)} {}
  Reply(int c, std::string enh, std::vector<std::string> text)
      : code(c), enhanced(std::move(enh)), lines(std::move(text)) {}

  // First-digit helpers (RFC 5321 4.2.1).
  int first_digit() const { return code / 100; }
  bool positive_preliminary() const { return first_digit() == 1; }  // never used by SMTP
  bool positive() const { return first_digit() == 2; }              // 2yz: completion
  bool intermediate() const { return first_digit() == 3; }          // 3yz: send more (354, 334)
  bool transient() const { return first_digit() == 4; }             // 4yz: try again later
  bool permanent() const { return first_digit() == 5; }             // 5yz: do not retry as is
  bool failure() const { return transient() || permanent(); }

  // All lines joined with " " (for messages and the trace's text).
  std::string text() const;
  // "250 2.1.0 Ok" (first line only; "..." appended when multi-line).
  std::string summary() const;

  bool operator==(const Reply&) const = default;
};

// Appends the wire form: every line "CODE-[ENH ]text\r\n" except the last,
// which uses "CODE " (RFC 5321 4.2.1). The enhanced code, when set, is
// repeated on every line (RFC 2034 4). An empty `lines` sends "CODE \r\n"
// with the enhanced code if any. Text must not contain CR or LF: each such
// byte is replaced with a space so a reply can never smuggle a second line.
void append_reply(std::string& out, const Reply& reply);
std::string format_reply(const Reply& reply);
// One line of that wire form: "CODE" ("-" unless `last`, else " ")
// ["ENH" [" "]] text CRLF, with CR/LF in the text turned into spaces.
// append_reply is built on it; the server uses it directly so a reply needs
// no Reply value (and no allocation) when nobody records it.
void append_reply_line(std::string& out, int code, bool last, std::string_view enhanced, std::string_view text);

// Incremental reply parser for the client. Feed bytes as they arrive; take
// complete replies out with next(). Lines end with CRLF; a bare LF is
// tolerated as a line end (deviation: RFC 5321 2.3.8 requires CRLF, but a
// client that chokes on a sloppy server helps nobody; the lone LF is noted
// in `lenient_line_ends`).
class ReplyParser {
 public:
  enum class Status { need_more, reply, error };

  static constexpr size_t kMaxLine = 2048;   // RFC 5321 4.5.3.1.5: 512; generous
  static constexpr size_t kMaxLines = 1000;  // lines in one multi-line reply

  void feed(std::string_view bytes);
  // Like feed(), without the copy: the parser reads `bytes` where they are,
  // so they must stay valid until next() returns need_more or error (or
  // until copy_unread()); only a partial reply left then is copied. A client
  // calls this with the bytes of one receive and drains the replies at once.
  void feed_borrowed(std::string_view bytes);
  // Copies whatever borrowed input is still unread into the parser's own
  // buffer (call before the borrowed bytes go away without a drain).
  void copy_unread();

  // Status::reply: `out` holds the next reply. Status::error: `error` says
  // why (bad code, mismatched codes across lines, bad separator, line too
  // long); the parser is then poisoned (a server speaking garbage cannot be
  // resynchronised) and keeps returning error. Status::need_more: wait.
  Status next(Reply& out, std::string& error);

  bool poisoned() const { return own_ && !own_->poison_reason.empty(); }
  size_t buffered() const { return input().size() - pos_; }
  bool lenient_line_ends() const { return own_ && own_->lenient; }
  void reset();

 private:
  // A client holds one parser per connection, so it is kept small (32
  // bytes): what it rarely needs lives in one part allocated when first
  // needed and freed once it holds nothing again: the owned input (a
  // partial reply kept between feeds, or feed()'s copies), the reason of a
  // poisoned parser (a server speaking garbage) and the lenient flag.
  struct Owned {
    std::string buf;            // owned input
    std::string poison_reason;  // set (never "") once poisoned
    bool lenient = false;       // a reply line ended in a bare LF
  };
  // Reading borrowed bytes (feed_borrowed) rather than own_->buf; a view
  // of nothing (null) is never borrowed, which reads the same (no input).
  bool borrowed() const { return borrowed_bytes_.data() != nullptr; }
  std::string_view input() const {
    return borrowed() ? borrowed_bytes_ : own_ ? std::string_view(own_->buf) : std::string_view{};
  }
  Owned& own();
  // Empties the owned input; frees the part when nothing else is in it.
  void drop_owned_input();

  std::unique_ptr<Owned> own_;
  std::string_view borrowed_bytes_;  // the caller's bytes, read in place (feed_borrowed)
  size_t pos_ = 0;                   // read position in input()
};

// Parses exactly one complete reply (all of `wire`). For tests and tools.
std::optional<Reply> parse_reply(std::string_view wire, std::string* error = nullptr);

// Splits "2.1.0 Ok" into enhanced code and text when the text starts with a
// valid enhanced code whose class matches the reply's first digit.
void split_enhanced(int code, std::string_view text, std::string& enhanced, std::string& rest);

}  // namespace smtplab::smtp
