// sim/smtp/reply.cpp: reply formatting and the incremental reply parser.
//
// Must never: accept a reply whose lines disagree on the code, or whose
// separator is neither "-" nor " " (RFC 5321 4.2.1); grow without bound.
#include "sim/smtp/reply.hpp"

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
  size_t a = s.find('.');
  if (a == std::string_view::npos) return false;
  size_t b = s.find('.', a + 1);
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

void append_reply(std::string& out, const Reply& reply) {
  const size_t count = reply.lines.empty() ? 1 : reply.lines.size();
  for (size_t i = 0; i < count; ++i) {
    append_code(out, reply.code);
    out.push_back(i + 1 < count ? '-' : ' ');
    if (!reply.enhanced.empty()) {
      out += reply.enhanced;
      if (!reply.lines.empty() && !reply.lines[i].empty()) out.push_back(' ');
    }
    if (!reply.lines.empty()) append_clean(out, reply.lines[i]);
    out += "\r\n";
  }
}

std::string format_reply(const Reply& reply) {
  std::string s;
  append_reply(s, reply);
  return s;
}

void split_enhanced(int code, std::string_view text, std::string& enhanced, std::string& rest) {
  enhanced.clear();
  size_t sp = text.find(' ');
  std::string_view first = text.substr(0, sp);
  if (is_enhanced_status(first) && first[0] == static_cast<char>('0' + code / 100)) {
    enhanced.assign(first);
    rest.assign(sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1));
  } else {
    rest.assign(text);
  }
}

void ReplyParser::feed(std::string_view bytes) {
  if (poisoned_) return;
  // Compact consumed input so the buffer holds at most one partial reply.
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

void ReplyParser::reset() {
  buf_.clear();
  pos_ = 0;
  poisoned_ = false;
  lenient_ = false;
  poison_reason_.clear();
}

ReplyParser::Status ReplyParser::next(Reply& out, std::string& error) {
  if (poisoned_) {
    error = poison_reason_;
    return Status::error;
  }
  auto poison = [&](std::string why) {
    poisoned_ = true;
    poison_reason_ = std::move(why);
    error = poison_reason_;
    return Status::error;
  };
  // First pass: find the end of a complete reply without consuming.
  size_t p = pos_;
  size_t nlines = 0;
  int code = -1;
  for (;;) {
    size_t lf = buf_.find('\n', p);
    if (lf == std::string::npos) {
      if (buf_.size() - p > kMaxLine) return poison("reply line longer than " + std::to_string(kMaxLine) + " octets");
      return Status::need_more;
    }
    size_t end = lf;  // exclusive, without CR
    if (end > p && buf_[end - 1] == '\r') --end;
    std::string_view line(buf_.data() + p, end - p);
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
  // Second pass: build the reply.
  out.code = code;
  out.enhanced.clear();
  out.lines.clear();
  size_t q = pos_;
  std::string enh, rest;
  bool all_enh = true;
  std::vector<std::string> enh_per_line;
  while (q < p) {
    size_t lf = buf_.find('\n', q);
    size_t end = lf;
    if (end > q && buf_[end - 1] == '\r') --end;
    else lenient_ = true;
    std::string_view line(buf_.data() + q, end - q);
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    split_enhanced(code, text, enh, rest);
    if (enh.empty()) all_enh = false;
    enh_per_line.push_back(enh);
    out.lines.push_back(rest);
    q = lf + 1;
  }
  // The enhanced code counts only when every line carries the same one
  // (RFC 2034 4); otherwise the text is kept as sent.
  bool same = all_enh;
  for (const std::string& e : enh_per_line)
    if (e != enh_per_line.front()) same = false;
  if (same && !enh_per_line.empty()) {
    out.enhanced = enh_per_line.front();
  } else if (!enh_per_line.empty()) {
    // Put back the enhanced codes we split off.
    for (size_t i = 0; i < out.lines.size(); ++i)
      if (!enh_per_line[i].empty())
        out.lines[i] = enh_per_line[i] + (out.lines[i].empty() ? "" : " " + out.lines[i]);
  }
  pos_ = p;
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
