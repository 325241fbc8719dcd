// sim/mail/message.cpp: RFC 5322 messages: headers, folding, parsing, dates,
// the builder from a scenario MessageSpec, and Received: trace fields.
//
// Must never: throw or loop on hostile input; read the clock (dates come
// from simulated time only).
#include "sim/mail/message.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

#include "sim/mail/mime.hpp"
#include "sim/scenario/scenario.hpp"

namespace smtplab::mail {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Header values never carry CR or LF (they are folded only on output).
std::string clean_value(std::string_view v) {
  std::string s;
  s.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\r' || c == '\n') {
      // A caller's pre-folded value: CR LF WSP unfolds to WSP; a bare break becomes a space.
      if (c == '\r' && i + 1 < v.size() && v[i + 1] == '\n') ++i;
      if (i + 1 < v.size() && is_wsp(v[i + 1])) continue;
      s.push_back(' ');
      continue;
    }
    s.push_back(c);
  }
  return s;
}

// RFC 5322 2.2: a field name is printable US-ASCII except ':'.
bool valid_field_name(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    auto u = static_cast<unsigned char>(c);
    if (u < 33 || u > 126 || c == ':') return false;
  }
  return true;
}

// Days since 1970-01-01 -> civil date (proleptic Gregorian; H. Hinnant's
// well-known derivation, written out here).
void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

struct Civil {
  int year, month, day, hour, minute, second, weekday;  // weekday 0 = Sunday
};

Civil civil(SimTime t) {
  int64_t s = unix_seconds(t);
  int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
  int64_t rem = s - days * 86400;
  Civil c{};
  civil_from_days(days, c.year, c.month, c.day);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  return c;
}

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Splits at UTF-8 character boundaries so an encoded word never cuts a character.
std::string encode_header_words(std::string_view text) {
  // RFC 2047 2: an encoded-word is at most 75 characters; "=?UTF-8?B?" + "?=" is 12,
  // leaving 63 base64 characters = 45 raw bytes (rounded down to a multiple of 3).
  constexpr size_t kChunk = 45;
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + kChunk);
    while (end < text.size() && end > i + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + base64_encode(text.substr(i, end - i), 0) + "?=";
    i = end;
  }
  return out;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += sep;
    s += v[i];
  }
  return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

// ---- Message ---------------------------------------------------------------

std::optional<std::string_view> Message::get(std::string_view name) const {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return std::string_view(h.value);
  return std::nullopt;
}

std::vector<std::string_view> Message::get_all(std::string_view name) const {
  std::vector<std::string_view> v;
  for (const Header& h : headers)
    if (iequals(h.name, name)) v.emplace_back(h.value);
  return v;
}

void Message::set(std::string_view name, std::string_view value) {
  for (Header& h : headers)
    if (iequals(h.name, name)) {
      h.value = clean_value(value);
      return;
    }
  add(name, value);
}

void Message::add(std::string_view name, std::string_view value) {
  headers.push_back(Header{std::string(name), clean_value(value)});
}

void Message::prepend(std::string_view name, std::string_view value) {
  headers.insert(headers.begin(), Header{std::string(name), clean_value(value)});
}

size_t Message::remove(std::string_view name) {
  size_t before = headers.size();
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
  return before - headers.size();
}

std::string Message::serialize() const {
  std::string out;
  out.reserve(size());
  for (const Header& h : headers) out += fold_header(h.name, h.value);
  out += "\r\n";
  out += body;
  return out;
}

size_t Message::size() const {
  size_t n = 2 + body.size();
  for (const Header& h : headers) n += fold_header(h.name, h.value).size();
  return n;
}

// ---- Folding ---------------------------------------------------------------

std::string fold_header(std::string_view name, std::string_view value) {
  std::string full;
  full.reserve(name.size() + 2 + value.size());
  full.append(name);
  full += ": ";
  full.append(value);
  std::string out;
  out.reserve(full.size() + full.size() / 70 * 3 + 2);
  size_t start = 0;
  bool first = true;
  while (full.size() - start > kFoldAt) {
    // The earliest position a fold may happen: not inside the field name, and a
    // continuation line must keep at least one non-WSP character (RFC 5322 3.2.2).
    size_t min_pos = first ? name.size() + 2 : start + 1;
    auto has_text = [&](size_t a, size_t b) {
      for (size_t i = a; i < b; ++i)
        if (!is_wsp(full[i])) return true;
      return false;
    };
    size_t brk = std::string::npos;
    for (size_t i = std::min(start + kFoldAt, full.size() - 1); i > min_pos; --i)
      if (is_wsp(full[i]) && has_text(start, i)) {
        brk = i;
        break;
      }
    if (brk == std::string::npos) {
      // No whitespace early enough: fold at the first one after, staying below 998.
      for (size_t i = start + kFoldAt + 1; i < full.size() && i < start + kMaxLine; ++i)
        if (is_wsp(full[i]) && has_text(start, i)) {
          brk = i;
          break;
        }
    }
    if (brk == std::string::npos) {
      if (full.size() - start <= kMaxLine) break;  // long but legal: leave it on one line
      // deviation: a single word over 998 octets cannot be folded legally; we
      // split it with CR LF SP so the line limit holds (unfolding adds a space).
      brk = start + kMaxLine - 1;
      out.append(full, start, brk - start);
      out += "\r\n ";
      start = brk;
      first = false;
      continue;
    }
    out.append(full, start, brk - start);
    out += "\r\n";
    start = brk;
    first = false;
  }
  out.append(full, start, std::string::npos);
  out += "\r\n";
  return out;
}

std::string unfold(std::string_view folded) {
  std::string out;
  out.reserve(folded.size());
  for (size_t i = 0; i < folded.size(); ++i) {
    if (folded[i] == '\r' && i + 2 < folded.size() && folded[i + 1] == '\n' && is_wsp(folded[i + 2])) {
      ++i;  // drop CR LF, keep the WSP
      continue;
    }
    if (folded[i] == '\n' && i + 1 < folded.size() && is_wsp(folded[i + 1])) continue;
    out.push_back(folded[i]);
  }
  // A trailing CR LF is the end of the field, not part of it.
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// ---- Parsing ---------------------------------------------------------------

Message parse_message(std::string_view text, std::vector<std::string>* warnings) {
  Message m;
  auto warn = [&](std::string w) {
    if (warnings && warnings->size() < 100) warnings->push_back(std::move(w));
  };
  size_t pos = 0;
  size_t line_no = 0;
  bool body_started = false;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    size_t next = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    if (line.empty()) {  // the blank line separating headers from the body
      pos = next;
      body_started = true;
      break;
    }
    if (is_wsp(line[0])) {
      if (m.headers.empty()) {
        warn("line " + std::to_string(line_no) + " is a continuation with no header before it; treating it as the body");
        break;
      }
      m.headers.back().value += clean_value(line);  // RFC 5322 2.2.3 unfolding keeps the WSP
      pos = next;
      continue;
    }
    size_t colon = line.find(':');
    std::string_view name = colon == std::string_view::npos ? std::string_view{} : line.substr(0, colon);
    // Be lenient about "Name :" (obsolete syntax, RFC 5322 4.5.3).
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    if (colon == std::string_view::npos || !valid_field_name(name)) {
      warn("line " + std::to_string(line_no) + " is not a header field (no \"Name:\"); the body starts there");
      break;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && is_wsp(value.front())) value.remove_prefix(1);
    m.headers.push_back(Header{std::string(name), clean_value(value)});
    pos = next;
  }
  if (!body_started && pos >= text.size() && !text.empty() && warnings && m.headers.empty())
    warn("the message has no header fields");
  if (pos < text.size()) {
    // Normalise line endings but add none: a MIME part's content ends where
    // the delimiter's CR LF begins (RFC 2046 5.1.1), so a final break is not ours to add.
    bool terminated = text.back() == '\n';
    m.body = to_crlf(text.substr(pos));
    if (!terminated && m.body.size() >= 2) m.body.resize(m.body.size() - 2);
  }
  return m;
}

// ---- Line endings ----

// "\n"-separated lines -> CR LF lines, ending with CR LF when non-empty.
std::string to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 40 + 2);
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // CR LF: emit on the LF
    if (c == '\n') {
      out += "\r\n";
      continue;
    }
    out.push_back(c);
  }
  if (!out.empty() && (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0)) out += "\r\n";
  return out;
}


// ---- Dates -------------------------------------------------------------------

std::string format_rfc5322_date(SimTime t) {
  Civil c = civil(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %d %s %04d %02d:%02d:%02d +0000", kDays[c.weekday], c.day,
                kMonths[c.month - 1], c.year, c.hour, c.minute, c.second);
  return buf;
}

std::string format_ctime(SimTime t) {
  Civil c = civil(t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %s %2d %02d:%02d:%02d %04d", kDays[c.weekday], kMonths[c.month - 1], c.day,
                c.hour, c.minute, c.second, c.year);
  return buf;
}

// ---- Addresses ---------------------------------------------------------------

std::string address_of(std::string_view mailbox) {
  size_t lt = mailbox.rfind('<');
  if (lt != std::string_view::npos) {
    size_t gt = mailbox.find('>', lt);
    if (gt != std::string_view::npos) return std::string(mailbox.substr(lt + 1, gt - lt - 1));
  }
  while (!mailbox.empty() && is_wsp(mailbox.front())) mailbox.remove_prefix(1);
  while (!mailbox.empty() && is_wsp(mailbox.back())) mailbox.remove_suffix(1);
  return std::string(mailbox);
}

std::string domain_of(std::string_view address) {
  std::string a = address_of(address);
  size_t at = a.rfind('@');
  return at == std::string::npos ? std::string{} : a.substr(at + 1);
}

std::string local_part_of(std::string_view address) {
  std::string a = address_of(address);
  size_t at = a.rfind('@');
  return at == std::string::npos ? a : a.substr(0, at);
}

// ---- Building --------------------------------------------------------------

std::string make_message_id(SimTime now, uint64_t sequence, std::string_view domain) {
  Civil c = civil(now);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", c.year, c.month, c.day, c.hour, c.minute, c.second);
  std::string d = domain.empty() ? std::string("smtplab.invalid") : std::string(domain);
  return "<" + std::string(buf) + "." + std::to_string(sequence) + ".smtplab@" + d + ">";
}

std::string attachment_bytes(const Attachment& a) {
  if (!a.content.empty() || a.size <= 0) return a.content;
  // splitmix64 seeded by FNV-1a of the name: the same attachment always has
  // the same bytes, independent of the run's seed (so goldens stay stable).
  uint64_t h = 1469598103934665603ULL;
  for (char c : a.name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  h ^= static_cast<uint64_t>(a.size);
  std::string out(static_cast<size_t>(a.size), '\0');
  uint64_t x = h;
  for (size_t i = 0; i < out.size(); i += 8) {
    x += 0x9E3779B97F4A7C15ULL;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    for (size_t k = 0; k < 8 && i + k < out.size(); ++k) out[i + k] = static_cast<char>((z >> (8 * k)) & 0xFF);
  }
  return out;
}

Message build_message(const MessageSpec& spec, const BuildOptions& options) {
  Message m;
  std::string id_domain = options.id_domain.empty() ? domain_of(spec.from) : options.id_domain;
  if (options.add_date) m.add("Date", format_rfc5322_date(options.now));
  m.add("From", spec.from);
  if (!spec.to.empty()) m.add("To", join(spec.to, ", "));
  // RFC 5322 3.6.3: with no To or Cc, "undisclosed-recipients:;" keeps the message well formed.
  if (spec.to.empty() && spec.cc.empty()) m.add("To", "undisclosed-recipients:;");
  if (!spec.cc.empty()) m.add("Cc", join(spec.cc, ", "));
  // Bcc is deliberately absent: those recipients exist only in the envelope.
  m.add("Subject", has_8bit(spec.subject) ? encode_header_words(spec.subject) : spec.subject);
  if (options.add_message_id) m.add("Message-ID", make_message_id(options.now, options.sequence, id_domain));
  m.add("MIME-Version", "1.0");

  if (spec.attachments.empty()) {
    PartSpec text = text_part(spec.body, true);
    for (const Header& h : text.headers) m.add(h.name, h.value);
    m.body = std::move(text.body);
  } else {
    std::string boundary = make_boundary(spec.from + "|" + spec.subject + "|" + std::to_string(options.sequence));
    std::vector<PartSpec> parts;
    parts.push_back(text_part(spec.body, true));
    for (const Attachment& a : spec.attachments)
      parts.push_back(attachment_part(a.name, a.content_type, attachment_bytes(a)));
    m.add("Content-Type", "multipart/mixed; boundary=" + quote_param(boundary));
    m.body = multipart_body(parts, boundary);
  }
  for (const auto& [name, value] : spec.headers) {
    if (iequals(name, "Bcc")) continue;  // never reveal Bcc recipients, even when asked
    m.set(name, value);
  }
  return m;
}

Envelope envelope_of(const MessageSpec& spec) {
  Envelope e;
  e.mail_from = address_of(spec.from);
  std::set<std::string> seen;
  for (const auto* list : {&spec.to, &spec.cc, &spec.bcc})
    for (const std::string& r : *list) {
      std::string a = address_of(r);
      std::string key;
      for (char c : a) key.push_back(lower(c));
      if (!a.empty() && seen.insert(key).second) e.rcpt_to.push_back(a);
    }
  return e;
}

std::vector<std::string> complete_for_submission(Message& m, SimTime now, uint64_t sequence,
                                                 std::string_view id_domain) {
  std::vector<std::string> added;
  // RFC 6409 8.3: the MSA may add a Date; 8.2: and a Message-ID.
  if (!m.has("Date")) {
    m.add("Date", format_rfc5322_date(now));
    added.emplace_back("Date");
  }
  if (!m.has("Message-ID")) {
    std::string d(id_domain);
    if (d.empty())
      if (auto from = m.get("From")) d = domain_of(*from);
    m.add("Message-ID", make_message_id(now, sequence, d));
    added.emplace_back("Message-ID");
  }
  return added;
}

// ---- Received ----------------------------------------------------------------

std::string received_value(const ReceivedInfo& r) {
  // RFC 5321 4.4: Time-stamp-line = "Received:" FWS Stamp; Stamp = From-domain
  // By-domain Opt-info [CFWS] ";" FWS date-time.
  std::string v = "from " + (r.from_helo.empty() ? std::string("unknown") : r.from_helo);
  if (!r.from_host.empty() || !r.from_address.empty()) {
    v += " (";
    if (!r.from_host.empty()) v += r.from_host;
    if (!r.from_address.empty()) v += (r.from_host.empty() ? "[" : " [") + r.from_address + "]";
    v += ")";
  }
  v += " by " + r.by_host;
  if (!r.with.empty()) v += " with " + r.with;
  if (!r.id.empty()) v += " id " + r.id;
  if (!r.for_rcpt.empty()) v += " for <" + address_of(r.for_rcpt) + ">";
  v += "; " + format_rfc5322_date(r.when);
  return v;
}

void prepend_received(Message& m, const ReceivedInfo& r) { m.prepend("Received", received_value(r)); }

int count_received(const Message& m) { return static_cast<int>(m.get_all("Received").size()); }

int count_received(std::string_view text) {
  int n = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(pos, end - pos);
    if (line.empty() || line == "\r") break;
    if (line.size() >= 9 && iequals(line.substr(0, 9), "received:")) ++n;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return n;
}

}  // namespace smtplab::mail
