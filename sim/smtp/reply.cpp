// sim/smtp/reply.cpp: reply formatting and the incremental reply parser.
//
// Must never: accept a reply whose lines disagree on the code, or whose
// separator is neither "-" nor " " (RFC 5321 4.2.1); grow without bound.
#include "sim/smtp/reply.hpp"

#include <cstring>

#include "sim/smtp/scan.hpp"
#include "sim/smtp/buffers.hpp"

namespace smtplab::smtp {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool digits_1_3(std::string_view s) {
  if (s.empty() || s.size() > 3) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

void append_clean(std::string& out, std::string_view text) {
  if (!scan::has_cr_or_lf(text)) {  // the usual case: one append
    out += text;
    return;
  }
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

void append_code(std::string& out, int code) {
  int c = code < 0 ? 0 : (code > 999 ? 999 : code);
  out.push_back(static_cast<char>('0' + c / 100));
  out.push_back(static_cast<char>('0' + (c / 10) % 10));
  out.push_back(static_cast<char>('0' + c % 10));
}

}  // namespace

bool is_enhanced_status(std::string_view s) {
  // RFC 3463 2: class "." subject "." detail
  if (s.size() < 5 || s[1] != '.') return false;  // quick reject (most reply texts)
  size_t a = scan::find_byte(s, '.');
  if (a == std::string_view::npos) return false;
  size_t b = scan::find_byte(s, '.', a + 1);
  if (b == std::string_view::npos) return false;
  std::string_view cls = s.substr(0, a), subj = s.substr(a + 1, b - a - 1), det = s.substr(b + 1);
  if (cls.size() != 1 || (cls[0] != '2' && cls[0] != '4' && cls[0] != '5')) return false;
  return digits_1_3(subj) && digits_1_3(det);
}

std::string Reply::text() const {
  std::string t;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) t.push_back(' ');
    t += lines[i];
  }
  return t;
}

std::string Reply::summary() const {
  std::string s;
  append_code(s, code);
  if (!enhanced.empty()) {
    s.push_back(' ');
    s += enhanced;
  }
  if (!lines.empty() && !lines[0].empty()) {
    s.push_back(' ');
    append_clean(s, lines[0]);
  }
  if (lines.size() > 1) s += " ...";
  return s;
}

void append_reply_line(std::string& out, int code, bool last, std::string_view enhanced, std::string_view text) {
  // The usual short line is composed on the stack and appended once.
  char buf[256];
  const size_t n = 4 + enhanced.size() + 1 + text.size() + 2;
  if (n <= sizeof buf && !scan::has_cr_or_lf(text)) {
    int c = code < 0 ? 0 : (code > 999 ? 999 : code);
    char* w = buf;
    *w++ = static_cast<char>('0' + c / 100);
    *w++ = static_cast<char>('0' + (c / 10) % 10);
    *w++ = static_cast<char>('0' + c % 10);
    *w++ = last ? ' ' : '-';
    if (!enhanced.empty()) {
      std::memcpy(w, enhanced.data(), enhanced.size());
      w += enhanced.size();
      if (!text.empty()) *w++ = ' ';
    }
    if (!text.empty()) std::memcpy(w, text.data(), text.size());
    w += text.size();
    *w++ = '\r';
    *w++ = '\n';
    out.append(buf, static_cast<size_t>(w - buf));
    return;
  }
  append_code(out, code);
  out.push_back(last ? ' ' : '-');
  if (!enhanced.empty()) {
    out += enhanced;
    if (!text.empty()) out.push_back(' ');
  }
  append_clean(out, text);
  out += "\r\n";
}

void append_reply(std::string& out, const Reply& reply) {
  if (reply.lines.empty()) {
    append_reply_line(out, reply.code, true, reply.enhanced, {});
    return;
  }
  const size_t count = reply.lines.size();
  for (size_t i = 0; i < count; ++i) append_reply_line(out, reply.code, i + 1 == count, reply.enhanced, reply.lines[i]);
}

std::string format_reply(const Reply& reply) {
  std::string s;
  append_reply(s, reply);
  return s;
}

namespace {
// split_enhanced on views (no copies): `enhanced` is empty when the text
// does not start with an enhanced code of the reply's class.
void split_enhanced_view(int code, std::string_view text, std::string_view& enhanced, std::string_view& rest) {
  size_t sp = scan::find_byte(text, ' ');
  std::string_view first = text.substr(0, sp);
  if (is_enhanced_status(first) && first[0] == static_cast<char>('0' + code / 100)) {
    enhanced = first;
    rest = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
  } else {
    enhanced = {};
    rest = text;
  }
}
}  // namespace

void split_enhanced(int code, std::string_view text, std::string& enhanced, std::string& rest) {
  std::string_view e, r;
  split_enhanced_view(code, text, e, r);
  enhanced.assign(e);
  rest.assign(r);
}

ReplyParser::Owned& ReplyParser::own() {
  if (!own_) own_ = std::make_unique<Owned>();
  return *own_;
}

void ReplyParser::drop_owned_input() {
  if (!own_) return;
  if (own_->poison_reason.empty() && !own_->lenient) own_.reset();
  else clear_buffer(own_->buf);
}

void ReplyParser::feed(std::string_view bytes) {
  if (poisoned()) return;
  copy_unread();
  Owned& o = own();
  // Compact consumed input so the buffer holds at most one partial reply.
  if (pos_ > 0 && pos_ == o.buf.size()) {
    o.buf.clear();
    pos_ = 0;
  } else if (pos_ > 4096) {
    o.buf.erase(0, pos_);
    pos_ = 0;
  }
  o.buf.append(bytes);
}

void ReplyParser::feed_borrowed(std::string_view bytes) {
  if (poisoned()) return;
  copy_unread();
  if (own_ && pos_ < own_->buf.size()) {  // a partial reply is waiting: it needs these bytes after it
    feed(bytes);
    return;
  }
  drop_owned_input();
  pos_ = 0;
  borrowed_bytes_ = bytes;
}

void ReplyParser::copy_unread() {
  if (!borrowed()) return;
  const std::string_view rest = borrowed_bytes_.substr(pos_);
  borrowed_bytes_ = {};
  pos_ = 0;
  if (rest.empty()) {
    drop_owned_input();
    return;
  }
  Owned& o = own();
  clear_buffer(o.buf);
  o.buf.assign(rest);
}

void ReplyParser::reset() {
  own_.reset();
  borrowed_bytes_ = {};
  pos_ = 0;
}

ReplyParser::Status ReplyParser::next(Reply& out, std::string& error) {
  if (poisoned()) {
    error = own_->poison_reason;
    return Status::error;
  }
  auto poison = [&](std::string why) {
    Owned& o = own();
    o.poison_reason = std::move(why);
    error = o.poison_reason;
    return Status::error;
  };
  const std::string_view buf = input();
  // First pass: find the end of a complete reply without consuming.
  size_t p = pos_;
  size_t nlines = 0;
  int code = -1;
  for (;;) {
    size_t lf = scan::find_lf(buf, p);
    if (lf == std::string::npos) {
      if (buf.size() - p > kMaxLine) return poison("reply line longer than " + std::to_string(kMaxLine) + " octets");
      copy_unread();  // keep the partial reply; the borrowed bytes may go now
      return Status::need_more;
    }
    size_t end = lf;  // exclusive, without CR
    if (end > p && buf[end - 1] == '\r') --end;
    std::string_view line(buf.data() + p, end - p);
    if (lf - p + 1 > kMaxLine) return poison("reply line longer than " + std::to_string(kMaxLine) + " octets");
    // RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39
    if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
      return poison("reply line does not start with a three-digit code: \"" + std::string(line.substr(0, 40)) + "\"");
    if (line[0] < '2' || line[0] > '5' || line[1] > '5')
      return poison("reply code " + std::string(line.substr(0, 3)) + " is outside 200-559 (RFC 5321 4.2)");
    int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (code >= 0 && c != code)
      return poison("multi-line reply changes code from " + std::to_string(code) + " to " + std::to_string(c));
    code = c;
    char sep = line.size() > 3 ? line[3] : ' ';
    if (sep != ' ' && sep != '-')
      return poison("reply separator after the code must be ' ' or '-', got byte " + std::to_string(static_cast<unsigned char>(sep)));
    ++nlines;
    if (nlines > kMaxLines) return poison("reply has more than " + std::to_string(kMaxLines) + " lines");
    p = lf + 1;
    if (sep == ' ') break;
  }
  // Second pass: build the reply. `out` keeps its buffers: a caller that
  // reuses one Reply parses without allocating once they are big enough.
  out.code = code;
  out.enhanced.clear();
  out.lines.resize(nlines);
  // The enhanced code counts only when every line carries the same one
  // (RFC 2034 4); otherwise the text is kept as sent (decided after the loop).
  std::string_view first_enh;
  bool same = true;
  size_t q = pos_;
  for (size_t i = 0; q < p; ++i) {
    size_t lf = scan::find_lf(buf, q);
    size_t end = lf;
    if (end > q && buf[end - 1] == '\r') --end;
    else own().lenient = true;
    std::string_view line(buf.data() + q, end - q);
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    std::string_view enh, rest;
    split_enhanced_view(code, text, enh, rest);
    if (i == 0) first_enh = enh;
    if (enh.empty() || enh != first_enh) same = false;
    out.lines[i].assign(rest);
    q = lf + 1;
  }
  if (same) {
    out.enhanced.assign(first_enh);
  } else {
    // Put back the enhanced codes we split off: a second walk over the lines.
    q = pos_;
    for (size_t i = 0; q < p; ++i) {
      size_t lf = scan::find_lf(buf, q);
      size_t end = lf;
      if (end > q && buf[end - 1] == '\r') --end;
      std::string_view line(buf.data() + q, end - q);
      std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
      std::string_view enh, rest;
      split_enhanced_view(code, text, enh, rest);
      if (!enh.empty()) {
        std::string joined(enh);
        if (!rest.empty()) {
          joined.push_back(' ');
          joined += rest;
        }
        out.lines[i] = std::move(joined);
      }
      q = lf + 1;
    }
  }
  pos_ = p;
  if (pos_ == buf.size()) {  // drained: hold nothing of replies already handled
    if (borrowed()) borrowed_bytes_ = {};
    else drop_owned_input();
    pos_ = 0;
  }
  return Status::reply;
}

std::optional<Reply> parse_reply(std::string_view wire, std::string* error) {
  ReplyParser p;
  p.feed(wire);
  Reply r;
  std::string err;
  ReplyParser::Status s = p.next(r, err);
  if (s == ReplyParser::Status::reply && p.buffered() == 0) return r;
  if (error) {
    if (s == ReplyParser::Status::error) *error = err;
    else if (s == ReplyParser::Status::need_more) *error = "incomplete reply (no final line ending in CRLF)";
    else *error = "trailing bytes after the reply";
  }
  return std::nullopt;
}

}  // namespace smtplab::smtp
